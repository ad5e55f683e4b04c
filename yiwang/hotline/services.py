"""What the hotline does: take a ticket in, route it, and move it round the closed loop.

Every function validates first and writes in one transaction: a ticket is either taken in
whole (case, ticket row, timeline, audit entry and, when routing is sure, its dispatch) or
not at all. State moves go through the cases engine (version compare-and-set, timeline,
audit); this module adds what only the hotline knows and who may do what to a ticket."""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.services import (
    case_add_participant,
    case_log,
    case_notify,
    case_open,
    case_transition,
    case_transition_system,
)
from yiwang.cases.types import Limit
from yiwang.core.access import user_roles
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Department, Division, Role
from yiwang.core.places import division_from_address
from yiwang.hotline import cases as states
from yiwang.hotline.models import Category, Channel, KindLimit, Rating, RoutingRule, Ticket, TicketKind
from yiwang.hotline.routing import (
    MAX_TEXT_CHARS,
    ModelFileError,
    RoutingClassifier,
    UntrainedClassifier,
    route_classifier_load,
    route_model_path,
)

logger = logging.getLogger(__name__)

ROUTING_ACTOR = "system:routing"
MIN_TEXT_CHARS = 5

# Used when no KindLimit row exists (the migration writes these rows; the admin edits them).
DEFAULT_KIND_LIMITS: dict[str, Limit] = {
    TicketKind.CONSULTATION: Limit(1, "days"),
    TicketKind.HELP: Limit(3, "days"),
    TicketKind.COMPLAINT: Limit(5, "days"),
    TicketKind.REPORT: Limit(10, "days"),
    TicketKind.SUGGESTION: Limit(10, "days"),
    TicketKind.PRAISE: Limit(5, "days"),
}


# --- configuration --------------------------------------------------------------------------


def hotline_centre() -> Department:
    """The 12345 centre: it holds tickets waiting for dispatch."""
    code = settings.HOTLINE_CENTRE
    centre = Department.objects.filter(code=code).first()
    if centre is None:
        raise LookupError(f"the hotline centre department {code!r} does not exist (YIWANG_HOTLINE_CENTRE)")
    return centre


def kind_limit(kind: str) -> Limit:
    row = KindLimit.objects.filter(kind=kind).first()
    if row is None:
        return DEFAULT_KIND_LIMITS[kind]
    return Limit(float(row.amount), row.unit)


def rule_department(category: Category, division: Division | None) -> Department | None:
    """The department a category goes to in a division: the most local rule, up to the city
    default (RoutingRule)."""
    rules = {
        rule.division_id: rule.department
        for rule in RoutingRule.objects.filter(category=category).select_related("department")
    }
    node = division
    while node is not None:
        if node.pk in rules:
            return rules[node.pk]
        node = node.parent
    return rules.get(None)


# --- the routing model, loaded once per process ----------------------------------------------

_model_lock = threading.Lock()
_model: dict[str, Any] = {"mtime": None, "classifier": UntrainedClassifier()}


def routing_classifier() -> RoutingClassifier | UntrainedClassifier:
    """The trained model (reloaded when `yiwang hotline train` writes a new file), or an
    untrained stand-in: tickets then wait for a dispatcher, never lost."""
    path: Path = route_model_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = None
    with _model_lock:
        if mtime != _model["mtime"]:
            try:
                classifier = route_classifier_load(path) if mtime is not None else UntrainedClassifier()
            except ModelFileError as error:
                logger.error(
                    "hotline routing model not usable, every ticket goes to the dispatcher: %s", error
                )
                classifier = UntrainedClassifier()
            _model.update(mtime=mtime, classifier=classifier)
        return _model["classifier"]


def auto_threshold(classifier: Any) -> float:
    """The confidence above which tickets are dispatched without a person: the centre's
    setting (YIWANG_HOTLINE_AUTO_THRESHOLD) or the one the model chose for 97% precision."""
    configured = settings.HOTLINE_AUTO_THRESHOLD
    return float(configured) if configured is not None else float(classifier.threshold)


@dataclass(frozen=True)
class Suggestion:
    category: Category | None
    department: Department | None
    confidence: float
    automatic: bool  # confident enough to dispatch without a dispatcher


def routing_suggest(text: str, division: Division | None) -> Suggestion:
    classifier = routing_classifier()
    prediction = classifier.classify([text])[0]
    category = (
        Category.objects.filter(name=prediction.category, is_active=True).first()
        if prediction.category
        else None
    )
    department = rule_department(category, division) if category else None
    automatic = bool(
        category is not None
        and department is not None
        and getattr(classifier, "trained", False)
        and prediction.confidence >= auto_threshold(classifier)
    )
    return Suggestion(category, department, float(prediction.confidence), automatic)


# --- intake ---------------------------------------------------------------------------------


