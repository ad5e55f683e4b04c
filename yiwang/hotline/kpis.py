"""The hotline's key figures (三率 and what goes with them), per department, per town and per
week, computed by aggregate queries (a handful of GROUP BY queries whatever the number of
tickets).

A period is a range of local days (Asia/Shanghai), first and last day included. Each figure
counts a precise set of tickets (`DEFINITIONS`, also shown on the page and in the Excel file):

- received (受理量): tickets received in the period (duplicates merged into another ticket
  included: each is a citizen's call).
- response rate (响应率): of the tickets received in the period that are dispatched to a
  department now (their latest dispatch, by a dispatcher or automatically) and whose accept
  limit has passed or who were accepted, the share accepted within the accept limit (2 working
  hours after the dispatch: the time limit of the state "awaiting acceptance", counted in
  office hours of working days).
- resolution rate (办结率): of the tickets whose time limit (the ticket kind's, from intake to
  the reply) ends in the period and has passed, the share replied by that time limit. A ticket
  reopened after 不满意 counts by its latest reply; tickets merged into another are left out.
- replied late (超期办结): of those same tickets, the ones replied after their time limit.
- satisfaction rate (满意率): of the tickets rated in the period (their latest rating), the share
  rated 满意 or 基本满意.
- overdue open (超期未办结): tickets received in the period, not yet replied (still waiting for
  dispatch, acceptance or a reply, or under supervision) and past their time limit now.
- returned (退单): tickets received in the period that a department returned at least once.
- reopened (重办): tickets received in the period reopened at least once after 不满意.

A ticket belongs to the department that holds it now (the last one it was dispatched to; the
12345 centre for the tickets it answered itself or that wait for dispatch) and to the town
(乡镇/街道) its address is in.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.models import CaseEvent
from yiwang.cases.types import case_type_get
from yiwang.core.access import user_roles
from yiwang.core.calendar import DEFAULT_OFFICE_DAY, OfficeDay, WorkingDayCalendar
from yiwang.core.models import Department, Division, Role
from yiwang.hotline import cases as states
from yiwang.hotline.models import Rating, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOWN_CODE_LENGTH = 9  # 360302001: a town's code; its villages' codes start with it
NOT_REPLIED = (states.DISPATCHING, states.ASSIGNED, states.HANDLING, states.SUPERVISED)
GROUPINGS = ("department", "town", "week")
# Who reads the hotline's figures (the key figures and the hotspots).
FIGURES_ROLES = frozenset({Role.SUPERVISOR, Role.CITY_LEADER, Role.DISPATCHER, Role.ADMIN})


def access_hotline_figures(user: Any) -> bool:
    """Supervisors, city leaders, dispatchers and administrators see the hotline's figures."""
    return bool(user_roles(user) & FIGURES_ROLES)


DEFINITIONS = (
    (
        _("Received"),
        _("Tickets received in the period, duplicates merged into another ticket included."),
    ),
    (
        _("Response rate"),
        _(
            "Of the tickets received in the period that are dispatched to a department (their latest "
            "dispatch) and were accepted or whose accept limit has passed: the share accepted within "
            "2 working hours of the dispatch."
        ),
    ),
    (
        _("Resolution rate"),
        _(
            "Of the tickets whose time limit (the ticket kind's, from intake to the reply) ends in the "
            "period and has passed: the share replied by the time limit. A ticket reopened after "
            "“unsatisfied” counts by its latest reply; merged duplicates are left out."
        ),
    ),
    (_("Replied late"), _("Of the tickets due in the period: those replied after their time limit.")),
    (
        _("Satisfaction rate"),
        _(
            "Of the tickets rated in the period (their latest rating): the share rated “satisfied” or "
            "“basically satisfied”."
        ),
    ),
    (
        _("Overdue, open"),
        _(
            "Tickets received in the period that have no reply yet (waiting for dispatch, acceptance or "
            "a reply, or under supervision) and are past their time limit now."
        ),
    ),
    (_("Returned"), _("Tickets received in the period that a department returned at least once.")),
    (_("Reopened"), _("Tickets received in the period reopened at least once after “unsatisfied”.")),
    (
        _("Department, town"),
        _(
            "A ticket counts for the department that holds it now (the 12345 centre for tickets it "
            "answered itself or that wait for dispatch) and for the town its address is in."
        ),
    ),
)


