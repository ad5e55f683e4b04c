"""Screening: a rule over the whole population, and again for only what a new feed touched.

    screen(definition=…, on=…)                         every subject's row (eligible only by default)
    screen_affected(definition=…, on=…, resource_code="yb.self_pay_claims", keys=[…])
                                                       the subjects the given records touch, re-evaluated

Both run the compiled rule (yiwang.rules.compiler.rule_sql), so the rows are those of the batch
and explain faces. `target` says where:

- "platform" (default): the configured database (SQLite, PostgreSQL), reading the typed
  mirrors of the feeds when they are in sync (yiwang.rules.mirror), the JSON otherwise;
- "duckdb": the DuckDB mirror file (VAR_DIR/rules-mirror.duckdb, or `duckdb_path`); the
  record-backed feeds whose copy is behind are caught up first (the rows of newer batches).

How the affected subjects are found: the records' own rows (by key, from the exchange) give the
values of the field linking their source to the next one (a claim's `id_number`); each link of
the rule's sources is followed (the household members with those ID numbers → their household
numbers) up to the subject's key. Only those subjects are evaluated, and each aggregate reads
only their rows. A record whose link changed (a claim corrected to another person) touches
the subject it now belongs to and, given the ingest batch (`batch_id`), the one it belonged to
before (from the exchange's record history).

The relapse application turns the rows into warnings: a subject newly eligible gets one, once
per period (its own deduplication). To screen as the data lands, register a listener with the
exchange (`yiwang.exchange.services.INGEST_LISTENERS`, called after each applied batch commits
with `resource`, `batch_id` and `keys`) from the app's ready(): the rules app registers the
mirror's listener first, so the mirror is current when the application's listener runs.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection

from yiwang.rules.compiler import Relation, rule_sql
from yiwang.rules.definition import Definition, Source, definition_parse

IN_CHUNK = 5_000
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Affected:
    """The subjects a batch of records touched, and their rows (every one of them, eligible
    or not: a subject that stopped being eligible is news too)."""

    subjects: list[str]
    rows: list[dict[str, Any]]

    @property
    def eligible(self) -> list[str]:
        return [str(row["subject"]) for row in self.rows if row["eligible"]]


class _Target:
    """A place to run a rule: relations for resources, and a way to run SQL there."""

    def __init__(self, target: str, duckdb_path: Any = None):
        if target not in ("platform", "duckdb"):
            raise ValueError(f"unknown target {target!r} (platform, duckdb)")
        self.target = target
        self.duckdb_path = duckdb_path
        self.duck = None

    def __enter__(self) -> _Target:
        if self.target == "duckdb":
            import duckdb

            from yiwang.rules.mirror import DUCK_PERFECT_HASH_BITS, duckdb_default_path

            self.duck = duckdb.connect(str(self.duckdb_path or duckdb_default_path()), read_only=True)
            self.duck.execute(f"SET perfect_ht_threshold = {DUCK_PERFECT_HASH_BITS}")
        return self

    def __exit__(self, *exc) -> None:
        if self.duck is not None:
            self.duck.close()

    @property
    def dialect(self) -> str:
        from yiwang.rules.relations import dialect_of_connection

        return "duckdb" if self.duck is not None else dialect_of_connection()

    def relations(self, codes: set[str]) -> dict[str, Relation]:
        if self.duck is not None:
            from yiwang.rules.mirror import duckdb_relations

            return duckdb_relations(codes, self.duck)
        from yiwang.rules.relations import platform_relations

        return platform_relations(codes)

    def rows(self, sql: str, *, whole: bool = False) -> list[dict[str, Any]]:
        if self.duck is not None:
            cursor = self.duck.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        with connection.cursor() as cursor, scan_settings(cursor, whole):
            cursor.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def values(self, sql: str) -> list[Any]:
        if self.duck is not None:
            return [row[0] for row in self.duck.execute(sql).fetchall()]
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [row[0] for row in cursor.fetchall()]


# For the length of one screening statement over the whole population, or over at least
# SCAN_SUBJECTS subjects (then put back as they were). SQLite: the database file read through a
# memory map (up to SQLite's own limit, 2 GB in this build) instead of copied page by page into
# the page cache: for the ~10,000 households a feed of 10,000 claims touches, 0.24 → 0.19 s with
# the pages in memory (bench/rules.py). PostgreSQL: enough working memory to group a million
# subjects by hash without spilling to disk. Not for a few subjects (an explanation, 秒批):
# mapping the file costs more than it saves there.
SCAN_SUBJECTS = 1_000
SQLITE_SCAN = {"mmap_size": str(2**31)}
POSTGRES_SCAN = {"work_mem": "256MB"}


@contextlib.contextmanager
def scan_settings(cursor, whole: bool = True):
    """The connection's settings for a statement over the whole population (none otherwise)."""
    vendor = connection.vendor if whole else ""
    before: dict[str, str] = {}
    try:
        if vendor == "sqlite":
            for name, value in SQLITE_SCAN.items():
                cursor.execute(f"PRAGMA {name}")
                before[name] = str(cursor.fetchone()[0])
                cursor.execute(f"PRAGMA {name} = {value}")
        elif vendor == "postgresql":
            for name, value in POSTGRES_SCAN.items():
                cursor.execute(f"SHOW {name}")
                before[name] = str(cursor.fetchone()[0])
                # set_config, not SET: SET takes no bound parameters (server-side binding)
                cursor.execute("SELECT set_config(%s, %s, false)", [name, str(value)])
        yield
    finally:
        for name, value in before.items():
            if vendor == "sqlite":
                cursor.execute(f"PRAGMA {name} = {int(value)}")
                continue
            try:
                cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
            except DatabaseError:  # a failed transaction: its rollback puts the setting back
                break


