"""Pages of the 12345 hotline: the citizen's web form and "my tickets", the operator's
console and call-back queue, the dispatcher's queue, the supervisor's lists and the ticket
page every member of staff on the loop works from. Thin: selectors read, services write,
and the services' FieldErrors land beside the fields they name."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from yiwang.cases import selectors as case_selectors
from yiwang.cases.access import access_case_assign
from yiwang.core.access import user_roles
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.core.models import Department, Role
from yiwang.core.services import PersonalRecord, personal_data_present, personal_data_present_many
from yiwang.hotline import cases as states
from yiwang.hotline import selectors, services
from yiwang.hotline.forms import (
    CallForm,
    RateForm,
    TicketFileForm,
    category_choices,
    department_choices,
    form_errors_add,
)
from yiwang.hotline.models import Category, Channel, Rating, Ticket, TicketKind

LIST_LIMIT = 200
DISPATCH_PAGE = 50  # each row carries a department picker: the oldest fifty at a time

# Purposes recorded in the audit log when a page shows a caller's number or address unmasked.
PURPOSE_TICKET = "hotline: ticket page"
PURPOSE_CALLBACK = "hotline: satisfaction call-back"
PURPOSE_CONSOLE = "hotline: call intake"

OPERATOR_ROLES = frozenset({Role.HOTLINE_OPERATOR, Role.ADMIN})
CENTRE_ROLES = frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER, Role.ADMIN})
DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})
SUPERVISE_ROLES = frozenset({Role.SUPERVISOR, Role.CITY_LEADER, Role.ADMIN})
HANDLER_ROLES = frozenset({Role.DEPARTMENT_HANDLER})


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


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _error_text(error: DomainError) -> str:
    if isinstance(error, FieldErrors):
        return "；".join(message for _path, message in error.errors)
    return error.message


ACTOR_LABELS = {
    services.ROUTING_ACTOR: gettext_lazy("Intelligent routing"),
    "anonymous": gettext_lazy("Citizen (web form)"),
    "system": pgettext_lazy("timeline actor", "System"),
}


def _who(event) -> str:
    if event.actor is not None:
        return event.actor.display_name or event.actor.get_username()
    return str(ACTOR_LABELS.get(event.actor_label, event.actor_label))


def _timeline(ticket: Ticket) -> list:
    events = case_selectors.case_timeline(case=ticket.case)
    department_names = dict(
        Department.objects.filter(
            pk__in=[event.data.get("department") for event in events if event.data.get("department")]
        ).values_list("pk", "name")
    )
    for event in events:
        event.who = _who(event)
        event.department_name = department_names.get(event.data.get("department"), "")
    return events


# --- the home of the hotline ------------------------------------------------------------------


def index(request):
    """Each role's hotline page; citizens and visitors file a request."""
    roles = user_roles(request.user)
    for role, name in (
        (Role.HOTLINE_OPERATOR, "hotline:console"),
        (Role.DISPATCHER, "hotline:dispatch_queue"),
        (Role.SUPERVISOR, "hotline:supervision"),
        (Role.DEPARTMENT_HANDLER, "hotline:handling"),
    ):
        if role in roles:
            return redirect(name)
    return redirect("hotline:file")


# --- citizens ---------------------------------------------------------------------------------


def file(request):
    """The citizen's web form. Anonymous citizens follow their ticket by its token link;
    logged-in citizens also find it under "my tickets"."""
    user = request.user if request.user.is_authenticated else None
    initial = {"kind": TicketKind.COMPLAINT}
    if user is not None and getattr(user, "phone", ""):
        initial["caller_phone"] = user.phone
    form = TicketFileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_intake(
                data=form.data_for_intake(), channel=Channel.WEB, actor=request.user, citizen=user
            )
        except FieldErrors as error:
            form_errors_add(form, error)
        else:
            return redirect(f"{reverse('hotline:follow', kwargs={'token': ticket.token})}?filed=1")
    return render(request, "hotline/file.html", {"form": form})


