import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from tests.core.open_transaction import while_a_transaction_is_open
from yiwang.core.audit import GENESIS, audit_record, audit_verify, entry_hash
from yiwang.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def _chain(n=6):
    for i in range(1, n + 1):
        audit_record(
            actor="test",
            action="thing.create",
            object_type="test.thing",
            object_id=i,
            after={"n": i, "name": f"事项{i}", "amount": "12.50"},
        )


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_chain_links_each_entry_to_the_previous_and_verifies():
    _chain()
    entries = list(AuditEntry.objects.order_by("sequence"))
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].previous_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.previous_hash == before.hash
    assert audit_verify() == (6, [])
    head = AuditHead.objects.get()
    assert (head.sequence, head.hash) == (6, entries[-1].hash)


def test_hash_is_keyed_sm3():
    _chain(1)
    entry = AuditEntry.objects.get()
    assert len(entry.hash) == 64
    # not a plain SM3 or SHA-256 of the content: forging needs the key
    assert entry.hash != hashlib.new("sm3", entry.previous_hash.encode()).hexdigest()
    assert entry_hash(entry) == entry.hash


def test_changed_row_is_named():
    _chain()
    _raw("UPDATE core_auditentry SET action = 'thing.delete' WHERE sequence = 3")
    checked, problems = audit_verify()
    assert checked == 6
    assert [(p.kind, p.sequence) for p in problems] == [("changed", 3)]


def test_changed_json_value_is_named():
    _chain()
    entry = AuditEntry.objects.get(sequence=4)
    AuditEntry.objects.filter(pk=entry.pk).update(after={"n": 4, "name": "事项4", "amount": "99.00"})
    assert [(p.kind, p.sequence) for p in audit_verify()[1]] == [("changed", 4)]


def test_deleted_row_is_named():
    _chain()
    _raw("DELETE FROM core_auditentry WHERE sequence = 4")
    assert [(p.kind, p.sequence) for p in audit_verify()[1]] == [("deleted", 4)]


def test_deleted_row_with_renumbering_is_named():
    _chain()
    _raw("DELETE FROM core_auditentry WHERE sequence = 4")
    for seq in (5, 6):
        _raw("UPDATE core_auditentry SET sequence = %s WHERE sequence = %s", (seq - 1, seq))
    AuditHead.objects.update(sequence=5)
    kinds = [(p.kind, p.sequence) for p in audit_verify()[1]]
    assert ("deleted", 4) in kinds
    assert all(kind == "deleted" for kind, _ in kinds)


def test_deleted_newest_row_is_named_by_the_head():
    _chain()
    _raw("DELETE FROM core_auditentry WHERE sequence = 6")
    assert [(p.kind, p.sequence) for p in audit_verify()[1]] == [("deleted", 6)]


def _forge_after(sequence_of_predecessor: int, new_sequence: int) -> None:
    predecessor = AuditEntry.objects.get(sequence=sequence_of_predecessor)
    forged = AuditEntry(
        sequence=new_sequence,
        at=predecessor.at,
        actor_label="intruder",
        action="thing.create",
        object_type="test.thing",
        object_id="x",
        after={"n": "x"},
        previous_hash=predecessor.hash,
        hash=hashlib.sha256(b"forged").hexdigest(),
    )
    forged.save(force_insert=True)


def test_inserted_row_in_the_middle_is_named():
    _chain()
    for seq in (6, 5, 4):  # make room after #3
        _raw("UPDATE core_auditentry SET sequence = %s WHERE sequence = %s", (seq + 1, seq))
    _forge_after(3, 4)
    AuditHead.objects.update(sequence=7)
    assert [(p.kind, p.sequence) for p in audit_verify()[1]] == [("inserted", 4)]


def test_inserted_row_at_the_end_is_named():
    _chain()
    _forge_after(6, 7)
    kinds = [(p.kind, p.sequence) for p in audit_verify()[1]]
    assert ("inserted", 7) in kinds


