"""The demo city's 2027 enrollment season (`yiwang enrollment_seed`), deterministic and
idempotent: each step only does what is missing.

1. Resources, rules and the education bureau's grants (setup.enrollment_setup).
2. The demo department handler and supervisor also hold their role in 教育局 (JY).
3. The 2027 season: registration 2026-11-01 – 2027-05-31, allocation 2027-06-15, results
   2027-06-30, a published lottery seed, tie-breaks property date then distance.
4. Schools: a public primary school in every town (its 学区: the town's villages and
   communities), a public junior middle school in every county (学区: the county), a private
   nine-year school (九年一贯制) in 安源区 with its own seats in 一年级 and 七年级; seats about the number of children of
   entry age in the catchment (some short, some spare); places on the map for schools and
   villages around made-up county centres.
5. The demo citizen gets a child of primary entry age in their household if they have none
   (registered in the demo by hand, not here).
6. 随迁子女: 16 families whose 户籍 is in a county outside the city (湖南 or elsewhere in 江西:
   the children's ID numbers were issued there), living in the city's urban communities on a
   residence permit from 公安 (`ga.residence_permit_holders`) and paying social insurance here
   (`rs.social_insurance_payments`), both pushed through the exchange's ingest: 14 with 12 or
   more months in the 24 before registration (class 3), 2 with fewer (class 5). Their 户籍
   place is a Division row marked `is_outside_city`, at the top level (see docs/enrollment.md).
   The login `migrant_parent` is the father of the first of them.
7. Registrations for about 85% of the other children of entry age and every migrant child (a
   parent, the household head, registers), with the catchment school first and sometimes a
   private or another school.
8. One allocation run, again when this seed registered children after the run in force.
"""

from __future__ import annotations

import datetime
import math
import random
from typing import Any

from django.conf import settings
from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division, DivisionLevel, Role, RoleAssignment, User
from yiwang.enrollment import feeds, services
from yiwang.enrollment.models import ENTRY_AGE, Level, Registration, School, SchoolLevel, Season
from yiwang.enrollment.setup import enrollment_setup

ACTOR = "system:enrollment-seed"
YEAR = 2027
SEED = 2027
COUNTY_CENTRES = {
    "360302": (113.87, 27.62),
    "360313": (113.73, 27.64),
    "360321": (113.96, 27.13),
    "360322": (113.80, 27.88),
    "360323": (114.03, 27.63),
}
# 随迁子女: where the migrant families' 户籍 is (real GB/T 2260 county codes near the city) and a
# town there for their household address.
ORIGINS = (
    ("430281", "湖南省株洲市醴陵市", "浦口镇"),
    ("430181", "湖南省长沙市浏阳市", "大瑶镇"),
    ("430223", "湖南省株洲市攸县", "网岭镇"),
    ("360902", "江西省宜春市袁州区", "彬江镇"),
    ("360821", "江西省吉安市吉安县", "永和镇"),
)
MIGRANT_FAMILIES = 16
MIGRANT_JUNIOR = (5, 12)  # families whose child enters junior middle school (the rest primary)
MIGRANT_SHORT = {3: 7, 10: 11}  # families with fewer months of social insurance than class 3 needs
MIGRANT_COUNTIES = ("360302", "360313")  # they live in the urban communities of 安源区 and 湘东区
MIGRANT_LOGIN = "migrant_parent"
SURNAMES = "刘陈李王张易谭彭罗周黄文钟胡袁贺"
MEN = ("志强", "建华", "海波", "永刚", "国平", "俊杰", "小兵", "立新", "卫东", "正阳")
WOMEN = ("红梅", "小燕", "桂英", "春花", "秀兰", "丽娟", "艳芳", "玉婷", "金凤", "美玲")
BOYS = ("梓轩", "浩宇", "思源", "宇航", "子墨", "俊熙", "一鸣", "睿泽")
GIRLS = ("子涵", "一诺", "欣怡", "雨桐", "佳怡", "诗琪", "语嫣", "梦瑶")


def _decider() -> Any:
    cdo = User.objects.filter(roles__role=Role.DATA_STEWARD, roles__department__code="ZS").first()
    return cdo or User.objects.filter(is_superuser=True).first()


def _bureau_roles() -> list[str]:
    jy = Department.objects.get(code="JY")
    added = []
    for username, role in (
        (Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_HANDLER),
        (Role.SUPERVISOR, Role.SUPERVISOR),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        _assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, department=jy)
        if created:
            added.append(username)
    if added:
        audit_record(
            actor=ACTOR, action="enrollment.demo_roles", object_type="core.user", after={"in JY": added}
        )
    return added


