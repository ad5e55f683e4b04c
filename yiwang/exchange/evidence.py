"""The evidence of the exchange's reads: a signed, hash-chained log (as X-Road keeps).

Every served read appends one `ExchangeRead` row. Its `hash` is a link of a chain, made with
the audit log's own helpers (`core.audit.chain_hash`: HMAC-SM3 with the audit key):

    hash(n) = HMAC-SM3(key, hash(n-1) || canonical JSON of row n's columns)

The columns sealed are the time, consumer, actor, resource, purpose, fields, subject, number of
rows, and the SM3 hashes of the canonical request and of the canonical response. The response
itself is not stored (it would copy the shared data into the log); its hash is checked by
reading again.

Appends are ordered by the one `EvidenceHead` row: `UPDATE … SET sequence = sequence + 1
RETURNING` takes its lock (the row lock on PostgreSQL; the write lock on SQLite, whose write
transactions are IMMEDIATE) and returns the previous link in the same statement. The head also
carries the catalog version (see `catalog_version_bump`), so a reader that decided from cached
grants learns, under that lock, whether they were still current.

`evidence_chain_verify` walks the chain and names every changed, removed or inserted row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from yiwang.core.audit import GENESIS, chain_hash, content_hash
from yiwang.exchange.models import EvidenceHead, ExchangeRead

HEAD_TABLE = EvidenceHead._meta.db_table
EVIDENCE_TABLE = ExchangeRead._meta.db_table


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def request_hash_of(request: dict[str, Any]) -> str:
    return content_hash(canonical(request))


def response_hash_of(rows: list[dict[str, Any]]) -> str:
    return content_hash(canonical(rows))


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sealed_body(
    *,
    at: datetime,
    consumer_id: int,
    actor_id: int | None,
    resource_id: int,
    purpose: str,
    fields: list[str],
    subject: str,
    rows: int,
    request_hash: str,
    response_hash: str,
) -> bytes:
    """What one evidence row asserts, as the bytes its link seals."""
    return canonical(
        {
            "at": _timestamp(at),
            "consumer": consumer_id,
            "actor": actor_id,
            "resource": resource_id,
            "purpose": purpose,
            "fields": fields,
            "subject": subject,
            "rows": rows,
            "request": request_hash,
            "response": response_hash,
        }
    )


def _body_of(evidence: ExchangeRead) -> bytes:
    return sealed_body(
        at=evidence.at,
        consumer_id=evidence.consumer_id,
        actor_id=evidence.actor_id,
        resource_id=evidence.resource_id,
        purpose=evidence.purpose,
        fields=evidence.fields,
        subject=evidence.subject,
        rows=evidence.rows,
        request_hash=evidence.request_hash,
        response_hash=evidence.response_hash,
    )


def _legacy_seal(evidence: ExchangeRead) -> str:
    """The seal of rows written before the chain (sequence 0): HMAC-SM3 over the two hashes
    and the consumer, resource and actor, with a key derived from the secret key."""
    key = ("exchange-evidence:" + settings.SECRET_KEY).encode()
    message = (
        f"{evidence.request_hash}|{evidence.response_hash}|{evidence.consumer_id}|"
        f"{evidence.resource_id}|{evidence.actor_id or ''}"
    ).encode()
    return hmac.new(key, message, lambda data=b"": hashlib.new("sm3", data)).hexdigest()


# ---------------------------------------------------------------- the head


class StaleCatalog(Exception):
    """The catalog or the grants changed since the reader cached them: read again."""


def _sql(text: str) -> str:
    """A statement for the driver's own cursor: SQLite's placeholders are "?"."""
    return text if connection.vendor == "postgresql" else text.replace("%s", "?")


def _head_advance(cursor, count: int = 1) -> tuple[int, str, str]:
    """Lock the head and take the next `count` sequence numbers: (the last of them, the
    previous hash, the catalog version)."""
    sql = _sql(
        f"UPDATE {HEAD_TABLE} SET sequence = sequence + %s WHERE id = 1"  # noqa: S608
        " RETURNING sequence, hash, catalog_version"
    )
    cursor.execute(sql, [count])
    row = cursor.fetchone()
    if row is None:
        _head_create(cursor)
        cursor.execute(sql, [count])
        row = cursor.fetchone()
    return row


def _head_create(cursor) -> None:
    cursor.execute(
        _sql(
            f"INSERT INTO {HEAD_TABLE} (id, sequence, hash, catalog_version) VALUES (1, 0, %s, %s)"  # noqa: S608
            " ON CONFLICT DO NOTHING"
        ),
        [GENESIS, secrets.token_hex(16)],
    )


def catalog_version_get() -> str:
    """The current catalog version ("" before the head exists)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT catalog_version FROM {HEAD_TABLE} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else ""


