"""The relapse API and pages through HTTP: the same verbs as the services, errors in the
platform's shape (422 with paths, 409 on a stale version, 403/404 for outsiders), the town
cadre's scope, masked addresses for a city leader and an audit entry for each unmasked read."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tests.relapse.conftest import PASSWORD, claim, members_of, push
from yiwang.core.models import AuditEntry, Division
from yiwang.registry.models import Household
from yiwang.relapse import services
from yiwang.relapse.models import Measure, MonitoredHousehold, Warning

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 26)


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def flagged(city, total: str = "16000.00"):
    household = city.household(members=2)
    push(
        "yb.self_pay_claims",
        [claim(f"A{household.number}", members_of(household)[0], total, datetime.date(2026, 9, 1))],
    )
    services.screen(rule_code="relapse.medical", on=ON)
    return Warning.objects.get(household=household)


def test_the_loop_through_the_api(city):
    warning = flagged(city)
    cadre = client_for(city.cadre)
    listed = cadre.get("/api/relapse/warnings?state=verifying").json()
    assert [row["id"] for row in listed["results"]] == [warning.pk]
    assert listed["results"][0]["address"] == warning.household.address  # a handler's work needs it
    version = listed["results"][0]["version"]

    bad = post(
        cadre,
        f"/api/relapse/warnings/{warning.pk}/confirm",
        {"expected_version": version, "risk_types": ["luck"]},
    )
    assert bad.status_code == 422
    assert {field["path"] for field in bad.json()["error"]["fields"]} == {"body.risk_types.0", "body.note"}
    stale = post(
        cadre,
        f"/api/relapse/warnings/{warning.pk}/confirm",
        {"expected_version": version + 5, "risk_types": ["illness"], "note": "核实属实"},
    )
    assert stale.status_code == 409
    outsider = post(
        client_for(city.other_cadre),
        f"/api/relapse/warnings/{warning.pk}/confirm",
        {"expected_version": version, "risk_types": ["illness"], "note": "核实属实"},
    )
    assert outsider.status_code == 404  # another town's warning is not there for them
    confirmed = post(
        cadre,
        f"/api/relapse/warnings/{warning.pk}/confirm",
        {"expected_version": version, "risk_types": ["illness"], "note": "核实属实"},
    )
    assert confirmed.status_code == 200, confirmed.json()
    body = confirmed.json()
    assert body["member_count"] == 2 and [s["kind"] for s in body["suggestions"]][:1] == ["medical"]
    monitored_id = body["id"]
    measure = post(
        cadre,
        f"/api/relapse/monitored/{monitored_id}/measures",
        {"kind": "medical", "description": "医疗救助", "started_on": "2026-11-27", "amount_fen": 350000},
    )
    assert measure.status_code == 201
    assert Measure.objects.get().amount_fen == 350000
    assert post(cadre, f"/api/relapse/monitored/{monitored_id}/clear", {"reason": "好转"}).status_code == 409
    assert (
        post(
            cadre,
            f"/api/relapse/monitored/{monitored_id}/reviews",
            {"risk_remains": False, "note": "收入稳定"},
        ).status_code
        == 201
    )
    cleared = post(cadre, f"/api/relapse/monitored/{monitored_id}/clear", {"reason": "收入稳定超过监测标准"})
    assert cleared.status_code == 200 and cleared.json()["cleared_on"]

    figures = client_for(city.leader).get("/api/relapse/dashboard").json()
    assert (figures["warnings"], figures["confirmed"], figures["cleared"], figures["measures_fen"]) == (
        1,
        1,
        1,
        350000,
    )


def test_a_city_leader_sees_masked_addresses_and_a_cadre_reads_are_audited(city):
    warning = flagged(city)
    before = AuditEntry.objects.filter(action="personal_data.read_unmasked").count()
    leader = client_for(city.leader).get(f"/api/relapse/warnings/{warning.pk}").json()
    assert leader["address"].endswith("****") and leader["address"] != warning.household.address
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").count() == before
    page = client_for(city.cadre).get(f"/relapse/warnings/{warning.pk}/")
    assert page.status_code == 200 and warning.household.address in page.content.decode()
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").count() == before + 1


def test_who_may_see_what(city):
    warning = flagged(city)
    assert client_for(city.citizen).get("/relapse/").status_code == 403
    assert client_for(city.citizen).get("/api/relapse/warnings").status_code == 403
    assert client_for(city.other_cadre).get(f"/relapse/warnings/{warning.pk}/").status_code == 404
    assert client_for(city.other_cadre).get("/api/relapse/warnings").json()["count"] == 0
    assert client_for(city.xczx).get("/api/relapse/warnings").json()["count"] == 1
    # Screenings on demand: the 乡村振兴局, not a town cadre.
    assert (
        post(client_for(city.cadre), "/api/relapse/screenings", {"rule": "relapse.medical"}).status_code
        == 403
    )
    run = post(
        client_for(city.xczx), "/api/relapse/screenings", {"rule": "relapse.medical", "on": "2026-11-26"}
    )
    assert run.status_code == 200 and run.json()["created"] == 0  # the same period: nothing new
    unknown = post(client_for(city.xczx), "/api/relapse/screenings", {"rule": "relapse.lottery"})
    assert unknown.status_code == 422


def test_a_village_cadre_reports_by_address_and_the_form_names_bad_fields(city):
    household = city.household(members=2)
    cadre = client_for(city.cadre)
    page = cadre.post(
        "/relapse/report/", {"address": "火星基地一号", "description": "短", "reporter_phone": "123"}
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "该地址没有登记的户" in text and "至少5个字" in text and "不是有效的电话号码" in text
    assert not Warning.objects.exists()
    short_address = household.address[household.address.index(city.village.name) :]
    sent = cadre.post(
        "/relapse/report/",
        {
            "address": short_address,
            "description": "户主务工受伤，无法劳动",
            "risk_types": ["accident"],
            "reporter_phone": "13807990002",
        },
    )
    warning = Warning.objects.get()
    assert sent.status_code == 302 and warning.household == household and warning.source == "village_report"
    assert warning.risk_types == ["accident"] and warning.case.department == city.town_office
    # The same report again the same day is the same warning.
    cadre.post(
        "/relapse/report/", {"household_number": household.number, "description": "户主务工受伤，无法劳动"}
    )
    assert Warning.objects.count() == 1
    # A cadre of another town may not report this household.
    refused = client_for(city.other_cadre).post(
        "/relapse/report/", {"household_number": household.number, "description": "户主务工受伤，无法劳动"}
    )
    assert "只能上报本乡镇的农户" in refused.content.decode()
    # A household whose 户籍 is outside the city (a family here on a residence permit) is
    # reported where it is registered: refused naming the field, nothing written.
    outside = Division.objects.create(code="430281", name="湖南省株洲市醴陵市", level=1, is_outside_city=True)
    Household.objects.filter(pk=household.pk).update(division=outside)
    away = cadre.post(
        "/relapse/report/", {"household_number": household.number, "description": "户主务工受伤，无法劳动"}
    )
    assert away.status_code == 200 and "该户户籍在市外，请向户籍所在地申报" in away.content.decode()
    api = post(
        cadre,
        "/api/relapse/reports",
        {"household_number": household.number, "description": "户主务工受伤，无法劳动"},
    )
    assert api.status_code == 422, api.content
    assert [f["path"] for f in api.json()["error"]["fields"]][-1].endswith("household_number")
    assert Warning.objects.count() == 1


def test_the_pages_render_for_the_town_cadre(city):
    warning = flagged(city)
    monitored = services.warning_confirm(
        warning=warning,
        actor=city.cadre,
        risk_types=["illness", "disability"],
        note="核实属实",
        expected_version=warning.case.version,
    )
    cadre = client_for(city.cadre)
    for url in (
        "/relapse/",
        "/relapse/warnings/?state=",
        "/relapse/monitored/",
        f"/relapse/monitored/{monitored.pk}/",
    ):
        response = cadre.get(url)
        assert response.status_code == 200, url
    detail = cadre.get(f"/relapse/monitored/{monitored.pk}/").content.decode()
    assert "残疾人补贴" in detail and "医疗救助" in detail  # suggestions of both risk types
    bad = cadre.post(
        f"/relapse/monitored/{monitored.pk}/", {"action": "measure", "kind": "medical", "amount": "12.345"}
    )
    assert "最多两位小数" in bad.content.decode()
    assert not Measure.objects.exists()
    assert MonitoredHousehold.objects.get().risk_types == ["illness", "disability"]