def _season() -> Season:
    existing = Season.objects.filter(year=YEAR).first()
    if existing is not None:
        return existing  # configured once: a second seed changes (and audits) nothing
    return services.season_configure(
        actor=ACTOR,
        year=YEAR,
        title="2027年萍乡市义务教育阶段学校招生",
        registration_opens=datetime.date(2026, 11, 1),
        registration_closes=datetime.date(2027, 5, 31),
        allocation_on=datetime.date(2027, 6, 15),
        results_on=datetime.date(2027, 6, 30),
        lottery_seed="PX-2027-0615-公开摇号种子",
        tie_breaks=["property_date", "distance"],
    )


def _age_range(level: str) -> tuple[datetime.date, datetime.date]:
    age = ENTRY_AGE[level][0] if level == Level.PRIMARY else 12
    return datetime.date(YEAR - age - 1, 9, 1), datetime.date(YEAR - age, 8, 31)


def _children(level: str):
    from yiwang.registry.selectors import person_list

    low, high = _age_range(level)
    return person_list().filter(
        birth_date__range=(low, high), death_date__isnull=True, membership__isnull=False
    )


def _schools(season: Season, rng: random.Random) -> int:
    if season.schools.exists():
        return 0
    towns = list(
        Division.objects.filter(level=DivisionLevel.TOWN, parent__code__in=COUNTY_CENTRES).order_by("code")
    )
    places: dict[str, tuple[float, float]] = {}
    town_place: dict[str, tuple[float, float]] = {}
    for town in towns:
        cx, cy = COUNTY_CENTRES[town.parent_id]
        angle, radius = rng.random() * 2 * math.pi, rng.uniform(0.01, 0.12)
        town_place[town.code] = (
            round(cx + radius * math.cos(angle), 5),
            round(cy + radius * math.sin(angle), 5),
        )
        for village in Division.objects.filter(parent=town, level=DivisionLevel.VILLAGE):
            tx, ty = town_place[town.code]
            places[village.code] = (
                round(tx + rng.uniform(-0.02, 0.02), 5),
                round(ty + rng.uniform(-0.02, 0.02), 5),
            )
    services.localities_set(actor=ACTOR, places=places)
    homes: dict[str, int] = {}
    for level in Level.values:
        for division in _children(level).values_list("membership__household__division_id", flat=True):
            homes[(level, division)] = homes.get((level, division), 0) + 1
    made = 0
    for town in towns:
        villages = list(
            Division.objects.filter(parent=town, level=DivisionLevel.VILLAGE).values_list("code", flat=True)
        )
        demand = sum(homes.get((Level.PRIMARY, code), 0) for code in villages)
        x, y = town_place[town.code]
        school = services.school_save(
            actor=ACTOR,
            season=season,
            code=f"X{town.code}",
            name=f"{town.name.removesuffix('街道').removesuffix('镇').removesuffix('乡')}中心小学",
            level=Level.PRIMARY,
            kind=School.Kind.PUBLIC,
            town_code=town.code,
            longitude=x,
            latitude=y,
            seats=max(2, round(demand * rng.uniform(0.75, 1.3))),
        )
        services.catchment_set(actor=ACTOR, school=school, division_codes=villages)
        made += 1
    for county_code, (x, y) in COUNTY_CENTRES.items():
        county = Division.objects.get(code=county_code)
        villages = list(
            Division.objects.filter(parent__parent=county, level=DivisionLevel.VILLAGE).values_list(
                "code", flat=True
            )
        )
        demand = sum(homes.get((Level.JUNIOR, code), 0) for code in villages)
        town = towns[[t.parent_id for t in towns].index(county_code)]
        school = services.school_save(
            actor=ACTOR,
            season=season,
            code=f"C{county_code}",
            name=f"{county.name}第一中学（初中部）",
            level=Level.JUNIOR,
            kind=School.Kind.PUBLIC,
            town_code=town.code,
            longitude=x,
            latitude=y,
            seats=max(3, round(demand * rng.uniform(0.8, 1.2))),
        )
        services.catchment_set(actor=ACTOR, school=school, division_codes=villages)
        made += 1
    centre = towns[0]
    # A private nine-year school (九年一贯制): one school, seats per entry grade.
    services.school_save(
        actor=ACTOR,
        season=season,
        code="M360302",
        name="萍乡市育才实验学校",
        level=SchoolLevel.NINE_YEAR,
        kind=School.Kind.PRIVATE,
        town_code=centre.code,
        longitude=COUNTY_CENTRES["360302"][0] + 0.01,
        latitude=COUNTY_CENTRES["360302"][1] + 0.01,
        seats={Level.PRIMARY: 12, Level.JUNIOR: 10},
    )
    made += 1
    return made


