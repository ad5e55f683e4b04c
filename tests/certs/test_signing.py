"""Seals, issue, verification of stored and presented certificates, revocation, rotation."""

from __future__ import annotations

import copy
import datetime
import json

import pytest
from gmssl import sm2

from tests.certs.conftest import birth_fields
from yiwang.certs import crypto, documents, selectors, services
from yiwang.certs.models import Certificate, CertificateStatus, Seal
from yiwang.core.audit import audit_verify
from yiwang.core.errors import Conflict, FieldErrors
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def issue(world, **changes):
    arguments = {
        "type_code": "CSYXZM",
        "holder": world.person.id_number,
        "fields": birth_fields(),
        "actor": world.handler,
        "source": "test:1",
    }
    arguments.update(changes)
    return services.certificate_issue(**arguments)


def test_seal_private_key_is_encrypted_and_decrypts_to_the_public_key(world):
    seal = world.seal
    assert crypto.public_key_valid(seal.public_key)
    assert seal.private_key_encrypted.startswith(crypto.KEY_FORMAT + ":")
    private_key = crypto.private_key_decrypt(seal.private_key_encrypted)
    assert private_key not in seal.private_key_encrypted
    signature = crypto.signature_create(private_key=private_key, public_key=seal.public_key, message=b"x")
    assert crypto.signature_verify(public_key=seal.public_key, message=b"x", signature=signature)


def test_a_changed_master_key_is_refused_not_misused(world, settings):
    settings.YIWANG_SEAL_KEY = "another master key"
    with pytest.raises(crypto.SealKeyError):
        crypto.private_key_decrypt(world.seal.private_key_encrypted)


def test_signature_is_standard_sm3_with_sm2(world):
    """Any GM/T 0009 verifier accepts it: here gmssl's own verify_with_sm3."""
    certificate = issue(world)
    verifier = sm2.CryptSM2(private_key="", public_key="")
    verifier.public_key = world.seal.public_key  # gmssl's constructor mangles keys starting "04"
    assert verifier.verify_with_sm3(certificate.signature, certificate.payload.encode())
    assert certificate.digest == crypto.sm3_hex(certificate.payload.encode())


def test_issue_then_verify_ok(world):
    certificate = issue(world)
    assert certificate.number == f"CSYXZM-{certificate.issued_at.astimezone().year}-000001"
    assert certificate.holder_name == world.person.name
    assert certificate.status == CertificateStatus.VALID
    payload = json.loads(certificate.payload)
    assert payload["fields"]["child_name"] == "李小萍"
    assert payload["issuer"] == {
        "department": "WJT",
        "name": "萍乡市卫生健康委员会",
        "seal": world.seal.key_id,
    }
    verification = selectors.certificate_verify(certificate=certificate)
    assert verification.ok and verification.outcome == "valid" and verification.signature_valid
    entry = AuditEntry.objects.get(action="certs.certificate_issue")
    assert entry.after["number"] == certificate.number
    assert world.person.id_number not in json.dumps(entry.after)  # masked in the log
    assert audit_verify()[1] == []


def test_numbers_follow_each_other(world):
    first, second = issue(world), issue(world, fields=birth_fields(child_name="李小乡"))
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_issue_names_every_bad_argument_and_writes_nothing(world):
    with pytest.raises(FieldErrors) as caught:
        issue(world, holder="360302199001011235", fields={"child_name": "", "colour": "red", "hospital": 3.5})
    paths = {path for path, _message in caught.value.errors}
    assert paths == {
        ("holder",),
        ("fields", "colour"),
        ("fields", "hospital"),
        ("fields", "child_name"),
        ("fields", "birth_date"),
    }
    assert not Certificate.objects.exists()
    with pytest.raises(FieldErrors) as caught:
        issue(world, department=world.other_department)
    assert caught.value.errors[0][0] == ("department",)
    with pytest.raises(FieldErrors) as caught:
        issue(world, type_code="NOPE")
    assert caught.value.errors[0][0] == ("type_code",)


