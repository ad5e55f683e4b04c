"""The benefits JSON API (mounted at /api/benefits), the same verbs as the pages: the policies,
start a run, a run's totals and list, approve or reject it (four eyes); my benefits with the
explanation, why not, decline, object; the figures. Thin: shapes in, services and selectors
do the work; errors in the platform's one shape (yiwang.api: 422 with paths, 403, 404, 409).
ID numbers in a run's list are masked."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yiwang.benefits import selectors, services
from yiwang.benefits.models import Policy
from yiwang.core.errors import Forbidden, NotFound

router = Router(tags=["benefits"])


class PolicyOut(Schema):
    id: int
    code: str
    title: str
    summary: str
    department: str
    subject_type: str
    period_kind: str
    rule_version: int | None
    may_run: bool
    default_period: str


class RunIn(Schema):
    policy: str  # the policy's code, e.g. benefits.elderly_allowance
    period: str  # 2026, 2026-11, or once
    evaluated_on: datetime.date | None = None  # one-off policies only


class DecisionIn(Schema):
    note: str = ""


class RunOut(Schema):
    id: int
    policy: str
    period: str
    evaluated_on: datetime.date
    rule_version: int
    state: str
    state_label: str
    started_by: str
    approved_by: str | None
    eligible_count: int
    total_fen: int
    paid_count: int
    paid_fen: int
    skipped_count: int


class EntitlementOut(Schema):
    id: int
    beneficiary: str  # masked for persons
    name: str
    county: str
    amount_fen: int
    status: str


class ConditionOut(Schema):
    id: str
    label: str
    basis: dict[str, str]
    value: Any
    op: str
    compared_with: Any
    passed: bool


class ExplanationOut(Schema):
    eligible: bool
    amount_fen: int
    conditions: list[ConditionOut]


class BenefitOut(Schema):
    policy: str
    title: str
    period: str
    amount_fen: int
    status: str
    origin: str
    paid_at: datetime.datetime | None
    notice: str
    declined: bool


class DeclineIn(Schema):
    policy: str
    reason: str = ""


class ObjectionIn(Schema):
    policy: str
    period: str
    text: str


class ObjectionOut(Schema):
    reference: str
    state: str
    deadline: datetime.datetime | None


def _policy(code: str) -> Policy:
    policy = Policy.objects.filter(code=code, is_active=True).first()
    if policy is None:
        raise NotFound(_("Not found."))
    return policy


def _run_out(run) -> dict:
    return {
        "id": run.pk,
        "policy": run.policy.code,
        "period": run.period,
        "evaluated_on": run.evaluated_on,
        "rule_version": run.rule_version.number,
        "state": run.state,
        "state_label": str(run.get_state_display()),
        "started_by": str(run.started_by),
        "approved_by": str(run.approved_by) if run.approved_by_id else None,
        "eligible_count": run.eligible_count,
        "total_fen": run.total_fen,
        "paid_count": run.paid_count,
        "paid_fen": run.paid_fen,
        "skipped_count": run.skipped_count,
    }


def _explanation_out(explanation) -> dict:
    return {
        "eligible": explanation.eligible,
        "amount_fen": int(explanation.amount or 0),
        "conditions": [
            {
                "id": condition.id,
                "label": condition.label,
                "basis": condition.basis,
                "value": condition.value
                if not isinstance(condition.value, datetime.date)
                else condition.value.isoformat(),
                "op": condition.op,
                "compared_with": condition.compared_with
                if not isinstance(condition.compared_with, datetime.date)
                else condition.compared_with.isoformat(),
                "passed": condition.passed,
            }
            for condition in explanation.conditions
        ],
    }


@router.get("/policies", response=list[PolicyOut])
def policies(request):
    """The active policies the caller's department runs or sees."""
    if not selectors.access_reports(request.user):
        raise Forbidden(_("Only staff see the policies' runs."))
    return [
        {
            "id": row["policy"].pk,
            "code": row["policy"].code,
            "title": row["policy"].title,
            "summary": row["policy"].summary,
            "department": row["policy"].department.code,
            "subject_type": row["policy"].subject_type,
            "period_kind": row["policy"].period_kind,
            "rule_version": row["version"],
            "may_run": row["may_run"],
            "default_period": row["default_period"],
        }
        for row in selectors.policies_visible(user=request.user)
    ]


@router.post("/runs", response={201: RunOut})
def run_start(request, payload: RunIn):
    """Start a run: find the eligible with the rule in force; the run then awaits approval."""
    run = services.run_start(
        policy=_policy(payload.policy),
        period=payload.period,
        actor=request.user,
        evaluated_on=payload.evaluated_on,
    )
    return Status(201, _run_out(run))


@router.get("/runs", response=list[RunOut])
def runs(request, state: str = ""):
    return [_run_out(run) for run in selectors.runs_visible(user=request.user, state=state)]


