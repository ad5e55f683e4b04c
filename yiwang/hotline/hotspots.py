"""Hotspots (热点): clusters of tickets about one topic (the ticket's category) in one area (its
town, 乡镇/街道) over equal periods (7 days by default), with their trend: the last period
against the one before, rising clusters first.

Periods run backwards from a last day: the last period is the `days` days ending on it (local
days, Asia/Shanghai), the one before the `days` days before those, and so on. Every ticket
received counts, duplicates merged into another ticket included (each is a citizen's call
about the problem); tickets not yet classified form their own topic. One GROUP BY query,
whatever the number of tickets."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, IntegerField, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from yiwang.core.models import Division
from yiwang.hotline.models import Category, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOWN_CODE_LENGTH = 9
PERIOD_DAYS = 7
PERIODS = 8
MIN_TICKETS = 2
LIMIT = 100


@dataclass
class Hotspot:
    category_id: int | None
    topic: str
    town_code: str
    area: str
    counts: list[int]  # oldest period first, the last period at the end

    @property
    def current(self) -> int:
        return self.counts[-1]

    @property
    def previous(self) -> int:
        return self.counts[-2] if len(self.counts) > 1 else 0

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def rising(self) -> bool:
        return self.change > 0

    @property
    def change_text(self) -> str:
        if self.previous == 0 and self.current > 0:
            return _("new")
        if self.change == 0:
            return "±0"
        percent = round(100 * self.change / self.previous)
        return f"{self.change:+d} ({percent:+d}%)"


@dataclass
class HotspotResult:
    last_day: datetime.date
    days: int
    periods: list[tuple[datetime.date, datetime.date]]  # (first day, last day), oldest first
    hotspots: list[Hotspot] = field(default_factory=list)


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=SHANGHAI)


def hotspots(
    *,
    last_day: datetime.date,
    days: int = PERIOD_DAYS,
    periods: int = PERIODS,
    minimum: int = MIN_TICKETS,
    limit: int = LIMIT,
) -> HotspotResult:
    """Topic × town clusters with at least `minimum` tickets in the last period or the one
    before it, rising first (the largest increase, then the most tickets now)."""
    if days < 1 or periods < 2:
        raise ValueError("hotspots need periods of at least a day, and at least two of them")
    bounds = []
    for index in range(periods):  # 0 = the last period
        last = last_day - datetime.timedelta(days=index * days)
        first = last - datetime.timedelta(days=days - 1)
        bounds.append((first, last))
    bounds.reverse()
    start = _midnight(bounds[0][0])
    end = _midnight(last_day + datetime.timedelta(days=1))
    # The period of each ticket, numbered from the oldest (0) to the last (periods - 1).
    period = Case(
        *[
            When(received_at__gte=_midnight(first), then=Value(number))
            for number, (first, _last) in reversed(list(enumerate(bounds)))
        ],
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = (
        Ticket.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(town=Substr("division_id", 1, TOWN_CODE_LENGTH), period=period)
        .values("category_id", "town", "period")
        .annotate(tickets=Count("pk"))
        .order_by()
    )
    clusters: dict[tuple[Any, str], list[int]] = {}
    for row in rows:
        counts = clusters.setdefault((row["category_id"], row["town"]), [0] * periods)
        counts[row["period"]] += row["tickets"]
    clusters = {key: counts for key, counts in clusters.items() if max(counts[-1], counts[-2]) >= minimum}
    topics = dict(
        Category.objects.filter(pk__in={category for category, _town in clusters}).values_list("pk", "name")
    )
    towns = {
        code: f"{county} {name}".strip()
        for code, name, county in Division.objects.filter(
            pk__in={town for _category, town in clusters}
        ).values_list("pk", "name", "parent__name")
    }
    found = [
        Hotspot(
            category_id=category,
            topic=topics.get(category) or _("Not yet classified"),
            town_code=town,
            area=towns.get(town, town),
            counts=counts,
        )
        for (category, town), counts in clusters.items()
    ]
    found.sort(key=lambda spot: (-spot.change, -spot.current, spot.topic, spot.town_code))
    return HotspotResult(last_day=last_day, days=days, periods=bounds, hotspots=found[:limit])