def _public_events(ticket: Ticket) -> list[dict[str, Any]]:
    """The steps a citizen sees: when, and into which state (no staff names, no notes)."""
    events = case_selectors.case_timeline(case=ticket.case)
    return [{"at": event.at, "label": event.to_label} for event in events if event.kind == "transition"]


def follow(request, token):
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        raise Http404
    return _follow_render(request, ticket, RateForm())


def _may_rate_as_citizen(request, ticket: Ticket) -> bool:
    return (
        ticket.case.state == states.REPLIED
        and ticket.citizen_id is not None
        and ticket.citizen_id == getattr(request.user, "pk", None)
    )


def _follow_render(request, ticket: Ticket, rate_form: RateForm, status: int = 200):
    shown = personal_data_present(
        viewer=request.user,
        values={"phone": ticket.caller_phone, "address": ticket.address},
        purpose=PURPOSE_TICKET,
        object_type="hotline.ticket",
        object_id=ticket.pk,
        subject_user_id=ticket.citizen_id,
    )
    return render(
        request,
        "hotline/follow.html",
        {
            "ticket": ticket,
            "shown": shown,
            "state_label": case_selectors.case_state_label(ticket.case),
            "steps": _public_events(ticket),
            "filed": request.GET.get("filed") == "1",
            "follow_url": request.build_absolute_uri(
                reverse("hotline:follow", kwargs={"token": ticket.token})
            ),
            "may_rate": _may_rate_as_citizen(request, ticket),
            "rate_form": rate_form,
        },
        status=status,
    )


@require_POST
@login_required
def rate(request, token):
    """The citizen rates the reply to their ticket (满意 / 基本满意 / 不满意 with the reason)."""
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        raise Http404
    form = RateForm(request.POST)
    form.is_valid()
    try:
        services.ticket_rate(
            ticket=ticket,
            actor=request.user,
            rating=form.cleaned_data.get("rating") or "",
            note=form.cleaned_data.get("note") or "",
            expected_version=_expected_version(request),
        )
    except FieldErrors as error:
        form_errors_add(form, error)
        return _follow_render(request, ticket, form, status=422)
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Thank you: your rating is recorded."))
    return redirect("hotline:follow", token=ticket.token)


@login_required
def mine(request):
    tickets = list(selectors.tickets_of_citizen(user=request.user)[:LIST_LIMIT])
    rows = [
        {
            "ticket": ticket,
            "state_label": case_selectors.case_state_label(ticket.case),
            "to_rate": ticket.case.state == states.REPLIED,
        }
        for ticket in tickets
    ]
    return render(request, "hotline/mine.html", {"rows": rows})


# --- the operator: calls, merging, answering, call-backs ---------------------------------------


@roles_required(OPERATOR_ROLES)
def console(request):
    """Register a call: the transcript, the caller's number and address. The page then shows
    what routing made of it and similar open tickets at the same place, ready for the next call."""
    form = CallForm(request.POST or None, initial={"kind": TicketKind.COMPLAINT})
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_intake(
                data=form.data_for_intake(), channel=Channel.PHONE, actor=request.user
            )
        except FieldErrors as error:
            form_errors_add(form, error)
        else:
            return redirect(f"{reverse('hotline:console')}?ticket={ticket.pk}")
    last = None
    ticket_id = request.GET.get("ticket", "")
    if request.method == "GET" and ticket_id.isdigit():
        last = _ticket_for(request, int(ticket_id), missing_ok=True)
    context: dict[str, Any] = {"form": form, "last": last}
    if last is not None:
        context.update(_suggestion_context(last))
        context["similar"] = (
            selectors.tickets_similar(ticket=last) if last.case.state == states.DISPATCHING else []
        )
        context["caller_history"] = [
            {"ticket": earlier, "state_label": case_selectors.case_state_label(earlier.case)}
            for earlier in selectors.tickets_search(query=last.caller_phone, limit=6)
            if earlier.pk != last.pk
        ][:5]
    return render(request, "hotline/console.html", context)


