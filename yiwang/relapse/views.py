"""Pages of the relapse app: the dashboard (by town and by source, inline-SVG charts), the
warnings to verify, a warning with its findings and the verification form, the monitored
households with their members, measures (缺什么帮什么), reviews and risk clearing, the report form
(phone-friendly) and the on-demand screening. Thin: services and selectors do the work.
Personal data (ID numbers, addresses) is masked unless the viewer's role needs it; unmasked
reads are audited."""

from __future__ import annotations

import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.selectors import case_timeline
from yiwang.core.access import user_roles
from yiwang.core.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Role, User
from yiwang.core.services import PersonalRecord, personal_data_present_many
from yiwang.relapse import selectors, services
from yiwang.relapse.models import MeasureKind, RiskType, ScreeningRun, Source, Warning

PURPOSE = "防止返贫监测：核实与帮扶"
BAR_WIDTH = 260


def relapse_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not selectors.access_relapse_view(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _errors(error: FieldErrors) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, message in error.errors:
        key = str(path[0]) if path else "general"
        found.setdefault(key, []).append(str(message))
    return found


def yuan(fen: int | None) -> str:
    fen = int(fen or 0)
    return f"{fen // 100:,}.{fen % 100:02d}"


def _bars(rows: list[dict], value_key: str, label_key: str = "label", limit: int = 15) -> dict:
    """A horizontal bar chart as inline SVG geometry."""
    items = [(str(row[label_key]), int(row.get(value_key) or 0)) for row in rows[:limit]]
    top = max((value for _label, value in items), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        width = round(BAR_WIDTH * value / top, 1)
        bars.append(
            {"label": label, "value": value, "y": 8 + index * 26, "width": width, "text_x": 132 + width + 6}
        )
    return {"bars": bars, "height": 16 + 26 * len(bars), "width": 132 + BAR_WIDTH + 60}


def _household_rows(viewer: Any, households: list[Any]) -> list[dict]:
    records = [
        PersonalRecord(values={"address": household.address}, object_id=household.pk)
        for household in households
    ]
    return personal_data_present_many(
        viewer=viewer, records=records, purpose=PURPOSE, object_type="registry.household"
    )


@relapse_required
def index(request):
    today = timezone.localdate()
    figures = selectors.dashboard(user=request.user, on=today)
    towns = figures.by_town
    context = {
        "figures": figures,
        "measures_yuan": yuan(figures.measures_fen),
        "source_chart": _bars(figures.by_source, "count"),
        "town_chart": _bars(towns, "warnings", label_key="name"),
        "monitored_chart": _bars(
            sorted(towns, key=lambda row: -row["monitored"]), "monitored", label_key="name"
        ),
        "measure_chart": _bars(figures.by_measure, "count"),
        "risk_chart": _bars(figures.by_risk, "count"),
        "towns": [{**row, "measures_yuan": yuan(row["measures_fen"])} for row in towns],
        "runs": ScreeningRun.objects.all()[:8],
        "may_screen": _may_screen(request.user),
        "rules": services.RULE_CODES,
        "today": today,
        "city_wide": selectors.user_towns(request.user) is None,
        "active": "index",
    }
    return render(request, "relapse/index.html", context)


def _may_screen(user: Any) -> bool:
    return selectors.access_relapse_screen(user)


@relapse_required
def screen_now(request):
    if request.method != "POST" or not _may_screen(request.user):
        raise PermissionDenied
    rule = request.POST.get("rule", "")
    try:
        on = datetime.date.fromisoformat(request.POST.get("on") or timezone.localdate().isoformat())
        run = services.screen(rule_code=rule, on=on, actor=request.user, trigger="demand")
    except ValueError:
        messages.error(request, _("Not a date (YYYY-MM-DD)."))
    except (FieldErrors, NotFound) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Screening %(rule)s as of %(on)s: %(flagged)s households flagged, %(created)s new warnings.")
            % {"rule": rule, "on": on.isoformat(), "flagged": run.flagged, "created": run.created},
        )
    return redirect("relapse:index")


@relapse_required
def warnings(request):
    state = request.GET.get("state", Warning.State.VERIFYING)
    source = request.GET.get("source", "")
    town = request.GET.get("town", "")
    queryset = selectors.warning_list(
        user=request.user,
        state=state if state in Warning.State.values else "",
        source=source if source in Source.values else "",
        town=town,
    )
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    shown = _household_rows(request.user, [warning.household for warning in page])
    rows = [
        {"warning": warning, "address": values["address"]}
        for warning, values in zip(page, shown, strict=True)
    ]
    return render(
        request,
        "relapse/warnings.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "source": source,
            "town": town,
            "states": Warning.State.choices,
            "sources": Source.choices,
            "towns": selectors.town_choices(user=request.user),
            "active": "warnings",
        },
    )


