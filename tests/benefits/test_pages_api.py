"""The pages and the API over the same services: a handler starts a run and sees the totals,
another approves, the citizen reads my benefits with the explanation and objects; the leader
reads the figures; outsiders are refused the same way whether the run exists or not."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.benefits.conftest import PASSWORD, elderly
from yiwang.benefits.models import Objection, Payment, Run

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def test_the_api_runs_approves_and_explains(city):
    elderly(2)
    handler, reviewer = client_for(city.mz_handler), client_for(city.mz_reviewer)
    policies = handler.get("/api/benefits/policies").json()
    elderly_row = next(row for row in policies if row["code"] == "benefits.elderly_allowance")
    assert elderly_row["may_run"] and elderly_row["period_kind"] == "month"
    bad = post(handler, "/api/benefits/runs", {"policy": "benefits.elderly_allowance", "period": "11月"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["path"] == "body.period"
    started = post(
        handler, "/api/benefits/runs", {"policy": "benefits.elderly_allowance", "period": "2026-11"}
    )
    assert started.status_code == 201, started.content
    run = started.json()
    assert (run["state"], run["eligible_count"], run["total_fen"]) == ("review", 3, 15000)
    rows = handler.get(f"/api/benefits/runs/{run['id']}/entitlements").json()
    assert len(rows) == 3 and all("*" in row["beneficiary"] for row in rows)
    assert post(handler, f"/api/benefits/runs/{run['id']}/approve", {}).status_code == 403
    outsider = client_for(city.outsider)
    assert outsider.get(f"/api/benefits/runs/{run['id']}").status_code == 404
    assert outsider.get("/api/benefits/runs/999999").status_code == 404
    paid = post(reviewer, f"/api/benefits/runs/{run['id']}/approve", {"note": "同意"})
    assert paid.status_code == 200 and paid.json()["paid_count"] == 3
    citizen = client_for(city.citizen)
    [mine] = citizen.get("/api/benefits/mine").json()
    assert (mine["policy"], mine["amount_fen"], mine["status"]) == (
        "benefits.elderly_allowance",
        5000,
        "paid",
    )
    why = citizen.get(
        "/api/benefits/mine/explanation", {"policy": "benefits.elderly_allowance", "period": "2026-11"}
    )
    assert why.json()["eligible"] and why.json()["conditions"][0]["id"] == "age"
    why_not = citizen.get("/api/benefits/mine/explanation", {"policy": "benefits.talent_subsidy"}).json()
    assert (
        not why_not["eligible"]
        and not next(c for c in why_not["conditions"] if c["id"] == "degree")["passed"]
    )
    objected = post(
        citizen,
        "/api/benefits/mine/objections",
        {"policy": "benefits.elderly_allowance", "period": "2026-11", "text": "金额应为100元"},
    )
    assert objected.status_code == 201 and objected.json()["reference"].startswith("MS")
    assert (
        post(
            citizen,
            "/api/benefits/mine/objections",
            {"policy": "benefits.elderly_allowance", "period": "2026-11", "text": ""},
        ).status_code
        == 422
    )
    assert (
        post(citizen, "/api/benefits/mine/decline", {"policy": "benefits.elderly_allowance"}).status_code
        == 201
    )
    leader = client_for(city.leader)
    figures = leader.get("/api/benefits/reports").json()
    row = next(row for row in figures["policies"] if row["policy"] == "benefits.elderly_allowance")
    assert (row["count"], row["amount_fen"], row["objections"], row["share_without_application"]) == (
        3,
        15000,
        1,
        75.0,
    )
    assert citizen.get("/api/benefits/reports").status_code == 403


def test_the_pages_from_run_to_objection(city):
    elderly(1)
    handler = client_for(city.mz_handler)
    page = handler.get("/benefits/policies/")
    assert page.status_code == 200 and "高龄津贴" in page.content.decode()
    policy_id = Run._meta.get_field("policy").related_model.objects.get(code="benefits.elderly_allowance").pk
    response = handler.post(f"/benefits/policies/{policy_id}/run/", {"period": "2026-11"})
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/benefits/runs/{run.pk}/"
    page = handler.get(f"/benefits/runs/{run.pk}/").content.decode()
    assert 'data-role="eligible">2<' in page and "100.00" in page and 'id="four-eyes"' in page
    assert city.citizen_person.id_number not in page  # masked
    reviewer = client_for(city.mz_reviewer)
    page = reviewer.get(f"/benefits/runs/{run.pk}/").content.decode()
    assert 'id="decide"' in page
    reviewer.post(f"/benefits/runs/{run.pk}/decide/", {"decision": "approve", "note": "同意"})
    assert Payment.objects.count() == 2
    entitlement = run.entitlements.first()
    assert reviewer.get(f"/benefits/runs/{run.pk}/why/{entitlement.pk}/").status_code == 200
    citizen = client_for(city.citizen)
    page = citizen.get("/benefits/mine/").content.decode()
    assert "高龄津贴" in page and "50.00" in page and 'data-condition="age"' in page
    assert citizen.get(f"/benefits/runs/{run.pk}/").status_code == 403
    why_not = citizen.get("/benefits/mine/why-not/", {"policy": str(policy_id + 0)})
    assert why_not.status_code == 200
    response = citizen.post(
        "/benefits/mine/object/",
        {
            "policy": policy_id,
            "period": "2026-11",
            "beneficiary": city.citizen_person.id_number,
            "text": "请核实",
        },
    )
    assert response.status_code == 302 and Objection.objects.count() == 1
    # another citizen cannot object for this person
    other = client_for(city.agent)
    other.post(
        "/benefits/mine/object/",
        {"policy": policy_id, "period": "2026-11", "beneficiary": city.citizen_person.id_number, "text": "x"},
    )
    assert Objection.objects.count() == 1
    leader = client_for(city.leader)
    page = leader.get("/benefits/reports/").content.decode()
    assert "<svg" in page and "100.00" in page
