"""The services JSON API (mounted at /api/services): search the catalog, read a guide, get the
form pre-filled for the caller, submit an application, list one's applications and follow one.
Thin: shapes in, services and selectors do the work.

Auth as the rest of /api: `Authorization: Bearer <token>` or the session; the catalog and the
guides are public. Errors in the platform's one shape (yiwang.api): 422 with the path of each
bad field (`values.phone`, `materials.12`), 404 for what is missing or not yours, 409 for a
move the state does not allow.

Submitting through the API sends the form's values only; a matter that asks for an upload is
applied for through the page (or the window), and the API answers 422 naming the material.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Router, Schema, Status

from yiwang.cases.selectors import case_state_label, case_timeline
from yiwang.core.masking import mask_values
from yiwang.services import selectors, services
from yiwang.services.gaps import pledges_parse
from yiwang.services.models import Application, Matter, MatterType

router = Router(tags=["services"])

MAX_LIMIT = 100


# --- shapes -------------------------------------------------------------------------------------


class MatterOut(Schema):
    code: str
    name: str
    type: int
    type_label: str
    department: str
    department_name: str
    promised_limit_days: int | None
    legal_limit_days: int | None
    visits: int


class SearchOut(Schema):
    total: int
    matters: list[MatterOut]


class MaterialOut(Schema):
    id: int
    name: str
    required: bool
    key: bool
    source: str
    resource: str
    # 容缺: may be supplied later (required, not key); 告知承诺: a pledge may replace it.
    tolerable: bool = False
    pledge_allowed: bool = False


class FieldOut(Schema):
    name: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    source: str
    editable: bool


class GuideOut(MatterOut):
    main_item: str
    applicant_kind: str
    fee_fen: int
    fee_note: str
    legal_basis: str
    conditions: str
    keywords: str
    materials: list[MaterialOut]
    fields: list[FieldOut]
    autofill_share: float


class FilledFieldOut(Schema):
    name: str
    label: str
    value: str
    prefilled: bool
    editable: bool
    source: str


class FormOut(Schema):
    matter: str
    applicant_kind: str
    fields: list[FilledFieldOut]
    prefilled: int
    total: int
    share: float
    uploads: list[MaterialOut]


class SubmitIn(Schema):
    """`submission_key`: any token of the caller's choosing; sending the same key twice makes
    one application (the second answer is the first application)."""

    matter: str
    values: dict[str, Any] = {}
    submission_key: str
    # 容缺: ids of required, non-key materials to supply later; 告知承诺: material id → pledge.
    tolerate: list[int] = []
    pledges: dict[str, str] = {}


class StepOut(Schema):
    at: datetime.datetime
    kind: str
    transition: str
    label: str
    state: str
    note: str


class ApplicationOut(Schema):
    reference: str
    matter: str
    matter_name: str
    department: str
    state: str
    state_label: str
    submitted_at: datetime.datetime
    deadline: datetime.datetime | None
    closed_at: datetime.datetime | None
    sla_status: str
    fields_prefilled: int
    fields_total: int
    rating: int | None
    instant: str = ""  # 秒批: "approved", "fallback" (a person reviews it) or "" (not rules-approvable)
    certificate_number: str = ""  # the e-certificate issued on approval (/certs/c/<number>/)


class ApplicationDetailOut(ApplicationOut):
    values: dict[str, Any]
    steps: list[StepOut]


class RateIn(Schema):
    rating: int
    reasons: str = ""


# --- helpers ------------------------------------------------------------------------------------


def _matter(matter: Matter) -> dict[str, Any]:
    return {
        "code": matter.code,
        "name": matter.name,
        "type": matter.type,
        "type_label": str(MatterType(matter.type).label),
        "department": matter.department.code,
        "department_name": matter.department.name,
        "promised_limit_days": matter.promised_limit_days,
        "legal_limit_days": matter.legal_limit_days,
        "visits": matter.visits,
    }


def _material(material) -> dict[str, Any]:
    return {
        "id": material.pk,
        "name": material.name,
        "required": material.required,
        "key": material.is_key,
        "source": material.source,
        "resource": material.resource_code,
        "tolerable": material.may_be_tolerated and not material.fetched,
        "pledge_allowed": material.pledge_allowed,
    }


def _application(application: Application) -> dict[str, Any]:
    case = application.case
    return {
        "reference": case.reference,
        "matter": application.matter.code,
        "matter_name": application.matter.name,
        "department": case.department.code if hasattr(case, "department") else "",
        "state": case.state,
        "state_label": str(case_state_label(case)),
        "submitted_at": application.submitted_at,
        "deadline": case.case_deadline,
        "closed_at": case.closed_at,
        "sla_status": case.sla_status,
        "fields_prefilled": application.fields_prefilled,
        "fields_total": application.fields_total,
        "rating": application.rating,
        "instant": application.instant,
        "certificate_number": application.certificate_number,
    }


def _detail(application: Application) -> dict[str, Any]:
    steps = [
        {
            "at": event.at,
            "kind": event.kind,
            "transition": event.transition,
            "label": event.transition_label or event.kind,
            "state": event.to_state,
            "note": event.note,
        }
        for event in case_timeline(case=application.case)
    ]
    # The caller's own data: masked in the API like everywhere outside the page they fill.
    return {**_application(application), "values": mask_values(application.values), "steps": steps}


# --- the catalog (public) -------------------------------------------------------------------------


@router.get("/matters", response=SearchOut, auth=None, summary="Search the matter catalog")
def matter_search(
    request, q: str = "", department: str = "", type: int | None = None, limit: int = 20, offset: int = 0
):
    """By name, pinyin initials ("bdcdj") or full pinyin, and keywords; best first."""
    limit = max(1, min(limit, MAX_LIMIT))
    page = selectors.matter_search(
        query=q[:100], department_code=department, type=type, limit=limit, offset=max(offset, 0)
    )
    return {"total": page.total, "matters": [_matter(matter) for matter in page.matters]}


@router.get("/matters/{code}", response=GuideOut, auth=None, summary="A matter's guide")
def matter_guide(request, code: str):
    matter = selectors.matter_get(code=code)
    fields = list(matter.form_fields.all())
    fillable, total = selectors.matter_autofill_potential(matter=matter)
    return {
        **_matter(matter),
        "main_item": matter.main_item,
        "applicant_kind": matter.applicant_kind,
        "fee_fen": matter.fee_fen,
        "fee_note": matter.fee_note,
        "legal_basis": matter.legal_basis,
        "conditions": matter.conditions,
        "keywords": matter.keywords,
        "materials": [_material(material) for material in matter.materials.all()],
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "required": f.required,
                "choices": f.choice_list(),
                "source": f"{f.resource_code}.{f.resource_field}" if f.has_source else "",
                "editable": f.editable,
            }
            for f in fields
        ],
        "autofill_share": fillable / total if total else 0.0,
    }


# --- applying -------------------------------------------------------------------------------------


@router.get("/matters/{code}/form", response=FormOut, summary="The form, pre-filled for the caller")
def matter_form(request, code: str):
    """Every field the exchange can supply for the caller (a citizen's person record, an
    enterprise agent's enterprise), read as the matter's department with the purpose recorded.
    Values are the caller's own and come back unmasked."""
    matter = selectors.matter_get(code=code)
    applicant = services.applicant_of(user=request.auth, matter=matter)
    filled = services.form_autofill(matter=matter, applicant=applicant, actor=request.auth)
    return {
        "matter": matter.code,
        "applicant_kind": applicant.kind,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "value": filled.values.get(f.name, ""),
                "prefilled": f.name in filled.values,
                "editable": f.editable or f.name not in filled.values,
                "source": filled.sources.get(f.name, ""),
            }
            for f in filled.fields
        ],
        "prefilled": filled.filled,
        "total": filled.total,
        "share": filled.share,
        "uploads": [_material(m) for m in matter.materials.all() if not m.fetched],
    }


