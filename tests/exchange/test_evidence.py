"""The evidence log: every served read is a link of a hash chain; changed, removed and
inserted rows are found and named; if the evidence cannot be written the read fails; the
readers' cached grants follow every change of the catalog and the grants."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.exchange.conftest import FIELDS, ID_A
from yiwang.core.audit import GENESIS
from yiwang.core.models import AuditEntry
from yiwang.exchange import evidence, services
from yiwang.exchange.evidence import (
    StaleCatalog,
    catalog_version_bump,
    evidence_chain_verify,
    evidence_verify,
)
from yiwang.exchange.models import EvidenceHead, ExchangeRead
from yiwang.exchange.selectors import EvidenceBatch, ReadRefused, exchange_read

pytestmark = pytest.mark.django_db
PURPOSE = "低保核查"


def read(hub, consumer, **kwargs):
    kwargs.setdefault("purpose", PURPOSE)
    return exchange_read(consumer=consumer, resource_code=hub.resource.code, subject=ID_A, **kwargs)


def _chain(hub, granted, n=5):
    for _ in range(n):
        read(hub, hub.consumer)
    return list(ExchangeRead.objects.order_by("id"))


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_each_row_links_to_the_previous_and_the_chain_verifies(hub, granted):
    rows = _chain(hub, granted)
    assert [row.sequence for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].previous_hash == GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.previous_hash == before.hash
    assert all(evidence_verify(evidence=row) for row in rows)
    head = EvidenceHead.objects.get()
    assert (head.sequence, head.hash) == (5, rows[-1].hash)
    assert evidence_chain_verify() == (5, [])


def test_a_changed_column_is_found_and_named(hub, granted):
    rows = _chain(hub, granted)
    # Only the purpose column: the stored request still matches its own hash.
    ExchangeRead.objects.filter(pk=rows[2].pk).update(purpose="别的用途")
    checked, problems = evidence_chain_verify()
    assert checked == 5
    assert [(p.kind, p.evidence_id, p.sequence) for p in problems] == [("changed", rows[2].pk, 3)]
    with pytest.raises(CommandError, match="1 problem"):
        call_command("exchange", "verify")


def test_a_changed_subject_or_field_list_is_found(hub, granted):
    rows = _chain(hub, granted, n=3)
    ExchangeRead.objects.filter(pk=rows[0].pk).update(subject="360302199201020026")
    ExchangeRead.objects.filter(pk=rows[1].pk).update(fields=["claim_no"])
    assert [(p.kind, p.evidence_id) for p in evidence_chain_verify()[1]] == [
        ("changed", rows[0].pk),
        ("changed", rows[1].pk),
    ]


def test_a_removed_row_is_found_where_the_link_breaks(hub, granted):
    rows = _chain(hub, granted)
    ExchangeRead.objects.filter(pk=rows[1].pk).delete()
    problems = evidence_chain_verify()[1]
    assert [(p.kind, p.evidence_id, p.sequence) for p in problems] == [("deleted", rows[2].pk, 3)]
    assert "1 row(s) missing" in str(problems[0])


def test_removed_rows_at_the_end_are_found_by_the_head(hub, granted):
    rows = _chain(hub, granted)
    ExchangeRead.objects.filter(pk__in=[rows[3].pk, rows[4].pk]).delete()
    problems = evidence_chain_verify()[1]
    assert [(p.kind, p.sequence) for p in problems] == [("deleted", 4)]
    assert "head records #5" in problems[0].detail


def test_an_inserted_row_is_found(hub, granted):
    rows = _chain(hub, granted, n=3)
    forged = ExchangeRead.objects.get(pk=rows[1].pk)
    forged.pk = None
    forged.subject = "360302199201020026"
    forged.save()
    # Renumber so that the forged row sits between the second and the third read.
    ExchangeRead.objects.filter(pk=rows[2].pk).update(sequence=4)
    _raw("UPDATE exchange_exchangeread SET id = %s WHERE id = %s", [rows[2].pk + 1000, rows[2].pk])
    problems = evidence_chain_verify()[1]
    assert ("changed", forged.pk) in [(p.kind, p.evidence_id) for p in problems]
    assert all(p.evidence_id != rows[0].pk for p in problems)


def test_the_command_says_the_chain_is_intact(hub, granted, capsys):
    _chain(hub, granted, n=2)
    call_command("exchange", "verify")
    assert "evidence chain intact: 2 rows verified" in capsys.readouterr().out


def test_read_fails_and_nothing_is_written_when_the_evidence_insert_fails(hub, granted, monkeypatch):
    read(hub, hub.consumer)
    monkeypatch.setattr(evidence, "EVIDENCE_TABLE", "exchange_no_such_table")
    with pytest.raises(Exception, match="no_such_table|does not exist"):
        read(hub, hub.consumer)
    monkeypatch.undo()
    assert ExchangeRead.objects.count() == 1
    assert EvidenceHead.objects.get().sequence == 1  # the head moved back with the failed append
    assert evidence_chain_verify() == (1, [])


def test_a_grant_ending_while_cached_is_refused_from_that_moment(hub, granted):
    assert "self_pay" in read(hub, hub.consumer).fields  # the grant is now cached
    after = granted.valid_to + datetime.timedelta(seconds=1)
    with pytest.raises(ReadRefused, match="expired"):
        read(hub, hub.consumer, fields=["self_pay"], now=after)
    assert "self_pay" not in read(hub, hub.consumer, now=after).fields
    assert AuditEntry.objects.filter(action="exchange.read_refused").count() == 1


def test_a_new_grant_is_seen_by_a_reader_that_cached_the_refusal(hub):
    assert "self_pay" not in read(hub, hub.consumer).fields
    request = services.access_request_submit(
        actor=hub.consumer_user,
        consumer=hub.consumer,
        resource=hub.resource,
        fields=["self_pay"],
        purpose="核查",
        legal_basis="办法",
        duration_days=5,
    )
    services.access_request_decide(actor=hub.cdo, request=request, approve=True)
    assert "self_pay" in read(hub, hub.consumer).fields


def test_a_field_closed_by_republishing_stops_leaving_at_once(hub, granted):
    assert "self_pay" in read(hub, hub.consumer).fields
    closed = [dict(spec, sharing_class="closed") if spec["name"] == "self_pay" else spec for spec in FIELDS]
    services.resource_publish(
        actor=hub.owner_steward,
        department=hub.owner,
        code=hub.resource.code,
        title=hub.resource.title,
        subject_type="person",
        key_field="claim_no",
        subject_field="id_number",
        fields=closed,
    )
    result = read(hub, hub.consumer)
    assert "self_pay" not in result.fields and all("self_pay" not in row for row in result.rows)
    with pytest.raises(ReadRefused, match="closed"):
        read(hub, hub.consumer, fields=["self_pay"])


def test_another_process_changing_the_catalog_invalidates_this_cache(hub, granted, monkeypatch):
    """A reader whose cache was loaded under an older catalog version reads again, fresh."""
    read(hub, hub.consumer)
    loads = []
    real = evidence.catalog_version_get
    monkeypatch.setattr("yiwang.exchange.selectors.catalog_version_get", lambda: loads.append(1) or real())
    catalog_version_bump()  # as another process's service would, in its own transaction
    read(hub, hub.consumer)
    assert loads == [1]  # the stale cache was dropped and reloaded once
    read(hub, hub.consumer)
    assert loads == [1]  # and is trusted again
    assert evidence_chain_verify() == (3, [])


@pytest.mark.django_db(transaction=True)
def test_concurrent_readers_keep_one_unbroken_chain(hub, granted):
    """Readers in several threads (each its own database connection) append at the same time:
    the head's lock orders them into one chain with no gap and no fork."""
    import threading

    from django.db import connections

    errors = []

    def reader():
        try:
            for _ in range(10):
                read(hub, hub.consumer)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert evidence_chain_verify() == (40, [])
    assert sorted(ExchangeRead.objects.values_list("sequence", flat=True)) == list(range(1, 41))


def test_a_batch_of_reads_appends_its_rows_together_once_recorded(hub, granted):
    _chain(hub, granted, n=1)
    batch = EvidenceBatch()
    results = [read(hub, hub.consumer, batch=batch) for _ in range(3)]
    assert all(result.rows and result.evidence is None for result in results)
    assert ExchangeRead.objects.count() == 1  # nothing appended before record()
    appended = batch.record()
    assert [row.sequence for row in appended] == [2, 3, 4]
    rows = list(ExchangeRead.objects.order_by("id"))
    assert [row.pk for row in rows[1:]] == [row.pk for row in appended]
    assert rows[2].previous_hash == rows[1].hash
    assert evidence_chain_verify() == (4, [])


def test_a_batch_read_under_a_catalog_changed_since_is_not_recorded(hub, granted):
    batch = EvidenceBatch()
    read(hub, hub.consumer, batch=batch)
    catalog_version_bump()  # a grant or a field changed before the batch was recorded
    with pytest.raises(StaleCatalog):
        batch.record()
    assert not ExchangeRead.objects.exists()
