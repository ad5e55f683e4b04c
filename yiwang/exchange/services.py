"""The exchange's verbs: publish a resource, ingest records, request and decide access,
expire grants. Each is one transaction with one audit entry."""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from yiwang.core.access import access_exchange_cdo, access_exchange_consumer, access_exchange_steward
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, FieldErrors, Forbidden
from yiwang.core.masking import mask_text
from yiwang.exchange.backends import BACKENDS
from yiwang.exchange.evidence import catalog_version_bump
from yiwang.exchange.models import (
    AccessRequest,
    Backing,
    FieldType,
    Grant,
    IngestBatch,
    Record,
    Resource,
    ResourceField,
    SharingClass,
    SubjectType,
    UpdateFrequency,
)

INSERT_CHUNK = 20_000
MAX_DURATION_DAYS = 3 * 366

# Called after an applied batch commits, as listener(resource=…, batch_id=…, keys=[…]) with the
# keys of the records the batch created or changed. Other engines register here (the rules
# engine's typed mirror follows ingests this way); a listener's failure does not undo the batch.
INGEST_LISTENERS: list = []


# ---------------------------------------------------------------- publishing


def _is_system(actor: Any) -> bool:
    """None or a label such as "system:seed": the platform itself, not a logged-in user."""
    return actor is None or isinstance(actor, str)


def _field_errors_of(fields: list[dict[str, Any]], key_field: str, subject_field: str):
    errors: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for index, spec in enumerate(fields):
        name = (spec.get("name") or "").strip()
        if not name:
            errors.append((("fields", index, "name"), _("A field needs a name.")))
        elif name in seen:
            errors.append((("fields", index, "name"), _("This field name is used twice.")))
        seen.add(name)
        if spec.get("type", "string") not in FieldType.values:
            errors.append((("fields", index, "type"), _("Unknown field type.")))
        if spec.get("sharing_class") not in SharingClass.values:
            errors.append((("fields", index, "sharing_class"), _("Choose open, conditional or closed.")))
    if key_field not in seen:
        errors.append((("key_field",), _("The record key must be one of the fields.")))
    if subject_field and subject_field not in seen:
        errors.append((("subject_field",), _("The subject field must be one of the fields.")))
    return errors


@transaction.atomic
def resource_publish(
    *,
    actor: Any,
    department: Any,
    code: str,
    title: str,
    subject_type: str,
    key_field: str,
    fields: list[dict[str, Any]],
    subject_field: str = "",
    description: str = "",
    source_system: str = "",
    update_frequency: str = UpdateFrequency.DAILY,
    publisher: str = "",
    contact: str = "",
    theme: str = "",
    access_rights: str = "",
    provenance: str = "",
    backing: str = "",
) -> Resource:
    """Publish (or republish) a resource of `department` into the catalog, with its fields and
    their sharing classes. Only the department's data steward (or the CDO) may publish; actor
    None is the system (the demo seed)."""
    if not _is_system(actor) and not access_exchange_steward(actor, department):
        raise Forbidden(_("Only a data steward of the owning department may publish its resources."))
    if backing:
        fields = fields or [
            {"name": n, "type": t, "sharing_class": s, "label": label, "description": d}
            for n, t, s, label, d in BACKENDS[backing].fields
        ]
    errors = _field_errors_of(fields, key_field, subject_field)
    if not code.strip():
        errors.append((("code",), _("A resource needs a code.")))
    if not title.strip():
        errors.append((("title",), _("A resource needs a title.")))
    if subject_type not in SubjectType.values:
        errors.append((("subject_type",), _("Unknown subject type.")))
    if update_frequency not in UpdateFrequency.values:
        errors.append((("update_frequency",), _("Unknown update frequency.")))
    if backing not in Backing.values:
        errors.append((("backing",), _("Unknown backing.")))
    existing = Resource.objects.filter(code=code).first()
    if existing is not None and existing.department_id != department.pk:
        errors.append((("code",), _("This code belongs to another department's resource.")))
    if errors:
        raise FieldErrors(errors)
    now = timezone.now()
    values = {
        "title": title,
        "description": description,
        "department": department,
        "source_system": source_system,
        "update_frequency": update_frequency,
        "subject_type": subject_type,
        "publisher": publisher or department.name,
        "contact": contact,
        "theme": theme,
        "access_rights": access_rights,
        "provenance": provenance,
        "key_field": key_field,
        "subject_field": subject_field,
        "backing": backing,
    }
    before = None
    if existing is None:
        resource = Resource.objects.create(code=code, published_at=now, **values)
    else:
        before = {"fields": list(existing.fields.values_list("name", "sharing_class"))}
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        resource = existing
        resource.fields.all().delete()
    ResourceField.objects.bulk_create(
        ResourceField(
            resource=resource,
            name=spec["name"].strip(),
            label=spec.get("label", ""),
            type=spec.get("type", "string"),
            description=spec.get("description", ""),
            sharing_class=spec["sharing_class"],
            required=bool(spec.get("required")) or spec["name"] == key_field,
            position=index,
        )
        for index, spec in enumerate(fields)
    )
    catalog_version_bump()  # readers' cached fields and classes are stale from the commit on
    audit_record(
        actor=actor,
        action="exchange.resource_publish",
        target=resource,
        before=before,
        after={
            "code": code,
            "department": department.code,
            "fields": [[spec["name"], spec["sharing_class"]] for spec in fields],
        },
    )
    return resource