@router.post(
    "/applications",
    response={201: ApplicationDetailOut, 200: ApplicationDetailOut},
    summary="Submit an application",
)
def application_submit(request, payload: SubmitIn):
    """201 with the new application; 200 with the first one if this submission_key was sent
    before."""
    matter = selectors.matter_get(code=payload.matter)
    before = Application.objects.filter(
        applicant=request.auth, submission_key=payload.submission_key
    ).exists()
    application = services.application_submit(
        matter=matter,
        actor=request.auth,
        values=payload.values,
        submission_key=payload.submission_key,
        tolerate=set(payload.tolerate),
        pledges=pledges_parse(payload.pledges),
    )
    return Status(200 if before else 201, _detail(application))


@router.get("/applications", response=list[ApplicationOut], summary="My applications")
def application_list(request, limit: int = 50, offset: int = 0):
    limit = max(1, min(limit, MAX_LIMIT))
    applications = selectors.applications_of(user=request.auth).select_related("case__department")
    return [_application(item) for item in applications[max(offset, 0) : max(offset, 0) + limit]]


@router.get(
    "/applications/{reference}", response=ApplicationDetailOut, summary="One application and its steps"
)
def application_status(request, reference: str):
    return _detail(selectors.application_for_applicant(reference=reference, user=request.auth))


@router.post("/applications/{reference}/rating", response=ApplicationOut, summary="Rate the service (好差评)")
def application_rating(request, reference: str, payload: RateIn):
    """5 very satisfied … 1 very dissatisfied; 2 and 1 need the reasons. Once, after the
    decision."""
    application = selectors.application_for_applicant(reference=reference, user=request.auth)
    application = services.application_rate(
        application=application, actor=request.auth, rating=payload.rating, reasons=payload.reasons
    )
    return _application(application)


@router.post("/applications/{reference}/withdraw", response=ApplicationOut, summary="Withdraw an application")
def application_withdraw(request, reference: str):
    application = selectors.application_for_applicant(reference=reference, user=request.auth)
    return _application(services.application_withdraw(application=application, actor=request.auth))


# The API of bundles (一件事), tolerated gaps and pledges, and the integrated window, each in its
# own module, under the same prefix.
def _mount() -> None:
    from yiwang.services import api_bundles, api_gaps, api_window

    for sub in (api_bundles, api_gaps, api_window):
        router.add_router("", sub.router)


_mount()