def _suggestion_context(ticket: Ticket) -> dict[str, Any]:
    return {
        "state_label": case_selectors.case_state_label(ticket.case),
        "confidence_percent": round((ticket.confidence or 0) * 100),
        "waiting_reason": _waiting_reasons([ticket]).get(ticket.pk)
        if ticket.case.state == states.DISPATCHING
        else None,
    }


@roles_required(CENTRE_ROLES)
def callbacks(request):
    """Replied tickets waiting for the satisfaction check: the operator calls the citizen back
    and records the rating."""
    tickets = list(selectors.callback_queue()[:LIST_LIMIT])
    shown = personal_data_present_many(
        viewer=request.user,
        records=[
            PersonalRecord(values={"phone": ticket.caller_phone}, object_id=ticket.pk) for ticket in tickets
        ],
        purpose=PURPOSE_CALLBACK,
        object_type="hotline.ticket",
    )
    rows = [
        {"ticket": ticket, "phone": values["phone"]} for ticket, values in zip(tickets, shown, strict=True)
    ]
    return render(request, "hotline/callbacks.html", {"rows": rows, "ratings": Rating.choices})


# --- the dispatcher ---------------------------------------------------------------------------------


def _waiting_reasons(tickets: list[Ticket]) -> dict[int, dict[str, str]]:
    """Why each ticket waits for a person: returned (with the department's reason), no model,
    no routing rule, below the threshold, or a possible duplicate."""
    returned = selectors.tickets_return_notes(tickets=tickets)
    # 不满意 with an answer the centre gave itself sends the ticket back to the dispatcher.
    unsatisfied = selectors.tickets_transition_notes(tickets=tickets, transition="rate_redispatch")
    classifier = services.routing_classifier()
    threshold = services.auto_threshold(classifier)
    reasons = {}
    for ticket in tickets:
        if ticket.pk in returned:
            reason = {
                "code": "returned",
                "label": _("Returned by the department"),
                "note": returned[ticket.pk],
            }
        elif ticket.pk in unsatisfied:
            reason = {
                "code": "unsatisfied",
                "label": _("The citizen was not satisfied with the centre's answer"),
                "note": unsatisfied[ticket.pk],
            }
        elif ticket.suggested_category_id is None and not getattr(classifier, "trained", False):
            reason = {"code": "no_model", "label": _("No routing model: nothing was suggested")}
        elif ticket.suggested_category_id is None:
            reason = {"code": "no_category", "label": _("Routing suggested no active category")}
        elif ticket.suggested_department_id is None:
            reason = {"code": "no_rule", "label": _("No routing rule for this category here")}
        elif (ticket.confidence or 0) < threshold:
            reason = {
                "code": "below_threshold",
                "label": _("Confidence below the threshold (%(threshold)d%%)")
                % {"threshold": round(threshold * 100)},
            }
        else:
            reason = {"code": "duplicate", "label": _("Possible duplicate of an open ticket")}
        reasons[ticket.pk] = reason
    return reasons


@roles_required(DISPATCH_ROLES)
def dispatch_queue(request):
    queue = selectors.dispatcher_queue()
    waiting = queue.count()
    tickets = list(queue[:DISPATCH_PAGE])
    reasons = _waiting_reasons(tickets)
    rows = [
        {
            "ticket": ticket,
            "reason": reasons[ticket.pk],
            "confidence_percent": round((ticket.confidence or 0) * 100),
        }
        for ticket in tickets
    ]
    return render(
        request,
        "hotline/dispatch_queue.html",
        {
            "rows": rows,
            "waiting": waiting,
            "departments": department_choices(),
            "categories": category_choices(),
            "notices": _notices(request),
        },
    )


def _notices(request) -> list:
    """The escalation notices addressed to the user's roles about tickets (超期, 督办)."""
    notices = case_selectors.notifications_for(user=request.user, limit=30)
    return [notice for notice in notices if notice.case.type_code == states.TICKET][:10]


