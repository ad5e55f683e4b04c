"""The exchange's questions. `exchange_read` is the one way applications read shared data:
it checks the grants, refuses with a reason (audited), and writes the evidence of every read it
serves; if the evidence cannot be written, the read fails."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Department
from yiwang.exchange.backends import BACKENDS, backend_rows
from yiwang.exchange.evidence import (
    Evidence,
    StaleCatalog,
    catalog_version_get,
    evidence_append,
    evidence_append_many,
    response_hash_of,
)
from yiwang.exchange.models import (
    AccessRequest,
    ExchangeRead,
    Grant,
    Record,
    Resource,
    ResourceField,
    SharingClass,
)
from yiwang.exchange.services import field_converter

PAGE_SIZE = 50


class ReadRefused(Forbidden):
    """A read the exchange will not serve; the reason is said and audited."""

    code = "read_refused"


# ---------------------------------------------------------------- catalog


def resource_get(*, code: str) -> Resource:
    resource = Resource.objects.select_related("department").filter(code=code).first()
    if resource is None:
        raise NotFound("resource not found")
    return resource


def resource_list(*, query: str = "", department_code: str | None = None, subject_type: str = "") -> QuerySet:
    queryset = Resource.objects.select_related("department").annotate(field_count=Count("fields"))
    if query:
        queryset = queryset.filter(
            Q(title__contains=query) | Q(code__icontains=query) | Q(theme__contains=query)
        )
    if department_code:
        queryset = queryset.filter(department__code=department_code)
    if subject_type:
        queryset = queryset.filter(subject_type=subject_type)
    return queryset.order_by("department__code", "code")


def resource_fields(*, resource: Resource) -> list[ResourceField]:
    return list(resource.fields.all())


def consumer_departments(*, user: Any) -> list[Department]:
    """The departments a user may read or request for (those they hold a role in)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(Department.objects.filter(role_assignments__user=user).distinct().order_by("code"))


