"""The screenings at their legal cadence on the core working-day calendar, with the date
frozen (relapse_tick(now=…)): 医保 in the last 5 working days of the month — September 2026
ends with the Mid-Autumn holiday (Fri 09-25) inside that window —, 应急管理 every working day and
on each disaster batch, 交警 in real time on each accident batch; each slot runs once."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.relapse.conftest import claim, members_of, push
from yiwang.cases.models import Task
from yiwang.cases.taskqueue import PERIODIC, periodic_schedule, tasks_run_pending
from yiwang.relapse.models import FeedMark, ScreeningRun, Warning
from yiwang.relapse.tasks import last_working_days, medical_due, relapse_tick

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def test_the_last_five_working_days_skip_the_holiday_and_the_weekend():
    assert last_working_days(2026, 9) == [
        datetime.date(2026, 9, 23),
        datetime.date(2026, 9, 24),
        datetime.date(2026, 9, 28),
        datetime.date(2026, 9, 29),
        datetime.date(2026, 9, 30),
    ]
    assert not medical_due(datetime.date(2026, 9, 22))  # the sixth-last working day
    assert not medical_due(datetime.date(2026, 9, 25))  # 中秋节, a Friday
    assert not medical_due(datetime.date(2026, 9, 27))  # a Sunday
    assert medical_due(datetime.date(2026, 9, 23))
    # December 2026 has no holiday at its end: the plain last five weekdays.
    assert last_working_days(2026, 12)[0] == datetime.date(2026, 12, 25)


def test_the_medical_screening_runs_once_in_the_window(city):
    household = city.household(members=1)
    push("yb.self_pay_claims", [claim("S1", members_of(household)[0], "16000.00", datetime.date(2026, 6, 1))])
    assert "relapse.medical" not in relapse_tick(now=at(datetime.date(2026, 9, 22)))
    assert not Warning.objects.filter(source="medical").exists()
    assert relapse_tick(now=at(datetime.date(2026, 9, 23)))["relapse.medical"] == 1
    assert "relapse.medical" not in relapse_tick(now=at(datetime.date(2026, 9, 24)))  # the month's slot ran
    assert "relapse.medical" not in relapse_tick(now=at(datetime.date(2026, 9, 25)))  # a holiday
    assert ScreeningRun.objects.filter(rule_code="relapse.medical").count() == 1
    warning = Warning.objects.get(source="medical")
    assert (warning.period, warning.raised_on) == ("2026-09", datetime.date(2026, 9, 23))
    assert relapse_tick(now=at(datetime.date(2026, 10, 26)))["relapse.medical"] == 1  # October: again


def test_a_disaster_is_warned_on_ingest_and_not_again_by_the_daily_screening(city):
    household = city.household(members=2)
    head = members_of(household)[0]
    relapse_tick(now=at(datetime.date(2026, 9, 21)))  # nothing yet
    push(
        "yjgl.disaster_losses",
        [
            {
                "report_no": "ZH-T1",
                "id_number": head,
                "disaster_type": "洪涝",
                "occurred_on": "2026-09-18",
                "house_damaged": True,
                "loss_amount": "10000.00",
                "assessor": "核灾组",
                "response_level": 4,
                "labourer_died": False,
            }
        ],
    )
    ran = relapse_tick(now=at(datetime.date(2026, 9, 22)))
    assert ran["relapse.disaster"] == 1
    run = ScreeningRun.objects.get(rule_code="relapse.disaster", trigger="ingest")
    assert run.subjects == 1  # only the household the batch touched was screened
    assert relapse_tick(now=at(datetime.date(2026, 9, 23))).get("relapse.disaster", 0) == 0
    # October: still within 15 working days of the disaster, but warned already.
    assert relapse_tick(now=at(datetime.date(2026, 10, 9))).get("relapse.disaster", 0) == 0
    assert Warning.objects.filter(source="disaster").count() == 1


def test_an_accident_is_warned_in_real_time(city):
    household = city.household(members=3)
    head = members_of(household)[0]
    today = datetime.date(2026, 11, 24)
    relapse_tick(now=at(today))
    push(
        "gajj.traffic_accidents",
        [
            {
                "accident_no": "JJ-T1",
                "id_number": head,
                "occurred_on": "2026-11-24",
                "severity": "死亡",
                "injured": True,
                "liability": "次要责任",
                "location": "某路段",
                "labourer_died": True,
                "economic_loss": "3000.00",
            }
        ],
    )
    ran = relapse_tick(now=at(today, 11))
    assert ran["relapse.accident"] == 1
    warning = Warning.objects.get(source="accident")
    assert warning.household == household and warning.run.trigger == "ingest"
    assert FeedMark.objects.get(resource_code="gajj.traffic_accidents").last_batch_id > 0
    assert relapse_tick(now=at(today, 12)).get("relapse.accident", 0) == 0


def test_the_tick_is_a_periodic_task_of_the_cases_runner(city):
    assert "relapse.tick" in PERIODIC
    periodic_schedule()
    periodic_schedule()  # the same slot: queued once
    assert Task.objects.filter(name="relapse.tick").count() == 1
    tasks_run_pending()
    assert Task.objects.get(name="relapse.tick").state == "done"


def test_an_accident_batch_queues_its_screening_on_ingest(city, django_capture_on_commit_callbacks):
    household = city.household(members=2)
    with django_capture_on_commit_callbacks(execute=True):
        push(
            "gajj.traffic_accidents",
            [
                {
                    "accident_no": "JJ-L1",
                    "id_number": members_of(household)[0],
                    "occurred_on": datetime.date.today().isoformat(),
                    "severity": "重伤",
                    "injured": True,
                    "liability": "无责任",
                    "location": "某路段",
                    "labourer_died": False,
                    "economic_loss": "20000.00",
                }
            ],
        )
    assert Task.objects.filter(name="relapse.sweep").count() == 1
    assert not Warning.objects.exists()
    tasks_run_pending()
    warning = Warning.objects.get()
    assert (warning.household, warning.source, warning.run.trigger) == (household, "accident", "ingest")


def test_an_accident_batch_before_the_rule_is_in_force_waits_for_it(city, django_capture_on_commit_callbacks):
    from yiwang.relapse.services import feed_sweep
    from yiwang.rules.models import RuleVersion

    in_force = RuleVersion.objects.get(rule__code="relapse.accident", status="published")
    RuleVersion.objects.filter(pk=in_force.pk).update(status="retired")  # e.g. the exchange seeded first
    household = city.household(members=1)
    with django_capture_on_commit_callbacks(execute=True):
        push(
            "gajj.traffic_accidents",
            [
                {
                    "accident_no": "JJ-W1",
                    "id_number": members_of(household)[0],
                    "occurred_on": datetime.date.today().isoformat(),
                    "severity": "死亡",
                    "injured": True,
                    "liability": "无责任",
                    "location": "某路段",
                    "labourer_died": True,
                    "economic_loss": "0.00",
                }
            ],
        )
    tasks_run_pending()
    assert Task.objects.get(name="relapse.sweep").state == "done"  # nothing failed
    assert not Warning.objects.exists()
    RuleVersion.objects.filter(pk=in_force.pk).update(status="published")
    assert feed_sweep(resource_code="gajj.traffic_accidents") is not None  # the batch was kept for it
    assert Warning.objects.get().household == household
