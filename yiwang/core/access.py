"""Who may see or touch what: the platform's permission questions, one condition per line."""

from __future__ import annotations

from typing import Any

from django.db import models

from yiwang.core.models import Role

# Personal fields and the roles whose work needs them unmasked.
PERSONAL_FIELD_ROLES: dict[str, frozenset[str]] = {
    "id_number": frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER}),
    "birth_date": frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER}),
    "phone": frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER, Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    "address": frozenset(
        {Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER, Role.HOTLINE_OPERATOR, Role.DISPATCHER}
    ),
}

STAFF_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.DEPARTMENT_HANDLER,
        Role.HOTLINE_OPERATOR,
        Role.DISPATCHER,
        Role.SUPERVISOR,
        Role.DATA_STEWARD,
        Role.CITY_LEADER,
        Role.ADMIN,
    }
)


def user_roles(user: Any) -> frozenset[str]:
    """The role codes a user holds (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_yiwang_roles", None)
    if cached is None:
        cached = frozenset(user.roles.values_list("role", flat=True))
        if user.is_superuser:
            cached = cached | {Role.ADMIN}
        user._yiwang_roles = cached
    return cached


def access_role(user: Any, role: str) -> bool:
    return role in user_roles(user)


def access_staff(user: Any) -> bool:
    return bool(user_roles(user) & STAFF_ROLES)


def access_personal_field(user: Any, field: str, *, subject_user_id: int | None = None) -> bool:
    """May this viewer see `field` of a person unmasked?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if subject_user_id is not None and subject_user_id == user.pk:
        return True
    return bool(user_roles(user) & PERSONAL_FIELD_ROLES.get(field, frozenset()))


# Which departments keep which part of the base registry (department codes, city or county branch).
REGISTRY_KEEPERS: dict[str, frozenset[str]] = {
    "person": frozenset({"GA"}),
    "household": frozenset({"GA"}),
    "enterprise": frozenset({"SCJG", "XZSP"}),
    "property": frozenset({"BDCDJ", "ZRZY"}),
}


def access_registry_write(user: Any, entity: str) -> bool:
    """May this user register a person, household, enterprise or property?"""
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if Role.WINDOW_CLERK in roles:  # the integrated window accepts for every department
        return True
    if Role.DEPARTMENT_HANDLER not in roles:
        return False
    keepers = REGISTRY_KEEPERS.get(entity, frozenset())
    return (
        user.roles.filter(role=Role.DEPARTMENT_HANDLER)
        .filter(models.Q(department__code__in=keepers) | models.Q(department__parent__code__in=keepers))
        .exists()
    )


# --- The exchange (data sharing hub) ---

# The city's chief data officer: a data steward of the big-data bureau (政数局).
CHIEF_DATA_OFFICE = "ZS"


def access_exchange_cdo(user: Any) -> bool:
    """Is this user the city's chief data officer (approves conditional sharing)?"""
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if Role.DATA_STEWARD not in roles:
        return False
    return user.roles.filter(role=Role.DATA_STEWARD, department__code=CHIEF_DATA_OFFICE).exists()


def access_exchange_steward(user: Any, department: Any) -> bool:
    """Is this user a data steward of `department` (or of its parent department)?"""
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if Role.DATA_STEWARD not in roles:
        return False
    ids = {department.pk, department.parent_id} - {None}
    return user.roles.filter(role=Role.DATA_STEWARD, department_id__in=ids).exists()


def access_exchange_consumer(user: Any, department: Any) -> bool:
    """May this user read or request shared data on behalf of `department`?"""
    if Role.ADMIN in user_roles(user):
        return True
    if not user_roles(user):
        return False
    return user.roles.filter(department=department).exists()
