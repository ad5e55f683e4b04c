"""Typed mirrors of the exchange feeds that rules read.

A record-backed resource keeps its rows as JSON in `exchange_record`; extracting and casting
every field at every screening costs more than the screening itself (1.2M claims: 5.5 s
through JSON, 3.3 s from a typed table, on SQLite). So, for the feeds rules read, the rules
engine keeps a typed copy:

- **In the platform database**: one table per resource, `rules_mirror_<code>` (dots become
  underscores), one row per record: `_record_id`, `_batch_id`, then one column per field,
  typed (dates as dates — ISO text on SQLite —, integers, booleans) and, for a decimal field
  (yuan), the decimal text plus `<field>_fen`, exact integer fen. The rows are made by the
  very SQL expressions of the JSON relation (yiwang.rules.relations), so the mirror answers
  what the JSON would. An index on the resource's subject field serves incremental screening.
- It follows ingests: the exchange calls `mirror_follow` after each applied batch commits
  (exchange.services.INGEST_LISTENERS); the batch's created and changed records are copied
  again. `rules_mirror_state` records, per mirrored resource, the last batch copied; a
  mirror is *in sync* when that is the resource's last applied batch and the fields have not
  changed since it was built. `platform_relations` reads a mirror only when it is in sync,
  the JSON otherwise — a missed or failed follow costs speed, never a wrong answer.
  `yiwang rules_mirror` (re)builds mirrors.
- **In a DuckDB file** (`<VAR_DIR>/rules-mirror.duckdb`), for the DuckDB target: DuckDB's
  sqlite extension would be downloaded at run time, so the rows are copied in — the
  record-backed feeds from the platform mirror (incrementally: the rows of batches newer than
  the file's), the registry-backed resources (persons, households, members …) as a
  snapshot taken at each refresh. `duckdb_refresh` / `yiwang rules_mirror --duckdb`. The
  fields holding a subject's key (a feed's subject field; the registry's key fields) also get an
  integer twin, `_key_<field>`, numbered by one growing dictionary per key space
  (`keys_person` …), so that a rule over the whole population joins and groups on integers.
"""

from __future__ import annotations

import csv
import datetime
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

STATE_TABLE = "rules_mirror_state"
KEYS_PER_STATEMENT = 5_000
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def mirror_table(code: str) -> str:
    """The platform table mirroring a resource: rules_mirror_yb_self_pay_claims."""
    return "rules_mirror_" + re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_")


def duckdb_table(code: str) -> str:
    """The DuckDB table holding a resource: yb_self_pay_claims."""
    return re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_")


def duckdb_default_path() -> Path:
    return Path(settings.VAR_DIR) / "rules-mirror.duckdb"


def _fields(resource) -> list[tuple[str, str]]:
    fields = [(field.name, field.type) for field in resource.fields.all().order_by("position", "id")]
    for name, _kind in fields:
        if not _IDENT.match(name):
            raise ValueError(f"{resource.code}: field {name!r} is not a plain SQL name")
    return fields


def _signature(fields: list[tuple[str, str]]) -> str:
    return ",".join(f"{name}:{kind}" for name, kind in fields)


def _column_types(fields: list[tuple[str, str]], vendor: str) -> list[tuple[str, str]]:
    """(column, SQL type) of the typed row, in the order of relations._typed's columns."""
    sqlite = vendor == "sqlite"
    types = {
        "string": "TEXT",
        "integer": "BIGINT",
        "decimal": "TEXT",
        "date": "TEXT" if sqlite else "DATE",
        "datetime": "TEXT" if sqlite else "TIMESTAMP",
        "boolean": "INTEGER" if sqlite else "BOOLEAN",
    }
    columns = []
    for name, kind in fields:
        columns.append((name, types.get(kind, "TEXT")))
        if kind == "decimal":
            columns.append((f"{name}_fen", "BIGINT"))
    return columns


# --- the state table ---------------------------------------------------------------------------