@relapse_required
def warning_detail(request, warning_id: int):
    try:
        warning = selectors.warning_for_user(warning_id=warning_id, user=request.user)
    except NotFound:
        raise Http404 from None
    errors: dict[str, list[str]] = {}
    may_act = selectors.access_relapse_act(
        request.user, warning.town_id
    ) and Role.DEPARTMENT_HANDLER in user_roles(request.user)
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            version = int(request.POST.get("expected_version", "0"))
            if action == "confirm":
                cadre = User.objects.filter(pk=request.POST.get("cadre") or 0).first()
                monitored = services.warning_confirm(
                    warning=warning,
                    actor=request.user,
                    risk_types=request.POST.getlist("risk_types"),
                    note=request.POST.get("note", ""),
                    cadre=cadre,
                    expected_version=version,
                )
                messages.success(request, _("Confirmed: the household is monitored."))
                return redirect("relapse:monitored_detail", monitored_id=monitored.pk)
            if action == "dismiss":
                services.warning_dismiss(
                    warning=warning,
                    actor=request.user,
                    reason=request.POST.get("note", ""),
                    expected_version=version,
                )
                messages.success(request, _("The warning is dismissed."))
                return redirect("relapse:warnings")
        except FieldErrors as error:
            errors = _errors(error)
        except (Conflict, Forbidden, DomainError) as error:
            messages.error(request, str(error))
            return redirect("relapse:warning_detail", warning_id=warning.pk)
    address = _household_rows(request.user, [warning.household])[0]["address"]
    return render(
        request,
        "relapse/warning.html",
        {
            "warning": warning,
            "address": address,
            "timeline": case_timeline(case=warning.case) if warning.case else [],
            "may_act": may_act and warning.state == Warning.State.VERIFYING,
            "risk_types": RiskType.choices,
            "chosen": request.POST.getlist("risk_types") if request.method == "POST" else warning.risk_types,
            "note": request.POST.get("note", ""),
            "errors": errors,
            "cadres": _cadres(warning.town_id),
            "explanation": _explanation(warning),
            "others": Warning.objects.filter(household=warning.household).exclude(pk=warning.pk)[:10],
            "active": "warnings",
        },
    )


def _explanation(warning: Warning) -> Any:
    """The screening's findings as the rules engine's explanation (what the rule found on the
    day it flagged the household, condition by condition, in words and units), or None when
    the rules engine cannot present it (the page then shows the plain table)."""
    if not warning.findings:
        return None
    try:
        from yiwang.rules.definition import definition_parse
        from yiwang.rules.explain import condition_unit, parameter_units
        from yiwang.rules.models import RuleVersion
        from yiwang.rules.services import ConditionResult, Explanation

        version = RuleVersion.objects.get(rule__code=warning.rule_code, number=warning.rule_version)
        definition = definition_parse(version.definition)
        units = parameter_units(definition.parameters())
        by_id = {condition.id: condition for condition in definition.conditions}
        conditions = [
            ConditionResult(
                id=finding["id"],
                label=finding["label"],
                basis=finding.get("basis") or {},
                value=finding["value"],
                op=finding["op"],
                compared_with=finding["compared_with"],
                passed=bool(finding["passed"]),
                unit=condition_unit(by_id[finding["id"]], units) if finding["id"] in by_id else "",
            )
            for finding in warning.findings
        ]
        return Explanation(
            subject=warning.household.number,
            eligible=True,
            amount=0,
            conditions=conditions,
            code=warning.rule_code,
            title=definition.title,
            on=warning.raised_on,
        )
    except Exception:  # noqa: BLE001 - a presentation nicety; the plain table stays
        return None


def _cadres(town_code: str) -> list[User]:
    return list(
        User.objects.filter(
            roles__role=Role.DEPARTMENT_HANDLER, roles__department__code=f"{town_code}-ZF", is_active=True
        ).distinct()
    )


@relapse_required
def monitored(request):
    active = request.GET.get("active", "1")
    queryset = selectors.monitored_list(
        user=request.user, active={"1": True, "0": False}.get(active), town=request.GET.get("town", "")
    )
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    shown = _household_rows(request.user, [item.household for item in page])
    rows = [
        {
            "monitored": item,
            "address": values["address"],
            "risks": [RiskType(risk).label for risk in item.risk_types],
        }
        for item, values in zip(page, shown, strict=True)
    ]
    return render(
        request,
        "relapse/monitored.html",
        {
            "page": page,
            "rows": rows,
            "active_filter": active,
            "towns": selectors.town_choices(user=request.user),
            "town": request.GET.get("town", ""),
            "today": timezone.localdate(),
            "active": "monitored",
        },
    )


