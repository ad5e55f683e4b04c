"""Who may see or touch what: the platform's permission questions, one condition per line."""

from __future__ import annotations

from typing import Any

from yiwang.core.models import Role

# Personal fields and the roles whose work needs them unmasked.
PERSONAL_FIELD_ROLES: dict[str, frozenset[str]] = {
    "id_number": frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER}),
    "phone": frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER, Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    "address": frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER, Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
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
