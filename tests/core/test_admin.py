"""Writes through the Django admin leave audit entries like any service."""

import pytest

from yiwang.core.audit import audit_verify
from yiwang.core.models import AuditEntry, Department, Division

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return Division.objects.create(code="3603", name="萍乡市", level=1)


def test_admin_create_change_and_delete_are_audited(admin_client, city):
    response = admin_client.post(
        "/admin/core/department/add/",
        {
            "code": "QX",
            "name": "萍乡市气象局",
            "short_name": "气象局",
            "kind": "bureau",
            "division": "3603",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:500]
    department = Department.objects.get(code="QX")
    admin_client.post(
        f"/admin/core/department/{department.pk}/change/",
        {
            "code": "QX",
            "name": "萍乡市气象局（改）",
            "short_name": "气象局",
            "kind": "bureau",
            "division": "3603",
            "is_active": "on",
        },
    )
    admin_client.post(
        "/admin/core/department/",
        {"action": "delete_selected", "_selected_action": [department.pk], "post": "yes"},
    )
    assert not Department.objects.filter(code="QX").exists()
    actions = list(
        AuditEntry.objects.filter(object_type="core.department")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["department.create", "department.change", "department.delete"]
    change = AuditEntry.objects.get(action="department.change")
    assert (change.before["name"], change.after["name"]) == ("萍乡市气象局", "萍乡市气象局（改）")
    assert audit_verify()[1] == []


def test_audit_log_is_read_only_in_the_admin(admin_client):
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
