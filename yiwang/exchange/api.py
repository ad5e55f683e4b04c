"""Exchange API for department systems: the catalog, what I may read, my grants, access
requests and decisions, reads by subject or by filter, and record pushes (JSON lines or a
CSV / Excel file). Token per consumer system (core.tokens); each token is rate limited
(YIWANG_EXCHANGE_RATE, default 600 calls a minute). Errors in the platform's one shape."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import SessionAuth
from ninja.throttling import SimpleRateThrottle

from yiwang.core.errors import DomainError, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Department
from yiwang.core.tokens import ApiTokenAuth
from yiwang.exchange import selectors, services
from yiwang.exchange.models import AccessRequest, IngestBatch

DEFAULT_RATE = "600/m"


class TokenRateThrottle(SimpleRateThrottle):
    """Per token (the hash of the bearer token), else per logged-in user."""

    scope = "exchange"

    def __init__(self):
        super().__init__(rate=DEFAULT_RATE)

    def allow_request(self, request) -> bool:
        self.num_requests, self.duration = self.parse_rate(
            getattr(settings, "YIWANG_EXCHANGE_RATE", DEFAULT_RATE)
        )
        return super().allow_request(request)

    def get_cache_key(self, request) -> str:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            ident = "token-" + hashlib.sha256(header[7:].strip().encode()).hexdigest()
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request) or "anonymous"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenRefused(DomainError):
    code = "unauthenticated"
    status = 401


class ExchangeTokenAuth(ApiTokenAuth):
    """The platform's token auth, except that a bearer token it does not know (unknown,
    revoked, expired, or its user inactive) is refused with that reason and the refusal is
    audited (`exchange.token_refused`). No token at all falls through to the session."""

    def authenticate(self, request, token: str):
        user = super().authenticate(request, token)
        if user is None:
            services.token_refusal_record(
                token=token,
                method=request.method or "",
                path=request.path,
                address=request.META.get("REMOTE_ADDR", ""),
            )
            raise TokenRefused(_("This API token is not valid: it is unknown, revoked or expired."))
        return user


router = Router(tags=["exchange"], auth=[ExchangeTokenAuth(), SessionAuth()], throttle=[TokenRateThrottle()])


def _consumer(request, code: str | None) -> Department:
    """The department the caller acts for: the one named, if they work in it; else their only one."""
    departments = selectors.consumer_departments(user=request.auth)
    if code:
        for department in departments:
            if department.code == code:
                return department
        raise Forbidden(_("You do not work in department %(code)s.") % {"code": code})
    if not departments:
        raise Forbidden(_("Your login belongs to no department: the exchange serves departments."))
    if len(departments) > 1:
        raise FieldErrors.single(
            "query.consumer", _("You work in several departments: say which one with ?consumer=CODE.")
        )
    return departments[0]


def _resource(code: str):
    return selectors.resource_get(code=code)


# ---------------------------------------------------------------- catalog


class FieldOut(Schema):
    name: str
    label: str
    type: str
    description: str
    sharing_class: str


class ResourceOut(Schema):
    code: str
    title: str
    department: str = Field(..., alias="department.code")
    department_name: str = Field(..., alias="department.name")
    subject_type: str
    update_frequency: str
    theme: str
    backed_by_registry: bool
    record_count: int
    last_updated_at: datetime.datetime | None

    @staticmethod
    def resolve_backed_by_registry(obj) -> bool:
        return bool(obj.backing)


class ResourceDetailOut(ResourceOut):
    description: str
    source_system: str
    publisher: str
    contact: str
    access_rights: str
    provenance: str
    key_field: str
    subject_field: str
    published_at: datetime.datetime
    fields: list[FieldOut]

    @staticmethod
    def resolve_fields(obj) -> list:
        return list(obj.fields.all())


@router.get("/resources", response=list[ResourceOut])
@paginate(PageNumberPagination, page_size=50)
def resource_list(request, q: str = "", department: str | None = None, subject_type: str = ""):
    """The catalog (政务数据资源目录)."""
    return selectors.resource_list(query=q, department_code=department, subject_type=subject_type)


@router.get("/resources/{code}", response=ResourceDetailOut)
def resource_detail(request, code: str):
    """One resource with its fields and their sharing classes."""
    return _resource(code)


class ReadableOut(Schema):
    resource: ResourceOut
    fields: list[str]


@router.get("/readable", response=list[ReadableOut])
def readable(request, consumer: str | None = None):
    """Resources my department may read now, with the fields it may read."""
    return selectors.resources_readable(consumer=_consumer(request, consumer))


class GrantOut(Schema):
    id: int
    resource: str = Field(..., alias="resource.code")
    fields: list[str]
    purpose: str
    valid_from: datetime.datetime
    valid_to: datetime.datetime
    live: bool

    @staticmethod
    def resolve_live(obj) -> bool:
        from django.utils import timezone

        return obj.valid_from <= timezone.now() < obj.valid_to


@router.get("/grants", response=list[GrantOut])
def grant_list(request, consumer: str | None = None):
    """My department's grants, live and expired."""
    return selectors.grant_list(consumer=_consumer(request, consumer))


