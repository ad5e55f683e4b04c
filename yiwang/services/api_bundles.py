"""The services API for bundles (一件事), mounted under /api/services by api.py: the bundles
with their steps and dependencies (public), the combined form pre-filled for the caller, submit
(201; 200 with the first one when the same submission_key comes again), the caller's bundle
applications and the status of one (every step), withdraw while no step is under review.
Errors in the platform's one shape: 422 naming the field (`values.phone`), 404, 409."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Router, Schema, Status

from yiwang.services import bundles
from yiwang.services.models import Bundle, BundleApplication

router = Router(tags=["services"])

MAX_LIMIT = 100


class BundleStepOut(Schema):
    code: str
    name: str
    matter: str
    matter_name: str
    department: str
    department_name: str
    depends_on: list[str]
    limit_days: int | None
    certificate_type: str


class BundleOut(Schema):
    code: str
    name: str
    description: str
    legal_basis: str
    applicant_kind: str
    limit_days: int
    steps: list[BundleStepOut]


class BundleFieldOut(Schema):
    name: str
    label: str
    value: str
    prefilled: bool
    editable: bool
    required: bool
    source: str
    steps: list[str]


class BundleMaterialOut(Schema):
    id: int
    step: str
    name: str
    required: bool
    source: str
    resource: str


class BundleFormOut(Schema):
    bundle: str
    applicant_kind: str
    fields: list[BundleFieldOut]
    prefilled: int
    total: int
    share: float
    keys: list[str]
    uploads: list[BundleMaterialOut]
    fetched: list[BundleMaterialOut]


class BundleSubmitIn(Schema):
    """`submission_key`: any token of the caller's choosing; the same key twice makes one
    bundle application."""

    bundle: str
    values: dict[str, Any] = {}
    submission_key: str


class StepStatusOut(Schema):
    code: str
    name: str
    department: str
    department_name: str
    state: str
    label: str
    reference: str
    case_state: str
    deadline: datetime.datetime | None
    closed_at: datetime.datetime | None
    sla_status: str
    waits_for: list[str]
    blocked_by: str
    reason: str
    certificate_number: str


class CertificateOut(Schema):
    step: str
    type: str
    type_name: str
    number: str


class BundleApplicationOut(Schema):
    reference: str
    bundle: str
    bundle_name: str
    state: str
    state_label: str
    submitted_at: datetime.datetime
    deadline: datetime.datetime | None
    closed_at: datetime.datetime | None
    sla_status: str


class BundleStatusOut(BundleApplicationOut):
    note: str
    steps: list[StepStatusOut]
    certificates: list[CertificateOut]
    withdrawable: bool


def _bundle(bundle: Bundle) -> dict[str, Any]:
    steps = bundles.bundle_steps(bundle)
    return {
        "code": bundle.code,
        "name": bundle.name,
        "description": bundle.description,
        "legal_basis": bundle.legal_basis,
        "applicant_kind": bundle.applicant_kind,
        "limit_days": bundles.bundle_limit_days(bundle, steps),
        "steps": [
            {
                "code": step.code,
                "name": step.name,
                "matter": step.matter.code,
                "matter_name": step.matter.name,
                "department": step.matter.department.code,
                "department_name": step.matter.department.name,
                "depends_on": step.depends_on,
                "limit_days": step.matter.time_limit_days,
                "certificate_type": step.matter.certificate_type,
            }
            for step in steps
        ],
    }


def _summary(item: BundleApplication) -> dict[str, Any]:
    case = item.case
    return {
        "reference": case.reference,
        "bundle": item.bundle.code,
        "bundle_name": item.bundle.name,
        "state": case.state,
        "state_label": bundles.case_state_label(case),
        "submitted_at": item.submitted_at,
        "deadline": case.case_deadline,
        "closed_at": case.closed_at,
        "sla_status": case.sla_status,
    }


def _status(item: BundleApplication) -> dict[str, Any]:
    statuses = bundles.bundle_steps_status(bundle_application=item)
    result = bundles.bundle_result(bundle_application=item, statuses=statuses)
    return {
        **_summary(item),
        "note": result.note,
        "certificates": result.certificates,
        "withdrawable": bundles.bundle_is_withdrawable(bundle_application=item),
        "steps": [
            {
                "code": status.step.code,
                "name": status.step.name,
                "department": status.step.matter.department.code,
                "department_name": status.step.matter.department.name,
                "state": status.state,
                "label": str(status.label),
                "reference": status.case.reference if status.case else "",
                "case_state": status.case.state if status.case else "",
                "deadline": status.deadline,
                "closed_at": status.case.closed_at if status.case else None,
                "sla_status": status.sla_status,
                "waits_for": [step.code for step in status.waits_for],
                "blocked_by": status.blocked_by.code if status.blocked_by else "",
                "reason": status.reason,
                "certificate_number": status.certificate_number,
            }
            for status in statuses
        ],
    }


@router.get("/bundles", response=list[BundleOut], auth=None, summary="Bundled services (一件事)")
def bundle_list(request):
    """Every active bundle with its steps in DAG order and what each depends on."""
    return [_bundle(bundle) for bundle in bundles.bundles_active()]


@router.get("/bundles/{code}", response=BundleOut, auth=None, summary="One bundled service")
def bundle_detail(request, code: str):
    return _bundle(bundles.bundle_get(code=code))


@router.get("/bundles/{code}/form", response=BundleFormOut, summary="The bundle's one form, pre-filled")
def bundle_form(request, code: str):
    """The union of the steps' fields, each once, filled from shared data for the caller.
    `keys` names the fields the applicant types that others are read by: give them as query
    parameters (`?unit_number=…`) and the fields they lead to come back filled."""
    bundle = bundles.bundle_get(code=code)
    applicant = bundles.bundle_applicant(bundle=bundle, user=request.auth)
    given = {name: value for name, value in request.GET.items() if value}
    form = bundles.bundle_form(bundle=bundle, applicant=applicant, actor=request.auth, given=given)
    steps_of = {material.pk: step.code for step in form.steps for material in step.matter.materials.all()}

    def material(item) -> dict[str, Any]:
        return {
            "id": item.pk,
            "step": steps_of.get(item.pk, ""),
            "name": item.name,
            "required": item.required,
            "source": item.source,
            "resource": item.resource_code,
        }

    return {
        "bundle": bundle.code,
        "applicant_kind": applicant.kind,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "value": bundles.bundle_value_shown(form=form, name=f.name, applicant=applicant),
                "prefilled": f.name in form.values,
                "editable": f.editable or f.name not in form.values,
                "required": f.required,
                "source": form.sources.get(f.name, ""),
                "steps": form.asked_by.get(f.name, []),
            }
            for f in form.fields
        ],
        "prefilled": form.filled,
        "total": form.total,
        "share": form.share,
        "keys": form.keys,
        "uploads": [material(item) for item in form.uploads()],
        "fetched": [
            material(item) | {"step": step.code}
            for step in form.steps
            for item in step.matter.materials.all()
            if item.fetched
        ],
    }


@router.post(
    "/bundle-applications",
    response={201: BundleStatusOut, 200: BundleStatusOut},
    summary="Submit a bundled service",
)
def bundle_submit(request, payload: BundleSubmitIn):
    """201 with the new bundle application (its first steps already started); 200 with the
    first one if this submission_key was sent before."""
    bundle = bundles.bundle_get(code=payload.bundle)
    before = BundleApplication.objects.filter(
        applicant=request.auth, submission_key=payload.submission_key
    ).exists()
    item = bundles.bundle_submit(
        bundle=bundle, actor=request.auth, values=payload.values, submission_key=payload.submission_key
    )
    return Status(200 if before else 201, _status(item))


@router.get("/bundle-applications", response=list[BundleApplicationOut], summary="My bundled services")
def bundle_application_list(request, limit: int = 50, offset: int = 0):
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(offset, 0)
    return [
        _summary(item) for item in bundles.bundle_applications_of(user=request.auth)[offset : offset + limit]
    ]


@router.get(
    "/bundle-applications/{reference}", response=BundleStatusOut, summary="One bundled service and its steps"
)
def bundle_application_status(request, reference: str):
    return _status(bundles.bundle_application_for_applicant(reference=reference, user=request.auth))


@router.post(
    "/bundle-applications/{reference}/withdraw",
    response=BundleStatusOut,
    summary="Withdraw a bundled service (while no step is under review)",
)
def bundle_application_withdraw(request, reference: str):
    item = bundles.bundle_application_for_applicant(reference=reference, user=request.auth)
    return _status(bundles.bundle_withdraw(bundle_application=item, actor=request.auth))
