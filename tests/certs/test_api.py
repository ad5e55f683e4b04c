"""The API: public verification of a presented certificate (and why it fails), the QR check,
the seals, and issue / revoke / read by the people who may."""

from __future__ import annotations

import json

import pytest

from tests.certs.conftest import PASSWORD, birth_fields
from yiwang.certs import documents, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(world):
    return services.certificate_issue(
        type_code="CSYXZM", holder=world.person.id_number, fields=birth_fields(), actor=world.handler
    )


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_verify_endpoint_ok_tampered_revoked(client, world, certificate):
    document = documents.document_of(certificate)
    response = post(client, "/api/certs/verify", document)
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "valid" and body["valid"] and body["signature_valid"]
    assert body["certificate"]["holder"] != world.person.id_number  # masked for the public
    payload = json.loads(document["payload"])
    payload["fields"]["child_name"] = "王小萍"
    body = post(client, "/api/certs/verify", {"payload": payload, "signature": document["signature"]}).json()
    assert body["outcome"] == "tampered" and [r["path"] for r in body["reasons"]] == ["fields.child_name"]
    services.certificate_revoke(certificate=certificate, reason="重复签发", actor="test")
    body = post(client, "/api/certs/verify", document).json()
    assert body["outcome"] == "revoked" and "重复签发" in body["reasons"][0]["message"]


def test_verify_endpoint_refuses_malformed_input_naming_the_field(client, world):
    response = post(client, "/api/certs/verify", {"signature": "ab"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == "body.payload"
    response = post(client, "/api/certs/verify", {"payload": {"number": "X"}})
    assert response.json()["error"]["fields"][0]["path"] == "body.signature"


def test_qr_check_and_seals_are_public(client, world, certificate):
    body = client.get(f"/api/certs/verify/{certificate.number}/{certificate.token}").json()
    assert body["outcome"] == "valid" and body["seal"] == world.seal.key_id
    assert client.get(f"/api/certs/verify/{certificate.number}/wrong").status_code == 404
    seals = client.get("/api/certs/seals").json()
    assert world.seal.public_key in {seal["public_key"] for seal in seals}
    assert "private_key_encrypted" not in json.dumps(seals)
    assert {t["code"] for t in client.get("/api/certs/types").json()} == {"CSYXZM", "YYZZ"}


def test_issue_and_revoke_through_the_api(client, world):
    assert client.login(username=world.handler.username, password=PASSWORD)
    response = post(
        client,
        "/api/certs/certificates",
        {"type_code": "CSYXZM", "holder": world.person.id_number, "fields": birth_fields(), "source": "api"},
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert response.json()["document"]["signature"]
    response = post(client, "/api/certs/certificates", {"type_code": "CSYXZM", "holder": "1", "fields": {}})
    assert response.status_code == 422
    assert {f["path"] for f in response.json()["error"]["fields"]} >= {
        "body.holder",
        "body.fields.child_name",
    }
    # another department's type is not theirs to issue
    response = post(
        client,
        "/api/certs/certificates",
        {"type_code": "YYZZ", "holder": world.enterprise.uscc, "fields": {}},
    )
    assert response.status_code == 404
    response = post(client, f"/api/certs/certificates/{number}/revoke", {"reason": "测试撤销"})
    assert response.status_code == 200 and response.json()["status"] == "revoked"


def test_holder_reads_own_not_others(client, world, certificate):
    assert client.login(username=world.citizen.username, password=PASSWORD)
    assert [c["number"] for c in client.get("/api/certs/certificates").json()] == [certificate.number]
    assert client.get(f"/api/certs/certificates/{certificate.number}").status_code == 200
    response = post(client, f"/api/certs/certificates/{certificate.number}/revoke", {"reason": "x"})
    assert response.status_code == 404
    client.logout()
    assert client.login(username=world.stranger.username, password=PASSWORD)
    assert client.get("/api/certs/certificates").json() == []
    assert client.get(f"/api/certs/certificates/{certificate.number}").status_code == 404


def test_staff_reading_through_the_api_is_audited(client, world, certificate):
    from yiwang.core.models import AuditEntry

    assert client.login(username=world.handler.username, password=PASSWORD)
    assert client.get(f"/api/certs/certificates/{certificate.number}").status_code == 200
    entry = AuditEntry.objects.get(action="personal_data.read_unmasked")
    assert entry.object_id == str(certificate.pk) and "API" in entry.purpose