@dataclass(frozen=True)
class Period:
    """Local days, first and last included."""

    first: datetime.date
    last: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first, datetime.time(), tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime.datetime:
        """The moment after the period (midnight after the last day)."""
        return datetime.datetime.combine(
            self.last + datetime.timedelta(days=1), datetime.time(), tzinfo=SHANGHAI
        )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class KpiRow:
    key: Any
    label: str
    received: int = 0
    merged: int = 0
    response_due: int = 0
    responded_in_time: int = 0
    resolution_due: int = 0
    resolved_in_time: int = 0
    replied_late: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue_open: int = 0
    returned: int = 0
    reopened: int = 0

    @property
    def response_rate(self) -> float | None:
        return _rate(self.responded_in_time, self.response_due)

    @property
    def resolution_rate(self) -> float | None:
        return _rate(self.resolved_in_time, self.resolution_due)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.rated)

    def add(self, other: KpiRow) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNTS = (
    "received",
    "merged",
    "response_due",
    "responded_in_time",
    "resolution_due",
    "resolved_in_time",
    "replied_late",
    "rated",
    "satisfied",
    "overdue_open",
    "returned",
    "reopened",
)


@dataclass
class KpiReport:
    period: Period
    now: datetime.datetime
    total: KpiRow
    by_department: list[KpiRow] = field(default_factory=list)
    by_town: list[KpiRow] = field(default_factory=list)
    by_week: list[KpiRow] = field(default_factory=list)


# --- the accept limit, as SQL ---------------------------------------------------------------


def _accept_limit_hours() -> float:
    limit = case_type_get(states.TICKET).state(states.ASSIGNED).limit
    if limit is None or limit.unit != "hours":
        raise ValueError("the hotline's accept limit must be counted in working hours")
    return float(limit.amount)


