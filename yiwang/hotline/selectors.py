"""Reading tickets: lists for the centre and the departments, and similar open tickets."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import NotFound
from yiwang.core.models import DivisionLevel, Role
from yiwang.hotline import cases as states
from yiwang.hotline.models import Ticket

SIMILAR_WINDOW = datetime.timedelta(days=30)
SIMILAR_MIN_SCORE = 0.35
SIMILAR_CANDIDATES = 500


def _bigrams(text: str) -> frozenset[str]:
    chars = [ch for ch in text if not ch.isspace() and ch not in "，。！？、；：,.!?;:（）()“”\"'"]
    return frozenset(a + b for a, b in zip(chars, chars[1:], strict=False))


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character bigrams (0 … 1)."""
    left, right = _bigrams(a), _bigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _town_code(division: Any) -> str:
    return division.parent_id if division.level == DivisionLevel.VILLAGE else division.pk


def tickets_similar(*, ticket: Ticket, limit: int = 5) -> list[tuple[Ticket, float]]:
    """Open tickets at the same place (the same town) from the last 30 days that say nearly
    the same thing, most similar first: offered to the operator for merging."""
    return tickets_similar_to(
        text=ticket.text,
        division=ticket.division,
        received_at=ticket.received_at,
        exclude=ticket.pk,
        limit=limit,
    )


def tickets_similar_to(
    *, text: str, division: Any, received_at: Any, exclude: int | None = None, limit: int = 5
) -> list[tuple[Ticket, float]]:
    """tickets_similar for a request not written yet (intake asks before its transaction, so
    the search never holds the database's write lock). Only pk and text are read to score."""
    town = _town_code(division)
    candidates = (
        Ticket.objects.filter(
            case__state__in=states.OPEN_STATES,
            received_at__gte=received_at - SIMILAR_WINDOW,
            duplicate_of__isnull=True,
            division__pk__startswith=town,
        )
        .exclude(pk=exclude)
        .order_by("-received_at")
        .values_list("pk", "text")[:SIMILAR_CANDIDATES]
    )
    scored = [(pk, round(text_similarity(text, other), 3)) for pk, other in candidates]
    scored = sorted(
        ((pk, score) for pk, score in scored if score >= SIMILAR_MIN_SCORE), key=lambda pair: -pair[1]
    )
    scored = scored[:limit]
    found = ticket_queryset().in_bulk([pk for pk, _ in scored])
    return [(found[pk], score) for pk, score in scored if pk in found]


def ticket_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related(
        "case", "case__department", "division", "division__parent", "category", "suggested_department"
    )


def dispatcher_queue() -> QuerySet[Ticket]:
    """Tickets waiting for a dispatcher: routing was not sure, a department returned them, or
    the classifier is not trained yet. Oldest first."""
    return ticket_queryset().filter(case__state=states.DISPATCHING).order_by("received_at", "case_id")


def callback_queue() -> QuerySet[Ticket]:
    """Replied tickets waiting for the satisfaction check, oldest reply first."""
    return ticket_queryset().filter(case__state=states.REPLIED).order_by("replied_at", "case_id")


def tickets_of_citizen(*, user: Any) -> QuerySet[Ticket]:
    return ticket_queryset().filter(citizen=user).order_by("-received_at")


def ticket_by_token(token: Any) -> Ticket | None:
    return ticket_queryset().filter(token=token).first()


# --- lists for the pages (added with the hotline's web pages) --------------------------------


def tickets_supervised() -> QuerySet[Ticket]:
    """Tickets under supervision (pressed, overdue or reopened after 不满意), oldest deadline first."""
    return (
        ticket_queryset()
        .filter(case__state=states.SUPERVISED)
        .order_by("case__state_deadline", "received_at", "case_id")
    )


def tickets_overdue() -> QuerySet[Ticket]:
    """Open tickets past a time limit (the SLA sweep marked them red), the longest overdue first."""
    return (
        ticket_queryset()
        .filter(case__state__in=states.OPEN_STATES, case__sla_status="red")
        .order_by("case__case_deadline", "received_at", "case_id")
    )


def tickets_closed_unresolved() -> QuerySet[Ticket]:
    """Tickets closed but not resolved (an honest, visible state), the latest first."""
    return (
        ticket_queryset()
        .filter(case__state=states.CLOSED_UNRESOLVED)
        .order_by("-case__closed_at", "-case_id")
    )


