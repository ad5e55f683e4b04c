"""A case type declared as data drives the cases: transitions, roles, notes, deadlines in
working days and hours (across National Day 2026), the timeline and the audit log."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile

from tests.cases.conftest import PERMIT, at
from yiwang.cases import selectors, services
from yiwang.cases.models import Case, CaseEvent, SlaStatus
from yiwang.cases.types import CaseType, Limit, State, Transition
from yiwang.core.audit import audit_verify
from yiwang.core.calendar import add_working_hours, working_hours_between
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def open_permit(staff, now=None, **extra) -> Case:
    return services.case_open(
        case_type=PERMIT.code,
        title="个体户开业许可",
        department=staff.department,
        actor=staff.handler,
        now=now or at(2026, 9, 30),
        subject_type="registry.person",
        subject_key="42",
        **extra,
    )


def test_a_case_type_with_a_mistake_is_refused_at_declaration():
    with pytest.raises(ValueError) as error:
        CaseType(
            code="broken",
            label="坏的",
            states=(State("a", "A"),),
            initial="a",
            transitions=(Transition("go", "走", sources=("a",), target="b", roles=("nobody",)),),
        )
    assert "unknown state 'b'" in str(error.value)
    assert "unknown role 'nobody'" in str(error.value)


def test_the_case_type_drives_the_transitions(staff):
    case = open_permit(staff)
    assert case.state == "received"
    assert case.reference.startswith(f"{datetime.date.today().year}-") or case.reference.startswith("2026-")
    assert len(case.reference.split("-")[1]) == 6
    assert [move.name for move in selectors.case_transitions_available(case=case, user=staff.handler)] == [
        "accept"
    ]

    case = services.case_transition(
        case=case, transition="accept", actor=staff.handler, expected_version=1, now=at(2026, 9, 30, 11)
    )
    assert (case.state, case.version) == ("reviewing", 2)
    with pytest.raises(FieldErrors) as error:
        services.case_transition(case=case, transition="refuse", actor=staff.colleague, expected_version=2)
    assert error.value.errors[0][0] == ("note",)
    case = services.case_transition(
        case=case, transition="approve", actor=staff.colleague, expected_version=2, note="材料齐全，准予许可"
    )
    assert case.state == "approved" and case.closed_at is not None and case.state_deadline is None
    assert selectors.case_transitions_available(case=case, user=staff.handler) == []


def test_a_transition_is_refused_to_the_wrong_role(staff):
    case = open_permit(staff)
    with pytest.raises(Forbidden) as error:
        services.case_transition(case=case, transition="press", actor=staff.handler, expected_version=1)
    assert "督办" in error.value.message
    # A supervisor may press, but not accept: that belongs to the department.
    with pytest.raises(Forbidden):
        services.case_transition(case=case, transition="accept", actor=staff.supervisor, expected_version=1)
    # A handler of another department does not even see the case.
    with pytest.raises(NotFound):
        services.case_transition(case=case, transition="accept", actor=staff.outsider, expected_version=1)
    # Nothing moved.
    case.refresh_from_db()
    assert (case.state, case.version) == ("received", 1)


def test_a_transition_from_the_wrong_state_or_an_old_version_is_a_conflict(staff):
    case = open_permit(staff)
    with pytest.raises(Conflict):
        services.case_transition(case=case, transition="approve", actor=staff.handler, expected_version=1)
    stale = Case.objects.get(pk=case.pk)
    services.case_transition(case=case, transition="accept", actor=staff.handler, expected_version=1)
    with pytest.raises(Conflict) as error:
        services.case_transition(case=stale, transition="accept", actor=staff.colleague, expected_version=1)
    assert case.reference in error.value.message


def test_deadline_in_working_days_across_national_day_2026(staff):
    # 30 September 2026, then the holiday 1-7 October: two working days are 8 and 9 October.
    case = open_permit(staff, now=at(2026, 9, 30, 10))
    assert case.state_deadline == at(2026, 10, 9, 17, 30)
    # The yellow warning at 80% of the 20 office hours: 6 on 30/9, 7 on 8/10, 3 on 9/10.
    assert case.state_warn_at == at(2026, 10, 9, 12, 0)
    # The case's own limit, 5 working days: 8, 9, 10 (a Saturday worked in exchange), 12, 13.
    assert case.case_deadline == at(2026, 10, 13, 17, 30)
    assert case.sla_status == SlaStatus.GREEN


def test_deadline_in_working_hours_skips_lunch_nights_and_the_holiday(staff):
    case = open_permit(staff, now=at(2026, 9, 30, 10))
    # Accepted at 16:00 on the eve of the holiday: 1.5 h that day, 2.5 h on 8 October.
    case = services.case_transition(
        case=case, transition="accept", actor=staff.handler, expected_version=1, now=at(2026, 9, 30, 16)
    )
    assert case.state_deadline == at(2026, 10, 8, 11, 30)
    assert add_working_hours(at(2026, 10, 8, 11), 2) == at(2026, 10, 8, 14, 30)  # lunch 12:00-13:30
    assert add_working_hours(at(2026, 10, 8, 20), 1) == at(2026, 10, 9, 10)  # after hours: next morning
    assert working_hours_between(at(2026, 9, 30, 9), at(2026, 10, 8, 17, 30)) == 14


def test_limit_unit_days_from_after_hours_counts_from_the_next_day():
    assert Limit(1, "days").due(at(2026, 9, 30, 20)) == at(2026, 10, 8, 17, 30)


def test_timeline_and_audit_are_complete(staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = open_permit(staff)
    case = services.case_transition(case=case, transition="accept", actor=staff.handler, expected_version=1)
    services.case_attach(
        case=case, actor=staff.handler, file=ContentFile(b"%PDF-1.4", name="现场照片.pdf"), note="现场核查"
    )
    case = services.case_assign(case=case, actor=staff.handler, assignee=staff.colleague, expected_version=2)
    services.case_add_participant(
        case=case, department=staff.outsider.roles.get().department, actor=staff.handler
    )
    case = services.case_transition(
        case=case, transition="approve", actor=staff.colleague, expected_version=3, note="准予"
    )
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))
    assert [event.kind for event in events] == [
        "opened",
        "transition",
        "attachment",
        "assigned",
        "participant_added",
        "transition",
    ]
    assert [event.actor_label for event in events] == ["handler"] * 5 + ["colleague"]
    assert (events[1].from_state, events[1].to_state) == ("received", "reviewing")
    assert events[-1].note == "准予"
    assert events[2].attachment.name.startswith(f"cases/{case.reference}/")
    assert (tmp_path / events[2].attachment.name).read_bytes() == b"%PDF-1.4"
    actions = list(
        AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "case.open",
        "case.transition",
        "case.attach",
        "case.assign",
        "case.add_participant",
        "case.transition",
    ]
    # The co-handling department's handler now sees the case.
    assert selectors.case_queue(user=staff.outsider, open_only=False).filter(pk=case.pk).exists()
    checked, problems = audit_verify()
    assert checked >= 6 and problems == []


def test_reference_numbers_are_unique_and_sequential(staff):
    references = [open_permit(staff).reference for _ in range(3)]
    numbers = [int(reference.split("-")[1]) for reference in references]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_sub_case_of_a_bundle_moves_its_parent_through_the_hook(staff):
    """What applications (bundles, issue 6) build on: parent and sub-cases, a per-case limit
    and an after_transition hook that runs in the same transaction."""
    from yiwang.cases.types import case_type_register

    def advance_parent(*, case, transition, actor, note):
        if case.parent_id and transition == "approve":
            parent = Case.objects.get(pk=case.parent_id)
            if not parent.children.filter(closed_at__isnull=True).exists():
                services.case_transition(
                    case=parent,
                    transition="accept",
                    actor=actor,
                    expected_version=parent.version,
                    note="子件全部办结",
                )

    bundle_type = case_type_register(
        CaseType(
            code="test.bundle",
            label="一件事",
            states=(State("received", "已收件"), State("reviewing", "审查中")),
            initial="received",
            transitions=(
                Transition(
                    "accept", "受理", sources=("received",), target="reviewing", roles=("department_handler",)
                ),
            ),
        ),
        replace=True,
    )
    from dataclasses import replace

    hooked = case_type_register(
        replace(PERMIT, code="test.permit.hooked", after_transition=advance_parent), replace=True
    )
    parent = services.case_open(
        case_type=bundle_type.code, title="不动产转移登记", department=staff.department, actor=staff.handler
    )
    children = [
        services.case_open(
            case_type=hooked.code,
            title=title,
            department=staff.department,
            actor=staff.handler,
            parent=parent,
            case_limit=Limit(1, "days"),
            now=at(2026, 9, 30),
        )
        for title in ("交易备案", "税款缴纳")
    ]
    assert children[0].case_deadline == at(2026, 10, 8, 17, 30)
    for child in children:
        child = services.case_transition(
            case=child, transition="accept", actor=staff.handler, expected_version=1
        )
        services.case_transition(case=child, transition="approve", actor=staff.handler, expected_version=2)
        parent.refresh_from_db()
    assert parent.state == "reviewing"
    assert parent.events.get(kind="transition").note == "子件全部办结"


def test_an_escalation_transition_must_leave_the_escalated_state():
    from yiwang.cases.types import Escalation

    with pytest.raises(ValueError, match="does not leave"):
        CaseType(
            code="broken.escalation",
            label="坏的",
            states=(State("a", "A"), State("b", "B")),
            initial="a",
            transitions=(Transition("up", "升级", sources=("b",), target="a", system=True),),
            escalations=(Escalation("late", state="a", transition="up"),),
        )


def test_an_oversize_attachment_is_refused_and_nothing_moves(staff, monkeypatch):
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 10)
    case = open_permit(staff)
    with pytest.raises(FieldErrors) as error:
        services.case_transition(
            case=case,
            transition="accept",
            actor=staff.handler,
            expected_version=1,
            attachment=ContentFile(b"x" * 11, name="big.pdf"),
        )
    assert error.value.errors[0][0] == ("attachment",)
    case.refresh_from_db()
    assert case.state == "received" and not CaseEvent.objects.filter(case=case, kind="transition").exists()