# ---------------------------------------------------------------- requests


class AccessRequestIn(Schema):
    fields: list[str]
    purpose: str
    legal_basis: str
    duration_days: int = Field(..., ge=1)
    consumer: str | None = None


class AccessRequestOut(Schema):
    id: int
    resource: str = Field(..., alias="resource.code")
    consumer: str = Field(..., alias="consumer.code")
    fields: list[str]
    purpose: str
    legal_basis: str
    duration_days: int
    state: str
    reason: str
    requested_at: datetime.datetime
    decided_at: datetime.datetime | None


@router.post("/resources/{code}/requests", response={201: AccessRequestOut})
def access_request_submit(request, code: str, payload: AccessRequestIn):
    """Ask for fields of a resource (conditional ones need approval), with purpose, legal basis
    and duration."""
    created = services.access_request_submit(
        actor=request.auth,
        consumer=_consumer(request, payload.consumer),
        resource=_resource(code),
        fields=payload.fields,
        purpose=payload.purpose,
        legal_basis=payload.legal_basis,
        duration_days=payload.duration_days,
    )
    return Status(201, created)


@router.get("/requests", response=list[AccessRequestOut])
def request_list(request, state: str = "pending"):
    """Requests I may decide as a data steward (all of them for the chief data officer)."""
    return list(selectors.requests_for_steward(user=request.auth, state=state))


class DecisionIn(Schema):
    approve: bool
    reason: str = ""