def tickets_of_handler(*, user: Any) -> QuerySet[Ticket]:
    """Open tickets held or co-handled by the user's departments (or assigned to them)."""
    from yiwang.cases.selectors import case_queue

    cases = case_queue(user=user).filter(type_code=states.TICKET).values("pk")
    return ticket_queryset().filter(case__in=cases).order_by("case__state_deadline", "received_at")


def tickets_return_notes(*, tickets: list[Ticket]) -> dict[int, str]:
    """For tickets waiting for dispatch: the department's reason when the last move that
    brought a ticket back was a return (退回), by ticket id."""
    from yiwang.cases.models import CaseEvent

    last: dict[int, tuple[str, str]] = {}
    events = (
        CaseEvent.objects.filter(case_id__in=[ticket.pk for ticket in tickets], kind="transition")
        .order_by("case_id", "at", "id")
        .values_list("case_id", "transition", "note")
    )
    for case_id, transition, note in events:
        last[case_id] = (transition, note)
    return {case_id: note for case_id, (transition, note) in last.items() if transition == "return"}


def tickets_search(*, query: str, limit: int = 50) -> QuerySet[Ticket]:
    """Find tickets for a caller asking where their request stands: by reference number
    (RX2026-000123, or its last digits), by the caller's phone number, or by words of the
    request. The latest first."""
    text = " ".join(str(query or "").split())
    tickets = ticket_queryset().order_by("-received_at", "-case_id")
    if not text:
        return tickets.none()
    if text.upper().startswith("RX"):
        return tickets.filter(case__reference__iexact=text)[:limit]
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) == len(text.replace("-", "").replace(" ", "")):
        if len(digits) >= 7:  # a phone number, as dialled
            return tickets.filter(caller_phone__endswith=digits[-11:])[:limit]
        return tickets.filter(case__reference__endswith=digits)[:limit]
    return tickets.filter(text__icontains=text)[:limit]


# --- reading for a user (the API) ------------------------------------------------------------


def _sees_every_ticket(user: Any) -> bool:
    """The centre (operators and dispatchers) and the city-wide roles see every ticket."""
    from yiwang.cases.access import CITY_WIDE_ROLES
    from yiwang.core.access import user_roles

    return bool(user_roles(user) & (CITY_WIDE_ROLES | {Role.HOTLINE_OPERATOR}))


def access_ticket_view(user: Any, ticket: Ticket) -> bool:
    """The citizen who filed the ticket, or anyone who may see its case (the centre, the
    city-wide roles, the holding and co-handling departments)."""
    from yiwang.cases.access import access_case_view

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if ticket.citizen_id is not None and ticket.citizen_id == user.pk:
        return True
    return access_case_view(user, ticket.case)


def ticket_for_user(*, key: str | int, user: Any) -> Ticket:
    """One ticket by its id or its reference (RX2026-000123), if the user may see it;
    NotFound otherwise, the same for missing and forbidden."""
    text = str(key).strip()
    tickets = ticket_queryset()
    ticket = (
        tickets.filter(pk=int(text)).first()
        if text.isdigit()
        else tickets.filter(case__reference=text).first()
    )
    if ticket is None or not access_ticket_view(user, ticket):
        raise NotFound(_("Not found."))
    return ticket


