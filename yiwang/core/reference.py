"""The city's reference data: divisions and departments of 萍乡市 (3603).

Real data: the city, its 5 counties and 58 towns (core/data/divisions_3603.csv) and the 47
city-level departments (core/data/departments_3603.csv). Generated data: the villages and
communities (level 4, `is_synthetic=True`), which have no open official list we may ship, and
the county branches and town governments, whose names follow the usual pattern.

Village codes follow the statistical convention: town code + 3 digits, 001-199 for urban
communities (社区居委会) and 201-399 for villages (村委会). Villages are generated from the
town code alone, never from the demo seed, so every installation has the same divisions.

`reference_load()` is idempotent: it creates what is missing, updates what differs and
otherwise changes nothing (no audit entry either).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models, transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, DepartmentKind, Division, DivisionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
DIVISIONS_CSV = DATA_DIR / "divisions_3603.csv"
DEPARTMENTS_CSV = DATA_DIR / "departments_3603.csv"
CITY_CODE = "3603"
CITY_NAME = "萍乡市"
PROVINCE_NAME = "江西省"


def _words(text: str) -> tuple[str, ...]:
    """A pool of names written as whitespace-separated words."""
    return tuple(text.split())


# English names of the counties, for the branches' name_en.
COUNTY_PINYIN = {
    "360302": "Anyuan",
    "360313": "Xiangdong",
    "360321": "Lianhua",
    "360322": "Shangli",
    "360323": "Luxi",
}

# Community (社区) name stems: the kind of names Pingxiang's communities carry.
COMMUNITY_STEMS = _words(
    """
    跃进 建设 胜利 文化 东门 西门 南门 北门 公园 新华 人民 光明 红旗 凤凰 八一 五一 解放 站前 滨河
    昭萍 秋收 鹅湖 萍实 城南 城北 长兴 和平 东大 怡园 青山 丹江 横龙 光丰 田中 后埠 工农 鸿福 康庄
    学府 玉湖 桥东 桥西 河背 聚龙 金桥 锦绣 翠湖 银河 安源 白源 萍水 湘东 钟鼓 书院 火车站 杨家湾
    黄土开 金鱼石 南正街
    """
)
# Village (村) names: a first syllable and a landform, the way villages in western Jiangxi are named.
VILLAGE_FIRST = _words(
    """
    大 小 上 下 东 西 南 北 新 老 高 长 石 黄 白 青 桃 竹 枫 樟 杨 柏 龙 凤 金 银 水 泉 荷 莲 梅 松
    茶 麻 湖 江 横 楠 桐 杉 沙 鸭 牛 马 象 狮 彭 刘 李 易 钟 罗 文 胡 邓 谢 何 肖 万 双 三 五 九 太
    福 兴 泰 和
    """
)
VILLAGE_SECOND = _words(
    """
    田 塘 坊 冲 岭 坪 山 湾 源 溪 江 桥 垅 洲 背 口 岗 陂 坑 屋 庄 园 林 峰 家 市 湖 丰 平 安
    """
)


@dataclass(frozen=True)
class VillageSpec:
    code: str
    name: str
    is_urban: bool


def _town_stem(town_name: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if town_name.endswith(suffix):
            return town_name[: -len(suffix)]
    return town_name


def _town_kind(town_name: str) -> str:
    """ "street" (街道), "town" (镇), "township" (乡) or "farm" (垦殖场 and the like)."""
    if town_name.endswith("街道"):
        return "street"
    if town_name.endswith("镇"):
        return "town"
    if town_name.endswith("乡"):
        return "township"
    return "farm"


def villages_for_town(town_code: str, town_name: str) -> list[VillageSpec]:
    """The synthetic villages and communities of one town: 6 to 15, the same every time."""
    rng = random.Random(f"yiwang-villages-{town_code}")
    count = rng.randint(6, 15)
    kind = _town_kind(town_name)
    stem = _town_stem(town_name)
    if kind == "street":
        urban_count = count
    elif kind == "town":
        urban_count = 1  # the town seat (镇区) is a community
    elif kind == "township":
        urban_count = rng.choice((0, 1))
    else:
        urban_count = 0
    used: set[str] = set()
    specs: list[VillageSpec] = []
    for index in range(urban_count):
        if index == 0 and kind != "street":
            name = f"{stem}社区"
        else:
            name = ""
            while not name or name in used:
                name = rng.choice(COMMUNITY_STEMS) + "社区"
        used.add(name)
        specs.append(VillageSpec(f"{town_code}{index + 1:03d}", name, True))
    suffix = "分场" if kind == "farm" else "村"
    for index in range(count - urban_count):
        if index == 0 and kind != "street" and len(stem) <= 3:
            name = f"{stem}{suffix}"
        else:
            name = ""
            while not name or name in used:
                name = rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND) + suffix
        used.add(name)
        specs.append(VillageSpec(f"{town_code}{201 + index:03d}", name, False))
    return specs


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _sync(model: type[models.Model], key: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Create the rows that are missing and update those that differ, matched on `key`.
    Returns (created, updated)."""
    existing = model.objects.in_bulk([row[key] for row in rows], field_name=key)
    missing: list[models.Model] = []
    changed: list[models.Model] = []
    fields: set[str] = set()
    for row in rows:
        instance = existing.get(row[key])
        if instance is None:
            missing.append(model(**row))
            continue
        differs = [name for name, value in row.items() if getattr(instance, name) != value]
        if differs:
            for name in differs:
                setattr(instance, name, row[name])
            fields.update(differs)
            changed.append(instance)
    if missing:
        model.objects.bulk_create(missing, batch_size=500)
    if changed:
        model.objects.bulk_update(changed, sorted(fields), batch_size=500)
    return len(missing), len(changed)