def _office_periods(
    first: datetime.date, last: datetime.date, calendar: WorkingDayCalendar, office: OfficeDay
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    zone = ZoneInfo(office.timezone)
    periods = []
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            for begin, end in office.periods:
                periods.append(
                    (
                        datetime.datetime.combine(day, begin, tzinfo=zone),
                        datetime.datetime.combine(day, end, tzinfo=zone),
                    )
                )
        day += datetime.timedelta(days=1)
    return periods


@dataclass(frozen=True)
class _Segment:
    """Dispatches in [start, end) are due at `fixed`, or at the dispatch + `offset`."""

    start: datetime.datetime
    end: datetime.datetime
    offset: datetime.timedelta | None = None
    fixed: datetime.datetime | None = None

    def due(self, moment: datetime.datetime) -> datetime.datetime:
        return self.fixed if self.fixed is not None else moment + self.offset


def accept_segments(
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    hours: float | None = None,
    calendar: WorkingDayCalendar | None = None,
    office: OfficeDay = DEFAULT_OFFICE_DAY,
) -> list[_Segment]:
    """The accept deadline (dispatch + N office hours of working days) as a piecewise function
    of the dispatch moment over [start, end): within an office period it is the dispatch
    plus a constant (N hours, or N hours plus the break when it runs into the next period);
    between periods it is a fixed moment (N hours into the next period). This is what lets
    the database count "accepted in time" with one CASE expression instead of a loop."""
    hours = _accept_limit_hours() if hours is None else hours
    calendar = calendar or WorkingDayCalendar()
    limit = datetime.timedelta(hours=hours)
    zone = ZoneInfo(office.timezone)
    first = start.astimezone(zone).date() - datetime.timedelta(days=20)  # before any holiday
    last = end.astimezone(zone).date() + datetime.timedelta(days=20)
    periods = _office_periods(first, last, calendar, office)
    if any(period_end - period_start < limit for period_start, period_end in periods):
        raise ValueError("the accept limit must not be longer than an office period")
    segments: list[_Segment] = []
    for (period_start, period_end), (next_start, _next_end) in zip(periods, periods[1:], strict=False):
        if next_start <= start or period_start >= end:
            continue
        gap = next_start - period_end
        segments += [
            _Segment(period_start, period_end - limit, offset=limit),
            _Segment(period_end - limit, period_end, offset=limit + gap),
            _Segment(period_end, next_start, fixed=next_start + limit),
        ]
    return [segment for segment in segments if segment.end > start and segment.start < end]


def accept_deadline(moment: datetime.datetime, segments: list[_Segment]) -> datetime.datetime:
    """The accept deadline of one dispatch (the same function in Python, for tests)."""
    index = bisect.bisect_right([segment.start for segment in segments], moment) - 1
    return segments[index].due(moment)


def _in_time_expression(segments: list[_Segment]) -> Case:
    """1 when the ticket was accepted by the accept deadline of its dispatch, else 0: a
    balanced tree of CASEs on the dispatch moment (a binary search, a few comparisons per
    row however long the period), with each segment's own test at the leaves."""
    if len(segments) == 1:
        segment = segments[0]
        deadline = segment.fixed if segment.fixed is not None else F("dispatched_at") + segment.offset
        return Case(
            When(accepted_at__lte=deadline, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    middle = len(segments) // 2
    return Case(
        When(dispatched_at__lt=segments[middle].start, then=_in_time_expression(segments[:middle])),
        default=_in_time_expression(segments[middle:]),
        output_field=IntegerField(),
    )


def _latest_due_dispatch(segments: list[_Segment], now: datetime.datetime) -> datetime.datetime | None:
    """The latest dispatch moment whose accept deadline has passed at `now`."""
    latest = None
    for segment in segments:
        if segment.fixed is not None:
            candidate = segment.end if segment.fixed <= now else None
        else:
            candidate = (
                min(segment.end, now - segment.offset) if now - segment.offset >= segment.start else None
            )
        if candidate is not None and (latest is None or candidate > latest):
            latest = candidate
    return latest


# --- the queries --------------------------------------------------------------------------------


def _mondays(period: Period) -> list[datetime.date]:
    monday = period.first - datetime.timedelta(days=period.first.weekday())
    mondays = []
    while monday <= period.last:
        mondays.append(monday)
        monday += datetime.timedelta(days=7)
    return mondays


def _week_index(date_field: str, starts: list[datetime.datetime], offset: int = 0) -> Case | Value:
    """The number of the week a moment falls in (0 = the week of the period's first day), as a
    balanced tree of CASEs on the week boundaries (plain comparisons, no per-row function)."""
    if len(starts) == 1:
        return Value(offset)
    middle = len(starts) // 2
    return Case(
        When(**{f"{date_field}__lt": starts[middle]}, then=_week_index(date_field, starts[:middle], offset)),
        default=_week_index(date_field, starts[middle:], offset + middle),
        output_field=IntegerField(),
    )


def _group(grouping: str, date_field: str, period: Period) -> Any:
    if grouping == "department":
        return F("case__department_id")
    if grouping == "town":
        return Substr("division_id", 1, TOWN_CODE_LENGTH)
    if grouping == "week":
        starts = [
            datetime.datetime.combine(day, datetime.time(), tzinfo=SHANGHAI) for day in _mondays(period)
        ]
        return _week_index(date_field, starts)
    if grouping == "all":
        return Value("all")
    raise ValueError(f"unknown grouping {grouping!r}")


def _grouped(
    queryset: QuerySet, groupings: tuple[str, ...], date_field: str, period: Period, **aggregates: Any
) -> dict[tuple, dict]:
    """One GROUP BY query: the aggregates per combination of the groupings' keys."""
    names = [f"group_{grouping}" for grouping in groupings]
    rows = (
        queryset.annotate(
            **{
                name: _group(grouping, date_field, period)
                for name, grouping in zip(names, groupings, strict=True)
            }
        )
        .values(*names)
        .annotate(**aggregates)
        .order_by()
    )
    mondays = _mondays(period)
    result = {}
    for row in rows:
        key = tuple(
            mondays[row.pop(name)] if grouping == "week" else row.pop(name)
            for name, grouping in zip(names, groupings, strict=True)
        )
        result[key] = row
    return result


@dataclass(frozen=True)
class _Response:
    """What the response rate needs, worked out once per period: the accept deadline as
    segments, and the latest dispatch whose accept limit has passed."""

    segments: list[_Segment]
    due_before: datetime.datetime | None


def _response(period: Period, now: datetime.datetime) -> _Response | None:
    bounds = (
        Ticket.objects.filter(
            received_at__gte=period.start, received_at__lt=period.end, dispatched_at__isnull=False
        )
        .order_by()
        .aggregate(first=Min("dispatched_at"), last=Max("dispatched_at"))
    )
    if bounds["first"] is None:
        return None
    segments = accept_segments(bounds["first"], bounds["last"] + datetime.timedelta(seconds=1))
    return _Response(segments, _latest_due_dispatch(segments, now))


def _figures(
    period: Period, groupings: tuple[str, ...], now: datetime.datetime, response: _Response | None
) -> list[tuple[tuple, dict]]:
    """The counts per combination of the groupings (department × town × week …): three
    GROUP BY queries, one per set of tickets (received, due, rated in the period); every
    figure is a count, so coarser groupings are sums of these rows."""
    start, end = period.start, period.end
    returned = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind="transition", transition="return")
    received = Ticket.objects.filter(received_at__gte=start, received_at__lt=end)
    accepting: dict[str, Any] = {}
    if response is not None:
        # Merged tickets were never dispatched (merging leaves from "awaiting dispatch" only).
        due = Q(dispatched_at__isnull=False) & (
            Q(accepted_at__isnull=False) | Q(dispatched_at__lte=response.due_before or start)
        )
        accepting = {
            "response_due": Count("pk", filter=due),
            "responded_in_time": Sum(
                _in_time_expression(response.segments), filter=due & Q(accepted_at__isnull=False)
            ),
        }
    cohort = _grouped(
        received,
        groupings,
        "received_at",
        period,
        received=Count("pk"),
        merged=Count("pk", filter=Q(case__state=states.MERGED)),
        overdue_open=Count("pk", filter=Q(case__state__in=NOT_REPLIED, case__case_deadline__lt=now)),
        returned=Count("pk", filter=Q(Exists(returned))),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
        **accepting,
    )
    due = _grouped(
        Ticket.objects.filter(case__case_deadline__gte=start, case__case_deadline__lt=min(end, now)).exclude(
            case__state=states.MERGED
        ),
        groupings,
        "case__case_deadline",
        period,
        resolution_due=Count("pk"),
        resolved_in_time=Count("pk", filter=Q(replied_at__lte=F("case__case_deadline"))),
        replied_late=Count("pk", filter=Q(replied_at__gt=F("case__case_deadline"))),
    )
    rated = _grouped(
        Ticket.objects.filter(rated_at__gte=start, rated_at__lt=end).exclude(rating=""),
        groupings,
        "rated_at",
        period,
        rated=Count("pk"),
        satisfied=Count("pk", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASICALLY_SATISFIED])),
    )
    return [*cohort.items(), *due.items(), *rated.items()]