# --- lists: supervisors, department handlers ---------------------------------------------------------


def _list_render(request, title: str, description: str, tickets, list_key: str, **extra):
    tickets = list(tickets[:LIST_LIMIT])
    notes = (
        selectors.tickets_transition_notes(tickets=tickets, transition="close_unresolved")
        if list_key == "unresolved"
        else {}
    )
    rows = [
        {
            "ticket": ticket,
            "state_label": case_selectors.case_state_label(ticket.case),
            "note": notes.get(ticket.pk, ""),
        }
        for ticket in tickets
    ]
    return render(
        request,
        "hotline/ticket_list.html",
        {
            "title": title,
            "description": description,
            "rows": rows,
            "list_key": list_key,
            "show_tabs": bool(user_roles(request.user) & SUPERVISE_ROLES) and list_key != "search",
            "notices": _notices(request) if list_key in ("supervised", "overdue", "handling") else [],
            **extra,
        },
    )


@roles_required(SUPERVISE_ROLES)
def supervision(request):
    return _list_render(
        request,
        _("Tickets under supervision"),
        _("Pressed, overdue or reopened after the citizen was not satisfied; the nearest deadline first."),
        selectors.tickets_supervised(),
        "supervised",
    )


@roles_required(SUPERVISE_ROLES | DISPATCH_ROLES)
def overdue(request):
    return _list_render(
        request,
        _("Overdue tickets"),
        _("Open tickets past their time limit; the longest overdue first."),
        selectors.tickets_overdue(),
        "overdue",
    )


@roles_required(SUPERVISE_ROLES)
def unresolved(request):
    return _list_render(
        request,
        _("Closed but not resolved"),
        _("Tickets a supervisor closed although the citizen's problem is not solved, with the reason."),
        selectors.tickets_closed_unresolved(),
        "unresolved",
    )


@roles_required(CENTRE_ROLES | SUPERVISE_ROLES)
def search(request):
    """The operator finds a caller's ticket by its number, the caller's phone or words of it."""
    query = request.GET.get("q", "")[:64]
    return _list_render(
        request,
        _("Find a ticket"),
        _(
            "By ticket number (RX2026-000123 or its last digits), the caller's phone number, or words of the request."
        ),
        selectors.tickets_search(query=query),
        "search",
        query=query,
    )


@roles_required(HANDLER_ROLES)
def handling(request):
    return _list_render(
        request,
        _("Tickets to handle"),
        _("Hotline tickets held or co-handled by your department; the nearest deadline first."),
        selectors.tickets_of_handler(user=request.user),
        "handling",
    )


# --- one ticket ---------------------------------------------------------------------------------------


def _ticket_for(request, ticket_id: int, *, missing_ok: bool = False) -> Ticket | None:
    """The ticket if the user may see its case; 404 otherwise (missing or forbidden alike)."""
    try:
        case_selectors.case_for_user(case_id=ticket_id, user=request.user)
        return services.ticket_get(pk=ticket_id)
    except NotFound:
        if missing_ok:
            return None
        raise Http404 from None


def _staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not user_roles(request.user) - {Role.CITIZEN, Role.ENTERPRISE_AGENT}:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@_staff_required
def ticket(request, ticket_id: int):
    ticket = _ticket_for(request, ticket_id)
    case = ticket.case
    moves = {
        move.name: move for move in case_selectors.case_transitions_available(case=case, user=request.user)
    }
    shown = personal_data_present(
        viewer=request.user,
        values={"phone": ticket.caller_phone, "address": ticket.address},
        purpose=PURPOSE_TICKET,
        object_type="hotline.ticket",
        object_id=ticket.pk,
    )
    may_merge = case.state == states.DISPATCHING and services.access_ticket_merge(request.user)
    context = {
        "ticket": ticket,
        "case": case,
        "shown": shown,
        "moves": moves,
        "reply_move": moves.get("reply") or moves.get("answer"),
        "timeline": _timeline(ticket),
        "participants": list(case.participants.select_related("department")),
        "may_cohandle": case.state in states.WITH_DEPARTMENT
        and _handles_or_assigns(request.user, case, moves),
        "may_rate": case.state == states.REPLIED and services.access_ticket_rate(request.user, ticket),
        "similar": selectors.tickets_similar(ticket=ticket) if may_merge else [],
        "may_merge": may_merge,
        "ratings": Rating.choices,
        **_suggestion_context(ticket),
    }
    if "dispatch" in moves or context["may_cohandle"]:
        context["departments"] = department_choices()
        context["categories"] = category_choices()
    return render(request, "hotline/ticket.html", context)


