"""Demo tickets: a few hundred citizens' requests over the past ~90 days, taken in and moved
round the closed loop by the real services, so that the KPI and hotspot pages of the demo
city show something true to life.

Each ticket is written by `ticket_intake(now=…)` with a text of the project's demo corpus and
an address in one of the city's towns; its later steps (dispatch, accept, return and
re-dispatch, press, reply, satisfaction check, reopen, close as not resolved) go through the
cases engine's `case_transition(now=…)` and the hotline's `ticket_rate`, each at its own
moment in the past. Steps that would fall after the present are not taken, so recent tickets
are still waiting for a dispatcher, a department or a rating, and a few old ones are left
overdue. Finally one SLA sweep runs at the present, as the scheduler would.

Idempotent: `hotline_demo_tickets(count=N)` tops the hotline up to N tickets and does nothing
when there are already as many. The timeline and ticket dates are in the past; the audit
entries carry the moment they were really written.
"""

from __future__ import annotations

import csv
import datetime
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from yiwang.cases.services import case_sla_sweep, case_transition
from yiwang.core.calendar import WorkingDayCalendar, add_working_hours
from yiwang.core.models import Department, Division, DivisionLevel, Role, RoleAssignment, User
from yiwang.core.services import user_create
from yiwang.hotline import cases as states
from yiwang.hotline import services
from yiwang.hotline.models import Category, Channel, Rating, RoutingRule, Ticket, TicketKind

CORPUS = Path(__file__).resolve().parent / "data" / "demo_corpus.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_TICKETS = 300
DAYS = 90

KIND_WEIGHTS = {
    TicketKind.CONSULTATION: 30,
    TicketKind.HELP: 18,
    TicketKind.COMPLAINT: 32,
    TicketKind.REPORT: 7,
    TicketKind.SUGGESTION: 10,
    TicketKind.PRAISE: 3,
}
CHANNEL_WEIGHTS = {Channel.PHONE: 62, Channel.WEB: 24, Channel.API: 9, Channel.OPEN311: 5}
CATEGORY_WEIGHTS = {
    "城乡建设": 30,
    "环境保护": 16,
    "劳动和社会保障": 14,
    "交通运输": 12,
    "商贸旅游": 10,
    "教育文体": 9,
    "卫生计生": 9,
}
# Two clusters that grow over the last weeks, so the hotspot view has something rising:
# (category, town name, extra tickets per week in the last three weeks, 3 → 2 → 1 weeks ago).
RISING = (("环境保护", "丹江街街道", (2, 4, 7)), ("交通运输", "南坑镇", (1, 3, 5)))
MOBILE_PREFIXES = ("138", "139", "137", "135", "136", "150", "151", "158", "159", "186", "187", "188")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何罗高林钟"
REPLIES = {
    "城乡建设": "经现场核查，已安排社区和物业整改，相关设施已修复。",
    "环境保护": "已会同执法队现场检查，责令经营户整改并跟踪复查。",
    "劳动和社会保障": "已联系用人单位核实，督促其依法支付并告知维权途径。",
    "交通运输": "已转交运营单位调整线路班次，并加强现场管理。",
    "商贸旅游": "已约谈经营者，督促其按约定退款，并告知消费维权渠道。",
    "教育文体": "已联系学校及教育机构核实情况，按政策规定答复来电人。",
    "卫生计生": "已告知办理所需材料及流程，并联系医疗机构核实处理。",
}
RETURN_NOTES = ("经核实不属于本单位职责，请重新分派。", "诉求地址不在本单位辖区。")
UNSATISFIED_NOTES = ("问题仍未解决，希望再次处理。", "答复敷衍，没有实际解决。", "整改后又出现同样问题。")


@dataclass
class Staff:
    operator: Any
    dispatcher: Any
    supervisor: Any
    handler: Any  # a demo handler in every department tickets are routed to


def _corpus() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.setdefault(row["category"], []).append(row["text"])
    return texts


