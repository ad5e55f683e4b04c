"""The demo city's no-application benefits: the feeds published and filled with coherent records
for some of the registry's persons and enterprises (so each policy has some eligible and some
not), the four policies loaded, the grants the departments need, the demo staff's roles in
人社局 and 民政局, and one approved run per policy. Deterministic (one random seed) and
idempotent: records are upserted by key (the same batch twice changes nothing) and a policy's
demo run is made only when none of its period is paid yet.

    from yiwang.benefits.seed import benefits_demo_seed
    benefits_demo_seed()          # or: yiwang benefits_seed
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import audit_record
from yiwang.core.errors import DomainError
from yiwang.core.models import Department, Role, RoleAssignment

SEED = 3605
ACTOR = "system:benefits-seed"
SCHOOLS = ("南昌大学", "江西师范大学", "萍乡学院", "江西财经大学", "华东交通大学", "中南大学", "武汉大学")
WORK_PLACES = ("广东省东莞市", "广东省深圳市", "浙江省义乌市", "福建省晋江市", "上海市", "江苏省苏州市")


def _push(code: str, rows: list[dict]) -> int:
    from yiwang.exchange import services
    from yiwang.exchange.models import Resource

    if not rows:
        return 0
    resource = Resource.objects.get(code=code)
    content = "\n".join(json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows).encode()
    report = services.records_ingest(
        actor=ACTOR, resource=resource, content=content, name="benefits-seed.jsonl"
    )
    if report.errors:
        raise DomainError(f"{code}: {report.errors[:3]}")
    return report.created + report.updated


def _month_start(day: datetime.date, back: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def demo_records(*, today: datetime.date, rng: random.Random) -> dict[str, int]:
    """Records in the six feeds for some of the registry's persons and enterprises."""
    from yiwang.registry.models import Enterprise, EnterpriseAgent, Person

    pushed: dict[str, int] = {}
    # 市场监管: every registered market entity's legal representative (the register itself).
    representatives = [
        {
            "uscc": uscc,
            "id_number": id_number,
            "entity_kind": kind,
            "established_on": established.isoformat(),
            "status": status,
        }
        for uscc, id_number, kind, established, status in Enterprise.objects.filter(
            legal_representative__isnull=False
        )
        .order_by("id")
        .values_list("uscc", "legal_representative__id_number", "kind", "established_on", "status")
    ]
    pushed["scjg.legal_representatives"] = _push("scjg.legal_representatives", representatives)

    # 人社: returning migrant workers — most run a business (some of them for less than six
    # months, so not yet), some registered without one.
    alive = Person.objects.filter(death_date__isnull=True)
    runners = sorted({row["id_number"] for row in representatives if row["status"] == "active"})
    rng.shuffle(runners)
    adults = list(
        alive.filter(
            birth_date__lte=today.replace(year=today.year - 25),
            birth_date__gte=today.replace(year=today.year - 55),
        )
        .order_by("id")
        .values_list("id_number", flat=True)[:4000]
    )
    migrants = runners[:18] + rng.sample(adults, min(8, len(adults)))
    pushed["rs.returning_migrants"] = _push(
        "rs.returning_migrants",
        [
            {
                "record_no": f"FXCY{index:06d}",
                "id_number": id_number,
                "returned_on": (today - datetime.timedelta(days=rng.randrange(200, 1500))).isoformat(),
                "worked_in": rng.choice(WORK_PLACES),
                "registered_on": (today - datetime.timedelta(days=rng.randrange(30, 190))).isoformat(),
            }
            for index, id_number in enumerate(migrants)
        ],
    )

    # 教育 + 公安: graduates and their household registration. The demo citizen took a
    # master's degree last year and settled here: the talent subsidy's example.
    young = list(
        alive.filter(
            birth_date__lte=today.replace(year=today.year - 22),
            birth_date__gte=today.replace(year=today.year - 32),
        )
        .order_by("id")
        .values_list("id_number", flat=True)[:3000]
    )
    graduates = rng.sample(young, min(40, len(young)))
    citizen = Person.objects.filter(user__username=Role.CITIZEN).values_list("id_number", flat=True).first()
    if citizen and citizen not in graduates:
        graduates.append(citizen)
    degree_rows, settlement_rows = [], []
    for index, id_number in enumerate(graduates):
        code = 14 if id_number == citizen else rng.choice((21, 21, 21, 21, 14, 14, 11, 31))
        months_ago = 17 if id_number == citizen else rng.choice((3, 5, 15, 17, 27, 40))
        graduated = _month_start(today, months_ago) + datetime.timedelta(days=27)
        degree_rows.append(
            {
                "certificate_no": f"1{index:05d}{graduated.year}{code:02d}0000{index:04d}",
                "id_number": id_number,
                "school": rng.choice(SCHOOLS),
                "education_code": code,
                "graduated_on": graduated.isoformat(),
            }
        )
        if id_number == citizen or rng.random() < 0.8:
            settled = graduated + datetime.timedelta(days=rng.randrange(20, 120))
            settlement_rows.append(
                {
                    "record_no": f"QR{index:08d}",
                    "id_number": id_number,
                    "settled_on": min(settled, today).isoformat(),
                    "category": "人才引进落户" if code <= 21 else "投靠落户",
                    "moved_from": rng.choice(
                        ("江西省南昌市", "湖南省长沙市", "湖南省醴陵市", "江西省宜春市")
                    ),
                }
            )
    pushed["jy.graduates"] = _push("jy.graduates", degree_rows)
    pushed["ga.hukou_settlements"] = _push("ga.hukou_settlements", settlement_rows)

    # 人社 (失业保险): last year's contributions of most active companies; a few laid off more
    # than 5.5 %, a few paid only part of the year. The demo agent's company is a clean one.
    companies = list(
        Enterprise.objects.filter(kind="company", status="active")
        .order_by("id")
        .values_list("uscc", "employee_count")
    )
    agent_uscc = (
        EnterpriseAgent.objects.filter(user__username=Role.ENTERPRISE_AGENT)
        .values_list("enterprise__uscc", flat=True)
        .first()
    )
    last_year = today.year - 1
    insurance_rows = []
    insured_companies = []
    for uscc, employees in companies:
        if uscc != agent_uscc and rng.random() < 0.25:
            continue  # not insured (or not yet registered with the fund)
        insured_companies.append(uscc)
        insured = max(3, employees or rng.randrange(5, 200))
        months = range(1, 13) if uscc == agent_uscc or rng.random() < 0.85 else range(1, rng.randrange(4, 12))
        layoffs = 0 if uscc == agent_uscc else rng.choice((0, 0, 0, 1, 2, max(1, insured // 8)))
        for month in months:
            premium_fen = insured * rng.randrange(3800, 5200)  # 1 % of the wage base (0.5 % + 0.5 %)
            insurance_rows.append(
                {
                    "record_no": f"SY{uscc}{last_year}{month:02d}",
                    "uscc": uscc,
                    "month": datetime.date(last_year, month, 1).isoformat(),
                    "insured_count": insured,
                    "separations": layoffs if month == 6 else 0,
                    "premium": f"{premium_fen // 100}.{premium_fen % 100:02d}",
                }
            )
    pushed["rs.unemployment_insurance"] = _push("rs.unemployment_insurance", insurance_rows)

    # 法院: a few insured companies on the dishonesty list (one since removed).
    listed = [uscc for uscc in insured_companies if uscc != agent_uscc][
        : max(1, len(insured_companies) // 25)
    ]
    pushed["fy.dishonest_debtors"] = _push(
        "fy.dishonest_debtors",
        [
            {
                "case_no": f"（{last_year}）赣03执{100 + index}号",
                "uscc": uscc,
                "listed_on": datetime.date(last_year, 1 + index % 12, 10).isoformat(),
                "status": "已屏蔽" if index == 0 else "在列",
            }
            for index, uscc in enumerate(listed)
        ],
    )
    return pushed


def demo_staff() -> dict[str, Any]:
    """The demo department handler and supervisor also work in 人社局 and 民政局, so the demo
    can start (handler) and approve (supervisor) runs of all four policies."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    handler = users.filter(username=Role.DEPARTMENT_HANDLER).first()
    supervisor = users.filter(username=Role.SUPERVISOR).first()
    added = []
    with transaction.atomic():
        for user, role in ((handler, Role.DEPARTMENT_HANDLER), (supervisor, Role.SUPERVISOR)):
            if user is None:
                continue
            for code in ("RS", "MZ"):
                _assignment, created = RoleAssignment.objects.get_or_create(
                    user=user, role=role, department=Department.objects.get(code=code), division=None
                )
                if created:
                    added.append(f"{user.username}:{role}@{code}")
        if added:
            audit_record(actor=ACTOR, action="benefits.demo_staff", object_type="core.user", after=added)
    return {"handler": handler, "supervisor": supervisor, "added": added}


def _chief_data_officer():
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    cdo = users.filter(roles__role=Role.DATA_STEWARD, roles__department__code="ZS").first()
    return cdo or users.filter(is_superuser=True).order_by("id").first()


def demo_runs(*, handler: Any, supervisor: Any, today: datetime.date) -> list[str]:
    """One approved, paid run per policy (unless its period is already paid)."""
    from yiwang.benefits.models import Policy, Run, RunState
    from yiwang.benefits.services import run_approve, run_start

    periods = {
        "benefits.job_retention": str(today.year),
        "benefits.elderly_allowance": f"{today.year:04d}-{today.month:02d}",
        "benefits.startup_subsidy": "once",
        "benefits.talent_subsidy": "once",
    }
    made = []
    for policy in Policy.objects.filter(code__in=list(periods)):
        period = periods[policy.code]
        if Run.objects.filter(policy=policy, period=period, state=RunState.PAID).exists():
            continue
        run = Run.objects.filter(policy=policy, period=period, state=RunState.REVIEW).first()
        if run is None:
            run = run_start(policy=policy, period=period, actor=handler, evaluated_on=today)
        run = run_approve(run=run, actor=supervisor, note="演示：已核对名单与金额")
        made.append(f"{policy.code} {period}: {run.paid_count} paid, {run.paid_fen} fen")
    return made


def benefits_demo_seed(*, today: datetime.date | None = None) -> dict[str, Any]:
    """Everything the demo's benefits need; safe to run again."""
    from yiwang.benefits.feeds import feeds_publish
    from yiwang.benefits.services import grants_ensure, policies_load

    today = today or timezone.localdate()
    rng = random.Random(SEED)
    published = feeds_publish(actor=ACTOR)
    records = demo_records(today=today, rng=rng)
    policies = policies_load()
    cdo = _chief_data_officer()
    grants = grants_ensure(actor=cdo) if cdo is not None else []
    staff = demo_staff()
    runs = []
    if staff["handler"] is not None and staff["supervisor"] is not None:
        runs = demo_runs(handler=staff["handler"], supervisor=staff["supervisor"], today=today)
    return {
        "feeds_published": published,
        "records": records,
        "policies": [policy.code for policy in policies],
        "grants": len(grants),
        "staff_roles_added": staff["added"],
        "runs": runs,
    }
