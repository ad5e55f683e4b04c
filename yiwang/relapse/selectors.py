"""What the relapse pages ask: who may see which town's warnings, the lists, and the figures
of the dashboard (by town and by source). Reads only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.db.models import Count, Q, QuerySet, Sum

from yiwang.core.access import user_roles
from yiwang.core.models import Department, DepartmentKind, Division, Role
from yiwang.relapse.models import (
    Measure,
    MeasureKind,
    MonitoredHousehold,
    RiskType,
    Source,
    Warning,
)

RURAL_REVITALISATION = "XCZX"  # 乡村振兴局: follows every town
CITY_WIDE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CITY_LEADER})
RULES_DIR = Path(__file__).resolve().parent / "rules"


# --- who sees what ----------------------------------------------------------------------------


def _handler_departments(user: Any) -> list[Department]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_relapse_departments", None)
    if cached is None:
        cached = list(
            Department.objects.filter(
                role_assignments__user=user, role_assignments__role=Role.DEPARTMENT_HANDLER
            ).distinct()
        )
        user._relapse_departments = cached
    return cached


def user_is_city_wide(user: Any) -> bool:
    """The 乡村振兴局's handlers, supervisors, city leaders and admins follow every town."""
    if user_roles(user) & CITY_WIDE_ROLES:
        return True
    return any(department.code == RURAL_REVITALISATION for department in _handler_departments(user))


def user_towns(user: Any) -> set[str] | None:
    """The towns whose warnings the user works on: None for everywhere, else the towns whose
    government the user is a department handler of (a town cadre); empty: none."""
    if user_is_city_wide(user):
        return None
    return {
        department.division_id
        for department in _handler_departments(user)
        if department.kind == DepartmentKind.TOWN_OFFICE
    }


def access_relapse_view(user: Any) -> bool:
    towns = user_towns(user)
    return towns is None or bool(towns)


def access_relapse_town(user: Any, town_code: str) -> bool:
    """May the user see (and, as a handler, work on) this town's warnings and households?"""
    towns = user_towns(user)
    return towns is None or town_code in towns


def access_relapse_act(user: Any, town_code: str) -> bool:
    """Recording measures, reviews, reports: the town's cadres, the 乡村振兴局's handlers, admins."""
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if Role.DEPARTMENT_HANDLER not in roles:
        return False
    for department in _handler_departments(user):
        if department.code == RURAL_REVITALISATION:
            return True
        if department.kind == DepartmentKind.TOWN_OFFICE and department.division_id == town_code:
            return True
    return False


def access_relapse_report(user: Any) -> bool:
    """Village cadres (town handlers) and the 乡村振兴局 file reports for any household they
    follow; a citizen applies for their own household."""
    return bool(user_towns(user) is None or user_towns(user)) or Role.CITIZEN in user_roles(user)


def access_relapse_screen(user: Any) -> bool:
    """Screenings on demand: the 乡村振兴局's handlers and admins."""
    roles = user_roles(user)
    return Role.ADMIN in roles or (
        Role.DEPARTMENT_HANDLER in roles
        and any(department.code == RURAL_REVITALISATION for department in _handler_departments(user))
    )


def _scoped(queryset: QuerySet, user: Any, field: str = "town") -> QuerySet:
    towns = user_towns(user)
    if towns is None:
        return queryset
    return queryset.filter(**{f"{field}_id__in": towns})


# --- lists ------------------------------------------------------------------------------------


def warning_list(*, user: Any, state: str = "", source: str = "", town: str = "") -> QuerySet[Warning]:
    queryset = _scoped(Warning.objects.select_related("household", "town", "case"), user)
    if state:
        queryset = queryset.filter(state=state)
    if source:
        queryset = queryset.filter(source=source)
    if town:
        queryset = queryset.filter(town_id=town)
    return queryset


def warning_for_user(*, warning_id: int, user: Any) -> Warning:
    from yiwang.core.errors import NotFound

    warning = Warning.objects.select_related("household", "town", "case").filter(pk=warning_id).first()
    if warning is None or not access_relapse_town(user, warning.town_id):
        raise NotFound("Not found.")
    return warning


def monitored_list(*, user: Any, active: bool | None = True, town: str = "") -> QuerySet[MonitoredHousehold]:
    queryset = _scoped(MonitoredHousehold.objects.select_related("household", "town", "cadre"), user)
    if active is True:
        queryset = queryset.filter(cleared_on__isnull=True)
    elif active is False:
        queryset = queryset.filter(cleared_on__isnull=False)
    if town:
        queryset = queryset.filter(town_id=town)
    return queryset


def monitored_for_user(*, monitored_id: int, user: Any) -> MonitoredHousehold:
    from yiwang.core.errors import NotFound

    monitored = (
        MonitoredHousehold.objects.select_related("household", "town", "cadre")
        .filter(pk=monitored_id)
        .first()
    )
    if monitored is None or not access_relapse_town(user, monitored.town_id):
        raise NotFound("Not found.")
    return monitored


def reviews_due(*, user: Any, on: datetime.date) -> QuerySet[MonitoredHousehold]:
    return monitored_list(user=user).filter(next_review_on__lte=on)


# --- 缺什么帮什么 ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _measure_rules() -> dict:
    return yaml.safe_load((RULES_DIR / "measures.yaml").read_text(encoding="utf-8"))