def _catch_up(definition: Definition, target: str, duckdb_path: Any) -> None:
    if target != "duckdb":
        return
    import duckdb

    from yiwang.rules.mirror import duckdb_behind, duckdb_default_path, duckdb_refresh

    path = str(duckdb_path or duckdb_default_path())
    codes = {source.resource for source in definition.sources.values()}
    with duckdb.connect(path, read_only=True) as duck:
        behind = duckdb_behind(codes, duck)
    if behind:
        duckdb_refresh(behind, path=path, registry=False)


def _parsed(definition: Definition | dict) -> Definition:
    return definition if isinstance(definition, Definition) else definition_parse(definition)


def _parameters(definition: Definition, on: datetime.date, parameters: dict | None) -> dict:
    if parameters is not None:
        return parameters
    from yiwang.rules.services import parameters_at

    return parameters_at(definition.parameters(), on)


def screen(
    *,
    definition: Definition | dict,
    on: datetime.date,
    parameters: dict[str, int] | None = None,
    subjects: list[str] | None = None,
    eligible_only: bool = True,
    target: str = "platform",
    duckdb_path: Any = None,
) -> list[dict[str, Any]]:
    """The rule over the whole population (or `subjects`) on `target`: one row per subject
    (see compiler.rule_sql), only the eligible ones unless `eligible_only` is false.
    Parameters are their values on `on` unless given (a what-if)."""
    parsed = _parsed(definition)
    values = _parameters(parsed, on, parameters)
    _catch_up(parsed, target, duckdb_path)
    with _Target(target, duckdb_path) as place:
        sql = rule_sql(
            parsed,
            relations=place.relations({source.resource for source in parsed.sources.values()}),
            parameters=values,
            on=on,
            dialect=place.dialect,
            subjects=subjects,
            eligible_only=eligible_only,
        )
        return place.rows(sql, whole=subjects is None or len(subjects) >= SCAN_SUBJECTS)


def _quoted(values: list[Any]) -> str:
    return ", ".join("'" + str(value).replace("'", "''") + "'" for value in values)


def _link_field(definition: Definition, source: Source) -> str:
    """The field of `source` that leads towards the subject."""
    if source.name == definition.subject:
        return source.key
    return source.subject or source.via[2]


