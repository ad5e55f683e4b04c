"""The demo city: a synthetic population of 萍乡市 generated deterministically from a seed.

`registry_seed(persons=N, seed=S)` fills the registry with N persons living in households in
the city's villages and communities, with enterprises (about one per 15 persons) and real
estate (about 0.4 units per person). The same seed gives the same city, row for row: all the
randomness comes from one `random.Random(seed)`, and the date the city is "as of" is fixed
(1 January of the current year unless given), so ages do not drift from one day to the next.

Everything generated is plausible and valid: ID numbers pass `resident_id_parse` and agree with
birth date, sex and birthplace; USCCs pass `uscc_validate`; property unit numbers have 28
characters; households have one adult head, adult spouses, children 20-40 years younger than
their parents, and all members live in the household's village.

Speed: a million persons are written with raw bulk INSERTs (PostgreSQL: COPY), built as tuples
with primary keys assigned here, so foreign keys need no read-back. Villages are generated in
code order, which keeps the division, household-number and unit-number indexes append-only.

The seed only fills an empty registry: if persons exist it does nothing and says so (it does
not top up). Bulk rows are not audited one by one; one audit entry records the whole batch.
"""

from __future__ import annotations

import bisect
import datetime
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from faker.providers.person.zh_CN import Provider as ChineseNames
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from yiwang.core.audit import audit_record
from yiwang.core.ids import resident_id_build, uscc_build
from yiwang.core.models import Department, Division, DivisionLevel, Role, User
from yiwang.core.reference import CITY_CODE, CITY_NAME, PROVINCE_NAME
from yiwang.core.services import user_create
from yiwang.registry.models import (
    Enterprise,
    EnterpriseAgent,
    Household,
    HouseholdMember,
    Person,
    Property,
    PropertyOwner,
    Relation,
)


def _words(text: str) -> tuple[str, ...]:
    """A pool of names written as whitespace-separated words."""
    return tuple(text.split())


# --- Pools ------------------------------------------------------------------------------

# Share of the city's population per county (2020 census, rounded).
COUNTY_SHARES = {"360302": 0.32, "360313": 0.20, "360321": 0.13, "360322": 0.21, "360323": 0.14}

# The code an ID number carries is the county's code when the number was issued (at birth
# registration, or in 1985 for people born before) and it never changes afterwards: residents of
# 上栗 and 芦溪 numbered before 1997 carry 上栗区 360311 / 芦溪区 360312, those of 莲花 numbered
# before 1992 carry 362431 (莲花县 of 吉安地区). Codes are taken in the first of these that
# python-stdnum knows for the year of issue.
ID_NUMBERS_SINCE = 1985
COUNTY_CODE_HISTORY = {
    "360302": ("360302", "360300"),
    "360313": ("360313", "360300"),
    "360321": ("360321", "362431", "360300"),
    "360322": ("360322", "360311", "360300"),
    "360323": ("360323", "360312", "360300"),
}
# Born elsewhere: other places in Jiangxi, and the provinces people usually come from.
BIRTHPLACES_JIANGXI = _words(
    """
    360102 360103 360111 360121 360124 360402 360502 360602 360702 360731 360802 360902 360981
    361002 361102
    """
)
BIRTHPLACES_ELSEWHERE = _words(
    """
    430281 430223 430221 430202 430102 430111 440106 440304 330106 350102 420102 110105 320102
    441900
    """
)
MOBILE_PREFIXES = _words(
    """
    130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 180 181 182 183 184
    185 186 187 188 189 191 193 195 196 198 199
    """
)
MINORITIES = ("壮族", "回族", "苗族", "土家族", "畲族", "瑶族", "满族", "侗族")
ROADS = _words(
    """
    建设路 人民路 解放路 文化路 工业路 学府路 新华路 公园路 滨河路 站前路 环城路 城南路 西环路 胜利路
    """
)
COUNTY_ROADS = {
    "360302": _words(
        """
        跃进路 昭萍路 萍实路 八一路 金螺路 楚萍路 鹅湖路 安源大道 凤凰街 东大街 北桥路 南正街 宝塔路
        五丰路 萍水路 玉湖路 光丰路 丹江路 白源路 横龙路 后埠路 秋收路
        """
    ),
    "360313": _words("湘东大道 峡山口路 湘东路 萍湘路"),
    "360321": _words("琴亭路 莲花大道 莲洲路"),
    "360322": _words("上栗大道 杨岐路 栗江路"),
    "360323": _words("芦溪大道 宣风路 武功山大道"),
}
TRADE_NAMES = _words(
    """
    鑫达 华鑫 恒通 金凯 宏达 瑞丰 昌盛 兴旺 博远 正源 安泰 德胜 鼎盛 富达 国泰 海丰 汇通 佳和 金鼎
    聚源 凯达 蓝天 利民 隆昌 明辉 启航 荣盛 三和 盛世 顺发 泰和 天成 万达 旺福 祥和 新力 鑫源 亚泰
    永盛 远航 长青 振兴 中瑞 众诚 卓越 赣湘 萍源 安源 楚萍 昭萍 秋收 武功山 杨岐 金山 红星 东方 大地
    丰收 福临 和顺
    """
)

# Enterprise kinds: the code stored in Enterprise.kind, its Chinese name, the USCC kind digit.
ENTERPRISE_KINDS = {
    "company": ("有限责任公司", "1"),
    "individual": ("个体工商户", "2"),
    "cooperative": ("农民专业合作社", "3"),
}


@dataclass(frozen=True)
class Industry:
    """One GB/T 4754-2017 class: code (section letter + 4 digits) and name, how common it is
    in urban and rural places, its profile (shop, office, factory, mine, farm) and the words
    its businesses put in their names; `bias` multiplies the weight in given counties."""

    code: str
    name: str
    urban: float
    rural: float
    profile: str
    words: tuple[str, ...]
    shops: tuple[str, ...] = ()
    bias: dict[str, float] = field(default_factory=dict)


