"""What the enrollment app needs from the exchange before a parent can register: the
resources it reads (published if the catalog lacks them: the registry's, social insurance,
and the feeds of feeds.py), the rules, and the education bureau's grants for the conditional
fields it reads, requested with their purpose and legal basis and decided by the chief data
officer — through the exchange's own services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from yiwang.enrollment import feeds
from yiwang.enrollment.services import PURPOSE, bureau_department, enrollment_rules_load

ACTOR = "system:enrollment"
LEGAL_BASIS = "《中华人民共和国义务教育法》第十二条；《萍乡市义务教育阶段学校招生入学工作实施方案》"
# resource → the conditional fields the bureau reads
NEEDED: dict[str, list[str]] = {
    "ga.persons": ["birth_date"],
    "ga.households": ["address"],
    "ga.household_members": ["id_number"],
    "bdcdj.properties": ["address"],
    feeds.SOCIAL_INSURANCE: ["id_number"],
}


def exchange_resources_ensure(*, actor: Any = ACTOR) -> list[str]:
    """Publish what enrollment reads and the catalog lacks (the exchange demo seed publishes
    the registry and social insurance; a city without it gets them here). Idempotent."""
    from yiwang.core.models import Department
    from yiwang.exchange.models import Resource
    from yiwang.exchange.seed import FEEDS, REGISTRY
    from yiwang.exchange.services import resource_publish

    published = []
    existing = set(Resource.objects.values_list("code", flat=True))
    for code, department_code, title, subject_type, key, backing, theme in REGISTRY:
        if code in existing or code == "scjg.enterprises":
            continue
        resource_publish(
            actor=actor,
            department=Department.objects.get(code=department_code),
            code=code,
            title=title,
            subject_type=subject_type,
            key_field=key,
            subject_field=key,
            fields=[],
            backing=backing,
            update_frequency="realtime",
            theme=theme,
        )
        published.append(code)
    for (
        code,
        department_code,
        title,
        subject_type,
        key,
        subject_field,
        frequency,
        theme,
        fields,
        _make,
    ) in FEEDS:
        if code != feeds.SOCIAL_INSURANCE or code in existing:
            continue
        resource_publish(
            actor=actor,
            department=Department.objects.get(code=department_code),
            code=code,
            title=title,
            subject_type=subject_type,
            key_field=key,
            subject_field=subject_field,
            fields=fields,
            update_frequency=frequency,
            theme=theme,
        )
        published.append(code)
    published += feeds.feeds_publish(actor=actor)
    return published


def grants_ensure(*, decider: Any, actor: Any = ACTOR) -> int:
    """Request (and have the chief data officer `decider` approve) the bureau's access to the
    conditional fields it reads, where no live grant covers them. Returns grants made."""
    from yiwang.exchange.models import Grant
    from yiwang.exchange.selectors import resource_get
    from yiwang.exchange.services import access_request_decide, access_request_submit

    consumer = bureau_department()
    now = timezone.now()
    made = 0
    needed = dict(NEEDED)
    needed[feeds.PERMITS] = ["id_number"]
    for code, fields in needed.items():
        resource = resource_get(code=code)
        live = Grant.objects.filter(
            consumer=consumer, resource=resource, valid_from__lte=now, valid_to__gt=now
        )
        covered = {name for grant in live for name in grant.fields}
        if set(fields) <= covered:
            continue
        request = access_request_submit(
            actor=actor,
            consumer=consumer,
            resource=resource,
            fields=fields,
            purpose=PURPOSE,
            legal_basis=LEGAL_BASIS,
            duration_days=3 * 365,
        )
        access_request_decide(actor=decider, request=request, approve=True)
        made += 1
    return made


def enrollment_setup(*, decider: Any) -> dict[str, Any]:
    """Resources, rules and grants (idempotent)."""
    published = exchange_resources_ensure()
    rules = enrollment_rules_load()
    grants = grants_ensure(decider=decider)
    return {"published": published, "rules": rules, "grants": grants}