def measure_suggestions(*, risk_types: list[str], done: set[str] | None = None) -> list[dict[str, str]]:
    """The measures the rules suggest for these risk types (in order, without repeats), each
    with the risk type it answers and whether one was already recorded."""
    rules = _measure_rules()
    done = done or set()
    seen: set[str] = set()
    suggestions = []
    for risk in risk_types:
        for kind in rules["suggestions"].get(risk, []):
            if kind in seen:
                continue
            seen.add(kind)
            suggestions.append(
                {
                    "kind": kind,
                    "label": str(MeasureKind(kind).label),
                    "risk_type": risk,
                    "risk_label": str(RiskType(risk).label),
                    "done": kind in done,
                }
            )
    return suggestions


def measure_basis() -> dict[str, str]:
    return dict(_measure_rules()["basis"])


# --- the dashboard ----------------------------------------------------------------------------


@dataclass
class Dashboard:
    warnings: int
    verifying: int
    overdue: int
    confirmed: int
    dismissed: int
    monitored: int
    people: int
    cleared: int
    measures: int
    measures_fen: int
    reviews_due: int
    by_source: list[dict]
    by_town: list[dict]
    by_measure: list[dict]
    by_risk: list[dict]


def dashboard(*, user: Any, on: datetime.date) -> Dashboard:
    """The figures for the user's towns (everywhere for the city-wide roles)."""
    warnings = _scoped(Warning.objects.all(), user)
    monitored = _scoped(MonitoredHousehold.objects.all(), user)
    active = monitored.filter(cleared_on__isnull=True)
    measures = _scoped(Measure.objects.all(), user, field="monitored__town")
    states = dict(warnings.values_list("state").annotate(n=Count("id")))
    overdue = warnings.filter(state=Warning.State.VERIFYING, case__sla_status="red").count()
    sources = dict(warnings.values_list("source").annotate(n=Count("id")))
    by_source = [
        {"key": key, "label": str(label), "count": sources.get(key, 0)} for key, label in Source.choices
    ]
    town_names = dict(Division.objects.filter(level=3).values_list("code", "name"))
    per_town: dict[str, dict] = {}
    for town, state, count in warnings.values_list("town", "state").annotate(n=Count("id")):
        row = per_town.setdefault(town, {"town": town, "name": town_names.get(town, town)})
        row[f"warnings_{state}"] = count
        row["warnings"] = row.get("warnings", 0) + count
    for town, count, people in active.values_list("town").annotate(n=Count("id"), p=Sum("member_count")):
        row = per_town.setdefault(town, {"town": town, "name": town_names.get(town, town)})
        row["monitored"], row["people"] = count, people or 0
    for town, count, amount in measures.values_list("monitored__town").annotate(
        n=Count("id"), f=Sum("amount_fen")
    ):
        row = per_town.setdefault(town, {"town": town, "name": town_names.get(town, town)})
        row["measures"], row["measures_fen"] = count, amount or 0
    by_town = sorted(per_town.values(), key=lambda row: (-row.get("warnings", 0), row["name"]))
    for row in by_town:
        for key in (
            "warnings",
            "warnings_verifying",
            "warnings_confirmed",
            "warnings_dismissed",
            "monitored",
        ):
            row.setdefault(key, 0)
        row.setdefault("people", 0)
        row.setdefault("measures", 0)
        row.setdefault("measures_fen", 0)
    kinds = {
        kind: (count, amount or 0)
        for kind, count, amount in measures.values_list("kind").annotate(n=Count("id"), f=Sum("amount_fen"))
    }
    by_measure = [
        {
            "key": key,
            "label": str(label),
            "count": kinds.get(key, (0, 0))[0],
            "fen": kinds.get(key, (0, 0))[1],
        }
        for key, label in MeasureKind.choices
    ]
    risks: dict[str, int] = {}
    for types in active.values_list("risk_types", flat=True):
        for risk in types or []:
            risks[risk] = risks.get(risk, 0) + 1
    by_risk = [
        {"key": key, "label": str(label), "count": risks.get(key, 0)} for key, label in RiskType.choices
    ]
    totals = measures.aggregate(n=Count("id"), f=Sum("amount_fen"))
    return Dashboard(
        warnings=sum(states.values()),
        verifying=states.get(Warning.State.VERIFYING, 0),
        overdue=overdue,
        confirmed=states.get(Warning.State.CONFIRMED, 0),
        dismissed=states.get(Warning.State.DISMISSED, 0),
        monitored=active.count(),
        people=active.aggregate(p=Sum("member_count"))["p"] or 0,
        cleared=monitored.filter(cleared_on__isnull=False).count(),
        measures=totals["n"] or 0,
        measures_fen=totals["f"] or 0,
        reviews_due=active.filter(next_review_on__lte=on).count(),
        by_source=by_source,
        by_town=by_town,
        by_measure=by_measure,
        by_risk=by_risk,
    )


def town_choices(*, user: Any) -> list[Division]:
    towns = user_towns(user)
    queryset = Division.objects.filter(level=3)
    if towns is not None:
        queryset = queryset.filter(code__in=towns)
    return list(queryset.filter(Q(code__in=Warning.objects.values("town")) | Q(code__in=towns or [])))
