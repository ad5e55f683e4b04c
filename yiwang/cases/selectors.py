"""The cases engine's questions: a user's queue, one case with its timeline."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.cases.access import CITY_WIDE_ROLES, access_case_transition, access_case_view, user_department_ids
from yiwang.cases.models import Case, CaseEvent, Notification
from yiwang.cases.types import Transition, case_type_get
from yiwang.core.access import user_roles
from yiwang.core.errors import NotFound


def case_queue(*, user: Any, state: str = "", sla_status: str = "", open_only: bool = True) -> QuerySet[Case]:
    """The cases the user works on: assigned to them, of their departments or co-handled by
    them; city-wide roles see every case."""
    cases = Case.objects.select_related("department", "assignee")
    if not (user_roles(user) & CITY_WIDE_ROLES):
        departments = user_department_ids(user)
        cases = cases.filter(
            Q(assignee_id=user.pk)
            | Q(department_id__in=departments)
            | Q(participants__department_id__in=departments)
        ).distinct()
    if open_only:
        cases = cases.filter(closed_at__isnull=True)
    if state:
        cases = cases.filter(state=state)
    if sla_status:
        cases = cases.filter(sla_status=sla_status)
    return cases.order_by("state_deadline", "opened_at", "id")


def case_for_user(*, case_id: int, user: Any) -> Case:
    """The case, if the user may see it; NotFound otherwise (missing or forbidden alike)."""
    case = Case.objects.select_related("department", "assignee").filter(pk=case_id).first()
    if case is None or not access_case_view(user, case):
        raise NotFound(_("Not found."))
    return case


def case_timeline(*, case: Case) -> list[CaseEvent]:
    """The case's events, oldest first, each with the labels of its transition and states."""
    events = list(case.events.select_related("actor").order_by("at", "id"))
    try:
        kind = case_type_get(case.type_code)
    except LookupError:
        kind = None
    for event in events:
        move = kind.transition(event.transition) if kind and event.transition else None
        event.transition_label = str(move.label) if move else event.transition
        event.from_label = _state_label(kind, event.from_state)
        event.to_label = _state_label(kind, event.to_state)
    return events


def _state_label(kind, code: str) -> str:
    try:
        return str(kind.state(code).label) if kind and code else code
    except KeyError:
        return code


def case_transitions_available(*, case: Case, user: Any) -> list[Transition]:
    """The transitions this user may take now (the buttons on the case page)."""
    kind = case_type_get(case.type_code)
    return [move for move in kind.transitions_from(case.state) if access_case_transition(user, case, move)]


def case_state_label(case: Case) -> str:
    try:
        return str(case_type_get(case.type_code).state(case.state).label)
    except (LookupError, KeyError):
        return case.state


def notifications_for(*, user: Any, limit: int = 20) -> list[Notification]:
    """The latest escalation notices addressed to the user's roles, about cases they may see."""
    roles = user_roles(user)
    notices = (
        Notification.objects.filter(role__in=roles).select_related("case").order_by("-created_at", "-id")
    )
    return [notice for notice in notices[: limit * 5] if access_case_view(user, notice.case)][:limit]
