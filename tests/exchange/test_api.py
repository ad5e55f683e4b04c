"""The exchange API: token auth, one error shape, reads with evidence, pushes with a report,
requests and decisions, the per-token rate limit."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from tests.exchange.conftest import ID_A, ROWS, lines
from yiwang.core.models import AuditEntry
from yiwang.core.tokens import api_token_create, api_token_revoke
from yiwang.exchange.models import ExchangeRead, Record

pytestmark = pytest.mark.django_db
BASE = "/api/exchange"


def client_for(user) -> Client:
    _token, plain = api_token_create(actor=None, user=user, name="system")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()


def test_catalog_and_detail(hub):
    client = client_for(hub.outsider_user)
    body = client.get(f"{BASE}/resources").json()
    assert body["count"] == 1 and body["items"][0]["code"] == "yb.self_pay_claims"
    detail = client.get(f"{BASE}/resources/yb.self_pay_claims").json()
    assert [(f["name"], f["sharing_class"]) for f in detail["fields"]][-2:] == [
        ("self_pay", "conditional"),
        ("diagnosis", "closed"),
    ]
    missing = client.get(f"{BASE}/resources/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_wrong_token_is_401_in_the_one_shape_and_audited(hub):
    response = Client(HTTP_AUTHORIZATION="Bearer yw_wrong-token-123").get(
        f"{BASE}/resources/yb.self_pay_claims/subjects/{ID_A}", {"purpose": "核查"}
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    assert "令牌无效" in response.json()["error"]["message"]
    entry = AuditEntry.objects.get(action="exchange.token_refused")
    assert entry.after["path"] == f"{BASE}/resources/yb.self_pay_claims/subjects/3603**********1234"
    assert entry.object_id == entry.after["path"][:64]
    assert entry.after["token_prefix"] == "yw_wrong" and "wrong-token-123" not in str(entry.after)
    assert not ExchangeRead.objects.exists()


def test_revoked_token_is_refused_and_audited(hub):
    token, plain = api_token_create(actor=None, user=hub.outsider_user, name="system")
    api_token_revoke(actor=None, token=token)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {plain}").get(f"{BASE}/grants")
    assert response.status_code == 401
    assert AuditEntry.objects.filter(action="exchange.token_refused", object_id=f"{BASE}/grants").exists()
    assert AuditEntry.objects.filter(action="exchange.token_refused").count() == 1


def test_no_credentials_is_401(hub):
    response = Client().get(f"{BASE}/resources")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_refused_reads_through_the_api_are_audited_with_their_reason(hub):
    client = client_for(hub.outsider_user)
    url = f"{BASE}/resources/yb.self_pay_claims/subjects/{ID_A}"
    assert client.get(url, {"purpose": "核查", "fields": ["diagnosis"]}).status_code == 403
    assert client.get(url, {"purpose": "核查", "fields": ["self_pay"]}).status_code == 403
    assert client.get(url).status_code == 403
    reasons = [
        entry.after["reason"]
        for entry in AuditEntry.objects.filter(action="exchange.read_refused").order_by("sequence")
    ]
    assert len(reasons) == 3
    assert "不予共享" in reasons[0] and "有条件共享" in reasons[1] and "用途" in reasons[2]
    assert not ExchangeRead.objects.exists()


def test_read_by_subject_and_refusals(hub):
    client = client_for(hub.outsider_user)
    url = f"{BASE}/resources/yb.self_pay_claims/subjects/{ID_A}"
    ok = client.get(url, {"purpose": "学生资助核查"})
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["fields"] == ["claim_no", "id_number", "settled_on"] and len(body["rows"]) == 2
    assert ExchangeRead.objects.get(pk=body["evidence_id"]).response_hash == body["response_hash"]
    no_purpose = client.get(url)
    assert no_purpose.status_code == 403
    assert (
        no_purpose.json()["error"]["code"] == "read_refused"
        and "用途" in no_purpose.json()["error"]["message"]
    )
    closed = client.get(url, {"purpose": "x", "fields": ["diagnosis"]})
    assert closed.status_code == 403 and "不予共享" in closed.json()["error"]["message"]


def test_request_decide_then_read_conditional(hub):
    consumer = client_for(hub.consumer_user)
    response = consumer.post(
        f"{BASE}/resources/yb.self_pay_claims/requests",
        {
            "fields": ["self_pay"],
            "purpose": "低保核查",
            "legal_basis": "《社会救助暂行办法》",
            "duration_days": 30,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    request_id = response.json()["id"]
    bad = consumer.post(
        f"{BASE}/resources/yb.self_pay_claims/requests",
        {"fields": ["diagnosis"], "purpose": "", "legal_basis": "x", "duration_days": 30},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {f["path"] for f in bad.json()["error"]["fields"]} == {"body.fields.0", "body.purpose"}
    owner = client_for(hub.owner_steward)
    refused = owner.post(
        f"{BASE}/requests/{request_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    cdo = client_for(hub.cdo)
    assert [r["id"] for r in cdo.get(f"{BASE}/requests").json()] == [request_id]
    approved = cdo.post(
        f"{BASE}/requests/{request_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    again = cdo.post(
        f"{BASE}/requests/{request_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert again.status_code == 409
    grants = consumer.get(f"{BASE}/grants").json()
    assert grants[0]["fields"] == ["self_pay"] and grants[0]["live"]
    readable = consumer.get(f"{BASE}/readable").json()
    assert readable[0]["fields"] == ["claim_no", "id_number", "settled_on", "self_pay"]
    body = consumer.get(
        f"{BASE}/resources/yb.self_pay_claims/records", {"purpose": "p", "filter": f"id_number={ID_A}"}
    ).json()
    assert sorted(row["self_pay"] for row in body["rows"]) == ["1200.50", "300"]
    bad_filter = consumer.get(
        f"{BASE}/resources/yb.self_pay_claims/records", {"purpose": "p", "filter": "nonsense"}
    )
    assert (
        bad_filter.status_code == 422 and bad_filter.json()["error"]["fields"][0]["path"] == "query.filter.0"
    )


def test_push_json_lines_and_file(hub):
    owner = client_for(hub.owner_steward)
    url = f"{BASE}/resources/yb.self_pay_claims/records"
    new = {"claim_no": "N1", "id_number": ID_A, "settled_on": "2026-07-01", "self_pay": "5"}
    ok = owner.post(url, lines(*ROWS, new), content_type="application/x-ndjson")
    assert ok.status_code == 200 and ok.json()["created"] == 1 and ok.json()["unchanged"] == 3
    bad = owner.post(url, lines(dict(new, settled_on="July")), content_type="application/x-ndjson")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"row": 1, "column": "settled_on", "reason": bad.json()["errors"][0]["reason"]}
    ]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("claims.csv", b"claim_no,id_number,settled_on\nF1,X,2026-01-01\n")
    filed = owner.post(f"{url}/file?mode=keep_good_rows", {"file": upload})
    assert filed.status_code == 200 and filed.json()["created"] == 1
    assert Record.objects.filter(key="F1").exists()
    outsider = client_for(hub.outsider_user).post(url, lines(new), content_type="application/x-ndjson")
    assert outsider.status_code == 403


@override_settings(YIWANG_EXCHANGE_RATE="3/m")
def test_rate_limit_per_token(hub):
    first, second = client_for(hub.outsider_user), client_for(hub.outsider_user)
    codes = [first.get(f"{BASE}/resources").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert first.get(f"{BASE}/resources").json()["error"]["code"] == "throttled"
    assert second.get(f"{BASE}/resources").status_code == 200


@override_settings(YIWANG_EXCHANGE_MAX_BATCH_BYTES=2000, DATA_UPLOAD_MAX_MEMORY_SIZE=500)
def test_json_lines_body_is_capped_by_the_exchange_limit_with_a_clear_413(hub):
    owner = client_for(hub.owner_steward)
    url = f"{BASE}/resources/yb.self_pay_claims/records"
    rows = [
        {"claim_no": f"B{index}", "id_number": ID_A, "settled_on": "2026-07-01", "self_pay": "5"}
        for index in range(12)
    ]
    body = lines(*rows)
    assert 500 < len(body) <= 2000  # over Django's form limit, under the exchange's batch limit
    ok = owner.post(url, body, content_type="application/x-ndjson")
    assert ok.status_code == 200 and ok.json()["created"] == 12
    big = lines(*(dict(row, claim_no=f"X{index}") for index, row in enumerate(rows * 3)))
    too_large = owner.post(url, big, content_type="application/x-ndjson")
    assert too_large.status_code == 413
    error = too_large.json()["error"]
    assert error["code"] == "too_large" and "2,000" in error["message"]
    assert not Record.objects.filter(key__startswith="X").exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("claims.jsonl", big)
    filed = owner.post(f"{url}/file", {"file": upload})
    assert filed.status_code == 413 and "2,000" in filed.json()["error"]["message"]
