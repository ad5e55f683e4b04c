"""The rules API (/api/rules): the workbench's verbs as JSON, with the platform's error shape —
a definition's problems as 422 naming body.definition.<path>, overlapping dates as 422,
outsiders 403, unknown rules 404."""

from __future__ import annotations

import datetime

import pytest
import yaml
from django.test import Client

from tests.factories import PASSWORD
from tests.rules.test_pages import RULE, workbench  # noqa: F401  (the fixture)
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post(client: Client, url: str, body: dict | None = None):
    return client.post(url, body or {}, content_type="application/json")


def test_list_and_get_a_rule_with_versions_conditions_and_parameters(workbench):  # noqa: F811
    client = client_for(workbench.leader)
    (rule,) = client.get("/api/rules/").json()
    assert (rule["code"], rule["kind"], rule["in_force"]) == ("benefits.elderly", "eligibility", 1)
    assert rule["parameters"][0]["values"] == [{"value": 80, "valid_from": "2020-01-01", "valid_to": None}]
    one = client.get("/api/rules/benefits.elderly").json()
    assert one["versions"][0]["author"] == "数据管理员甲" and one["versions"][0]["approved_by"] == "督办乙"
    version = client.get("/api/rules/benefits.elderly/versions/1").json()
    assert version["conditions"][0] == {
        "id": "age",
        "label": "年满规定年龄",
        "value": "age(persons.birth_date)",
        "op": "≥",
        "than": "param(benefits.elderly.min_age)",
        "basis": "《江西省高龄津贴发放办法》 第三条",
    }
    assert client.get("/api/rules/nothing").status_code == 404
    assert client.get("/api/rules/nothing").json()["error"]["code"] == "not_found"
    refused = client_for(workbench.citizen).get("/api/rules/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_a_draft_is_refused_with_paths_then_saved_whatifed_approved_and_published(workbench):  # noqa: F811
    steward, supervisor = client_for(workbench.steward), client_for(workbench.supervisor)
    wrong = yaml.safe_load(yaml.safe_dump(RULE))
    wrong["conditions"][0]["value"] = {"sum": "persons.birth_date"}
    refused = post(steward, "/api/rules/drafts", {"definition": wrong})
    assert refused.status_code == 422
    paths = {item["path"]: item["message"] for item in refused.json()["error"]["fields"]}
    assert "body.definition.conditions.0.value.sum" in paths
    not_yaml = post(steward, "/api/rules/drafts", {"yaml": "code: [x"})
    assert not_yaml.status_code == 422 and not_yaml.json()["error"]["fields"][0]["path"] == "body.definition"
    richer = yaml.safe_load(yaml.safe_dump(RULE))
    richer["amount"] = {"value": 15000}
    saved = post(
        steward, "/api/rules/drafts", {"yaml": yaml.safe_dump(richer, allow_unicode=True), "note": "提标"}
    )
    assert saved.status_code == 201 and (saved.json()["number"], saved.json()["status"]) == (2, "draft")
    on = datetime.date.today().isoformat()
    whatif = post(steward, "/api/rules/benefits.elderly/versions/2/whatif", {"on": on}).json()
    assert (whatif["current"]["count"], whatif["proposed"]["count"]) == (1, 1)
    assert (whatif["current"]["amount"], whatif["proposed"]["amount"], whatif["amount_difference"]) == (
        10000,
        15000,
        5000,
    )
    lowered = post(
        steward,
        "/api/rules/benefits.elderly/versions/1/whatif",
        {"on": on, "parameters": {"benefits.elderly.min_age": 60}},
    ).json()
    assert lowered["gained"] == 1 and lowered["gained_first"][0]["subject"].startswith(
        workbench.younger.id_number[:4]
    )
    assert "*" in lowered["gained_first"][0]["subject"]
    bad = post(steward, "/api/rules/benefits.elderly/versions/1/whatif", {"parameters": {"nothing": 1}})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["path"] == "body.parameters.nothing"
    assert post(steward, "/api/rules/benefits.elderly/versions/2/approve").status_code == 403
    assert post(supervisor, "/api/rules/benefits.elderly/versions/2/publish").status_code == 409
    assert post(supervisor, "/api/rules/benefits.elderly/versions/2/approve").json()["status"] == "approved"
    assert post(supervisor, "/api/rules/benefits.elderly/versions/2/publish").json()["status"] == "published"
    assert client_for(workbench.leader).get("/api/rules/benefits.elderly").json()["in_force"] == 2


def test_explain_one_subject(workbench):  # noqa: F811
    client = client_for(workbench.supervisor)
    body = post(
        client, "/api/rules/benefits.elderly/explain", {"subject": workbench.younger.id_number}
    ).json()
    assert (body["eligible"], body["version"], body["amount"]) == (False, 1, 0)
    (condition,) = body["conditions"]
    assert (condition["value"], condition["compared_with"], condition["unit"], condition["passed"]) == (
        60,
        80,
        "age",
        False,
    )
    assert condition["found"] == "60 years of age" and condition["comparison"] == "≥ 80 years of age"
    assert body["subject"] != workbench.younger.id_number and body["summary"].startswith("Not met:")
    missing = post(client, "/api/rules/benefits.elderly/explain", {"subject": "NOBODY"})
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["path"] == "body.subject"
    assert AuditEntry.objects.filter(action="rules.try").count() == 1


def test_parameters_and_a_dated_value(workbench):  # noqa: F811
    steward = client_for(workbench.steward)
    (parameter,) = steward.get("/api/rules/parameters").json()
    assert parameter["code"] == "benefits.elderly.min_age" and parameter["unit"] == "years"
    url = "/api/rules/parameters/benefits.elderly.min_age/values"
    overlap = post(steward, url, {"value": 75, "valid_from": "2026-01-01"})
    assert overlap.status_code == 422
    assert overlap.json()["error"]["fields"][0]["path"] == "body.valid_from"
    assert "overlap" in overlap.json()["error"]["fields"][0]["message"]
    assert post(steward, url, {"value": "old", "valid_from": "2026-01-01"}).status_code == 422
    workbench.parameter.values.update(valid_to=datetime.date(2026, 12, 31))
    added = post(steward, url, {"value": 75, "valid_from": "2027-01-01"})
    assert added.status_code == 201 and [v["value"] for v in added.json()["values"]] == [80, 75]
    assert (
        post(client_for(workbench.supervisor), url, {"value": 70, "valid_from": "2030-01-01"}).status_code
        == 403
    )
    assert (
        post(
            steward, "/api/rules/parameters/nothing/values", {"value": 1, "valid_from": "2030-01-01"}
        ).status_code
        == 404
    )
