"""The demo city's relapse monitoring: the rules loaded, the grants the 乡村振兴局 needs, a
town cadre and a 乡村振兴局 handler to log in as, department records pushed through the
exchange (households over 15,000 yuan of self-pay, one exactly at it and one a fen below, a
recent disaster, a fatal accident), the screenings run, and a few warnings moved through
verification to monitored households with measures, reviews and one risk cleared.

Idempotent: the records have fixed keys (the same push twice changes nothing), a screening
rerun raises nothing twice, and the verification moves are made only while no household is
monitored yet. Deterministic for a given present (`today`). Proportions after Xinyu (612
monitored households, 1,492 people, in a million): a handful in a demo city of 10,000."""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from yiwang.core.calendar import WorkingDayCalendar
from yiwang.core.models import Department, Role, User
from yiwang.registry.models import Household

ACTOR = "system:relapse-seed"
SEED = 3603_5
TOWN_CADRE = "town_cadre"
BUREAU_HANDLER = "rural_bureau"
MONITORED_TARGET = 7
DISMISSED_TARGET = 4


def _user(username: str, display_name: str, department: Department) -> User:
    from yiwang.core.services import user_create

    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            actor=ACTOR,
            username=username,
            password=settings.YIWANG_DEMO_PASSWORD,
            display_name=display_name,
            roles=[(Role.DEPARTMENT_HANDLER, department, None)],
        )
    return user


def _push(code: str, records: list[dict]) -> None:
    from yiwang.exchange.models import Resource
    from yiwang.exchange.services import records_ingest

    resource = Resource.objects.filter(code=code).first()
    if resource is None or not records:
        return
    content = "\n".join(json.dumps(record, ensure_ascii=False) for record in records).encode()
    records_ingest(actor=ACTOR, resource=resource, content=content, name="relapse-demo.jsonl")


