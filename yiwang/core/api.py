"""Core API: who am I, divisions, departments, the working-day calendar."""

from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from yiwang.core import calendar
from yiwang.core.errors import FieldErrors
from yiwang.core.models import Department, Division

router = Router(tags=["core"])
MAX_SPAN_DAYS = 3660


class RoleOut(Schema):
    role: str
    department: str | None
    division: str | None


class MeOut(Schema):
    username: str
    display_name: str
    roles: list[RoleOut]


@router.get("/me", response=MeOut)
def me(request):
    user = request.auth
    roles = [
        RoleOut(role=r.role, department=r.department.name if r.department else None, division=r.division_id)
        for r in user.roles.select_related("department")
    ]
    if user.is_superuser and not any(r.role == "admin" for r in roles):
        roles.append(RoleOut(role="admin", department=None, division=None))
    return MeOut(username=user.username, display_name=user.display_name or user.username, roles=roles)


class DivisionOut(Schema):
    code: str
    name: str
    level: int
    parent: str | None
    is_urban: bool
    is_synthetic: bool

    @staticmethod
    def resolve_parent(obj):
        return obj.parent_id


@router.get("/divisions", response=list[DivisionOut], auth=None)
def division_list(request, parent: str | None = None, level: int | None = None):
    """Divisions under `parent` (the city's counties when neither is given)."""
    queryset = Division.objects.all()
    if parent:
        queryset = queryset.filter(parent_id=parent)
    elif level:
        queryset = queryset.filter(level=level)
    else:
        queryset = queryset.filter(level__lte=2)
    return queryset.order_by("code")


@router.get("/divisions/{code}", response=DivisionOut, auth=None)
def division_get(request, code: str):
    return get_object_or_404(Division, code=code)


class DepartmentOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    division: str
    parent: str | None

    @staticmethod
    def resolve_division(obj):
        return obj.division_id

    @staticmethod
    def resolve_parent(obj):
        return obj.parent.code if obj.parent_id else None


@router.get("/departments", response=list[DepartmentOut], auth=None)
def department_list(request, division: str | None = None):
    queryset = Department.objects.filter(is_active=True).select_related("parent")
    if division:
        queryset = queryset.filter(division_id=division)
    return queryset.order_by("code")


class WorkingDaysAddOut(Schema):
    start: datetime.date
    days: int
    result: datetime.date
    covered_by_notices: bool


@router.get("/calendar/add", response=WorkingDaysAddOut, auth=None)
def working_days_add(request, start: datetime.date, days: int):
    """The date `days` working days after `start` (State Council notices + overrides)."""
    if abs(days) > MAX_SPAN_DAYS:
        raise FieldErrors([(("query", "days"), f"at most {MAX_SPAN_DAYS} working days")])
    result = calendar.add_working_days(start, days)
    return WorkingDaysAddOut(
        start=start,
        days=days,
        result=result,
        covered_by_notices=not calendar.uncovered_years(sorted({start.year, result.year})),
    )


class WorkingDaysBetweenOut(Schema):
    start: datetime.date
    end: datetime.date
    working_days: int


@router.get("/calendar/between", response=WorkingDaysBetweenOut, auth=None)
def working_days_between(request, start: datetime.date, end: datetime.date):
    """Working days in (start, end]."""
    if abs((end - start).days) > MAX_SPAN_DAYS * 2:
        raise FieldErrors([(("query", "end"), f"at most {MAX_SPAN_DAYS * 2} days after start")])
    return WorkingDaysBetweenOut(start=start, end=end, working_days=calendar.working_days_between(start, end))
