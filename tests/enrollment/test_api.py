"""The API at /api/enrollment: register (422 naming the field), read the class and the
placement, rank schools, allocate (bureau only), figures, roster masking, appeal."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.enrollment.conftest import OPEN_DAY

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def post(client, path, body, method="post"):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_the_api_flow(town, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: OPEN_DAY)
    parent = client_for(town.families[2].user)
    bad = post(parent, "/api/enrollment/seasons/2027/registrations", {"child_id_number": "12"})
    assert bad.status_code == 422 and "child_id_number" in bad.content.decode()
    made = post(
        parent,
        "/api/enrollment/seasons/2027/registrations",
        {"child_id_number": town.families[2].child.id_number},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["priority_class"] == 2 and body["explanation"][-1]["eligible"] is True
    number = body["number"]
    bad_choices = post(
        parent, f"/api/enrollment/registrations/{number}/choices", {"schools": ["PC"]}, method="put"
    )
    assert bad_choices.status_code == 422 and "choices" in bad_choices.content.decode()
    assert post(
        parent, f"/api/enrollment/registrations/{number}/choices", {"schools": ["P1", "P2"]}, method="put"
    ).json()["choices"] == ["P1", "P2"]
    assert post(parent, "/api/enrollment/seasons/2027/allocations", {}).status_code == 403
    run = post(client_for(town.bureau), "/api/enrollment/seasons/2027/allocations", {})
    assert run.status_code == 201 and run.json()["stable"] is True
    placed = parent.get(f"/api/enrollment/registrations/{number}").json()["placement"]
    assert placed["school"] == "P1" and placed["how"] == "choice"
    figures = client_for(town.leader).get("/api/enrollment/seasons/2027/figures").json()
    assert figures["totals"]["placed"] == 1
    roster = client_for(town.supervisor).get("/api/enrollment/seasons/2027/schools/P1/roster").json()
    assert roster and "*" in roster[0]["id_number"]
    assert client_for(town.families[1].user).get(f"/api/enrollment/registrations/{number}").status_code == 404
    appeal = post(
        parent, f"/api/enrollment/registrations/{number}/appeals", {"school": "P2", "reason": "想换学校"}
    )
    assert appeal.status_code == 201 and appeal.json()["case"].startswith("JYSS")


def test_the_bureau_changes_the_season_through_the_api(town):
    body = {
        "title": town.season.title,
        "registration_opens": "2027-05-01",
        "registration_closes": "2027-05-31",
        "allocation_on": "2027-06-15",
        "results_on": "2027-06-10",
        "lottery_seed": "API-种子",
        "tie_breaks": ["distance"],
    }
    bureau = client_for(town.bureau)
    refused = post(bureau, "/api/enrollment/seasons/2027", body, method="put")
    assert refused.status_code == 422 and "results_on" in refused.content.decode()
    body["results_on"] = "2027-06-30"
    saved = post(bureau, "/api/enrollment/seasons/2027", body, method="put")
    assert saved.status_code == 200, saved.content
    assert saved.json()["lottery_seed"] == "API-种子" and saved.json()["tie_breaks"] == ["distance"]
    parent = post(client_for(town.families[1].user), "/api/enrollment/seasons/2027", body, method="put")
    assert parent.status_code == 403
    assert post(bureau, "/api/enrollment/seasons/2031", body, method="put").status_code == 404
