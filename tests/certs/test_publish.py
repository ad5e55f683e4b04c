"""The register published to the exchange (zs.e_certificates): idempotent, revocations follow."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.certs.conftest import birth_fields
from yiwang.certs import services
from yiwang.certs.publish import RESOURCE_CODE, certificates_publish
from yiwang.core.reference import reference_load
from yiwang.exchange.models import Record, Resource

pytestmark = pytest.mark.django_db


def test_publish_register_to_the_exchange(world, capsys):
    reference_load()
    certificate = services.certificate_issue(
        type_code="CSYXZM", holder=world.person.id_number, fields=birth_fields(), actor="test"
    )
    result = certificates_publish()
    assert result["rows"] == 1 and result["created"] == 1
    resource = Resource.objects.get(code=RESOURCE_CODE)
    record = Record.objects.get(resource=resource)
    assert record.key == certificate.number
    assert certificates_publish()["duplicate"] is True
    services.certificate_revoke(certificate=certificate, reason="错误", actor="test")
    call_command("certs_publish")
    assert "updated=1" in capsys.readouterr().out
    record.refresh_from_db()
    assert record.data["status"] == "revoked"
