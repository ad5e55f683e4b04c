"""Template helpers for rule explanations:

{% load rules_explain %}
{% explanation_view explanation as shown %}   an Explanation (or a display) as display rows
{{ amount_fen|money }}                        1500000 → 15,000.00 元
{{ parameter.unit|unit_label }}               fen → 分
"""

from __future__ import annotations

from typing import Any

from django import template

from yiwang.rules.explain import ExplanationDisplay, explanation_display, money_format
from yiwang.rules.explain import unit_label as _unit_label

register = template.Library()


@register.simple_tag
def explanation_view(explanation: Any) -> ExplanationDisplay | None:
    if explanation is None or explanation == "":
        return None
    return explanation_display(explanation)


@register.filter
def money(fen: Any) -> str:
    if fen is None or fen == "":
        return ""
    return money_format(int(fen))


@register.filter
def unit_label(unit: Any) -> str:
    return _unit_label(str(unit or ""))