def test_rolled_back_service_leaves_no_entry():
    _chain(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor="test", action="thing.create")
        raise RuntimeError("service failed")
    assert AuditEntry.objects.count() == 2
    assert audit_verify() == (2, [])


def test_entries_are_sealed_into_the_chain_when_their_transaction_ends():
    _chain(2)
    with transaction.atomic():  # under the test case's blocks: this block stands for a transaction
        first = audit_record(actor="test", action="thing.update", object_id=1)
        second = audit_record(actor="test", action="thing.update", object_id=2)
        # Written, not yet sealed: the head is not taken until the transaction ends.
        assert AuditEntry.objects.filter(pk__in=[first.pk, second.pk], sequence__isnull=True).count() == 2
        assert AuditHead.objects.get().sequence == 2
    assert (first.sequence, second.sequence) == (3, 4)
    assert second.previous_hash == first.hash
    assert AuditHead.objects.get().hash == second.hash
    assert list(AuditEntry.objects.values_list("sequence", "hash").filter(pk=second.pk)) == [(4, second.hash)]
    assert audit_verify() == (4, [])


def test_an_entry_of_a_rolled_back_savepoint_is_left_out_of_the_chain():
    with transaction.atomic():
        kept = audit_record(actor="test", action="thing.create", object_id=1)
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(actor="test", action="thing.create", object_id=2)
            raise RuntimeError("step failed")
        last = audit_record(actor="test", action="thing.create", object_id=3)
    assert (kept.sequence, last.sequence) == (1, 2)
    assert last.previous_hash == kept.hash
    assert audit_verify() == (2, [])


def test_an_unsealed_entry_added_behind_the_platforms_back_is_named():
    _chain(2)
    _raw(
        "INSERT INTO core_auditentry (at, actor_label, action, object_type, object_id, purpose, previous_hash)"
        " VALUES (%s, 'intruder', 'thing.delete', '', '', '', '')",
        (AuditEntry.objects.get(sequence=2).at,),
    )
    checked, problems = audit_verify()
    assert checked == 2
    assert [(p.kind, "not sealed" in p.detail) for p in problems] == [("inserted", True)]


def test_cli_verify_fails_and_names_the_entry(capsys):
    _chain()
    call_command("audit", "verify")
    assert "6 entries verified" in capsys.readouterr().out
    _raw("UPDATE core_auditentry SET purpose = 'x' WHERE sequence = 2")
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    assert "entry #2 changed" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    """Writers in several threads append at once: each transaction's entries are sealed in
    turn under the head's lock."""
    import threading

    from django.db import connections

    errors = []

    def writer(name):
        try:
            for i in range(15):
                with transaction.atomic():
                    audit_record(actor=name, action="thing.create", object_id=i)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(f"writer{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == list(
        range(1, 46)
    )
    assert audit_verify() == (45, [])


@pytest.mark.django_db(transaction=True)
def test_a_transaction_after_one_rolled_back_seals_only_its_own_entries():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor="test", action="thing.create", object_id=1)
        raise RuntimeError("service failed")
    with transaction.atomic():
        kept = audit_record(actor="test", action="thing.create", object_id=2)
    assert kept.sequence == 1
    assert list(AuditEntry.objects.values_list("object_id", flat=True)) == ["2"]
    assert audit_verify() == (1, [])


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_does_not_hold_the_chain_on_postgresql():
    """A transaction that has written an entry and not committed yet does not make another
    writer wait: the head is taken only while sealing, just before commit."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time whatever the chain does")
    found = while_a_transaction_is_open(
        lambda: audit_record(actor="slow", action="thing.create"),
        lambda: audit_record(actor="quick", action="thing.create"),
    )
    assert found["second committed first"] is True
    assert list(AuditEntry.objects.order_by("sequence").values_list("actor_label", flat=True)) == [
        "quick",
        "slow",
    ]
    assert audit_verify() == (2, [])
