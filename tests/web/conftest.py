"""A small city for the web shell's tests: divisions, departments, registry rows and one user
per demo role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from yiwang.core.models import Department, Division, DivisionLevel, Role
from yiwang.core.services import user_create
from yiwang.registry.models import Enterprise, Household, HouseholdMember, Person, Property, Relation

PASSWORD = "test-password-123"

# The Chinese names the pages must show for each role (the zh_Hans catalog's translations).
ROLE_NAMES_ZH = {
    Role.CITIZEN: "市民",
    Role.ENTERPRISE_AGENT: "企业经办人",
    Role.WINDOW_CLERK: "窗口工作人员",
    Role.DEPARTMENT_HANDLER: "部门承办人",
    Role.HOTLINE_OPERATOR: "热线话务员",
    Role.DISPATCHER: "派单员",
    Role.SUPERVISOR: "督办员",
    Role.DATA_STEWARD: "数据管理员",
    Role.CITY_LEADER: "市领导",
    Role.ADMIN: "系统管理员",
}

# A valid resident ID number (GB 11643 check digit) ending in 1234.
ID_NUMBER = "360302199005091234"
ID_NUMBER_MASKED = "3603**********1234"


@dataclass
class City:
    city: Division
    county: Division
    other_county: Division
    town: Division
    village: Division
    approval: Department
    housing: Department
    hotline_centre: Department
    county_office: Department
    person: Person
    spouse: Person
    household: Household


def _division(code: str, name: str, level: int, parent: Division | None, **extra) -> Division:
    return Division.objects.create(code=code, name=name, level=level, parent=parent, **extra)


@pytest.fixture
def city(db) -> City:
    city = _division("3603", "萍乡市", DivisionLevel.CITY, None)
    county = _division("360302", "安源区", DivisionLevel.COUNTY, city)
    other_county = _division("360321", "莲花县", DivisionLevel.COUNTY, city)
    town = _division("360302001", "八一街道", DivisionLevel.TOWN, county)
    other_town = _division("360321100", "琴亭镇", DivisionLevel.TOWN, other_county)
    village = _division("360302001001", "跃进社区", DivisionLevel.VILLAGE, town, is_urban=True)
    _division("360321100201", "花塘村", DivisionLevel.VILLAGE, other_town)

    approval = Department.objects.create(
        code="XZSP",
        name="萍乡市行政审批局",
        short_name="行政审批局",
        name_en="Administrative Approval Bureau",
        division=city,
    )
    housing = Department.objects.create(
        code="ZJ", name="萍乡市住房和城乡建设局", short_name="住建局", name_en="Housing Bureau", division=city
    )
    hotline_centre = Department.objects.create(
        code="RX12345",
        name="萍乡市12345政务服务热线中心",
        short_name="12345热线",
        kind="centre",
        division=city,
    )
    county_office = Department.objects.create(
        code="360302-ZJ",
        name="安源区住房和城乡建设局",
        short_name="区住建局",
        division=county,
        parent=housing,
    )

    person = Person.objects.create(
        id_number=ID_NUMBER,
        name="李明",
        sex="M",
        birth_date=datetime.date(1990, 5, 9),
        birthplace_code="360302",
        phone="13812345678",
        address="江西省萍乡市安源区八一街道跃进路12号3栋201",
        division=village,
    )
    spouse = Person.objects.create(
        id_number="360302199201020026",
        name="王芳",
        sex="F",
        birth_date=datetime.date(1992, 1, 2),
        birthplace_code="360302",
        phone="13900001111",
        address="江西省萍乡市安源区八一街道跃进路12号3栋201",
        division=village,
    )
    household = Household.objects.create(number="360302001001000001", head=person, division=village)
    HouseholdMember.objects.create(household=household, person=person, relation=Relation.HEAD)
    HouseholdMember.objects.create(household=household, person=spouse, relation=Relation.SPOUSE)
    Enterprise.objects.create(
        uscc="91360302MA35ABCD0X",
        name="萍乡市安源区示范科技有限公司",
        legal_representative=person,
        legal_representative_name=person.name,
        industry_code="6510",
        industry_name="软件开发",
        registered_capital="100.00",
        employee_count=12,
        established_on=datetime.date(2019, 3, 1),
        division=town,
    )
    Property.objects.create(
        unit_number="360302001001GB00001F00010001",
        use="residential",
        area="89.50",
        address="江西省萍乡市安源区八一街道跃进路12号3栋201",
        division=village,
        registered_on=datetime.date(2015, 6, 1),
    )
    return City(
        city=city,
        county=county,
        other_county=other_county,
        town=town,
        village=village,
        approval=approval,
        housing=housing,
        hotline_centre=hotline_centre,
        county_office=county_office,
        person=person,
        spouse=spouse,
        household=household,
    )


def role_scope(city: City, role: str) -> tuple:
    """The (department, division) a demo user of this role works in."""
    return {
        Role.CITIZEN: (None, None),
        Role.ENTERPRISE_AGENT: (None, None),
        Role.WINDOW_CLERK: (city.approval, city.county),
        Role.DEPARTMENT_HANDLER: (city.county_office, city.county),
        Role.HOTLINE_OPERATOR: (city.hotline_centre, None),
        Role.DISPATCHER: (city.hotline_centre, None),
        Role.SUPERVISOR: (None, city.city),
        Role.DATA_STEWARD: (city.approval, None),
        Role.CITY_LEADER: (None, city.city),
        Role.ADMIN: (None, None),
    }[role]


@pytest.fixture
def make_user(city):
    """make_user(role, ...) → a user holding those roles with their demo scopes (or none)."""
    counter = iter(range(1, 1000))

    def make(*roles: str, username: str | None = None):
        return user_create(
            actor=None,
            username=username or f"{'-'.join(roles) or 'nobody'}-{next(counter)}",
            password=PASSWORD,
            display_name="测试用户",
            roles=[(role, *role_scope(city, role)) for role in roles],
        )

    return make
