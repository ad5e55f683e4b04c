"""A demo case type declared as data (tests only), departments and staff to move it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from tests.web.conftest import PASSWORD, city, make_user  # noqa: F401  (fixtures)
from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition, case_type_register
from yiwang.core.models import Department, Role
from yiwang.core.services import user_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
HANDLER = Role.DEPARTMENT_HANDLER
SUPERVISOR = Role.SUPERVISOR


def at(year, month, day, hour=10, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


PERMIT = case_type_register(
    CaseType(
        code="test.permit",
        label="测试许可",
        states=(
            State("received", "已收件", limit=Limit(2, "days")),
            State("reviewing", "审查中", limit=Limit(4, "hours")),
            State("approved", "已办结", final=True),
            State("refused", "不予许可", final=True),
        ),
        initial="received",
        transitions=(
            Transition("accept", "受理", sources=("received",), target="reviewing", roles=(HANDLER,)),
            Transition("approve", "办结", sources=("reviewing",), target="approved", roles=(HANDLER,)),
            Transition(
                "refuse",
                "不予许可",
                sources=("reviewing",),
                target="refused",
                roles=(HANDLER,),
                note_required=True,
            ),
            Transition(
                "press", "督办", sources=("received", "reviewing"), target="reviewing", roles=(SUPERVISOR,)
            ),
        ),
        case_limit=Limit(5, "days"),
        escalations=(
            Escalation("late_receipt", state="received", notify_role=SUPERVISOR),
            Escalation(
                "very_late_receipt",
                state="received",
                overdue_by=Limit(1, "days"),
                notify_role=Role.CITY_LEADER,
            ),
        ),
        reference_prefix="",
    ),
    replace=True,
)


@dataclass
class Staff:
    department: Department
    handler: object
    colleague: object
    outsider: object
    supervisor: object


@pytest.fixture
def staff(city, make_user) -> Staff:  # noqa: F811
    """Handlers of the county housing bureau (the demo handler's department), a handler of
    another department (the outsider), and a supervisor."""
    outsider = user_create(
        actor=None, username="outsider", password=PASSWORD, roles=[(HANDLER, city.approval, None)]
    )
    return Staff(
        department=city.county_office,
        handler=make_user(HANDLER, username="handler"),
        colleague=make_user(HANDLER, username="colleague"),
        outsider=outsider,
        supervisor=make_user(SUPERVISOR, username="supervisor"),
    )
