"""The audit log: append-only, every entry hash-chained to the previous one.

hash(n) = HMAC-SM3(key, hash(n-1) || canonical JSON of entry n). SM3 (GB/T 32905) comes from
OpenSSL through hashlib, or gmssl where OpenSSL lacks it. The key (YIWANG_AUDIT_KEY, else
derived from SECRET_KEY) means a person with write access to the database alone cannot forge
a consistent chain. The AuditHead row records the last sequence and hash, so that deleting the
newest entries is detected too.

An entry is written at once, in the service's transaction, but sealed into the chain (its
sequence, previous hash and hash) just before that transaction commits (core/db.py): the head
row, which orders the chain, is then locked for a few statements instead of from the first
entry to the commit — on PostgreSQL that lock would otherwise make every writer wait for every
other. A committed entry is always sealed; one found unsealed was not written by the platform.
On a database backend without `before_commit` the entry is sealed as it is written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from django.utils import timezone

from yiwang.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _sm3_factory():
    try:
        hashlib.new("sm3")
        return lambda data=b"": hashlib.new("sm3", data)
    except ValueError:  # OpenSSL built without SM3: fall back to gmssl (pure Python)
        from gmssl import func, sm3

        class _GmsslSm3:
            digest_size = 32
            block_size = 64

            def __init__(self, data: bytes = b""):
                self._data = bytearray(data)

            def update(self, data: bytes) -> None:
                self._data.extend(data)

            def copy(self):
                return _GmsslSm3(bytes(self._data))

            def digest(self) -> bytes:
                return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(bytes(self._data))))

            def hexdigest(self) -> str:
                return self.digest().hex()

        return _GmsslSm3


def _digestmod():
    if getattr(settings, "YIWANG_AUDIT_HASH", "sm3") == "sha256":
        return hashlib.sha256
    return _sm3_factory()


def _key() -> bytes:
    key = getattr(settings, "YIWANG_AUDIT_KEY", "") or ("audit:" + settings.SECRET_KEY)
    return key.encode()


def _jsonable(value: Any) -> Any:
    """Normalise to what a JSON column gives back, so the stored value hashes the same."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(entry: AuditEntry) -> bytes:
    # The sequence number is left out: an entry's position is protected by the chain links.
    body = {
        "at": _timestamp(entry.at),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "purpose": entry.purpose,
        "before": entry.before,
        "after": entry.after,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(previous_hash: str, body: bytes) -> str:
    """One link of a hash chain: HMAC-SM3(key, previous hash || "\n" || body). The audit log's
    links, and those of other chained logs of the platform (the exchange's evidence)."""
    return hmac.new(_key(), previous_hash.encode() + b"\n" + body, _digestmod()).hexdigest()


def content_hash(data: bytes) -> str:
    """SM3 (or the configured hash) of some bytes, hex."""
    return _digestmod()(data).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    return chain_hash(entry.previous_hash, _canonical(entry))


def _actor_parts(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    if getattr(actor, "is_authenticated", False):
        return actor.pk, actor.get_username()
    return None, "anonymous"


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: Any = None,
    after: Any = None,
    purpose: str = "",
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction: if the service rolls back,
    the entry goes with it; if the entry cannot be written, the service fails."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    actor_id, actor_label = _actor_parts(actor)
    entry = AuditEntry(
        at=timezone.now(),
        actor_id=actor_id,
        actor_label=actor_label[:128],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        purpose=purpose[:255],
        before=_jsonable(before),
        after=_jsonable(after),
    )
    wrapper = connections[DEFAULT_DB_ALIAS]
    before_commit = getattr(wrapper, "before_commit", None)
    if before_commit is None:  # a backend without it: seal now, holding the head to commit
        with transaction.atomic():
            entry.save(force_insert=True)
            _seal([entry])
        return entry
    from yiwang.core.db import unit_of_work

    with unit_of_work(wrapper):
        entry.save(force_insert=True)
        wrapper.transaction_state.setdefault("audit", []).append((set(wrapper.savepoint_ids), entry))
        before_commit("audit", _seal_pending)
    return entry


def _seal_pending() -> None:
    """Seal the entries this connection's transaction wrote, leaving out those written inside a
    savepoint that was rolled back."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    pending = wrapper.transaction_state.pop("audit", [])
    void = wrapper.savepoints_rolled_back
    _seal([entry for savepoints, entry in pending if not savepoints & void])


def _seal(entries: list[AuditEntry]) -> None:
    """Link `entries` (written, unsealed, in this order) to the chain: lock the head, write
    every entry's link in one statement, then the new head. Plain statements: this runs while
    the head is locked."""
    if not entries:
        return
    head_table, entry_table = AuditHead._meta.db_table, AuditEntry._meta.db_table
    lock = f"UPDATE {head_table} SET sequence = sequence + %s WHERE id = 1 RETURNING sequence, hash"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(lock, [len(entries)])
        row = cursor.fetchone()
        if row is None:
            AuditHead.objects.get_or_create(id=1, defaults={"sequence": 0, "hash": GENESIS})
            cursor.execute(lock, [len(entries)])
            row = cursor.fetchone()
        last, previous = row
        links = []
        for number, entry in enumerate(entries, start=last - len(entries) + 1):
            entry.sequence, entry.previous_hash = number, previous
            entry.hash = previous = entry_hash(entry)
            links += [entry.pk, entry.sequence, entry.previous_hash, entry.hash]
        postgres = connection.vendor == "postgresql"
        cast = "::bigint" if postgres else ""
        values = ", ".join([f"(%s{cast}, %s{cast}, %s, %s)"] * len(entries))
        rows = f"v (id, sequence, previous_hash, hash) AS (VALUES {values})"
        link = (
            f"UPDATE {entry_table} SET sequence = v.sequence, previous_hash = v.previous_hash, hash = v.hash"  # noqa: S608
            f" FROM v WHERE {entry_table}.id = v.id AND {entry_table}.sequence IS NULL RETURNING {entry_table}.id"
        )
        move = f"UPDATE {head_table} SET hash = %s WHERE id = 1"  # noqa: S608
        if postgres:  # links and head in one statement: one round trip less with the head locked
            cursor.execute(
                f"WITH {rows}, linked AS ({link}) {move} RETURNING (SELECT count(*) FROM linked)",
                [*links, previous],
            )
            sealed = cursor.fetchone()[0]
        else:  # (SQLite has no data-modifying WITH)
            cursor.execute(f"WITH {rows} {link}", links)
            sealed = len(cursor.fetchall())
            cursor.execute(move, [previous])
        if sealed != len(entries):
            raise DatabaseError(f"audit: {len(entries) - sealed} of the entries to seal are missing")


@dataclass(frozen=True)
class AuditProblem:
    kind: str  # "changed" | "deleted" | "inserted"
    sequence: int
    detail: str

    def __str__(self) -> str:
        return f"entry #{self.sequence} {self.kind}: {self.detail}"


@dataclass
class _Seen:
    sequence: int
    hash: str
    valid: bool


def audit_verify(*, batch_size: int = 5000) -> tuple[int, list[AuditProblem]]:
    """Walk the chain in sequence order and return (entries checked, problems), each naming
    the entry. The position of an entry is protected by the links, not by its number, so a
    renumbered insertion or deletion is found as well as a plain one:

    - changed: the entry's content no longer matches its hash;
    - inserted: the entry after it links past it, to the entry before it (or it lies beyond
      the head, or it was never sealed into the chain);
    - deleted: an entry links to a hash that is not its predecessor's (or a number is missing,
      or the head records more entries than there are).
    """
    problems: list[AuditProblem] = []
    before_previous: _Seen | None = None
    previous: _Seen | None = None
    expected = 1
    checked = 0

    def settle(row: _Seen | None, *, inserted: bool) -> None:
        if row is None:
            return
        if inserted:
            problems.append(AuditProblem("inserted", row.sequence, "the next entry links past it"))
        elif not row.valid:
            problems.append(AuditProblem("changed", row.sequence, "its content does not match its hash"))

    for entry in (
        AuditEntry.objects.filter(sequence__isnull=False).order_by("sequence").iterator(chunk_size=batch_size)
    ):
        checked += 1
        current = _Seen(entry.sequence, entry.hash, entry_hash(entry) == entry.hash)
        previous_hash = previous.hash if previous else GENESIS
        skipped_hash = before_previous.hash if before_previous else GENESIS
        previous_inserted = False
        if entry.sequence > expected:
            missing = (
                f"#{expected}" if entry.sequence == expected + 1 else f"#{expected}–#{entry.sequence - 1}"
            )
            problems.append(AuditProblem("deleted", expected, f"{missing} missing before #{entry.sequence}"))
        elif entry.previous_hash != previous_hash:
            if previous is not None and entry.previous_hash == skipped_hash:
                previous_inserted = True
            elif previous is None or previous.valid:
                problems.append(
                    AuditProblem("deleted", entry.sequence, "an entry before it is missing from the chain")
                )
            # else: the previous entry's hash itself was rewritten; it is reported as changed.
        settle(previous, inserted=previous_inserted)
        if previous_inserted:
            # The inserted entry is out of the chain: the next link is checked against the one before it.
            previous = before_previous
        before_previous, previous = previous, current
        expected = entry.sequence + 1
    settle(previous, inserted=False)

    # Entries are sealed before their transaction commits: one still unsealed was added behind
    # the platform's back (or belongs to the transaction running this check).
    for pk in AuditEntry.objects.filter(sequence__isnull=True).order_by("pk").values_list("pk", flat=True):
        problems.append(AuditProblem("inserted", 0, f"entry id {pk} is not sealed into the chain"))

    head = AuditHead.objects.filter(id=1).first()
    last = expected - 1
    if head is not None:
        if head.sequence > last:
            problems.append(
                AuditProblem(
                    "deleted", last + 1, f"the head records #{head.sequence} but the log ends at #{last}"
                )
            )
        elif head.sequence < last:
            problems.append(
                AuditProblem(
                    "inserted", head.sequence + 1, f"entries after the head (#{head.sequence}) were added"
                )
            )
        elif previous is not None and head.hash != previous.hash:
            problems.append(AuditProblem("changed", last, "the last entry does not match the head"))
    return checked, problems