def _handles_or_assigns(user, case, moves) -> bool:
    """A handler of the ticket's department (who may accept, return or reply) may ask another
    department to co-handle."""
    return bool({"accept", "return", "reply"} & set(moves)) and access_case_assign(user, case)


def _expected_version(request) -> int | None:
    try:
        return int(request.POST.get("expected_version", ""))
    except ValueError:
        return None


def _department(request) -> Department:
    department_id = request.POST.get("department", "")
    department = (
        Department.objects.filter(pk=department_id, is_active=True).first()
        if department_id.isdigit()
        else None
    )
    if department is None:
        raise FieldErrors.single("department", _("Choose a department."))
    return department


SUCCESS = {
    "dispatch": gettext_lazy("Dispatched."),
    "accept": gettext_lazy("Accepted: the ticket is now being handled."),
    "return": gettext_lazy("Returned to the dispatcher."),
    "reply": gettext_lazy("Reply sent: the citizen will be asked whether they are satisfied."),
    "answer": gettext_lazy("Answered: the citizen will be asked whether they are satisfied."),
    "press": gettext_lazy("Pressed: the ticket is under supervision."),
    "close_unresolved": gettext_lazy("Closed as not resolved."),
    "cohandle": gettext_lazy("The department is asked to co-handle."),
    "merge": gettext_lazy("Merged."),
    "rate": gettext_lazy("Rating recorded."),
}


@_staff_required
@require_POST
def act(request, ticket_id: int):
    """Every action on a ticket page (and on the queues) posts here with `action`."""
    ticket = _ticket_for(request, ticket_id)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    version = _expected_version(request)
    user = request.user
    try:
        if action == "dispatch":
            category_id = request.POST.get("category", "")
            category = Category.objects.filter(pk=category_id).first() if category_id.isdigit() else None
            services.ticket_dispatch(
                ticket=ticket,
                actor=user,
                department=_department(request),
                category=category,
                note=note,
                expected_version=version,
            )
        elif action == "return":
            services.ticket_return(ticket=ticket, actor=user, note=note, expected_version=version)
        elif action == "cohandle":
            services.ticket_cohandle(ticket=ticket, actor=user, department=_department(request), note=note)
        elif action == "merge":
            into_id = request.POST.get("into", "")
            into = _ticket_for(request, int(into_id), missing_ok=True) if into_id.isdigit() else None
            if into is None:
                raise FieldErrors.single("into", _("Choose the open ticket to merge into."))
            services.ticket_merge(ticket=ticket, into=into, actor=user, expected_version=version)
        elif action == "rate":
            services.ticket_rate(
                ticket=ticket,
                actor=user,
                rating=request.POST.get("rating", ""),
                note=note,
                expected_version=version,
            )
        elif action in ("accept", "reply", "answer", "press", "close_unresolved"):
            services.ticket_move(
                ticket=ticket, transition=action, actor=user, note=note, expected_version=version
            )
        else:
            raise FieldErrors.single("action", _("Unknown ticket action “%s”.") % action)
    except DomainError as error:
        messages.error(request, f"{ticket.case.reference}：{_error_text(error)}")
    else:
        messages.success(request, f"{ticket.case.reference}：{SUCCESS[action]}")
    return redirect(_safe_next(request, reverse("hotline:ticket", kwargs={"ticket_id": ticket.pk})))
