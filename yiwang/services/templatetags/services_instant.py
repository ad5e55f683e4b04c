"""Template helpers for 秒批 and the certificate of an application:

{% load services_instant %}
{% instant_view application as instant %}   {"outcome", "explanation", "error", "certificate"}
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def instant_view(application: Any) -> dict[str, Any] | None:
    """What the application page and the handling page show about instant approval and the
    certificate issued; None when there is nothing to show."""
    from yiwang.certs.models import Certificate
    from yiwang.services.instant import explanation_of

    if application is None or not (application.instant or application.certificate_number):
        return None
    certificate = None
    if application.certificate_number:
        certificate = Certificate.objects.filter(number=application.certificate_number).first()
    return {
        "outcome": application.instant,
        "explanation": explanation_of(application),
        "error": (application.instant_explanation or {}).get("error", ""),
        "certificate": certificate,
    }