def division_rows() -> list[dict[str, Any]]:
    """Every division of the city, parents before children: real ones, then synthetic villages."""
    rows: list[dict[str, Any]] = []
    for row in _read_csv(DIVISIONS_CSV):
        rows.append(
            {
                "code": row["code"],
                "name": row["name"],
                "level": int(row["level"]),
                "parent_id": row["parent"] or None,
                "is_urban": row["name"].endswith("街道"),
                "is_synthetic": False,
            }
        )
    towns = [row for row in rows if row["level"] == DivisionLevel.TOWN]
    for town in towns:
        for spec in villages_for_town(town["code"], town["name"]):
            rows.append(
                {
                    "code": spec.code,
                    "name": spec.name,
                    "level": DivisionLevel.VILLAGE,
                    "parent_id": town["code"],
                    "is_urban": spec.is_urban,
                    "is_synthetic": True,
                }
            )
    rows.sort(key=lambda row: (row["level"], row["code"]))
    return rows


# County branches of city departments: (code suffix, parent code, kind, district name, county name,
# district short name, county short name, English name). {c} is the county's name, {s} its stem.
BRANCHES = (
    (
        "ZWFW",
        "ZWFW",
        DepartmentKind.CENTRE,
        "{c}政务服务中心",
        "{c}政务服务中心",
        "{c}政务服务中心",
        "{c}政务服务中心",
        "{p} Government Service Centre",
    ),
    (
        "GA",
        "GA",
        DepartmentKind.BUREAU,
        "萍乡市公安局{s}分局",
        "{c}公安局",
        "{s}公安分局",
        "{c}公安局",
        "{p} Public Security Bureau",
    ),
    (
        "SCJG",
        "SCJG",
        DepartmentKind.BUREAU,
        "{c}市场监督管理局",
        "{c}市场监督管理局",
        "{c}市场监管局",
        "{c}市场监管局",
        "{p} Market Regulation Administration",
    ),
    (
        "RS",
        "RS",
        DepartmentKind.BUREAU,
        "{c}人力资源和社会保障局",
        "{c}人力资源和社会保障局",
        "{c}人社局",
        "{c}人社局",
        "{p} Human Resources and Social Security Bureau",
    ),
    (
        "ZRZY",
        "ZRZY",
        DepartmentKind.BUREAU,
        "萍乡市自然资源局{s}分局",
        "{c}自然资源局",
        "{s}自然资源分局",
        "{c}自然资源局",
        "{p} Natural Resources Bureau",
    ),
)


def department_rows(city: list[dict[str, str]]) -> list[dict[str, Any]]:
    """City departments from the CSV, all at the city (division 3603)."""
    return [
        {
            "code": row["code"],
            "name": row["name"],
            "short_name": row["short_name"],
            "name_en": row["name_en"],
            "kind": row["kind"],
            "division_id": CITY_CODE,
            "is_active": True,
        }
        for row in city
    ]


def _branch_rows(divisions: list[dict[str, Any]], parent_ids: dict[str, int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    counties = [row for row in divisions if row["level"] == DivisionLevel.COUNTY]
    for county in counties:
        name = county["name"]
        stem = name[:-1]
        is_district = name.endswith("区")
        pinyin = COUNTY_PINYIN.get(county["code"], "")
        for (
            suffix,
            parent,
            kind,
            district_name,
            county_name,
            district_short,
            county_short,
            english,
        ) in BRANCHES:
            template = district_name if is_district else county_name
            short = district_short if is_district else county_short
            rows.append(
                {
                    "code": f"{county['code']}-{suffix}",
                    "name": template.format(c=name, s=stem),
                    "short_name": short.format(c=name, s=stem),
                    "name_en": english.format(p=f"{pinyin} {'District' if is_district else 'County'}"),
                    "kind": kind,
                    "division_id": county["code"],
                    "parent_id": parent_ids[parent],
                    "is_active": True,
                }
            )
    for town in (row for row in divisions if row["level"] == DivisionLevel.TOWN):
        kind = _town_kind(town["name"])
        office = {
            "street": f"{town['name']}办事处",
            "town": f"{town['name']}人民政府",
            "township": f"{town['name']}人民政府",
        }.get(kind, town["name"])
        rows.append(
            {
                "code": f"{town['code']}-ZF",
                "name": office,
                "short_name": town["name"],
                "name_en": "",
                "kind": DepartmentKind.TOWN_OFFICE,
                "division_id": town["code"],
                "parent_id": None,
                "is_active": True,
            }
        )
    return rows


@transaction.atomic
def reference_load(*, actor: Any = None) -> dict[str, int]:
    """Ensure the city's divisions and departments exist and match the reference files.
    Returns what was created and updated; an audit entry is written only if anything changed."""
    divisions = division_rows()
    divisions_created, divisions_updated = _sync(Division, "code", divisions)
    city_rows = department_rows(_read_csv(DEPARTMENTS_CSV))
    city_created, city_updated = _sync(Department, "code", city_rows)
    parent_ids = dict(Department.objects.filter(division_id=CITY_CODE).values_list("code", "id"))
    branch_created, branch_updated = _sync(Department, "code", _branch_rows(divisions, parent_ids))
    result = {
        "divisions_created": divisions_created,
        "divisions_updated": divisions_updated,
        "departments_created": city_created + branch_created,
        "departments_updated": city_updated + branch_updated,
    }
    if any(result.values()):
        audit_record(
            actor=actor,
            action="core.reference_load",
            object_type="core.division",
            object_id=CITY_CODE,
            after=result,
        )
    return result
