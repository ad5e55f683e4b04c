"""Pages of the exchange: the catalog, a resource's fields and metadata, the data steward's
request queue, and the city's metrics. Thin: selectors read, services decide."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.core.access import access_role, access_staff
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.core.models import Department, Role
from yiwang.exchange import selectors, services
from yiwang.exchange.models import (
    AccessRequest,
    FieldType,
    IngestBatch,
    SharingClass,
    SubjectType,
    UpdateFrequency,
)

PAGE_SIZE = 50


def _staff(request) -> None:
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not access_staff(request.user):
        raise PermissionDenied


def _login_first(view):
    from django.contrib.auth.decorators import login_required

    return login_required(view)


@_login_first
def catalog(request):
    _staff(request)
    query = request.GET.get("q", "").strip()[:64]
    department = request.GET.get("department") or None
    subject_type = request.GET.get("subject_type", "")
    queryset = selectors.resource_list(query=query, department_code=department, subject_type=subject_type)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    departments = Department.objects.filter(exchange_resources__isnull=False).distinct().order_by("code")
    return render(
        request,
        "exchange/catalog.html",
        {
            "page": page,
            "query": query,
            "department": department,
            "departments": departments,
            "subject_type": subject_type,
            "subject_types": SubjectType.choices,
            "may_publish": bool(selectors.steward_departments(user=request.user)),
        },
    )


@_login_first
def resource_detail(request, code: str):
    _staff(request)
    try:
        resource = selectors.resource_get(code=code)
    except NotFound:
        raise Http404 from None
    batches = IngestBatch.objects.filter(resource=resource).order_by("-at")[:10]
    consumers = [
        d for d in selectors.consumer_departments(user=request.user) if d.pk != resource.department_id
    ]
    errors: dict[str, str] = {}
    may_edit = bool(
        {resource.department_id, resource.department.parent_id}
        & {d.pk for d in selectors.steward_departments(user=request.user)}
    )
    report = None
    if request.method == "POST" and request.POST.get("action") == "push":
        if not may_edit:
            raise PermissionDenied
        upload = request.FILES.get("file")
        if upload is None:
            errors["file"] = _("Choose a CSV, Excel or JSON-lines file.")
        else:
            try:
                report = services.records_ingest(
                    actor=request.user,
                    resource=resource,
                    content=upload.read(),
                    name=upload.name or "upload",
                    mode=request.POST.get("mode", IngestBatch.Mode.ALL_OR_NOTHING),
                    source=upload.name or "",
                ).as_dict()
            except FieldErrors as error:
                errors["file"] = error.errors[0][1]
            except DomainError as error:
                errors["file"] = error.message
            resource.refresh_from_db()
    elif request.method == "POST" and consumers:
        chosen = [d for d in consumers if d.code == request.POST.get("consumer")] or consumers[:1]
        try:
            duration = int(request.POST.get("duration_days") or 0)
        except ValueError:
            duration = 0
        try:
            services.access_request_submit(
                actor=request.user,
                consumer=chosen[0],
                resource=resource,
                fields=request.POST.getlist("fields"),
                purpose=request.POST.get("purpose", ""),
                legal_basis=request.POST.get("legal_basis", ""),
                duration_days=duration,
            )
        except FieldErrors as error:
            errors = {str(path[0]): message for path, message in error.errors}
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Request submitted: the data steward will decide."))
            return redirect("exchange:resource", code=resource.code)
    return render(
        request,
        "exchange/resource_detail.html",
        {
            "resource": resource,
            "fields": selectors.resource_fields(resource=resource),
            "batches": batches,
            "consumers": consumers,
            "may_edit": may_edit,
            "report": report,
            "modes": IngestBatch.Mode.choices,
            "errors": errors,
            "posted": request.POST if request.method == "POST" else None,
        },
    )


@_login_first
def request_queue(request):
    if not access_role(request.user, Role.DATA_STEWARD):
        raise PermissionDenied
    pending = list(selectors.requests_for_steward(user=request.user))
    for item in pending:
        item.needs_cdo = services.access_request_deciders_need_cdo(item)
        item.may_decide = services.access_decide_allowed(request.user, item)
    decided = selectors.requests_for_steward(user=request.user, state="").exclude(state="pending")
    decided = decided.order_by("-decided_at")[:20]
    return render(request, "exchange/requests.html", {"pending": pending, "decided": decided})


@_login_first
@require_POST
def request_decide(request, request_id: int):
    found = (
        AccessRequest.objects.select_related("resource", "resource__department").filter(pk=request_id).first()
    )
    if found is None:
        raise Http404
    approve = request.POST.get("decision") == "approve"
    try:
        services.access_request_decide(
            actor=request.user, request=found, approve=approve, reason=request.POST.get("reason", "")
        )
    except FieldErrors as error:
        messages.error(request, error.errors[0][1])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if approve:
            messages.success(request, _("Request approved: the grant is live."))
        else:
            messages.success(request, _("Request refused."))
    return redirect("exchange:requests")


BAR_WIDTH = 320


def _bars(rows: list[dict], label_key: str, value_key: str = "reads") -> dict:
    """A horizontal bar chart drawn as inline SVG: each bar's position and width."""
    top = max((row[value_key] for row in rows), default=0) or 1
    bars = [
        {
            "label": row[label_key] or "—",
            "value": row[value_key],
            "width": max(1, round(BAR_WIDTH * row[value_key] / top)),
            "y": index * 22,
        }
        for index, row in enumerate(rows)
    ]
    return {"bars": bars, "height": len(bars) * 22 + 4}


