"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), mounted at /open311/v2/.

Every resource answers in JSON (`.json`) or XML (`.xml`), the format being the URL suffix:
discovery, services, services/{service_code}, requests (GET lists, POST files a ticket),
requests/{service_request_id} and tokens/{token}. Services are the hotline's categories
(service_code = Category.code); a service request is a ticket, its id the ticket's reference
(RX2026-000123).

- `jurisdiction_id` is optional (one city per endpoint); when sent it must be the city's
  (YIWANG_OPEN311_JURISDICTION, or the city code YIWANG_CITY_CODE), else 404.
- POST needs `api_key`: a platform API token (core.tokens), else 403. We need an address we
  can place and a phone to call back: `address_string` and `phone` are required, and
  coordinates alone are refused (we do not geocode them). `email` is not stored.
- Open311 has no ticket kind: a request is 求助 (help) unless the optional attribute
  `attribute[kind]` names another (services/{code} lists the kinds).
- status: open while the centre or a department holds the ticket; closed once the department
  (or the centre) has replied — status_notes is the reply — and for closed, closed but not
  resolved (said so, with the supervisor's reason) and merged tickets. A ticket reopened
  after an unsatisfied rating is open again.
- It is a public interface: reports (举报) are left out (a client whose api_key may see them
  gets them), the address is shown down to the town, coordinates to three decimals (about
  100 m), and numbers quoted in the text are masked.
- Errors are Open311's: [{"code": 400, "description": "phone: …"}] or
  <errors><error><code>400</code><description>…</description></error></errors>, naming the
  field, with HTTP 400 (bad or missing input), 403 (api_key) or 404 (unknown service code,
  request, token or jurisdiction).
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from yiwang.cases.selectors import case_state_label
from yiwang.core.access import user_roles
from yiwang.core.errors import FieldErrors
from yiwang.core.masking import mask_address, mask_text
from yiwang.core.models import Role
from yiwang.core.tokens import api_token_user
from yiwang.hotline import cases as states
from yiwang.hotline import selectors, services
from yiwang.hotline.models import Channel, Ticket, TicketKind

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00+08:00"  # when this endpoint's behaviour last changed
DEFAULT_KIND = TicketKind.HELP
MAX_REQUESTS = 1000
MAX_SPAN = datetime.timedelta(days=90)
OPEN = (states.DISPATCHING, states.ASSIGNED, states.HANDLING, states.SUPERVISED)
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Our intake's field names → Open311's, so that errors name what the client sent.
FIELD_NAMES = {
    "kind": "attribute[kind]",
    "text": "description",
    "caller_phone": "phone",
    "caller_name": "first_name",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "category": "service_code",
}
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Plural XML elements and the name of each item inside them.
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


class Open311Error(Exception):
    def __init__(self, status: int, errors: list[tuple[str, str]]):
        super().__init__(errors)
        self.status = status
        self.errors = errors  # (field, message); field "" for the request as a whole


# --- rendering ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _datetime(value)
    return XML_FORBIDDEN.sub("", str(value))  # control characters XML 1.0 cannot carry


def _element(tag: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list):
        for child in value:
            element.append(_element(XML_ITEMS.get(tag, "item"), child))
    elif value is not None:
        element.text = _text(value)
    return element


def _render(data: Any, response_format: str, root: str, status: int = 200) -> HttpResponse:
    if response_format == "xml":
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(
            _element(root, data), encoding="utf-8", xml_declaration=False
        )
    else:
        body = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[response_format])


def _error_response(error: Open311Error, response_format: str) -> HttpResponse:
    errors = [
        {"code": error.status, "description": f"{field}: {message}" if field else message}
        for field, message in error.errors
    ]
    return _render(errors, response_format, "errors", status=error.status)