INDUSTRIES = (
    Industry("A0111", "稻谷种植", 0, 3, "farm", ("农业", "粮食种植"), ("家庭农场", "种植场"), {"360321": 2}),
    Industry("A0141", "蔬菜种植", 0.1, 3, "farm", ("蔬菜", "农业"), ("蔬菜基地", "家庭农场")),
    Industry("A0153", "柑橘类种植", 0, 1, "farm", ("果业", "生态农业"), ("果园",)),
    Industry("A0164", "茶叶种植", 0, 1, "farm", ("茶业", "生态茶业"), ("茶园",), {"360323": 2}),
    Industry("A0313", "猪的饲养", 0, 2, "farm", ("生猪养殖", "牧业"), ("养猪场",)),
    Industry("A0321", "鸡的饲养", 0, 1.2, "farm", ("禽业", "家禽养殖"), ("养鸡场",)),
    Industry("A0412", "内陆养殖", 0, 0.8, "farm", ("水产", "渔业"), ("养殖场",)),
    Industry(
        "B0610", "烟煤和无烟煤开采洗选", 0.1, 0.8, "mine", ("煤业", "矿业"), (), {"360302": 2, "360313": 2}
    ),
    Industry("B1011", "石灰石、石膏开采", 0, 0.4, "mine", ("矿业", "石灰石"), ()),
    Industry("B1019", "粘土及其他土砂石开采", 0, 0.4, "mine", ("砂石", "矿业"), ("采石场",)),
    Industry("C1311", "稻谷加工", 0.1, 0.8, "factory", ("米业", "粮油"), ("碾米厂",)),
    Industry("C1392", "豆制品制造", 0.3, 0.6, "factory", ("食品", "豆制品"), ("豆腐坊",)),
    Industry("C1512", "白酒制造", 0.1, 0.4, "factory", ("酒业", "酿酒"), ("酒坊",)),
    Industry("C1810", "机织服装制造", 0.4, 0.4, "factory", ("服饰", "制衣"), ("制衣厂",)),
    Industry("C2662", "专项化学用品制造", 0.2, 0.3, "factory", ("化工", "新材料"), (), {"360313": 3}),
    Industry(
        "C2672",
        "焰火、鞭炮产品制造",
        0.1,
        0.4,
        "factory",
        ("烟花", "花炮", "烟花爆竹"),
        ("鞭炮作坊",),
        {"360322": 12, "360313": 2},
    ),
    Industry("C2929", "塑料零件及其他塑料制品制造", 0.3, 0.3, "factory", ("塑业", "塑胶"), ()),
    Industry("C3011", "水泥制造", 0, 0.2, "factory", ("水泥", "建材"), ()),
    Industry("C3031", "粘土砖瓦及建筑砌块制造", 0, 0.4, "factory", ("建材", "新型墙材"), ("砖厂",)),
    Industry("C3071", "建筑陶瓷制品制造", 0.1, 0.3, "factory", ("陶瓷", "瓷业"), (), {"360313": 4}),
    Industry(
        "C3073",
        "特种陶瓷制品制造",
        0.3,
        0.5,
        "factory",
        ("工业陶瓷", "特种陶瓷", "新材料", "化工填料"),
        (),
        {"360313": 10, "360302": 2},
    ),
    Industry("C3074", "日用陶瓷制品制造", 0.1, 0.2, "factory", ("瓷业", "陶瓷"), ()),
    Industry(
        "C3089",
        "耐火陶瓷制品及其他耐火材料制造",
        0.2,
        0.3,
        "factory",
        ("耐火材料", "窑业"),
        (),
        {"360313": 4, "360302": 3},
    ),
    Industry("C3110", "炼铁", 0.05, 0.05, "factory", ("钢铁", "冶金"), (), {"360302": 4}),
    Industry("C3130", "钢压延加工", 0.2, 0.2, "factory", ("钢铁", "金属制品", "钢材"), (), {"360302": 4}),
    Industry("C3140", "铁合金冶炼", 0, 0.1, "factory", ("冶金", "铁合金"), ()),
    Industry("C3311", "金属结构制造", 0.2, 0.2, "factory", ("钢结构", "金属结构"), ()),
    Industry("C3484", "机械零部件加工", 0.3, 0.3, "factory", ("机械", "精密机械"), ("机械加工厂",)),
    Industry("C3670", "汽车零部件及配件制造", 0.2, 0.2, "factory", ("汽车零部件", "汽配"), ()),
    Industry(
        "C3829",
        "其他输配电及控制设备制造",
        0.2,
        0.3,
        "factory",
        ("电瓷", "电气", "电力设备"),
        (),
        {"360323": 12},
    ),
    Industry("C3831", "电线、电缆制造", 0.1, 0.1, "factory", ("电缆", "线缆"), ()),
    Industry("D4411", "火力发电", 0.02, 0.02, "factory", ("发电", "能源"), ()),
    Industry("E4710", "住宅房屋建筑", 0.8, 0.3, "office", ("建设", "建筑工程"), ()),
    Industry("E4812", "公路工程建筑", 0.4, 0.2, "office", ("路桥", "交通建设"), ()),
    Industry("E5012", "住宅装饰和装修", 1.5, 0.3, "shop", ("装饰", "装饰工程"), ("装饰部", "装修队")),
    Industry("F5121", "米、面制品及食用油批发", 1, 0.4, "shop", ("粮油", "商贸"), ("粮油批发部",)),
    Industry("F5211", "百货零售", 4, 2, "shop", ("百货", "商贸"), ("百货店", "日杂店", "小卖部")),
    Industry("F5212", "超级市场零售", 2.5, 1, "shop", ("超市", "商业连锁"), ("超市", "便利店")),
    Industry("F5221", "粮油零售", 1.5, 0.8, "shop", ("粮油",), ("粮油店",)),
    Industry("F5223", "果品、蔬菜零售", 3, 1, "shop", ("果业", "农产品"), ("水果店", "蔬菜店")),
    Industry("F5232", "服装零售", 3, 0.6, "shop", ("服饰",), ("服装店", "童装店")),
    Industry("F5251", "西药零售", 1.5, 0.6, "shop", ("大药房", "医药"), ("药店", "诊所药房")),
    Industry("F5261", "汽车新车零售", 0.4, 0.05, "office", ("汽车销售", "汽贸"), ()),
    Industry("F5265", "机动车燃油零售", 0.3, 0.2, "shop", ("石化", "能源"), ("加油站",)),
    Industry("F5271", "家用视听设备零售", 1, 0.3, "shop", ("电器", "家电"), ("家电行", "电器店")),
    Industry("F5292", "互联网零售", 2, 0.6, "shop", ("电子商务", "网络科技"), ("网店",)),
    Industry("G5431", "普通货物道路运输", 1.2, 0.8, "office", ("物流", "运输"), ("货运部",)),
    Industry("H6121", "经济型连锁酒店", 0.4, 0.05, "shop", ("酒店管理", "酒店"), ()),
    Industry("H6129", "其他一般旅馆", 1, 0.3, "shop", ("宾馆",), ("旅馆", "宾馆", "招待所")),
    Industry("H6210", "正餐服务", 3, 1, "shop", ("餐饮", "餐饮管理"), ("饭店", "酒家", "农家乐")),
    Industry("H6220", "快餐服务", 2, 0.4, "shop", ("餐饮",), ("快餐店",)),
    Industry("H6231", "茶馆服务", 1, 0.3, "shop", ("茶业",), ("茶馆", "茶楼")),
    Industry("H6291", "小吃服务", 3.5, 1, "shop", ("餐饮",), ("米粉店", "小吃店", "早餐店")),
    Industry("I6513", "应用软件开发", 0.8, 0.02, "office", ("软件", "信息技术", "网络科技"), ()),
    Industry("I6531", "信息系统集成服务", 0.5, 0.02, "office", ("信息技术", "智能科技"), ()),
    Industry("K7010", "房地产开发经营", 0.4, 0.1, "office", ("房地产开发", "置业"), ()),
    Industry("K7020", "物业管理", 0.8, 0.1, "office", ("物业管理", "物业服务"), ()),
    Industry("O8010", "家庭服务", 1, 0.2, "shop", ("家政服务",), ("家政服务部",)),
    Industry("O8040", "理发及美容服务", 3, 0.8, "shop", ("美容美发",), ("理发店", "美发店", "美容院")),
    Industry("O8111", "汽车修理与维护", 1.5, 0.8, "shop", ("汽车服务", "汽修"), ("汽车修理店", "汽修厂")),
)
# Kind mix per profile: (company, individual, cooperative).
PROFILE_KINDS = {
    "shop": (0.15, 0.85, 0.0),
    "office": (0.9, 0.1, 0.0),
    "factory": (0.92, 0.08, 0.0),
    "mine": (1.0, 0.0, 0.0),
    "farm": (0.2, 0.35, 0.45),
}
COOPERATIVE_PRODUCTS = {
    "A0111": "水稻种植",
    "A0141": "蔬菜种植",
    "A0153": "果业",
    "A0164": "茶叶",
    "A0313": "生猪养殖",
    "A0321": "家禽养殖",
    "A0412": "水产养殖",
}

