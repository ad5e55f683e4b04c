"""Pages of the integrated window (一窗受理), the answers to bad ratings and the ratings report.

The clerk looks the applicant up by ID number or USCC (a POST, so the number never sits in a
URL or an access log); the chosen applicant is kept in the clerk's session until cleared, and
every page that shows them reads the registry again (an audited, unmasked read)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _

from yiwang.cases.selectors import case_state_label, case_timeline
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.services import selectors, services, window
from yiwang.services.models import Bundle
from yiwang.services.views import _error_text, form_context, form_post

SESSION_KEY = "services_window_subject"


def _clerk_required(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not window.access_window(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _chosen(request) -> window.WindowApplicant | None:
    key = request.session.get(SESSION_KEY, "")
    if not key:
        return None
    try:
        return window.applicant_present_at_window(clerk=request.user, subject_key=key)
    except DomainError:
        request.session.pop(SESSION_KEY, None)
        return None


def window_applicant_chosen(request) -> services.Applicant | None:
    """The applicant the window clerk chose on /services/window/ (kept in the session), for
    other window pages (a bundle's apply page submitting with `on_behalf_of=`); None if none
    or the user is not a window clerk. Each call is an audited registry read."""
    if not window.access_window(request.user):
        return None
    chosen = _chosen(request)
    return chosen.applicant if chosen is not None else None


def _bundle_apply_url(code: str) -> str:
    """The bundle's apply page (built by the bundles module), if it exists yet."""
    for name, kwargs in (("services:bundle_apply", {"code": code}),):
        try:
            return reverse(name, kwargs=kwargs) + "?window=1"
        except NoReverseMatch:
            continue
    return ""


@_clerk_required
def window_desk(request):
    """The window: find the applicant, then the matter (or a 一件事 bundle) to apply for."""
    lookup_errors: list[str] = []
    entered = ""
    if request.method == "POST":
        if request.POST.get("action") == "clear":
            request.session.pop(SESSION_KEY, None)
            return redirect("services:window")
        entered = request.POST.get("subject_key", "").strip()[:32]
        try:
            found = window.applicant_present_at_window(clerk=request.user, subject_key=entered)
        except FieldErrors as error:
            lookup_errors = [message for _path, message in error.errors]
        except DomainError as error:
            lookup_errors = [error.message]
        else:
            request.session[SESSION_KEY] = found.applicant.subject_key
            return redirect("services:window")
    chosen = _chosen(request)
    query = request.GET.get("q", "").strip()[:100]
    matters = selectors.matter_search(query=query, limit=20).matters if query and chosen else []
    bundles = [
        {"bundle": bundle, "apply_url": _bundle_apply_url(bundle.code)}
        for bundle in Bundle.objects.filter(is_active=True).order_by("code")
    ]
    return render(
        request,
        "services/window.html",
        {
            "chosen": chosen,
            "entered": entered,
            "lookup_errors": lookup_errors,
            "query": query,
            "matters": matters,
            "bundles": bundles if chosen else [],
            "today": window.window_submissions_today(clerk=request.user)[:50],
        },
        status=422 if lookup_errors else 200,
    )


@_clerk_required
def window_apply(request, code: str):
    """The matter's form, filled from shared data for the chosen applicant; submitted by the
    clerk on their behalf and accepted at once."""
    try:
        matter = selectors.matter_get(code=code)
    except NotFound:
        raise Http404 from None
    chosen = _chosen(request)
    if chosen is None:
        messages.error(request, _("Find the applicant first."))
        return redirect("services:window")
    applicant = chosen.applicant
    post = form_post(request, matter=matter, on_behalf_of=applicant)
    if post.application is not None:
        messages.success(
            request,
            _("Application %(reference)s accepted for %(name)s at the window.")
            % {"reference": post.application.case.reference, "name": applicant.name},
        )
        return redirect("services:handle", case_id=post.application.pk)
    context = form_context(request, matter=matter, applicant=applicant, post=post)
    context["chosen"] = chosen
    return render(
        request, "services/window_apply.html", context, status=422 if context["has_errors"] else 200
    )


# --------------------------------------------------------------------------- bad ratings


@login_required
def followups(request):
    """Bad ratings to answer (a department's handlers), or all of them (supervisors)."""
    if not window.access_rating_report(request.user):
        raise PermissionDenied
    show_all = request.GET.get("all") == "1"
    rows = window.followups_to_answer(user=request.user, open_only=not show_all)[:200]
    return render(request, "services/followups.html", {"rows": rows, "show_all": show_all})


@login_required
def followup(request, case_id: int):
    """One bad rating: the application, the rating and its reasons, and the answer form."""
    try:
        found = window.followup_for_staff(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        try:
            expected = int(request.POST.get("expected_version", ""))
        except ValueError:
            expected = -1
        try:
            window.rating_followup_answer(
                application=found,
                actor=request.user,
                note=request.POST.get("note", ""),
                expected_version=expected,
            )
        except DomainError as problem:
            error = _error_text(problem)
        else:
            messages.success(request, _("The answer was sent to the applicant."))
            return redirect("services:followup", case_id=case_id)
    case = found.rating_case
    return render(
        request,
        "services/followup.html",
        {
            "application": found,
            "case": case,
            "state_label": case_state_label(case),
            "timeline": case_timeline(case=case),
            "answer": window.followup_answer_of(found),
            "may_answer": case.state == window.states.FOLLOWUP_OPEN,
            "error": error,
        },
        status=422 if error else 200,
    )


# --------------------------------------------------------------------------- the report


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@login_required
def ratings(request):
    """好差评 report over a date range: per matter, department and clerk."""
    if not window.access_rating_report(request.user):
        raise PermissionDenied
    date_from = _date(request.GET.get("from", ""))
    date_to = _date(request.GET.get("to", ""))
    report = window.rating_report(user=request.user, date_from=date_from, date_to=date_to)
    return render(request, "services/ratings.html", {"report": report})


urlpatterns: list = [
    path("window/", window_desk, name="window"),
    path("window/matters/<str:code>/apply/", window_apply, name="window_apply"),
    path("followups/", followups, name="followups"),
    path("followups/<int:case_id>/", followup, name="followup"),
    path("ratings/", ratings, name="ratings"),
]