@relapse_required
def monitored_detail(request, monitored_id: int):
    try:
        item = selectors.monitored_for_user(monitored_id=monitored_id, user=request.user)
    except NotFound:
        raise Http404 from None
    may_act = selectors.access_relapse_act(request.user, item.town_id) and item.is_active
    errors: dict[str, list[str]] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied
        action = request.POST.get("action")
        form = request.POST.dict()
        try:
            if action == "measure":
                started = request.POST.get("started_on", "")
                try:
                    started_on = datetime.date.fromisoformat(started) if started else None
                except ValueError:
                    raise FieldErrors.single("started_on", _("Not a date (YYYY-MM-DD).")) from None
                services.measure_record(
                    monitored=item,
                    actor=request.user,
                    kind=request.POST.get("kind", ""),
                    description=request.POST.get("description", ""),
                    started_on=started_on,
                    amount_fen=services.fen_from_yuan(request.POST.get("amount", "")),
                )
                messages.success(request, _("The measure is recorded."))
            elif action == "review":
                services.review_record(
                    monitored=item,
                    actor=request.user,
                    risk_remains=request.POST.get("risk_remains") == "yes",
                    note=request.POST.get("review_note", ""),
                )
                messages.success(request, _("The review is recorded."))
            elif action == "clear":
                services.risk_clear(monitored=item, actor=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("The risk is cleared: the household leaves monitoring."))
            return redirect("relapse:monitored_detail", monitored_id=item.pk)
        except FieldErrors as error:
            errors = _errors(error)
        except (Conflict, Forbidden) as error:
            messages.error(request, str(error))
            return redirect("relapse:monitored_detail", monitored_id=item.pk)
    records = [PersonalRecord(values={"address": item.household.address}, object_id=item.household.pk)]
    records += [
        PersonalRecord(
            values={"id_number": member.get("id_number", "")}, object_id=member.get("id_number", "")
        )
        for member in item.members
    ]
    shown = personal_data_present_many(
        viewer=request.user, records=records, purpose=PURPOSE, object_type="relapse.monitored"
    )
    members = [
        {**member, "id_number": values["id_number"]}
        for member, values in zip(item.members, shown[1:], strict=True)
    ]
    measures = list(item.measures.select_related("recorded_by"))
    done = {measure.kind for measure in measures}
    return render(
        request,
        "relapse/monitored_detail.html",
        {
            "item": item,
            "address": shown[0]["address"],
            "members": members,
            "risks": [RiskType(risk).label for risk in item.risk_types],
            "measures": [{"measure": measure, "yuan": yuan(measure.amount_fen)} for measure in measures],
            "total_yuan": yuan(sum(measure.amount_fen for measure in measures)),
            "suggestions": selectors.measure_suggestions(risk_types=item.risk_types, done=done),
            "basis": selectors.measure_basis(),
            "reviews": item.reviews.select_related("reviewer"),
            "warnings": Warning.objects.filter(household=item.household).order_by("raised_at"),
            "kinds": MeasureKind.choices,
            "may_act": may_act,
            "errors": errors,
            "form": form,
            "today": timezone.localdate(),
            "suggested_kind": form.get("kind") or request.GET.get("kind", ""),
            "active": "monitored",
        },
    )


@login_required
def report(request):
    if not selectors.access_relapse_report(request.user):
        raise PermissionDenied
    citizen = Role.CITIZEN in user_roles(request.user) and selectors.user_towns(request.user) == set()
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = request.POST.dict()
        form["risk_types"] = request.POST.getlist("risk_types")
        try:
            warning = services.report_submit(
                actor=request.user,
                household_number=request.POST.get("household_number", ""),
                address=request.POST.get("address", ""),
                description=request.POST.get("description", ""),
                reporter_name=request.POST.get("reporter_name", ""),
                reporter_phone=request.POST.get("reporter_phone", ""),
                risk_types=request.POST.getlist("risk_types"),
            )
        except FieldErrors as error:
            errors = _errors(error)
        except Forbidden as error:
            errors = {"general": [str(error)]}
        else:
            messages.success(
                request,
                _("Received: the town will verify within 15 working days (reference %(reference)s).")
                % {"reference": warning.case.reference if warning.case else warning.pk},
            )
            if citizen:
                return redirect(reverse("relapse:report") + "?sent=1")
            return redirect("relapse:warning_detail", warning_id=warning.pk)
    return render(
        request,
        "relapse/report.html",
        {
            "citizen": citizen,
            "errors": errors,
            "form": form,
            "risk_types": RiskType.choices,
            "sent": request.GET.get("sent") == "1",
            "active": "report",
        },
    )
