"""Core verbs: presenting personal data (masked, or unmasked and audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from yiwang.core.access import access_personal_field
from yiwang.core.audit import audit_record
from yiwang.core.masking import MASKERS, mask_values


def personal_fields_revealed(*, viewer: Any, subject_user_id: int | None = None) -> frozenset[str]:
    """The personal fields this viewer sees unmasked (for one subject, or any when None)."""
    return frozenset(
        field for field in MASKERS if access_personal_field(viewer, field, subject_user_id=subject_user_id)
    )


@dataclass(frozen=True)
class PersonalRecord:
    """One subject's values to present, with what identifies it in the audit log."""

    values: dict[str, Any]
    object_id: str | int
    subject_user_id: int | None = None


def personal_data_present_many(
    *, viewer: Any, records: list[PersonalRecord], purpose: str, object_type: str
) -> list[dict[str, Any]]:
    """Present several subjects at once (a page of a list): each personal field masked unless
    the viewer's role needs it. One audit entry covers every unmasked read of the batch: who,
    which subjects, which fields, and why."""
    shown_rows: list[dict[str, Any]] = []
    revealed_fields: set[str] = set()
    revealed_ids: list[str] = []
    for record in records:
        allowed = personal_fields_revealed(viewer=viewer, subject_user_id=record.subject_user_id)
        revealed_here = {field for field in allowed if record.values.get(field)}
        shown = mask_values(record.values, revealed=allowed)
        revealed_fields |= revealed_here
        if revealed_here:
            revealed_ids.append(str(record.object_id))
        shown_rows.append(shown)
    if revealed_ids:
        with transaction.atomic():
            audit_record(
                actor=viewer,
                action="personal_data.read_unmasked",
                object_type=object_type,
                object_id=revealed_ids[0] if len(revealed_ids) == 1 else "",
                after={"fields": sorted(revealed_fields), "objects": revealed_ids},
                purpose=purpose,
            )
    return shown_rows


def personal_data_present(
    *,
    viewer: Any,
    values: dict[str, Any],
    purpose: str,
    object_type: str,
    object_id: str | int,
    subject_user_id: int | None = None,
) -> dict[str, Any]:
    """One subject: see personal_data_present_many."""
    record = PersonalRecord(values=values, object_id=object_id, subject_user_id=subject_user_id)
    return personal_data_present_many(
        viewer=viewer, records=[record], purpose=purpose, object_type=object_type
    )[0]


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
