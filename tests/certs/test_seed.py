"""certs_seed: seals, types and demo certificates, twice without change."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.factories import EnterpriseFactory, PersonFactory, PropertyFactory, UserFactory
from yiwang.certs import selectors
from yiwang.certs.models import Certificate, CertificateType, Seal
from yiwang.certs.seed import CERTIFICATE_TYPES
from yiwang.core.models import AuditEntry
from yiwang.core.reference import reference_load
from yiwang.registry.models import EnterpriseAgent

pytestmark = pytest.mark.django_db


def test_certs_seed_is_idempotent(capsys):
    reference_load()
    citizen = UserFactory(username="citizen", role="citizen")
    person = PersonFactory(user=citizen)
    PropertyFactory(owners=[person])
    agent = UserFactory(username="enterprise_agent", role="enterprise_agent")
    EnterpriseAgent.objects.create(enterprise=EnterpriseFactory(), user=agent)

    call_command("certs_seed")
    assert CertificateType.objects.count() == len(CERTIFICATE_TYPES)
    assert Seal.objects.filter(department__code="BDCDJ", superseded_at__isnull=True).count() == 1
    assert {c.certificate_type.code for c in selectors.certificates_of_user(user=citizen)} == {
        "SBK",
        "BDCQZS",
    }
    assert [c.certificate_type.code for c in selectors.certificates_of_user(user=agent)] == ["YYZZ"]
    for certificate in Certificate.objects.all():
        assert selectors.certificate_verify(certificate=certificate).ok
    entries = AuditEntry.objects.count()
    seals = set(Seal.objects.values_list("key_id", flat=True))

    call_command("certs_seed")
    assert AuditEntry.objects.count() == entries
    assert set(Seal.objects.values_list("key_id", flat=True)) == seals
    assert Certificate.objects.count() == 3
    assert "0 seals created" in capsys.readouterr().out.splitlines()[-1]
