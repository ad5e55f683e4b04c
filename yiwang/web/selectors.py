"""Reads the web shell needs for itself: the city it serves and a user's role scopes.
Registry reads live in yiwang.registry.selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from yiwang.core.access import user_roles
from yiwang.core.models import Division, Role, RoleAssignment


def city_get() -> Division | None:
    """The city this platform serves (settings.YIWANG_CITY_CODE), if its division exists."""
    return Division.objects.filter(code=settings.YIWANG_CITY_CODE).first()


def user_role_codes(*, user: Any) -> list[str]:
    """The user's role codes in the order of core.models.Role."""
    held = user_roles(user)
    return [code for code in Role.values if code in held]


def role_assignments_get(*, user: Any, role: str) -> list[RoleAssignment]:
    """The user's assignments of one role, with department and division, for showing its scope."""
    return list(
        RoleAssignment.objects.filter(user=user, role=role)
        .select_related("department", "department__division", "division")
        .order_by("department__code", "division__code")
    )