# ---------------------------------------------------------------- ingest


@dataclass
class IngestReport:
    mode: str
    applied: bool = False
    duplicate: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    batch_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.duplicate:
            outcome = _("This batch was already applied: nothing changed.")
        elif not self.applied:
            outcome = _("Nothing was written: the batch has errors and the mode is all-or-nothing.")
        elif self.errors:
            outcome = _("The good rows were written; the rows with errors were skipped.")
        else:
            outcome = _("Every row was written.")
        return {
            "mode": self.mode,
            "applied": self.applied,
            "duplicate": self.duplicate,
            "outcome": outcome,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "batch_id": self.batch_id,
        }


def _to_string(value):
    return str(value)


def _to_integer(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError
    return int(str(value).strip())


def _to_decimal(value):
    if isinstance(value, bool):
        raise ValueError
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return str(number)


def _to_date(value):
    return datetime.date.fromisoformat(str(value).strip()[:10]).isoformat()


def _to_datetime(value):
    return datetime.datetime.fromisoformat(str(value).strip()).isoformat()


BOOLEAN_WORDS = {
    "true": True,
    "1": True,
    "是": True,
    "yes": True,
    "false": False,
    "0": False,
    "否": False,
    "no": False,
}


def _to_boolean(value):
    if isinstance(value, bool):
        return value
    return BOOLEAN_WORDS[str(value).strip().lower()]


CONVERTERS = {
    "string": (_to_string, gettext_noop("text")),
    "integer": (_to_integer, gettext_noop("a whole number")),
    "decimal": (_to_decimal, gettext_noop("a number")),
    "date": (_to_date, gettext_noop("a date (YYYY-MM-DD)")),
    "datetime": (_to_datetime, gettext_noop("a date and time (ISO 8601)")),
    "boolean": (_to_boolean, gettext_noop("yes or no (true/false, 是/否)")),
}


def field_converter(field_type: str):
    return CONVERTERS[field_type][0]


def jsonlines_rows(content: bytes, start: int = 1) -> list[tuple[int, dict | None]]:
    """(line number, object) for each non-blank line; None where the line is not a JSON object."""
    rows: list[tuple[int, dict | None]] = []
    loads = json.loads
    for number, line in enumerate(content.split(b"\n"), start=start):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except ValueError:
            value = None
        rows.append((number, value if isinstance(value, dict) else None))
    return rows


def table_rows(*, name: str, content: bytes) -> list[tuple[int, dict | None]]:
    """Rows of a CSV or Excel file, numbered as a spreadsheet numbers them (header = row 1)."""
    from yiwang.registry.imports import table_read

    return [(index, row) for index, row in enumerate(table_read(name=name, content=content), start=2)]


def rows_read(*, name: str, content: bytes) -> list[tuple[int, dict | None]]:
    lower = name.lower()
    if lower.endswith((".csv", ".xlsx")):
        return table_rows(name=name, content=content)
    return jsonlines_rows(content)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _to_date_fast(value):
    if type(value) is str and len(value) == 10:
        datetime.date.fromisoformat(value)  # raises ValueError if it is not a date
        return value
    return _to_date(value)


def _to_decimal_fast(value):
    if type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError from None
        if not number.is_finite():
            raise ValueError
        return value if "e" not in value.lower() and value == value.strip() else str(number)
    return _to_decimal(value)


# Converters on the hot path of an ingest (None: text, kept as it is).
FAST_CONVERTERS = {"string": None, "date": _to_date_fast, "decimal": _to_decimal_fast}

_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _plan(resource: Resource) -> tuple:
    """What validation needs of a resource, as plain (picklable) values."""
    fields = list(resource.fields.all())
    specs = [
        (f.name, FAST_CONVERTERS.get(f.type, CONVERTERS[f.type][0]), CONVERTERS[f.type][1], f.required)
        for f in fields
    ]
    labels = {f.label: f.name for f in fields if f.label and f.label != f.name}
    return specs, labels, resource.key_field, resource.subject_field


def _validate(resource: Resource, rows: Iterable[tuple[int, dict | None]], report: IngestReport):
    return _validate_rows(_plan(resource), rows, report)


def _validate_chunk(args: tuple) -> tuple:
    """In a worker process: one slice of a JSON-lines batch."""
    plan, chunk, start = args
    report = IngestReport(mode="")
    good = _validate_rows(plan, jsonlines_rows(chunk, start), report)
    return good, report.errors, report.rows, report.rejected


PARALLEL_MIN_BYTES = 32 * 1024 * 1024


def _validate_content(resource: Resource, name: str, content: bytes, report: IngestReport):
    """Validate a batch; a big JSON-lines batch is cut at line ends and validated by one worker
    process per CPU (parsing and converting are the larger part of an ingest). Keys repeated
    across slices are caught when the slices are joined, as within one."""
    workers = min(os.cpu_count() or 1, 4)
    if name.lower().endswith((".csv", ".xlsx")) or len(content) < PARALLEL_MIN_BYTES or workers < 2:
        return _validate(resource, rows_read(name=name, content=content), report)
    plan = _plan(resource)
    pieces, start, line = [], 0, 1
    size = len(content) // workers + 1
    while start < len(content):
        end = content.find(b"\n", start + size)
        end = len(content) if end < 0 else end
        pieces.append((plan, content[start:end], line))
        line += content.count(b"\n", start, end) + 1
        start = end + 1
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(pool.map(_validate_chunk, pieces))
    good: dict[str, tuple[int, str, str, str]] = {}
    for part, errors, rows, rejected in results:
        report.rows += rows
        report.rejected += rejected
        report.errors.extend(errors)
        if not good:
            good = part
            continue
        for key, value in part.items():
            if key in good:
                report.errors.append(
                    {
                        "row": value[0],
                        "column": plan[2],
                        "reason": _("The key %(key)s is also on row %(other)s.")
                        % {"key": key, "other": good[key][0]},
                    }
                )
                report.rejected += 1
            else:
                good[key] = value
    return good


def _validate_rows(plan: tuple, rows: Iterable[tuple[int, dict | None]], report: IngestReport):
    """Good rows as key → (row number, subject key, canonical JSON text, digest); errors go
    into the report. This is the hot loop of an ingest: one pass, no per-row allocations
    beyond the record itself."""
    specs, labels, key_field, subject_field = plan
    known = frozenset(name for name, *_rest in specs)
    good: dict[str, tuple[int, str, str, str]] = {}
    errors = report.errors
    blake2b = hashlib.blake2b
    rejected = 0
    count = 0
    for number, row in rows:
        count += 1
        if row is None:
            errors.append({"row": number, "column": "", "reason": _("Not a JSON object.")})
            rejected += 1
            continue
        row_errors = None
        if not known.issuperset(row):
            if labels:
                row = {labels.get(column, column): value for column, value in row.items()}
            unknown = [column for column in row if column not in known]
            if unknown:
                row_errors = [
                    {"row": number, "column": column, "reason": _("Not a field of this resource.")}
                    for column in unknown
                ]
        data = {}
        for name, convert, expected, required in specs:
            value = row.get(name)
            if value is None or value == "":
                if required:
                    row_errors = row_errors or []
                    row_errors.append({"row": number, "column": name, "reason": _("This field is required.")})
                data[name] = None
            elif convert is None:
                data[name] = value if type(value) is str else str(value)
            else:
                try:
                    data[name] = convert(value)
                except (ValueError, KeyError, TypeError):
                    row_errors = row_errors or []
                    row_errors.append(
                        {
                            "row": number,
                            "column": name,
                            "reason": _("Expected %(expected)s, got “%(value)s”.")
                            % {"expected": _(expected), "value": str(value)[:40]},
                        }
                    )
        if row_errors:
            errors.extend(row_errors)
            rejected += 1
            continue
        key = str(data[key_field])
        if key in good:
            errors.append(
                {
                    "row": number,
                    "column": key_field,
                    "reason": _("The key %(key)s is also on row %(other)s.")
                    % {"key": key, "other": good[key][0]},
                }
            )
            rejected += 1
            continue
        text = _encode(data)
        subject = data[subject_field] if subject_field else ""
        good[key] = (
            number,
            subject.upper() if type(subject) is str else ("" if subject is None else str(subject)),
            text,
            blake2b(text.encode(), digest_size=16).hexdigest(),
        )
    report.rows += count
    report.rejected += rejected
    return good


@transaction.atomic
def records_ingest(
    *,
    actor: Any,
    resource: Resource,
    content: bytes,
    name: str = "batch.jsonl",
    mode: str = IngestBatch.Mode.ALL_OR_NOTHING,
    source: str = "",
) -> IngestReport:
    """Upsert a batch of records (JSON lines, or a .csv / .xlsx file) by key. Every row is
    checked against the resource's fields; the report names row, column and reason. In
    all-or-nothing mode one bad row means nothing is written; in keep-good-rows mode the good
    rows are. The same batch pushed twice changes nothing. Changed records keep their history
    (before/after). One transaction: a crash leaves no half-applied batch."""
    if not _is_system(actor) and not access_exchange_steward(actor, resource.department):
        raise Forbidden(_("Only the owning department's systems and data stewards may push its records."))
    if resource.backing:
        raise Conflict(_("This resource is read from the registry; push changes to the registry instead."))
    if mode not in IngestBatch.Mode.values:
        raise FieldErrors.single("mode", _("Choose all_or_nothing or keep_good_rows."))
    report = IngestReport(mode=mode)
    digest = hashlib.sha256(content).hexdigest()
    last = IngestBatch.objects.filter(resource=resource, applied=True).order_by("-at", "-id").first()
    if last is not None and last.digest == digest and not last.errors:
        report.duplicate = True
        report.rows = report.unchanged = last.rows
        report.batch_id = last.pk
        return report
    good = _validate_content(resource, name, content, report)
    now = timezone.now()
    batch = IngestBatch(
        resource=resource,
        actor=actor if getattr(actor, "pk", None) else None,
        digest=digest,
        source=source or name,
        mode=mode,
        rows=report.rows,
        at=now,
    )
    if report.errors and mode == IngestBatch.Mode.ALL_OR_NOTHING:
        report.errors.sort(key=lambda error: error["row"])
        batch.rejected = report.rejected
        batch.errors = report.errors[:1000]
        batch.save()
        report.batch_id = batch.pk
        audit_record(
            actor=actor,
            action="exchange.records_refused",
            target=resource,
            after={"batch": batch.pk, "rows": report.rows, "errors": len(report.errors)},
        )
        return report
    batch.save()
    existing: dict[str, tuple[int, str, Any]] = {}
    if resource.record_count or Record.objects.filter(resource=resource).exists():
        existing = {
            key: (pk, record_digest, data)
            for key, pk, record_digest, data in _existing_records(resource, list(good))
        }
    inserts, updates, history, updated_keys = [], [], [], []
    stamp = now.isoformat() if connection.vendor == "sqlite" else now
    for key, (_number, subject, text, record_digest) in good.items():
        old = existing.get(key)
        if old is None:
            inserts.append((resource.pk, key, subject, text, record_digest, batch.pk, stamp))
        elif old[1] == record_digest:
            report.unchanged += 1
        else:
            updates.append((subject, text, record_digest, batch.pk, stamp, old[0]))
            updated_keys.append(key)
            before = old[2] if isinstance(old[2], str) else json.dumps(old[2], ensure_ascii=False)
            history.append((old[0], batch.pk, before, text, stamp))
    _bulk_write(inserts, updates, history)
    report.created, report.updated = len(inserts), len(updates)
    report.applied = True
    report.errors.sort(key=lambda error: error["row"])
    report.batch_id = batch.pk
    batch.applied = True
    batch.created, batch.updated, batch.unchanged = report.created, report.updated, report.unchanged
    batch.rejected = report.rejected
    batch.errors = report.errors[:1000]
    batch.save()
    Resource.objects.filter(pk=resource.pk).update(
        record_count=F("record_count") + report.created, last_updated_at=now
    )
    resource.refresh_from_db(fields=["record_count"])
    resource.last_updated_at = now
    audit_record(
        actor=actor,
        action="exchange.records_ingest",
        target=resource,
        after={
            "batch": batch.pk,
            "mode": mode,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
        },
    )
    if INGEST_LISTENERS:
        changed = [row[1] for row in inserts] + updated_keys
        for listener in INGEST_LISTENERS:
            transaction.on_commit(
                lambda listener=listener: listener(resource=resource, batch_id=batch.pk, keys=changed),
                robust=True,
            )
    return report


# A batch at least this share of the resource reads every record in one scan; a smaller one
# (a monthly feed into a resource of millions) looks its keys up by the (resource, key) index in
# chunks, so its cost follows the batch, not the resource.
FULL_SCAN_SHARE = 0.25
KEY_CHUNK = 5000


def _existing_records(resource: Resource, keys: list[str]):
    """(key, id, digest, raw data) of the resource's records with these keys."""
    if len(keys) >= KEY_CHUNK and len(keys) >= FULL_SCAN_SHARE * (resource.record_count or 0):
        wanted = set(keys)
        return (row for row in _all_records(resource) if row[0] in wanted)
    return (
        row
        for start in range(0, len(keys), KEY_CHUNK)
        for row in Record.objects.filter(
            resource=resource, key__in=keys[start : start + KEY_CHUNK]
        ).values_list("key", "id", "digest", "data")
    )


def _all_records(resource: Resource):
    """(key, id, digest, raw data) of every record, the data left undecoded."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, id, digest, data FROM {Record._meta.db_table} WHERE resource_id = %s",  # noqa: S608
            [resource.pk],
        )
        while chunk := cursor.fetchmany(50_000):
            yield from chunk


def _bulk_write(inserts: list[tuple], updates: list[tuple], history: list[tuple]) -> None:
    table = Record._meta.db_table
    history_table = "exchange_recordhistory"
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and len(inserts) + len(updates) > INSERT_CHUNK:
            # A big batch walks big indexes: give this connection a larger page cache (256 MB).
            cursor.execute("PRAGMA cache_size = -262144")
        for start in range(0, len(inserts), INSERT_CHUNK):
            cursor.executemany(
                f"INSERT INTO {table} (resource_id, key, subject_key, data, digest, batch_id, updated_at) "  # noqa: S608
                f"VALUES (%s, %s, %s, %s{json_cast}, %s, %s, %s)",
                inserts[start : start + INSERT_CHUNK],
            )
        for start in range(0, len(updates), INSERT_CHUNK):
            cursor.executemany(
                f"UPDATE {table} SET subject_key = %s, data = %s{json_cast}, digest = %s, batch_id = %s, "  # noqa: S608
                f"updated_at = %s WHERE id = %s",
                updates[start : start + INSERT_CHUNK],
            )
        for start in range(0, len(history), INSERT_CHUNK):
            cursor.executemany(
                f"INSERT INTO {history_table} (record_id, batch_id, before, after, at) "  # noqa: S608
                f"VALUES (%s, %s, %s{json_cast}, %s{json_cast}, %s)",
                history[start : start + INSERT_CHUNK],
            )


# ---------------------------------------------------------------- access requests and grants


@transaction.atomic
def access_request_submit(
    *,
    actor: Any,
    consumer: Any,
    resource: Resource,
    fields: list[str],
    purpose: str,
    legal_basis: str,
    duration_days: int,
) -> AccessRequest:
    """A consumer department asks for conditional (or open) fields of a resource, saying why,
    on what legal basis and for how long. Closed fields cannot be requested."""
    if not _is_system(actor) and not access_exchange_consumer(actor, consumer):
        raise Forbidden(_("You may only request data for a department you work in."))
    classes = dict(resource.fields.values_list("name", "sharing_class"))
    errors: list[tuple[tuple[str | int, ...], str]] = []
    if not fields:
        errors.append((("fields",), _("Choose at least one field.")))
    for index, name in enumerate(fields):
        if name not in classes:
            errors.append((("fields", index), _("Not a field of this resource.")))
        elif classes[name] == SharingClass.CLOSED:
            errors.append((("fields", index), _("A closed field never leaves its department.")))
    if not purpose.strip():
        errors.append((("purpose",), _("Say what the data is for.")))
    if not legal_basis.strip():
        errors.append((("legal_basis",), _("Name the law or policy that allows this use.")))
    if not 1 <= duration_days <= MAX_DURATION_DAYS:
        errors.append((("duration_days",), _("Between 1 day and 3 years.")))
    if errors:
        raise FieldErrors(errors)
    request = AccessRequest.objects.create(
        resource=resource,
        consumer=consumer,
        fields=sorted(set(fields)),
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        duration_days=duration_days,
        requested_by=actor if getattr(actor, "pk", None) else None,
        requested_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="exchange.access_request_submit",
        target=request,
        purpose=request.purpose,
        after={"resource": resource.code, "consumer": consumer.code, "fields": request.fields},
    )
    return request


def access_request_deciders_need_cdo(request: AccessRequest) -> bool:
    """Conditional fields need the chief data officer; open ones the owner's data steward."""
    return request.resource.fields.filter(
        name__in=request.fields, sharing_class=SharingClass.CONDITIONAL
    ).exists()


def access_decide_allowed(user: Any, request: AccessRequest) -> bool:
    if access_request_deciders_need_cdo(request):
        return access_exchange_cdo(user)
    return access_exchange_steward(user, request.resource.department) or access_exchange_cdo(user)


@transaction.atomic
def access_request_decide(
    *, actor: Any, request: AccessRequest, approve: bool, reason: str = ""
) -> AccessRequest:
    """Approve (a grant is made for the requested duration) or refuse (with a reason) a pending
    request. Compare-and-set on the state: two deciders cannot both decide."""
    if not access_decide_allowed(actor, request):
        if access_request_deciders_need_cdo(request):
            raise Forbidden(_("Conditional fields are approved by the city's chief data officer."))
        raise Forbidden(_("Only the owning department's data steward may decide this request."))
    if not approve and not reason.strip():
        raise FieldErrors.single("reason", _("Say why the request is refused."))
    now = timezone.now()
    state = AccessRequest.State.APPROVED if approve else AccessRequest.State.REFUSED
    changed = AccessRequest.objects.filter(pk=request.pk, state=AccessRequest.State.PENDING).update(
        state=state, decided_by=actor, decided_at=now, reason=reason.strip()
    )
    if changed != 1:
        raise Conflict(_("This request has already been decided."))
    request.refresh_from_db()
    grant = None
    if approve:
        grant = Grant.objects.create(
            resource=request.resource,
            consumer=request.consumer,
            fields=request.fields,
            purpose=request.purpose,
            valid_from=now,
            valid_to=now + datetime.timedelta(days=request.duration_days),
            request=request,
        )
        catalog_version_bump()  # readers' cached grants are stale from the commit on
    audit_record(
        actor=actor,
        action="exchange.access_request_approve" if approve else "exchange.access_request_refuse",
        target=request,
        before={"state": "pending"},
        after={"state": state, "reason": request.reason, "grant": grant.pk if grant else None},
    )
    return request


@transaction.atomic
def grants_expire(*, actor: Any = None, now: datetime.datetime | None = None) -> int:
    """Mark grants past their end as expired (reads already refuse them from that moment; this
    sweep records it). Idempotent: a second run finds nothing."""
    now = now or timezone.now()
    ids = list(Grant.objects.filter(expired=False, valid_to__lte=now).values_list("pk", flat=True))
    if not ids:
        return 0
    Grant.objects.filter(pk__in=ids).update(expired=True)
    audit_record(
        actor=actor, action="exchange.grants_expire", object_type="exchange.grant", after={"grants": ids}
    )
    return len(ids)


# ---------------------------------------------------------------- refusals at the door


def token_refusal_record(*, token: str, method: str, path: str, address: str = "") -> None:
    """Audit an API call refused for its token (unknown, revoked or expired, or its user
    inactive). Only the token's first 8 characters are kept (the prefix the platform shows
    for its own tokens) and a short hash to tell two wrong tokens apart."""
    masked = mask_text(path)[:255]  # a subject's ID number in the path is masked
    with transaction.atomic():
        audit_record(
            actor="api:invalid-token",
            action="exchange.token_refused",
            object_type="exchange.api",
            object_id=masked[:64],
            after={
                "method": method,
                "path": masked,
                "token_prefix": token[:8],
                "token_digest": hashlib.sha256(token.encode()).hexdigest()[:16],
                "address": address,
            },
        )
