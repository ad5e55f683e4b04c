"""Cases API: my queue, one case with its timeline, take a transition, assign. Thin: shapes
in, services and selectors do the work."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from yiwang.cases import selectors, services
from yiwang.cases.models import Case
from yiwang.cases.taskqueue import runner_wake
from yiwang.core.errors import FieldErrors
from yiwang.core.models import Department, User

router = Router(tags=["cases"])


class CaseOut(Schema):
    id: int
    reference: str
    type_code: str
    title: str
    state: str
    state_label: str
    department: str
    department_id: int
    assignee: str | None
    sla_status: str
    version: int
    opened_at: datetime.datetime
    state_deadline: datetime.datetime | None
    case_deadline: datetime.datetime | None
    closed_at: datetime.datetime | None
    subject_type: str
    subject_key: str

    @staticmethod
    def resolve_state_label(obj: Case) -> str:
        return selectors.case_state_label(obj)

    @staticmethod
    def resolve_department(obj: Case) -> str:
        return obj.department.name

    @staticmethod
    def resolve_assignee(obj: Case) -> str | None:
        return obj.assignee.username if obj.assignee else None


class EventOut(Schema):
    at: datetime.datetime
    actor: str
    kind: str
    transition: str
    from_state: str
    to_state: str
    note: str
    attachment: str | None

    @staticmethod
    def resolve_actor(obj) -> str:
        return obj.actor_label

    @staticmethod
    def resolve_attachment(obj) -> str | None:
        return obj.attachment.name if obj.attachment else None


class TransitionOut(Schema):
    name: str
    label: str
    note_required: bool

    @staticmethod
    def resolve_label(obj) -> str:
        return str(obj.label)


class CaseDetailOut(CaseOut):
    data: dict
    timeline: list[EventOut]
    transitions: list[TransitionOut]


class TransitionIn(Schema):
    transition: str
    expected_version: int
    note: str = ""


class AssignIn(Schema):
    expected_version: int
    department_id: int | None = None
    assignee_username: str | None = None
    note: str = ""


def _detail(case: Case, user) -> Case:
    case.timeline = selectors.case_timeline(case=case)
    case.transitions = selectors.case_transitions_available(case=case, user=user)
    return case


@router.get("/", response=list[CaseOut])
def case_list(request, state: str = "", sla_status: str = "", include_closed: bool = False, limit: int = 200):
    """My queue: cases of my departments, co-handled by them, or assigned to me."""
    runner_wake()
    cases = selectors.case_queue(
        user=request.auth, state=state, sla_status=sla_status, open_only=not include_closed
    )
    return list(cases[: max(1, min(limit, 1000))])


@router.get("/{case_id}", response=CaseDetailOut)
def case_detail(request, case_id: int):
    return _detail(selectors.case_for_user(case_id=case_id, user=request.auth), request.auth)


@router.post("/{case_id}/transitions", response=CaseDetailOut)
def case_transition(request, case_id: int, payload: TransitionIn):
    case = selectors.case_for_user(case_id=case_id, user=request.auth)
    case = services.case_transition(
        case=case,
        transition=payload.transition,
        actor=request.auth,
        expected_version=payload.expected_version,
        note=payload.note,
    )
    return _detail(case, request.auth)


@router.post("/{case_id}/assign", response=CaseDetailOut)
def case_assign(request, case_id: int, payload: AssignIn):
    case = selectors.case_for_user(case_id=case_id, user=request.auth)
    department = None
    assignee = None
    if payload.department_id is not None:
        department = Department.objects.filter(pk=payload.department_id, is_active=True).first()
        if department is None:
            raise FieldErrors.single("department_id", _("No such department."))
    if payload.assignee_username:
        assignee = User.objects.filter(username=payload.assignee_username, is_active=True).first()
        if assignee is None:
            raise FieldErrors.single("assignee_username", _("No such user."))
    case = services.case_assign(
        case=case,
        actor=request.auth,
        department=department,
        assignee=assignee,
        note=payload.note,
        expected_version=payload.expected_version,
    )
    return _detail(case, request.auth)


class ParticipantIn(Schema):
    department_id: int
    note: str = ""


@router.post("/{case_id}/participants", response=CaseDetailOut)
def case_add_participant(request, case_id: int, payload: ParticipantIn):
    """Ask another department to co-handle the case (协办)."""
    case = selectors.case_for_user(case_id=case_id, user=request.auth)
    department = Department.objects.filter(pk=payload.department_id, is_active=True).first()
    if department is None:
        raise FieldErrors.single("department_id", _("No such department."))
    services.case_add_participant(case=case, department=department, actor=request.auth, note=payload.note)
    return _detail(case, request.auth)


@router.post("/{case_id}/attachments", response=CaseDetailOut)
def case_attach(request, case_id: int, file: File[UploadedFile], note: Form[str] = ""):
    """Add a file to the case's timeline (multipart: `file`, optional `note`)."""
    case = selectors.case_for_user(case_id=case_id, user=request.auth)
    services.case_attach(case=case, actor=request.auth, file=file, note=note)
    return _detail(case, request.auth)
