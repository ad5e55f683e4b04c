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
6. Registrations for about 85% of the other children of entry age (the household head
   registers), with the catchment school first and sometimes a private or another school.
7. One allocation run.
"""

from __future__ import annotations

import datetime
import math
import random
from typing import Any

from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division, DivisionLevel, Role, RoleAssignment, User
from yiwang.enrollment import services
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


def _registrations(season: Season, skip: set[str]) -> tuple[int, int]:
    from yiwang.registry.models import Relation

    pairs = []
    for level in Level.values:
        for child in _children(level).select_related("membership__household__head").order_by("id"):
            # each child's own draw: the same children are chosen however often the seed runs
            if child.id_number in skip or random.Random(f"{SEED}:{child.id_number}").random() > 0.85:
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
    registered, refused = _registrations(season, skip={child} if child else set())
    run = None
    if not season.runs.filter(in_force=True).exists():
        run = services.allocation_run(season=season, actor=ACTOR)
    return {
        "grants": setup["grants"],
        "published": setup["published"],
        "roles": roles,
        "schools": schools,
        "citizen_child": bool(child),
        "registered": registered,
        "refused": refused,
        "run": run.number if run else None,
        "stability": run.stability if run else "",
    }
