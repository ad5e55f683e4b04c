"""The SLA sweep with a frozen clock across National Day 2026: yellow, red, and each
escalation rule once per stay in a state, however many times the sweep runs."""

from __future__ import annotations

import pytest

from tests.cases.conftest import PERMIT, at
from yiwang.cases import services
from yiwang.cases.models import Case, CaseEvent, EscalationLog, Notification, SlaStatus, Task
from yiwang.cases.taskqueue import tasks_run_pending
from yiwang.core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


def open_permit(staff) -> Case:
    return services.case_open(
        case_type=PERMIT.code,
        title="占道经营许可",
        department=staff.department,
        actor=staff.handler,
        now=at(2026, 9, 30, 10),
    )


def test_sweep_marks_yellow_then_red_and_escalates_once(staff):
    case = open_permit(staff)
    # Deadline 9 October 17:30, warning at 12:00 (80% of the office hours allowed).
    assert services.case_sla_sweep(now=at(2026, 10, 9, 11)).yellow == []
    result = services.case_sla_sweep(now=at(2026, 10, 9, 12, 30))
    assert result.yellow == [case.reference] and result.red == [] and result.escalated == []
    assert services.case_sla_sweep(now=at(2026, 10, 9, 12, 40)).yellow == []  # twice: once

    result = services.case_sla_sweep(now=at(2026, 10, 9, 18))
    assert result.red == [case.reference]
    assert result.escalated == [(case.reference, "late_receipt")]
    again = services.case_sla_sweep(now=at(2026, 10, 9, 18, 5))
    assert (again.red, again.escalated) == ([], [])
    case.refresh_from_db()
    assert case.sla_status == SlaStatus.RED
    assert case.version == 1  # the sweep never takes a handler's version away

    # One day overdue: Saturday 10 October is a working day (调休), so it fires that evening.
    assert services.case_sla_sweep(now=at(2026, 10, 10, 17)).escalated == []
    assert services.case_sla_sweep(now=at(2026, 10, 10, 17, 45)).escalated == [
        (case.reference, "very_late_receipt")
    ]
    assert services.case_sla_sweep(now=at(2026, 10, 12, 9)).escalated == []

    assert list(EscalationLog.objects.filter(case=case).values_list("rule", flat=True).order_by("id")) == [
        "late_receipt",
        "very_late_receipt",
    ]
    assert list(Notification.objects.filter(case=case).values_list("role", flat=True).order_by("id")) == [
        Role.SUPERVISOR,
        Role.CITY_LEADER,
    ]
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True).order_by("id"))
    assert kinds == ["opened", "warning", "overdue", "escalated", "escalated"]
    audit = list(
        AuditEntry.objects.filter(object_id=str(case.pk), object_type="cases.case").values_list(
            "action", flat=True
        )
    )
    assert audit == ["case.open", "case.sla_yellow", "case.sla_red", "case.escalate", "case.escalate"]
    # Each notification went through the task queue, once.
    assert Task.objects.filter(name="cases.notify").count() == 2
    assert tasks_run_pending(worker="test") == 2
    assert tasks_run_pending(worker="test") == 0


def test_a_new_state_restarts_its_time_limit(staff):
    case = open_permit(staff)
    services.case_sla_sweep(now=at(2026, 10, 9, 18))
    # The supervisor presses the case into review; its hours limit starts again.
    case = services.case_transition(
        case=case, transition="press", actor=staff.supervisor, expected_version=1, now=at(2026, 10, 12, 9)
    )
    assert case.state == "reviewing" and case.state_deadline == at(2026, 10, 12, 14, 30)
    # The new state's 4 working hours (9:00-12:00, 13:30-14:30) and the case's own 5 working
    # days (to 13 October) are both ahead: green again, until the next sweep finds otherwise.
    assert case.sla_status == SlaStatus.GREEN
    assert services.case_sla_sweep(now=at(2026, 10, 12, 15)).red == [case.reference]


def test_closed_cases_are_not_swept(staff):
    case = open_permit(staff)
    case = services.case_transition(
        case=case, transition="accept", actor=staff.handler, expected_version=1, now=at(2026, 9, 30, 11)
    )
    services.case_transition(
        case=case, transition="approve", actor=staff.handler, expected_version=2, now=at(2026, 9, 30, 12)
    )
    result = services.case_sla_sweep(now=at(2026, 12, 1))
    assert (result.yellow, result.red, result.escalated) == ([], [], [])


def test_the_tasks_command_runs_the_periodic_sweep_once_per_slot(staff, capsys):
    from django.core.management import call_command

    open_permit(staff)  # opened 30 September 2026: long overdue by the real clock
    call_command("tasks", "run-pending")
    assert "tasks_ran=" in capsys.readouterr().out
    sweeps = Task.objects.filter(name="cases.sla_sweep")
    assert sweeps.count() == 1 and sweeps.get().state == "done"
    call_command("tasks", "run-pending")  # same five-minute slot: not scheduled again
    assert sweeps.count() == 1


def test_the_supervisor_sees_the_escalation_on_the_queue_page(staff, client):
    case = open_permit(staff)
    services.case_sla_sweep(now=at(2026, 10, 9, 18))
    client.force_login(staff.supervisor)
    page = client.get("/cases/overdue/").content.decode()
    assert 'id="case-notifications"' in page and case.reference in page
    client.force_login(staff.handler)
    assert 'id="case-notifications"' not in client.get("/cases/").content.decode()


def test_a_case_closed_after_its_deadline_stays_red(staff):
    case = open_permit(staff)  # case deadline 13 October 2026 17:30
    case = services.case_transition(
        case=case, transition="accept", actor=staff.handler, expected_version=1, now=at(2026, 10, 8, 9)
    )
    case = services.case_transition(
        case=case, transition="approve", actor=staff.handler, expected_version=2, now=at(2026, 10, 14, 9)
    )
    assert case.closed_at is not None and case.sla_status == SlaStatus.RED
