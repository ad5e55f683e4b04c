"""Who may do what in enrollment, one condition per line.

- The education bureau (教育局, department code JY, or a county branch whose code ends in
  "-JY"): its department handlers and supervisors configure the season, run the allocation,
  read rosters and figures, and handle appeals. Admins may too.
- City leaders read the figures.
- A school's own office (School.department), where one is set, reads its roster.
- A parent sees the registrations they submitted or whose guardian they are.
"""

from __future__ import annotations

from typing import Any

from yiwang.core.access import user_roles
from yiwang.core.models import Role

BUREAU_CODE = "JY"
BUREAU_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.SUPERVISOR})


def _authenticated(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def bureau_department_ids(user: Any) -> frozenset[int]:
    if not _authenticated(user):
        return frozenset()
    cached = getattr(user, "_enrollment_bureau", None)
    if cached is None:
        rows = user.roles.filter(role__in=BUREAU_ROLES, department__isnull=False).values_list(
            "department_id", "department__code"
        )
        cached = frozenset(pk for pk, code in rows if code == BUREAU_CODE or code.endswith(f"-{BUREAU_CODE}"))
        user._enrollment_bureau = cached
    return cached


def access_bureau(user: Any) -> bool:
    """Configure, allocate, read every roster and handle appeals."""
    if Role.ADMIN in user_roles(user):
        return True
    return bool(bureau_department_ids(user))


def access_figures(user: Any) -> bool:
    if access_bureau(user):
        return True
    return Role.CITY_LEADER in user_roles(user)


def access_roster(user: Any, school: Any) -> bool:
    if access_bureau(user):
        return True
    if school.department_id is None or not _authenticated(user):
        return False
    return user.roles.filter(department_id=school.department_id).exists()


def access_registration(user: Any, registration: Any) -> bool:
    if not _authenticated(user):
        return False
    if registration.submitted_by_id == user.pk:
        return True
    if registration.guardian.user_id == user.pk:
        return True
    return access_bureau(user)
