"""The enrollment verbs: configure a season, register a child (facts fetched through the
exchange, the priority class decided by the rules), allocate seats (deferred acceptance, then
coordination), and seat an appellant. Each is one transaction with its audit entry.

How a priority class is decided. The catchment geography is the application's own data
(Catchment rows: villages/communities and single property units per school). At
registration the app reads, through the exchange as the education bureau with a purpose,
the child's 户籍 (ga.persons, ga.household_members, ga.households), the parents' property
(bdcdj.property_owners, bdcdj.properties), residence permit (ga.residence_permit_holders) and
social insurance (rs.social_insurance_payments); it works out the child's catchment school
and the facts the rules need (户籍 in the catchment, property in the catchment, same address,
permit in the catchment and valid, months of social insurance) and pushes them as one record
of the bureau's own feed jy.enrollment_facts. The class rules (rules/*.yaml, loaded with
rule_file_load) run over that feed: the class is the first rule the registration meets
(class 5 when it meets none). What the parent is shown is the rules engine's explanation.

Priorities at a school. A public school ranks the children of its own catchment by their
class and everyone else after them (class 9, 学区外); a private school ranks every applicant
alike (class 0: 民办学校电脑派位). Within a class the season's tie-breaks apply in order
(earlier property registration, shorter distance), and the published lottery last:
lottery = SHA-256("<seed>:<registration number>"), so anyone can recompute it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, Forbidden, NotFound
from yiwang.core.ids import resident_id_parse
from yiwang.core.models import Department, Division
from yiwang.enrollment import feeds
from yiwang.enrollment.access import BUREAU_CODE, access_bureau
from yiwang.enrollment.models import (
    ENTRY_AGE,
    ENTRY_GRADE_LABEL,
    SCHOOL_ENTRY_LEVELS,
    AllocationRun,
    Appeal,
    Catchment,
    Choice,
    GradeCapacity,
    Level,
    Locality,
    Placement,
    Registration,
    School,
    SchoolLevel,
    Season,
    TieBreak,
)

PURPOSE = "义务教育招生入学报名资格审核"
RULES_DIR = Path(__file__).resolve().parent / "rules"
CLASS_RULES = (
    (1, "enrollment.class1"),
    (2, "enrollment.class2"),
    (3, "enrollment.class3"),
    (4, "enrollment.class4"),
)
CLASS_OTHER = 5  # registered, meets no class rule
CLASS_OUTSIDE = 9  # applying to a public school outside the child's catchment
CLASS_PRIVATE = 0  # every applicant of a private school: lottery only
HOUSING_USES = ("residential", "homestead")
KM_PER_DEGREE_LATITUDE = 110.57
LATITUDE_0 = 27.6  # the demo city's latitude: for distances on the plane


# --- rules ----------------------------------------------------------------------------------


def enrollment_rules_load() -> list[str]:
    """Load the class rules shipped in rules/*.yaml (idempotent). Returns the rule codes."""
    from yiwang.rules.services import rule_file_load

    codes = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        version = rule_file_load(raw=raw, source=f"enrollment/rules/{path.name}")
        codes.append(version.rule.code)
    return codes


def class_definitions() -> list[tuple[int, str, dict]]:
    from yiwang.rules.services import rule_in_force

    try:
        return [(number, code, rule_in_force(code=code).definition) for number, code in CLASS_RULES]
    except NotFound:
        raise Conflict(
            _(
                "The enrollment class rules are not loaded: run `yiwang enrollment_seed` or load the rule files."
            )
        ) from None


def _rule_options(actor: Any) -> dict[str, Any]:
    """consumer= / purpose= / actor= for the rules engine, where it takes them."""
    import inspect

    from yiwang.rules.services import rule_evaluate

    accepted = inspect.signature(rule_evaluate).parameters
    options: dict[str, Any] = {}
    if "consumer" in accepted:
        options["consumer"] = bureau_department()
    if "purpose" in accepted:
        options["purpose"] = PURPOSE
    if "actor" in accepted:
        options["actor"] = actor if getattr(actor, "pk", None) else None
    return options


def classes_decide(*, numbers: list[str], on: datetime.date, actor: Any = None) -> dict[str, tuple[int, str]]:
    """The class of each registration (by number) from the facts records: the first class
    rule it meets, else class 5. One batch statement per rule (the rules' batch face)."""
    from yiwang.rules.services import rule_evaluate

    decided: dict[str, tuple[int, str]] = {}
    options = _rule_options(actor)
    for number, code, definition in class_definitions():
        left = [subject for subject in numbers if subject not in decided]
        if not left:
            break
        for row in rule_evaluate(definition, on=on, subjects=left, eligible_only=True, **options):
            decided.setdefault(str(row["subject"]), (number, code))
    return {subject: decided.get(subject, (CLASS_OTHER, "")) for subject in numbers}


def class_explanations(
    *, registration: Registration, on: datetime.date | None = None, actor: Any = None
) -> list:
    """The rules engine's explanation of the registration's class: the rule it met and each
    better class's rule it did not meet (why not a better class)."""
    from yiwang.rules.services import rule_explain

    on = on or registration.submitted_at.date()
    options = _rule_options(actor)
    import inspect

    accepted = inspect.signature(rule_explain).parameters
    options = {name: value for name, value in options.items() if name in accepted}
    shown = []
    for number, _code, definition in class_definitions():
        if number > registration.priority_class:
            break
        found = rule_explain(definition, subjects=[registration.number], on=on, **options)
        if found:
            shown.append((number, definition.get("title", ""), found[0]))
    return shown


# --- the bureau and the season ------------------------------------------------------------


def bureau_department() -> Department:
    department = Department.objects.filter(code=BUREAU_CODE).first()
    if department is None:
        raise Conflict(_("The education bureau (department JY) is not configured."))
    return department


def _require_bureau(actor: Any) -> None:
    if isinstance(actor, str) and actor.startswith("system:"):
        return
    if not access_bureau(actor):
        raise Forbidden(_("Only the education bureau may do this."))


@transaction.atomic
def season_configure(
    *,
    actor: Any,
    year: int,
    title: str,
    registration_opens: datetime.date,
    registration_closes: datetime.date,
    allocation_on: datetime.date,
    results_on: datetime.date,
    lottery_seed: str,
    tie_breaks: list[str] | None = None,
    max_choices: int = 5,
    appeal_days: int = 5,
    redraw: bool = False,
) -> Season:
    """Create or change a season. The key dates must follow one another; the tie-breaks are
    known ones, each at most once (the lottery is always applied last).

    The lottery seed is published so anyone can recompute the draw: once an allocation run
    has drawn with it, changing it is refused (naming the field and the run) unless the
    bureau asks for a new draw explicitly (`redraw`): then the new seed and a new allocation
    run with it happen in this one transaction, and the earlier runs keep the seed they drew
    with. Changing the tie-breaks or the number of choices after a run marks the run in force
    stale (it must run again)."""
    _require_bureau(actor)
    errors = ErrorCollector()
    if not title.strip():
        errors.add("title", _("A season needs a title."))
    if not registration_opens <= registration_closes:
        errors.add("registration_closes", _("Registration must close after it opens."))
    if not registration_closes <= allocation_on:
        errors.add("allocation_on", _("The allocation comes after registration closes."))
    if not allocation_on <= results_on:
        errors.add("results_on", _("Results are published after the allocation."))
    seed = str(lottery_seed).strip()
    if not seed:
        errors.add("lottery_seed", _("Publish a lottery seed."))
    tie_breaks = list(tie_breaks if tie_breaks is not None else [TieBreak.PROPERTY_DATE, TieBreak.DISTANCE])
    for index, name in enumerate(tie_breaks):
        if name not in TieBreak.values or name == TieBreak.LOTTERY:
            errors.add(("tie_breaks", index), _("Unknown tie-break (the lottery always comes last)."))
        elif name in tie_breaks[:index]:
            errors.add(("tie_breaks", index), _("This tie-break is already in the order."))
    if not 1 <= max_choices <= 10:
        errors.add("max_choices", _("Between 1 and 10 choices."))
    if not 1 <= appeal_days <= 60:
        errors.add("appeal_days", _("Between 1 and 60 working days."))
    season = Season.objects.select_for_update().filter(year=year).first()
    drawn = season.runs.order_by("-number").first() if season is not None else None
    reseeded = season is not None and seed and seed != season.lottery_seed
    if reseeded and drawn is not None and not redraw:
        errors.add(
            "lottery_seed",
            _(
                "The lottery seed “%(seed)s” is published and allocation run %(run)d drew with it; it cannot "
                "change unless you start a new draw with the new seed."
            )
            % {"seed": season.lottery_seed, "run": drawn.number},
        )
    errors.raise_if_any()
    values = {
        "title": title.strip(),
        "registration_opens": registration_opens,
        "registration_closes": registration_closes,
        "allocation_on": allocation_on,
        "results_on": results_on,
        "lottery_seed": seed,
        "tie_breaks": tie_breaks,
        "max_choices": max_choices,
        "appeal_days": appeal_days,
    }
    before = {name: str(getattr(season, name)) for name in values} if season is not None else {}
    created = season is None
    if created:
        season = Season.objects.create(year=year, **values)
    else:
        for name, value in values.items():
            setattr(season, name, value)
        season.save()
    changed = {name: str(value) for name, value in values.items() if before.get(name) != str(value)}
    audit_record(
        actor=actor,
        action="enrollment.season_configure",
        target=season,
        before={name: before[name] for name in changed if name in before},
        after={**changed, "created": created, "redraw": bool(reseeded and drawn is not None)},
    )
    if drawn is not None and ({"tie_breaks", "max_choices"} & set(changed)) and not reseeded:
        _run_mark_stale(
            season=season,
            reason=_("The tie-breaks or the number of choices changed after the allocation."),
        )
    if reseeded and drawn is not None:
        allocation_run(season=season, actor=actor)
    return season


def _run_mark_stale(*, season: Season, reason: str) -> AllocationRun | None:
    """The run in force no longer matches the configuration: marked (the first reason kept),
    hidden from parents until the bureau runs the allocation again."""
    run = season.runs.filter(in_force=True).first()
    if run is None:
        return None
    if run.stale_since is None:
        AllocationRun.objects.filter(pk=run.pk, stale_since__isnull=True).update(
            stale_since=timezone.now(), stale_reason=str(reason)[:255]
        )
        run.refresh_from_db()
    return run


@transaction.atomic
def school_save(
    *,
    actor: Any,
    season: Season,
    code: str,
    name: str,
    level: str,
    kind: str,
    town_code: str,
    longitude: float,
    latitude: float,
    seats: int | dict[str, int],
    address: str = "",
    is_open: bool = True,
) -> School:
    """Create or change a school. `seats` are per entry grade: {"primary": 一年级 seats,
    "junior": 七年级 seats} — a nine-year school (九年一贯制) needs both; a number is the one
    entry grade of a primary or junior school.

    After an allocation run, the result is the bureau's promise to the families placed: seats
    of a grade cannot go below the children the run in force placed there (refused naming the
    school and the numbers), nor can a school with children placed stop enrolling; any other
    change of seats or enrolling marks the run stale, to be run again before parents see it."""
    _require_bureau(actor)
    errors = ErrorCollector()
    if not code.strip():
        errors.add("code", _("A school needs a code."))
    if not name.strip():
        errors.add("name", _("A school needs a name."))
    if level not in SchoolLevel.values:
        errors.add("level", _("Primary, junior middle or nine-year school."))
    if kind not in School.Kind.values:
        errors.add("kind", _("Public or private."))
    town = Division.objects.filter(code=town_code).first()
    if town is None:
        errors.add("town", _("Unknown division code %s.") % town_code)
    if not (-180 <= float(longitude) <= 180 and -90 <= float(latitude) <= 90):
        errors.add("longitude", _("Not a place on the map."))
    levels = SCHOOL_ENTRY_LEVELS[SchoolLevel(level)] if level in SchoolLevel.values else ()
    wanted: dict[str, int] = {}
    if isinstance(seats, dict):
        for grade_level in levels:
            if grade_level not in seats:
                errors.add(("seats", grade_level), _("Give the seats of this entry grade."))
            else:
                wanted[grade_level] = int(seats[grade_level])
    elif len(levels) > 1:
        errors.add(("seats", levels[0]), _("A nine-year school has seats in each entry grade."))
    elif levels:
        wanted[levels[0]] = int(seats)
    for grade_level, number in wanted.items():
        if number < 0:
            errors.add(("seats", grade_level), _("Seats cannot be negative."))
    school = School.objects.select_for_update().filter(season=season, code=code.strip()).first()
    run = season.runs.filter(in_force=True).first() if school is not None else None
    before: dict[str, Any] = {}
    if school is not None:
        before = {row.level: row.seats for row in school.capacities.all()}
        before["is_open"] = school.is_open
    if run is not None:
        placed = dict(
            Placement.objects.filter(run=run, school=school)
            .values_list("registration__level")
            .annotate(count=Count("pk"))
            .values_list("registration__level", "count")
        )
        for grade_level, number in wanted.items():
            row = school.capacity_at(grade_level)
            total = number + (row.added_seats if row else 0)
            if total < placed.get(grade_level, 0):
                errors.add(
                    ("seats", grade_level),
                    _(
                        "%(school)s has %(placed)d children placed in %(grade)s by allocation run %(run)d: "
                        "its seats cannot go below that (%(seats)d asked)."
                    )
                    % {
                        "school": school.name,
                        "placed": placed[grade_level],
                        "grade": ENTRY_GRADE_LABEL[Level(grade_level)],
                        "run": run.number,
                        "seats": total,
                    },
                )
        if not is_open and sum(placed.values()):
            errors.add(
                "is_open",
                _("%(school)s has %(placed)d children placed by allocation run %(run)d: it keeps enrolling.")
                % {"school": school.name, "placed": sum(placed.values()), "run": run.number},
            )
    errors.raise_if_any()
    school, created = School.objects.update_or_create(
        season=season,
        code=code.strip(),
        defaults={
            "name": name.strip(),
            "level": level,
            "kind": kind,
            "town": town,
            "longitude": float(longitude),
            "latitude": float(latitude),
            "address": address,
            "is_open": is_open,
        },
    )
    school.capacities.exclude(level__in=list(wanted)).delete()
    for grade_level, number in wanted.items():
        GradeCapacity.objects.update_or_create(school=school, level=grade_level, defaults={"seats": number})
    after = {**wanted, "is_open": is_open}
    changed = {key: value for key, value in after.items() if before.get(key) != value}
    if run is not None and changed:
        _run_mark_stale(
            season=season,
            reason=_("Seats or enrolling of %(school)s changed after the allocation.")
            % {"school": school.name},
        )
    audit_record(
        actor=actor,
        action="enrollment.school_save",
        target=school,
        before=before or None,
        after={"code": school.code, "seats": wanted, "is_open": is_open, "created": created},
    )
    return school


@transaction.atomic
def catchment_set(
    *, actor: Any, school: School, division_codes: list[str], unit_numbers: list[str] | None = None
) -> School:
    """Replace a school's catchment: whole villages/communities and single property units
    (a nine-year school's catchment serves both its entry grades). Refused with each bad row
    named: an unknown village, a village or unit that already belongs to another school
    enrolling the same entry grade."""
    _require_bureau(actor)
    from yiwang.registry.selectors import property_search

    errors = ErrorCollector()
    divisions = {d.code: d for d in Division.objects.filter(code__in=division_codes)}
    shared = School.objects.filter(season=school.season, capacities__level__in=school.entry_levels)
    taken = dict(
        Catchment.objects.filter(school__in=shared, division_id__in=division_codes)
        .exclude(school=school)
        .values_list("division_id", "school__name")
    )
    for index, code in enumerate(division_codes):
        if code not in divisions:
            errors.add(("division_codes", index), _("Unknown division code %s.") % code)
        elif code in taken:
            errors.add(
                ("division_codes", index),
                _("%(village)s already belongs to %(school)s.")
                % {"village": divisions[code].name, "school": taken[code]},
            )
    units = [str(unit).strip().upper() for unit in unit_numbers or []]
    known = set(property_search().filter(unit_number__in=units).values_list("unit_number", flat=True))
    taken_units = dict(
        Catchment.objects.filter(school__in=shared, unit_number__in=units)
        .exclude(school=school)
        .values_list("unit_number", "school__name")
    )
    for index, unit in enumerate(units):
        if unit not in known:
            errors.add(("unit_numbers", index), _("No property with unit number %s.") % unit)
        elif unit in taken_units:
            errors.add(("unit_numbers", index), _("This unit already belongs to %s.") % taken_units[unit])
    errors.raise_if_any()
    school.catchments.all().delete()
    Catchment.objects.bulk_create(
        [Catchment(school=school, division=divisions[code]) for code in dict.fromkeys(division_codes)]
        + [Catchment(school=school, unit_number=unit) for unit in dict.fromkeys(units)]
    )
    audit_record(
        actor=actor,
        action="enrollment.catchment_set",
        target=school,
        after={"divisions": len(division_codes), "units": len(units)},
    )
    return school


@transaction.atomic
def localities_set(*, actor: Any, places: dict[str, tuple[float, float]]) -> int:
    """Where villages/communities lie (longitude, latitude of their centre)."""
    _require_bureau(actor)
    for code, (longitude, latitude) in places.items():
        Locality.objects.update_or_create(
            division_id=code, defaults={"longitude": float(longitude), "latitude": float(latitude)}
        )
    audit_record(
        actor=actor,
        action="enrollment.localities_set",
        object_type="enrollment.locality",
        after={"count": len(places)},
    )
    return len(places)


# --- configuration checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    level: str  # "error" blocks the allocation; "warning" does not
    code: str
    message: str
    where: str = ""


def config_check(*, season: Season) -> list[Problem]:
    """What is wrong or risky in a season's configuration, in words:
    - gap: a village/community with households that no school of a level covers;
    - class1_over_capacity: a school's class-1 children outnumber its seats;
    - closed_school_chosen: a registration ranks a school that does not enroll this season;
    - no_location: a village where registered children live has no place on the map;
    - no_catchment: a public school with no catchment."""
    from yiwang.registry.selectors import household_list

    problems: list[Problem] = []
    schools = list(season.schools.prefetch_related("capacities"))
    run = season.runs.filter(in_force=True).first()
    if run is not None and run.stale_since is not None:
        problems.append(
            Problem(
                "warning",
                "stale_result",
                _(
                    "Allocation run %(run)d no longer matches the configuration (%(reason)s): run the "
                    "allocation again; parents do not see its result until then."
                )
                % {"run": run.number, "reason": run.stale_reason},
            )
        )
    for level in Level.values:
        if not any(level in school.entry_levels for school in schools):
            continue
        covered = set(
            Catchment.objects.filter(
                school__season=season, school__capacities__level=level, division__isnull=False
            ).values_list("division_id", flat=True)
        )
        inhabited = set(  # (a 户籍 outside the city is in no catchment by nature)
            household_list()
            .filter(division__is_outside_city=False)
            .values_list("division_id", flat=True)
            .distinct()
        )
        gaps = sorted(inhabited - covered)
        if gaps:
            names = dict(Division.objects.filter(code__in=gaps[:20]).values_list("code", "name"))
            listed = "、".join(f"{names.get(code, code)}（{code}）" for code in gaps[:20])
            more = _("and %d more") % (len(gaps) - 20) if len(gaps) > 20 else ""
            problems.append(
                Problem(
                    "warning",
                    "gap",
                    _(
                        "%(count)d villages/communities with households are in no %(level)s catchment: %(list)s %(more)s"
                    )
                    % {"count": len(gaps), "level": Level(level).label, "list": listed, "more": more},
                    where=level,
                )
            )
    class_one: dict[tuple[int, str], int] = defaultdict(int)
    for school_id, level in Registration.objects.filter(
        season=season, state=Registration.State.SUBMITTED, priority_class=1, catchment_school__isnull=False
    ).values_list("catchment_school_id", "level"):
        class_one[(school_id, level)] += 1
    for school in schools:
        for level in school.entry_levels:
            children, seats = class_one.get((school.pk, level), 0), school.seats_at(level)
            if children > seats:
                problems.append(
                    Problem(
                        "warning",
                        "class1_over_capacity",
                        _(
                            "%(school)s has %(children)d class-1 children in its catchment but %(seats)d seats "
                            "(%(grade)s)."
                        )
                        % {
                            "school": school.name,
                            "children": children,
                            "seats": seats,
                            "grade": ENTRY_GRADE_LABEL[Level(level)],
                        },
                        where=school.code,
                    )
                )
        if school.kind == School.Kind.PUBLIC and school.is_open and not school.catchments.exists():
            problems.append(
                Problem("warning", "no_catchment", _("%s has no catchment.") % school.name, where=school.code)
            )
    closed = (
        Choice.objects.filter(
            registration__season=season,
            registration__state=Registration.State.SUBMITTED,
            school__is_open=False,
        )
        .select_related("registration", "school")
        .order_by("registration__number")
    )
    for choice in closed[:50]:
        problems.append(
            Problem(
                "error",
                "closed_school_chosen",
                _("Registration %(number)s ranks %(school)s, which does not enroll this season.")
                % {"number": choice.registration.number, "school": choice.school.name},
                where=choice.registration.number,
            )
        )
    submitted = Registration.objects.filter(season=season, state=Registration.State.SUBMITTED)
    outside = outside_divisions()
    homes = set(
        submitted.exclude(home_division_id__in=outside).values_list("home_division_id", flat=True).distinct()
    )
    homes |= {  # a 户籍 outside the city: where the residence permit says the child lives
        living_division(registration, outside=outside)
        for registration in submitted.filter(home_division_id__in=outside).select_related("catchment_school")
    } - {""}
    placed = set(Locality.objects.filter(division_id__in=homes).values_list("division_id", flat=True))
    for code in sorted(homes - placed)[:20]:
        problems.append(
            Problem(
                "warning",
                "no_location",
                _("Village %s has no place on the map: distances use its catchment school.") % code,
                where=code,
            )
        )
    return problems


# --- geography ---------------------------------------------------------------------------------


def outside_divisions() -> set[str]:
    """Codes of the divisions outside the city (户籍 places of migrant families)."""
    return set(Division.objects.filter(is_outside_city=True).values_list("code", flat=True))


def living_division(registration: Registration, *, outside: set[str]) -> str:
    """The village/community where the child lives: the 户籍's; for a 户籍 outside the city
    (`outside`: outside_divisions()) the residence permit's, the one of the catchment school
    first ("" when there is none)."""
    if registration.home_division_id not in outside:
        return registration.home_division_id
    catchment = registration.catchment_school.code if registration.catchment_school_id else ""
    permits = sorted(
        (registration.facts or {}).get("permits") or [],
        key=lambda permit: permit.get("catchment_school") != catchment,
    )
    return next((str(p["division_code"]) for p in permits if p.get("division_code")), "")


def plane_xy(longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
    """Kilometres on a plane through the city (equirectangular: exact enough within a city)."""
    scale = KM_PER_DEGREE_LATITUDE * math.cos(math.radians(LATITUDE_0))
    return np.column_stack((np.asarray(longitude) * scale, np.asarray(latitude) * KM_PER_DEGREE_LATITUDE))


@dataclass
class CatchmentMap:
    by_division: dict[tuple[str, str], School]
    by_unit: dict[tuple[str, str], School]

    def school_of(self, level: str, *, division: str | None = None, unit: str | None = None) -> School | None:
        if unit and (level, unit) in self.by_unit:
            return self.by_unit[(level, unit)]
        if division:
            return self.by_division.get((level, division))
        return None


def catchment_map(season: Season) -> CatchmentMap:
    """Which open school's catchment each village/community and property unit is in, per
    entry level (one School object per school, shared)."""
    by_division: dict[tuple[str, str], School] = {}
    by_unit: dict[tuple[str, str], School] = {}
    schools = {school.pk: school for school in School.objects.filter(season=season, is_open=True)}
    rows = Catchment.objects.filter(school_id__in=list(schools)).values_list(
        "school_id", "division_id", "unit_number"
    )
    for school_id, division_id, unit_number in rows:
        school = schools[school_id]
        for level in school.entry_levels:
            if division_id:
                by_division[(level, division_id)] = school
            else:
                by_unit[(level, unit_number)] = school
    return CatchmentMap(by_division, by_unit)


# --- registration ------------------------------------------------------------------------------


@dataclass
class Gathered:
    """What the exchange told about a child and the parents, and what follows from it."""

    child: dict[str, Any]
    level: str
    household_number: str
    household: dict[str, Any]
    home_division: str
    parents: list[str]
    properties: list[dict[str, Any]] = field(default_factory=list)
    permits: list[dict[str, Any]] = field(default_factory=list)
    insurance_months: int = 0
    catchment_school: School | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    property_registered_on: datetime.date | None = None
    warnings: list[str] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        """What is stored with the registration (and shown to the parent)."""
        return {
            "child": self.child,
            "household_number": self.household_number,
            "household": self.household,
            "properties": self.properties,
            "permits": self.permits,
            "insurance_months": self.insurance_months,
            "flags": self.flags,
            "warnings": self.warnings,
        }


def _months_before(day: datetime.date, months: int) -> str:
    index = day.year * 12 + day.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def entry_level(*, season: Season, birth_date: datetime.date) -> str | None:
    """The level a child of this birth date enrolls into this season (age on 31 August)."""
    cutoff = datetime.date(season.year, 8, 31)
    age = cutoff.year - birth_date.year - ((cutoff.month, cutoff.day) < (birth_date.month, birth_date.day))
    if age == ENTRY_AGE[Level.PRIMARY][0]:
        return Level.PRIMARY
    if age == 12:
        return Level.JUNIOR
    return None


def facts_gather(
    *,
    season: Season,
    child_id_number: str,
    guardian_id_number: str,
    actor: Any,
    places: CatchmentMap | None = None,
) -> Gathered:
    """Read everything a registration needs through the exchange, as the education bureau,
    with the enrollment purpose (each read leaves its evidence). Raises FieldErrors naming
    `child_id_number` when the child cannot be registered by this parent."""
    from yiwang.exchange.selectors import exchange_read

    consumer = bureau_department()

    def read(resource: str, *, subject=None, filters=None, fields=None) -> list[dict[str, Any]]:
        return exchange_read(
            consumer=consumer,
            resource_code=resource,
            purpose=PURPOSE,
            subject=subject,
            filters=filters,
            fields=fields,
            actor=actor if getattr(actor, "pk", None) else None,
            page_size=200,
        ).rows

    persons = read(
        "ga.persons", subject=child_id_number, fields=["name", "sex", "birth_date", "division_code"]
    )
    if not persons:
        raise FieldErrors.single(
            "child_id_number", _("No one with this ID number is in the population register.")
        )
    child = persons[0]
    birth = datetime.date.fromisoformat(str(child["birth_date"]))
    level = entry_level(season=season, birth_date=birth)
    if level is None:
        raise FieldErrors.single(
            "child_id_number",
            _(
                "%(name)s (born %(born)s) is not of entry age this season: 6 years old (primary) or 12 (junior middle) on 31 August %(year)d."
            )
            % {"name": child["name"], "born": birth.isoformat(), "year": season.year},
        )
    child_rows = read(
        "ga.household_members", subject=child_id_number, fields=["household_number", "relation"]
    )
    parent_rows = read(
        "ga.household_members", subject=guardian_id_number, fields=["household_number", "relation"]
    )
    if (
        not child_rows
        or not parent_rows
        or child_rows[0]["household_number"] != parent_rows[0]["household_number"]
    ):
        raise FieldErrors.single(
            "child_id_number",
            _(
                "%s is not in your household (户籍): only a parent or guardian in the same household may register a child."
            )
            % child["name"],
        )
    number = child_rows[0]["household_number"]
    households = read("ga.households", subject=number, fields=["division_code", "address"])
    household = households[0] if households else {}
    members = read(
        "ga.household_members", filters={"household_number": number}, fields=["id_number", "relation"]
    )
    relation = parent_rows[0]["relation"]
    partner = {"02": "10", "10": "02"}.get(relation)
    parents = [guardian_id_number] + [m["id_number"] for m in members if partner and m["relation"] == partner]
    gathered = Gathered(
        child={**child, "id_number": child_id_number},
        level=level,
        household_number=number,
        household=household,
        home_division=str(household.get("division_code") or child.get("division_code") or ""),
        parents=parents,
    )
    for parent in parents:
        for owned in read("bdcdj.property_owners", subject=parent, fields=["unit_number", "share"]):
            for unit in read(
                "bdcdj.properties",
                subject=owned["unit_number"],
                fields=["unit_number", "use", "division_code", "registered_on", "address"],
            ):
                if unit["use"] in HOUSING_USES and not any(
                    p["unit_number"] == unit["unit_number"] for p in gathered.properties
                ):
                    gathered.properties.append(unit)
        gathered.permits += read(
            feeds.PERMITS, subject=parent, fields=["permit_number", "division_code", "valid_until", "status"]
        )
    window = (_months_before(season.registration_opens, 24), _months_before(season.registration_opens, 0))
    months: set[str] = set()
    for parent in parents:
        for row in read(feeds.SOCIAL_INSURANCE, subject=parent, fields=["month"]):
            month = str(row.get("month") or "")
            if window[0] <= month < window[1]:
                months.add(month)
    gathered.insurance_months = len(months)
    _catchment_decide(season, gathered, places=places)
    return gathered


def _catchment_decide(season: Season, gathered: Gathered, *, places: CatchmentMap | None = None) -> None:
    """The child's catchment school and the facts the class rules read."""
    places = places or catchment_map(season)
    level = gathered.level
    hukou_school = places.school_of(level, division=gathered.home_division)
    address = "".join(str(gathered.household.get("address") or "").split())
    owned = []
    for unit in gathered.properties:
        school = places.school_of(level, division=unit["division_code"], unit=unit["unit_number"])
        unit["catchment_school"] = school.code if school else ""
        if school is not None:
            owned.append((school, unit))
    valid_permits = [
        p
        for p in gathered.permits
        if p.get("status", "有效") in ("有效", "valid")
        and str(p.get("valid_until") or "") >= season.registration_opens.isoformat()
    ]
    permit_school = None
    for permit in gathered.permits:
        school = places.school_of(level, division=permit.get("division_code"))
        permit["catchment_school"] = school.code if school else ""
        if school is not None and permit_school is None and permit in valid_permits:
            permit_school = school
    in_hukou = [(school, unit) for school, unit in owned if school == hukou_school]
    if in_hukou:
        catchment = hukou_school
        chosen = in_hukou
    elif owned:
        first = min(owned, key=lambda pair: str(pair[1]["registered_on"]))
        catchment = first[0]
        chosen = [pair for pair in owned if pair[0] == catchment]
    elif permit_school is not None and hukou_school is None:
        catchment, chosen = permit_school, []
    elif hukou_school is not None:
        catchment, chosen = hukou_school, []
    elif permit_school is not None:
        catchment, chosen = permit_school, []
    else:
        catchment, chosen = None, []
        gathered.warnings.append(
            _(
                "No catchment covers your household's address or your property: the bureau will place your child by coordination."
            )
        )
    gathered.catchment_school = catchment
    gathered.flags = {
        "hukou_in_catchment": catchment is not None and hukou_school == catchment,
        "property_in_catchment": bool(chosen),
        "same_address": any("".join(str(unit["address"]).split()) == address for _school, unit in chosen),
        "permit_in_catchment": catchment is not None
        and any(p.get("catchment_school") == catchment.code for p in gathered.permits),
        "permit_valid": bool(valid_permits),
    }
    dates = [str(unit["registered_on"]) for _school, unit in chosen if unit.get("registered_on")]
    gathered.property_registered_on = datetime.date.fromisoformat(min(dates)) if dates else None


def _facts_record(registration: Registration, gathered: Gathered) -> dict[str, Any]:
    return {
        "registration_number": registration.number,
        "child_id_number": registration.child.id_number,
        "season": registration.season.year,
        "level": registration.level,
        "catchment_school": gathered.catchment_school.code if gathered.catchment_school else "",
        **gathered.flags,
        "insurance_months": gathered.insurance_months,
        "property_registered_on": gathered.property_registered_on.isoformat()
        if gathered.property_registered_on
        else None,
    }


def _facts_push(records: list[dict[str, Any]]) -> None:
    from yiwang.exchange.selectors import resource_get
    from yiwang.exchange.services import records_ingest

    content = "\n".join(json.dumps(record, ensure_ascii=False, sort_keys=True) for record in records).encode()
    report = records_ingest(
        actor="system:enrollment",
        resource=resource_get(code=feeds.FACTS),
        content=content,
        name="registrations.jsonl",
    )
    if report.errors:
        raise FieldErrors(
            [(("facts", error["row"], error["column"]), error["reason"]) for error in report.errors]
        )


def _number_next(season: Season) -> str:
    Season.objects.select_for_update().filter(pk=season.pk).first()
    last = (
        Registration.objects.filter(season=season)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[-6:]) + 1 if last else 1
    return f"RX{season.year}{sequence:06d}"


def _guardian_of(actor: Any):
    from yiwang.registry.models import Person

    person = Person.objects.filter(user=actor).first() if getattr(actor, "pk", None) else None
    if person is None:
        raise Forbidden(_("Your account is not linked to a person in the population register."))
    return person


def registration_submit(
    *, season: Season, child_id_number: str, actor: Any, now: datetime.datetime | None = None, guardian=None
) -> Registration:
    """A parent registers a child. The platform fetches what it needs through the exchange,
    decides the catchment and the class by the rules, and ranks the catchment school first.
    Refused, naming the field, when the ID number is not valid, registration is closed, the
    child is not in the parent's household or not of entry age, or is already registered."""
    now = now or timezone.now()
    guardian = guardian or _guardian_of(actor)
    child_id_number = str(child_id_number or "").strip().upper()
    try:
        resident_id_parse(child_id_number)
    except ValueError as error:
        raise FieldErrors.single("child_id_number", str(error)) from None
    today = timezone.localdate(now)
    if not season.registration_opens <= today <= season.registration_closes:
        raise FieldErrors.single(
            "child_id_number",
            _("Registration for %(season)s is open from %(opens)s to %(closes)s.")
            % {
                "season": season.title,
                "opens": season.registration_opens,
                "closes": season.registration_closes,
            },
        )
    existing = Registration.objects.filter(season=season, child__id_number=child_id_number).first()
    if existing is not None:
        raise FieldErrors.single(
            "child_id_number",
            _(
                "This child is already registered (registration %(number)s of %(day)s): a child is registered once per season."
            )
            % {"number": existing.number, "day": timezone.localdate(existing.submitted_at).isoformat()},
        )
    gathered = facts_gather(
        season=season, child_id_number=child_id_number, guardian_id_number=guardian.id_number, actor=actor
    )
    with transaction.atomic():
        registration = _registration_create(
            season=season, gathered=gathered, guardian=guardian, actor=actor, now=now
        )
        _facts_push([_facts_record(registration, gathered)])
        number, rule = classes_decide(numbers=[registration.number], on=today, actor=actor)[
            registration.number
        ]
        Registration.objects.filter(pk=registration.pk).update(priority_class=number, class_rule=rule)
        registration.priority_class, registration.class_rule = number, rule
        audit_record(
            actor=actor,
            action="enrollment.registration_submit",
            target=registration,
            after={"number": registration.number, "level": registration.level, "class": number},
        )
    return registration


def _registration_create(*, season: Season, gathered: Gathered, guardian, actor: Any, now) -> Registration:
    from yiwang.registry.selectors import person_get

    child = person_get(id_number=gathered.child["id_number"])
    registration = Registration.objects.create(
        season=season,
        number=_number_next(season),
        level=gathered.level,
        child=child,
        guardian=guardian,
        submitted_by=actor if getattr(actor, "pk", None) else None,
        household_number=gathered.household_number,
        home_division_id=gathered.home_division,
        facts=gathered.facts(),
        catchment_school=gathered.catchment_school,
        priority_class=CLASS_OTHER,
        property_registered_on=gathered.property_registered_on,
        submitted_at=now,
    )
    if gathered.catchment_school is not None:
        Choice.objects.create(registration=registration, rank=0, school=gathered.catchment_school)
    return registration


def registrations_submit_many(
    *, season: Season, pairs: list[tuple[str, Any]], actor: Any, now: datetime.datetime | None = None
) -> tuple[list[Registration], list[tuple[str, str]]]:
    """Register many children at once (the demo seed, a batch import): (child ID number,
    guardian person) pairs. The facts go to the exchange in one batch and each class rule runs
    once over all of them. Children already registered are skipped; children that cannot be
    registered are returned with the reason (nothing dropped silently)."""
    now = now or timezone.now()
    made: list[tuple[Registration, Gathered]] = []
    refused: list[tuple[str, str]] = []
    places = catchment_map(season)  # once for the batch, not once per child
    with transaction.atomic():
        for child_id_number, guardian in pairs:
            if Registration.objects.filter(season=season, child__id_number=child_id_number).exists():
                continue
            try:
                gathered = facts_gather(
                    season=season,
                    child_id_number=child_id_number,
                    guardian_id_number=guardian.id_number,
                    actor=actor,
                    places=places,
                )
            except FieldErrors as error:
                refused.append((child_id_number, error.errors[0][1]))
                continue
            registration = _registration_create(
                season=season, gathered=gathered, guardian=guardian, actor=actor, now=now
            )
            made.append((registration, gathered))
        if made:
            _facts_push([_facts_record(registration, gathered) for registration, gathered in made])
            decided = classes_decide(
                numbers=[r.number for r, _g in made], on=timezone.localdate(now), actor=actor
            )
            for registration, _gathered in made:
                registration.priority_class, registration.class_rule = decided[registration.number]
            Registration.objects.bulk_update([r for r, _g in made], ["priority_class", "class_rule"])
        audit_record(
            actor=actor,
            action="enrollment.registrations_submit",
            object_type="enrollment.season",
            object_id=str(season.pk),
            after={"registered": len(made), "refused": len(refused)},
        )
    return [registration for registration, _g in made], refused


@transaction.atomic
def choices_set(*, registration: Registration, school_codes: list[str], actor: Any, now=None) -> Registration:
    """The parent's ranked schools (up to the season's limit), before registration closes.
    Refused with the position named: an unknown or closed school, one of another level, a
    school named twice."""
    from yiwang.enrollment.access import access_registration

    system = isinstance(actor, str) and actor.startswith("system:")
    if not system and not access_registration(actor, registration):
        raise NotFound(_("Not found."))
    season = registration.season
    today = timezone.localdate(now or timezone.now())
    if today > season.registration_closes and not system and not access_bureau(actor):
        raise Conflict(_("Registration has closed: the choices can no longer be changed."))
    errors = ErrorCollector(("choices",))
    codes = [str(code).strip() for code in school_codes if str(code).strip()]
    if len(codes) > season.max_choices:
        errors.add((), _("At most %d schools.") % season.max_choices)
    schools = {s.code: s for s in School.objects.filter(season=season, code__in=codes)}
    seen: set[str] = set()
    for index, code in enumerate(codes):
        school = schools.get(code)
        if school is None:
            errors.add((index,), _("Unknown school %s.") % code)
        elif not school.is_open:
            errors.add((index,), _("%s does not enroll this season.") % school.name)
        elif registration.level not in school.entry_levels:
            errors.add(
                (index,),
                _("%(school)s is a %(level)s.")
                % {"school": school.name, "level": school.get_level_display()},
            )
        elif code in seen:
            errors.add((index,), _("%s is named twice.") % school.name)
        seen.add(code)
    errors.raise_if_any()
    registration.choices.all().delete()
    Choice.objects.bulk_create(
        [
            Choice(registration=registration, rank=index, school=schools[code])
            for index, code in enumerate(codes)
        ]
    )
    audit_record(actor=actor, action="enrollment.choices_set", target=registration, after={"choices": codes})
    return registration


# --- allocation ----------------------------------------------------------------------------------


def lottery_value(seed: str, number: str) -> int:
    """The published lottery: the first 60 bits of SHA-256("<seed>:<number>"); lower first."""
    return int(hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()[:15], 16)


class AllocationRefused(Conflict):
    pass


@dataclass
class Market:
    """One level's allocation problem as arrays, and the way back to rows."""

    level: str
    registrations: list[Registration]
    schools: list[School]
    choices: np.ndarray
    keys: np.ndarray
    klass: np.ndarray  # the class of each listed (registration, choice)
    capacity: np.ndarray
    home_xy: np.ndarray
    school_xy: np.ndarray
    lottery: np.ndarray
    own_class: np.ndarray


def _class_at(registration: Registration, school: School) -> int:
    if school.kind == School.Kind.PRIVATE:
        return CLASS_PRIVATE
    if registration.catchment_school_id == school.pk:
        return registration.priority_class
    return CLASS_OUTSIDE


def market_build(*, season: Season, level: str, seed: str) -> Market:
    registrations = list(
        Registration.objects.filter(season=season, level=level, state=Registration.State.SUBMITTED)
        .select_related("catchment_school")
        .prefetch_related("choices")
        .order_by("number")
    )
    schools = list(
        School.objects.filter(season=season, capacities__level=level)
        .prefetch_related("capacities")
        .order_by("code")
    )
    index = {school.pk: position for position, school in enumerate(schools)}
    n, k = len(registrations), max(1, season.max_choices)
    choices = np.full((n, k), -1, dtype=np.int32)
    klass = np.zeros((n, k), dtype=np.int64)
    closed = []
    for i, registration in enumerate(registrations):
        for choice in sorted(registration.choices.all(), key=lambda c: c.rank)[:k]:
            school = schools[index[choice.school_id]]
            if not school.is_open:
                closed.append(f"{registration.number}: {school.name}")
            j = int((choices[i] >= 0).sum())
            choices[i, j] = index[choice.school_id]
            klass[i, j] = _class_at(registration, school)
    if closed:
        raise AllocationRefused(
            _("These registrations rank a school that does not enroll this season: %s")
            % "；".join(closed[:20])
        )
    # Homes on the map: the village's place (for a 户籍 outside the city the residence permit's
    # community), else the catchment school's.
    localities = {row.division_id: (row.longitude, row.latitude) for row in Locality.objects.all()}
    outside = outside_divisions()
    home = np.zeros((n, 2))
    for i, registration in enumerate(registrations):
        place = localities.get(living_division(registration, outside=outside))
        if place is None and registration.catchment_school is not None:
            place = (registration.catchment_school.longitude, registration.catchment_school.latitude)
        home[i] = place or (0.0, 0.0)
    home_xy = plane_xy(home[:, 0], home[:, 1]) if n else np.zeros((0, 2))
    school_xy = (
        plane_xy(np.array([s.longitude for s in schools]), np.array([s.latitude for s in schools]))
        if schools
        else np.zeros((0, 2))
    )
    lottery = np.array([lottery_value(seed, r.number) for r in registrations], dtype=np.int64)
    own_class = np.array([r.priority_class for r in registrations], dtype=np.int64)
    # One key per listed pair: the rank of the registration at that school by (class,
    # tie-breaks…, lottery). Unique per school and lower is better.
    rows, columns = np.nonzero(choices >= 0)
    option = choices[rows, columns].astype(np.int64)
    sort_columns = [lottery[rows]]
    for name in reversed(season.tie_breaks or []):
        if name == TieBreak.DISTANCE:
            distance = np.sqrt(((home_xy[rows] - school_xy[option]) ** 2).sum(axis=1))
            sort_columns.append(np.round(distance * 1000).astype(np.int64))
        elif name == TieBreak.PROPERTY_DATE:
            days = np.array(
                [
                    (registrations[i].property_registered_on or datetime.date(9999, 1, 1)).toordinal()
                    for i in rows.tolist()
                ],
                dtype=np.int64,
            )
            sort_columns.append(days)
    sort_columns += [klass[rows, columns], option]
    order = np.lexsort(sort_columns)
    starts = np.flatnonzero(np.r_[True, option[order][1:] != option[order][:-1]]) if order.size else order
    rank_in_school = np.empty(order.size, dtype=np.int64)
    if order.size:
        group_start = np.repeat(starts, np.diff(np.r_[starts, order.size]))
        rank_in_school[order] = np.arange(order.size) - group_start
    keys = np.zeros((n, k), dtype=np.int64)
    keys[rows, columns] = rank_in_school
    capacity = np.array([s.seats_at(level) if s.is_open else 0 for s in schools], dtype=np.int64)
    return Market(
        level, registrations, schools, choices, keys, klass, capacity, home_xy, school_xy, lottery, own_class
    )


@dataclass
class MarketResult:
    option: np.ndarray
    rank: np.ndarray
    how: list[str]
    stable: bool
    stability: str
    rounds: int
    reasons: dict[int, list[dict[str, Any]]]


def market_solve(market: Market) -> MarketResult:
    """Deferred acceptance, stability verified, then coordination for the rest."""
    from yiwang.matching.engine import (
        Instance,
        better_choice_cutoffs,
        coordinate_nearest,
        deferred_acceptance,
        stability_check,
    )

    instance = Instance(choices=market.choices, keys=market.keys, capacity=market.capacity)
    allocation = deferred_acceptance(instance)
    check = stability_check(instance, allocation)
    if not check.stable:  # never expected: the engine is tested to be stable
        raise AllocationRefused(_("The allocation is not stable (%s); nothing was saved.") % check)
    how = ["choice" if option >= 0 else "unplaced" for option in allocation.option.tolist()]
    left_out = np.flatnonzero(allocation.option < 0)
    if left_out.size:
        public = np.array([s.kind == School.Kind.PUBLIC for s in market.schools], dtype=bool)
        left = np.where(
            public,
            market.capacity
            - np.bincount(allocation.option[allocation.option >= 0], minlength=len(market.schools)),
            0,
        )
        order = np.lexsort((market.lottery[left_out], market.own_class[left_out]))
        position = np.empty(left_out.size, dtype=np.int64)
        position[order] = np.arange(left_out.size)
        placed = coordinate_nearest(
            left, applicant_xy=market.home_xy[left_out], option_xy=market.school_xy, order=position
        )
        allocation.option[left_out] = placed
        for i, option in zip(left_out.tolist(), placed.tolist(), strict=True):
            how[i] = "coordination" if option >= 0 else "unplaced"
    final = stability_check(instance, allocation)
    if not final.stable:
        raise AllocationRefused(
            _("The allocation is not stable after coordination (%s); nothing was saved.") % final
        )
    why = better_choice_cutoffs(instance, allocation)
    owner: dict[tuple[int, int], int] = {}
    rows, columns = np.nonzero(market.choices >= 0)
    for i, j in zip(rows.tolist(), columns.tolist(), strict=True):
        owner[(int(market.choices[i, j]), int(market.keys[i, j]))] = i
    reasons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for i, rank, option, cutoff, full in zip(
        why["applicant"].tolist(),
        why["rank"].tolist(),
        why["option"].tolist(),
        why["cutoff"].tolist(),
        why["full"].tolist(),
        strict=True,
    ):
        school = market.schools[option]
        last = owner.get((option, cutoff)) if cutoff >= 0 else None
        entry = {
            "rank": rank,
            "school": school.code,
            "school_name": school.name,
            "own_class": int(market.klass[i, rank]),
            "full": bool(full),
            "seats": int(market.capacity[option]),
        }
        if last is not None:
            entry["cutoff_class"] = int(market.klass[last, list(market.choices[last]).index(option)])
            entry["cutoff_number"] = market.registrations[last].number
        reasons[i].append(entry)
    return MarketResult(
        option=allocation.option,
        rank=allocation.rank,
        how=how,
        stable=final.stable,
        stability=str(final),
        rounds=allocation.rounds,
        reasons=reasons,
    )


def allocation_run(*, season: Season, actor: Any, now: datetime.datetime | None = None) -> AllocationRun:
    """Allocate every level of the season and put the result in force — all or nothing: the
    new run, its placements and the switch happen in one transaction, so a failure anywhere
    leaves the previous run in force. Refused while the configuration has errors."""
    _require_bureau(actor)
    errors = [problem for problem in config_check(season=season) if problem.level == "error"]
    if errors:
        raise AllocationRefused("；".join(problem.message for problem in errors[:10]))
    started = now or timezone.now()
    seed = season.lottery_seed
    with transaction.atomic():
        Season.objects.select_for_update().filter(pk=season.pk).first()
        number = (season.runs.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        placements: list[Placement] = []
        figures: dict[str, Any] = {"levels": {}}
        stable, words = True, []
        run = AllocationRun.objects.create(
            season=season,
            number=number,
            in_force=False,
            lottery_seed=seed,
            started_at=started,
            finished_at=started,
            actor=actor if getattr(actor, "pk", None) else None,
            stable=False,
            stability="",
        )
        for level in Level.values:
            market = market_build(season=season, level=level, seed=seed)
            if not market.registrations:
                continue
            result = market_solve(market)
            stable &= result.stable
            verdict = (
                _("stable: no blocking pair, every capacity respected") if result.stable else result.stability
            )
            words.append(f"{Level(level).label}: {verdict}")
            figures["levels"][level] = {
                "registrations": len(market.registrations),
                "rounds": result.rounds,
                "placed_on_choice": result.how.count("choice"),
                "coordinated": result.how.count("coordination"),
                "unplaced": result.how.count("unplaced"),
            }
            for i, registration in enumerate(market.registrations):
                option = int(result.option[i])
                school = market.schools[option] if option >= 0 else None
                rank = int(result.rank[i]) if result.how[i] == "choice" else -1
                distance = None
                if school is not None:
                    distance = int(
                        round(
                            float(np.sqrt(((market.home_xy[i] - market.school_xy[option]) ** 2).sum())) * 1000
                        )
                    )
                placements.append(
                    Placement(
                        run=run,
                        registration=registration,
                        school=school,
                        how=result.how[i],
                        rank=rank,
                        priority_class=_class_at(registration, school)
                        if school
                        else registration.priority_class,
                        distance_m=distance,
                        reason=result.reasons.get(i, []),
                    )
                )
        _placements_write(placements)
        AllocationRun.objects.filter(season=season, in_force=True).update(in_force=False)
        run.in_force = True
        run.stable = stable
        run.stability = "；".join(words)[:255]
        run.figures = figures
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            actor=actor,
            action="enrollment.allocation_run",
            target=run,
            after={"number": number, "seed": seed, "stable": stable, "figures": figures},
        )
    return run


def _placements_write(placements: list[Placement]) -> None:
    Placement.objects.bulk_create(placements, batch_size=2000)


# --- appeals ---------------------------------------------------------------------------------------


def appeal_file(*, registration: Registration, school_code: str, reason: str, actor: Any, now=None) -> Appeal:
    """A parent appeals the placement, naming the school they ask for and why. Becomes a case
    of type enrollment.appeal with the bureau, due in the season's working days."""
    from yiwang.cases.services import case_open
    from yiwang.cases.types import Limit
    from yiwang.enrollment.access import access_registration
    from yiwang.enrollment.cases import APPEAL

    if not access_registration(actor, registration):
        raise NotFound(_("Not found."))
    errors = ErrorCollector()
    if not reason.strip():
        errors.add("reason", _("Say why you appeal."))
    school = School.objects.filter(
        season=registration.season, code=school_code, capacities__level=registration.level
    ).first()
    if school is None:
        errors.add("school", _("Choose a school of your child's level."))
    elif not school.is_open:
        errors.add("school", _("%s does not enroll this season.") % school.name)
    errors.raise_if_any()
    run = registration.season.runs.filter(in_force=True).first()
    if run is None:
        raise Conflict(_("There is no allocation result to appeal yet."))
    placement = run.placements.filter(registration=registration).first()
    if Appeal.objects.filter(registration=registration, outcome="").exists():
        raise Conflict(_("An appeal for this registration is already being handled."))
    with transaction.atomic():
        case = case_open(
            case_type=APPEAL,
            title=f"入学申诉 {registration.number} → {school.name}",
            department=bureau_department(),
            actor=actor,
            subject_type="enrollment.registration",
            subject_key=registration.number,
            data={"school": school.code},
            note=reason.strip(),
            case_limit=Limit(registration.season.appeal_days, "days"),
            now=now,
        )
        appeal = Appeal.objects.create(
            registration=registration,
            case=case,
            school=school,
            reason=reason.strip(),
            placed_before=placement.school if placement else None,
        )
        audit_record(
            actor=actor,
            action="enrollment.appeal_file",
            target=appeal,
            after={"case": case.reference, "school": school.code},
        )
    return appeal


def appeal_seat(*, appeal: Appeal, actor: Any, upheld: bool) -> Placement | None:
    """Re-run for one seat (inside the case transition's transaction): the appellant is
    placed at the school asked for when it has a free seat, or — the appeal being upheld —
    on a seat the bureau adds there. Nobody else's placement changes. Returns the new
    placement, or None when there was nothing to do (rejected)."""
    outcome = "upheld" if upheld else "rejected"
    Appeal.objects.filter(pk=appeal.pk).update(outcome=outcome)
    if not upheld:
        audit_record(
            actor=actor, action="enrollment.appeal_decide", target=appeal, after={"outcome": outcome}
        )
        return None
    run = appeal.registration.season.runs.filter(in_force=True).first()
    if run is None:
        raise Conflict(_("There is no allocation in force."))
    school = School.objects.get(pk=appeal.school_id)
    level = appeal.registration.level
    grade = GradeCapacity.objects.select_for_update().get(school=school, level=level)
    placement = Placement.objects.select_for_update().get(run=run, registration=appeal.registration)
    if placement.school_id == school.pk:
        return placement
    taken = Placement.objects.filter(run=run, school=school, registration__level=level).count()
    added = taken >= grade.seats + grade.added_seats
    if added:
        GradeCapacity.objects.filter(pk=grade.pk).update(added_seats=F("added_seats") + 1)
    choices = list(appeal.registration.choices.order_by("rank").values_list("school_id", flat=True))
    before = placement.school.code if placement.school else None
    placement.school = school
    placement.how = Placement.How.APPEAL
    placement.rank = choices.index(school.pk) if school.pk in choices else -1
    placement.priority_class = _class_at(appeal.registration, school)
    placement.reason = [{"appeal": appeal.case.reference, "seat_added": added}]
    placement.save(update_fields=["school", "how", "rank", "priority_class", "reason"])
    audit_record(
        actor=actor,
        action="enrollment.appeal_seat",
        target=placement,
        before={"school": before},
        after={"school": school.code, "seat_added": added, "case": appeal.case.reference, "outcome": outcome},
    )
    return placement