def _user(username: str, display_name: str, roles: list[tuple[str, Any, Any]]) -> Any:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            actor="system:demo",
            username=username,
            password=secrets.token_urlsafe(24),
            display_name=display_name,
            roles=roles,
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _staff() -> Staff:
    """The demo logins where they exist (`yiwang seed` makes them), otherwise demo staff of
    the hotline's own; one demo handler holds the handler role in every department that a
    routing rule or a town names, so every department's tickets can be moved."""
    centre = services.hotline_centre()
    operator = User.objects.filter(username=Role.HOTLINE_OPERATOR).first() or _user(
        "hotline-demo-operator", "热线演示话务员", [(Role.HOTLINE_OPERATOR, centre, None)]
    )
    dispatcher = User.objects.filter(username=Role.DISPATCHER).first() or _user(
        "hotline-demo-dispatcher", "热线演示派单员", [(Role.DISPATCHER, centre, None)]
    )
    supervisor = User.objects.filter(username=Role.SUPERVISOR).first() or _user(
        "hotline-demo-supervisor", "热线演示督办员", [(Role.SUPERVISOR, None, None)]
    )
    handler = _user("hotline-demo-handler", "热线演示承办人", [])
    wanted = set(RoutingRule.objects.values_list("department_id", flat=True))
    wanted |= set(Department.objects.filter(code__endswith="-ZF").values_list("pk", flat=True))
    held = set(
        RoleAssignment.objects.filter(user=handler, role=Role.DEPARTMENT_HANDLER).values_list(
            "department_id", flat=True
        )
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=handler, role=Role.DEPARTMENT_HANDLER, department_id=pk)
        for pk in sorted(wanted - held)
    )
    handler = User.objects.get(pk=handler.pk)  # forget cached roles
    return Staff(operator=operator, dispatcher=dispatcher, supervisor=supervisor, handler=handler)


def _towns() -> list[tuple[Division, list[Division]]]:
    towns = []
    for town in Division.objects.filter(level=DivisionLevel.TOWN).select_related("parent").order_by("code"):
        villages = list(town.children.filter(level=DivisionLevel.VILLAGE).order_by("code"))
        towns.append((town, villages))
    return towns


def _address(rng: random.Random, town: Division, villages: list[Division]) -> str:
    county = town.parent.name if town.parent else ""
    place = rng.choice(villages).name if villages else ""
    street = rng.choice(("建设路", "人民路", "滨河路", "中山路", "新村路", "公园路", "跃进路"))
    return f"{county}{town.name}{place}{street}{rng.randint(1, 180)}号"


def _phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


def _received_moment(rng: random.Random, day: datetime.date) -> datetime.datetime:
    """Calls come mostly in the morning and afternoon, some in the evening."""
    hour = rng.choices(range(7, 23), weights=[2, 6, 10, 10, 9, 6, 7, 9, 9, 8, 6, 4, 3, 3, 2, 1])[0]
    return datetime.datetime.combine(day, datetime.time(hour, rng.randint(0, 59)), tzinfo=SHANGHAI)


def _plan(rng: random.Random, count: int, today: datetime.date, towns, corpus) -> list[dict]:
    """What each new ticket is: when, what kind, which category's text, where."""
    town_weights = [1 + 6 / (index + 1) for index in range(len(towns))]  # a few busy towns
    rng.shuffle(town_weights)
    by_name = {town.name: (town, villages) for town, villages in towns}
    categories = [name for name in CATEGORY_WEIGHTS if name in corpus]
    plans = []
    extra: list[tuple[str, tuple, int]] = []
    for category, town_name, per_week in RISING:
        if category in corpus and town_name in by_name:
            for weeks_ago, number in zip((3, 2, 1), per_week, strict=True):
                extra += [(category, by_name[town_name], weeks_ago)] * number
    extra = extra[: count // 4]
    for index in range(count):
        if index < len(extra):
            category, place, weeks_ago = extra[index]
            day = today - datetime.timedelta(days=7 * (weeks_ago - 1) + rng.randint(0, 6))
        else:
            category = rng.choices(categories, weights=[CATEGORY_WEIGHTS[name] for name in categories])[0]
            place = rng.choices(towns, weights=town_weights)[0]
            day = today - datetime.timedelta(days=int(rng.triangular(0, DAYS, 0)))
        plans.append(
            {
                "category": category,
                "place": place,
                "received": _received_moment(rng, day),
                "kind": rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0],
                "channel": rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0],
            }
        )
    plans.sort(key=lambda plan: plan["received"])
    return plans