def _citizen_child() -> str | None:
    """The demo citizen's child of primary entry age (created when the household has none)."""
    from yiwang.core.ids import resident_id_build
    from yiwang.registry.models import HouseholdMember, Person, Relation
    from yiwang.registry.selectors import person_membership
    from yiwang.registry.services import person_create

    parent = Person.objects.filter(user__username=Role.CITIZEN).first()
    if parent is None:
        return None
    membership = person_membership(person=parent)
    if membership is None:
        return None
    low, high = _age_range(Level.PRIMARY)
    existing = HouseholdMember.objects.filter(
        household=membership.household,
        person__birth_date__range=(low, high),
        relation__in=(Relation.SON, Relation.DAUGHTER),
    ).first()
    if existing is not None:
        return existing.person.id_number
    born = datetime.date(YEAR - 6, 3, 18)
    for sequence in range(480, 500):
        number = resident_id_build(membership.household.division_id[:6], born, sequence, "F")
        if not Person.objects.filter(id_number=number).exists():
            break
    surname = parent.name[0]
    child = person_create(
        actor=ACTOR,
        data={
            "id_number": number,
            "name": f"{surname}小雨",
            "sex": "F",
            "birth_date": born.isoformat(),
            "birthplace_code": membership.household.division_id[:6],
            "division": membership.household.division_id,
            "address": membership.household.address,
        },
    )
    HouseholdMember.objects.create(household=membership.household, person=child, relation=Relation.DAUGHTER)
    audit_record(
        actor=ACTOR,
        action="enrollment.demo_child",
        object_type="registry.householdmember",
        after={"household": membership.household.number, "relation": Relation.DAUGHTER},
    )
    return child.id_number


def _outside_divisions() -> dict[str, Division]:
    """The migrant families' 户籍 places: one top-level Division row per county, marked
    `is_outside_city` (created once)."""
    made = []
    divisions = {}
    for code, name, _town in ORIGINS:
        division, created = Division.objects.get_or_create(
            code=code,
            defaults={"name": name, "level": DivisionLevel.CITY, "parent": None, "is_outside_city": True},
        )
        divisions[code] = division
        if created:
            made.append(code)
    if made:
        audit_record(
            actor=ACTOR,
            action="enrollment.demo_outside_divisions",
            object_type="core.division",
            after={"created": made},
        )
    return divisions


def _number_free(origin: str, born: datetime.date, sex: str, start: int) -> str:
    from yiwang.core.ids import resident_id_build
    from yiwang.registry.models import Person

    for sequence in range(start, 500):
        number = resident_id_build(origin, born, sequence, sex)
        if not Person.objects.filter(id_number=number).exists():
            return number
    raise RuntimeError(f"no free ID number for {origin} {born} {sex}")


def _day_between(rng: random.Random, low: datetime.date, high: datetime.date) -> datetime.date:
    return low + datetime.timedelta(days=rng.randrange((high - low).days + 1))


def _migrant_household(index: int, rng: random.Random):
    """One migrant family in the registry (created once, found by its household number): the
    father (head), the mother and a child of entry age, all with 户籍 and ID numbers from
    their home county."""
    from yiwang.registry.models import Household, Relation
    from yiwang.registry.seed import MOBILE_PREFIXES
    from yiwang.registry.services import household_create

    origin, origin_name, town = ORIGINS[index % len(ORIGINS)]
    number = f"{origin}000000{90001 + index:05d}"
    level = Level.JUNIOR if index in MIGRANT_JUNIOR else Level.PRIMARY
    child_born = _day_between(rng, *_age_range(level))
    parent_year = child_born.year - rng.randint(26, 34)
    father_born = _day_between(rng, datetime.date(parent_year - 2, 1, 1), datetime.date(parent_year, 12, 31))
    mother_born = _day_between(rng, datetime.date(parent_year, 1, 1), datetime.date(parent_year + 2, 12, 31))
    child_sex = rng.choice("MF")
    surname, mother_surname = rng.choice(SURNAMES), rng.choice(SURNAMES)
    names = (
        surname + rng.choice(MEN),
        mother_surname + rng.choice(WOMEN),
        surname + rng.choice(BOYS if child_sex == "M" else GIRLS),
    )
    phones = [rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}" for _parent in range(2)]
    address = f"{origin_name}{town}{rng.randint(1, 12)}组{rng.randint(1, 60)}号"
    household = Household.objects.filter(number=number).first()
    if household is not None:
        return household, False
    start = 300 + index  # clear of the demo city's own numbers issued elsewhere (from 0 up)
    members = [
        {"id_number": _number_free(origin, father_born, "M", start), "relation": Relation.HEAD},
        {"id_number": _number_free(origin, mother_born, "F", start), "relation": Relation.SPOUSE},
        {
            "id_number": _number_free(origin, child_born, child_sex, start),
            "relation": Relation.SON if child_sex == "M" else Relation.DAUGHTER,
        },
    ]
    for member, name, phone in zip(members, names, [*phones, ""], strict=True):
        member.update(name=name, division=origin, address=address, phone=phone)
    household = household_create(
        actor=ACTOR, data={"number": number, "division": origin, "address": address, "members": members}
    )
    return household, True