def phone_normalise(raw: str) -> str | None:
    """A mainland number as dialled (13812345678, 07996831234), or None if it is not one."""
    text = "".join(ch for ch in str(raw or "") if ch.isdigit() or ch == "+")
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


@dataclass
class Intake:
    """A validated request, before anything is written."""

    kind: str
    channel: str
    text: str
    caller_phone: str
    caller_name: str
    address: str
    division: Division
    latitude: Decimal | None = None
    longitude: Decimal | None = None


def ticket_validate(data: dict[str, Any], *, channel: str) -> Intake:
    """Check a request (web form, operator console, API, Open311): every bad field named."""
    errors = ErrorCollector()
    kind = str(data.get("kind") or "").strip()
    if kind not in TicketKind.values:
        errors.add(
            "kind", _("Choose a ticket kind: %s.") % "、".join(str(label) for label in TicketKind.labels)
        )
    text = " ".join(str(data.get("text") or "").split())
    if not text:
        errors.add("text", _("Say what the request is about."))
    elif len(text) < MIN_TEXT_CHARS:
        errors.add("text", _("Describe the request in at least %d characters.") % MIN_TEXT_CHARS)
    elif len(text) > MAX_TEXT_CHARS:
        errors.add(
            "text",
            _("The request is %(length)d characters long; at most %(limit)d are accepted.")
            % {"length": len(text), "limit": MAX_TEXT_CHARS},
        )
    phone = phone_normalise(data.get("caller_phone") or "")
    if not str(data.get("caller_phone") or "").strip():
        errors.add("caller_phone", _("A phone number is needed to call the citizen back."))
    elif phone is None:
        errors.add(
            "caller_phone", _("“%s” is not a valid mainland China phone number.") % data.get("caller_phone")
        )
    caller_name = " ".join(str(data.get("caller_name") or "").split())[:64]
    address = " ".join(str(data.get("address") or "").split())
    division = None
    if not address:
        errors.add("address", _("Say where: the town or street, and the village or community."))
    elif len(address) > 200:
        errors.add("address", _("The address is longer than 200 characters."))
    else:
        division = division_from_address(address)
        if division is None:
            errors.add(
                "address",
                _("“%s” names no town or street of the city; name the town (镇/乡/街道).") % address,
            )
    latitude, longitude = data.get("latitude"), data.get("longitude")
    coordinates = []
    for field, value, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if value in (None, ""):
            coordinates.append(None)
            continue
        try:
            number = Decimal(str(value)).quantize(Decimal("0.000001"))
        except ArithmeticError:
            errors.add(field, _("Not a number."))
            coordinates.append(None)
            continue
        if abs(number) > bound:
            errors.add(field, _("Out of range (±%d).") % bound)
        coordinates.append(number)
    errors.raise_if_any()
    return Intake(
        kind=kind,
        channel=channel,
        text=text,
        caller_phone=phone or "",
        caller_name=caller_name,
        address=address,
        division=division,
        latitude=coordinates[0],
        longitude=coordinates[1],
    )


