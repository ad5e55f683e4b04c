"""Pages of the cases engine: a handler's queue and one case with its timeline and the
transitions the viewer may take. Thin: selectors read, services write."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yiwang.cases import selectors, services
from yiwang.cases.models import SlaStatus
from yiwang.cases.taskqueue import runner_wake
from yiwang.core.access import access_staff
from yiwang.core.errors import DomainError, FieldErrors, NotFound

QUEUE_LIMIT = 200


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not access_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _rows(cases):
    return [{"case": case, "state_label": selectors.case_state_label(case)} for case in cases]


@staff_required
def queue(request):
    runner_wake()
    sla = request.GET.get("sla", "")
    if sla not in SlaStatus.values:
        sla = ""
    cases = selectors.case_queue(user=request.user, sla_status=sla)[:QUEUE_LIMIT]
    return render(
        request,
        "cases/queue.html",
        {
            "rows": _rows(cases),
            "sla": sla,
            "sla_choices": SlaStatus.choices,
            "overdue_only": False,
            "notifications": selectors.notifications_for(user=request.user),
        },
    )


@staff_required
def overdue(request):
    cases = selectors.case_queue(user=request.user, sla_status=SlaStatus.RED)[:QUEUE_LIMIT]
    return render(
        request,
        "cases/queue.html",
        {
            "rows": _rows(cases),
            "sla": SlaStatus.RED,
            "sla_choices": SlaStatus.choices,
            "overdue_only": True,
            "notifications": selectors.notifications_for(user=request.user),
        },
    )


@staff_required
def detail(request, case_id: int):
    try:
        case = selectors.case_for_user(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    transitions = selectors.case_transitions_available(case=case, user=request.user)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "state_label": selectors.case_state_label(case),
            "timeline": selectors.case_timeline(case=case),
            "transitions": transitions,
            "some_need_a_note": any(move.note_required for move in transitions),
        },
    )


@staff_required
@require_POST
def transition(request, case_id: int):
    try:
        case = selectors.case_for_user(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        expected = int(request.POST.get("expected_version", ""))
    except ValueError:
        expected = -1
    try:
        services.case_transition(
            case=case,
            transition=request.POST.get("transition", ""),
            actor=request.user,
            expected_version=expected,
            note=request.POST.get("note", ""),
            attachment=request.FILES.get("attachment"),
        )
    except FieldErrors as error:
        messages.error(request, "；".join(message for _path, message in error.errors))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("cases:detail", case_id=case.pk)


@staff_required
def attachment(request, case_id: int, event_id: int):
    """A timeline attachment, to those who may see the case (files are never served from
    MEDIA_URL directly: they may hold personal data)."""
    try:
        case = selectors.case_for_user(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    event = case.events.filter(pk=event_id).exclude(attachment="").first()
    if event is None:
        raise Http404
    return FileResponse(
        event.attachment.open("rb"), as_attachment=True, filename=event.attachment.name.rsplit("/", 1)[-1]
    )
