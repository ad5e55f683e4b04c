"""Pages of the rules workbench (mounted at /rules/), for data stewards who write rules and set
parameters, and for supervisors and city leaders who approve and publish them: the list of
rules, one rule with its versions, conditions and parameters, a draft written as YAML, the
what-if of a draft, approval and publication, and "try it on one subject". Thin: the services
decide, and their FieldErrors are shown by path."""

from __future__ import annotations

import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.rules import services
from yiwang.rules.definition import definition_parse
from yiwang.rules.explain import (
    OPERATOR_SYMBOLS,
    basis_format,
    explanation_display,
    subject_format,
    value_describe,
    value_format,
)
from yiwang.rules.models import RuleKind, RuleVersion, VersionStatus

SUBJECT_LABELS = {
    "person": gettext_lazy("ID number"),
    "household": gettext_lazy("Household number"),
    "enterprise": gettext_lazy("Unified social credit code"),
    "property": gettext_lazy("Property unit number"),
}


def workbench_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not services.access_rules_workbench(request.user):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    return wrapper


def _errors(error: DomainError) -> list[str]:
    """Each problem as "path: message" (the path as the definition names it)."""
    if isinstance(error, FieldErrors):
        return [
            f"{'.'.join(str(part) for part in path)}: {message}" if path else message
            for path, message in error.errors
        ]
    return [error.message]


def _today() -> datetime.date:
    return timezone.localdate()


