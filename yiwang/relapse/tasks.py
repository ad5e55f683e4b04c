"""The screenings at their legal cadence, on the cases engine's task runner:

- 医保 (relapse.medical): monthly, in the last 5 working days of each month (the core
  working-day calendar: holidays and 调休 counted). The first tick inside that window runs the
  month's screening once (slot "relapse.medical@YYYY-MM").
- 应急管理 (relapse.disaster): every working day (slot per day) over the last 15 working days,
  and on every new batch of the disaster feed — so each disaster is pushed well within 15
  working days of it.
- 公安交警 (relapse.accident): real time — every new batch of the accident feed is screened for
  the households it touches (the tick runs every minute; FeedMark remembers how far it got).

`relapse_tick(now=…)` is what the periodic task runs; tests call it with a frozen date."""

from __future__ import annotations

import datetime
import logging
from datetime import timedelta

from django.utils import timezone

from yiwang.cases.taskqueue import periodic_register, task_register
from yiwang.core.calendar import WorkingDayCalendar

logger = logging.getLogger(__name__)

TICK_EVERY = timedelta(minutes=1)
MEDICAL_PUSH_DAYS = 5


def last_working_days(year: int, month: int, count: int = MEDICAL_PUSH_DAYS) -> list[datetime.date]:
    """The last `count` working days of a month, in order."""
    calendar = WorkingDayCalendar()
    if month == 12:
        day = datetime.date(year + 1, 1, 1) - datetime.timedelta(days=1)
    else:
        day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
    found: list[datetime.date] = []
    while len(found) < count and day.month == month:
        if calendar.is_working_day(day):
            found.append(day)
        day -= datetime.timedelta(days=1)
    return sorted(found)


def medical_due(on: datetime.date) -> bool:
    """Is `on` one of the last 5 working days of its month?"""
    return on in last_working_days(on.year, on.month)


def relapse_tick(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """One tick of the schedule; what ran (rule → warnings created)."""
    from yiwang.relapse.models import ScreeningRun
    from yiwang.relapse.services import FEED_RULES, feed_sweep, screen

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    ran: dict[str, int] = {}
    for resource_code in FEED_RULES:
        while True:  # every batch since the mark, 200 at a time
            run = feed_sweep(resource_code=resource_code, on=today)
            if run is None:
                break
            ran[run.rule_code] = ran.get(run.rule_code, 0) + run.created
    calendar = WorkingDayCalendar()
    if calendar.is_working_day(today):
        slot = f"relapse.disaster@{today.isoformat()}"
        if not ScreeningRun.objects.filter(slot=slot, finished_at__isnull=False).exists():
            run = screen(rule_code="relapse.disaster", on=today, trigger="schedule", slot=slot)
            ran["relapse.disaster"] = ran.get("relapse.disaster", 0) + run.created
    if medical_due(today):
        slot = f"relapse.medical@{today:%Y-%m}"
        if not ScreeningRun.objects.filter(slot=slot, finished_at__isnull=False).exists():
            run = screen(rule_code="relapse.medical", on=today, trigger="schedule", slot=slot)
            ran["relapse.medical"] = run.created
    return ran


@task_register("relapse.tick")
def tick() -> None:
    from yiwang.rules.models import Rule

    if not Rule.objects.filter(code__startswith="relapse.").exists():
        return  # the rules are not loaded (yiwang relapse_seed / relapse load): nothing to run
    ran = relapse_tick()
    if ran:
        logger.info("relapse screening: %s", ran)


@task_register("relapse.screen")
def screen_task(*, rule: str, on: str) -> None:
    """An on-demand screening queued from the page or the API."""
    from yiwang.relapse.services import screen

    screen(rule_code=rule, on=datetime.date.fromisoformat(on), trigger="demand")


@task_register("relapse.sweep")
def sweep_task(*, resource_code: str) -> None:
    """Screen the households a feed's new batches touched (queued on ingest)."""
    from yiwang.relapse.services import feed_sweep

    while feed_sweep(resource_code=resource_code) is not None:
        pass


def on_ingest(*, resource, batch_id: int, keys: list[str]) -> None:
    """The exchange's ingest listener: a batch of the accident or disaster feed queues its
    screening at once (real time); the tick's sweep is the safety net."""
    from yiwang.cases.taskqueue import task_enqueue
    from yiwang.relapse.services import FEED_RULES

    if resource.code in FEED_RULES and keys:
        task_enqueue(
            "relapse.sweep",
            {"resource_code": resource.code},
            unique_key=f"relapse.sweep@{resource.code}@{batch_id}",
        )


periodic_register("relapse.tick", every=TICK_EVERY)
