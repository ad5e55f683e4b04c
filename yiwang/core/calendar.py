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
