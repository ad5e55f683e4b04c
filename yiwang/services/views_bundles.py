"""Pages of the services app for bundles (一件事), added to urls.py's urlpatterns: the list and
guide of each bundle, its one combined form (filled from shared data, phone-friendly like a
matter's apply page), and the applicant's one status page with every step."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases import selectors as case_selectors
from yiwang.core.errors import DomainError, FieldErrors, Forbidden, NotFound
from yiwang.services import bundles
from yiwang.services.views import _error_text, _form_rows


def _bundle_or_404(code: str):
    try:
        return bundles.bundle_get(code=code)
    except NotFound:
        raise Http404 from None


def bundle_index(request):
    """Every 一件事 the platform offers."""
    items = [{"bundle": item, "steps": bundles.bundle_steps(item)} for item in bundles.bundles_active()]
    for item in items:
        item["limit_days"] = bundles.bundle_limit_days(item["bundle"], item["steps"])
    return render(request, "services/bundle_index.html", {"items": items})


def bundle_guide(request, code: str):
    """A bundle's guide: its steps in order (which run together, which wait), each step's
    department, time limit, materials (fetched ones marked), and the bundle's time limit."""
    bundle = _bundle_or_404(code)
    steps = bundles.bundle_steps(bundle)
    names = {step.code: step.name for step in steps}
    rows = [
        {
            "step": step,
            "after": [names[code] for code in step.depends_on],
            "materials": list(step.matter.materials.all()),
        }
        for step in steps
    ]
    fillable, fields = bundles.bundle_autofill_potential(bundle=bundle)
    return render(
        request,
        "services/bundle_guide.html",
        {
            "bundle": bundle,
            "rows": rows,
            "limit_days": bundles.bundle_limit_days(bundle, steps),
            "fillable": fillable,
            "fields": fields,
            "fillable_percent": round(100 * fillable / fields) if fields else 0,
        },
    )


def _window_mode(request) -> bool:
    return (request.POST.get("window") or request.GET.get("window")) == "1"


@login_required
def bundle_apply(request, code: str):
    """The bundle's one form, filled from shared data for the logged-in applicant, or, at the
    integrated window (`?window=1`), for the applicant the clerk chose there (submitted on their
    behalf). "Look up" (action=lookup) fills what the typed keys lead to (the unit number: the
    property, the seller) without submitting."""
    from yiwang.services.views_window import window_applicant_chosen

    bundle = _bundle_or_404(code)
    window = _window_mode(request)
    if window:
        applicant = window_applicant_chosen(request)
        if applicant is None:
            messages.error(request, _("Find the applicant first."))
            return redirect("services:window")
    else:
        try:
            applicant = bundles.bundle_applicant(bundle=bundle, user=request.user)
        except Forbidden as refusal:
            return render(
                request,
                "services/bundle_refused.html",
                {"bundle": bundle, "reason": refusal.message},
                status=403,
            )
    field_errors: dict[str, list[str]] = {}
    material_errors: dict[str, list[str]] = {}
    other_errors: list[str] = []
    sent = None
    if request.method == "POST":
        sent = {key[2:]: value for key, value in request.POST.items() if key.startswith("f_")}
    if request.method == "POST" and request.POST.get("action") != "lookup":
        uploads = {
            int(key[2:]): upload
            for key, upload in request.FILES.items()
            if key.startswith("m_") and key[2:].isdigit()
        }
        try:
            submitted = bundles.bundle_submit(
                bundle=bundle,
                actor=request.user,
                values=sent or {},
                uploads=uploads,
                submission_key=request.POST.get("submission_key", ""),
                on_behalf_of=applicant if window else None,
            )
        except FieldErrors as error:
            for where, message in error.errors:
                if len(where) >= 2 and where[0] == "values":
                    field_errors.setdefault(str(where[1]), []).append(message)
                elif len(where) >= 2 and where[0] == "materials":
                    material_errors.setdefault(str(where[1]), []).append(message)
                else:
                    other_errors.append(message)
        except DomainError as error:
            other_errors.append(error.message)
        else:
            if window:
                messages.success(
                    request,
                    _("%(bundle)s %(reference)s accepted for %(name)s at the window.")
                    % {"bundle": bundle.name, "reference": submitted.case.reference, "name": applicant.name},
                )
                return redirect("services:window")
            messages.success(
                request,
                _("%(bundle)s submitted: %(reference)s.")
                % {"bundle": bundle.name, "reference": submitted.case.reference},
            )
            return redirect("services:bundle_status", reference=submitted.case.reference)
    form = bundles.bundle_form(bundle=bundle, applicant=applicant, actor=request.user, given=sent)
    rows = _form_rows(form, sent, field_errors)
    for row in rows:
        name = row["field"].name
        if row["locked"]:  # someone else's ID number (the seller, the other parent) masked
            row["value"] = bundles.bundle_value_shown(form=form, name=name, applicant=applicant)
        row["key"] = name in form.keys
    pending = [f for f in form.fields if f.has_source and f.subject_from and f.name not in form.values]
    has_errors = bool(field_errors or material_errors or other_errors)
    return render(
        request,
        "services/bundle_apply.html",
        {
            "bundle": bundle,
            "applicant": applicant,
            "window": window,
            "steps": form.steps,
            "rows": rows,
            "filled": form,
            "filled_percent": round(100 * form.share),
            "key_labels": "、".join(f.label for f in form.fields if f.name in form.keys),
            "pending_count": len(pending),
            "uploads": [
                {"material": material, "errors": material_errors.get(str(material.pk), [])}
                for material in form.uploads()
            ],
            "fetched": form.fetched(),
            "other_errors": other_errors,
            "submission_key": request.POST.get("submission_key") or uuid.uuid4().hex,
            "has_errors": has_errors,
            "limit_days": bundles.bundle_limit_days(bundle, form.steps),
        },
        status=422 if has_errors else 200,
    )


@login_required
def bundle_status(request, reference: str):
    """The applicant's one page for a bundle: every step with its department, state, deadline
    and colour, what it waits for, its certificate once issued, and the combined result."""
    try:
        found = bundles.bundle_application_for_applicant(reference=reference, user=request.user)
    except NotFound:
        raise Http404 from None
    statuses = bundles.bundle_steps_status(bundle_application=found)
    return render(
        request,
        "services/bundle_status.html",
        {
            "item": found,
            "case": found.case,
            "state_label": case_selectors.case_state_label(found.case),
            "statuses": statuses,
            "result": bundles.bundle_result(bundle_application=found, statuses=statuses),
            "timeline": case_selectors.case_timeline(case=found.case),
            "withdrawable": bundles.bundle_is_withdrawable(bundle_application=found),
        },
    )


@login_required
@require_POST
def bundle_withdraw(request, reference: str):
    try:
        found = bundles.bundle_application_for_applicant(reference=reference, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        bundles.bundle_withdraw(bundle_application=found, actor=request.user)
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The bundled service was withdrawn."))
    return redirect("services:bundle_status", reference=reference)


urlpatterns: list = [
    path("bundles/", bundle_index, name="bundle_index"),
    path("bundles/code/<str:code>/", bundle_guide, name="bundle_guide"),
    path("bundles/code/<str:code>/apply/", bundle_apply, name="bundle_apply"),
    path("bundles/<str:reference>/", bundle_status, name="bundle_status"),
    path("bundles/<str:reference>/withdraw/", bundle_withdraw, name="bundle_withdraw"),
]