def _push_missing(code: str, records: list[dict[str, Any]], key: str) -> int:
    """Push through the exchange's ingest (as the owning department's system) the records
    whose keys the resource does not hold yet. Returns how many were pushed."""
    import json

    from yiwang.exchange.models import Record
    from yiwang.exchange.selectors import resource_get
    from yiwang.exchange.services import records_ingest

    resource = resource_get(code=code)
    held = set(
        Record.objects.filter(resource=resource, key__in=[r[key] for r in records]).values_list(
            "key", flat=True
        )
    )
    missing = [record for record in records if record[key] not in held]
    if missing:
        content = "\n".join(json.dumps(record, ensure_ascii=False) for record in missing).encode()
        report = records_ingest(actor=ACTOR, resource=resource, content=content, name="migrants.jsonl")
        if report.errors:
            raise RuntimeError(f"{code}: {report.errors[:3]}")
    return len(missing)


def _migrants(season: Season) -> dict[str, Any]:
    """The 随迁子女 families, their residence permits (公安) and social insurance (人社);
    deterministic, each part made only when missing. Returns the children's ID numbers and
    what was created."""
    from yiwang.registry.models import Enterprise, Relation

    rng = random.Random(f"{SEED}:migrants")
    _outside_divisions()
    communities = list(
        Division.objects.filter(
            level=DivisionLevel.VILLAGE, is_urban=True, parent__parent__code__in=MIGRANT_COUNTIES
        ).order_by("code")
    )
    if not communities:
        return {"children": set(), "families": 0, "records": 0, "first_parent": None}
    employers = list(
        Enterprise.objects.filter(kind=Enterprise.Kind.COMPANY, status=Enterprise.Status.ACTIVE)
        .order_by("id")
        .values_list("uscc", flat=True)[:200]
    )
    made = 0
    children: set[str] = set()
    permits: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    # the 24 months before registration opens (2024-11 … 2026-10), newest first
    opens = season.registration_opens.year * 12 + season.registration_opens.month - 1  # month index
    months = [f"{(opens - back) // 12}-{(opens - back) % 12 + 1:02d}" for back in range(1, 25)]
    first_parent = None
    for index in range(MIGRANT_FAMILIES):
        household, created = _migrant_household(index, rng)
        made += created
        members = {m.relation: m.person for m in household.members.select_related("person")}
        father, mother = members[Relation.HEAD], members[Relation.SPOUSE]
        child = members.get(Relation.SON) or members[Relation.DAUGHTER]
        children.add(child.id_number)
        first_parent = first_parent or father
        community = communities[rng.randrange(len(communities))]
        county = community.parent.parent.name
        home = f"萍乡市{county}{community.parent.name}{community.name}{rng.choice('东西南北')}苑{rng.randint(1, 30)}栋{rng.randint(101, 1808)}室"
        issued = _day_between(rng, datetime.date(2022, 1, 1), datetime.date(2025, 10, 31))
        valid_until = datetime.date(issued.year + 5, issued.month, min(issued.day, 28))  # 5 years
        for parent, suffix in ((father, "1"), (mother, "2")):
            permits.append(
                {
                    "permit_number": f"JZZ{community.code[:6]}{index:04d}{suffix}",
                    "id_number": parent.id_number,
                    "division_code": community.code,
                    "address": home,
                    "issued_on": issued.isoformat(),
                    "valid_until": valid_until.isoformat(),
                    "status": "有效",
                }
            )
        paid = MIGRANT_SHORT.get(index) or rng.randint(13, 24)
        employer = employers[rng.randrange(len(employers))] if employers else ""
        base = rng.choice((3800, 4200, 4500, 5000, 5600, 6200))
        payers = (father, mother) if index % 3 == 0 else (father,)
        for parent, suffix in zip(payers, "12", strict=False):
            for month in months[:paid]:
                payments.append(
                    {
                        "payment_no": f"SQ{index:03d}{suffix}{month.replace('-', '')}",
                        "id_number": parent.id_number,
                        "month": month,
                        "insurance_type": "企业职工基本养老保险",
                        "employer_uscc": employer,
                        "base": f"{base}.00",
                        "amount": f"{base * 8 // 100}.00",
                    }
                )
    pushed = _push_missing(feeds.PERMITS, permits, "permit_number")
    pushed += _push_missing(feeds.SOCIAL_INSURANCE, payments, "payment_no")
    return {
        "children": children,
        "families": made,
        "records": pushed,
        "first_parent": first_parent,
    }


