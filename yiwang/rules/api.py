"""The rules JSON API (mounted at /api/rules): the same verbs as the workbench pages — list the
rules, get one with its versions, save a draft (the definition as JSON or as YAML text), run a
what-if, approve, publish, explain one subject, list parameters and add a dated value. For
data stewards (write drafts, set parameters), supervisors and city leaders (approve, publish);
others are refused (403). Subjects are masked in what-if lists and explanations.

Auth as the rest of /api; errors in the platform's one shape (yiwang.api): a definition's
problems come back as 422 with each path, e.g. body.definition.conditions.0.value.sum."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yiwang.core.errors import FieldErrors, Forbidden
from yiwang.rules import services
from yiwang.rules.definition import definition_parse
from yiwang.rules.explain import (
    OPERATOR_SYMBOLS,
    basis_format,
    explanation_display,
    subject_format,
    value_describe,
)
from yiwang.rules.models import Parameter, Rule, RuleKind, RuleVersion

router = Router(tags=["rules"])


# --- shapes -------------------------------------------------------------------------------------


class ValueOut(Schema):
    value: int
    valid_from: datetime.date
    valid_to: datetime.date | None


class ParameterOut(Schema):
    code: str
    label: str
    unit: str
    basis_document: str
    basis_article: str
    values: list[ValueOut]


class ConditionOut(Schema):
    id: str
    label: str
    value: str  # the expression as written, compactly
    op: str
    than: str
    basis: str


class VersionBrief(Schema):
    number: int
    status: str
    status_label: str
    note: str
    author: str
    approved_by: str | None
    created_at: datetime.datetime
    approved_at: datetime.datetime | None
    published_at: datetime.datetime | None


class VersionOut(VersionBrief):
    rule: str
    definition: dict
    conditions: list[ConditionOut]
    parameters: list[str]


class RuleOut(Schema):
    code: str
    title: str
    kind: str
    kind_label: str
    in_force: int | None
    versions: list[VersionBrief]
    parameters: list[ParameterOut]


class DraftIn(Schema):
    """The definition as a JSON object, or as YAML text in `yaml` (one of the two)."""

    definition: dict | None = None
    yaml: str = ""
    kind: str = RuleKind.ELIGIBILITY
    note: str = ""


class WhatIfIn(Schema):
    on: datetime.date | None = None  # default today
    parameters: dict[str, int] = {}  # overrides of dated values, proposed side only


class SideOut(Schema):
    version: int | None
    status: str
    parameters: dict[str, int]
    count: int
    amount: int  # fen


class SubjectAmount(Schema):
    subject: str  # masked when an ID number
    amount: int  # fen


class WhatIfOut(Schema):
    code: str
    title: str
    on: datetime.date
    current: SideOut | None
    proposed: SideOut
    gained: int
    lost: int
    amount_changed: int
    count_difference: int
    amount_difference: int
    gained_first: list[SubjectAmount]
    lost_first: list[SubjectAmount]


class ExplainIn(Schema):
    subject: str
    on: datetime.date | None = None
    version: int | None = None  # default: the version in force, else the newest


class ExplainRow(Schema):
    id: str
    label: str
    value: Any
    compared_with: Any
    unit: str
    passed: bool
    found: str  # the value in words
    comparison: str  # "≥ 15,000.00 元"
    verdict: str
    basis: str


class ExplainOut(Schema):
    code: str
    title: str
    version: int
    on: datetime.date
    subject: str
    eligible: bool
    amount: int
    verdict: str
    summary: str
    conditions: list[ExplainRow]


class ValueIn(Schema):
    value: int
    valid_from: datetime.date
    valid_to: datetime.date | None = None


# --- helpers ------------------------------------------------------------------------------------------


def _workbench(request) -> Any:
    if not services.access_rules_workbench(request.auth):
        raise Forbidden(_("Only data stewards, supervisors and city leaders use the rules workbench."))
    return request.auth


def _name(user) -> str | None:
    if user is None:
        return None
    return user.display_name or user.get_username()


def _brief(version: RuleVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "status_label": str(version.get_status_display()),
        "note": version.note,
        "author": _name(version.author),
        "approved_by": _name(version.approved_by),
        "created_at": version.created_at,
        "approved_at": version.approved_at,
        "published_at": version.published_at,
    }


def _parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "code": parameter.code,
        "label": parameter.label,
        "unit": parameter.unit,
        "basis_document": parameter.basis_document,
        "basis_article": parameter.basis_article,
        "values": [
            {"value": value.value, "valid_from": value.valid_from, "valid_to": value.valid_to}
            for value in parameter.values.all()
        ],
    }


def _version(version: RuleVersion) -> dict[str, Any]:
    parsed = definition_parse(version.definition)
    return {
        **_brief(version),
        "rule": version.rule.code,
        "definition": version.definition,
        "conditions": [
            {
                "id": condition.id,
                "label": condition.label,
                "value": value_describe(condition.value),
                "op": OPERATOR_SYMBOLS.get(condition.op, condition.op),
                "than": value_describe(condition.than),
                "basis": basis_format(condition.basis),
            }
            for condition in parsed.conditions
        ],
        "parameters": sorted(parsed.parameters()),
    }


def _rule(rule: Rule) -> dict[str, Any]:
    versions = sorted(rule.versions.all(), key=lambda version: -version.number)
    for version in versions:
        version.rule = rule
    shown = rule.in_force or (versions[0] if versions else None)
    codes: set[str] = set()
    if shown is not None:
        try:
            codes = definition_parse(shown.definition).parameters()
        except FieldErrors:
            codes = set()
    return {
        "code": rule.code,
        "title": rule.title,
        "kind": rule.kind,
        "kind_label": str(rule.get_kind_display()),
        "in_force": rule.in_force.number if rule.in_force else None,
        "versions": [_brief(version) for version in versions],
        "parameters": [_parameter(parameter) for parameter in services.parameter_list(codes=codes)],
    }


def _side(side: services.WhatIfSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "version": side.version,
        "status": side.status,
        "parameters": side.parameters,
        "count": side.count,
        "amount": side.amount,
    }


def _masked(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"subject": subject_format(item["subject"]), "amount": item["amount"]} for item in items]


# --- rules and versions ------------------------------------------------------------------------------


@router.get("/", response=list[RuleOut], summary="The rules, with their versions and parameters")
def rules_list(request):
    _workbench(request)
    return [_rule(rule) for rule in services.rule_list()]


@router.get("/parameters", response=list[ParameterOut], summary="Every parameter with its dated values")
def parameters_list(request):
    _workbench(request)
    return [_parameter(parameter) for parameter in services.parameter_list()]


@router.post(
    "/parameters/{code}/values",
    response={201: ParameterOut},
    summary="Add a dated value (data stewards); overlapping dates are refused",
)
def parameter_value_add(request, code: str, payload: ValueIn):
    user = _workbench(request)
    parameter = services.parameter_get(code=code)
    services.parameter_value_add(
        parameter=parameter,
        value=payload.value,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        actor=user,
    )
    return Status(201, _parameter(services.parameter_get(code=code)))


@router.post("/drafts", response={201: VersionOut}, summary="Save a draft: the next version of its rule")
def draft_save(request, payload: DraftIn):
    user = _workbench(request)
    if payload.definition is not None and payload.yaml.strip():
        raise FieldErrors.single("yaml", _("Send the definition either as JSON or as YAML, not both."))
    definition = payload.definition
    if definition is None:
        definition = services.definition_from_yaml(payload.yaml)
    version = services.rule_version_save(
        definition=definition, actor=user, kind=payload.kind, note=payload.note
    )
    return Status(201, _version(services.rule_version_get(code=version.rule.code, number=version.number)))


@router.get("/{code}", response=RuleOut, summary="One rule: its versions and parameters")
def rule_get(request, code: str):
    _workbench(request)
    found = services.rule_get(code=code)
    rule = Rule.objects.prefetch_related("versions__author", "versions__approved_by").get(pk=found.pk)
    rule.in_force = found.in_force
    return _rule(rule)


@router.get("/{code}/versions/{number}", response=VersionOut, summary="One version with its conditions")
def version_get(request, code: str, number: int):
    _workbench(request)
    return _version(services.rule_version_get(code=code, number=number))


@router.post(
    "/{code}/versions/{number}/whatif", response=WhatIfOut, summary="Dry-run against the version in force"
)
def version_whatif(request, code: str, number: int, payload: WhatIfIn):
    user = _workbench(request)
    version = services.rule_version_get(code=code, number=number)
    result = services.rule_whatif(
        version=version, on=payload.on or timezone.localdate(), actor=user, parameters=payload.parameters
    )
    return {
        "code": result.code,
        "title": result.title,
        "on": result.on,
        "current": _side(result.current),
        "proposed": _side(result.proposed),
        "gained": result.gained,
        "lost": result.lost,
        "amount_changed": result.amount_changed,
        "count_difference": result.count_difference,
        "amount_difference": result.amount_difference,
        "gained_first": _masked(result.gained_first),
        "lost_first": _masked(result.lost_first),
    }


@router.post(
    "/{code}/versions/{number}/approve", response=VersionOut, summary="Approve a draft (not its author)"
)
def version_approve(request, code: str, number: int):
    user = _workbench(request)
    version = services.rule_version_approve(
        version=services.rule_version_get(code=code, number=number), actor=user
    )
    return _version(services.rule_version_get(code=code, number=version.number))


@router.post(
    "/{code}/versions/{number}/publish", response=VersionOut, summary="Put an approved version in force"
)
def version_publish(request, code: str, number: int):
    user = _workbench(request)
    version = services.rule_version_publish(
        version=services.rule_version_get(code=code, number=number), actor=user
    )
    return _version(services.rule_version_get(code=code, number=version.number))


@router.post("/{code}/explain", response=ExplainOut, summary="Explain the rule for one subject")
def rule_explain(request, code: str, payload: ExplainIn):
    user = _workbench(request)
    rule = services.rule_get(code=code)
    if payload.version is not None:
        version = services.rule_version_get(code=code, number=payload.version)
    else:
        version = rule.in_force or rule.versions.order_by("-number").first()
    on = payload.on or timezone.localdate()
    explanation = services.rule_try(version=version, subject=payload.subject, on=on, actor=user)
    shown = explanation_display(explanation)
    return {
        "code": rule.code,
        "title": rule.title,
        "version": version.number,
        "on": on,
        "subject": shown.subject,
        "eligible": shown.eligible,
        "amount": shown.amount,
        "verdict": shown.verdict,
        "summary": shown.summary,
        "conditions": [
            {
                "id": result.id,
                "label": result.label,
                "value": result.value,
                "compared_with": result.compared_with,
                "unit": result.unit,
                "passed": result.passed,
                "found": row.found,
                "comparison": row.comparison,
                "verdict": row.verdict,
                "basis": row.basis,
            }
            for result, row in zip(explanation.conditions, shown.rows, strict=True)
        ],
    }