def catalog_version_bump() -> None:
    """Every service that changes the catalog (fields, sharing classes) or the grants calls
    this in its transaction: readers holding cached grants see the new token when they append
    their evidence, and read again. The token is random, so a rolled-back change (or a test
    database rebuilt) never matches an old cache."""
    with transaction.atomic(), connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(
                _sql(f"UPDATE {HEAD_TABLE} SET catalog_version = %s WHERE id = 1"),  # noqa: S608
                [secrets.token_hex(16)],
            )
            if cursor.rowcount == 0:
                _head_create(cursor)
        finally:
            cursor.close()


# ---------------------------------------------------------------- appending


@dataclass(frozen=True)
class Evidence:
    """What a reader gets back about the evidence row of its read."""

    pk: int
    sequence: int
    request_hash: str
    response_hash: str
    hash: str


def evidence_append(
    *,
    at: datetime,
    consumer_id: int,
    actor_id: int | None,
    resource_id: int,
    purpose: str,
    fields: list[str],
    subject: str,
    request: dict[str, Any],
    response_hash: str,
    rows: int,
    catalog_version: str | None = None,
) -> Evidence:
    """Append one evidence row to the chain, in one transaction (its own, or a savepoint of the
    caller's). The request is stored as its canonical JSON, the text its hash is taken of. If
    `catalog_version` is given and the head carries another, nothing is written and
    StaleCatalog is raised. If the row cannot be written, this raises: the read fails."""
    return evidence_append_many(
        [
            {
                "at": at,
                "consumer_id": consumer_id,
                "actor_id": actor_id,
                "resource_id": resource_id,
                "purpose": purpose,
                "fields": fields,
                "subject": subject,
                "request": request,
                "response_hash": response_hash,
                "rows": rows,
            }
        ],
        catalog_version=catalog_version,
    )[0]


def evidence_append_many(
    reads: list[dict[str, Any]], *, catalog_version: str | None = None
) -> list[Evidence]:
    """Append the evidence rows of several reads (each the keyword arguments of
    `evidence_append`), in order, in one transaction that takes the head once. If
    `catalog_version` is given and the head carries another, nothing is written and
    StaleCatalog is raised."""
    if not reads:
        return []
    postgres = connection.vendor == "postgresql"
    json_cast = "::jsonb" if postgres else ""
    row = f"(%s, %s, %s, %s, %s, %s{json_cast}, %s, %s{json_cast}, %s, %s, %s, %s, %s, %s)"
    insert = _sql(
        f"INSERT INTO {EVIDENCE_TABLE} (at, consumer_id, actor_id, resource_id, purpose, fields, subject,"  # noqa: S608
        " request, request_hash, response_hash, rows, sequence, previous_hash, hash)"
        f" VALUES {', '.join([row] * len(reads))} RETURNING id, sequence"
    )
    prepared = []
    for read in reads:
        request_text = canonical(read["request"])
        request_hash = content_hash(request_text)
        body = sealed_body(
            at=read["at"],
            consumer_id=read["consumer_id"],
            actor_id=read["actor_id"],
            resource_id=read["resource_id"],
            purpose=read["purpose"],
            fields=read["fields"],
            subject=read["subject"],
            rows=read["rows"],
            request_hash=request_hash,
            response_hash=read["response_hash"],
        )
        params = [
            connection.ops.adapt_datetimefield_value(read["at"]),
            read["consumer_id"],
            read["actor_id"],
            read["resource_id"],
            read["purpose"],
            json.dumps(read["fields"], ensure_ascii=False),
            read["subject"],
            request_text.decode(),
            request_hash,
            read["response_hash"],
            read["rows"],
        ]
        prepared.append((body, params, request_hash, read["response_hash"]))
    # The driver's own cursor, in Django's transaction: Django's cursor wrapper costs more
    # than these small statements (its errors are still turned into Django's).
    with transaction.atomic(), connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            last, previous_hash, version = _head_advance(cursor, len(prepared))
            if catalog_version is not None and version != catalog_version:
                raise StaleCatalog
            values, sealed = [], []
            for sequence, (body, params, request_hash, response_hash) in enumerate(
                prepared, start=last - len(prepared) + 1
            ):
                seal = chain_hash(previous_hash, body)
                values += [*params, sequence, previous_hash, seal]
                sealed.append((sequence, request_hash, response_hash, seal))
                previous_hash = seal
            move = _sql(f"UPDATE {HEAD_TABLE} SET hash = %s WHERE id = 1")  # noqa: S608
            if postgres:  # rows and head in one statement: one round trip less with the head locked
                cursor.execute(
                    f"WITH ins AS ({insert}) {move}"
                    " RETURNING (SELECT json_agg(json_build_array(id, sequence)) FROM ins)",
                    [*values, previous_hash],
                )
                ids = {sequence: pk for pk, sequence in cursor.fetchone()[0]}
            else:  # all rows in one statement (SQLite has no data-modifying WITH)
                cursor.execute(insert, values)
                ids = {sequence: pk for pk, sequence in cursor.fetchall()}
                cursor.execute(move, [previous_hash])
            appended = [
                Evidence(
                    pk=ids[sequence],
                    sequence=sequence,
                    request_hash=request,
                    response_hash=response,
                    hash=seal,
                )
                for sequence, request, response, seal in sealed
            ]
        finally:
            cursor.close()
    return appended


