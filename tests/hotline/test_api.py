"""The hotline's JSON API: intake by token, the loop with expected versions (409 on a
conflict), 422 naming each bad field, masking per role with audited unmasked reads, 404 for
missing and forbidden alike, list filters and paging."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.hotline.conftest import PASSWORD, request
from yiwang.core.models import AuditEntry
from yiwang.core.services import user_create
from yiwang.core.tokens import api_token_create
from yiwang.hotline import cases as states
from yiwang.hotline.models import Channel, Ticket

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def token_client(hotline) -> Client:
    system = user_create(actor=None, username="wechat-miniprogram", password=PASSWORD, roles=[])
    _, plain = api_token_create(actor=None, user=system, name="微信小程序")
    return Client(headers={"authorization": f"Bearer {plain}"})


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def file_ticket(hotline, **overrides) -> dict:
    response = post(client_for(hotline.citizen), "/api/hotline/tickets", request(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_system_files_a_ticket_by_token_and_sees_no_personal_data(hotline):
    response = post(token_client(hotline), "/api/hotline/tickets", request(category="urban-construction"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("RX") and body["token"]
    assert body["state"] == states.DISPATCHING and body["channel"] == Channel.API
    assert body["category"] == "urban-construction"  # the sender's choice, routing being untrained
    assert body["caller_phone"] == "138****1234" and body["caller_name"] == "王**"
    assert body["address"].endswith("****")
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.channel == Channel.API and ticket.caller_phone == "13807991234"
    assert ticket.citizen is None  # a system files on behalf of callers
    assert AuditEntry.objects.filter(action="hotline.intake", object_id=str(ticket.pk)).exists()
    # The system cannot read tickets afterwards: it is not the centre.
    assert token_client_get(response, hotline) == 404


def token_client_get(response, hotline) -> int:
    system = type(hotline.citizen).objects.get(username="wechat-miniprogram")
    _, plain = api_token_create(actor=None, user=system, name="again")
    client = Client(headers={"authorization": f"Bearer {plain}"})
    return client.get(f"/api/hotline/tickets/{response.json()['id']}").status_code


def test_no_credentials_is_401(hotline):
    response = post(Client(), "/api/hotline/tickets", request())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("overrides", "path", "quoted"),
    [
        ({"text": ""}, "body.text", None),
        ({"text": "   "}, "body.text", None),
        ({"text": "长" * 2001}, "body.text", "2001"),
        ({"caller_phone": "12345"}, "body.caller_phone", "12345"),
        ({"caller_phone": ""}, "body.caller_phone", None),
        ({"address": "北京市朝阳区建国路"}, "body.address", "北京市朝阳区建国路"),
        ({"kind": "gossip"}, "body.kind", None),
        ({"category": "no-such-service"}, "body.category", "no-such-service"),
        ({"latitude": "north"}, "body.latitude", None),
    ],
)
def test_bad_input_is_422_with_the_field_path_and_nothing_is_written(hotline, overrides, path, quoted):
    response = post(client_for(hotline.operator), "/api/hotline/tickets", request(**overrides))
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    fields = {field["path"]: field["message"] for field in error["fields"]}
    assert path in fields, fields
    if quoted:
        assert quoted in fields[path]
    assert Ticket.objects.count() == 0


def test_several_bad_fields_are_named_together(hotline):
    response = post(
        client_for(hotline.operator),
        "/api/hotline/tickets",
        {"kind": "gossip", "text": "", "caller_phone": "12345", "address": "火星基地"},
    )
    assert response.status_code == 422
    paths = {field["path"] for field in response.json()["error"]["fields"]}
    assert paths == {"body.kind", "body.text", "body.caller_phone", "body.address"}


def test_the_whole_loop_through_the_api_with_a_conflict_on_a_stale_version(hotline):
    filed = file_ticket(hotline)
    key = filed["reference"]
    assert filed["caller_phone"] == "13807991234"  # the citizen sees their own number
    assert filed["token"]
    dispatcher = client_for(hotline.dispatcher)
    dispatched = post(
        dispatcher,
        f"/api/hotline/tickets/{key}/dispatch",
        {
            "expected_version": filed["version"],
            "department": hotline.town_office.code,
            "category": "urban-construction",
        },
    )
    assert dispatched.status_code == 200, dispatched.json()
    body = dispatched.json()
    assert body["state"] == states.ASSIGNED and body["department"] == hotline.town_office.code
    assert body["category"] == "urban-construction"

    handler = client_for(hotline.handler)
    stale = post(handler, f"/api/hotline/tickets/{key}/accept", {"expected_version": filed["version"]})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    accepted = post(handler, f"/api/hotline/tickets/{key}/accept", {"expected_version": body["version"]})
    assert accepted.status_code == 200, accepted.json()
    assert "reply" in accepted.json()["transitions"]
    replied = post(
        handler,
        f"/api/hotline/tickets/{filed['id']}/reply",
        {"expected_version": accepted.json()["version"], "note": "已安排维修，三日内修复。"},
    )
    assert replied.status_code == 200, replied.json()
    assert replied.json()["state"] == states.REPLIED
    assert replied.json()["reply"] == "已安排维修，三日内修复。"

    citizen = client_for(hotline.citizen)
    unsatisfied = post(
        citizen,
        f"/api/hotline/tickets/{key}/rate",
        {"expected_version": replied.json()["version"], "rating": "unsatisfied"},
    )
    assert unsatisfied.status_code == 422
    assert unsatisfied.json()["error"]["fields"][0]["path"] == "body.note"
    rated = post(
        citizen,
        f"/api/hotline/tickets/{key}/rate",
        {"expected_version": replied.json()["version"], "rating": "satisfied"},
    )
    assert rated.status_code == 200, rated.json()
    assert rated.json()["state"] == states.CLOSED and rated.json()["rating"] == "satisfied"
    moves = [event["transition"] for event in rated.json()["timeline"] if event["transition"]]
    assert moves == ["dispatch", "accept", "reply", "rate_close"]


def test_return_press_cohandle_and_closed_but_not_resolved(hotline):
    filed = file_ticket(hotline)
    key = filed["id"]
    dispatcher = client_for(hotline.dispatcher)
    version = post(
        dispatcher,
        f"/api/hotline/tickets/{key}/dispatch",
        {"expected_version": filed["version"], "department": hotline.labour_branch.code},
    ).json()["version"]
    labour = client_for(hotline.labour_handler)
    no_reason = post(labour, f"/api/hotline/tickets/{key}/return", {"expected_version": version})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["fields"][0]["path"] == "body.note"
    returned = post(
        labour,
        f"/api/hotline/tickets/{key}/return",
        {"expected_version": version, "note": "路灯维修不属于人社部门职责"},
    )
    assert returned.status_code == 200, returned.json()
    assert returned.json()["state"] == states.DISPATCHING
    assert returned.json()["timeline"] == []  # no longer theirs to follow
    # Once returned, the labour bureau no longer sees the ticket.
    assert labour.get(f"/api/hotline/tickets/{key}").status_code == 404

    version = post(
        dispatcher,
        f"/api/hotline/tickets/{key}/dispatch",
        {"expected_version": returned.json()["version"], "department": hotline.town_office.code},
    ).json()["version"]
    handler = client_for(hotline.handler)
    version = post(handler, f"/api/hotline/tickets/{key}/accept", {"expected_version": version}).json()[
        "version"
    ]
    stale = post(
        handler,
        f"/api/hotline/tickets/{key}/cohandle",
        {"department": hotline.labour_branch.code, "expected_version": version - 1},
    )
    assert stale.status_code == 409
    unknown = post(handler, f"/api/hotline/tickets/{key}/cohandle", {"department": "NOPE"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"][0]["path"] == "body.department"
    cohandled = post(
        handler,
        f"/api/hotline/tickets/{key}/cohandle",
        {"department": hotline.labour_branch.code, "note": "涉及欠薪", "expected_version": version},
    )
    assert cohandled.status_code == 200, cohandled.json()
    assert cohandled.json()["co_handlers"] == [hotline.labour_branch.code]
    assert labour.get(f"/api/hotline/tickets/{key}").status_code == 200  # co-handlers see it again

    forbidden = post(
        dispatcher, f"/api/hotline/tickets/{key}/press", {"expected_version": version, "note": "快办"}
    )
    assert forbidden.status_code == 403
    supervisor = client_for(hotline.supervisor)
    pressed = post(
        supervisor, f"/api/hotline/tickets/{key}/press", {"expected_version": version, "note": "请今日内答复"}
    )
    assert pressed.status_code == 200, pressed.json()
    assert pressed.json()["state"] == states.SUPERVISED
    closed = post(
        supervisor,
        f"/api/hotline/tickets/{key}/close_unresolved",
        {"expected_version": pressed.json()["version"], "note": "线路改造需列入明年计划"},
    )
    assert closed.status_code == 200, closed.json()
    assert closed.json()["state"] == states.CLOSED_UNRESOLVED and closed.json()["closed_at"]


def test_the_centre_answers_a_consultation_and_merges_a_duplicate(hotline):
    first = file_ticket(hotline)
    second = file_ticket(
        hotline,
        kind="consultation",
        text="丹江街道建设社区小区门口路灯坏了一个多月了，晚上出行很不方便，希望尽快维修。",
        caller_phone="13907990000",
    )
    operator = client_for(hotline.operator)
    similar = operator.get(f"/api/hotline/tickets/{second['id']}/similar")
    assert similar.status_code == 200
    assert [row["ticket"]["reference"] for row in similar.json()] == [first["reference"]]
    assert similar.json()[0]["score"] >= 0.35
    missing = post(
        operator, f"/api/hotline/tickets/{second['id']}/merge", {"expected_version": 1, "into": "RX1-1"}
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["path"] == "body.into"
    merged = post(
        operator,
        f"/api/hotline/tickets/{second['id']}/merge",
        {"expected_version": second["version"], "into": first["reference"]},
    )
    assert merged.status_code == 200, merged.json()
    assert merged.json()["state"] == states.MERGED
    assert merged.json()["duplicate_of"] == first["reference"]

    answered = post(
        operator,
        f"/api/hotline/tickets/{first['id']}/answer",
        {"expected_version": first["version"], "note": "可到社区服务中心报修。"},
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["state"] == states.REPLIED


def test_personal_data_is_masked_unless_the_role_needs_it_and_unmasked_reads_are_audited(hotline):
    filed = file_ticket(hotline, text="路灯坏了，请打我另一个电话13912345678联系，丹江街道建设社区。")
    url = f"/api/hotline/tickets/{filed['id']}"
    before = AuditEntry.objects.filter(action="personal_data.read_unmasked").count()
    operator = client_for(hotline.operator).get(url).json()
    assert operator["caller_phone"] == "13807991234" and operator["caller_name"] == "王先生"
    assert "13912345678" in operator["text"]
    entry = AuditEntry.objects.filter(action="personal_data.read_unmasked").order_by("-id").first()
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").count() == before + 1
    assert entry.object_type == "hotline.ticket" and entry.object_id == str(filed["id"])
    assert entry.actor_id == hotline.operator.pk

    supervisor = client_for(hotline.supervisor).get(url).json()  # sees the ticket, not the caller
    assert supervisor["caller_phone"] == "138****1234" and supervisor["caller_name"] == "王**"
    assert "13912345678" not in supervisor["text"] and "139****5678" in supervisor["text"]
    assert supervisor["address"].endswith("****")
    assert supervisor["token"] is None


def test_missing_and_forbidden_tickets_are_the_same_404(hotline):
    filed = file_ticket(hotline)
    outsider = client_for(hotline.outsider)
    forbidden = outsider.get(f"/api/hotline/tickets/{filed['reference']}")
    missing = outsider.get("/api/hotline/tickets/RX2000-999999")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    refused = post(outsider, f"/api/hotline/tickets/{filed['id']}/accept", {"expected_version": 1})
    assert refused.status_code == 404
    assert outsider.get("/api/hotline/tickets").json()["count"] == 0


def test_lists_are_filtered_and_paged_per_viewer(hotline):
    first = file_ticket(hotline)
    file_ticket(hotline, kind="consultation", address="芦溪县南坑镇滨河路12号")
    file_ticket(hotline, kind="suggestion")
    other_citizen = user_create(
        actor=None, username="another", password=PASSWORD, roles=[("citizen", None, None)]
    )
    post(client_for(other_citizen), "/api/hotline/tickets", request(kind="praise"))

    operator = client_for(hotline.operator)
    everything = operator.get("/api/hotline/tickets").json()
    assert everything["count"] == 4
    assert operator.get("/api/hotline/tickets?kind=consultation").json()["count"] == 1
    town = operator.get(f"/api/hotline/tickets?division={hotline.town.pk}").json()
    assert town["count"] == 3
    assert operator.get(f"/api/hotline/tickets?state={states.DISPATCHING}").json()["count"] == 4
    assert operator.get("/api/hotline/tickets?received_from=2000-01-01&received_to=2000-12-31").json() == {
        "items": [],
        "count": 0,
        "page": 1,
        "page_size": 50,
    }
    page = operator.get("/api/hotline/tickets?page=2&page_size=3").json()
    assert page["count"] == 4 and len(page["items"]) == 1
    assert page["items"][0]["reference"] == first["reference"]  # newest first: the first is last
    bad = operator.get("/api/hotline/tickets?kind=gossip")
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["path"] == "query.kind"

    mine = client_for(hotline.citizen).get("/api/hotline/tickets").json()
    assert mine["count"] == 3  # not the other citizen's

    dispatcher = client_for(hotline.dispatcher)
    post(
        dispatcher,
        f"/api/hotline/tickets/{first['id']}/dispatch",
        {"expected_version": first["version"], "department": hotline.town_office.code},
    )
    handler = client_for(hotline.handler).get("/api/hotline/tickets").json()
    assert [row["reference"] for row in handler["items"]] == [first["reference"]]
    by_department = operator.get(f"/api/hotline/tickets?department={hotline.town_office.code}").json()
    assert by_department["count"] == 1


def test_categories_are_listed(hotline):
    response = client_for(hotline.citizen).get("/api/hotline/categories")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()]
    assert "urban-construction" in codes and len(codes) == 7


def test_a_page_costs_the_same_queries_for_few_or_many_tickets(hotline):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    operator = client_for(hotline.operator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get("/api/hotline/tickets").status_code == 200
        return len(captured)

    file_ticket(hotline)
    few = queries()
    for kind in ("consultation", "suggestion", "praise"):
        file_ticket(hotline, kind=kind)
    assert queries() == few
