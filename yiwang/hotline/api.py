"""The hotline's JSON API (mounted at /api/hotline): intake for other systems (channel "api"),
the centre's and the departments' lists, one ticket with its timeline, and every move of the
closed loop with `expected_version` (409 when someone else moved the ticket first). Thin:
shapes in, hotline services and selectors do the work. The caller's phone, name and address
are masked unless the caller's role needs them; unmasked reads are audited.

Auth as the rest of /api: `Authorization: Bearer <token>` or the session. Errors in the
platform's one shape (yiwang.api)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yiwang.cases.selectors import case_state_label, case_timeline, case_transitions_available
from yiwang.core.access import user_roles
from yiwang.core.errors import Conflict, FieldErrors, NotFound
from yiwang.core.models import Department, Role
from yiwang.hotline import cases as states
from yiwang.hotline import selectors, services
from yiwang.hotline.models import Category, Channel, Ticket, TicketKind

router = Router(tags=["hotline"])

MAX_PAGE_SIZE = 200
READ_PURPOSE = "hotline: handling the ticket"
STATES = [ticket_state.code for ticket_state in states.TICKET_TYPE.states]


# --- shapes -------------------------------------------------------------------------------------


class TicketIn(Schema):
    """A request to take in. Every field is checked by the hotline's intake (422 naming each
    bad field); `category` is the sender's choice (a category code, see /categories)."""

    kind: str = ""
    text: str = ""
    caller_phone: str = ""
    caller_name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    category: str = ""


class MoveIn(Schema):
    expected_version: int
    note: str = ""


class DispatchIn(MoveIn):
    department: str  # department code
    category: str = ""


class CohandleIn(Schema):
    department: str
    note: str = ""
    expected_version: int | None = None


class RateIn(MoveIn):
    rating: str  # satisfied, basically_satisfied, unsatisfied


class MergeIn(Schema):
    expected_version: int
    into: str  # the open ticket's id or reference


class TicketOut(Schema):
    id: int
    reference: str
    kind: str
    kind_label: str
    channel: str
    state: str
    state_label: str
    version: int
    sla_status: str
    text: str
    caller_name: str
    caller_phone: str
    address: str
    division: str
    division_name: str
    latitude: float | None
    longitude: float | None
    category: str | None
    category_name: str | None
    suggested_category: str | None
    suggested_department: str | None
    confidence: float | None
    auto_dispatched: bool
    department: str
    department_name: str
    received_at: datetime.datetime
    dispatched_at: datetime.datetime | None
    accepted_at: datetime.datetime | None
    replied_at: datetime.datetime | None
    reply: str
    reply_late: bool
    rating: str
    rating_note: str
    rated_at: datetime.datetime | None
    reopen_count: int
    duplicate_of: str | None
    state_deadline: datetime.datetime | None
    case_deadline: datetime.datetime | None
    closed_at: datetime.datetime | None


class EventOut(Schema):
    at: datetime.datetime
    actor: str
    kind: str
    transition: str
    from_state: str
    to_state: str
    note: str


class TicketDetailOut(TicketOut):
    co_handlers: list[str]
    transitions: list[str]
    timeline: list[EventOut]
    token: str | None  # to follow the ticket without logging in: for the citizen who filed it


class TicketPageOut(Schema):
    items: list[TicketOut]
    count: int
    page: int
    page_size: int


class SimilarOut(Schema):
    score: float
    ticket: TicketOut


class CategoryOut(Schema):
    code: str
    name: str
    description: str
    keywords: str


# --- presenting -----------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


def _ticket_out(ticket: Ticket, personal: dict[str, str]) -> dict[str, Any]:
    case = ticket.case
    return {
        "id": ticket.pk,
        "reference": case.reference,
        "kind": ticket.kind,
        "kind_label": str(TicketKind(ticket.kind).label),
        "channel": ticket.channel,
        "state": case.state,
        "state_label": case_state_label(case),
        "version": case.version,
        "sla_status": case.sla_status,
        **personal,
        "division": ticket.division_id,
        "division_name": ticket.division.name,
        "latitude": _number(ticket.latitude),
        "longitude": _number(ticket.longitude),
        "category": ticket.category.code if ticket.category else None,
        "category_name": ticket.category.name if ticket.category else None,
        "suggested_category": ticket.suggested_category.code if ticket.suggested_category else None,
        "suggested_department": (ticket.suggested_department.code if ticket.suggested_department else None),
        "confidence": ticket.confidence,
        "auto_dispatched": ticket.auto_dispatched,
        "department": case.department.code,
        "department_name": case.department.name,
        "received_at": ticket.received_at,
        "dispatched_at": ticket.dispatched_at,
        "accepted_at": ticket.accepted_at,
        "replied_at": ticket.replied_at,
        "reply": ticket.reply,
        "reply_late": ticket.reply_late,
        "rating": ticket.rating,
        "rating_note": ticket.rating_note,
        "rated_at": ticket.rated_at,
        "reopen_count": ticket.reopen_count,
        "duplicate_of": ticket.duplicate_of.case.reference if ticket.duplicate_of_id else None,
        "state_deadline": case.state_deadline,
        "case_deadline": case.case_deadline,
        "closed_at": case.closed_at,
    }


