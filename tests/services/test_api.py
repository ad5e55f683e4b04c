"""The services JSON API: search and guides in public, the pre-filled form, submit (201, and
200 with the same application when the same key comes again), my applications, status, rating;
errors in the platform's one shape."""

from __future__ import annotations

from django.test import Client

from tests.factories import PASSWORD
from yiwang.cases.services import case_transition
from yiwang.services.models import Application


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def test_search_and_guide_are_public(world):
    anonymous = Client()
    found = anonymous.get("/api/services/matters", {"q": "gyjsyd"}).json()
    assert found["total"] == 1 and found["matters"][0]["code"] == world.transfer.code
    assert found["matters"][0]["department"] == "BDCDJ"
    everything = anonymous.get("/api/services/matters", {"limit": 2}).json()
    assert everything["total"] == 4 and len(everything["matters"]) == 2
    guide = anonymous.get(f"/api/services/matters/{world.subsidy.code}").json()
    assert guide["promised_limit_days"] == 5 and guide["autofill_share"] == 0.9
    assert [m["name"] for m in guide["materials"]] == ["居民身份证", "居民户口簿", "其他相关证明材料"]
    assert guide["fields"][1] == {
        "name": "id_number",
        "label": "公民身份号码",
        "kind": "text",
        "required": True,
        "choices": [],
        "source": "ga.persons.id_number",
        "editable": False,
    }
    missing = anonymous.get("/api/services/matters/NOPE")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_form_needs_a_login_and_comes_prefilled(granted):
    assert Client().get(f"/api/services/matters/{granted.subsidy.code}/form").status_code == 401
    form = client_for(granted.citizen).get(f"/api/services/matters/{granted.subsidy.code}/form").json()
    assert (form["prefilled"], form["total"], form["share"]) == (9, 10, 0.9)
    fields = {field["name"]: field for field in form["fields"]}
    assert fields["id_number"]["value"] == granted.person.id_number and not fields["id_number"]["editable"]
    assert fields["phone"]["editable"] and fields["reason"]["value"] == ""


def test_submit_list_status_and_rate(granted):
    world = granted
    citizen = client_for(world.citizen)
    body = {"matter": world.subsidy.code, "values": {"reason": "申请高龄津贴"}, "submission_key": "api-1"}
    created = post(citizen, "/api/services/applications", body)
    assert created.status_code == 201
    reference = created.json()["reference"]
    assert created.json()["state"] == "submitted" and created.json()["fields_prefilled"] == 9
    assert created.json()["values"]["id_number"].startswith(world.person.id_number[:4] + "*")  # masked
    again = post(citizen, "/api/services/applications", body)
    assert again.status_code == 200 and again.json()["reference"] == reference
    assert Application.objects.count() == 1
    listed = citizen.get("/api/services/applications").json()
    assert [item["reference"] for item in listed] == [reference]
    status = citizen.get(f"/api/services/applications/{reference}").json()
    assert status["steps"][0]["kind"] == "opened" and status["deadline"] is not None
    # Someone else's application is "not found", like a missing one.
    assert client_for(world.agent).get(f"/api/services/applications/{reference}").status_code == 404
    early = post(citizen, f"/api/services/applications/{reference}/rating", {"rating": 5})
    assert early.status_code == 409
    application = Application.objects.get()
    case = case_transition(
        case=application.case, transition="accept", actor=world.handler, expected_version=1
    )
    case_transition(
        case=case, transition="reject", actor=world.handler, expected_version=2, note="年龄未满80周岁"
    )
    unhappy = post(citizen, f"/api/services/applications/{reference}/rating", {"rating": 1})
    assert unhappy.status_code == 422 and unhappy.json()["error"]["fields"][0]["path"] == "body.reasons"
    rated = post(
        citizen, f"/api/services/applications/{reference}/rating", {"rating": 2, "reasons": "没说清楚"}
    )
    assert rated.status_code == 200 and rated.json()["rating"] == 2 and rated.json()["state"] == "rejected"


def test_bad_values_answer_422_with_paths(granted):
    citizen = client_for(granted.citizen)
    answer = post(
        citizen,
        "/api/services/applications",
        {"matter": granted.subsidy.code, "values": {"phone": "x"}, "submission_key": "api-2"},
    )
    assert answer.status_code == 422
    paths = {field["path"] for field in answer.json()["error"]["fields"]}
    assert paths == {"body.values.reason", "body.values.phone"}
    upload_needed = post(
        citizen,
        "/api/services/applications",
        {"matter": granted.photo_matter.code, "values": {"reason": "x"}, "submission_key": "api-3"},
    )
    assert upload_needed.status_code == 422
    assert upload_needed.json()["error"]["fields"][0]["path"].startswith("body.materials.")
    assert not Application.objects.exists()
