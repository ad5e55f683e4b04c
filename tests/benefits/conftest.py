"""The city (divisions, departments), the feeds and the four policies loaded from their rule
files, the staff who run and approve, and beneficiaries with records in the feeds."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import pytest

from tests.factories import EnterpriseFactory, PersonFactory
from yiwang.benefits.feeds import feeds_publish
from yiwang.benefits.services import grants_ensure, policies_load
from yiwang.core.models import Department, Division, Role
from yiwang.core.reference import reference_load
from yiwang.core.services import user_create
from yiwang.exchange import services as exchange
from yiwang.exchange.models import Resource
from yiwang.registry.models import EnterpriseAgent

PASSWORD = "benefits-test-Pw1"
NOVEMBER = datetime.date(2026, 11, 1)


def push(code: str, rows: list[dict]) -> None:
    """Push records to a feed as its department's system would."""
    resource = Resource.objects.get(code=code)
    report = exchange.records_ingest(
        actor="system:test",
        resource=resource,
        content="\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode(),
    )
    assert report.applied and not report.errors, report.errors


def insurance_rows(
    uscc: str, *, insured: int, premium: str, separations: int = 0, year: int = 2025
) -> list[dict]:
    return [
        {
            "record_no": f"{uscc}-{year}{month:02d}",
            "uscc": uscc,
            "month": f"{year}-{month:02d}-01",
            "insured_count": insured,
            "separations": separations if month == 6 else 0,
            "premium": premium,
        }
        for month in range(1, 13)
    ]


@dataclass
class City:
    rs: Department
    mz: Department
    county: Division
    rs_handler: object
    rs_reviewer: object
    mz_handler: object
    mz_reviewer: object
    outsider: object
    leader: object
    citizen: object
    citizen_person: object
    agent: object
    enterprise: object

    def user(self, role, department=None, division=None, name=""):
        return make_user(role, department, division)


_counter = iter(range(10**6))


def make_user(role, department=None, division=None):
    return user_create(
        actor=None,
        username=f"{role}-{next(_counter)}",
        password=PASSWORD,
        display_name=str(role),
        roles=[(role, department, division)] if role else [],
    )


@pytest.fixture
def city(db) -> City:
    reference_load()
    feeds_publish()
    policies_load()
    grants_ensure(actor=make_user(Role.ADMIN))
    rs = Department.objects.get(code="RS")
    mz = Department.objects.get(code="MZ")
    village = Division.objects.filter(level=4, code__startswith="360302").order_by("code").first()
    citizen = make_user(Role.CITIZEN)
    person = PersonFactory(birth_date=datetime.date(1946, 11, 1), division=village, user=citizen)
    agent = make_user(Role.ENTERPRISE_AGENT)
    enterprise = EnterpriseFactory(division=village)
    EnterpriseAgent.objects.create(enterprise=enterprise, user=agent)
    return City(
        rs=rs,
        mz=mz,
        county=village.parent.parent,
        rs_handler=make_user(Role.DEPARTMENT_HANDLER, rs),
        rs_reviewer=make_user(Role.DEPARTMENT_HANDLER, rs),
        mz_handler=make_user(Role.DEPARTMENT_HANDLER, mz),
        mz_reviewer=make_user(Role.SUPERVISOR, mz),
        outsider=make_user(Role.DEPARTMENT_HANDLER, Department.objects.get(code="JY")),
        leader=make_user(Role.CITY_LEADER, None, Division.objects.get(code="3603")),
        citizen=citizen,
        citizen_person=person,
        agent=agent,
        enterprise=enterprise,
    )


def elderly(count: int, *, born: datetime.date = datetime.date(1940, 1, 1)) -> list:
    """`count` residents aged over 80 in November 2026."""
    return [PersonFactory(birth_date=born - datetime.timedelta(days=index)) for index in range(count)]