def _page(tickets: list[Ticket], user) -> list[dict[str, Any]]:
    personal = selectors.tickets_personal_present(tickets=tickets, viewer=user, purpose=READ_PURPOSE)
    return [_ticket_out(ticket, shown) for ticket, shown in zip(tickets, personal, strict=True)]


def _detail(ticket: Ticket, user, *, token: bool = False) -> dict[str, Any]:
    """The ticket as it is now. After a move that takes the ticket away from the actor (a
    return, a system account filing), the answer says what was done without the timeline."""
    ticket = selectors.ticket_queryset().get(pk=ticket.pk)
    body = _page([ticket], user)[0]
    body.update(co_handlers=[], transitions=[], timeline=[])
    if selectors.access_ticket_view(user, ticket):
        body["co_handlers"] = list(ticket.case.participants.values_list("department__code", flat=True))
        body["transitions"] = [move.name for move in case_transitions_available(case=ticket.case, user=user)]
        body["timeline"] = [
            {
                "at": event.at,
                "actor": event.actor_label,
                "kind": event.kind,
                "transition": event.transition,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "note": event.note,
            }
            for event in case_timeline(case=ticket.case)
        ]
    own = ticket.citizen_id is not None and ticket.citizen_id == user.pk
    body["token"] = str(ticket.token) if token or own else None
    return body


def _category(code: str, field: str) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise FieldErrors.single(field, _("There is no category “%s”; see /api/hotline/categories.") % code)
    return category


def _department(code: str, field: str = "department") -> Department:
    department = Department.objects.filter(code=code, is_active=True).first()
    if department is None:
        raise FieldErrors.single(field, _("There is no department “%s”.") % code)
    return department


def _choice(value: str, allowed, field: str) -> str:
    if value and value not in allowed:
        raise FieldErrors([(("query", field), _("Choose one of: %s.") % ", ".join(allowed))])
    return value


# --- endpoints -----------------------------------------------------------------------------------


@router.get("/categories", response=list[CategoryOut])
def category_list(request):
    """The categories a ticket can be given (the Open311 service codes)."""
    return selectors.categories_offered()


@router.post("/tickets", response={201: TicketDetailOut})
def ticket_create(request, payload: TicketIn):
    """Take a request in (channel "api"). 422 names every bad field: kind, text (empty or
    over 2,000 characters), caller_phone (not a mainland number), address (no town of the
    city), category."""
    data = payload.model_dump()
    category = _category(data.pop("category"), "category")
    citizen = request.auth if Role.CITIZEN in user_roles(request.auth) else None
    if category is None:
        ticket = services.ticket_intake(data=data, channel=Channel.API, actor=request.auth, citizen=citizen)
    else:
        ticket = services.ticket_intake_in_category(
            data=data, channel=Channel.API, category=category, actor=request.auth, citizen=citizen
        )
    return Status(201, _detail(ticket, request.auth, token=True))


@router.get("/tickets", response=TicketPageOut)
def ticket_list(
    request,
    state: str = "",
    kind: str = "",
    category: str = "",
    department: str = "",
    division: str = "",
    received_from: datetime.date | None = None,
    received_to: datetime.date | None = None,
    page: int = 1,
    page_size: int = 50,
):
    """The tickets I may see, newest first (the centre sees all, a department its own and
    those it co-handles, a citizen theirs)."""
    tickets = selectors.tickets_for_user(
        user=request.auth,
        state=_choice(state, STATES, "state"),
        kind=_choice(kind, TicketKind.values, "kind"),
        category=category,
        department=department,
        division=division,
        received_from=received_from,
        received_to=received_to,
    )
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    count = tickets.count()
    rows = list(tickets[(page - 1) * page_size : page * page_size])
    return {"items": _page(rows, request.auth), "count": count, "page": page, "page_size": page_size}


@router.get("/tickets/{key}", response=TicketDetailOut)
def ticket_detail(request, key: str):
    """One ticket by id or reference, with its timeline and the moves I may take now."""
    return _detail(selectors.ticket_for_user(key=key, user=request.auth), request.auth)


