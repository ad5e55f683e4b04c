"""The relapse JSON API (mounted at /api/relapse): the same verbs as the pages — warnings and
their verification (confirm / dismiss with `expected_version`, 409 when someone else moved
the case first), reports, monitored households with measures, reviews and risk clearing,
screenings on demand, and the dashboard figures. Thin: services and selectors do the work.
Addresses and ID numbers are masked unless the caller's role needs them; unmasked reads are
audited. Errors in the platform's one shape (yiwang.api): 422 with the path of each field."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yiwang.core.errors import FieldErrors, Forbidden
from yiwang.core.models import User
from yiwang.core.services import PersonalRecord, personal_data_present_many
from yiwang.relapse import selectors, services
from yiwang.relapse.models import MonitoredHousehold, Warning

router = Router(tags=["relapse"])
PURPOSE = "防止返贫监测：核实与帮扶（API）"
MAX_PAGE_SIZE = 200


def _must_see(user: Any) -> None:
    if not selectors.access_relapse_view(user):
        raise Forbidden(
            _("Relapse monitoring is for the town cadres, the rural revitalisation bureau and city leaders.")
        )


def _addresses(viewer: Any, households: list) -> list[str]:
    records = [PersonalRecord(values={"address": h.address}, object_id=h.pk) for h in households]
    shown = personal_data_present_many(
        viewer=viewer, records=records, purpose=PURPOSE, object_type="registry.household"
    )
    return [row["address"] for row in shown]


def _warning_out(warning: Warning, address: str) -> dict[str, Any]:
    case = warning.case
    return {
        "id": warning.pk,
        "reference": case.reference if case else "",
        "household": warning.household.number,
        "address": address,
        "town": warning.town_id,
        "town_name": warning.town.name,
        "source": warning.source,
        "source_label": str(warning.get_source_display()),
        "period": warning.period,
        "raised_on": warning.raised_on,
        "state": warning.state,
        "state_label": str(warning.get_state_display()),
        "version": case.version if case else 0,
        "deadline": case.state_deadline if case else None,
        "sla_status": case.sla_status if case else "",
        "rule": warning.rule_code,
        "rule_version": warning.rule_version,
        "findings": warning.findings,
        "risk_types": warning.risk_types,
        "description": warning.description,
        "decision_reason": warning.decision_reason,
    }


def _monitored_out(item: MonitoredHousehold, viewer: Any, *, detail: bool = False) -> dict[str, Any]:
    records = [PersonalRecord(values={"address": item.household.address}, object_id=item.household.pk)]
    if detail:
        records += [
            PersonalRecord(values={"id_number": m.get("id_number", "")}, object_id=m.get("id_number", ""))
            for m in item.members
        ]
    shown = personal_data_present_many(
        viewer=viewer, records=records, purpose=PURPOSE, object_type="relapse.monitored"
    )
    out: dict[str, Any] = {
        "id": item.pk,
        "household": item.household.number,
        "address": shown[0]["address"],
        "town": item.town_id,
        "risk_types": item.risk_types,
        "member_count": item.member_count,
        "cadre": item.cadre.username if item.cadre else None,
        "confirmed_on": item.confirmed_on,
        "next_review_on": item.next_review_on,
        "cleared_on": item.cleared_on,
        "cleared_reason": item.cleared_reason,
    }
    if detail:
        out["members"] = [
            {**m, "id_number": s["id_number"]} for m, s in zip(item.members, shown[1:], strict=True)
        ]
        done = set()
        out["measures"] = []
        for measure in item.measures.all():
            done.add(measure.kind)
            out["measures"].append(
                {
                    "id": measure.pk,
                    "kind": measure.kind,
                    "description": measure.description,
                    "started_on": measure.started_on,
                    "amount_fen": measure.amount_fen,
                }
            )
        out["reviews"] = [
            {"reviewed_on": r.reviewed_on, "risk_remains": r.risk_remains, "note": r.note}
            for r in item.reviews.all()
        ]
        out["suggestions"] = selectors.measure_suggestions(risk_types=item.risk_types, done=done)
    return out


class ConfirmIn(Schema):
    expected_version: int
    risk_types: list[str]
    note: str = ""
    cadre: str = ""  # username of the one-to-one cadre; the caller when empty


class DismissIn(Schema):
    expected_version: int
    note: str = ""


class ReportIn(Schema):
    description: str = ""
    household_number: str = ""
    address: str = ""
    risk_types: list[str] = []
    reporter_name: str = ""
    reporter_phone: str = ""


class MeasureIn(Schema):
    kind: str
    description: str = ""
    started_on: datetime.date | None = None
    amount_fen: int = 0


class ReviewIn(Schema):
    risk_remains: bool
    note: str = ""
    reviewed_on: datetime.date | None = None


class ClearIn(Schema):
    reason: str = ""


class ScreenIn(Schema):
    rule: str
    on: datetime.date | None = None


@router.get("/dashboard")
def dashboard(request):
    """The figures for the caller's towns: warnings by source and state, monitored households
    and people, measures, by town."""
    _must_see(request.auth)
    figures = selectors.dashboard(user=request.auth, on=timezone.localdate())
    return figures.__dict__


@router.get("/warnings")
def warning_list(
    request, state: str = "", source: str = "", town: str = "", page: int = 1, page_size: int = 50
):
    _must_see(request.auth)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    queryset = selectors.warning_list(user=request.auth, state=state, source=source, town=town)
    rows = list(queryset[(max(page, 1) - 1) * page_size : max(page, 1) * page_size])
    addresses = _addresses(request.auth, [warning.household for warning in rows])
    return {
        "count": queryset.count(),
        "page": page,
        "results": [_warning_out(w, a) for w, a in zip(rows, addresses, strict=True)],
    }


@router.get("/warnings/{warning_id}")
def warning_get(request, warning_id: int):
    _must_see(request.auth)
    warning = selectors.warning_for_user(warning_id=warning_id, user=request.auth)
    return _warning_out(warning, _addresses(request.auth, [warning.household])[0])


@router.post("/warnings/{warning_id}/confirm")
def warning_confirm(request, warning_id: int, data: ConfirmIn):
    """Confirm the risk: the household is monitored with these risk types."""
    _must_see(request.auth)
    warning = selectors.warning_for_user(warning_id=warning_id, user=request.auth)
    cadre = None
    if data.cadre:
        cadre = User.objects.filter(username=data.cadre).first()
        if cadre is None:
            raise FieldErrors.single("cadre", _("No such user."))
    monitored = services.warning_confirm(
        warning=warning,
        actor=request.auth,
        risk_types=data.risk_types,
        note=data.note,
        cadre=cadre,
        expected_version=data.expected_version,
    )
    return _monitored_out(monitored, request.auth, detail=True)


@router.post("/warnings/{warning_id}/dismiss")
def warning_dismiss(request, warning_id: int, data: DismissIn):
    _must_see(request.auth)
    warning = selectors.warning_for_user(warning_id=warning_id, user=request.auth)
    warning = services.warning_dismiss(
        warning=warning, actor=request.auth, reason=data.note, expected_version=data.expected_version
    )
    return _warning_out(warning, _addresses(request.auth, [warning.household])[0])


@router.post("/reports", response={201: dict})
def report_submit(request, data: ReportIn):
    """A village cadre's report or, for a citizen, their own household's application."""
    warning = services.report_submit(actor=request.auth, **data.dict())
    return Status(
        201,
        {
            "id": warning.pk,
            "reference": warning.case.reference if warning.case else "",
            "state": warning.state,
        },
    )


@router.get("/monitored")
def monitored_list(request, active: bool = True, town: str = "", page: int = 1, page_size: int = 50):
    _must_see(request.auth)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    queryset = selectors.monitored_list(user=request.auth, active=active, town=town)
    rows = list(queryset[(max(page, 1) - 1) * page_size : max(page, 1) * page_size])
    return {
        "count": queryset.count(),
        "page": page,
        "results": [_monitored_out(item, request.auth) for item in rows],
    }


@router.get("/monitored/{monitored_id}")
def monitored_get(request, monitored_id: int):
    _must_see(request.auth)
    item = selectors.monitored_for_user(monitored_id=monitored_id, user=request.auth)
    return _monitored_out(item, request.auth, detail=True)


@router.post("/monitored/{monitored_id}/measures", response={201: dict})
def measure_record(request, monitored_id: int, data: MeasureIn):
    _must_see(request.auth)
    item = selectors.monitored_for_user(monitored_id=monitored_id, user=request.auth)
    measure = services.measure_record(
        monitored=item,
        actor=request.auth,
        kind=data.kind,
        description=data.description,
        started_on=data.started_on,
        amount_fen=data.amount_fen,
    )
    return Status(201, {"id": measure.pk, "kind": measure.kind, "amount_fen": measure.amount_fen})


@router.post("/monitored/{monitored_id}/reviews", response={201: dict})
def review_record(request, monitored_id: int, data: ReviewIn):
    _must_see(request.auth)
    item = selectors.monitored_for_user(monitored_id=monitored_id, user=request.auth)
    review = services.review_record(
        monitored=item,
        actor=request.auth,
        risk_remains=data.risk_remains,
        note=data.note,
        reviewed_on=data.reviewed_on,
    )
    return Status(201, {"id": review.pk, "next_review_on": item.next_review_on})


@router.post("/monitored/{monitored_id}/clear")
def risk_clear(request, monitored_id: int, data: ClearIn):
    _must_see(request.auth)
    item = selectors.monitored_for_user(monitored_id=monitored_id, user=request.auth)
    item = services.risk_clear(monitored=item, actor=request.auth, reason=data.reason)
    return _monitored_out(item, request.auth)


@router.post("/screenings")
def screening_run(request, data: ScreenIn):
    """Run a screening rule now (the 乡村振兴局's handlers, admins)."""
    if not selectors.access_relapse_screen(request.auth):
        raise Forbidden(_("Only the rural revitalisation bureau runs screenings on demand."))
    run = services.screen(rule_code=data.rule, on=data.on or timezone.localdate(), actor=request.auth)
    return {
        "id": run.pk,
        "rule": run.rule_code,
        "version": run.rule_version,
        "on": run.on,
        "flagged": run.flagged,
        "created": run.created,
    }
