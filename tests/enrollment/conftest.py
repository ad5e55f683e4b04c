"""A small town for enrollment, built with the real reference data and factories:

    town T (under 安源区): villages V1, V2 (communities), V3 (no school covers it)
    schools of the 2027 season: P1 (public primary, 学区 V1), P2 (public primary, 学区 V2),
    PR (private primary, no 学区), J1 (public junior, 学区 V1 and V2), PC (public primary,
    closed this season)

    family 1 (the parent is a citizen user): 户籍 V1, owns the flat it lives in, in V1 → class 1 at P1
    family 2: 户籍 V2, owns a flat in V1 (another address) → class 2 at P1
    family 3: 户籍 in another county, residence permit in V2, 14 months of social insurance
              → class 3 at P2
    family 4: 户籍 V2, no property → class 4 at P2
    family 5: 户籍 V3 (no catchment), no property → class 5, no catchment school
Each family has a child who is 6 on 31 August 2027.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.factories import (
    HouseholdFactory,
    HouseholdMemberFactory,
    PersonFactory,
    PropertyFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
)
from yiwang.core.models import Department, Division, Role
from yiwang.core.reference import reference_load
from yiwang.enrollment import services
from yiwang.enrollment.feeds import PERMITS, SOCIAL_INSURANCE
from yiwang.enrollment.models import School
from yiwang.enrollment.setup import enrollment_setup
from yiwang.exchange.selectors import exchange_cache_clear, resource_get
from yiwang.exchange.services import records_ingest
from yiwang.registry.models import Relation

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "yiwang-test-password"
OPEN_DAY = datetime.datetime(2027, 5, 10, 10, 0, tzinfo=SHANGHAI)  # registration is open
CHILD_BORN = datetime.date(2021, 3, 15)  # 6 on 31 August 2027


def at(year, month, day, hour=10) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


@dataclass
class Family:
    parent: object
    child: object
    household: object
    user: object = None
    properties: list = field(default_factory=list)


@dataclass
class Town:
    season: object
    schools: dict
    villages: dict
    families: dict
    bureau: object  # department handler of 教育局
    supervisor: object
    cdo: object
    outsider: object  # a handler of another department
    leader: object


def family_make(
    village,
    *,
    user=None,
    own_in=None,
    same_address=True,
    registered_on=datetime.date(2018, 6, 1),
    born=CHILD_BORN,
) -> Family:
    parent = PersonFactory(division=village, birth_date=datetime.date(1990, 4, 2), user=user)
    household = HouseholdFactory(division=village, head=parent, address=f"{village.name}幸福路{parent.pk}号")
    child = HouseholdMemberFactory(
        household=household,
        relation=Relation.SON,
        person=PersonFactory(division=village, birth_date=born),
    ).person
    properties = []
    if own_in is not None:
        address = household.address if same_address else f"{own_in.name}和平路{parent.pk}号"
        properties.append(
            PropertyFactory(division=own_in, owners=[parent], address=address, registered_on=registered_on)
        )
    return Family(parent=parent, child=child, household=household, user=user, properties=properties)


def _push(code: str, rows: list[dict]) -> None:
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    report = records_ingest(actor="system:test", resource=resource_get(code=code), content=content)
    assert report.applied and not report.errors, report.as_dict()


@pytest.fixture
def town(db) -> Town:
    reference_load()
    exchange_cache_clear()
    county = Division.objects.get(code="360302")
    t = TownFactory(parent=county, name="测试学区镇")
    villages = {
        name: VillageFactory(parent=t, is_urban=True, name=f"测试{name}社区") for name in ("V1", "V2", "V3")
    }
    elsewhere = VillageFactory(parent=TownFactory(parent=Division.objects.get(code="360313")), name="外县村")
    jy = Department.objects.get(code="JY")
    cdo = UserFactory(role=Role.DATA_STEWARD, role__department=Department.objects.get(code="ZS"))
    bureau = UserFactory(role=Role.DEPARTMENT_HANDLER, role__department=jy)
    supervisor = UserFactory(role=Role.SUPERVISOR, role__department=jy)
    outsider = UserFactory(role=Role.DEPARTMENT_HANDLER, role__department=Department.objects.get(code="ZJ"))
    leader = UserFactory(role=Role.CITY_LEADER)
    enrollment_setup(decider=cdo)
    season = services.season_configure(
        actor=bureau,
        year=2027,
        title="2027年秋季义务教育招生",
        registration_opens=datetime.date(2027, 5, 1),
        registration_closes=datetime.date(2027, 5, 31),
        allocation_on=datetime.date(2027, 6, 15),
        results_on=datetime.date(2027, 6, 30),
        lottery_seed="2027-pingxiang-公开种子",
    )
    spec = [
        ("P1", "测试第一小学", "primary", "public", 114.00, 27.60, 1, ["V1"]),
        ("P2", "测试第二小学", "primary", "public", 114.02, 27.60, 3, ["V2"]),
        ("PR", "测试民办小学", "primary", "private", 114.01, 27.61, 1, []),
        ("J1", "测试初级中学", "junior", "public", 114.01, 27.60, 5, ["V1", "V2"]),
        ("PC", "测试关停小学", "primary", "public", 114.03, 27.62, 3, []),
    ]
    schools = {}
    for code, name, level, kind, longitude, latitude, seats, catchment in spec:
        schools[code] = services.school_save(
            actor=bureau,
            season=season,
            code=code,
            name=name,
            level=level,
            kind=kind,
            town_code=t.code,
            longitude=longitude,
            latitude=latitude,
            seats=seats,
            is_open=code != "PC",
        )
        if catchment:
            services.catchment_set(
                actor=bureau, school=schools[code], division_codes=[villages[v].code for v in catchment]
            )
    services.localities_set(
        actor=bureau,
        places={
            villages["V1"].code: (114.0, 27.601),
            villages["V2"].code: (114.021, 27.6),
            villages["V3"].code: (114.03, 27.62),
        },
    )
    citizen = UserFactory(role=Role.CITIZEN)
    families = {
        1: family_make(villages["V1"], user=citizen, own_in=villages["V1"]),
        2: family_make(
            villages["V2"], user=UserFactory(role=Role.CITIZEN), own_in=villages["V1"], same_address=False
        ),
        3: family_make(elsewhere, user=UserFactory(role=Role.CITIZEN)),
        4: family_make(villages["V2"], user=UserFactory(role=Role.CITIZEN)),
        5: family_make(villages["V3"], user=UserFactory(role=Role.CITIZEN)),
    }
    migrant = families[3].parent
    _push(
        PERMITS,
        [
            {
                "permit_number": "JZZ0001",
                "id_number": migrant.id_number,
                "division_code": villages["V2"].code,
                "address": f"{villages['V2'].name}打工路1号",
                "issued_on": "2024-03-01",
                "valid_until": "2028-02-29",
                "status": "有效",
            }
        ],
    )
    _push(
        SOCIAL_INSURANCE,
        [
            {
                "payment_no": f"TSB{month:04d}",
                "id_number": migrant.id_number,
                "month": f"{2025 + (month + 4) // 12}-{(month + 4) % 12 + 1:02d}",
                "insurance_type": "企业职工基本养老保险",
                "employer_uscc": "",
                "base": "4000.00",
                "amount": "320.00",
            }
            for month in range(1, 15)  # 2025-06 … 2026-07: 14 months within the 24 before May 2027
        ],
    )
    return Town(
        season=season,
        schools=schools,
        villages=villages,
        families=families,
        bureau=bureau,
        supervisor=supervisor,
        cdo=cdo,
        outsider=outsider,
        leader=leader,
    )


def register(town: Town, number: int, *, now=OPEN_DAY):
    family = town.families[number]
    return services.registration_submit(
        season=town.season, child_id_number=family.child.id_number, actor=family.user, now=now
    )


def school(town: Town, code: str) -> School:
    return town.schools[code]


__all__ = ["Decimal", "at", "family_make", "register", "school", "PASSWORD"]