def _datetime(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _coordinate(value: Decimal | None) -> float | None:
    if value is None:
        return None
    return float(value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def open311_view(method: str | tuple[str, ...] = "GET"):
    """Answer the resource in the URL's format; Open311 errors (and the jurisdiction check)
    in that format too."""
    methods = (method,) if isinstance(method, str) else method

    def decorate(view):
        @csrf_exempt
        def wrapped(request: HttpRequest, *args, response_format: str, **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise Open311Error(405, [("", _("Use %s on this resource.") % " or ".join(methods))])
                _check_jurisdiction(_params(request))
                return view(request, *args, response_format=response_format, **kwargs)
            except Open311Error as error:
                return _error_response(error, response_format)

        return wrapped

    return decorate


def _params(request: HttpRequest) -> dict[str, str]:
    """Query parameters and, for a POST, the form fields (which win)."""
    params = {key: request.GET.get(key, "") for key in request.GET}
    if request.method == "POST":
        params.update({key: request.POST.get(key, "") for key in request.POST})
    return params


def jurisdictions() -> set[str]:
    return {settings.HOTLINE_OPEN311_JURISDICTION, settings.YIWANG_CITY_CODE} - {""}


def _check_jurisdiction(params: dict[str, str]) -> None:
    given = params.get("jurisdiction_id", "").strip()
    if given and given not in jurisdictions():
        raise Open311Error(
            404,
            [
                (
                    "jurisdiction_id",
                    _("“%(given)s” is not served here; this endpoint serves %(ours)s.")
                    % {"given": given, "ours": settings.HOTLINE_OPEN311_JURISDICTION},
                )
            ],
        )


# --- presenting tickets -------------------------------------------------------------------------


def _status_notes(ticket: Ticket, unresolved_notes: dict[int, str]) -> str | None:
    state = ticket.case.state
    if state == states.MERGED:
        into = ticket.duplicate_of.case.reference if ticket.duplicate_of_id else ""
        return _("Duplicate request: merged into %s, which answers both.") % into
    if state == states.CLOSED_UNRESOLVED:
        reason = unresolved_notes.get(ticket.pk, "")
        note = _("Closed but not resolved.")
        return mask_text(f"{note} {reason}".strip())
    if ticket.reply and state not in OPEN:
        return mask_text(ticket.reply)
    return case_state_label(ticket.case)


def _service_notice(kind: str) -> str:
    limit = services.kind_limit(kind)
    unit = _("working days") if limit.unit == "days" else _("working hours")
    return _("%(kind)s: answered within %(amount)s %(unit)s.") % {
        "kind": TicketKind(kind).label,
        "amount": f"{float(limit.amount):g}",
        "unit": unit,
    }


def _request_out(ticket: Ticket, unresolved_notes: dict[int, str], notices: dict[str, str]) -> dict[str, Any]:
    case = ticket.case
    return {
        "service_request_id": case.reference,
        "status": "open" if case.state in OPEN else "closed",
        "status_notes": _status_notes(ticket, unresolved_notes),
        "service_name": ticket.category.name if ticket.category else None,
        "service_code": ticket.category.code if ticket.category else "",
        "description": mask_text(ticket.text),
        "agency_responsible": case.department.name,
        "service_notice": notices[ticket.kind],
        "requested_datetime": _datetime(ticket.received_at),
        "updated_datetime": _datetime(case.closed_at or case.state_entered_at),
        "expected_datetime": _datetime(case.case_deadline),
        "address": mask_address(ticket.address),
        "address_id": None,
        "zipcode": None,
        "lat": _coordinate(ticket.latitude),
        "long": _coordinate(ticket.longitude),
        "media_url": None,
    }


def _requests_out(tickets: list[Ticket]) -> list[dict[str, Any]]:
    unresolved = selectors.tickets_transition_notes(tickets=tickets, transition="close_unresolved")
    notices = {kind: _service_notice(kind) for kind in {ticket.kind for ticket in tickets}}
    return [_request_out(ticket, unresolved, notices) for ticket in tickets]


def _viewer(params: dict[str, str]) -> Any:
    """The user behind `api_key`, when a reading client sends one (it may see more)."""
    key = params.get("api_key", "").strip()
    return api_token_user(key) if key else None


# --- resources ------------------------------------------------------------------------------------


@open311_view()
def discovery(request: HttpRequest, response_format: str) -> HttpResponse:
    data = {
        "changeset": CHANGESET,
        "contact": _("12345 government service hotline of %(city)s")
        % {"city": settings.HOTLINE_OPEN311_JURISDICTION},
        "key_service": _("API keys are platform API tokens, issued by the platform administrator."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _render(data, response_format, "discovery")


def _service_out(category: Any) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or None,
        "metadata": False,  # nothing beyond the standard fields is required
        "type": "realtime",
        "keywords": category.keywords or None,
        "group": category.group,
    }


@open311_view()
def service_list(request: HttpRequest, response_format: str) -> HttpResponse:
    data = [_service_out(category) for category in selectors.categories_offered()]
    return _render(data, response_format, "services")


def _category(code: str) -> Any:
    for category in selectors.categories_offered():
        if category.code == code:
            return category
    return None


@open311_view()
def service_definition(request: HttpRequest, service_code: str, response_format: str) -> HttpResponse:
    if _category(service_code) is None:
        raise Open311Error(404, [("service_code", _("There is no service “%s”.") % service_code)])
    kinds = [{"key": kind.value, "name": str(kind.label)} for kind in TicketKind]
    data = {
        "service_code": service_code,
        "attributes": [
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": _("Leave empty for a request for help."),
                "order": 1,
                "description": _("Kind of request"),
                "values": kinds,
            }
        ],
    }
    return _render(data, response_format, "service_definition")


@open311_view(("GET", "POST"))
def request_list(request: HttpRequest, response_format: str) -> HttpResponse:
    if request.method == "POST":
        return _request_create(request, response_format)
    params = _params(request)
    tickets = selectors.tickets_published(viewer=_viewer(params))
    ids = [part.strip() for part in params.get("service_request_id", "").split(",") if part.strip()]
    # service_request_id overrides every other filter.
    tickets = tickets.filter(case__reference__in=ids[:MAX_REQUESTS]) if ids else _filtered(tickets, params)
    rows = list(tickets.order_by("-received_at", "-case_id")[:MAX_REQUESTS])
    return _render(_requests_out(rows), response_format, "service_requests")


def _moment(params: dict[str, str], field: str, *, end: bool) -> datetime.datetime | None:
    raw = params.get(field, "").strip()
    if not raw:
        return None
    moment = parse_datetime(raw.replace(" ", "+"))  # a "+" in a query string arrives as a space
    if moment is None and parse_date(raw) is not None:
        day = parse_date(raw) + datetime.timedelta(days=1 if end else 0)
        moment = datetime.datetime.combine(day, datetime.time.min)
    if moment is None:
        raise Open311Error(
            400, [(field, _("“%s” is not a date and time (ISO 8601, e.g. 2026-11-23T09:00:00+08:00).") % raw)]
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _filtered(tickets, params: dict[str, str]):
    start = _moment(params, "start_date", end=False)
    end = _moment(params, "end_date", end=True)
    if start and end and end - start > MAX_SPAN:
        raise Open311Error(400, [("end_date", _("start_date and end_date may not span more than 90 days."))])
    if start is None and end is None:
        start = timezone.now() - MAX_SPAN
    if start is not None:
        tickets = tickets.filter(received_at__gte=start)
    if end is not None:
        tickets = tickets.filter(received_at__lte=end)
    code = params.get("service_code", "").strip()
    if code:
        tickets = tickets.filter(category__code=code)
    wanted = {part.strip() for part in params.get("status", "").split(",") if part.strip()}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, [("status", _("Use open, closed or both (comma separated)."))])
    if wanted == {"open"}:
        tickets = tickets.filter(case__state__in=OPEN)
    elif wanted == {"closed"}:
        tickets = tickets.exclude(case__state__in=OPEN)
    return tickets


@open311_view()
def request_detail(request: HttpRequest, request_id: str, response_format: str) -> HttpResponse:
    ticket = (
        selectors.tickets_published(viewer=_viewer(_params(request)))
        .filter(case__reference=request_id)
        .first()
    )
    if ticket is None:
        raise Open311Error(404, [("service_request_id", _("There is no request “%s”.") % request_id)])
    return _render(_requests_out([ticket]), response_format, "service_requests")


@open311_view()
def token_detail(request: HttpRequest, token: str, response_format: str) -> HttpResponse:
    try:
        ticket = selectors.ticket_by_token(uuid.UUID(token))
    except ValueError:  # not a UUID: an unknown token
        ticket = None
    if ticket is None:
        raise Open311Error(404, [("token", _("There is no request for token “%s”.") % token)])
    data = [{"service_request_id": ticket.case.reference, "token": str(ticket.token)}]
    return _render(data, response_format, "service_requests")


# --- filing a request ---------------------------------------------------------------------------


def _caller_name(first: str, last: str) -> str:
    """王 + 小明 → 王小明; John + Smith → John Smith."""
    first, last = first.strip(), last.strip()
    if all("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


def _request_create(request: HttpRequest, response_format: str) -> HttpResponse:
    params = _params(request)
    user = api_token_user(params.get("api_key", "").strip()) if params.get("api_key", "").strip() else None
    if user is None:
        raise Open311Error(
            403, [("api_key", _("A valid api_key (a platform API token) is required to post."))]
        )
    errors: list[tuple[str, str]] = []
    code = params.get("service_code", "").strip()
    category = _category(code) if code else None
    if not code:
        errors.append(("service_code", _("Name the service (see services.%s).") % response_format))
    elif category is None:
        errors.append(("service_code", _("There is no service “%s”.") % code))
    address = params.get("address_string", "").strip()
    if not address:
        if params.get("lat", "").strip() or params.get("long", "").strip() or params.get("address_id"):
            message = _(
                "We place requests by their address and cannot place coordinates or address ids: "
                "send address_string with the town (镇/乡/街道) too."
            )
        else:
            message = _("A location is required: send address_string with the town (镇/乡/街道).")
        errors.append(("address_string", message))
    kind = params.get("attribute[kind]", "").strip() or DEFAULT_KIND
    if kind not in TicketKind.values:
        errors.append(("attribute[kind]", _("Use one of: %s.") % ", ".join(TicketKind.values)))
    data = {
        "kind": kind,
        "text": params.get("description", ""),
        "caller_phone": params.get("phone", ""),
        "caller_name": _caller_name(params.get("first_name", ""), params.get("last_name", "")),
        "address": address,
        "latitude": params.get("lat", "").strip() or None,
        "longitude": params.get("long", "").strip() or None,
    }
    try:
        if errors:  # name every bad field at once
            services.ticket_validate(data, channel=Channel.OPEN311)
            raise Open311Error(400, errors)
        citizen = user if Role.CITIZEN in user_roles(user) else None
        ticket = services.ticket_intake_in_category(
            data=data, channel=Channel.OPEN311, category=category, actor=user, citizen=citizen
        )
    except FieldErrors as error:
        named = {field for field, _message in errors}
        found = [(FIELD_NAMES.get(str(path[0]), str(path[0])), message) for path, message in error.errors]
        raise Open311Error(400, errors + [item for item in found if item[0] not in named]) from error
    answer = [
        {
            "service_request_id": ticket.case.reference,
            "token": str(ticket.token),
            "service_notice": _service_notice(ticket.kind),
        }
    ]
    return _render(answer, response_format, "service_requests")