@router.get("/tickets/{key}/similar", response=list[SimilarOut])
def ticket_similar(request, key: str):
    """Open tickets at the same place that say nearly the same thing (offered for merging)."""
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    pairs = [
        (other, score)
        for other, score in selectors.tickets_similar(ticket=ticket)
        if selectors.access_ticket_view(request.auth, other)
    ]
    shown = _page([other for other, _score in pairs], request.auth)
    return [{"score": score, "ticket": body} for (_other, score), body in zip(pairs, shown, strict=True)]


@router.post("/tickets/{key}/dispatch", response=TicketDetailOut)
def ticket_dispatch(request, key: str, payload: DispatchIn):
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    ticket = services.ticket_dispatch(
        ticket=ticket,
        actor=request.auth,
        department=_department(payload.department),
        category=_category(payload.category, "category"),
        note=payload.note,
        expected_version=payload.expected_version,
    )
    return _detail(ticket, request.auth)


def _move(request, key: str, payload: MoveIn, transition: str) -> dict[str, Any]:
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    ticket = services.ticket_move(
        ticket=ticket,
        transition=transition,
        actor=request.auth,
        note=payload.note,
        expected_version=payload.expected_version,
    )
    return _detail(ticket, request.auth)


@router.post("/tickets/{key}/accept", response=TicketDetailOut)
def ticket_accept(request, key: str, payload: MoveIn):
    return _move(request, key, payload, "accept")


@router.post("/tickets/{key}/reply", response=TicketDetailOut)
def ticket_reply(request, key: str, payload: MoveIn):
    """The department's reply to the citizen (`note` is the reply)."""
    return _move(request, key, payload, "reply")


@router.post("/tickets/{key}/answer", response=TicketDetailOut)
def ticket_answer(request, key: str, payload: MoveIn):
    """The centre answers a ticket itself (a consultation), `note` being the answer."""
    return _move(request, key, payload, "answer")


@router.post("/tickets/{key}/press", response=TicketDetailOut)
def ticket_press(request, key: str, payload: MoveIn):
    return _move(request, key, payload, "press")


@router.post("/tickets/{key}/close_unresolved", response=TicketDetailOut)
def ticket_close_unresolved(request, key: str, payload: MoveIn):
    return _move(request, key, payload, "close_unresolved")


@router.post("/tickets/{key}/return", response=TicketDetailOut)
def ticket_return(request, key: str, payload: MoveIn):
    """The department sends the ticket back to the dispatcher; `note` is the reason."""
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    ticket = services.ticket_return(
        ticket=ticket, actor=request.auth, note=payload.note, expected_version=payload.expected_version
    )
    return _detail(ticket, request.auth)


@router.post("/tickets/{key}/cohandle", response=TicketDetailOut)
def ticket_cohandle(request, key: str, payload: CohandleIn):
    """Ask another department to co-handle. `expected_version`, when given, refuses the
    request (409) if the ticket moved since it was read."""
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    if payload.expected_version is not None and payload.expected_version != ticket.case.version:
        raise Conflict(
            _("Ticket %s was changed by someone else. Nothing was saved: reload it and try again.")
            % ticket.case.reference
        )
    ticket = services.ticket_cohandle(
        ticket=ticket, actor=request.auth, department=_department(payload.department), note=payload.note
    )
    return _detail(ticket, request.auth)


@router.post("/tickets/{key}/rate", response=TicketDetailOut)
def ticket_rate(request, key: str, payload: RateIn):
    """The satisfaction check: satisfied / basically_satisfied close the ticket, unsatisfied
    (with a note) reopens it under supervision, or sends it back to the dispatcher when the
    centre had answered it itself."""
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    ticket = services.ticket_rate(
        ticket=ticket,
        actor=request.auth,
        rating=payload.rating,
        note=payload.note,
        expected_version=payload.expected_version,
    )
    return _detail(ticket, request.auth)


@router.post("/tickets/{key}/merge", response=TicketDetailOut)
def ticket_merge(request, key: str, payload: MergeIn):
    """Merge this new ticket into an open one about the same thing at the same place."""
    ticket = selectors.ticket_for_user(key=key, user=request.auth)
    try:
        into = selectors.ticket_for_user(key=payload.into, user=request.auth)
    except NotFound as error:  # name the field
        raise FieldErrors.single("into", _("There is no ticket “%s”.") % payload.into) from error
    ticket = services.ticket_merge(
        ticket=ticket, into=into, actor=request.auth, expected_version=payload.expected_version
    )
    return _detail(ticket, request.auth)