@router.get("/runs/{run_id}", response=RunOut)
def run(request, run_id: int):
    return _run_out(selectors.run_for_user(run_id=run_id, user=request.user))


@router.get("/runs/{run_id}/entitlements", response=list[EntitlementOut])
def run_entitlements(request, run_id: int, offset: int = 0, limit: int = 200):
    found = selectors.run_for_user(run_id=run_id, user=request.user)
    rows = selectors.run_entitlements(run=found, offset=max(0, offset), limit=min(max(1, limit), 1000))
    return [
        {
            "id": row["id"],
            "beneficiary": row["shown"],
            "name": row["name"],
            "county": row["county"],
            "amount_fen": row["amount_fen"],
            "status": row["status"],
        }
        for row in rows
    ]


@router.post("/runs/{run_id}/approve", response=RunOut)
def run_approve(request, run_id: int, payload: DecisionIn):
    """Approve (not the person who started the run) and pay."""
    found = selectors.run_for_user(run_id=run_id, user=request.user)
    return _run_out(services.run_approve(run=found, actor=request.user, note=payload.note))


@router.post("/runs/{run_id}/reject", response=RunOut)
def run_reject(request, run_id: int, payload: DecisionIn):
    found = selectors.run_for_user(run_id=run_id, user=request.user)
    return _run_out(services.run_reject(run=found, actor=request.user, note=payload.note))


@router.get("/mine", response=list[BenefitOut])
def mine(request):
    """What the caller (or the enterprise they act for) was paid or is about to be paid."""
    return [
        {
            "policy": row.policy.code,
            "title": row.policy.title,
            "period": row.period,
            "amount_fen": row.amount_fen,
            "status": row.status,
            "origin": row.origin,
            "paid_at": row.paid_at,
            "notice": row.notice,
            "declined": row.declined,
        }
        for row in selectors.my_benefits(user=request.user)
    ]


@router.get("/mine/explanation", response=ExplanationOut)
def mine_explanation(request, policy: str, period: str = ""):
    """Why did I (not) get this: each condition with the value found and whether it passed."""
    found = _policy(policy)
    subjects = selectors.my_subjects(user=request.user, policy=found)
    if not subjects:
        raise NotFound(_("Not found."))
    explanation = selectors.benefit_explanation(
        policy=found,
        beneficiary=subjects[0],
        period=period or selectors.default_period(found),
        user=request.user,
    )
    return _explanation_out(explanation)


@router.post("/mine/decline", response={201: dict})
def mine_decline(request, payload: DeclineIn):
    found = _policy(payload.policy)
    subjects = selectors.my_subjects(user=request.user, policy=found)
    if not subjects:
        raise NotFound(_("Not found."))
    services.benefit_decline(policy=found, beneficiary=subjects[0], actor=request.user, reason=payload.reason)
    return Status(201, {"policy": found.code, "declined": True})


@router.post("/mine/objections", response={201: ObjectionOut})
def mine_object(request, payload: ObjectionIn):
    found = _policy(payload.policy)
    subjects = selectors.my_subjects(user=request.user, policy=found)
    if not subjects:
        raise NotFound(_("Not found."))
    objection = services.objection_submit(
        policy=found, beneficiary=subjects[0], period=payload.period, text=payload.text, actor=request.user
    )
    return Status(
        201,
        {
            "reference": objection.case.reference,
            "state": objection.case.state,
            "deadline": objection.case.case_deadline,
        },
    )


@router.get("/reports")
def reports(request, period: str = ""):
    """Per policy: paid, amount, found by the platform, paid after an objection, objections,
    and the share paid without an application; by period and by county."""
    if not selectors.access_reports(request.user):
        raise Forbidden(_("Only staff and city leaders read these figures."))
    figures = selectors.benefit_figures(period=period)
    return {
        "period": figures["period"],
        "count": figures["count"],
        "amount_fen": figures["amount"],
        "share_without_application": figures["share"],
        "policies": [
            {
                "policy": row["policy"].code,
                "title": row["policy"].title,
                "department": row["policy"].department.code,
                "count": row["count"],
                "amount_fen": row["amount"],
                "found_by_platform": row["platform"],
                "paid_after_objection": row["objection_paid"],
                "objections": row["objections"],
                "share_without_application": row["share"],
            }
            for row in figures["policies"]
        ],
        "by_period": [
            {
                "policy": row["policy"].code,
                "period": row["period"],
                "count": row["count"],
                "amount_fen": row["amount"],
            }
            for row in figures["by_period"]
        ],
        "by_county": [
            {"county": row["code"], "name": row["name"], "count": row["count"], "amount_fen": row["amount"]}
            for row in figures["by_county"]
        ],
    }