# Household types: (name, urban weight, rural weight). Average size about 2.7.
HOUSEHOLD_TYPES = (
    ("single", 0.21, 0.17),
    ("couple", 0.23, 0.22),
    ("one_child", 0.28, 0.2),
    ("two_children", 0.1, 0.14),
    ("three_children", 0.005, 0.03),
    ("single_parent", 0.05, 0.04),
    ("three_generations", 0.07, 0.09),
    ("grandchildren", 0.025, 0.05),
    ("left_behind", 0.015, 0.05),
    ("collective", 0.01, 0.0),
)
# Relation codes as plain strings (the rows go straight to the database driver).
HEAD = Relation.HEAD.value
SPOUSE = Relation.SPOUSE.value
SON = Relation.SON.value
DAUGHTER = Relation.DAUGHTER.value
GRANDCHILD = Relation.GRANDCHILD.value
PARENT = Relation.PARENT.value
OTHER = Relation.OTHER.value
HOUSEHOLD_BLOCK = 5000  # households whose villages are drawn (and sorted) together
ENTERPRISE_RATE = 0.12  # per adult of 25-65: about one enterprise per 15 persons
DAYS_PER_YEAR = 365.2425


# --- Helpers ----------------------------------------------------------------------------


def _code_valid(code: str, year: int) -> bool:
    """Did the division code exist in `year` (python-stdnum's table of codes and their years)?"""
    try:
        ric.get_birth_place(f"{code}{year}0101" + "0010")
    except stdnum_errors.ValidationError:
        return False
    return True


def _weighted(rng: random.Random, items: list, weights: list[float]) -> Callable[[], Any]:
    """A fast weighted picker: bisect on cumulative weights."""
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    rand = rng.random
    pick = bisect.bisect_right
    last = len(items) - 1

    def choose() -> Any:
        return items[min(pick(cumulative, rand() * total), last)]

    return choose


