"""Pages of the exchange: the catalog, a resource's fields and metadata, the data steward's
request queue, and the city's metrics. Thin: selectors read, services decide."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.core.access import access_role, access_staff
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.core.models import Department, Role
from yiwang.exchange import selectors, services
from yiwang.exchange.models import AccessRequest, IngestBatch, SubjectType

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
    if request.method == "POST" and consumers:
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