class _Story:
    """Moves one ticket through its steps, each at a moment later than the one before, and
    stops at the first step that would fall after the present."""

    def __init__(self, ticket: Ticket, now: datetime.datetime, calendar: WorkingDayCalendar):
        self.ticket = ticket
        self.case = ticket.case
        self.clock = ticket.received_at
        self.now = now
        self.calendar = calendar

    def later(self, *, hours: float = 0, working_hours: float = 0) -> datetime.datetime | None:
        moment = self.clock + datetime.timedelta(hours=hours)
        if working_hours:
            moment = add_working_hours(moment, working_hours, calendar=self.calendar)
        return moment if moment < self.now else None

    def move(self, transition: str, actor: Any, at: datetime.datetime | None, **fields: Any) -> bool:
        if at is None:
            return False
        self.case = case_transition(
            case=self.case,
            transition=transition,
            actor=actor,
            expected_version=self.case.version,
            now=at,
            **fields,
        )
        self.clock = at
        return True

    def rate(self, actor: Any, rating: str, note: str, at: datetime.datetime | None) -> bool:
        if at is None:
            return False
        ticket = Ticket.objects.select_related("case").get(pk=self.ticket.pk)
        ticket = services.ticket_rate(ticket=ticket, actor=actor, rating=rating, note=note, now=at)
        self.case = ticket.case
        self.clock = at
        return True


def _department_for(ticket: Ticket, category_name: str) -> Department:
    category = ticket.suggested_category or Category.objects.filter(name=category_name).first()
    department = services.rule_department(category, ticket.division) if category else None
    return department or _town_office(ticket) or services.hotline_centre()


def _town_office(ticket: Ticket) -> Department | None:
    town = ticket.division.parent if ticket.division.level == DivisionLevel.VILLAGE else ticket.division
    return Department.objects.filter(code=f"{town.pk}-ZF").first()


def _live(rng: random.Random, story: _Story, plan: dict, staff: Staff) -> None:
    """The rest of one ticket's life after intake."""
    ticket = story.ticket
    category = plan["category"]
    if story.case.state == states.DISPATCHING:
        if ticket.kind == TicketKind.CONSULTATION and rng.random() < 0.45:
            story.move(
                "answer",
                staff.operator,
                story.later(hours=rng.uniform(0.05, 0.5)),
                note="已在电话中解答政策及办理流程。",
            )
            _rating(rng, story, staff)
            return
        if story.later(working_hours=8) is None and rng.random() < 0.3:
            return  # came in during the last working day: some still wait for the dispatcher
        if not story.move(
            "dispatch",
            staff.dispatcher,
            story.later(working_hours=rng.uniform(0.1, 1.8)),
            department=_department_for(ticket, category),
        ):
            return
    handler = staff.handler
    if rng.random() < 0.07:  # returned with a reason, re-dispatched to the town
        if not story.move(
            "return",
            handler,
            story.later(working_hours=rng.uniform(0.2, 1.5)),
            note=rng.choice(RETURN_NOTES),
            department=services.hotline_centre(),
        ):
            return
        target = _town_office(ticket) or _department_for(ticket, category)
        if not story.move(
            "dispatch", staff.dispatcher, story.later(working_hours=rng.uniform(0.2, 1.5)), department=target
        ):
            return
    accept_hours = rng.uniform(0.05, 1.8) if rng.random() < 0.86 else rng.uniform(2.5, 12)
    if not story.move("accept", handler, story.later(working_hours=accept_hours)):
        return
    if rng.random() < 0.03:
        return  # forgotten: stays with the department and turns overdue
    deadline = story.case.case_deadline
    if rng.random() < 0.05:
        story.move(
            "press", staff.supervisor, story.later(working_hours=rng.uniform(1, 6)), note="请尽快办理并答复。"
        )
    if deadline is None or rng.random() < 0.87:  # in time
        span = max(((deadline or story.clock) - story.clock).total_seconds() / 3600, 0.5)
        reply_at = story.later(hours=rng.uniform(0.1, 0.9) * span)
    else:  # late
        late = max(deadline, story.clock) + datetime.timedelta(hours=rng.uniform(2, 72))
        reply_at = late if late < story.now else None
    if not story.move("reply", handler, reply_at, note=REPLIES.get(category, "已办理并答复来电人。")):
        return
    _rating(rng, story, staff)