@_login_first
def metrics(request):
    _staff(request)
    figures = selectors.exchange_metrics()
    return render(
        request,
        "exchange/metrics.html",
        {
            "figures": figures,
            "mount_percent": round(figures["mount_rate"] * 100, 1),
            "timely_percent": round(figures["timeliness_rate"] * 100, 1),
            "consumer_bars": _bars(figures["reads_per_consumer"], "consumer__short_name"),
            "resource_bars": _bars(figures["reads_per_resource"], "resource__title"),
            "department_bars": _bars(
                figures["resources_per_department"], "department__short_name", "resources"
            ),
            "bar_width": BAR_WIDTH,
        },
    )


@_login_first
def my_access(request):
    """A consumer's page: the grants of each department the user works in (live and ended),
    and the requests they made with their decisions. New requests start on a resource's page."""
    _staff(request)
    now = timezone.now()
    departments = []
    for department in selectors.consumer_departments(user=request.user):
        grants = list(selectors.grant_list(consumer=department).order_by("-valid_to"))
        for grant in grants:
            grant.live = grant.valid_from <= now < grant.valid_to
        requests = list(selectors.requests_of_consumer(consumer=department)[:50])
        departments.append({"department": department, "grants": grants, "requests": requests})
    return render(request, "exchange/my_access.html", {"departments": departments})


FIELD_ROWS_BLANK = 3
RESOURCE_TEXTS = (
    "title",
    "description",
    "source_system",
    "publisher",
    "contact",
    "theme",
    "access_rights",
    "provenance",
    "key_field",
    "subject_field",
)


def _posted_fields(post) -> list[dict]:
    """The field rows of the publish form (field-N-name, …), without blank or removed rows."""
    rows = []
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in post
            if key.startswith("field-") and key.count("-") == 2 and key.split("-")[1].isdigit()
        }
    )
    for index in indexes:
        name = post.get(f"field-{index}-name", "").strip()
        if not name or post.get(f"field-{index}-remove"):
            continue
        rows.append(
            {
                "name": name,
                "label": post.get(f"field-{index}-label", "").strip(),
                "type": post.get(f"field-{index}-type", "string"),
                "sharing_class": post.get(f"field-{index}-sharing_class", ""),
                "description": post.get(f"field-{index}-description", "").strip(),
                "required": bool(post.get(f"field-{index}-required")),
            }
        )
    return rows


@_login_first
def resource_edit(request, code: str | None = None):
    """A data steward publishes a new resource into the catalog, or edits one of their
    department's: metadata, and each field with its type and sharing class."""
    departments = selectors.steward_departments(user=request.user)
    if not departments:
        raise PermissionDenied
    resource = None
    if code is not None:
        try:
            resource = selectors.resource_get(code=code)
        except NotFound:
            raise Http404 from None
        if resource.department_id not in {d.pk for d in departments} and not any(
            resource.department.parent_id == d.pk for d in departments
        ):
            raise PermissionDenied
    errors: dict[str, str] = {}
    row_errors: dict[int, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        if resource is not None:
            department = resource.department
        else:
            chosen = [d for d in departments if d.code == post.get("department")]
            department = chosen[0] if chosen else departments[0]
        fields = _posted_fields(post)
        try:
            published = services.resource_publish(
                actor=request.user,
                department=department,
                code=resource.code if resource else post.get("code", "").strip(),
                subject_type=post.get("subject_type", ""),
                update_frequency=post.get("update_frequency", ""),
                backing=resource.backing if resource else "",
                fields=fields,
                **{name: post.get(name, "").strip() for name in RESOURCE_TEXTS},
            )
        except FieldErrors as error:
            for path, message in error.errors:
                if path and path[0] == "fields" and len(path) > 1:
                    row_errors.setdefault(int(path[1]), []).append(message)
                else:
                    errors[str(path[0]) if path else "form"] = message
        except DomainError as error:
            errors["form"] = error.message
        else:
            messages.success(request, _("The resource is published in the catalog."))
            return redirect("exchange:resource", code=published.code)
        rows = fields
        values = {
            name: post.get(name, "")
            for name in (*RESOURCE_TEXTS, "code", "subject_type", "update_frequency", "department")
        }
    else:
        rows = (
            [
                {
                    "name": f.name,
                    "label": f.label,
                    "type": f.type,
                    "sharing_class": f.sharing_class,
                    "description": f.description,
                    "required": f.required,
                }
                for f in selectors.resource_fields(resource=resource)
            ]
            if resource
            else []
        )
        values = (
            {
                name: getattr(resource, name)
                for name in (*RESOURCE_TEXTS, "code", "subject_type", "update_frequency")
            }
            if resource
            else {"update_frequency": "daily"}
        )
    rows = [dict(row, index=index, errors=row_errors.get(index, [])) for index, row in enumerate(rows)]
    rows += [
        {"index": len(rows) + offset, "type": "string", "sharing_class": "conditional", "errors": []}
        for offset in range(FIELD_ROWS_BLANK)
    ]
    return render(
        request,
        "exchange/resource_edit.html",
        {
            "resource": resource,
            "departments": departments,
            "values": values,
            "rows": rows,
            "errors": errors,
            "row_errors": row_errors,
            "subject_types": SubjectType.choices,
            "frequencies": UpdateFrequency.choices,
            "field_types": FieldType.choices,
            "sharing_classes": SharingClass.choices,
        },
    )
