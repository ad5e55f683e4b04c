"""The city's reference data: real counties and towns, synthetic villages, departments."""

from __future__ import annotations

import pytest

from yiwang.core.models import AuditEntry, Department, DepartmentKind, Division, DivisionLevel
from yiwang.core.reference import reference_load, villages_for_town

pytestmark = pytest.mark.django_db

COUNTIES = {
    "360302": "安源区",
    "360313": "湘东区",
    "360321": "莲花县",
    "360322": "上栗县",
    "360323": "芦溪县",
}
CITY_DEPARTMENTS = (
    "公安局", "市场监管局", "住建局", "自然资源局", "税务局", "人社局", "医保局", "民政局", "教育局",
    "应急管理局", "卫健委", "城管局", "生态环境局", "交通运输局", "残联", "乡村振兴局", "行政审批局",
    "政务服务中心", "政数局", "12345热线中心", "督查室",
)  # fmt: skip


def test_the_city_its_five_counties_and_58_towns_are_the_real_ones():
    reference_load()
    city = Division.objects.get(code="3603")
    assert (city.name, city.level, city.parent_id) == ("萍乡市", DivisionLevel.CITY, None)
    counties = Division.objects.filter(level=DivisionLevel.COUNTY)
    assert {c.code: c.name for c in counties} == COUNTIES
    assert all(c.parent_id == "3603" and not c.is_synthetic for c in counties)
    towns = Division.objects.filter(level=DivisionLevel.TOWN)
    assert towns.count() == 58
    assert all(t.parent_id == t.code[:6] and len(t.code) == 9 and not t.is_synthetic for t in towns)
    named = dict(towns.values_list("code", "name"))
    assert named["360302003"] == "八一街街道"
    assert named["360313108"] == "麻山镇"
    assert named["360321201"] == "湖上乡"
    assert named["360322101"] == "上栗镇"
    assert named["360323102"] == "宣风镇"
    assert towns.filter(parent_id="360302").count() == 13


def test_every_town_has_6_to_15_synthetic_villages_with_12_digit_codes():
    reference_load()
    villages = Division.objects.filter(level=DivisionLevel.VILLAGE).select_related("parent")
    per_town: dict[str, int] = {}
    for village in villages:
        per_town[village.parent_id] = per_town.get(village.parent_id, 0) + 1
        assert village.is_synthetic
        assert len(village.code) == 12 and village.code.isdigit()
        assert village.code.startswith(village.parent_id)
        assert village.parent.level == DivisionLevel.TOWN
        if village.is_urban:
            assert village.name.endswith("社区") and 1 <= int(village.code[-3:]) <= 199
        else:
            assert village.name.endswith(("村", "分场")) and 201 <= int(village.code[-3:]) <= 399
        if village.parent.name.endswith("街道"):
            assert village.is_urban, village
    assert len(per_town) == 58
    assert all(6 <= count <= 15 for count in per_town.values())
    names = list(villages.values_list("parent_id", "name"))
    assert len(names) == len(set(names)), "village names repeat inside a town"


def test_villages_do_not_depend_on_anything_but_the_town():
    assert villages_for_town("360313108", "麻山镇") == villages_for_town("360313108", "麻山镇")
    assert villages_for_town("360313108", "麻山镇")[0].name == "麻山社区"
    assert villages_for_town("360313108", "麻山镇") != villages_for_town("360313103", "老关镇")


def test_city_departments_cover_the_bureaus_the_applications_need():
    reference_load()
    city_departments = Department.objects.filter(division_id="3603")
    assert city_departments.count() >= 40
    short_names = set(city_departments.values_list("short_name", flat=True))
    missing = [name for name in CITY_DEPARTMENTS if name not in short_names]
    assert not missing
    assert Department.objects.get(code="ZWFW").kind == DepartmentKind.CENTRE
    assert Department.objects.get(code="ZJ").name == "萍乡市住房和城乡建设局"


def test_each_county_has_its_service_centre_and_branches_and_each_town_its_government():
    reference_load()
    for code, name in COUNTIES.items():
        branches = {d.code.split("-")[1]: d for d in Department.objects.filter(division_id=code)}
        assert set(branches) == {"ZWFW", "GA", "SCJG", "RS", "ZRZY"}
        assert branches["ZWFW"].kind == DepartmentKind.CENTRE
        assert branches["ZWFW"].name == f"{name}政务服务中心"
        for suffix, branch in branches.items():
            assert branch.parent.code == suffix and branch.parent.division_id == "3603"
    assert Department.objects.get(code="360302-GA").name == "萍乡市公安局安源分局"
    assert Department.objects.get(code="360321-GA").name == "莲花县公安局"
    offices = Department.objects.filter(kind=DepartmentKind.TOWN_OFFICE)
    assert offices.count() == 58
    assert set(offices.values_list("division_id", flat=True)) == set(
        Division.objects.filter(level=DivisionLevel.TOWN).values_list("code", flat=True)
    )
    assert Department.objects.get(code="360302003-ZF").name == "八一街街道办事处"
    assert Department.objects.get(code="360313108-ZF").name == "麻山镇人民政府"


def test_loading_twice_changes_nothing_and_audits_only_the_first_load():
    first = reference_load()
    assert first["divisions_created"] > 600 and first["departments_created"] == 47 + 5 * 5 + 58
    divisions = list(
        Division.objects.values_list("code", "name", "level", "parent_id", "is_urban", "is_synthetic")
    )
    departments = list(
        Department.objects.values_list("id", "code", "name", "short_name", "kind", "parent_id")
    )
    audited = AuditEntry.objects.filter(action="core.reference_load").count()
    second = reference_load()
    assert second == {
        "divisions_created": 0,
        "divisions_updated": 0,
        "departments_created": 0,
        "departments_updated": 0,
    }
    assert (
        list(Division.objects.values_list("code", "name", "level", "parent_id", "is_urban", "is_synthetic"))
        == divisions
    )
    assert (
        list(Department.objects.values_list("id", "code", "name", "short_name", "kind", "parent_id"))
        == departments
    )
    assert audited == 1
    assert AuditEntry.objects.filter(action="core.reference_load").count() == 1


def test_loading_repairs_a_changed_name():
    reference_load()
    Division.objects.filter(code="360323").update(name="改错的名字")
    Department.objects.filter(code="GA").update(short_name="X")
    result = reference_load()
    assert result["divisions_updated"] == 1 and result["departments_updated"] == 1
    assert Division.objects.get(code="360323").name == "芦溪县"
    assert Department.objects.get(code="GA").short_name == "公安局"
