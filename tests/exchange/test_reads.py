"""exchange_read: the permission matrix, refusals audited, evidence hashes recomputed."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from tests.exchange.conftest import ID_A
from yiwang.core.errors import FieldErrors, Forbidden
from yiwang.core.models import AuditEntry
from yiwang.exchange import services
from yiwang.exchange.evidence import evidence_verify, request_hash_of, response_hash_of
from yiwang.exchange.models import ExchangeRead, Grant
from yiwang.exchange.selectors import ReadRefused, exchange_read

pytestmark = pytest.mark.django_db
PURPOSE = "低保核查"


def read(hub, consumer, **kwargs):
    kwargs.setdefault("purpose", PURPOSE)
    return exchange_read(consumer=consumer, resource_code=hub.resource.code, subject=ID_A, **kwargs)


def test_owner_reads_every_field_even_closed(hub):
    result = read(hub, hub.owner)
    assert result.fields == ["claim_no", "id_number", "settled_on", "self_pay", "diagnosis"]
    assert {row["claim_no"] for row in result.rows} == {"C1", "C2"}
    assert result.rows[0]["diagnosis"] == "I10"


def test_consumer_without_grant_gets_open_fields_only(hub):
    result = read(hub, hub.outsider)
    assert result.fields == ["claim_no", "id_number", "settled_on"]
    assert all("self_pay" not in row and "diagnosis" not in row for row in result.rows)


def test_consumer_without_grant_asking_conditional_field_is_refused_and_audited(hub):
    with pytest.raises(ReadRefused, match="conditional"):
        read(hub, hub.outsider, fields=["self_pay"])
    entry = AuditEntry.objects.filter(action="exchange.read_refused").get()
    assert entry.after["consumer"] == "JY" and entry.purpose == PURPOSE
    assert not ExchangeRead.objects.filter(consumer=hub.outsider).exists()


def test_granted_consumer_reads_conditional_field(hub, granted):
    result = read(hub, hub.consumer)
    assert result.fields == ["claim_no", "id_number", "settled_on", "self_pay"]
    assert sorted(row["self_pay"] for row in result.rows) == ["1200.50", "300"]


def test_expired_grant_is_refused_with_reason_and_audited(hub, granted):
    Grant.objects.filter(pk=granted.pk).update(valid_to=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ReadRefused, match="expired"):
        read(hub, hub.consumer, fields=["self_pay"])
    entry = AuditEntry.objects.get(action="exchange.read_refused")
    assert "expired" in entry.after["reason"] and entry.after["fields"] == ["self_pay"]
    assert entry.after["consumer"] == "MZ" and entry.after["subject"] == "3603**********1234"
    # Without naming the field the consumer simply gets the open fields.
    assert "self_pay" not in read(hub, hub.consumer).fields
    assert services.grants_expire() == 1
    assert services.grants_expire() == 0


def test_closed_field_never_leaves_even_with_grant(hub, granted):
    with pytest.raises(ReadRefused, match="closed"):
        read(hub, hub.consumer, fields=["diagnosis"])
    entry = AuditEntry.objects.get(action="exchange.read_refused")
    assert "closed" in entry.after["reason"] and entry.purpose == PURPOSE
    assert not ExchangeRead.objects.exists()
    with pytest.raises(ReadRefused, match="closed"):
        exchange_read(
            consumer=hub.consumer,
            resource_code=hub.resource.code,
            filters={"diagnosis": "I10"},
            purpose=PURPOSE,
        )


def test_missing_purpose_is_refused_and_audited(hub):
    with pytest.raises(ReadRefused, match="purpose"):
        read(hub, hub.owner, purpose="  ")
    assert AuditEntry.objects.filter(action="exchange.read_refused").count() == 1


def test_unknown_field_is_a_field_error(hub):
    with pytest.raises(FieldErrors):
        read(hub, hub.owner, fields=["nonexistent"])


def test_closed_field_cannot_be_requested(hub):
    with pytest.raises(FieldErrors):
        services.access_request_submit(
            actor=hub.consumer_user,
            consumer=hub.consumer,
            resource=hub.resource,
            fields=["diagnosis"],
            purpose="x",
            legal_basis="y",
            duration_days=10,
        )


def test_conditional_request_needs_the_cdo(hub):
    request = services.access_request_submit(
        actor=hub.consumer_user,
        consumer=hub.consumer,
        resource=hub.resource,
        fields=["self_pay"],
        purpose="核查",
        legal_basis="办法",
        duration_days=10,
    )
    with pytest.raises(Forbidden):
        services.access_request_decide(actor=hub.owner_steward, request=request, approve=True)
    with pytest.raises(Forbidden):
        services.access_request_decide(actor=hub.outsider_user, request=request, approve=True)
    with pytest.raises(FieldErrors):
        services.access_request_decide(actor=hub.cdo, request=request, approve=False, reason="")
    services.access_request_decide(actor=hub.cdo, request=request, approve=False, reason="用途不明确")
    request.refresh_from_db()
    assert request.state == "refused" and not Grant.objects.exists()


def test_filter_read_with_paging(hub):
    first = exchange_read(
        consumer=hub.outsider,
        resource_code=hub.resource.code,
        filters={"id_number": ID_A},
        purpose=PURPOSE,
        page_size=1,
    )
    assert [row["claim_no"] for row in first.rows] == ["C1"] and first.has_more
    second = exchange_read(
        consumer=hub.outsider,
        resource_code=hub.resource.code,
        filters={"id_number": ID_A},
        purpose=PURPOSE,
        page=2,
        page_size=1,
    )
    assert [row["claim_no"] for row in second.rows] == ["C2"] and not second.has_more


def test_evidence_hashes_recomputed_from_stored_request_and_response(hub, granted):
    result = read(hub, hub.consumer)
    evidence = ExchangeRead.objects.get(pk=result.evidence.pk)
    assert request_hash_of(evidence.request) == evidence.request_hash
    assert response_hash_of(result.rows) == evidence.response_hash
    assert evidence_verify(evidence=evidence)
    assert evidence.purpose == PURPOSE and evidence.subject == ID_A and "self_pay" in evidence.fields
    # The same read again answers the same response hash; a tampered row no longer verifies.
    assert read(hub, hub.consumer).evidence.response_hash == evidence.response_hash
    ExchangeRead.objects.filter(pk=evidence.pk).update(purpose="something else", request={"forged": True})
    assert not evidence_verify(evidence=ExchangeRead.objects.get(pk=evidence.pk))


def test_read_fails_when_evidence_cannot_be_written(hub, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("evidence store down")

    monkeypatch.setattr(connection.ops, "adapt_datetimefield_value", broken)
    with pytest.raises(RuntimeError):
        read(hub, hub.owner)


def test_filter_value_of_the_wrong_type_is_a_field_error(hub):
    read(hub, hub.owner)  # the resource is now cached: the error is still decided fresh
    with pytest.raises(FieldErrors) as error:
        exchange_read(
            consumer=hub.owner,
            resource_code=hub.resource.code,
            filters={"settled_on": "not a date"},
            purpose=PURPOSE,
        )
    assert error.value.errors[0][0] == ("filters.settled_on",)


@pytest.mark.parametrize(
    ("backing", "expected"),
    [
        ("household_member", lambda member, unit: {"household_number": member.household.number}),
        ("property_owner", lambda member, unit: {"unit_number": unit.unit_number, "share": "1.0000"}),
    ],
)
def test_memberships_and_ownerships_are_read_by_the_persons_id_number(hub, backing, expected):
    from tests.factories import HouseholdMemberFactory, PropertyFactory

    member = HouseholdMemberFactory()
    unit = PropertyFactory(owners=[member.person])
    services.resource_publish(
        actor=hub.owner_steward,
        department=hub.owner,
        code=f"test.{backing}",
        title=backing,
        subject_type="person",
        key_field="id_number" if backing == "household_member" else "owner_id_number",
        subject_field="id_number" if backing == "household_member" else "owner_id_number",
        fields=[],
        backing=backing,
    )
    result = exchange_read(
        actor=hub.owner_steward,
        consumer=hub.owner,
        resource_code=f"test.{backing}",
        purpose="test",
        subject=member.person.id_number,
    )
    assert len(result.rows) == 1
    assert expected(member, unit).items() <= result.rows[0].items()
