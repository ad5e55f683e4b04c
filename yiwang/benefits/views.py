"""Pages of no-application benefits: the department's policies and runs (start a run, review
the list and totals, approve or reject), the beneficiary's "my benefits" (why, why not,
decline, object), and the figures for departments and city leaders. Thin: selectors read,
services write; their errors are shown beside the form."""

from __future__ import annotations

import contextlib
import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.benefits import selectors, services
from yiwang.benefits.models import Policy, RunState
from yiwang.core.access import user_roles
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.core.models import Role
from yiwang.rules.explain import money_format

STAFF_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.SUPERVISOR, Role.CITY_LEADER, Role.ADMIN})
BENEFICIARY_ROLES = frozenset({Role.CITIZEN, Role.ENTERPRISE_AGENT})
BAR_WIDTH = 240


def roles_required(roles: frozenset[str]):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not user_roles(request.user) & roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _error_text(error: DomainError) -> str:
    if isinstance(error, FieldErrors):
        return "；".join(message for _path, message in error.errors)
    return str(error)


@login_required
def index(request):
    roles = user_roles(request.user)
    if roles & {Role.DEPARTMENT_HANDLER, Role.SUPERVISOR, Role.ADMIN}:
        return redirect("benefits:policies")
    if Role.CITY_LEADER in roles:
        return redirect("benefits:reports")
    return redirect("benefits:mine")


# --- the department ---------------------------------------------------------------------------


@roles_required(STAFF_ROLES)
def policies(request):
    return render(
        request,
        "benefits/policies.html",
        {
            "rows": selectors.policies_visible(user=request.user),
            "to_approve": selectors.runs_to_approve(user=request.user),
            "runs": selectors.runs_visible(user=request.user)[:30],
        },
    )


@require_POST
@roles_required(STAFF_ROLES)
def run_start(request, policy_id: int):
    policy = Policy.objects.filter(pk=policy_id, is_active=True).first()
    if policy is None or not services.access_policy_view(request.user, policy):
        raise Http404
    evaluated_on = None
    if request.POST.get("evaluated_on"):
        try:
            evaluated_on = datetime.date.fromisoformat(request.POST["evaluated_on"])
        except ValueError:
            messages.error(request, _("Write the date as YYYY-MM-DD."))
            return redirect("benefits:policies")
    try:
        run = services.run_start(
            policy=policy,
            period=request.POST.get("period", ""),
            actor=request.user,
            evaluated_on=evaluated_on,
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
        return redirect("benefits:policies")
    messages.success(
        request,
        _("Run started: %(count)s beneficiaries, %(amount)s in all. A second person approves it.")
        % {"count": run.eligible_count, "amount": money_format(run.total_fen)},
    )
    return redirect("benefits:run", run_id=run.pk)


@roles_required(STAFF_ROLES)
def run(request, run_id: int):
    try:
        found = selectors.run_for_user(run_id=run_id, user=request.user)
    except NotFound:
        raise Http404 from None
    page = max(0, int(request.GET.get("page", "0") or 0)) if request.GET.get("page", "0").isdigit() else 0
    return render(
        request,
        "benefits/run.html",
        {
            "run": found,
            "rows": selectors.run_entitlements(run=found, offset=page * 200),
            "page": page,
            "by_county": selectors.run_totals_by_county(run=found),
            "may_decide": found.state == RunState.REVIEW and services.access_run_approve(request.user, found),
            "is_starter": found.started_by_id == request.user.pk,
        },
    )


@require_POST
@roles_required(STAFF_ROLES)
def run_decide(request, run_id: int):
    try:
        found = selectors.run_for_user(run_id=run_id, user=request.user)
        if request.POST.get("decision") == "reject":
            services.run_reject(run=found, actor=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("Run rejected: nobody is paid by it."))
        else:
            paid = services.run_approve(run=found, actor=request.user, note=request.POST.get("note", ""))
            messages.success(
                request,
                _(
                    "Approved and paid: %(count)s beneficiaries, %(amount)s; %(skipped)s already paid or declined."
                )
                % {
                    "count": paid.paid_count,
                    "amount": money_format(paid.paid_fen),
                    "skipped": paid.skipped_count,
                },
            )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, _error_text(error))
    return redirect("benefits:run", run_id=run_id)


@roles_required(STAFF_ROLES)
def explain_staff(request, run_id: int, entitlement_id: int):
    try:
        found = selectors.run_for_user(run_id=run_id, user=request.user)
        entitlement = found.entitlements.filter(pk=entitlement_id).first()
        if entitlement is None:
            raise NotFound(_("Not found."))
        explanation = selectors.benefit_explanation(
            policy=found.policy, beneficiary=entitlement.beneficiary, period=found.period, user=request.user
        )
    except NotFound:
        raise Http404 from None
    return render(request, "benefits/explain_staff.html", {"run": found, "explanation": explanation})