def _rating(rng: random.Random, story: _Story, staff: Staff) -> None:
    """The callback: most rate, most of them satisfied; 不满意 reopens under supervision."""
    handler = staff.handler
    for round_ in range(2):
        if rng.random() < 0.22:
            return  # no answer: the SLA sweep closes it without a rating after 2 working days
        at = story.later(working_hours=rng.uniform(0.5, 12))
        rating = rng.choices(
            [Rating.SATISFIED, Rating.BASICALLY_SATISFIED, Rating.UNSATISFIED],
            weights=[72, 19, 9] if round_ == 0 else [50, 25, 25],
        )[0]
        note = rng.choice(UNSATISFIED_NOTES) if rating == Rating.UNSATISFIED else ""
        if not story.rate(staff.operator, rating, note, at):
            return
        if rating != Rating.UNSATISFIED:
            return
        if round_ == 1:
            story.move(
                "close_unresolved",
                staff.supervisor,
                story.later(working_hours=rng.uniform(2, 16)),
                note="涉及规划调整，已列入年度计划，暂无法当期解决。",
            )
            return
        if story.case.state == states.DISPATCHING:
            # The centre had answered it itself: the dispatcher sends it to a department now.
            target = _town_office(story.ticket) or services.hotline_centre()
            if not story.move(
                "dispatch",
                staff.dispatcher,
                story.later(working_hours=rng.uniform(0.2, 1.5)),
                department=target,
            ):
                return
            if not story.move("accept", handler, story.later(working_hours=rng.uniform(0.1, 1.5))):
                return
        if not story.move(
            "reply", handler, story.later(working_hours=rng.uniform(4, 20)), note="已再次现场处理并复核。"
        ):
            return


def hotline_demo_tickets(
    *,
    count: int = DEFAULT_TICKETS,
    seed: int = 12345,
    sweep: bool = True,
    now: datetime.datetime | None = None,
) -> int:
    """Top the hotline up to `count` tickets spread over the ~90 days before `now` (the
    present by default); returns how many were created (0 when there are already `count` or
    more). The same seed and `now` give the same tickets: each ticket's story draws from its
    own random stream, so a step skipped because it would fall after `now` changes no other
    ticket."""
    existing = Ticket.objects.count()
    missing = count - existing
    if missing <= 0:
        return 0
    corpus = _corpus()
    towns = _towns()
    if not towns or not corpus:
        raise LookupError("the demo tickets need the city's towns (yiwang seed) and the demo corpus")
    staff = _staff()
    rng = random.Random(seed + existing)
    now = now or timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    calendar = WorkingDayCalendar()
    created = 0
    for index, plan in enumerate(_plan(rng, missing, today, towns, corpus)):
        own = random.Random(f"{seed}:{existing + index}")
        if plan["received"] >= now:
            plan["received"] = now - datetime.timedelta(minutes=own.randint(5, 120))
        town, villages = plan["place"]
        data = {
            "kind": plan["kind"],
            "text": own.choice(corpus[plan["category"]]),
            "caller_phone": _phone(own),
            "caller_name": own.choice(SURNAMES) + own.choice(("先生", "女士")),
            "address": _address(own, town, villages),
        }
        actor = staff.operator if plan["channel"] == Channel.PHONE else f"system:{plan['channel']}"
        with transaction.atomic():
            ticket = services.ticket_intake(
                data=data, channel=plan["channel"], actor=actor, now=plan["received"]
            )
            _live(own, _Story(ticket, now, calendar), plan, staff)
        created += 1
    if sweep:
        case_sla_sweep(now=now)
    return created