def _roll_up(rows: list[tuple[tuple, dict]], position: int | None) -> dict[Any, KpiRow]:
    """Sum the fine rows by one part of their key (None: everything into one row)."""
    sums: dict[Any, dict[str, int]] = {}
    for key, values in rows:
        group = "all" if position is None else key[position]
        total = sums.get(group)
        if total is None:
            total = sums[group] = dict.fromkeys(COUNTS, 0)
        for name, value in values.items():
            total[name] += value or 0
    return {group: KpiRow(key=group, label="", **counts) for group, counts in sums.items()}


def _label_departments(rows: dict[Any, KpiRow]) -> list[KpiRow]:
    names = dict(Department.objects.filter(pk__in=list(rows)).values_list("pk", "short_name"))
    for key, row in rows.items():
        row.label = names.get(key) or "—"
    return sorted(rows.values(), key=lambda row: (-row.received, row.label))


def _label_towns(rows: dict[Any, KpiRow]) -> list[KpiRow]:
    towns = {
        code: (name, county)
        for code, name, county in Division.objects.filter(pk__in=list(rows)).values_list(
            "pk", "name", "parent__name"
        )
    }
    for key, row in rows.items():
        name, county = towns.get(key, ("—", ""))
        row.label = f"{county} {name}".strip()
    return sorted(rows.values(), key=lambda row: str(row.key))


def _weeks(period: Period, rows: dict[Any, KpiRow]) -> list[KpiRow]:
    for monday in _mondays(period):
        rows.setdefault(monday, KpiRow(key=monday, label=""))
    for key, row in rows.items():
        row.label = key.isoformat()
    return sorted(rows.values(), key=lambda row: row.key)


def _labelled(grouping: str, period: Period, rows: dict[Any, KpiRow]) -> list[KpiRow]:
    if grouping == "department":
        return _label_departments(rows)
    if grouping == "town":
        return _label_towns(rows)
    if grouping == "week":
        return _weeks(period, rows)
    raise ValueError(f"unknown grouping {grouping!r}")


def kpi_rows(*, period: Period, grouping: str, now: datetime.datetime | None = None) -> list[KpiRow]:
    """The figures of the period per department, per town or per week (Monday's date)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    now = now or timezone.now()
    rows = _figures(period, (grouping,), now, _response(period, now))
    return _labelled(grouping, period, _roll_up(rows, 0))


def kpi_report(*, period: Period, now: datetime.datetime | None = None) -> KpiReport:
    """The period's totals and its figures per department, town and week, from one set of
    queries grouped by department × town × week."""
    now = now or timezone.now()
    rows = _figures(period, GROUPINGS, now, _response(period, now))
    totals = _roll_up(rows, None).get("all") or KpiRow(key="all", label="")
    totals.key, totals.label = "all", str(_("All"))
    return KpiReport(
        period=period,
        now=now,
        total=totals,
        by_department=_labelled("department", period, _roll_up(rows, 0)),
        by_town=_labelled("town", period, _roll_up(rows, 1)),
        by_week=_labelled("week", period, _roll_up(rows, 2)),
    )