def _migrant_login(parent) -> bool:
    """The demo login `migrant_parent` (a citizen) for the first migrant family's father."""
    from yiwang.core.services import user_create
    from yiwang.registry.models import Person

    if parent is None or User.objects.filter(username=MIGRANT_LOGIN).exists():
        return False
    user = user_create(
        actor=ACTOR,
        username=MIGRANT_LOGIN,
        password=settings.YIWANG_DEMO_PASSWORD,
        display_name=parent.name,
        roles=[(Role.CITIZEN, None, None)],
        phone=parent.phone,
    )
    if Person.objects.filter(pk=parent.pk, user__isnull=True).update(user=user):
        audit_record(
            actor=ACTOR,
            action="registry.demo_logins_link",
            object_type="core.user",
            after=[f"{MIGRANT_LOGIN}→person:{parent.pk}"],
        )
    return True


def _registrations(season: Season, skip: set[str], always: set[str] | None = None) -> tuple[int, int]:
    from yiwang.registry.models import Relation

    pairs = []
    for level in Level.values:
        for child in _children(level).select_related("membership__household__head").order_by("id"):
            # each child's own draw: the same children are chosen however often the seed runs
            if child.id_number in skip or (
                child.id_number not in (always or set())
                and random.Random(f"{SEED}:{child.id_number}").random() > 0.85
            ):
                continue
            membership = child.membership
            if (
                membership.relation not in (Relation.SON, Relation.DAUGHTER)
                or membership.household.head is None
            ):
                continue
            pairs.append((child.id_number, membership.household.head))
    if Registration.objects.filter(season=season).exists():
        pairs = [
            (c, g)
            for c, g in pairs
            if not Registration.objects.filter(season=season, child__id_number=c).exists()
        ]
    if not pairs:
        return 0, 0
    made, refused = services.registrations_submit_many(season=season, pairs=pairs, actor=ACTOR)
    private = {
        level: school
        for school in season.schools.filter(kind=School.Kind.PRIVATE).order_by("code")
        for level in school.entry_levels
    }
    for registration in made:
        codes = [registration.catchment_school.code] if registration.catchment_school else []
        draw = random.Random(f"{SEED}:choices:{registration.child.id_number}").random()
        if draw < 0.3 and registration.level in private:
            codes.insert(0, private[registration.level].code)
        elif draw < 0.5:
            other = (
                season.schools.filter(
                    capacities__level=registration.level, kind=School.Kind.PUBLIC, is_open=True
                )
                .exclude(code__in=codes)
                .order_by("code")[int(draw * 1000) % 7 : int(draw * 1000) % 7 + 1]
                .first()
            )
            if other is not None:
                codes.insert(0, other.code)
        if codes:
            services.choices_set(registration=registration, school_codes=codes, actor=ACTOR)
    return len(made), len(refused)


def enrollment_demo_seed() -> dict[str, Any]:
    rng = random.Random(SEED)
    decider = _decider()
    if decider is None:
        raise RuntimeError("No chief data officer (a data steward of ZS) or admin: run `yiwang seed` first.")
    setup = enrollment_setup(decider=decider)
    with transaction.atomic():
        roles = _bureau_roles()
        season = _season()
        schools = _schools(season, rng)
        child = _citizen_child()
        migrants = _migrants(season)
        login = _migrant_login(migrants["first_parent"])
    registered, refused = _registrations(
        season, skip={child} if child else set(), always=migrants["children"]
    )
    run = None
    if registered or not season.runs.filter(in_force=True).exists():
        run = services.allocation_run(season=season, actor=ACTOR)
    return {
        "grants": setup["grants"],
        "published": setup["published"],
        "roles": roles,
        "schools": schools,
        "citizen_child": bool(child),
        "migrant_families": migrants["families"],
        "migrant_records": migrants["records"],
        "migrant_login": login,
        "registered": registered,
        "refused": refused,
        "run": run.number if run else None,
        "stability": run.stability if run else "",
    }