# ---------------------------------------------------------------- verifying


def evidence_verify(*, evidence: ExchangeRead) -> bool:
    """Does one stored row still match its seal (the request hash recomputed from the stored
    request, the link from the stored columns and the previous hash it names)?"""
    if request_hash_of(evidence.request) != evidence.request_hash:
        return False
    if evidence.sequence == 0:
        return hmac.compare_digest(evidence.hash, _legacy_seal(evidence))
    return hmac.compare_digest(evidence.hash, chain_hash(evidence.previous_hash, _body_of(evidence)))


@dataclass(frozen=True)
class EvidenceProblem:
    kind: str  # "changed" | "deleted" | "inserted"
    evidence_id: int | None
    sequence: int
    detail: str

    def __str__(self) -> str:
        row = f"evidence row {self.evidence_id}" if self.evidence_id else "evidence"
        return f"{row} (#{self.sequence}) {self.kind}: {self.detail}"


def evidence_chain_verify(*, batch_size: int = 5000) -> tuple[int, list[EvidenceProblem]]:
    """Walk the chain in the order it was written and return (rows checked, problems), each
    naming the row (id and sequence):

    - changed: the row's columns (or its stored request) no longer match its seal;
    - inserted: the row after it links past it, to the row before it; or its number repeats;
    - deleted: the row does not link to the row before it (a row before it was removed), or the
      head records more rows than there are (rows removed from the end).
    """
    problems: list[EvidenceProblem] = []
    checked = 0
    previous: tuple[int, int, str, bool] | None = None  # id, sequence, hash, valid
    before_previous_hash = GENESIS
    for evidence in ExchangeRead.objects.order_by("id").iterator(chunk_size=batch_size):
        checked += 1
        valid = evidence_verify(evidence=evidence)
        if not valid:
            problems.append(
                EvidenceProblem(
                    "changed", evidence.pk, evidence.sequence, "its content does not match its seal"
                )
            )
        if evidence.sequence == 0:  # written before the chain: sealed alone
            continue
        previous_hash = previous[2] if previous else GENESIS
        if previous is not None and evidence.sequence <= previous[1]:
            problems.append(
                EvidenceProblem(
                    "inserted", evidence.pk, evidence.sequence, "its number repeats an earlier row's"
                )
            )
            continue
        if evidence.previous_hash != previous_hash:
            if previous is not None and evidence.previous_hash == before_previous_hash:
                problems.append(
                    EvidenceProblem("inserted", previous[0], previous[1], "the row after it links past it")
                )
            elif previous is None or previous[3]:
                missing = evidence.sequence - (previous[1] if previous else 0) - 1
                detail = (
                    f"{missing} row(s) missing before it"
                    if missing > 0
                    else "it does not link to the row before it (a row was removed)"
                )
                problems.append(EvidenceProblem("deleted", evidence.pk, evidence.sequence, detail))
            # else: the row before it had its hash rewritten; it is reported as changed.
        before_previous_hash = previous_hash
        previous = (evidence.pk, evidence.sequence, evidence.hash, valid)
    head = EvidenceHead.objects.filter(id=1).first()
    last_sequence = previous[1] if previous else 0
    if head is not None and head.sequence:
        if head.sequence > last_sequence:
            problems.append(
                EvidenceProblem(
                    "deleted",
                    None,
                    last_sequence + 1,
                    f"the head records #{head.sequence} but the chain ends at #{last_sequence}",
                )
            )
        elif previous is not None and head.hash != previous[2]:
            problems.append(
                EvidenceProblem("changed", previous[0], last_sequence, "the last row does not match the head")
            )
    return checked, problems