def _households(rng: random.Random, count: int) -> list[Household]:
    candidates = list(
        Household.objects.filter(is_rural=True, division__is_outside_city=False)
        .annotate(size=Count("members"))
        .filter(size__gte=2)
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    chosen = rng.sample(candidates, min(count, len(candidates)))
    by_id = Household.objects.in_bulk(chosen)
    return [by_id[pk] for pk in chosen]


def _members(household: Household) -> list[str]:
    return list(household.members.order_by("id").values_list("person__id_number", flat=True))


def relapse_demo_seed(*, today: datetime.date | None = None) -> dict[str, Any]:
    from yiwang.relapse import services
    from yiwang.relapse.models import MonitoredHousehold, Warning
    from yiwang.relapse.selectors import measure_suggestions

    today = today or timezone.localdate()
    rng = random.Random(SEED)
    services.relapse_rules_load()
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        from yiwang.registry.seed import demo_logins_ensure

        demo_logins_ensure()
        admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    services.relapse_grants_ensure(actor=admin)
    households = _households(rng, 12)
    if not households:
        return {"warnings": 0, "monitored": 0}
    calendar = WorkingDayCalendar()

    # 医保: six households over the line (one exactly at 15,000.00), one a fen below.
    claims = []
    totals = ["15000.00", "14999.99", "18420.50", "23650.00", "31200.80", "16880.00", "42000.00"]
    for index, (household, total) in enumerate(zip(households[:7], totals, strict=False)):
        members = _members(household)
        first = (int(total.replace(".", "")) * 3) // 5
        parts = [first, int(total.replace(".", "")) - first]
        for part, (number, id_number) in enumerate(zip(parts, [members[0], members[-1]], strict=True)):
            settled = today - datetime.timedelta(days=30 + 40 * part + 7 * index)
            claims.append(
                {
                    "claim_no": f"YBRLP{index:03d}{part}",
                    "id_number": id_number,
                    "settled_on": settled.isoformat(),
                    "hospital": rng.choice(["萍乡市人民医院", "萍乡市中医院", "莲花县人民医院"]),
                    "total_cost": f"{(number * 3) // 100}.{(number * 3) % 100:02d}",
                    "self_pay": f"{number // 100}.{number % 100:02d}",
                    "catastrophic": True,
                    "diagnosis": rng.choice(["C34", "N18", "I63"]),
                }
            )
    _push("yb.self_pay_claims", claims)

    # 应急管理: a flood four working days ago with a Ⅳ-level response, three households hit.
    flood_day = calendar.add_working_days(today, -4)
    disasters = []
    for index, (household, loss, died) in enumerate(
        zip(households[7:10], ["12600.00", "45800.00", "3200.00"], [False, False, True], strict=False)
    ):
        disasters.append(
            {
                "report_no": f"ZHRLP{index:04d}",
                "id_number": _members(household)[0],
                "disaster_type": "洪涝",
                "occurred_on": flood_day.isoformat(),
                "house_damaged": True,
                "loss_amount": loss,
                "assessor": "应急管理局核灾组",
                "response_level": 4,
                "labourer_died": died,
            }
        )
    _push("yjgl.disaster_losses", disasters)

    # 公安交警: a fatal accident yesterday; the head of the household was the family's earner.
    accidents = []
    for index, household in enumerate(households[10:12]):
        accidents.append(
            {
                "accident_no": f"JJRLP{index:04d}",
                "id_number": _members(household)[0],
                "occurred_on": (today - datetime.timedelta(days=1 + index)).isoformat(),
                "severity": "死亡" if index == 0 else "重伤",
                "injured": True,
                "liability": "次要责任",
                "location": "萍乡市芦溪县某路段",
                "labourer_died": index == 0,
                "economic_loss": "1200.00" if index == 0 else "26800.00",
            }
        )
    _push("gajj.traffic_accidents", accidents)

    # The screenings, as the schedule would run them (and the real-time sweeps).
    for code in services.FEED_RULES:
        while services.feed_sweep(resource_code=code, on=today, actor=ACTOR) is not None:
            pass
    services.screen(rule_code="relapse.disaster", on=today, actor=ACTOR, trigger="demand")
    services.screen(rule_code="relapse.medical", on=today, actor=ACTOR, trigger="demand")

    # A town cadre and a 乡村振兴局 handler to log in as (password: the demo password).
    demo_ids = [household.pk for household in households]
    first = Warning.objects.filter(household_id__in=demo_ids).order_by("id").first()
    town = (first or Warning.objects.order_by("id").first()).town if Warning.objects.exists() else None
    if town is not None:
        _user(TOWN_CADRE, "刘建国（乡镇干部）", services.town_office(town))
    _user(BUREAU_HANDLER, "胡晓梅（乡村振兴局）", services.rules_department())

    if not MonitoredHousehold.objects.exists():
        _verify(rng, demo_ids, today, measure_suggestions)
    return {
        "warnings": Warning.objects.count(),
        "verifying": Warning.objects.filter(state=Warning.State.VERIFYING).count(),
        "monitored": MonitoredHousehold.objects.filter(cleared_on__isnull=True).count(),
        "cleared": MonitoredHousehold.objects.filter(cleared_on__isnull=False).count(),
    }


def _cadre_of(town: Any) -> User:
    from yiwang.relapse import services

    if User.objects.filter(username=TOWN_CADRE, roles__department__division=town).exists():
        return User.objects.get(username=TOWN_CADRE)
    return _user(f"cadre-{town.pk}", f"{town.name}干部", services.town_office(town))


def _verify(rng: random.Random, demo_ids: list[int], today: datetime.date, suggest) -> None:
    """Confirm the demo households' warnings (the boundary one dismissed), dismiss a few others,
    record measures, review, and clear one household's risk."""
    from yiwang.relapse import services
    from yiwang.relapse.models import Warning

    verifying = Warning.objects.filter(state=Warning.State.VERIFYING).select_related(
        "case", "town", "household"
    )
    ours = list(verifying.filter(household_id__in=demo_ids).order_by("id"))
    others = list(verifying.exclude(household_id__in=demo_ids).order_by("id")[:DISMISSED_TARGET])
    notes = {
        "medical": "入户核实：家庭成员患重病长期治疗，自付费用高，家庭收入明显下降",
        "disaster": "入户核实：洪涝致房屋受损、农作物绝收，存在返贫风险",
        "accident": "入户核实：家庭主要劳动力因交通事故身亡/重伤，收入骤减",
    }
    risk = {"medical": ["illness"], "disaster": ["disaster"], "accident": ["accident", "unemployment"]}
    confirmed = []
    for warning in ours[:MONITORED_TARGET]:
        cadre = _cadre_of(warning.town)
        monitored = services.warning_confirm(
            warning=warning,
            actor=cadre,
            risk_types=risk.get(warning.source, ["other"]),
            note=notes.get(warning.source, "入户核实，存在返贫风险"),
            expected_version=warning.case.version,
        )
        confirmed.append((monitored, cadre))
    for warning in others:
        services.warning_dismiss(
            warning=warning,
            actor=_cadre_of(warning.town),
            reason=rng.choice(
                [
                    "入户核实：已享受医保报销及大病保险，家庭有稳定务工收入，无返贫风险",
                    "入户核实：家庭人均纯收入远高于监测标准",
                    "入户核实：已由商业保险足额赔付",
                ]
            ),
            expected_version=warning.case.version,
        )
    amounts = {
        "medical": 680000,
        "insurance": 150000,
        "subsistence": 64500,
        "housing": 2000000,
        "drinking_water": 120000,
        "industry": 500000,
        "employment": 0,
        "extreme_poverty": 90000,
        "education": 250000,
    }
    texts = {
        "medical": "大病医疗救助及医保倾斜报销",
        "insurance": "防返贫保险理赔",
        "subsistence": "纳入农村低保",
        "housing": "受损房屋维修加固补助",
        "drinking_water": "饮水设施修复",
        "industry": "产业奖补（种养殖）",
        "employment": "推荐就近就业（公益性岗位）",
        "extreme_poverty": "特困供养审核",
        "education": "教育资助",
    }
    for index, (monitored, cadre) in enumerate(confirmed):
        for number, suggestion in enumerate(suggest(risk_types=monitored.risk_types)[: 1 + index % 3]):
            kind = suggestion["kind"]
            services.measure_record(
                monitored=monitored,
                actor=cadre,
                kind=kind,
                description=texts.get(kind, suggestion["label"]),
                started_on=today - datetime.timedelta(days=10 - 3 * number),
                amount_fen=amounts.get(kind, 0),
            )
        if index < 3:
            services.review_record(
                monitored=monitored,
                actor=cadre,
                risk_remains=index != 0,
                note="回访：已康复返岗，家庭收入稳定" if index == 0 else "回访：仍在治疗，继续帮扶",
                reviewed_on=today,
            )
        if index == 0:
            services.risk_clear(
                monitored=monitored,
                actor=cadre,
                reason="帮扶措施落实到位，家庭人均纯收入稳定超过监测标准，风险消除",
                on=today,
            )