def _state_ensure(cursor) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (resource_code VARCHAR(64) PRIMARY KEY, "
        "resource_id BIGINT NOT NULL, signature TEXT NOT NULL, batch_id BIGINT NOT NULL, "
        "rows BIGINT NOT NULL, refreshed_at VARCHAR(40) NOT NULL)"
    )


def _state_exists(cursor) -> bool:
    return STATE_TABLE in connection.introspection.table_names(cursor)


@dataclass(frozen=True)
class MirrorState:
    resource_code: str
    resource_id: int
    signature: str
    batch_id: int
    rows: int
    refreshed_at: str


def mirror_states() -> dict[str, MirrorState]:
    """Every mirrored resource's state, by code (empty before the first mirror is built)."""
    with connection.cursor() as cursor:
        if not _state_exists(cursor):
            return {}
        cursor.execute(
            f"SELECT resource_code, resource_id, signature, batch_id, rows, refreshed_at FROM {STATE_TABLE}"
        )
        return {row[0]: MirrorState(*row) for row in cursor.fetchall()}


def _last_batch(resource) -> int:
    from yiwang.exchange.models import IngestBatch

    last = (
        IngestBatch.objects.filter(resource=resource, applied=True)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return int(last or 0)


def mirror_in_sync(resource, state: MirrorState | None = None) -> bool:
    """Whether the resource's mirror holds exactly what its records say now."""
    if state is None:
        state = mirror_states().get(resource.code)
    return (
        state is not None
        and state.resource_id == resource.pk
        and state.signature == _signature(_fields(resource))
        and state.batch_id == _last_batch(resource)
    )


# --- building and following --------------------------------------------------------------------


def _select(resource, fields: list[tuple[str, str]], vendor: str) -> str:
    """The typed SELECT over the resource's records: _record_id, _batch_id, the typed columns."""
    from yiwang.exchange.models import Record
    from yiwang.rules.relations import _typed

    columns = [column for name, kind in fields for column in _typed(name, kind, vendor)]
    return (
        f"SELECT r.id AS _record_id, r.batch_id AS _batch_id, {', '.join(columns)} "
        f"FROM {Record._meta.db_table} r WHERE r.resource_id = {int(resource.pk)}"
    )


@transaction.atomic
def mirror_build(resource) -> int:
    """(Re)build a record-backed resource's mirror from its records; returns its rows."""
    if resource.backing:
        raise ValueError(f"{resource.code} is read from the registry; it needs no mirror")
    vendor = connection.vendor
    fields = _fields(resource)
    table = mirror_table(resource.code)
    batch_id = _last_batch(resource)
    columns = _column_types(fields, vendor)
    with connection.cursor() as cursor:
        _state_ensure(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TABLE {table} (_record_id BIGINT PRIMARY KEY, _batch_id BIGINT, "
            + ", ".join(f"{name} {kind}" for name, kind in columns)
            + ")"
        )
        cursor.execute(
            f"INSERT INTO {table} (_record_id, _batch_id, {', '.join(name for name, _k in columns)}) "
            + _select(resource, fields, vendor)
        )
        covering = _covering(resource, fields)
        if covering:
            cursor.execute(f"CREATE INDEX {table}_subject ON {table} ({', '.join(covering)})")
        cursor.execute(f"CREATE INDEX {table}_batch ON {table} (_batch_id)")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        rows = int(cursor.fetchone()[0])
        cursor.execute(f"DELETE FROM {STATE_TABLE} WHERE resource_code = %s", [resource.code])
        cursor.execute(
            f"INSERT INTO {STATE_TABLE} (resource_code, resource_id, signature, batch_id, rows, refreshed_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [resource.code, resource.pk, _signature(fields), batch_id, rows, _now()],
        )
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
    return rows


def _covering(resource, fields: list[tuple[str, str]]) -> list[str]:
    """The subject index: the subject field, then the dates and the numbers (fen included), so
    that a rule's usual aggregate — a sum of amounts per subject within a date window — reads
    the index alone, in subject order: for the whole population in one narrow scan, for a few
    subjects by a few lookups."""
    if not resource.subject_field or resource.subject_field not in dict(fields):
        return []
    dates = [name for name, kind in fields if kind in ("date", "datetime") and name != resource.subject_field]
    numbers = []
    for name, kind in fields:
        if kind == "integer" and name != resource.subject_field:
            numbers.append(name)
        elif kind == "decimal":
            numbers.append(f"{name}_fen")
    return [resource.subject_field, *dates, *numbers]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def mirror_follow(*, resource, batch_id: int, keys: list[str]) -> bool:
    """Copy a just-applied batch's created and changed records into the resource's mirror, if
    it has one and it was in sync before this batch. Returns whether the mirror is in sync
    afterwards. (Registered as an exchange ingest listener; also callable directly.)"""
    from yiwang.exchange.models import IngestBatch

    state = mirror_states().get(resource.code)
    if state is None or state.resource_id != resource.pk:
        return False
    with transaction.atomic():
        fields = _fields(resource)
        previous = (
            IngestBatch.objects.filter(resource=resource, applied=True, id__lt=batch_id)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        ) or 0
        with connection.cursor() as cursor:
            # One writer at a time: the state row is the lock.
            cursor.execute(
                f"UPDATE {STATE_TABLE} SET refreshed_at = refreshed_at WHERE resource_code = %s",
                [resource.code],
            )
            cursor.execute(
                f"SELECT batch_id, signature FROM {STATE_TABLE} WHERE resource_code = %s", [resource.code]
            )
            found = cursor.fetchone()
            if found is None or int(found[0]) != int(previous) or found[1] != _signature(fields):
                log.warning(
                    "rules mirror of %s is behind; rebuild it with `yiwang rules_mirror`", resource.code
                )
                return False
            _copy_records(cursor, resource, fields, batch_id, keys)
            cursor.execute(
                f"UPDATE {STATE_TABLE} SET batch_id = %s, rows = (SELECT COUNT(*) FROM {mirror_table(resource.code)}), "
                "refreshed_at = %s WHERE resource_code = %s",
                [batch_id, _now(), resource.code],
            )
    return True


def _copy_records(cursor, resource, fields, batch_id: int, keys: list[str]) -> None:
    vendor = connection.vendor
    table = mirror_table(resource.code)
    names = ", ".join(name for name, _k in _column_types(fields, vendor))
    select = _select(resource, fields, vendor)
    if len(keys) > 200_000:
        # A big batch: its records are those it last wrote (one pass over the resource).
        cursor.execute(
            f"DELETE FROM {table} WHERE _record_id IN (SELECT r.id FROM exchange_record r "
            f"WHERE r.resource_id = %s AND r.batch_id = %s)",
            [resource.pk, batch_id],
        )
        cursor.execute(
            f"INSERT INTO {table} (_record_id, _batch_id, {names}) {select} AND r.batch_id = %s", [batch_id]
        )
        return
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[start : start + KEYS_PER_STATEMENT]
        marks = ", ".join(["%s"] * len(chunk))
        cursor.execute(
            f"DELETE FROM {table} WHERE _record_id IN (SELECT r.id FROM exchange_record r "
            f"WHERE r.resource_id = %s AND r.key IN ({marks}))",
            [resource.pk, *chunk],
        )
        cursor.execute(
            f"INSERT INTO {table} (_record_id, _batch_id, {names}) {select} AND r.key IN ({marks})", chunk
        )


def mirror_relation_sql(resource, states: dict[str, MirrorState] | None = None) -> str | None:
    """The mirror's table name when the resource has a mirror in sync, else None."""
    states = mirror_states() if states is None else states
    state = states.get(resource.code)
    if state is not None and mirror_in_sync(resource, state):
        return mirror_table(resource.code)
    return None


def connect() -> None:
    """Follow ingests (called once from the rules app's ready())."""
    from yiwang.exchange import services

    if mirror_follow not in services.INGEST_LISTENERS:
        services.INGEST_LISTENERS.append(mirror_follow)


# --- the DuckDB file -----------------------------------------------------------------------------

_DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
DUCK_STATE = "mirror_state"
# Bumped when the file's tables change shape: a copy of another format is made again whole.
DUCK_FORMAT = 2
# Key spaces: the subject types whose keys (ID numbers, household numbers, USCCs, property unit
# numbers) get integer key columns in the file. A record-backed feed's subject field holds keys
# of its subject type (the catalog says so); the registry's fields holding keys are these.
KEY_SPACES = ("person", "household", "enterprise", "property")
REGISTRY_KEYS = {
    "person": {"id_number": "person"},
    "household": {"number": "household", "head_id_number": "person"},
    "household_member": {"household_number": "household", "id_number": "person"},
    "enterprise": {"uscc": "enterprise"},
    "property": {"unit_number": "property"},
    "property_owner": {"unit_number": "property", "owner_id_number": "person", "owner_uscc": "enterprise"},
}
# DuckDB groups by an integer column through an array instead of a hash table when the
# column's range is below 2^bits: ID-number keys of a city of 1M people (20 bits) qualify.
DUCK_PERFECT_HASH_BITS = 22


def _duck_columns(resource) -> list[tuple[str, str]]:
    if resource.backing:
        from yiwang.exchange.backends import BACKENDS

        return [
            (name, _DUCK_TYPES.get(kind, "VARCHAR"))
            for name, kind, *_rest in BACKENDS[resource.backing].fields
        ]
    columns = []
    for name, kind in _fields(resource):
        columns.append((name, _DUCK_TYPES.get(kind, "VARCHAR")))
        if kind == "decimal":
            columns.append((f"{name}_fen", "BIGINT"))
    return columns


def duckdb_keys(resource) -> list[tuple[str, str]]:
    """(field, key space) of the resource's fields that get integer key columns in the file."""
    if resource.backing:
        return sorted(REGISTRY_KEYS.get(resource.backing, {}).items())
    kinds = dict(_fields(resource))
    if resource.subject_type in KEY_SPACES and kinds.get(resource.subject_field) == "string":
        return [(resource.subject_field, resource.subject_type)]
    return []


def _duck_signature(resource, signature: str) -> str:
    """What the file's copy of a resource was made from: the platform mirror's signature (or
    the registry backing), the key columns, the file format."""
    keys = ",".join(f"{field}:{space}" for field, space in duckdb_keys(resource))
    return f"{signature};keys={keys};format={DUCK_FORMAT}"


def _duck_keyed_insert(duck, table: str, staging: str, names: list[str], keys: list[tuple[str, str]]) -> None:
    """Insert the staged rows into `table` with their key columns: each key space is a
    dictionary (`keys_<space>`: value → integer) that only grows, so the integers already in
    the file stay valid; new values are numbered after the largest (in text order)."""
    from yiwang.rules.compiler import KEY_PREFIX

    joins, ids = [], []
    for position, (field, space) in enumerate(keys):
        dictionary = f"keys_{space}"
        duck.execute(f"CREATE TABLE IF NOT EXISTS {dictionary} (value VARCHAR NOT NULL, id INTEGER NOT NULL)")
        base = duck.execute(f"SELECT COALESCE(MAX(id), 0) FROM {dictionary}").fetchone()[0]
        duck.execute(
            f"INSERT INTO {dictionary} SELECT value, {int(base)} + CAST(row_number() OVER (ORDER BY value) AS INTEGER) "
            f"FROM (SELECT DISTINCT {field} AS value FROM {staging} WHERE {field} IS NOT NULL "
            f"EXCEPT SELECT value FROM {dictionary}) t"
        )
        joins.append(f"LEFT JOIN {dictionary} k{position} ON k{position}.value = s.{field}")
        ids.append(f"k{position}.id AS {KEY_PREFIX}{field}")
    duck.execute(
        f"INSERT INTO {table} SELECT {', '.join([*(f's.{name}' for name in names), *ids])} "
        f"FROM {staging} s {' '.join(joins)}"
    )


def _duck_create(duck, table: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]]) -> None:
    from yiwang.rules.compiler import KEY_PREFIX

    duck.execute(f"DROP TABLE IF EXISTS {table}")
    duck.execute(
        f"CREATE TABLE {table} ("
        + ", ".join([*(f"{n} {t}" for n, t in columns), *(f"{KEY_PREFIX}{f} INTEGER" for f, _s in keys)])
        + ")"
    )