def _record_values(resource_code: str, keys: list[str], field: str, batch_id: int | None) -> set[Any]:
    """The values of `field` in the exchange records with these keys (the platform's copy),
    and, given the batch that changed them, in what those records held before it. Read in SQL:
    the records by their (resource, key) index, the field from the typed mirror when it is in
    sync (no JSON decoded), from the JSON otherwise."""
    from yiwang.exchange.models import Record, RecordHistory, Resource
    from yiwang.rules.mirror import mirror_relation_sql
    from yiwang.rules.relations import _json

    if not _PLAIN.match(field):
        raise ValueError(f"{resource_code}: field {field!r} is not a plain SQL name")
    resource = Resource.objects.filter(code=resource_code).prefetch_related("fields").first()
    if resource is None or resource.backing:
        return set()
    vendor = connection.vendor
    mirror = mirror_relation_sql(resource)
    names = {f.name for f in resource.fields.all()}
    if mirror is not None and field in names:
        select = (
            f"SELECT DISTINCT m.{field} FROM {Record._meta.db_table} r JOIN {mirror} m ON m._record_id = r.id"
        )
    else:
        select = f"SELECT DISTINCT {_json(field, vendor)} FROM {Record._meta.db_table} r"
    found: set[Any] = set()
    with connection.cursor() as cursor:
        if mirror is not None and field in names and batch_id is not None and resource.key_field in names:
            # As an ingest listener asks (the keys the batch wrote, and its id): the mirror's rows
            # of that batch, by its batch index, when they are exactly the records asked about.
            cursor.execute(
                f"SELECT m.{resource.key_field}, m.{field} FROM {mirror} m WHERE m._batch_id = %s", [batch_id]
            )
            written = cursor.fetchall()
            if {str(row[0]) for row in written} == set(keys):
                found.update(row[1] for row in written)
                keys = []
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start : start + IN_CHUNK]
            cursor.execute(
                f"{select} WHERE r.resource_id = %s AND r.key IN ({', '.join(['%s'] * len(chunk))})",
                [resource.pk, *chunk],
            )
            found.update(row[0] for row in cursor.fetchall())
        if batch_id is not None:
            before = _json(field, vendor).replace("r.data", "h.before")
            cursor.execute(
                f"SELECT DISTINCT {before} FROM {RecordHistory._meta.db_table} h WHERE h.batch_id = %s",
                [batch_id],
            )
            found.update(row[0] for row in cursor.fetchall())
    found.discard(None)
    return {value.isoformat() if isinstance(value, datetime.date) else value for value in found}


def affected_subjects(
    *,
    definition: Definition | dict,
    resource_code: str,
    keys: list[str],
    batch_id: int | None = None,
    target: str = "platform",
    duckdb_path: Any = None,
) -> list[str]:
    """The subjects whose verdict may change when these records (of `resource_code`) are new
    or changed: follow each source reading the resource up the rule's links to the subject.
    Given the ingest batch that changed them, the subjects the records belonged to before it
    are included (a claim corrected from one person to another touches both)."""
    parsed = _parsed(definition)
    keys = [str(key) for key in keys]
    found: set[str] = set()
    readers = [source for source in parsed.sources.values() if source.resource == resource_code]
    if not readers or not keys:
        return []
    with _Target(target, duckdb_path) as place:
        relations = place.relations({source.resource for source in parsed.sources.values()})
        for source in readers:
            values = _record_values(resource_code, keys, _link_field(parsed, source), batch_id)
            current = source
            while values and current.name != parsed.subject and not current.subject:
                other_name, other_field, _own = current.via
                other = parsed.sources[other_name]
                link = _link_field(parsed, other)
                relation = relations[other.resource].sql
                source_sql = (
                    f"({relation})" if relation.strip().lower().startswith(("select", "with")) else relation
                )
                listed = sorted(values, key=str)
                values = set()
                for start in range(0, len(listed), IN_CHUNK):
                    chunk = listed[start : start + IN_CHUNK]
                    values.update(
                        place.values(
                            f"SELECT DISTINCT t.{link} FROM {source_sql} t "
                            f"WHERE t.{other_field} IN ({_quoted(chunk)})"
                        )
                    )
                current = other
            found.update(str(value) for value in values if value is not None)
    return sorted(found)


def screen_affected(
    *,
    definition: Definition | dict,
    on: datetime.date,
    resource_code: str,
    keys: list[str],
    batch_id: int | None = None,
    parameters: dict[str, int] | None = None,
    subjects: list[str] | None = None,
    target: str = "platform",
    duckdb_path: Any = None,
) -> Affected:
    """Re-evaluate only the subjects the records with these keys (new or changed, of
    `resource_code`) touch — with `batch_id`, the ingest batch that wrote them, also those they
    belonged to before it — plus any `subjects` given. Every affected subject's row is
    returned, eligible or not."""
    parsed = _parsed(definition)
    values = _parameters(parsed, on, parameters)
    _catch_up(parsed, target, duckdb_path)
    touched = set(
        affected_subjects(
            definition=parsed,
            resource_code=resource_code,
            keys=keys,
            batch_id=batch_id,
            target=target,
            duckdb_path=duckdb_path,
        )
    )
    touched.update(str(subject) for subject in subjects or [])
    if not touched:
        return Affected(subjects=[], rows=[])
    ordered = sorted(touched)
    rows = screen(
        definition=parsed,
        on=on,
        parameters=values,
        subjects=ordered,
        eligible_only=False,
        target=target,
        duckdb_path=duckdb_path,
    )
    return Affected(subjects=ordered, rows=rows)
