"""The cases API: my queue, a case with its timeline, transitions; errors in the one shape."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cases.conftest import PASSWORD, PERMIT, at
from yiwang.cases import services
from yiwang.cases.models import Case

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def case(staff) -> Case:
    return services.case_open(
        case_type=PERMIT.code,
        title="路灯不亮",
        department=staff.department,
        actor=staff.handler,
        now=at(2026, 9, 30),
    )


def test_queue_detail_and_transition(staff, case):
    client = client_for(staff.handler)
    listing = client.get("/api/cases/")
    assert listing.status_code == 200
    assert [row["reference"] for row in listing.json()] == [case.reference]
    assert listing.json()[0]["state_label"] == "已收件"
    assert client.get("/api/cases/?sla_status=red").json() == []

    detail = client.get(f"/api/cases/{case.pk}").json()
    assert [move["name"] for move in detail["transitions"]] == ["accept"]
    assert [event["kind"] for event in detail["timeline"]] == ["opened"]

    moved = client.post(
        f"/api/cases/{case.pk}/transitions",
        {"transition": "accept", "expected_version": 1, "note": "已受理"},
        content_type="application/json",
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["state"] == "reviewing" and moved.json()["version"] == 2
    assert moved.json()["timeline"][-1]["note"] == "已受理"


def test_a_conflict_is_409_in_the_one_error_shape(staff, case):
    services.case_transition(case=case, transition="accept", actor=staff.colleague, expected_version=1)
    response = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/transitions",
        {"transition": "accept", "expected_version": 1},
        content_type="application/json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert case.reference in error["message"]


def test_a_forbidden_transition_is_403_and_an_invisible_case_404(staff, case):
    response = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/transitions",
        {"transition": "press", "expected_version": 1},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "督办" in response.json()["error"]["message"]

    outsider = client_for(staff.outsider)
    assert outsider.get(f"/api/cases/{case.pk}").status_code == 404
    assert outsider.get("/api/cases/").json() == []
    missing = outsider.get("/api/cases/999999")
    assert missing.status_code == 404 and missing.json() == outsider.get(f"/api/cases/{case.pk}").json()


def test_a_missing_note_is_422_with_the_field_path(staff, case):
    client = client_for(staff.handler)
    client.post(
        f"/api/cases/{case.pk}/transitions",
        {"transition": "accept", "expected_version": 1},
        content_type="application/json",
    )
    response = client.post(
        f"/api/cases/{case.pk}/transitions",
        {"transition": "refuse", "expected_version": 2},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == "body.note"


def test_assign_to_a_colleague(staff, case):
    response = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/assign",
        {"expected_version": 1, "assignee_username": staff.colleague.username},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == staff.colleague.username


def test_pages_queue_and_detail(staff, case):
    client = client_for(staff.handler)
    page = client.get("/cases/")
    assert page.status_code == 200 and case.reference in page.content.decode()
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert "受理" in detail and "已收件" in detail
    assert client_for(staff.outsider).get(f"/cases/{case.pk}/").status_code == 404
    workbench = client.get("/workbench/department_handler/").content.decode()
    assert "/cases/" in workbench


def test_an_attachment_is_uploaded_on_the_page_and_downloaded_only_by_those_who_see_the_case(
    staff, case, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = client_for(staff.handler)
    response = client.post(
        f"/cases/{case.pk}/transition/",
        {
            "transition": "accept",
            "expected_version": "1",
            "note": "附现场照片",
            "attachment": SimpleUploadedFile("photo.jpg", b"\xff\xd8jpeg", content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    event = case.events.get(kind="transition")
    assert event.attachment.name.endswith("photo.jpg")
    url = f"/cases/{case.pk}/attachments/{event.pk}/"
    assert url in client.get(f"/cases/{case.pk}/").content.decode()
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"\xff\xd8jpeg"
    assert client_for(staff.outsider).get(url).status_code == 404


def test_a_stale_page_shows_the_conflict_and_saves_nothing(staff, case):
    services.case_transition(case=case, transition="accept", actor=staff.colleague, expected_version=1)
    client = client_for(staff.handler)
    response = client.post(
        f"/cases/{case.pk}/transition/", {"transition": "accept", "expected_version": "1"}, follow=True
    )
    page = response.content.decode()
    assert case.reference in page and 'id="case-messages"' in page
    case.refresh_from_db()
    assert case.version == 2


def test_an_attachment_is_uploaded_through_the_api_and_an_invisible_case_is_404(
    staff, case, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/attachments",
        {
            "file": SimpleUploadedFile("report.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
            "note": "现场报告",
        },
    )
    assert response.status_code == 200, response.content
    attached = [row for row in response.json()["timeline"] if row["kind"] == "attachment"]
    assert len(attached) == 1 and attached[0]["note"] == "现场报告"
    assert case.events.get(kind="attachment").attachment.read() == b"%PDF-1.4 test"
    refused = client_for(staff.outsider).post(
        f"/api/cases/{case.pk}/attachments", {"file": SimpleUploadedFile("x.txt", b"x")}
    )
    assert refused.status_code == 404
    assert case.events.filter(kind="attachment").count() == 1


def test_another_department_is_asked_to_co_handle_through_the_api(staff, case):
    other = staff.outsider.roles.get().department
    response = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/participants",
        {"department_id": other.pk, "note": "请协办"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert case.participants.filter(department=other).exists()
    # the co-handling department now sees the case
    assert client_for(staff.outsider).get(f"/api/cases/{case.pk}").status_code == 200
    again = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/participants", {"department_id": other.pk}, content_type="application/json"
    )
    assert again.status_code == 409
    unknown = client_for(staff.handler).post(
        f"/api/cases/{case.pk}/participants", {"department_id": 999999}, content_type="application/json"
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["path"] == "body.department_id"