def grants_live(*, consumer: Department, now: datetime.datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    return Grant.objects.filter(consumer=consumer, valid_from__lte=now, valid_to__gt=now).select_related(
        "resource", "resource__department"
    )


def grant_list(*, consumer: Department) -> QuerySet:
    return Grant.objects.filter(consumer=consumer).select_related("resource", "resource__department")


def requests_of_consumer(*, consumer: Department) -> QuerySet:
    """The access requests a department made, newest first, with their decisions."""
    return AccessRequest.objects.filter(consumer=consumer).select_related(
        "resource", "resource__department", "decided_by"
    )


def steward_departments(*, user: Any) -> list[Department]:
    """The departments whose resources this user may publish (data steward of; all for an
    administrator)."""
    from yiwang.core.access import access_role
    from yiwang.core.models import Role

    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if access_role(user, Role.ADMIN):
        return list(Department.objects.order_by("code"))
    return list(
        Department.objects.filter(role_assignments__user=user, role_assignments__role=Role.DATA_STEWARD)
        .distinct()
        .order_by("code")
    )


def _is_owner(consumer: Department, resource: Resource) -> bool:
    return resource.department_id in (consumer.pk, consumer.parent_id)


def readable_fields(*, consumer: Department, resource: Resource, now=None) -> list[str]:
    """The fields this consumer may read now: all for the owner; else open ones and
    conditional ones under a live grant. Closed fields never leave the owner."""
    fields = list(resource.fields.values_list("name", "sharing_class"))
    if _is_owner(consumer, resource):
        return [name for name, _class in fields]
    granted: set[str] = set()
    for grant_fields in (
        grants_live(consumer=consumer, now=now).filter(resource=resource).values_list("fields", flat=True)
    ):
        granted.update(grant_fields)
    return [
        name
        for name, sharing in fields
        if sharing == SharingClass.OPEN or (sharing == SharingClass.CONDITIONAL and name in granted)
    ]


def resources_readable(*, consumer: Department) -> list[dict[str, Any]]:
    """Every resource with at least one field this consumer may read, and which fields."""
    now = timezone.now()
    granted: dict[int, set[str]] = {}
    for resource_id, grant_fields in grants_live(consumer=consumer, now=now).values_list(
        "resource_id", "fields"
    ):
        granted.setdefault(resource_id, set()).update(grant_fields)
    by_resource: dict[int, list[str]] = {}
    for resource_id, name, sharing, owner_id in ResourceField.objects.values_list(
        "resource_id", "name", "sharing_class", "resource__department_id"
    ).order_by("resource_id", "position", "id"):
        owner = owner_id in (consumer.pk, consumer.parent_id)
        if (
            owner
            or sharing == SharingClass.OPEN
            or (sharing == SharingClass.CONDITIONAL and name in granted.get(resource_id, ()))
        ):
            by_resource.setdefault(resource_id, []).append(name)
    resources = Resource.objects.select_related("department").filter(pk__in=by_resource).order_by("code")
    return [{"resource": resource, "fields": by_resource[resource.pk]} for resource in resources]


# ---------------------------------------------------------------- the read


@dataclass
class ReadResult:
    resource: Resource
    fields: list[str]
    rows: list[dict[str, Any]]
    page: int
    has_more: bool
    evidence: Evidence | None  # None until recorded, for a read of an EvidenceBatch


class EvidenceBatch:
    """Reads whose evidence rows are appended together by `record()`, in one transaction that
    takes the chain's head once — for a caller that makes several reads for one purpose (the
    auto-fill of a form) and then uses them. The caller must not use the rows unless `record()`
    succeeds; StaleCatalog from it means the catalog or the grants changed since the reads were
    decided: clear the cache and read again."""

    def __init__(self) -> None:
        self.reads: list[dict[str, Any]] = []
        self.versions: set[str] = set()

    def add(self, read: dict[str, Any], catalog_version: str) -> None:
        self.reads.append(read)
        self.versions.add(catalog_version)

    def record(self) -> list[Evidence]:
        if not self.reads:
            return []
        if len(self.versions) > 1:
            raise StaleCatalog
        appended = evidence_append_many(self.reads, catalog_version=next(iter(self.versions)))
        self.reads, self.versions = [], set()
        return appended


class _Refusal(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _refuse(*, actor, consumer, resource_code: str, purpose: str, subject, fields, reason: str):
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="exchange.read_refused",
            object_type="exchange.resource",
            object_id=resource_code,
            purpose=purpose or "",
            after={
                "consumer": consumer.code,
                "reason": reason,
                "fields": sorted(fields or []),
                "subject": mask_id_number(str(subject)) if subject else "",
            },
        )
    raise ReadRefused(reason)


# The hot path of a subject read is plain SQL: the ORM's query building costs more than the
# queries themselves. The resource, its fields and each consumer's grants are cached in the
# process; the cache is checked against the catalog version under the evidence head's lock
# (evidence.py), so a read never serves from grants that changed.


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class _Entry:
    """One resource as the read needs it: the (partial) row, and each field's class and type."""

    resource: Resource
    classes: dict[str, str]
    types: dict[str, str]
    conditional: bool


@dataclass
class _Grants:
    fields: frozenset[str]
    until: datetime.datetime | None  # the first moment the answer may change (a grant ends or starts)


@dataclass
class _ReadCache:
    version: str | None = None
    resources: dict[str, _Entry] = field(default_factory=dict)
    grants: dict[tuple[int, int], _Grants] = field(default_factory=dict)


_cache = _ReadCache()
CACHE_LIMIT = 20_000


def exchange_cache_clear() -> None:
    """Forget the cached resources and grants of this process (the next read loads them)."""
    global _cache
    _cache = _ReadCache()


def _resource_with_fields(code: str) -> tuple[Resource | None, list[tuple[str, str, str]]]:
    """The resource (id, code, owner, backing, subject field) and its (name, class, type) fields."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, r.code, r.department_id, r.backing, r.subject_field, r.title, r.subject_type,"
            " f.name, f.sharing_class, f.type"
            " FROM exchange_resource r LEFT JOIN exchange_resourcefield f ON f.resource_id = r.id"
            " WHERE r.code = %s ORDER BY f.position, f.id",
            [code],
        )
        found = cursor.fetchall()
    if not found:
        return None, []
    rid, rcode, department_id, backing, subject_field, title, subject_type = found[0][:7]
    resource = Resource(
        id=rid,
        code=rcode,
        department_id=department_id,
        backing=backing,
        subject_field=subject_field,
        title=title,
        subject_type=subject_type,
    )
    resource._state.adding = False
    resource._state.db = connection.alias
    return resource, [(row[7], row[8], row[9]) for row in found if row[7] is not None]


def _entry(cache: _ReadCache, code: str) -> _Entry | None:
    entry = cache.resources.get(code)
    if entry is None:
        resource, catalog = _resource_with_fields(code)
        if resource is None:
            return None
        classes = {name: sharing for name, sharing, _type in catalog}
        entry = _Entry(
            resource=resource,
            classes=classes,
            types={name: field_type for name, _sharing, field_type in catalog},
            conditional=SharingClass.CONDITIONAL in classes.values(),
        )
        if len(cache.resources) >= CACHE_LIMIT:
            cache.resources.clear()
        cache.resources[code] = entry
    return entry


def _granted_fields(
    *, cache: _ReadCache, consumer: Department, resource: Resource, now
) -> set[str] | frozenset:
    """The fields under the consumer's live grants for the resource, cached until the first
    moment that answer changes (a grant ends, or a future one starts)."""
    key = (consumer.pk, resource.pk)
    known = cache.grants.get(key)
    if known is not None and (known.until is None or now < known.until):
        return known.fields
    granted: set[str] = set()
    until = None
    for grant_fields, valid_from, valid_to in Grant.objects.filter(
        consumer_id=consumer.pk, resource_id=resource.pk, valid_to__gt=now
    ).values_list("fields", "valid_from", "valid_to"):
        if valid_from <= now:
            granted.update(grant_fields)
            moment = valid_to
        else:
            moment = valid_from
        until = moment if until is None else min(until, moment)
    if len(cache.grants) >= CACHE_LIMIT:
        cache.grants.clear()
    cache.grants[key] = _Grants(frozenset(granted), until)
    return granted


def resource_readable(
    *, consumer: Department, code: str, now: datetime.datetime | None = None
) -> tuple[Resource, dict[str, str], frozenset[str]] | None:
    """The resource (id, code, owner, backing, subject type and field, title), the sharing
    class of each of its fields, and the fields this consumer may read now — readable_fields'
    answer, from the read cache — or None when there is no such resource. The cache is checked against the catalog version first (one
    indexed read), so a field class or a grant changed since it was loaded is seen."""
    global _cache
    now = now or timezone.now()
    version = catalog_version_get()
    cache = _cache
    if cache.version != version:
        cache = _cache = _ReadCache(version=version)
    entry = _entry(cache, code)
    if entry is None:
        return None
    if _is_owner(consumer, entry.resource):
        return entry.resource, entry.classes, frozenset(entry.classes)
    granted = (
        _granted_fields(cache=cache, consumer=consumer, resource=entry.resource, now=now)
        if entry.conditional
        else frozenset()
    )
    return (
        entry.resource,
        entry.classes,
        frozenset(
            name
            for name, sharing in entry.classes.items()
            if sharing == SharingClass.OPEN or (sharing == SharingClass.CONDITIONAL and name in granted)
        ),
    )


def _subject_records(*, resource: Resource, subject: str, limit: int) -> list[dict[str, Any]]:
    column = "subject_key" if resource.subject_field else "key"
    value = str(subject).upper() if resource.subject_field else str(subject)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT data FROM exchange_record WHERE resource_id = %s AND {column} = %s"  # noqa: S608
            " ORDER BY key LIMIT %s",
            [resource.pk, value, limit],
        )
        return [_json(data) for (data,) in cursor.fetchall()]


READ_ATTEMPTS = 3


def exchange_read(
    *,
    consumer: Department,
    resource_code: str,
    purpose: str,
    subject: str | None = None,
    filters: dict[str, Any] | None = None,
    fields: list[str] | None = None,
    page: int = 1,
    actor: Any = None,
    page_size: int = PAGE_SIZE,
    now: datetime.datetime | None = None,
    batch: EvidenceBatch | None = None,
) -> ReadResult:
    """Read shared data for `consumer`, by subject (ID number / USCC / key) or by filters with
    paging. Only open fields and conditional fields under a live grant come back (all fields
    for the owner); asking for a closed field, a field whose grant expired, or reading without a
    purpose is refused, and the refusal audited. Every served read appends an evidence row to
    the hash chain (evidence.py) with the hashes of the request and the response; if it cannot
    be written, the read fails and nothing is returned. With a `batch`, the row is appended by
    `batch.record()` instead (EvidenceBatch)."""
    now = now or timezone.now()
    arguments = {
        "consumer": consumer,
        "resource_code": resource_code,
        "purpose": purpose,
        "subject": subject,
        "filters": filters,
        "fields": fields,
        "page": page,
        "actor": actor,
        "page_size": page_size,
        "now": now,
        "batch": batch,
    }
    for attempt in range(READ_ATTEMPTS):
        cache = _cache
        if attempt:
            exchange_cache_clear()
            cache = _cache
        try:
            return _read(cache=cache, fresh=attempt > 0, **arguments)
        except StaleCatalog:
            continue
        except _Refusal as refusal:
            _refuse(
                actor=actor,
                consumer=consumer,
                resource_code=resource_code,
                purpose=purpose,
                subject=subject,
                fields=fields,
                reason=refusal.reason,
            )
    raise Conflict(_("The catalog is changing; read again."))


def _read(
    *,
    cache: _ReadCache,
    fresh: bool,
    consumer: Department,
    resource_code: str,
    purpose: str,
    subject: str | None,
    filters: dict[str, Any] | None,
    fields: list[str] | None,
    page: int,
    actor: Any,
    page_size: int,
    now: datetime.datetime,
    batch: EvidenceBatch | None = None,
) -> ReadResult:
    """One attempt. Decisions from the cache are only trusted to serve: a refusal, an unknown
    field or a filter value of the wrong type raises StaleCatalog unless the cache was loaded
    fresh for this attempt."""
    if cache.version is None:
        cache.version = catalog_version_get()
    version = cache.version
    entry = _entry(cache, resource_code)
    if entry is None:
        raise NotFound("resource not found")
    if not (purpose or "").strip():
        raise _Refusal(_("Say the purpose of the read: every read is recorded with its purpose."))
    purpose = purpose.strip()
    resource, classes = entry.resource, entry.classes
    owner = _is_owner(consumer, resource)
    granted: set[str] | frozenset = frozenset()
    if not owner and entry.conditional:
        granted = _granted_fields(cache=cache, consumer=consumer, resource=resource, now=now)

    def may_read(name: str) -> bool:
        sharing = classes[name]
        return (
            owner or sharing == SharingClass.OPEN or (sharing == SharingClass.CONDITIONAL and name in granted)
        )

    asked = list(dict.fromkeys(fields)) if fields else None
    named = (asked or []) + list((filters or {}).keys())
    unknown = [name for name in named if name not in classes]
    if unknown:
        if not fresh:
            raise StaleCatalog
        raise FieldErrors(
            [(("fields",), _("Not a field of this resource: %(name)s.") % {"name": name}) for name in unknown]
        )
    for name in named:
        if may_read(name):
            continue
        if not fresh:
            raise StaleCatalog
        if classes[name] == SharingClass.CLOSED:
            reason = _("The field %(name)s is closed: it never leaves its department.") % {"name": name}
        elif Grant.objects.filter(consumer=consumer, resource_id=resource.pk, valid_to__lte=now).exists():
            reason = _("Your grant for %(name)s has expired; request access again.") % {"name": name}
        else:
            reason = _("The field %(name)s is conditional: request access and wait for approval.") % {
                "name": name
            }
        raise _Refusal(reason)
    chosen = asked or [name for name in classes if may_read(name)]
    typed_filters = {}
    if filters:
        for name, value in filters.items():
            try:
                typed_filters[name] = field_converter(entry.types[name])(value)
            except (ValueError, KeyError, TypeError):
                if not fresh:
                    raise StaleCatalog from None
                raise FieldErrors.single(
                    f"filters.{name}", _("This value does not fit the field's type.")
                ) from None
    if resource.backing and typed_filters:
        columns = BACKENDS[resource.backing].filter_columns
        cannot = [name for name in typed_filters if name not in columns]
        if cannot:
            raise FieldErrors.single(f"filters.{cannot[0]}", _("This field cannot be used as a filter."))
    page = max(int(page or 1), 1)
    offset = (page - 1) * page_size if subject is None else 0
    if resource.backing:
        found = backend_rows(
            backing=resource.backing,
            subject=subject,
            filters=typed_filters,
            offset=offset,
            limit=page_size + 1,
        )
    elif subject is not None and not typed_filters:
        found = _subject_records(resource=resource, subject=subject, limit=page_size + 1)
    else:
        queryset = Record.objects.filter(resource_id=resource.pk)
        if subject is not None:
            if resource.subject_field:
                queryset = queryset.filter(subject_key=str(subject).upper())
            else:
                queryset = queryset.filter(key=str(subject))
        for name, value in typed_filters.items():
            queryset = queryset.filter(**{f"data__{name}": value})
        found = list(queryset.order_by("key").values_list("data", flat=True)[offset : offset + page_size + 1])
    has_more = len(found) > page_size
    rows = [{name: row.get(name) for name in chosen} for row in found[:page_size]]
    request = {
        "consumer": consumer.code,
        "resource": resource.code,
        "purpose": purpose,
        "subject": subject,
        "filters": filters or {},
        "fields": chosen,
        "page": page,
        "at": now.isoformat(),
    }
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    purpose = purpose[:255]
    read = {
        "at": now,
        "consumer_id": consumer.pk,
        "actor_id": actor_id,
        "resource_id": resource.pk,
        "purpose": purpose,
        "fields": chosen,
        "subject": str(subject or "")[:64],
        "request": request,
        "response_hash": response_hash_of(rows),
        "rows": len(rows),
    }
    if batch is not None:  # appended by batch.record(), with the batch's other reads
        batch.add(read, version)
        return ReadResult(
            resource=resource, fields=chosen, rows=rows, page=page, has_more=has_more, evidence=None
        )
    evidence = evidence_append(**read, catalog_version=version)
    return ReadResult(
        resource=resource, fields=chosen, rows=rows, page=page, has_more=has_more, evidence=evidence
    )


# ---------------------------------------------------------------- requests and metrics


def requests_for_steward(*, user: Any, state: str = AccessRequest.State.PENDING) -> QuerySet:
    """Requests a data steward may decide: those on their department's resources, and for the
    chief data officer every request."""
    from yiwang.core.access import access_exchange_cdo

    queryset = AccessRequest.objects.select_related(
        "resource", "resource__department", "consumer", "requested_by"
    )
    if state:
        queryset = queryset.filter(state=state)
    if access_exchange_cdo(user):
        return queryset.order_by("requested_at")
    departments = Department.objects.filter(
        role_assignments__user=user, role_assignments__role="data_steward"
    )
    return queryset.filter(
        Q(resource__department__in=departments) | Q(resource__department__parent__in=departments)
    ).order_by("requested_at")


# How long after its last update a resource is still timely, by declared frequency. A
# "real-time" feed silent for a day is late.
FRESHNESS = {
    "realtime": datetime.timedelta(days=1),
    "daily": datetime.timedelta(days=1),
    "weekly": datetime.timedelta(days=7),
    "monthly": datetime.timedelta(days=31),
    "quarterly": datetime.timedelta(days=92),
    "yearly": datetime.timedelta(days=366),
}


def resource_is_timely(resource: Resource, now: datetime.datetime) -> bool:
    if resource.backing:
        return True  # read live from the registry
    if resource.last_updated_at is None:
        return False
    return now - resource.last_updated_at <= FRESHNESS[resource.update_frequency]


def exchange_metrics(*, now: datetime.datetime | None = None, days: int = 30) -> dict[str, Any]:
    """The city's figures: catalog mount rate (resources with live data ÷ catalog entries),
    update timeliness rate (resources updated within their declared frequency ÷ catalog entries),
    reads per consumer and per resource over the last `days` days, pending requests."""
    now = now or timezone.now()
    resources = list(
        Resource.objects.only("id", "backing", "record_count", "update_frequency", "last_updated_at")
    )
    total = len(resources)
    mounted = sum(1 for r in resources if r.backing or r.record_count > 0)
    timely = sum(1 for r in resources if resource_is_timely(r, now))
    since = now - datetime.timedelta(days=days)
    reads = ExchangeRead.objects.filter(at__gte=since)
    per_consumer = list(
        reads.values("consumer__code", "consumer__short_name")
        .annotate(reads=Count("id"))
        .order_by("-reads")[:15]
    )
    per_resource = list(
        reads.values("resource__code", "resource__title").annotate(reads=Count("id")).order_by("-reads")[:15]
    )
    per_department = list(
        Resource.objects.values("department__code", "department__short_name")
        .annotate(resources=Count("id"))
        .order_by("-resources", "department__code")
    )
    return {
        "resources": total,
        "mounted": mounted,
        "timely": timely,
        "mount_rate": mounted / total if total else 0.0,
        "timeliness_rate": timely / total if total else 0.0,
        "reads": reads.count(),
        "reads_per_consumer": per_consumer,
        "reads_per_resource": per_resource,
        "resources_per_department": per_department,
        "pending_requests": AccessRequest.objects.filter(state=AccessRequest.State.PENDING).count(),
        "days": days,
    }
