"""A rule's explanation for one subject, in words: what every application shows staff and the
citizen ("为什么我（没有）获得…").

`explanation_display(explanation)` turns a `rules.services.Explanation` (the explain face of a
rule, see services.rule_explain) into display rows:

    label        the condition's label, as written in the rule
    found        the value found, formatted by its unit        "14,999.99 元", "80 周岁"
    comparison   the comparison in words                        "≥ 15,000.00 元"
    passed       True / False, and verdict "符合" / "不符合"
    basis        the legal basis                                "《…指导意见》 二"

and a one-sentence summary ("符合全部条件，金额 50.00 元。" / "不符合：…"). The template include
`rules/explanation.html` (context variable `explanation`, either an Explanation or a display)
renders it; every text is a gettext msgid with its Chinese translation in the rules catalogue,
so the same explanation reads in English when the page is in English.

Units. Each condition carries a unit (ConditionResult.unit, filled by rule_explain with
`condition_unit`), decided in this order:

1. the value is an age ({age: …}):                                 "age"      80 周岁
2. the condition compares with a parameter: that parameter's unit (Parameter.unit)
3. the value reads a field whose name ends in `_fen`:              "fen"      15,000.00 元
4. the value is a count ({count: …}):                              "count"    3
5. it is compared with true / false:                               "boolean"  是 / 否

Known units: fen, yuan, age, years, months, days, count, percent, permille, basis_points,
boolean, date. Any other unit text (人, 亩 …) is written after the number as it is. Values
that are dates (datetime.date or ISO text, as SQLite returns them) are shown as dates
whatever the unit; a missing value (no record) is shown as "无记录".
"""

from __future__ import annotations

import datetime
import decimal
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yiwang.core.masking import mask_id_number

if TYPE_CHECKING:
    from yiwang.rules.definition import Condition
    from yiwang.rules.services import ConditionResult, Explanation