def _organization_code(body: str) -> str:
    """GB 11714 organisation code: 8 characters and their check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


@dataclass
class SeedResult:
    persons: int = 0
    households: int = 0
    members: int = 0
    enterprises: int = 0
    properties: int = 0
    owners: int = 0
    seconds: float = 0.0
    skipped: bool = False
    as_of: datetime.date | None = None

    def counts(self) -> dict[str, int]:
        return {
            "persons": self.persons,
            "households": self.households,
            "household_members": self.members,
            "enterprises": self.enterprises,
            "properties": self.properties,
            "property_owners": self.owners,
        }


# --- Writing ----------------------------------------------------------------------------


def _columns(model: type[models.Model], names: tuple[str, ...]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


PERSON_FIELDS = _words(
    """
    id id_number name sex birth_date birthplace_code ethnicity phone address division death_date
    updated_at
    """
)
HOUSEHOLD_FIELDS = ("id", "number", "kind", "head", "division", "address", "is_rural")
MEMBER_FIELDS = ("id", "household", "person", "relation")
ENTERPRISE_FIELDS = _words(
    """
    id uscc name kind legal_representative legal_representative_name industry_code industry_name
    registered_capital employee_count land_area_mu established_on status address phone division
    updated_at
    """
)
PROPERTY_FIELDS = _words(
    """
    id unit_number certificate_number use area address division registered_on
    """
)
OWNER_FIELDS = ("id", "property", "person", "enterprise", "share")
TABLES = (
    (Person, PERSON_FIELDS),
    (Household, HOUSEHOLD_FIELDS),
    (HouseholdMember, MEMBER_FIELDS),
    (Enterprise, ENTERPRISE_FIELDS),
    (Property, PROPERTY_FIELDS),
    (PropertyOwner, OWNER_FIELDS),
)


class _Writer:
    """Bulk inserts of prepared tuples: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.statements = []
        for model, names in TABLES:
            columns = _columns(model, names)
            table = connection.ops.quote_name(model._meta.db_table)
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            if self.vendor == "postgresql":
                sql = f"COPY {table} ({quoted}) FROM STDIN"
            else:
                sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"
            self.statements.append(sql)

    def write(self, batches: list[list[tuple]]) -> None:
        """Write one batch (rows for every table, in foreign-key order) in one transaction."""
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, rows in zip(self.statements, batches, strict=True):
                if not rows:
                    continue
                if self.vendor == "postgresql":
                    with cursor.cursor.copy(sql) as copy:
                        write_row = copy.write_row
                        for row in rows:
                            write_row(row)
                else:
                    for start in range(0, len(rows), 20000):
                        cursor.executemany(sql, rows[start : start + 20000])

    def finish(self) -> None:
        """PostgreSQL: move the id sequences past the ids assigned here, and gather planner
        statistics (without them the first queries on a freshly loaded million rows take seconds)."""
        if self.vendor == "postgresql":
            statements = connection.ops.sequence_reset_sql(no_style(), [model for model, _ in TABLES])
            statements += [
                f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}" for model, _ in TABLES
            ]
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


# --- Generating ---------------------------------------------------------------------------


@dataclass
class _Village:
    code: str
    county: str
    is_urban: bool
    prefix: str  # address down to the village: 江西省萍乡市安源区八一街街道跃进社区
    town_prefix: str  # 安源区八一街街道 (for individual businesses' names)
    name: str
    roads: list[str]
    issuer: str  # the registration authority in certificate numbers
    parcel: int = 0  # last parcel (宗地) number used
    building: int = 0  # current building of the current residential parcel
    unit: int = 0
    units_per_building: int = 0
    buildings_left: int = 0
    road: str = ""
    house_number: int = 0
    household_seq: int = 0
    groups: int = 8
    group_numbers: list[int] = field(default_factory=list)


def _villages(rng: random.Random) -> list[_Village]:
    rows = list(
        Division.objects.filter(level=DivisionLevel.VILLAGE, code__startswith=CITY_CODE)
        .select_related("parent__parent")
        .order_by("code")
    )
    villages = []
    for division in rows:
        town = division.parent
        county = town.parent
        stem = division.name.removesuffix("社区").removesuffix("村").removesuffix("分场")
        roads = [f"{stem}路"] if division.is_urban and len(stem) <= 3 else []
        roads += rng.sample(ROADS + COUNTY_ROADS.get(county.code, ()), 3)
        issuer = CITY_NAME if county.name.endswith("区") else county.name
        villages.append(
            _Village(
                code=division.code,
                county=county.code,
                is_urban=division.is_urban,
                prefix=f"{PROVINCE_NAME}{CITY_NAME}{county.name}{town.name}{division.name}",
                town_prefix=f"{county.name}{town.name}",
                name=division.name,
                roads=roads,
                issuer=issuer,
                groups=rng.randint(5, 16),
            )
        )
    return villages


def _given_names(rng: random.Random, pool: list[str], count: int) -> list[str]:
    """Given names: Faker's list as it is, and two-character names made from its characters."""
    singles = [name for name in pool if len(name) == 1]
    names = []
    for _ in range(count):
        if rng.random() < 0.35:
            names.append(rng.choice(pool))
        else:
            names.append(rng.choice(singles) + rng.choice(singles))
    return names