def _date(text: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat((text or "").strip()) if text else default
    except ValueError:
        raise FieldErrors.single("on", _("Not a date (YYYY-MM-DD).")) from None


def _parameter_units(codes) -> dict[str, str]:
    return {parameter.code: parameter.unit for parameter in services.parameter_list(codes=codes)}


def _conditions(version: RuleVersion) -> list[dict[str, Any]]:
    """The conditions of a version as the workbench shows them."""
    try:
        parsed = definition_parse(version.definition)
    except FieldErrors:
        return []
    return [
        {
            "id": condition.id,
            "label": condition.label,
            "value": value_describe(condition.value),
            "op": OPERATOR_SYMBOLS.get(condition.op, condition.op),
            "than": value_describe(condition.than),
            "basis": basis_format(condition.basis),
        }
        for condition in parsed.conditions
    ]


def _parameters_of(version: RuleVersion | None, on: datetime.date) -> list[dict[str, Any]]:
    if version is None:
        return []
    try:
        codes = definition_parse(version.definition).parameters()
    except FieldErrors:
        return []
    shown = []
    for parameter in services.parameter_list(codes=codes):
        values = list(parameter.values.all())
        current = next(
            (
                value
                for value in values
                if value.valid_from <= on and (value.valid_to is None or value.valid_to >= on)
            ),
            None,
        )
        shown.append(
            {
                "parameter": parameter,
                "current": value_format(current.value, parameter.unit) if current else None,
                "values": [
                    {"row": value, "text": value_format(value.value, parameter.unit)} for value in values
                ],
            }
        )
    return shown


def _subject_type(version: RuleVersion) -> str:
    from yiwang.exchange.models import Resource

    try:
        parsed = definition_parse(version.definition)
    except FieldErrors:
        return ""
    resource = parsed.sources[parsed.subject].resource
    return Resource.objects.filter(code=resource).values_list("subject_type", flat=True).first() or ""


# --- the list ---------------------------------------------------------------------------------


@workbench_required
def index(request):
    rules = services.rule_list()
    today = _today()
    rows = []
    for rule in rules:
        latest = rule.versions.all()[0] if rule.versions.all() else None
        shown = rule.in_force or latest
        rows.append(
            {
                "rule": rule,
                "in_force": rule.in_force,
                "latest": latest,
                "parameters": _parameters_of(shown, today),
            }
        )
    waiting = (
        RuleVersion.objects.select_related("rule", "author")
        .filter(status__in=[VersionStatus.DRAFT, VersionStatus.APPROVED])
        .order_by("rule__code", "number")
    )
    return render(
        request,
        "rules/index.html",
        {
            "rows": rows,
            "waiting": waiting,
            "may_author": services.access_rules_author(request.user),
        },
    )


# --- one rule and one version ---------------------------------------------------------------------


@workbench_required
def rule_detail(request, code: str):
    rule = services.rule_get(code=code)
    versions = list(rule.versions.select_related("author", "approved_by").order_by("-number"))
    shown = rule.in_force or (versions[0] if versions else None)
    return render(
        request,
        "rules/rule.html",
        {
            "rule": rule,
            "versions": versions,
            "shown": shown,
            "conditions": _conditions(shown) if shown else [],
            "amount": value_describe(shown.definition.get("amount"))
            if shown and shown.definition.get("amount")
            else "",
            "parameters": _parameters_of(shown, _today()),
            "may_author": services.access_rules_author(request.user),
        },
    )


@workbench_required
def version_detail(request, code: str, number: int):
    version = services.rule_version_get(code=code, number=number)
    return render(
        request,
        "rules/version.html",
        {
            "version": version,
            "rule": version.rule,
            "conditions": _conditions(version),
            "amount": value_describe(version.definition.get("amount"))
            if version.definition.get("amount")
            else "",
            "parameters": _parameters_of(version, _today()),
            "yaml": services.definition_to_yaml(version.definition),
            "may_author": services.access_rules_author(request.user),
            "may_approve": version.status == VersionStatus.DRAFT
            and services.access_rules_approve(request.user, version),
            "may_publish": version.status == VersionStatus.APPROVED
            and services.access_rules_publish(request.user),
            "author_only": version.status == VersionStatus.DRAFT and version.author_id == request.user.pk,
        },
    )


@workbench_required
def draft(request):
    """Write a new draft: the definition as YAML. A new rule, or the next version of one
    (?from=<code>&version=<n> fills the text in with that version)."""
    if not services.access_rules_author(request.user):
        raise PermissionDenied
    errors: list[str] = []
    text, kind, note = "", RuleKind.ELIGIBILITY, ""
    if request.method == "POST":
        text = request.POST.get("definition", "")
        kind = request.POST.get("kind", RuleKind.ELIGIBILITY)
        note = request.POST.get("note", "").strip()[:255]
        try:
            definition = services.definition_from_yaml(text)
            version = services.rule_version_save(
                definition=definition, actor=request.user, kind=kind, note=note
            )
        except DomainError as error:
            errors = _errors(error)
        else:
            messages.success(
                request,
                _("Saved as version %(number)s of %(code)s (draft).")
                % {"number": version.number, "code": version.rule.code},
            )
            return redirect("rules:version", code=version.rule.code, number=version.number)
    elif request.GET.get("from"):
        try:
            rule = services.rule_get(code=request.GET["from"])
            number = request.GET.get("version")
            source = (
                services.rule_version_get(code=rule.code, number=int(number))
                if number and number.isdigit()
                else rule.in_force or rule.versions.order_by("-number").first()
            )
        except NotFound:
            raise Http404 from None
        text, kind = services.definition_to_yaml(source.definition), rule.kind
    return render(
        request,
        "rules/draft.html",
        {"text": text, "kind": kind, "kinds": RuleKind.choices, "note": note, "errors": errors},
        status=422 if errors else 200,
    )


@require_POST
@workbench_required
def version_approve(request, code: str, number: int):
    version = services.rule_version_get(code=code, number=number)
    try:
        services.rule_version_approve(version=version, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Version %(number)s approved.") % {"number": number})
    return redirect("rules:version", code=code, number=number)


@require_POST
@workbench_required
def version_publish(request, code: str, number: int):
    version = services.rule_version_get(code=code, number=number)
    try:
        services.rule_version_publish(version=version, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Version %(number)s published; it is now in force.") % {"number": number})
    return redirect("rules:version", code=code, number=number)


# --- what-if ---------------------------------------------------------------------------------------


@workbench_required
def whatif(request, code: str, number: int):
    """The form (day, parameter overrides) and, once run, the comparison with the version in
    force."""
    version = services.rule_version_get(code=code, number=number)
    today = _today()
    parameters = _parameters_of(version, today)
    result, errors = None, []
    on_text = request.POST.get("on") or today.isoformat()
    overrides_text = {
        item["parameter"].code: request.POST.get(f"param:{item['parameter'].code}", "") for item in parameters
    }
    if request.method == "POST":
        try:
            on = _date(on_text, today)
            overrides = {}
            for parameter_code, raw in overrides_text.items():
                raw = raw.strip().replace(",", "")
                if not raw:
                    continue
                if not raw.lstrip("-").isdigit():
                    raise FieldErrors.single(
                        f"parameters.{parameter_code}",
                        _("A parameter value is a whole number (money in fen)."),
                    )
                overrides[parameter_code] = int(raw)
            result = services.rule_whatif(version=version, on=on, actor=request.user, parameters=overrides)
        except DomainError as error:
            errors = _errors(error)
    units = {item["parameter"].code: item["parameter"].unit for item in parameters}
    return render(
        request,
        "rules/whatif.html",
        {
            "version": version,
            "rule": version.rule,
            "parameters": [
                {**item, "override": overrides_text.get(item["parameter"].code, "")} for item in parameters
            ],
            "on": on_text,
            "errors": errors,
            "result": result,
            "shown": _whatif_shown(result, units) if result else None,
        },
        status=422 if errors else 200,
    )


def _whatif_shown(result: services.WhatIf, units: dict[str, str]) -> dict[str, Any]:
    from yiwang.rules.explain import money_format

    def side(item: services.WhatIfSide | None) -> dict[str, Any] | None:
        if item is None:
            return None
        return {
            "version": item.version,
            "count": item.count,
            "amount": money_format(item.amount),
            "parameters": [
                {"code": code, "value": value_format(value, units.get(code, ""))}
                for code, value in sorted(item.parameters.items())
            ],
        }

    def subjects(items: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [
            {"subject": subject_format(item["subject"]), "amount": money_format(item["amount"])}
            for item in items
        ]

    return {
        "current": side(result.current),
        "proposed": side(result.proposed),
        "count_difference": result.count_difference,
        "amount_difference": money_format(result.amount_difference),
        "gained": subjects(result.gained_first),
        "lost": subjects(result.lost_first),
    }


# --- try it on one subject ---------------------------------------------------------------------------


@workbench_required
def try_subject(request, code: str):
    rule = services.rule_get(code=code)
    versions = list(rule.versions.order_by("-number"))
    default = rule.in_force or (versions[0] if versions else None)
    if default is None:
        raise Http404
    chosen = default
    explanation, errors = None, []
    subject = request.POST.get("subject", "").strip()
    on_text = request.POST.get("on") or _today().isoformat()
    if request.method == "POST":
        number = request.POST.get("version", "")
        chosen = next((v for v in versions if str(v.number) == number), default)
        try:
            explanation = explanation_display(
                services.rule_try(
                    version=chosen, subject=subject, on=_date(on_text, _today()), actor=request.user
                )
            )
        except DomainError as error:
            errors = _errors(error)
    subject_type = _subject_type(chosen)
    return render(
        request,
        "rules/try.html",
        {
            "rule": rule,
            "versions": versions,
            "chosen": chosen,
            "subject": subject,
            "subject_label": SUBJECT_LABELS.get(subject_type, _("Subject")),
            "on": on_text,
            "errors": errors,
            "explanation": explanation,
        },
        status=422 if errors else 200,
    )


# --- parameters ---------------------------------------------------------------------------------------


@workbench_required
def parameter_detail(request, code: str):
    parameter = services.parameter_get(code=code)
    errors: list[str] = []
    form = {"value": "", "valid_from": "", "valid_to": ""}
    if request.method == "POST":
        if not services.access_rules_author(request.user):
            raise PermissionDenied
        form = {name: request.POST.get(name, "").strip() for name in form}
        try:
            collector = []
            raw = form["value"].replace(",", "")
            if not raw.lstrip("-").isdigit():
                collector.append((("value",), _("A parameter value is a whole number (money in fen).")))
            starts = ends = None
            try:
                starts = datetime.date.fromisoformat(form["valid_from"])
            except ValueError:
                collector.append((("valid_from",), _("Not a date (YYYY-MM-DD).")))
            if form["valid_to"]:
                try:
                    ends = datetime.date.fromisoformat(form["valid_to"])
                except ValueError:
                    collector.append((("valid_to",), _("Not a date (YYYY-MM-DD).")))
            if collector:
                raise FieldErrors(collector)
            services.parameter_value_add(
                parameter=parameter, value=int(raw), valid_from=starts, valid_to=ends, actor=request.user
            )
        except DomainError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("Value added."))
            return redirect("rules:parameter", code=parameter.code)
    values = [
        {"row": value, "text": value_format(value.value, parameter.unit)} for value in parameter.values.all()
    ]
    used_by = [
        version.rule
        for version in RuleVersion.objects.select_related("rule").filter(status=VersionStatus.PUBLISHED)
        if parameter.code in _codes(version)
    ]
    return render(
        request,
        "rules/parameter.html",
        {
            "parameter": parameter,
            "values": values,
            "form": form,
            "errors": errors,
            "used_by": used_by,
            "may_author": services.access_rules_author(request.user),
            "basis": basis_format({"document": parameter.basis_document, "article": parameter.basis_article}),
        },
        status=422 if errors else 200,
    )


def _codes(version: RuleVersion) -> set[str]:
    try:
        return definition_parse(version.definition).parameters()
    except FieldErrors:
        return set()