# --- the beneficiary ---------------------------------------------------------------------------------


@roles_required(BENEFICIARY_ROLES | {Role.ADMIN})
def mine(request):
    rows = selectors.my_benefits(user=request.user)
    unread = sum(1 for row in rows if row.unread)
    services.notices_read(user=request.user)
    open_index = request.GET.get("why", "")
    explanations = {}
    for index, row in enumerate(rows):
        if str(index) == open_index or (not open_index and index == 0):
            with contextlib.suppress(DomainError):
                explanations[index] = selectors.benefit_explanation(
                    policy=row.policy, beneficiary=row.beneficiary, period=row.period, user=request.user
                )
    keys = services.beneficiary_keys(request.user)
    policies = [
        policy
        for policy in Policy.objects.filter(is_active=True)
        if keys["person" if policy.subject_type == "person" else "enterprise"]
    ]
    return render(
        request,
        "benefits/mine.html",
        {
            "rows": [(index, row, explanations.get(index)) for index, row in enumerate(rows)],
            "unread": unread,
            "policies": policies,
            "objections": selectors.my_objections(user=request.user),
        },
    )


@roles_required(BENEFICIARY_ROLES | {Role.ADMIN})
def why_not(request):
    policy = Policy.objects.filter(pk=request.GET.get("policy") or 0, is_active=True).first()
    if policy is None:
        raise Http404
    subjects = selectors.my_subjects(user=request.user, policy=policy)
    if not subjects:
        raise Http404
    period = request.GET.get("period") or selectors.default_period(policy)
    try:
        explanation = selectors.benefit_explanation(
            policy=policy, beneficiary=subjects[0], period=period, user=request.user
        )
    except FieldErrors as error:
        messages.error(request, _error_text(error))
        return redirect("benefits:mine")
    except NotFound:
        raise Http404 from None
    return render(
        request,
        "benefits/why_not.html",
        {"policy": policy, "period": period, "explanation": explanation, "beneficiary": subjects[0]},
    )


@require_POST
@roles_required(BENEFICIARY_ROLES | {Role.ADMIN})
def decline(request):
    policy = Policy.objects.filter(pk=request.POST.get("policy") or 0).first()
    if policy is None:
        raise Http404
    try:
        services.benefit_decline(
            policy=policy,
            beneficiary=request.POST.get("beneficiary", ""),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("You have declined %s: it will not be paid to you again.") % policy.title)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, _error_text(error))
    return redirect("benefits:mine")


@require_POST
@roles_required(BENEFICIARY_ROLES | {Role.ADMIN})
def object_(request):
    policy = Policy.objects.filter(pk=request.POST.get("policy") or 0).first()
    if policy is None:
        raise Http404
    beneficiary = request.POST.get("beneficiary") or next(
        iter(selectors.my_subjects(user=request.user, policy=policy)), ""
    )
    try:
        objection = services.objection_submit(
            policy=policy,
            beneficiary=beneficiary,
            period=request.POST.get("period", ""),
            text=request.POST.get("text", ""),
            actor=request.user,
        )
        messages.success(
            request,
            _("Objection %(reference)s received. %(department)s answers by %(deadline)s.")
            % {
                "reference": objection.case.reference,
                "department": policy.department.name,
                "deadline": objection.case.case_deadline.strftime("%Y-%m-%d"),
            },
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, _error_text(error))
    return redirect(reverse("benefits:mine") + "#objections")


# --- figures -------------------------------------------------------------------------------------------


def _bars(rows: list[dict], key: str, label: str, *, money: bool = False) -> dict:
    top = max((row[key] for row in rows), default=0)
    bars = []
    for index, row in enumerate(rows):
        value = row[key]
        bars.append(
            {
                "label": str(row[label]),
                "value": money_format(value) if money else value,
                "width": max(1, round(BAR_WIDTH * value / top)) if top else 1,
                "y": index * 22,
            }
        )
    return {"bars": bars if top else [], "height": len(bars) * 22 + 4}


@login_required
def reports(request):
    if not selectors.access_reports(request.user):
        raise PermissionDenied
    period = request.GET.get("period", "")
    figures = selectors.benefit_figures(period=period)
    policy_rows = [{**row, "title": row["policy"].title} for row in figures["policies"]]
    return render(
        request,
        "benefits/reports.html",
        {
            "figures": figures,
            "amount_bars": _bars(policy_rows, "amount", "title", money=True),
            "count_bars": _bars(policy_rows, "count", "title"),
            "county_bars": _bars(figures["by_county"], "amount", "name", money=True),
        },
    )
