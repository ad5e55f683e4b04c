"""The pages: the public verification page, the certificate page, my certificates, the check of
an uploaded file, the department's list with revocation, the seals."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.certs.conftest import PASSWORD, birth_fields
from yiwang.certs import documents, services
from yiwang.certs.models import CertificateStatus
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(world):
    return services.certificate_issue(
        type_code="CSYXZM", holder=world.person.id_number, fields=birth_fields(), actor=world.handler
    )


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_verify_page_is_public_and_masks_the_holder(client, world, certificate):
    url = reverse("certs:verify", kwargs={"number": certificate.number, "token": certificate.token})
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-outcome="valid"' in html
    assert world.person.id_number not in html
    assert world.person.id_number[:4] + "**********" + world.person.id_number[-4:] in html
    assert world.person.name not in html  # masked: first character and stars
    assert "萍乡市人民医院" in html  # a public field
    assert "2026-11-01" not in html  # the birth date is not public
    assert "萍乡市卫生健康委员会" in html and "<svg" in html
    # another token: its first character changed (a random token may already start with "x")
    altered = ("y" if certificate.token.startswith("x") else "x") + certificate.token[1:]
    wrong = reverse("certs:verify", kwargs={"number": certificate.number, "token": altered})
    assert client.get(wrong).status_code == 404


def test_verify_page_after_revocation(client, world, certificate):
    services.certificate_revoke(certificate=certificate, reason="登记错误", actor=world.handler)
    url = reverse("certs:verify", kwargs={"number": certificate.number, "token": certificate.token})
    html = client.get(url).content.decode()
    assert 'data-outcome="revoked"' in html and "登记错误" in html


def test_certificate_page_for_the_holder_has_seal_and_qr(client, world, certificate):
    login(client, world.citizen)
    response = client.get(reverse("certs:certificate", kwargs={"number": certificate.number}))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="seal"' in html and 'class="qr"' in html
    assert world.person.id_number in html and "2026-11-01" in html
    assert not AuditEntry.objects.filter(action="personal_data.read_unmasked").exists()
    document = client.get(reverse("certs:download", kwargs={"number": certificate.number}))
    assert document.status_code == 200
    assert json.loads(document.content) == documents.document_of(certificate)


def test_a_stranger_cannot_open_someone_elses_certificate(client, world, certificate):
    login(client, world.stranger)
    assert client.get(reverse("certs:certificate", kwargs={"number": certificate.number})).status_code == 404
    assert client.get(reverse("certs:download", kwargs={"number": certificate.number})).status_code == 404
    html = client.get(reverse("certs:mine")).content.decode()
    assert certificate.number not in html and 'id="no-certificates"' in html


def test_my_certificates_lists_mine(client, world, certificate):
    login(client, world.citizen)
    html = client.get(reverse("certs:mine")).content.decode()
    assert f'data-number="{certificate.number}"' in html


def test_staff_reading_a_certificate_is_audited(client, world, certificate):
    login(client, world.handler)
    assert client.get(reverse("certs:certificate", kwargs={"number": certificate.number})).status_code == 200
    entry = AuditEntry.objects.get(action="personal_data.read_unmasked")
    assert entry.object_id == str(certificate.pk) and entry.actor_label == world.handler.username


def test_the_department_revokes_from_the_certificate_page(client, world, certificate):
    login(client, world.handler)
    assert certificate.number in client.get(reverse("certs:issued")).content.decode()
    url = reverse("certs:revoke", kwargs={"number": certificate.number})
    client.post(url, {"reason": ""})
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID
    response = client.post(url, {"reason": "出生信息有误"}, follow=True)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED and certificate.revoked_reason == "出生信息有误"
    assert 'id="status-stamp"' in response.content.decode()


def test_the_holder_cannot_revoke(client, world, certificate):
    login(client, world.citizen)
    response = client.post(reverse("certs:revoke", kwargs={"number": certificate.number}), {"reason": "x"})
    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


def test_check_page_says_what_is_wrong(client, world, certificate):
    document = documents.document_of(certificate)
    html = client.post(reverse("certs:check"), {"text": json.dumps(document)}).content.decode()
    assert 'data-outcome="valid"' in html
    payload = json.loads(document["payload"])
    payload["fields"]["hospital"] = "某私人诊所"
    html = client.post(
        reverse("certs:check"), {"text": json.dumps(dict(document, payload=payload))}
    ).content.decode()
    assert 'data-outcome="tampered"' in html and 'data-path="fields.hospital"' in html
    response = client.post(reverse("certs:check"), {"text": "not json"})
    assert response.status_code == 422 and 'id="check-error"' in response.content.decode()


def test_seals_page_lists_public_keys(client, world):
    html = client.get(reverse("certs:seals")).content.decode()
    assert world.seal.public_key in html and world.seal.private_key_encrypted not in html


def test_workbench_links(client, world):
    login(client, world.citizen)
    html = client.get("/workbench/citizen/").content.decode()
    assert reverse("certs:mine") in html
    client.logout()
    login(client, world.handler)
    assert reverse("certs:issued") in client.get("/workbench/department_handler/").content.decode()


def test_an_administrator_rotates_a_seal(client, world, certificate):
    from tests.factories import UserFactory
    from yiwang.certs import selectors
    from yiwang.certs.models import Seal

    url = reverse("certs:seal_rotate", kwargs={"key_id": world.seal.key_id})
    login(client, world.handler)
    assert client.post(url).status_code == 403
    admin = UserFactory(username="certs-admin", role="admin", password=PASSWORD)
    client.logout()
    login(client, admin)
    assert 'action="' + url + '"' in client.get(reverse("certs:seals")).content.decode()
    client.post(url)
    world.seal.refresh_from_db()
    new = Seal.objects.get(department=world.department, superseded_at__isnull=True)
    assert not world.seal.is_active and new != world.seal
    certificate.refresh_from_db()
    assert selectors.certificate_verify(certificate=certificate).ok  # still verifies
    assert client.post(url).status_code == 404  # a superseded seal is not rotated again