def tickets_for_user(
    *,
    user: Any,
    state: str = "",
    kind: str = "",
    category: str = "",
    department: str = "",
    division: str = "",
    received_from: datetime.date | None = None,
    received_to: datetime.date | None = None,
) -> QuerySet[Ticket]:
    """The tickets a user may see, newest first: all of them for the centre and the
    city-wide roles; those their departments hold or co-handle (or assigned to them) for a
    department handler; their own for a citizen. Filters: state, kind, category code,
    department code, division code (with everything under it), received dates (inclusive,
    local days)."""
    from yiwang.cases.access import user_department_ids

    tickets = ticket_queryset().select_related("suggested_category", "duplicate_of__case")
    if not _sees_every_ticket(user):
        visible = Q(citizen_id=getattr(user, "pk", None))
        departments = user_department_ids(user)
        if departments:
            visible |= (
                Q(case__assignee_id=user.pk)
                | Q(case__department_id__in=departments)
                | Q(case__participants__department_id__in=departments)
            )
        tickets = tickets.filter(visible).distinct()
    if state:
        tickets = tickets.filter(case__state=state)
    if kind:
        tickets = tickets.filter(kind=kind)
    if category:
        tickets = tickets.filter(category__code=category)
    if department:
        tickets = tickets.filter(case__department__code=department)
    if division:
        tickets = tickets.filter(division__pk__startswith=division)
    zone = timezone.get_current_timezone()
    if received_from is not None:
        start = datetime.datetime.combine(received_from, datetime.time.min, tzinfo=zone)
        tickets = tickets.filter(received_at__gte=start)
    if received_to is not None:
        end = datetime.datetime.combine(
            received_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        tickets = tickets.filter(received_at__lt=end)
    return tickets.order_by("-received_at", "-case_id")


def _mask_name(name: str) -> str:
    """王先生 → 王**"""
    return name[:1] + "*" * (len(name) - 1) if name else name


def tickets_personal_present(*, tickets: list[Ticket], viewer: Any, purpose: str) -> list[dict[str, str]]:
    """The caller's phone and name, the address and the citizen's words of each ticket as the
    viewer may see them: masked unless the viewer's role needs them (PERSONAL_FIELD_ROLES:
    the centre and the departments call the citizen back) or it is the citizen's own ticket.
    The name and the text (which may quote numbers) follow the phone. One audit entry covers
    the unmasked reads."""
    from yiwang.core.masking import mask_text
    from yiwang.core.services import PersonalRecord, personal_data_present_many, personal_fields_revealed

    records = [
        PersonalRecord(
            values={"phone": ticket.caller_phone, "address": ticket.address},
            object_id=ticket.pk,
            subject_user_id=ticket.citizen_id,
        )
        for ticket in tickets
    ]
    shown = personal_data_present_many(
        viewer=viewer, records=records, purpose=purpose, object_type="hotline.ticket"
    )
    presented = []
    for ticket, values in zip(tickets, shown, strict=True):
        revealed = personal_fields_revealed(viewer=viewer, subject_user_id=ticket.citizen_id)
        phone_shown = "phone" in revealed
        presented.append(
            {
                "caller_phone": values["phone"],
                "caller_name": ticket.caller_name if phone_shown else _mask_name(ticket.caller_name),
                "address": values["address"],
                "text": ticket.text if phone_shown else mask_text(ticket.text),
            }
        )
    return presented


# --- Open311 (the public interface) --------------------------------------------------------


def categories_offered() -> list[Any]:
    """The active categories, each with `group`: the short name of the department that
    handles it city-wide (the Open311 service group), or None."""
    from yiwang.hotline.models import Category, RoutingRule

    groups = {
        rule.category_id: rule.department.short_name or rule.department.name
        for rule in RoutingRule.objects.filter(division=None).select_related("department")
    }
    categories = list(Category.objects.filter(is_active=True).order_by("code"))
    for category in categories:
        category.group = groups.get(category.pk)
    return categories


def tickets_published(*, viewer: Any = None) -> QuerySet[Ticket]:
    """The tickets Open311 shows: every ticket but reports (举报), whose reporters the law
    protects; a client with an API token also gets the tickets its user may see."""
    from yiwang.hotline.models import TicketKind

    tickets = ticket_queryset().select_related("duplicate_of__case")
    published = tickets.exclude(kind=TicketKind.REPORT)
    if viewer is None:
        return published
    visible = tickets_for_user(user=viewer).values("pk")
    return tickets.filter(Q(pk__in=published.values("pk")) | Q(pk__in=visible))


def tickets_transition_notes(*, tickets: list[Ticket], transition: str) -> dict[int, str]:
    """The note of each ticket's latest `transition` (e.g. why a supervisor closed it as not
    resolved), by ticket id, in one query."""
    from yiwang.cases.models import CaseEvent

    notes: dict[int, str] = {}
    events = (
        CaseEvent.objects.filter(case_id__in=[ticket.pk for ticket in tickets], transition=transition)
        .order_by("case_id", "at", "id")
        .values_list("case_id", "note")
    )
    for case_id, note in events:
        notes[case_id] = note
    return notes
