"""The working-day calendar (工作日): State Council holiday notices via chinese-calendar,
admin overrides (CalendarOverride) on top, and weekends-only for years the package does
not cover yet. It never raises for an uncovered year; `calendar_coverage()` tells admins.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Coverage:
    first_year: int
    last_year: int
    package_version: str

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


@lru_cache(maxsize=1)
def calendar_coverage() -> Coverage:
    """Which years the installed chinese-calendar knows from State Council notices."""
    from importlib.metadata import version

    years = sorted(
        {day.year for day in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    )
    # The package lists only dates that differ from the weekend rule; the span is what it covers.
    return Coverage(years[0], years[-1], version("chinese-calendar"))


def _overrides(year: int) -> dict[datetime.date, bool]:
    return _overrides_cached(year, _override_version())


def _override_version() -> tuple:
    """Cheap cache key: overrides change rarely; count + max id identifies a state."""
    from django.db.models import Count, Max

    from yiwang.core.models import CalendarOverride

    state = CalendarOverride.objects.aggregate(n=Count("id"), last=Max("id"))
    return (state["n"], state["last"])


@lru_cache(maxsize=64)
def _overrides_cached(year: int, version: tuple) -> dict[datetime.date, bool]:
    from yiwang.core.models import CalendarOverride

    rows = CalendarOverride.objects.filter(date__year=year).values_list("date", "is_working_day")
    return dict(rows)


class WorkingDayCalendar:
    """One calendar snapshot: the overrides are read once per year touched."""

    def __init__(self) -> None:
        self.coverage = calendar_coverage()
        self._year_overrides: dict[int, dict[datetime.date, bool]] = {}

    def _override(self, day: datetime.date) -> bool | None:
        if day.year not in self._year_overrides:
            self._year_overrides[day.year] = _overrides(day.year)
        return self._year_overrides[day.year].get(day)

    def is_working_day(self, day: datetime.date) -> bool:
        override = self._override(day)
        if override is not None:
            return override
        if self.coverage.covers(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: datetime.date, days: int) -> datetime.date:
        """The date `days` working days after `start` (before it when negative). Day 0 is
        `start` itself if it is a working day, else the next working day."""
        step = ONE_DAY if days >= 0 else -ONE_DAY
        day = start
        if days == 0:
            while not self.is_working_day(day):
                day += ONE_DAY
            return day
        remaining = abs(days)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in the half-open interval (start, end]: the days a case waited.
        Negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start + ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count


def is_working_day(day: datetime.date) -> bool:
    return WorkingDayCalendar().is_working_day(day)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    return WorkingDayCalendar().add_working_days(start, days)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    return WorkingDayCalendar().working_days_between(start, end)


def uncovered_years(years: list[int]) -> list[int]:
    """Years among `years` the package does not cover: shown as a plain warning to admins."""
    coverage = calendar_coverage()
    return [year for year in years if not coverage.covers(year)]


# --- Working hours (工作时间): the office day, for time limits counted in hours -------------


@dataclass(frozen=True)
class OfficeDay:
    """The office hours of a working day, as (start, end) local times, e.g. 9:00-12:00 and
    13:30-17:30 in Asia/Shanghai (the default). Hours outside them do not count."""

    periods: tuple[tuple[datetime.time, datetime.time], ...] = (
        (datetime.time(9, 0), datetime.time(12, 0)),
        (datetime.time(13, 30), datetime.time(17, 30)),
    )
    timezone: str = "Asia/Shanghai"

    @property
    def hours(self) -> float:
        seconds = sum(
            (
                datetime.datetime.combine(datetime.date.min, end)
                - datetime.datetime.combine(datetime.date.min, start)
            ).total_seconds()
            for start, end in self.periods
        )
        return seconds / 3600

    def close(self, day: datetime.date) -> datetime.datetime:
        """The end of the office day `day` (an aware datetime)."""
        from zoneinfo import ZoneInfo

        return datetime.datetime.combine(day, self.periods[-1][1], tzinfo=ZoneInfo(self.timezone))


DEFAULT_OFFICE_DAY = OfficeDay()


def _office_periods(calendar: WorkingDayCalendar, day: datetime.date, office: OfficeDay):
    from zoneinfo import ZoneInfo

    if not calendar.is_working_day(day):
        return []
    zone = ZoneInfo(office.timezone)
    return [
        (datetime.datetime.combine(day, start, tzinfo=zone), datetime.datetime.combine(day, end, tzinfo=zone))
        for start, end in office.periods
    ]


def add_working_hours(
    start: datetime.datetime,
    hours: float,
    *,
    office: OfficeDay = DEFAULT_OFFICE_DAY,
    calendar: WorkingDayCalendar | None = None,
) -> datetime.datetime:
    """The moment `hours` office hours after `start` (an aware datetime), counting only the
    office periods of working days. A start outside office hours counts from the next period."""
    from zoneinfo import ZoneInfo

    calendar = calendar or WorkingDayCalendar()
    remaining = datetime.timedelta(hours=hours)
    moment = start.astimezone(ZoneInfo(office.timezone))
    day = moment.date()
    for _ in range(3660):  # ten years of days: a hard stop, never reached by real limits
        for period_start, period_end in _office_periods(calendar, day, office):
            if period_end <= moment:
                continue
            begin = max(moment, period_start)
            available = period_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += ONE_DAY
    raise ValueError(f"{hours} working hours do not fit in ten years")


def working_hours_between(
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    office: OfficeDay = DEFAULT_OFFICE_DAY,
    calendar: WorkingDayCalendar | None = None,
) -> float:
    """Office hours of working days between two aware datetimes (negative if end < start)."""
    from zoneinfo import ZoneInfo

    if end < start:
        return -working_hours_between(end, start, office=office, calendar=calendar)
    calendar = calendar or WorkingDayCalendar()
    zone = ZoneInfo(office.timezone)
    start, end = start.astimezone(zone), end.astimezone(zone)
    total = datetime.timedelta()
    day = start.date()
    while day <= end.date():
        for period_start, period_end in _office_periods(calendar, day, office):
            overlap = min(end, period_end) - max(start, period_start)
            if overlap > datetime.timedelta():
                total += overlap
        day += ONE_DAY
    return total.total_seconds() / 3600
