"""Who may see and move a case. The engine's own permission questions live here, next to
its models, because core cannot import the cases app; they build on core.access.user_roles.
One condition per line."""

from __future__ import annotations

from typing import Any

from yiwang.cases.models import Case
from yiwang.cases.types import Transition, case_type_get
from yiwang.core.access import user_roles
from yiwang.core.models import Role

# Roles that see and press every case of the city.
CITY_WIDE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CITY_LEADER, Role.DISPATCHER})


def _authenticated(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def user_department_ids(user: Any, role: str = Role.DEPARTMENT_HANDLER) -> frozenset[int]:
    """The departments in which the user holds `role`."""
    if not _authenticated(user):
        return frozenset()
    cache = getattr(user, "_yiwang_case_departments", None)
    if cache is None:
        cache = user._yiwang_case_departments = {}
    if role not in cache:
        cache[role] = frozenset(
            user.roles.filter(role=role, department__isnull=False).values_list("department_id", flat=True)
        )
    return cache[role]


def _handles(user: Any, case: Case) -> bool:
    """The user is the assignee, or a handler of the case's department or a co-handler's."""
    if case.assignee_id is not None and case.assignee_id == user.pk:
        return True
    departments = user_department_ids(user)
    if case.department_id in departments:
        return True
    return case.participants.filter(department_id__in=departments).exists()


def access_case_view(user: Any, case: Case) -> bool:
    if not _authenticated(user):
        return False
    if user_roles(user) & CITY_WIDE_ROLES:
        return True
    if user_roles(user) & set(case_type_get(case.type_code).viewer_roles):
        return True
    return Role.DEPARTMENT_HANDLER in user_roles(user) and _handles(user, case)


def access_case_transition(user: Any, case: Case, transition: Transition) -> bool:
    """May this user take `transition` on `case`? The case type names the roles; a department
    handler must also handle the case (its department, a co-handling one, or assigned)."""
    if transition.system:
        return False
    roles = user_roles(user) & set(transition.roles)
    if not roles:
        return False
    if roles - {Role.DEPARTMENT_HANDLER}:
        return True
    return _handles(user, case)


def access_case_assign(user: Any, case: Case) -> bool:
    """Dispatchers, supervisors and admins assign anywhere; a handler within their department."""
    roles = user_roles(user)
    if roles & {Role.ADMIN, Role.DISPATCHER, Role.SUPERVISOR}:
        return True
    return Role.DEPARTMENT_HANDLER in roles and case.department_id in user_department_ids(user)