def test_a_department_without_seal_cannot_issue(world):
    Seal.objects.filter(department=world.department).update(
        superseded_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    with pytest.raises(FieldErrors) as caught:
        issue(world)
    assert "e-seal" in caught.value.errors[0][1] or "印章" in caught.value.errors[0][1]


def test_a_changed_field_in_the_database_shows_as_tampered(world):
    certificate = issue(world)
    Certificate.objects.filter(pk=certificate.pk).update(fields=birth_fields(hospital="某私人诊所"))
    certificate.refresh_from_db()
    verification = selectors.certificate_verify(certificate=certificate)
    assert verification.outcome == "tampered"
    assert [reason.path for reason in verification.reasons] == ["fields.hospital"]


def test_a_rewritten_payload_breaks_the_signature(world):
    certificate = issue(world)
    forged = certificate.payload.replace("萍乡市人民医院", "某私人诊所")
    Certificate.objects.filter(pk=certificate.pk).update(
        payload=forged, digest=crypto.sm3_hex(forged.encode()), fields=birth_fields(hospital="某私人诊所")
    )
    certificate.refresh_from_db()
    verification = selectors.certificate_verify(certificate=certificate)
    assert verification.outcome == "tampered" and not verification.signature_valid


def test_document_verify_ok_then_one_changed_field_is_named(world):
    certificate = issue(world)
    document = documents.document_of(certificate)
    assert selectors.document_verify(document=document).outcome == "valid"
    # the payload as an object (re-serialised canonically) verifies too
    as_object = dict(document, payload=json.loads(document["payload"]))
    assert selectors.document_verify(document=as_object).outcome == "valid"
    changed = copy.deepcopy(as_object)
    changed["payload"]["fields"]["child_name"] = "王小萍"
    verification = selectors.document_verify(document=changed)
    assert verification.outcome == "tampered"
    assert [reason.path for reason in verification.reasons] == ["fields.child_name"]
    assert not verification.signature_valid


def test_document_with_a_forged_signature(world):
    certificate = issue(world)
    document = documents.document_of(certificate)
    document["signature"] = document["signature"][:-4] + (
        "0000" if document["signature"][-4:] != "0000" else "1111"
    )
    verification = selectors.document_verify(document=document)
    assert verification.outcome == "tampered"
    assert verification.reasons[0].path == "signature"


def test_document_signed_with_another_seal_is_wrong_seal(world):
    certificate = issue(world)
    other_seal = Seal.objects.get(department=world.other_department)
    payload = json.loads(certificate.payload)
    payload["issuer"]["seal"] = other_seal.key_id
    private_key = crypto.private_key_decrypt(other_seal.private_key_encrypted)
    text = documents.canonical(payload)
    signature = crypto.signature_create(
        private_key=private_key, public_key=other_seal.public_key, message=text.encode()
    )
    verification = selectors.document_verify(document={"payload": text, "signature": signature})
    assert verification.outcome == "wrong_seal"
    payload["issuer"]["seal"] = "0123456789abcdef"
    verification = selectors.document_verify(document={"payload": payload, "signature": signature})
    assert verification.outcome == "wrong_seal"


def test_document_of_an_unknown_number(world):
    certificate = issue(world)
    payload = json.loads(certificate.payload)
    payload["number"] = "CSYXZM-2026-999999"
    verification = selectors.document_verify(
        document={"payload": payload, "signature": certificate.signature}
    )
    assert verification.outcome == "tampered"  # the signature no longer matches
    assert "unknown" in {reason.code for reason in verification.reasons}


def test_malformed_documents_are_refused_naming_the_part(world):
    for document, path in (
        ("not an object", "document"),
        ({"signature": "ab"}, "payload"),
        ({"payload": "{not json", "signature": "ab"}, "payload"),
        ({"payload": {"fields": {}}, "signature": "ab"}, "payload"),
        ({"payload": {"number": "X"}}, "signature"),
    ):
        with pytest.raises(FieldErrors) as caught:
            selectors.document_verify(document=document)
        assert caught.value.errors[0][0] == (path,)


def test_revoke_then_verify_says_revoked_with_the_reason(world):
    certificate = issue(world)
    with pytest.raises(FieldErrors):
        services.certificate_revoke(certificate=certificate, reason=" ", actor=world.handler)
    services.certificate_revoke(certificate=certificate, reason="信息登记错误", actor=world.handler)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    verification = selectors.certificate_verify(certificate=certificate)
    assert verification.outcome == "revoked"
    assert "信息登记错误" in verification.reasons[0].message
    assert selectors.document_verify(document=documents.document_of(certificate)).outcome == "revoked"
    with pytest.raises(Conflict):
        services.certificate_revoke(certificate=certificate, reason="again", actor=world.handler)
    assert AuditEntry.objects.filter(action="certs.certificate_revoke").count() == 1


def test_rotated_seal_old_certificate_still_verifies(world):
    old = issue(world)
    new_seal = services.seal_create(department=world.department, actor="test")
    world.seal.refresh_from_db()
    assert not world.seal.is_active and new_seal.is_active
    assert Seal.objects.filter(department=world.department, superseded_at__isnull=True).get() == new_seal
    new = issue(world, holder=world.person.id_number, fields=birth_fields(child_name="李小乡"))
    assert new.seal == new_seal and old.seal == world.seal
    old.refresh_from_db()
    # the new certificate superseded the old one of the same type for the same holder …
    assert old.status == CertificateStatus.SUPERSEDED and old.superseded_by == new
    # … but its signature under the superseded seal still verifies
    verification = selectors.certificate_verify(certificate=old)
    assert verification.signature_valid and verification.outcome == "superseded"
    assert selectors.document_verify(document=documents.document_of(old)).signature_valid
    assert selectors.certificate_verify(certificate=new).outcome == "valid"


def test_expired_certificate(world):
    certificate = issue(world, valid_to=datetime.date(2030, 1, 1))
    verification = selectors.certificate_verify(certificate=certificate, on=datetime.date(2030, 1, 2))
    assert verification.outcome == "expired"


def test_certificates_of_a_holder_are_the_valid_ones(world):
    certificate = issue(world)
    licence = services.certificate_issue(
        type_code="YYZZ",
        holder=world.enterprise.uscc,
        fields={"name": world.enterprise.name, "legal_representative": "张伟"},
        actor="test",
    )
    assert licence.valid_to == licence.valid_from + datetime.timedelta(days=365 * 20 - 1)
    assert list(selectors.certificates_of(holder=world.person.id_number)) == [certificate]
    assert selectors.certificate_held(holder=world.enterprise.uscc, type_code="YYZZ") == licence
    assert selectors.certificate_held(holder=world.enterprise.uscc, type_code="CSYXZM") is None
    services.certificate_revoke(certificate=certificate, reason="错误", actor="test")
    assert not selectors.certificates_of(holder=world.person.id_number).exists()
    assert not selectors.certificates_of(
        holder=world.enterprise.uscc, on=licence.valid_to + datetime.timedelta(days=1)
    ).exists()


def test_my_certificates_only_shows_my_own(world):
    mine = issue(world)
    licence = services.certificate_issue(
        type_code="YYZZ",
        holder=world.enterprise.uscc,
        fields={"name": "甲", "legal_representative": "乙"},
        actor="t",
    )
    assert list(selectors.certificates_of_user(user=world.citizen)) == [mine]
    assert list(selectors.certificates_of_user(user=world.stranger)) == []
    assert list(selectors.certificates_of_user(user=world.agent)) == [licence]
    assert selectors.access_certificate(user=world.citizen, number=mine.number) == mine
    assert selectors.access_certificate(user=world.handler, number=mine.number) == mine
    from yiwang.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.access_certificate(user=world.stranger, number=mine.number)
    with pytest.raises(NotFound):
        selectors.access_certificate(user=world.handler, number=licence.number)  # not their department


def test_a_public_key_starting_with_04_signs_and_verifies():
    """gmssl's constructor strips leading 0s and 4s from such a key (1 key in 256)."""
    while True:
        private_key, public_key = crypto.key_pair_generate()
        if public_key.startswith("04"):
            break
    signature = crypto.signature_create(private_key=private_key, public_key=public_key, message=b"m")
    assert crypto.signature_verify(public_key=public_key, message=b"m", signature=signature)
    assert not crypto.signature_verify(public_key=public_key, message=b"n", signature=signature)