def _duck_load(duck, table: str, columns: list[tuple[str, str]], chunks: Iterable[list[tuple]]) -> int:
    """Bulk-load rows into a DuckDB table through a temporary CSV file read by DuckDB's own
    reader (row-by-row inserts would take minutes for millions of rows). An empty field is
    NULL: the exchange stores an empty value as null, never as an empty text."""
    count = 0
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="yiwang-mirror-")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            for chunk in chunks:
                writer.writerows(chunk)
                count += len(chunk)
        if count:
            names = ", ".join(name for name, _t in columns)
            spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
            duck.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM read_csv('{path}', header = false, "
                f"columns = {{{spec}}}, nullstr = '', quote = '\"', escape = '\"')"
            )
    finally:
        os.unlink(path)
    return count


def _duck_stage(duck, staging: str, columns: list[tuple[str, str]]) -> None:
    duck.execute(f"DROP TABLE IF EXISTS {staging}")
    duck.execute(f"CREATE TEMP TABLE {staging} ({', '.join(f'{n} {t}' for n, t in columns)})")


def _platform_rows(sql: str) -> Iterable[list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(100_000):
            yield chunk


def duckdb_refresh(
    codes: Iterable[str], *, path: str | os.PathLike | None = None, registry: bool = True
) -> dict[str, dict[str, Any]]:
    """Bring the DuckDB file up to date for these resources. Record-backed feeds are copied
    from their platform mirror (built or caught up first): whole the first time, then only
    the rows of newer batches. Registry-backed resources are copied whole (a snapshot) when
    `registry` is true or they are missing. Returns per resource: rows copied and seconds."""
    import duckdb

    from yiwang.exchange.models import Resource
    from yiwang.rules.relations import _registry_sql

    path = Path(path or duckdb_default_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict[str, Any]] = {}
    duck = duckdb.connect(str(path))
    try:
        duck.execute(
            f"CREATE TABLE IF NOT EXISTS {DUCK_STATE} (resource_code VARCHAR PRIMARY KEY, resource_id BIGINT, "
            "signature VARCHAR, batch_id BIGINT, refreshed_at VARCHAR)"
        )
        for resource in Resource.objects.filter(code__in=list(codes)).prefetch_related("fields"):
            started = time.perf_counter()
            table = duckdb_table(resource.code)
            columns = _duck_columns(resource)
            names = ", ".join(name for name, _t in columns)
            exists = duck.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchone()[0]
            found = duck.execute(
                f"SELECT resource_id, signature, batch_id FROM {DUCK_STATE} WHERE resource_code = ?",
                [resource.code],
            ).fetchone()
            keys = duckdb_keys(resource)
            staging = f"{table}_new"
            if resource.backing:
                signature = _duck_signature(resource, resource.backing)
                if exists and not registry and found is not None and found[1] == signature:
                    report[resource.code] = {"rows": 0, "seconds": 0.0, "mode": "kept"}
                    continue
                duck.execute("BEGIN")
                _duck_create(duck, table, columns, keys)
                _duck_stage(duck, staging, columns)
                rows = _duck_load(
                    duck,
                    staging,
                    columns,
                    _platform_rows(f"SELECT {names} FROM ({_registry_sql(resource.backing)}) t"),
                )
                _duck_keyed_insert(duck, table, staging, [n for n, _t in columns], keys)
                duck.execute(f"DROP TABLE {staging}")
                duck.execute(f"DELETE FROM {DUCK_STATE} WHERE resource_code = ?", [resource.code])
                duck.execute(
                    f"INSERT INTO {DUCK_STATE} VALUES (?, ?, ?, ?, ?)",
                    [resource.code, resource.pk, signature, 0, _now()],
                )
                duck.execute("COMMIT")
                report[resource.code] = {
                    "rows": rows,
                    "seconds": time.perf_counter() - started,
                    "mode": "snapshot",
                }
                continue
            if not mirror_in_sync(resource):
                mirror_build(resource)
            state = mirror_states()[resource.code]
            source = mirror_table(resource.code)
            signature = _duck_signature(resource, state.signature)
            incremental = exists and found is not None and found[0] == resource.pk and found[1] == signature
            all_columns = [("_record_id", "BIGINT"), ("_batch_id", "BIGINT"), *columns]
            all_names = [n for n, _t in all_columns]
            duck.execute("BEGIN")
            if incremental:
                since = int(found[2])
                if since == state.batch_id:
                    duck.execute("COMMIT")
                    report[resource.code] = {
                        "rows": 0,
                        "seconds": time.perf_counter() - started,
                        "mode": "current",
                    }
                    continue
                selected = f"SELECT _record_id, _batch_id, {names} FROM {source} WHERE _batch_id > {since}"
                _duck_stage(duck, staging, all_columns)
                rows = _duck_load(duck, staging, all_columns, _platform_rows(selected))
                duck.execute(f"DELETE FROM {table} WHERE _record_id IN (SELECT _record_id FROM {staging})")
                _duck_keyed_insert(duck, table, staging, all_names, keys)
                duck.execute(f"DROP TABLE {staging}")
                mode = "incremental"
            else:
                _duck_create(duck, table, all_columns, keys)
                _duck_stage(duck, staging, all_columns)
                rows = _duck_load(
                    duck,
                    staging,
                    all_columns,
                    _platform_rows(f"SELECT _record_id, _batch_id, {names} FROM {source}"),
                )
                _duck_keyed_insert(duck, table, staging, all_names, keys)
                duck.execute(f"DROP TABLE {staging}")
                mode = "full"
            duck.execute(f"DELETE FROM {DUCK_STATE} WHERE resource_code = ?", [resource.code])
            duck.execute(
                f"INSERT INTO {DUCK_STATE} VALUES (?, ?, ?, ?, ?)",
                [resource.code, resource.pk, signature, state.batch_id, _now()],
            )
            duck.execute("COMMIT")
            report[resource.code] = {"rows": rows, "seconds": time.perf_counter() - started, "mode": mode}
    finally:
        duck.close()
    return report


def duckdb_relations(codes: Iterable[str], duck) -> dict[str, Any]:
    """Relations for these resources in an open DuckDB mirror connection. Raises LookupError
    naming the resources the file lacks."""
    from yiwang.exchange.models import Resource
    from yiwang.rules.compiler import KEY_PREFIX, Relation

    codes = list(codes)
    present = {row[0] for row in duck.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [code for code in codes if duckdb_table(code) not in present]
    if missing:
        raise LookupError(f"the DuckDB mirror lacks {missing}; run `yiwang rules_mirror --duckdb`")
    columns: dict[str, set[str]] = {}
    for table, column in duck.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    relations = {}
    for resource in Resource.objects.filter(code__in=codes).prefetch_related("fields"):
        table = duckdb_table(resource.code)
        # The key columns the copy has (a copy made before they existed has none: text joins).
        keys = tuple(
            (field, space)
            for field, space in duckdb_keys(resource)
            if f"{KEY_PREFIX}{field}" in columns.get(table, set())
        )
        relations[resource.code] = Relation(table, keys=keys)
    return relations


def duckdb_behind(codes: Iterable[str], duck) -> list[str]:
    """The record-backed resources whose DuckDB copy is older than their last applied batch."""
    from yiwang.exchange.models import Resource

    behind = []
    for resource in Resource.objects.filter(code__in=list(codes), backing=""):
        found = duck.execute(
            f"SELECT resource_id, batch_id FROM {DUCK_STATE} WHERE resource_code = ?", [resource.code]
        ).fetchone()
        if found is None or found[0] != resource.pk or found[1] != _last_batch(resource):
            behind.append(resource.code)
    return behind
