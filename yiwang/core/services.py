"""Core verbs: presenting personal data (masked, or unmasked and audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from yiwang.core.access import access_personal_field
from yiwang.core.audit import audit_record
from yiwang.core.masking import MASKERS


def personal_fields_revealed(*, viewer: Any, subject_user_id: int | None = None) -> frozenset[str]:
    """The personal fields this viewer sees unmasked (for one subject, or any when None)."""
    return frozenset(
        field for field in MASKERS if access_personal_field(viewer, field, subject_user_id=subject_user_id)
    )


def personal_data_present(
    *,
    viewer: Any,
    values: dict[str, Any],
    purpose: str,
    object_type: str,
    object_id: str | int,
    subject_user_id: int | None = None,
) -> dict[str, Any]:
    """Return `values` with each personal field masked unless the viewer's role needs it.
    If anything is shown unmasked, one audit entry records who saw which fields, and why."""
    shown: dict[str, Any] = dict(values)
    revealed: list[str] = []
    allowed = personal_fields_revealed(viewer=viewer, subject_user_id=subject_user_id)
    for field, masker in MASKERS.items():
        if field not in values or not values[field]:
            continue
        if field in allowed:
            revealed.append(field)
        else:
            shown[field] = masker(values[field])
    if revealed:
        with transaction.atomic():
            audit_record(
                actor=viewer,
                action="personal_data.read_unmasked",
                object_type=object_type,
                object_id=object_id,
                after={"fields": revealed},
                purpose=purpose,
            )
    return shown


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    display_name: str = "",
    roles: list[tuple[str, Any, Any]] = (),
    phone: str = "",
    is_superuser: bool = False,
):
    """Create a login with its roles: each role is (role code, department or None, division
    or None). Audited without the password."""
    from yiwang.core.models import RoleAssignment, User

    user = User(username=username, display_name=display_name, phone=phone)
    user.set_password(password)
    user.is_staff = is_superuser or any(role == "admin" for role, _, _ in roles)
    user.is_superuser = is_superuser
    user.save()
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=role, department=department, division=division)
        for role, department, division in roles
    )
    audit_record(
        actor=actor,
        action="user.create",
        target=user,
        after={"username": username, "roles": [role for role, _, _ in roles]},
    )
    return user