class _Generator:
    def __init__(self, *, seed: int, as_of: datetime.date, batch_size: int, write: Callable[[list], None]):
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.batch_size = batch_size
        self.write = write
        self.result = SeedResult(as_of=as_of)
        rng = self.rng
        # Primary keys continue after the rows already there.
        self.next_id = {
            model: (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1 for model, _ in TABLES
        }
        self.villages = _villages(rng)
        if not self.villages:
            raise RuntimeError("No villages: run reference_load() first.")
        # Calendar cache: days before as_of -> (ISO date, YYYYMMDD, year, date).
        base = as_of.toordinal()
        self.days = []
        for back in range(0, 110 * 366):
            day = datetime.date.fromordinal(base - back)
            self.days.append((day.isoformat(), f"{day:%Y%m%d}", day.year, day))
        years = range(as_of.year - 110, as_of.year + 1)
        counties = sorted({village.county for village in self.villages})
        self.home_codes = {}
        for county in counties:
            history = COUNTY_CODE_HISTORY.get(county, (county, CITY_CODE + "00"))
            self.home_codes[county] = {
                year: next(c for c in history if _code_valid(c, max(year, ID_NUMBERS_SINCE)))
                for year in years
            }
        self.jiangxi_codes = {
            year: [c for c in BIRTHPLACES_JIANGXI if _code_valid(c, max(year, ID_NUMBERS_SINCE))]
            for year in years
        }
        self.other_codes = {
            year: [c for c in BIRTHPLACES_ELSEWHERE if _code_valid(c, max(year, ID_NUMBERS_SINCE))]
            for year in years
        }
        self.id_sequences: dict[str, int] = {}
        # Name urns: sampled once, indexed by random numbers per person.
        surnames = list(ChineseNames.last_names)
        self.surnames = rng.choices(surnames, weights=list(ChineseNames.last_names.values()), k=20000)
        self.male_names = _given_names(rng, list(ChineseNames.first_names_male), 20000)
        self.female_names = _given_names(rng, list(ChineseNames.first_names_female), 20000)
        self.household_type = {
            urban: _weighted(rng, [t[0] for t in HOUSEHOLD_TYPES], [t[2 - urban] for t in HOUSEHOLD_TYPES])
            for urban in (True, False)
        }
        self.industry = {}
        for county in counties:
            for urban in (True, False):
                weights = [(i.urban if urban else i.rural) * i.bias.get(county, 1.0) for i in INDUSTRIES]
                self.industry[county, urban] = _weighted(rng, list(INDUSTRIES), weights)
        self.usccs: set[str] = set()
        self.certificates: dict[tuple[int, str], int] = {}
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        self._reset_batch()

    def _reset_batch(self) -> None:
        self.persons: list[tuple] = []
        self.households: list[tuple] = []
        self.members: list[tuple] = []
        self.enterprises: list[tuple] = []
        self.properties: list[tuple] = []
        self.owners: list[tuple] = []

    def _flush(self) -> None:
        batches = [
            self.persons,
            self.households,
            self.members,
            self.enterprises,
            self.properties,
            self.owners,
        ]
        if any(batches):
            self.write(batches)
        result = self.result
        result.persons += len(self.persons)
        result.households += len(self.households)
        result.members += len(self.members)
        result.enterprises += len(self.enterprises)
        result.properties += len(self.properties)
        result.owners += len(self.owners)
        self._reset_batch()

    def _take_id(self, model: type[models.Model]) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    # -- people ---------------------------------------------------------------------------

    def _compose(self, urban: bool) -> tuple[str, list[tuple[str, str, int]]]:
        """A household's members as (relation, sex, age in years), head first."""
        rng = self.rng
        rand = rng.random
        randint = rng.randint
        kind = self.household_type[urban]()
        members: list[tuple[str, str, int]] = []

        def couple(low: int, high: int) -> tuple[int, int]:
            husband = randint(low, high)
            wife = max(20, husband - randint(-2, 6))
            if rand() < 0.85:
                members.append((HEAD, "M", husband))
                members.append((SPOUSE, "F", wife))
            else:
                members.append((HEAD, "F", wife))
                members.append((SPOUSE, "M", husband))
            return husband, wife

        def children(older: int, younger: int, count: int) -> list[int]:
            # 21-39 years younger than both parents, so birth dates differ by 20-40 years.
            low, high = max(0, older - 39), younger - 21
            ages = []
            for _ in range(count):
                if high < low:
                    break
                age = randint(low, high)
                male = rand() < 0.515
                members.append((SON if male else DAUGHTER, "M" if male else "F", age))
                ages.append(age)
            return ages

        if kind == "single":
            roll = rand()
            age = randint(20, 35) if roll < 0.4 else randint(36, 64) if roll < 0.6 else randint(65, 92)
            members.append((HEAD, "M" if rand() < 0.55 else "F", age))
        elif kind == "couple":
            if rand() < 0.35:
                couple(22, 34)
            else:
                couple(50, 88)
        elif kind in ("one_child", "two_children", "three_children"):
            count, low, high = {
                "one_child": (1, 24, 62),
                "two_children": (2, 28, 60),
                "three_children": (3, 33, 62),
            }[kind]
            husband, wife = couple(low, high)
            children(max(husband, wife), min(husband, wife), count)
        elif kind == "single_parent":
            female = rand() < 0.7
            age = randint(26, 55)
            members.append((HEAD, "F" if female else "M", age))
            children(age, age, 1 if rand() < 0.7 else 2)
        elif kind == "three_generations":
            husband, wife = couple(30, 52)
            head_age = members[0][2]
            children(max(husband, wife), min(husband, wife), 1 if rand() < 0.6 else 2)
            father = min(98, head_age + randint(22, 38))
            mother = min(max(head_age + 21, father - randint(-2, 6)), head_age + 39)
            if rand() < 0.6:
                members.append((PARENT, "M", father))
            members.append((PARENT, "F", mother))
        elif kind == "grandchildren":
            husband, wife = couple(48, 72)
            ages = children(max(husband, wife), min(husband, wife), 1)
            if ages and ages[0] >= 21:
                low, high = max(0, ages[0] - 39), ages[0] - 21
                for _ in range(1 if rand() < 0.6 else 2):
                    male = rand() < 0.515
                    members.append((GRANDCHILD, "M" if male else "F", randint(low, high)))
        elif kind == "left_behind":
            if rand() < 0.6:
                couple(58, 78)
            else:
                members.append((HEAD, "F" if rand() < 0.6 else "M", randint(58, 80)))
            for _ in range(1 if rand() < 0.6 else 2):
                members.append((GRANDCHILD, "M" if rand() < 0.515 else "F", randint(2, 16)))
        else:  # collective: a dormitory of workers
            members.append((HEAD, "M" if rand() < 0.6 else "F", randint(25, 55)))
            for _ in range(randint(2, 7)):
                members.append((OTHER, "M" if rand() < 0.6 else "F", randint(18, 58)))
        return kind, members

    def _person(
        self, village: _Village, sex: str, age: int, surname: str, relation: str, address: str
    ) -> tuple:
        """One person's row. Returns the row; the caller keeps what it needs from it."""
        rng = self.rng
        rand = rng.random
        back = int(age * DAYS_PER_YEAR) + int(rand() * 365)
        iso, compact, year, day = self.days[back]
        roll = rand()
        if roll < (0.88 if age >= 18 else 0.96):
            code = self.home_codes[village.county][year]
        else:
            pool = self.jiangxi_codes[year] if roll < 0.975 else self.other_codes[year]
            code = pool[int(rand() * len(pool))] if pool else self.home_codes[village.county][year]
        key = code + compact + sex
        sequence = self.id_sequences.get(key, 0)
        if sequence >= 500:
            raise RuntimeError(f"More than 500 ID numbers for {key}: the city is too large for this seed.")
        self.id_sequences[key] = sequence + 1
        number = resident_id_build(code, day, sequence, sex)
        names = self.male_names if sex == "M" else self.female_names
        name = surname + names[int(rand() * 20000)]
        phone = ""
        if age >= 16 and rand() < (0.92 if age < 75 else 0.55):
            phone = MOBILE_PREFIXES[int(rand() * 35)] + f"{int(rand() * 100000000):08d}"
        ethnicity = "汉族" if rand() < 0.998 else MINORITIES[int(rand() * len(MINORITIES))]
        death = None
        if relation != HEAD and age >= 65 and rand() < (0.04 if age < 80 else 0.12):
            death = self.days[1 + int(rand() * 1000)][0]
        person_id = self._take_id(Person)
        return (
            person_id,
            number,
            name,
            sex,
            iso,
            code,
            ethnicity,
            phone,
            address,
            village.code,
            death,
            self.now,
        )

    # -- places and property ------------------------------------------------------------------

    def _apartment(self, village: _Village) -> tuple[str, str]:
        """The next flat in the village's housing estates: (unit number, address)."""
        rng = self.rng
        if village.unit >= village.units_per_building:
            if village.buildings_left <= 0:
                village.parcel += 1
                village.buildings_left = rng.randint(2, 12)
                village.building = 0
                village.road = village.roads[int(rng.random() * len(village.roads))]
                village.house_number += rng.randint(1, 12)
            village.building += 1
            village.buildings_left -= 1
            village.unit = 0
            village.units_per_building = 2 * rng.randint(6, 33)
        village.unit += 1
        unit = village.unit
        room = ((unit - 1) // 2 + 1) * 100 + (unit - 1) % 2 + 1
        number = f"{village.code}GB{village.parcel:05d}F{village.building:04d}{unit:04d}"
        address = f"{village.prefix}{village.road}{village.house_number}号{village.building}栋{room}室"
        return number, address

    def _homestead(self, village: _Village) -> tuple[str, str]:
        """A rural house on its own homestead parcel: (unit number, address)."""
        rng = self.rng
        village.parcel += 1
        if not village.group_numbers:
            village.group_numbers = [0] * village.groups
        group = int(rng.random() * village.groups)
        village.group_numbers[group] += 1 + int(rng.random() * 3)
        number = f"{village.code}JC{village.parcel:05d}F00010001"
        address = f"{village.prefix}{group + 1}组{village.group_numbers[group]}号"
        return number, address

    def _business_site(self, village: _Village) -> tuple[str, str]:
        """A parcel of construction land for an enterprise: (unit number, address)."""
        rng = self.rng
        village.parcel += 1
        number = f"{village.code}GB{village.parcel:05d}F00010001"
        if village.is_urban:
            road = village.roads[int(rng.random() * len(village.roads))]
            return number, f"{village.prefix}{road}{rng.randint(1, 399)}号"
        return number, f"{village.prefix}{rng.randint(1, village.groups)}组{rng.randint(1, 80)}号"

    def _property(self, unit_number: str, use: str, area: float, address: str, village: _Village) -> int:
        rng = self.rng
        back = int(rng.random() * min(3650, len(self.days) - 1))  # registered in the last ten years
        iso, _, year, _ = self.days[back]
        serial = self.certificates.get((year, village.issuer), 0) + 1
        self.certificates[year, village.issuer] = serial
        certificate = f"赣({year}){village.issuer}不动产权第{serial:07d}号"
        property_id = self._take_id(Property)
        self.properties.append(
            (property_id, unit_number, certificate, use, f"{area:.2f}", address, village.code, iso)
        )
        return property_id

    def _own(self, property_id: int, owners: list[tuple[int | None, int | None]]) -> None:
        share = "1.0000" if len(owners) == 1 else "0.5000"
        for person_id, enterprise_id in owners:
            self.owners.append((self._take_id(PropertyOwner), property_id, person_id, enterprise_id, share))

    # -- enterprises -------------------------------------------------------------------------------

    def _enterprise(self, village: _Village, person: tuple, age: int) -> None:
        rng = self.rng
        rand = rng.random
        industry: Industry = self.industry[village.county, village.is_urban]()
        company, individual, _ = PROFILE_KINDS[industry.profile]
        roll = rand()
        kind = "company" if roll < company else "individual" if roll < company + individual else "cooperative"
        profile = industry.profile
        # Established after the representative turned 20, and not before 1990.
        adult_days = int((age - 20) * DAYS_PER_YEAR)
        since_1990 = (self.as_of - datetime.date(1990, 1, 1)).days
        span = max(30, min(adult_days, since_1990))
        back = int(span * rand() ** 1.6)  # skewed towards recent years
        established_iso, _, _, established = self.days[back]
        if established >= datetime.date(2015, 10, 1):
            body = "MA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
        else:
            body = f"{rng.randrange(10**8):08d}"
        while True:
            uscc = uscc_build(
                village.county, _organization_code(body), authority="9", kind=ENTERPRISE_KINDS[kind][1]
            )
            if uscc not in self.usccs:
                break
            body = f"{rng.randrange(10**8):08d}"
        self.usccs.add(uscc)
        trade = TRADE_NAMES[int(rand() * len(TRADE_NAMES))]
        word = industry.words[int(rand() * len(industry.words))]
        surname = person[2][0]
        if kind == "company":
            prefix = ("萍乡市", "萍乡", "江西", village.town_prefix[:3])[int(rand() * 4)]
            name = f"{prefix}{trade}{word}有限公司"
        elif kind == "cooperative":
            name = f"{village.town_prefix[:3]}{village.name}{COOPERATIVE_PRODUCTS.get(industry.code, '农业')}专业合作社"
        else:
            shop = industry.shops[int(rand() * len(industry.shops))] if industry.shops else word
            owner = f"{surname}记" if rand() < 0.4 else trade
            name = f"{village.town_prefix}{owner}{shop}"
        # Size: individuals are small; companies skewed (many small, a few large).
        if kind == "individual":
            employees = 1 + int(rng.expovariate(0.6))
            capital = round(rng.uniform(1, 50))
        elif kind == "cooperative":
            employees = rng.randint(5, 50)
            capital = round(rng.uniform(10, 300))
        else:
            scale = 3.0 if profile in ("factory", "mine") else 2.0
            employees = max(1, int(rng.lognormvariate(scale, 1.1)))
            capital = round(rng.lognormvariate(5.3 if profile in ("factory", "mine") else 4.6, 1.2))
        if profile in ("factory", "mine") and kind == "company":
            land = round(rng.lognormvariate(3.6, 0.8), 2)  # tens to hundreds of mu
        elif profile == "farm" and kind != "individual":
            land = round(rng.lognormvariate(4.6, 0.9), 2)
        elif profile == "farm":
            land = round(rng.uniform(5, 60), 2)
        else:
            land = 0.0
        roll = rand()
        status = "active" if roll < 0.94 else "revoked" if roll < 0.97 else "cancelled"
        if kind == "company" and rand() < 0.5:
            phone = f"0799{rng.randint(3000000, 7999999)}"
        else:
            phone = person[7] or (MOBILE_PREFIXES[int(rand() * 35)] + f"{int(rand() * 100000000):08d}")
        unit_number, address = self._business_site(village)
        enterprise_id = self._take_id(Enterprise)
        self.enterprises.append(
            (
                enterprise_id,
                uscc,
                name,
                kind,
                person[0],
                person[2],
                industry.code,
                industry.name,
                f"{max(capital, 1)}.00",
                employees,
                f"{land:.2f}",
                established_iso,
                status,
                address,
                phone,
                village.code,
                self.now,
            )
        )
        # Factories and mines own their site; some shops and offices own their premises.
        if profile in ("factory", "mine") and kind == "company" and land and rand() < 0.8:
            area = land * 666.67 * rng.uniform(0.3, 0.6)
            self._own(
                self._property(unit_number, "industrial", area, address, village), [(None, enterprise_id)]
            )
        elif profile == "office" and rand() < 0.3:
            area = rng.uniform(80, 1500)
            self._own(self._property(unit_number, "office", area, address, village), [(None, enterprise_id)])
        elif profile == "shop" and rand() < 0.15:
            area = rng.lognormvariate(4.3, 0.7)
            self._own(
                self._property(unit_number, "commercial", area, address, village), [(None, enterprise_id)]
            )

    # -- households ------------------------------------------------------------------------------

    def _household(self, village: _Village, limit: int) -> int:
        """Generate one household of at most `limit` persons; returns how many were made."""
        rng = self.rng
        rand = rng.random
        urban = village.is_urban
        kind, members = self._compose(urban)
        members = members[:limit]
        if urban:
            unit_number, address = self._apartment(village)
        else:
            unit_number, address = self._homestead(village)
        # The family name passes down the male line; wives and the head's mother keep their own.
        surnames = self.surnames
        family = surnames[int(rand() * 20000)]
        head_sex = members[0][1]
        in_couple = len(members) > 1 and members[1][0] == SPOUSE
        head_surname = surnames[int(rand() * 20000)] if head_sex == "F" and in_couple else family
        rows = []
        for relation, sex, age in members:
            if relation == HEAD:
                surname = head_surname
            elif relation == PARENT:
                surname = head_surname if sex == "M" else surnames[int(rand() * 20000)]
            elif relation == OTHER or (relation == SPOUSE and sex == "F"):
                surname = surnames[int(rand() * 20000)]
            else:
                surname = family
            rows.append((relation, age, self._person(village, sex, age, surname, relation, address)))
        household_id = self._take_id(Household)
        head = rows[0][2]
        village.household_seq += 1
        self.households.append(
            (
                household_id,
                f"{village.code}{village.household_seq:05d}",
                "collective" if kind == "collective" else "family",
                head[0],
                village.code,
                address,
                not urban,
            )
        )
        take_member = self._take_id
        for relation, _age, person in rows:
            self.persons.append(person)
            self.members.append((take_member(HouseholdMember), household_id, person[0], relation))
        spouse = next((person for relation, _, person in rows if relation == SPOUSE), None)
        owners = [(head[0], None)]
        if spouse is not None and spouse[10] is None and rand() < 0.6:
            owners.append((spouse[0], None))
        # Property: urban families mostly own their flat, rural ones their homestead house.
        if kind != "collective":
            if urban and rand() < 0.8:
                self._own(
                    self._property(unit_number, "residential", _flat_area(rng), address, village), owners
                )
            elif not urban and rand() < 0.9:
                area = rng.uniform(110, 360)
                self._own(self._property(unit_number, "homestead", area, address, village), owners)
            if rand() < (0.3 if urban else 0.12):
                second_unit, second_address = self._apartment(village)
                area = _flat_area(rng)
                self._own(
                    self._property(second_unit, "residential", area, second_address, village), [owners[0]]
                )
        for _relation, age, person in rows:
            if 25 <= age <= 65 and person[10] is None and rand() < ENTERPRISE_RATE:
                self._enterprise(village, person, age)
        return len(rows)

    def run(self, persons: int, progress: Callable[[int, int], None] | None, every: int) -> SeedResult:
        """Households go to villages drawn by weight: the county's share of the city, and
        communities five times as dense as villages (about half the people are urban, as in
        the household register). Each block of draws is sorted by village code, so that rows
        reach the division, household-number and unit-number indexes in order."""
        rng = self.rng
        villages = self.villages
        county_totals: dict[str, float] = {}
        raw = []
        for village in villages:
            weight = (5.0 if village.is_urban else 1.0) * rng.uniform(0.6, 1.4)
            if village.name.endswith("分场"):
                weight *= 0.5
            raw.append(weight)
            county_totals[village.county] = county_totals.get(village.county, 0.0) + weight
        weights = [
            COUNTY_SHARES.get(village.county, 0.1) * weight / county_totals[village.county]
            for village, weight in zip(villages, raw, strict=True)
        ]
        draw = _weighted(rng, list(range(len(villages))), weights)
        done = 0
        next_report = every
        while done < persons:
            # Fewer households than the persons left could fill, so every draw is used.
            size = min(HOUSEHOLD_BLOCK, 1 + int((persons - done) / 3.5))
            block = sorted(draw() for _ in range(size))
            for index in block:
                made = self._household(villages[index], persons - done)
                done += made
                if len(self.persons) >= self.batch_size:
                    self._flush()
                if progress and done >= next_report:
                    progress(done, persons)
                    next_report += every
                if done >= persons:
                    break
        self._flush()
        if progress and done and done % every:
            progress(done, persons)
        return self.result


def _flat_area(rng: random.Random) -> float:
    return min(260.0, max(38.0, rng.gauss(105, 28)))


def registry_is_empty() -> bool:
    return not (
        Person.objects.exists()
        or Household.objects.exists()
        or Enterprise.objects.exists()
        or Property.objects.exists()
    )


def _sqlite_pragmas_for_loading() -> list[str]:
    """SQLite: a 256 MB page cache while the indexes grow, and no fsync at commits
    (synchronous=OFF; half the commit time on this kind of disk). A power cut during the seed
    could then damage the database: acceptable for generating a demo city, which is simply
    generated again. Returns the statements that restore the previous settings."""
    if connection.vendor != "sqlite":
        return []
    restore = []
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        restore.append(f"PRAGMA cache_size={int(cursor.fetchone()[0])}")
        cursor.execute("PRAGMA cache_size=-262144")
        if not connection.in_atomic_block:  # the safety level cannot change inside a transaction
            cursor.execute("PRAGMA synchronous")
            restore.append(f"PRAGMA synchronous={int(cursor.fetchone()[0])}")
            cursor.execute("PRAGMA synchronous=OFF")
    return restore


def registry_seed(
    *,
    persons: int,
    seed: int,
    actor: Any = "system:seed",
    as_of: datetime.date | None = None,
    batch_size: int = 20000,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 100000,
) -> SeedResult:
    """Generate the demo population into an empty registry (reference data must be loaded).
    If the registry already has data, nothing is generated and the result says `skipped`."""
    started = time.perf_counter()
    if not registry_is_empty():
        return SeedResult(skipped=True, persons=Person.objects.count())
    as_of = as_of or datetime.date(datetime.date.today().year, 1, 1)
    writer = _Writer()
    restore = _sqlite_pragmas_for_loading()
    try:
        generator = _Generator(seed=seed, as_of=as_of, batch_size=batch_size, write=writer.write)
        result = generator.run(persons, progress, progress_every)
        writer.finish()
    finally:
        if restore:
            with connection.cursor() as cursor:
                for statement in restore:
                    cursor.execute(statement)
    result.seconds = time.perf_counter() - started
    # One audit entry for the whole batch: the bulk rows are not audited one by one.
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="registry.seed",
            object_type="registry.person",
            after={**result.counts(), "seed": seed, "as_of": as_of.isoformat()},
        )
    return result


# --- Demo logins ------------------------------------------------------------------------

# username (= role code), display name, department code of the scope, division code of the scope
DEMO_LOGINS = (
    (Role.CITIZEN, "", None, None),
    (Role.ENTERPRISE_AGENT, "周晓燕", None, None),
    (Role.WINDOW_CLERK, "刘芳", "ZWFW", None),
    (Role.DEPARTMENT_HANDLER, "陈志强", "ZJ", None),
    (Role.HOTLINE_OPERATOR, "李婷", "RX12345", None),
    (Role.DISPATCHER, "黄磊", "RX12345", None),
    (Role.SUPERVISOR, "吴建华", "DB", None),
    (Role.DATA_STEWARD, "赵敏", "ZS", None),
    (Role.CITY_LEADER, "孙卫东", None, CITY_CODE),
    (Role.ADMIN, "系统管理员", None, None),
)


@transaction.atomic
def demo_logins_ensure(*, actor: Any = "system:seed") -> dict[str, list[str]]:
    """Ensure one login per role exists (username = role code, password
    YIWANG_DEMO_PASSWORD); link the citizen to a registered person and the enterprise agent
    to an enterprise when the registry has them. Existing logins are left as they are."""
    created: list[str] = []
    linked: list[str] = []
    citizen_person = None
    if (
        not User.objects.filter(username=Role.CITIZEN).exists()
        or not Person.objects.filter(user__username=Role.CITIZEN).exists()
    ):
        citizen_person = _citizen_candidate()
    for role, display_name, department_code, division_code in DEMO_LOGINS:
        if User.objects.filter(username=role.value).exists():
            continue
        department = Department.objects.get(code=department_code) if department_code else None
        division = Division.objects.get(code=division_code) if division_code else None
        if role == Role.CITIZEN:
            display_name = citizen_person.name if citizen_person else "张伟"
        user_create(
            actor=actor,
            username=role.value,
            password=settings.YIWANG_DEMO_PASSWORD,
            display_name=display_name,
            roles=[(role.value, department, division)],
            phone=citizen_person.phone if role == Role.CITIZEN and citizen_person else "",
            is_superuser=role == Role.ADMIN,
        )
        created.append(role.value)
    citizen = User.objects.get(username=Role.CITIZEN)
    if citizen_person is not None and not Person.objects.filter(user=citizen).exists():
        Person.objects.filter(pk=citizen_person.pk, user__isnull=True).update(user=citizen)
        linked.append(f"citizen→person:{citizen_person.pk}")
    agent = User.objects.get(username=Role.ENTERPRISE_AGENT)
    if not EnterpriseAgent.objects.filter(user=agent).exists():
        enterprise = Enterprise.objects.filter(kind="company", status="active").order_by("id").first()
        if enterprise is not None:
            EnterpriseAgent.objects.create(enterprise=enterprise, user=agent)
            linked.append(f"enterprise_agent→enterprise:{enterprise.pk}")
    if linked:
        audit_record(actor=actor, action="registry.demo_logins_link", object_type="core.user", after=linked)
    return {"created": created, "linked": linked}


def _citizen_candidate() -> Person | None:
    """A living head of household aged 30-50 in an urban community: the demo citizen."""
    today = datetime.date.today()
    day = min(today.day, 28)
    candidates = Person.objects.filter(user__isnull=True, death_date__isnull=True).order_by("id")
    best = candidates.filter(
        membership__relation=Relation.HEAD,
        division__is_urban=True,
        birth_date__gt=datetime.date(today.year - 50, today.month, day),
        birth_date__lt=datetime.date(today.year - 30, today.month, day),
    ).first()
    return best or candidates.first()