def _title(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


def _web_limit_check(phone: str, now: datetime.datetime) -> None:
    """An abuse limit on the open web form: so many filings per phone number per 24 hours.
    The caller is sent to the phone line, where an operator takes any number of calls."""
    limit = settings.HOTLINE_WEB_DAILY_LIMIT
    recent = Ticket.objects.filter(
        caller_phone=phone, channel=Channel.WEB, received_at__gt=now - datetime.timedelta(hours=24)
    ).count()
    if recent >= limit:
        raise FieldErrors.single(
            "caller_phone",
            _("This number has filed %(count)d requests online in the last 24 hours; please call 12345.")
            % {"count": recent},
        )


def ticket_intake(
    *,
    data: dict[str, Any],
    channel: str,
    actor: Any,
    citizen: Any = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Take a request in. Routing proposes a category and department; when it is confident
    and the request repeats no open ticket at the same place, the ticket is dispatched in the
    same transaction, otherwise it waits in the dispatcher's queue with the suggestion."""
    from yiwang.hotline.selectors import tickets_similar_to

    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    intake = ticket_validate(data, channel=channel)
    now = now or timezone.now()
    if channel == Channel.WEB:
        _web_limit_check(intake.caller_phone, now)
    suggestion = routing_suggest(intake.text, intake.division)
    centre = hotline_centre()
    # Read-only work before the write transaction (SQLite has one writer at a time).
    duplicate = suggestion.automatic and bool(
        tickets_similar_to(text=intake.text, division=intake.division, received_at=now, limit=1)
    )
    with transaction.atomic():
        case = case_open(
            case_type=states.TICKET,
            title=_title(intake.text),
            department=centre,
            actor=actor,
            division=intake.division,
            subject_type="hotline.caller",
            subject_key=intake.caller_phone,
            data={"kind": intake.kind, "channel": intake.channel},
            note=_("Received by %s.") % Channel(channel).label,
            case_limit=kind_limit(intake.kind),
            now=now,
        )
        ticket = Ticket.objects.create(
            case=case,
            kind=intake.kind,
            channel=intake.channel,
            text=intake.text,
            caller_name=intake.caller_name,
            caller_phone=intake.caller_phone,
            address=intake.address,
            division=intake.division,
            latitude=intake.latitude,
            longitude=intake.longitude,
            citizen=citizen if getattr(citizen, "is_authenticated", False) else None,
            received_at=now,
            suggested_category=suggestion.category,
            suggested_department=suggestion.department,
            confidence=round(suggestion.confidence, 4),
            category=suggestion.category,
        )
        audit_record(
            actor=actor,
            action="hotline.intake",
            target=case,
            after={
                "kind": intake.kind,
                "channel": intake.channel,
                "division": intake.division.pk,
                "suggested_category": suggestion.category.code if suggestion.category else None,
                "confidence": round(suggestion.confidence, 4),
            },
        )
        if suggestion.automatic and not duplicate:
            case_transition_system(
                case=case,
                transition="auto_dispatch",
                actor=ROUTING_ACTOR,
                expected_version=case.version,
                note=_("Routing: %(category)s → %(department)s (confidence %(confidence).0f%%).")
                % {
                    "category": suggestion.category.name,
                    "department": suggestion.department.name,
                    "confidence": suggestion.confidence * 100,
                },
                department=suggestion.department,
                now=now,
            )
            Ticket.objects.filter(pk=case.pk).update(auto_dispatched=True)
    ticket.refresh_from_db()
    return ticket


def ticket_intake_in_category(
    *,
    data: dict[str, Any],
    channel: str,
    category: Category,
    actor: Any,
    citizen: Any = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Take a request in whose sender chose the category (an Open311 service code, an API
    client's category). Routing still reads the text and dispatches when it is sure (its
    category stands then); a ticket left for the dispatcher carries the sender's category,
    the routing suggestion kept beside it. One transaction with the intake."""
    if not category.is_active:
        raise FieldErrors.single("category", _("The category “%s” is no longer offered.") % category.code)
    with transaction.atomic():
        ticket = ticket_intake(data=data, channel=channel, actor=actor, citizen=citizen, now=now)
        if not ticket.auto_dispatched and ticket.category_id != category.pk:
            Ticket.objects.filter(pk=ticket.pk).update(category=category)
            case_log(
                case=ticket.case,
                actor=actor,
                kind="categorised",
                note=_("Category chosen by the sender: %s.") % category.name,
                data={"category": category.code},
                now=now,
            )
    ticket.refresh_from_db()
    return ticket


# --- who may do what to a ticket ---------------------------------------------------------------


def access_ticket_rate(user: Any, ticket: Ticket) -> bool:
    """The citizen who filed it, or the centre calling the citizen back."""
    if ticket.citizen_id is not None and getattr(user, "pk", None) == ticket.citizen_id:
        return True
    return bool(user_roles(user) & {Role.HOTLINE_OPERATOR, Role.DISPATCHER})


def access_ticket_merge(user: Any) -> bool:
    return bool(user_roles(user) & {Role.HOTLINE_OPERATOR, Role.DISPATCHER})


# --- the loop -----------------------------------------------------------------------------------


def _version(ticket: Ticket, expected_version: int | None) -> int:
    return ticket.case.version if expected_version is None else expected_version


def ticket_dispatch(
    *,
    ticket: Ticket,
    actor: Any,
    department: Department,
    category: Category | None = None,
    note: str = "",
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """A dispatcher sends the ticket to a department (re-routing a returned one the same way)."""
    with transaction.atomic():
        case_transition(
            case=ticket.case,
            transition="dispatch",
            actor=actor,
            expected_version=_version(ticket, expected_version),
            note=note or _("Dispatched to %s.") % department.name,
            department=department,
            now=now,
        )
        if category is not None and category.pk != ticket.category_id:
            Ticket.objects.filter(pk=ticket.pk).update(category=category)
    return Ticket.objects.select_related("case").get(pk=ticket.pk)


def ticket_move(
    *,
    ticket: Ticket,
    transition: str,
    actor: Any,
    note: str = "",
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Accept, reply, answer directly, press, or close as not resolved: a transition of the
    ticket's case (the case type names who may take which)."""
    if transition not in {"accept", "reply", "answer", "press", "close_unresolved"}:
        raise FieldErrors.single("transition", _("Unknown ticket action “%s”.") % transition)
    case_transition(
        case=ticket.case,
        transition=transition,
        actor=actor,
        expected_version=_version(ticket, expected_version),
        note=note,
        now=now,
    )
    return Ticket.objects.select_related("case").get(pk=ticket.pk)


def ticket_return(
    *,
    ticket: Ticket,
    actor: Any,
    note: str,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """The department sends the ticket back to the dispatcher with its reason (退回); it
    returns to the centre's queue for re-routing."""
    case_transition(
        case=ticket.case,
        transition="return",
        actor=actor,
        expected_version=_version(ticket, expected_version),
        note=note,
        department=hotline_centre(),
        now=now,
    )
    return Ticket.objects.select_related("case").get(pk=ticket.pk)


def ticket_cohandle(*, ticket: Ticket, actor: Any, department: Department, note: str = "") -> Ticket:
    """The handling department asks another to co-handle (协办); the lead department replies."""
    if ticket.case.state not in states.WITH_DEPARTMENT:
        raise Conflict(_("Only a ticket being handled by a department can get a co-handling department."))
    case_add_participant(case=ticket.case, department=department, actor=actor, note=note)
    return ticket


def ticket_rate(
    *,
    ticket: Ticket,
    actor: Any,
    rating: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """The satisfaction check (满意度回访). 满意 / 基本满意 close the loop; 不满意 reopens the
    ticket under supervision with the same department (or, when the centre answered it
    itself, sends it back to the dispatcher for a department), and the supervisor is told."""
    if not access_ticket_rate(actor, ticket):
        raise Forbidden(
            _("Only the citizen who filed ticket %s or the hotline centre may rate it.")
            % ticket.case.reference
        )
    if rating not in Rating.values:
        raise FieldErrors.single("rating", _("Choose 满意, 基本满意 or 不满意."))
    note = " ".join((note or "").split())[:255]
    if rating == Rating.UNSATISFIED and not note:
        raise FieldErrors.single("note", _("Say what is still wrong, so the department can act on it."))
    now = now or timezone.now()
    transition = "rate_close"
    if rating == Rating.UNSATISFIED:
        # A department's reply is reopened with that department under supervision; an answer
        # the centre gave itself goes back to the dispatcher, who sends it to a department.
        held_by_centre = ticket.case.department_id == hotline_centre().pk
        transition = "rate_redispatch" if held_by_centre else "rate_reopen"
    with transaction.atomic():
        case = case_transition_system(
            case=ticket.case,
            transition=transition,
            actor=actor,
            expected_version=_version(ticket, expected_version),
            note=f"{Rating(rating).label}{'：' + note if note else ''}",
            now=now,
        )
        changes: dict[str, Any] = {"rating": rating, "rating_note": note, "rated_at": now}
        if rating == Rating.UNSATISFIED:
            changes["reopen_count"] = ticket.reopen_count + 1
            message = (
                _("Citizen unsatisfied with the reply to %s: reopened under supervision.")
                if transition == "rate_reopen"
                else _("Citizen unsatisfied with the centre's answer to %s: back to the dispatcher.")
            )
            case_notify(case=case, role=Role.SUPERVISOR, message=message % case.reference, now=now)
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
        audit_record(actor=actor, action="hotline.rate", target=case, after={"rating": rating, "note": note})
    return Ticket.objects.select_related("case").get(pk=ticket.pk)


def ticket_merge(*, ticket: Ticket, into: Ticket, actor: Any, expected_version: int | None = None) -> Ticket:
    """Merge a new ticket into an open one about the same thing at the same place: the new
    one ends as merged, the open one's timeline names it, and its reply answers both."""
    if not access_ticket_merge(actor):
        raise Forbidden(_("Only the hotline centre may merge tickets."))
    if into.pk == ticket.pk:
        raise FieldErrors.single("into", _("A ticket cannot be merged into itself."))
    if into.case.state not in states.OPEN_STATES:
        raise FieldErrors.single("into", _("Ticket %s is no longer open.") % into.case.reference)
    if into.duplicate_of_id is not None:
        raise FieldErrors.single(
            "into", _("Ticket %s was itself merged; merge into the ticket it joined.") % into.case.reference
        )
    with transaction.atomic():
        case_transition_system(
            case=ticket.case,
            transition="merge",
            actor=actor,
            expected_version=_version(ticket, expected_version),
            note=_("Merged into %s.") % into.case.reference,
        )
        Ticket.objects.filter(pk=ticket.pk).update(duplicate_of=into)
        case_log(
            case=into.case,
            actor=actor,
            kind="merged",
            note=_("Ticket %s merged into this one.") % ticket.case.reference,
            data={"ticket": ticket.pk},
        )
        audit_record(
            actor=actor, action="hotline.merge", target=ticket.case, after={"into": into.case.reference}
        )
    return Ticket.objects.select_related("case").get(pk=ticket.pk)


def ticket_get(*, pk: int) -> Ticket:
    ticket = (
        Ticket.objects.select_related("case", "division", "category", "case__department")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise NotFound(_("Not found."))
    return ticket