@router.post("/requests/{request_id}/decision", response=AccessRequestOut)
def access_request_decide(request, request_id: int, payload: DecisionIn):
    found = (
        AccessRequest.objects.select_related("resource", "resource__department", "consumer")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound("request not found")
    return services.access_request_decide(
        actor=request.auth, request=found, approve=payload.approve, reason=payload.reason
    )


# ---------------------------------------------------------------- reads


class ReadOut(Schema):
    resource: str
    fields: list[str]
    rows: list[dict[str, Any]]
    page: int
    has_more: bool
    evidence_id: int
    request_hash: str
    response_hash: str


def _read_out(result) -> dict[str, Any]:
    return {
        "resource": result.resource.code,
        "fields": result.fields,
        "rows": result.rows,
        "page": result.page,
        "has_more": result.has_more,
        "evidence_id": result.evidence.pk,
        "request_hash": result.evidence.request_hash,
        "response_hash": result.evidence.response_hash,
    }


class ReadQuery(Schema):
    purpose: str = ""
    consumer: str | None = None
    fields: list[str] = Field(default_factory=list)


@router.get("/resources/{code}/subjects/{subject}", response=ReadOut)
def read_subject(request, code: str, subject: str, query: Query[ReadQuery]):
    """One subject's records (ID number, USCC, unit number or record key). `purpose` is
    required; `fields` (repeatable) narrows the fields; every read is recorded as evidence."""
    result = selectors.exchange_read(
        consumer=_consumer(request, query.consumer),
        resource_code=code,
        subject=subject,
        purpose=query.purpose,
        fields=query.fields or None,
        actor=request.auth,
    )
    return _read_out(result)


class FilterQuery(ReadQuery):
    filter: list[str] = Field(default_factory=list, description="name=value, repeatable")
    page: int = Field(1, ge=1)


@router.get("/resources/{code}/records", response=ReadOut)
def read_filter(request, code: str, query: Query[FilterQuery]):
    """Records matching `filter=name=value` (repeatable, all must match), 50 a page."""
    filters: dict[str, str] = {}
    for index, item in enumerate(query.filter):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise FieldErrors([(("query", "filter", index), _("Write a filter as name=value."))])
        filters[name] = value
    result = selectors.exchange_read(
        consumer=_consumer(request, query.consumer),
        resource_code=code,
        filters=filters,
        purpose=query.purpose,
        fields=query.fields or None,
        page=query.page,
        actor=request.auth,
    )
    return _read_out(result)


# ---------------------------------------------------------------- pushes


class IngestError(Schema):
    row: int
    column: str
    reason: str


class IngestOut(Schema):
    mode: str
    applied: bool
    duplicate: bool
    outcome: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[IngestError]
    batch_id: int | None


# A pushed batch is held in memory while it is checked; bigger batches are split by the sender.
DEFAULT_MAX_BATCH_BYTES = 256 * 1024 * 1024


class BatchTooLarge(DomainError):
    code = "too_large"
    status = 413


def _max_batch_bytes() -> int:
    return int(getattr(settings, "YIWANG_EXCHANGE_MAX_BATCH_BYTES", DEFAULT_MAX_BATCH_BYTES))


def _too_large(limit: int) -> BatchTooLarge:
    return BatchTooLarge(
        _(
            "The batch is larger than the limit of %(limit)s bytes (%(megabytes)s MB): "
            "push it in several smaller batches."
        )
        % {"limit": f"{limit:,}", "megabytes": f"{limit / 1024 / 1024:g}"}
    )


def _body(request) -> bytes:
    """The request body, up to the exchange's batch limit (YIWANG_EXCHANGE_MAX_BATCH_BYTES,
    256 MB by default) rather than Django's form-data limit; beyond it, 413 naming the limit."""
    limit = _max_batch_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large(limit)
    content = request.read(limit + 1)
    if len(content) > limit:
        raise _too_large(limit)
    return content


@router.post("/resources/{code}/records", response={200: IngestOut, 422: IngestOut, 413: dict})
def ingest_jsonlines(request, code: str, mode: str = IngestBatch.Mode.ALL_OR_NOTHING):
    """Push records as JSON lines (the request body, one object per line), upserted by key.
    422 with the report (row, column, reason) when nothing was written; 413 when the body is
    over the batch limit (YIWANG_EXCHANGE_MAX_BATCH_BYTES, 256 MB by default)."""
    resource = _resource(code)
    report = services.records_ingest(
        actor=request.auth, resource=resource, content=_body(request), name="body.jsonl", mode=mode
    )
    body = report.as_dict()
    return Status(200 if report.applied or report.duplicate else 422, body)


@router.post("/resources/{code}/records/file", response={200: IngestOut, 422: IngestOut, 413: dict})
def ingest_file(request, code: str, file: File[UploadedFile], mode: str = IngestBatch.Mode.ALL_OR_NOTHING):
    """Push records as a .csv, .xlsx or .jsonl file (header row: field names or labels); the
    same batch limit as a JSON-lines body."""
    resource = _resource(code)
    if file.size is not None and file.size > _max_batch_bytes():
        raise _too_large(_max_batch_bytes())
    report = services.records_ingest(
        actor=request.auth,
        resource=resource,
        content=file.read(),
        name=file.name or "upload",
        mode=mode,
        source=file.name or "",
    )
    return Status(200 if report.applied or report.duplicate else 422, report.as_dict())