OPERATOR_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
MONEY_UNITS = frozenset({"fen", "yuan"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


# --- units ------------------------------------------------------------------------------------


def _params_in(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("param"), str):
            found.append(node["param"])
        for child in node.values():
            found += _params_in(child)
    elif isinstance(node, list):
        for child in node:
            found += _params_in(child)
    return found


def _reads_fen(node: Any) -> bool:
    """Whether a value expression reads a money field (…_fen) outside its filters."""
    if isinstance(node, dict):
        for key, child in node.items():
            if key == "where":
                continue
            if isinstance(child, str) and key in ("field", "sum", "min", "max") and child.endswith("_fen"):
                return True
            if _reads_fen(child):
                return True
    elif isinstance(node, list):
        return any(_reads_fen(child) for child in node)
    return False


def condition_unit(condition: Condition, parameter_units: dict[str, str] | None = None) -> str:
    """The unit a condition's value is shown in (see the module docstring for the order)."""
    value = condition.value if isinstance(condition.value, dict) else {}
    than = condition.than if isinstance(condition.than, dict) else {}
    if "age" in value:
        return "age"
    units = parameter_units or {}
    for code in _params_in(than) + _params_in(value):
        if units.get(code):
            return units[code]
    if _reads_fen(value) or _reads_fen(than):
        return "fen"
    if "count" in value:
        return "count"
    if isinstance(than.get("value"), bool) or isinstance(value.get("value"), bool):
        return "boolean"
    return ""


def parameter_units(codes: set[str] | list[str]) -> dict[str, str]:
    """The unit of each parameter, from the Parameter table."""
    from yiwang.rules.models import Parameter

    return dict(Parameter.objects.filter(code__in=list(codes)).values_list("code", "unit"))


# --- formatting ---------------------------------------------------------------------------------


def money_format(fen: int) -> str:
    """1500000 → "15,000.00 元" (exact: integer fen, never a float)."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return _("%(amount)s yuan") % {"amount": f"{sign}{yuan:,}.{cents:02d}"}


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _number(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def value_format(value: Any, unit: str = "") -> str:
    """A value in words by its unit: fen → "15,000.00 元", age → "80 周岁", a date → "2026年1月10日",
    a boolean → 是/否, a count → "3"."""
    if value is None:
        return _("no record")
    day = _as_date(value)
    if day is not None:
        return formats.date_format(day, "DATE_FORMAT")
    if unit == "boolean" or isinstance(value, bool):
        return pgettext("boolean", "Yes") if value else pgettext("boolean", "No")
    if isinstance(value, (float, decimal.Decimal)) and value == int(value):
        value = int(value)  # PostgreSQL sums integers as NUMERIC
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        value = int(value)
    if not isinstance(value, int):
        return str(value)
    if unit == "fen":
        return money_format(value)
    if unit == "yuan":
        return money_format(value * 100)
    if unit == "age":
        return _("%(number)s years of age") % {"number": _number(value)}
    if unit == "years":
        return _("%(number)s years") % {"number": _number(value)}
    if unit == "months":
        return _("%(number)s months") % {"number": _number(value)}
    if unit == "days":
        return _("%(number)s days") % {"number": _number(value)}
    if unit == "percent":
        return f"{_number(value)}%"
    if unit == "permille":
        return f"{_number(value)}‰"
    if unit == "basis_points":  # 万分之 n: shown as a percentage with two decimals, exactly
        whole, rest = divmod(abs(value), 100)
        return f"{'-' if value < 0 else ''}{whole}.{rest:02d}%"
    if unit in ("", "count"):
        return _number(value)
    return f"{_number(value)} {unit}"


def unit_label(unit: str) -> str:
    """A unit code in words, for forms and lists: fen → 分, age → 周岁; others as written."""
    labels = {
        "fen": pgettext("unit", "fen"),
        "yuan": pgettext("unit", "yuan"),
        "age": pgettext("unit", "years of age"),
        "years": pgettext("unit", "years"),
        "months": pgettext("unit", "months"),
        "days": pgettext("unit", "days"),
        "count": pgettext("unit", "count"),
        "percent": "%",
        "permille": "‰",
        "basis_points": pgettext("unit", "basis points"),
        "boolean": pgettext("unit", "yes / no"),
        "date": pgettext("unit", "date"),
    }
    return str(labels.get(unit, unit))


def basis_format(basis: dict[str, str] | None) -> str:
    """{document: 关于…的指导意见, article: 3} → "《关于…的指导意见》 第3条"; a document already in
    《》 stays as written; an article written in words (第三条, 二) stays as written."""
    basis = basis or {}
    document = str(basis.get("document") or "").strip()
    article = str(basis.get("article") or "").strip()
    if document and "《" not in document:
        document = f"《{document}》"
    if article.isdigit():
        article = _("article %(number)s") % {"number": article}
    return " ".join(part for part in (document, article) if part)


def subject_format(subject: str) -> str:
    """The subject's key as shown: an ID number masked, a household number or USCC as it is."""
    return mask_id_number(subject) if _ID_NUMBER.match(subject or "") else subject


# --- the display ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplanationRow:
    id: str
    label: str
    found: str
    comparison: str
    passed: bool
    verdict: str
    basis: str


@dataclass(frozen=True)
class ExplanationDisplay:
    subject: str  # as shown (an ID number masked)
    eligible: bool
    amount: int  # fen
    amount_text: str  # "50.00 元", or "" when there is no amount
    verdict: str  # 符合 / 不符合
    summary: str
    rows: list[ExplanationRow]
    code: str = ""
    title: str = ""


def condition_row(result: ConditionResult) -> ExplanationRow:
    unit = getattr(result, "unit", "") or ""
    symbol = OPERATOR_SYMBOLS.get(result.op, result.op)
    return ExplanationRow(
        id=result.id,
        label=result.label,
        found=value_format(result.value, unit),
        comparison=f"{symbol} {value_format(result.compared_with, unit)}",
        passed=bool(result.passed),
        verdict=_verdict(bool(result.passed)),
        basis=basis_format(result.basis),
    )


def _verdict(passed: bool) -> str:
    return pgettext("rule condition", "Met") if passed else pgettext("rule condition", "Not met")


def explanation_display(explanation: Explanation | ExplanationDisplay) -> ExplanationDisplay:
    """The explanation as rows and a one-sentence summary (idempotent on a display)."""
    if isinstance(explanation, ExplanationDisplay):
        return explanation
    rows = [condition_row(result) for result in explanation.conditions]
    amount = int(explanation.amount or 0)
    amount_text = money_format(amount) if amount else ""
    failed = [row for row in rows if not row.passed]
    if explanation.eligible:
        summary = _("Meets all the conditions") if not failed else _("Meets the conditions")
        if amount:
            summary = _("%(verdict)s; amount %(amount)s.") % {"verdict": summary, "amount": amount_text}
        else:
            summary = _("%(verdict)s.") % {"verdict": summary}
    elif failed:
        reasons = _("; ").join(
            _("%(label)s is %(found)s, required %(comparison)s")
            % {"label": row.label, "found": row.found, "comparison": row.comparison}
            for row in failed
        )
        summary = _("Not met: %(reasons)s.") % {"reasons": reasons}
    else:
        summary = _("Does not meet the conditions of the rule.")
    return ExplanationDisplay(
        subject=subject_format(str(explanation.subject)),
        eligible=bool(explanation.eligible),
        amount=amount,
        amount_text=amount_text,
        verdict=_verdict(bool(explanation.eligible)),
        summary=summary,
        rows=rows,
        code=getattr(explanation, "code", "") or "",
        title=getattr(explanation, "title", "") or "",
    )


# --- a definition's expressions, as written (for the people who write and approve rules) ----------


def value_describe(node: Any) -> str:
    """A value expression in the definition's own notation, compactly:
    {sum: claims.self_pay_fen, where: [{field: claims.paid_on, op: ">=", value: {months_before: 12}}]}
    → "sum(claims.self_pay_fen) where claims.paid_on ≥ months_before(12)"."""
    if not isinstance(node, dict):
        return "true" if node is True else "false" if node is False else str(node)
    for name in ("sum", "count", "min", "max"):
        if name in node:
            text = f"{name}({node[name]})"
            clauses = [
                f"{clause.get('field')} {OPERATOR_SYMBOLS.get(clause.get('op'), clause.get('op'))} "
                f"{value_describe(clause.get('value'))}"
                for clause in node.get("where") or []
                if isinstance(clause, dict)
            ]
            return f"{text} where {' and '.join(clauses)}" if clauses else text
    if "field" in node:
        return str(node["field"])
    if "age" in node:
        return f"age({node['age']})"
    if "param" in node:
        return f"param({node['param']})"
    if "value" in node:
        return value_describe(node["value"]) if not isinstance(node["value"], str) else f"“{node['value']}”"
    for name, symbol in (("add", " + "), ("sub", " − "), ("mul", " × ")):
        if name in node and isinstance(node[name], list):
            return "(" + symbol.join(value_describe(item) for item in node[name]) + ")"
    if "band" in node:
        bands = "; ".join(
            f"{low if low is not None else '…'}–{high if high is not None else '…'} → {amount}"
            for low, high, amount in (band for band in node.get("bands") or [] if len(band) == 3)
        )
        return f"band({value_describe(node['band'])}: {bands})"
    for name in ("months_before", "days_before", "working_days_before", "date"):
        if name in node:
            return f"{name}({node[name]})"
    return str(node)
