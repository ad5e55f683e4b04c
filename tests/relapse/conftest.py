"""The real city (divisions, departments), the exchange resources the screening rules read,
the relapse rules loaded, the grants the 乡村振兴局 needs, and the people on the loop: a town
cadre, a cadre of another town, a 乡村振兴局 handler, a city leader and a citizen."""

from __future__ import annotations

import datetime
import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest

from yiwang.core.ids import resident_id_build
from yiwang.core.models import Department, Division, DivisionLevel, Role
from yiwang.core.places import places_reset
from yiwang.core.reference import reference_load
from yiwang.core.services import user_create
from yiwang.exchange import seed as exchange_seed
from yiwang.exchange import services as exchange_services
from yiwang.exchange.models import Resource
from yiwang.registry.models import Household
from yiwang.registry.services import household_create
from yiwang.relapse.services import relapse_grants_ensure, relapse_rules_load

PASSWORD = "relapse-test-Pw1"
NEEDED = {
    "ga.persons",
    "ga.households",
    "ga.household_members",
    "yb.self_pay_claims",
    "yjgl.disaster_losses",
    "gajj.traffic_accidents",
}


def publish_resources() -> None:
    """The six resources the relapse rules read, published as the demo catalog publishes them."""
    departments = {d.code: d for d in Department.objects.filter(division__level=1)}
    for code, department, title, subject_type, key, backing, theme in exchange_seed.REGISTRY:
        if code in NEEDED:
            exchange_services.resource_publish(
                actor="system:test",
                department=departments[department],
                code=code,
                title=title,
                subject_type=subject_type,
                key_field=key,
                subject_field=key,
                fields=[],
                backing=backing,
                theme=theme,
            )
    for (
        code,
        department,
        title,
        subject_type,
        key,
        subject_field,
        frequency,
        theme,
        fields,
        _make,
    ) in exchange_seed.FEEDS:
        if code in NEEDED:
            exchange_services.resource_publish(
                actor="system:test",
                department=departments[department],
                code=code,
                title=title,
                subject_type=subject_type,
                key_field=key,
                subject_field=subject_field,
                fields=fields,
                update_frequency=frequency,
                theme=theme,
            )


def push(resource_code: str, records: list[dict]) -> Any:
    """Ingest records into a feed through the exchange (as the department's system would)."""
    content = "\n".join(json.dumps(record, ensure_ascii=False, default=str) for record in records).encode()
    report = exchange_services.records_ingest(
        actor="system:test",
        resource=Resource.objects.get(code=resource_code),
        content=content,
        name="t.jsonl",
    )
    assert report.applied and not report.errors, report.as_dict()
    return report


@dataclass
class City:
    village: Division
    town: Division
    other_village: Division
    other_town: Division
    town_office: Department
    cadre: Any
    cadre2: Any
    other_cadre: Any
    xczx: Any
    leader: Any
    admin: Any
    citizen: Any
    _numbers: Any
    _sequence: Any

    def household(
        self, *, members: int = 3, rural: bool = True, village: Division | None = None, address: str = ""
    ) -> Household:
        """A household of `members` people (head born 1975, spouse 1977, children 2005 …)."""
        number = f"36030{next(self._numbers):07d}"
        village = village or self.village
        births = [
            datetime.date(1975, 3, 1),
            datetime.date(1977, 6, 2),
            datetime.date(2005, 9, 3),
            datetime.date(1950, 1, 4),
        ]
        relations = ["02", "10", "20", "50"]
        people = []
        for index in range(members):
            sex = "M" if index % 2 == 0 else "F"
            people.append(
                {
                    "id_number": resident_id_build(
                        "360302", births[index % 4], next(self._sequence) % 500, sex
                    ),
                    "name": f"测试{index}",
                    "division": village.code,
                    "relation": relations[index % 4],
                }
            )
        return household_create(
            actor="system:test",
            data={
                "number": number,
                "division": village.code,
                "address": address
                or f"{village.parent.parent.name}{village.parent.name}{village.name}{number[-3:]}号",
                "is_rural": rural,
                "members": people,
            },
        )


@pytest.fixture
def city(db) -> City:
    reference_load()
    places_reset()
    publish_resources()
    relapse_rules_load()
    village = Division.objects.filter(level=DivisionLevel.VILLAGE, is_urban=False).order_by("code").first()
    town = village.parent
    other_village = (
        Division.objects.filter(level=DivisionLevel.VILLAGE, is_urban=False)
        .exclude(parent=town)
        .order_by("code")
        .first()
    )
    counter = itertools.count()

    def user(role, department=None, superuser=False):
        return user_create(
            actor=None,
            username=f"{role}-{next(counter)}",
            password=PASSWORD,
            display_name=f"{role}",
            roles=[(role, department, None)],
            is_superuser=superuser,
        )

    office = Department.objects.get(code=f"{town.pk}-ZF")
    admin = user(Role.ADMIN, superuser=True)
    relapse_grants_ensure(actor=admin)
    return City(
        village=village,
        town=town,
        other_village=other_village,
        other_town=other_village.parent,
        town_office=office,
        cadre=user(Role.DEPARTMENT_HANDLER, office),
        cadre2=user(Role.DEPARTMENT_HANDLER, office),
        other_cadre=user(
            Role.DEPARTMENT_HANDLER, Department.objects.get(code=f"{other_village.parent_id}-ZF")
        ),
        xczx=user(Role.DEPARTMENT_HANDLER, Department.objects.get(code="XCZX")),
        leader=user(Role.CITY_LEADER),
        admin=admin,
        citizen=user(Role.CITIZEN),
        _numbers=itertools.count(1),
        _sequence=itertools.count(1),
    )


def members_of(household: Household) -> list[str]:
    return list(household.members.order_by("id").values_list("person__id_number", flat=True))


def claim(number: str, id_number: str, self_pay: str, settled_on: datetime.date) -> dict:
    return {
        "claim_no": number,
        "id_number": id_number,
        "settled_on": settled_on.isoformat(),
        "hospital": "萍乡市人民医院",
        "total_cost": self_pay,
        "self_pay": self_pay,
        "catastrophic": False,
        "diagnosis": "C34",
    }
