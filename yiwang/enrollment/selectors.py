"""The enrollment questions: a parent's registrations and placement with its reason, a school's
roster (masked unless the role needs it; unmasked reads audited), the bureau's figures by
county, the appeals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from yiwang.core.errors import NotFound
from yiwang.core.services import PersonalRecord, personal_data_present_many
from yiwang.enrollment.access import access_registration, access_roster
from yiwang.enrollment.models import (
    AllocationRun,
    Appeal,
    Level,
    Placement,
    Registration,
    School,
    Season,
)
from yiwang.enrollment.services import CLASS_OTHER, CLASS_OUTSIDE, CLASS_PRIVATE

PURPOSE_ROSTER = "enrollment: school roster"


def class_label(number: int) -> str:
    return {
        CLASS_PRIVATE: _("Private school: lottery"),
        1: _("Class 1: 户籍 and own property in the catchment, same address"),
        2: _("Class 2: own property in the catchment"),
        3: _("Class 3: children of migrant workers with a residence permit and social insurance"),
        4: _("Class 4: 户籍 in the catchment only"),
        CLASS_OTHER: _("Class 5: other children"),
        CLASS_OUTSIDE: _("Outside the catchment"),
    }.get(number, str(number))


def class_short(number: int) -> str:
    return {
        CLASS_PRIVATE: _("Lottery"),
        1: _("Class 1"),
        2: _("Class 2"),
        3: _("Class 3"),
        4: _("Class 4"),
        CLASS_OTHER: _("Class 5"),
        CLASS_OUTSIDE: _("Outside"),
    }.get(number, str(number))


def season_current() -> Season | None:
    return Season.objects.order_by("-year").first()


def season_get(*, year: int) -> Season:
    season = Season.objects.filter(year=year).first()
    if season is None:
        raise NotFound(_("No enrollment season %s.") % year)
    return season


def registrations_of(*, user: Any, season: Season | None = None):
    queryset = Registration.objects.filter(Q(submitted_by=user) | Q(guardian__user=user)).select_related(
        "child", "catchment_school", "season"
    )
    if season is not None:
        queryset = queryset.filter(season=season)
    return queryset.order_by("-submitted_at")


def registration_get(*, number: str, user: Any) -> Registration:
    registration = (
        Registration.objects.select_related(
            "child", "guardian", "catchment_school", "season", "home_division"
        )
        .filter(number=number)
        .first()
    )
    if registration is None or not access_registration(user, registration):
        raise NotFound(_("Not found."))
    return registration


def run_in_force(*, season: Season) -> AllocationRun | None:
    return season.runs.filter(in_force=True).first()


def placement_of(*, registration: Registration) -> Placement | None:
    """The placement a parent sees: from the run in force, unless the bureau changed seats
    after it (a stale run is not shown until the allocation runs again)."""
    return (
        Placement.objects.select_related("school", "run")
        .filter(
            run__season=registration.season,
            run__in_force=True,
            run__stale_since__isnull=True,
            registration=registration,
        )
        .first()
    )


def placement_reason(*, placement: Placement) -> list[str]:
    """The reason in sentences: how the child was placed and, for each better choice, why not."""
    lines = []
    if placement.how == Placement.How.CHOICE:
        lines.append(
            _("Placed at your choice no. %(rank)d, %(school)s, as %(klass)s.")
            % {
                "rank": placement.rank + 1,
                "school": placement.school.name,
                "klass": class_label(placement.priority_class),
            }
        )
    elif placement.how == Placement.How.COORDINATION:
        lines.append(
            _(
                "None of your choices had a seat for your child, so the bureau placed your child by coordination at the nearest public school with a seat: %(school)s (%(km).1f km)."
            )
            % {"school": placement.school.name, "km": (placement.distance_m or 0) / 1000}
        )
    elif placement.how == Placement.How.APPEAL:
        lines.append(_("Placed at %(school)s on appeal.") % {"school": placement.school.name})
    else:
        lines.append(_("Not placed: every public school of this level is full. The bureau will contact you."))
    for entry in placement.reason:
        if "appeal" in entry:
            lines.append(_("Appeal %(case)s upheld.") % {"case": entry["appeal"]})
            continue
        if not entry.get("seats"):
            lines.append(
                _("Choice no. %(rank)d, %(school)s: no seats this season.")
                % {"rank": entry["rank"] + 1, "school": entry["school_name"]}
            )
            continue
        if "cutoff_class" in entry:
            text = _(
                "Choice no. %(rank)d, %(school)s: all %(seats)d seats went to children ranked before yours; it admitted down to %(cutoff)s, your child was %(own)s there."
            ) % {
                "rank": entry["rank"] + 1,
                "school": entry["school_name"],
                "seats": entry["seats"],
                "cutoff": class_label(entry["cutoff_class"]),
                "own": class_label(entry["own_class"]),
            }
            if entry["cutoff_class"] == entry["own_class"]:
                text += _(
                    " Within the same class the tie-breaks decided (property registration date, distance, then the published lottery)."
                )
            lines.append(text)
        else:
            lines.append(
                _("Choice no. %(rank)d, %(school)s: full.")
                % {"rank": entry["rank"] + 1, "school": entry["school_name"]}
            )
    return lines


def schools_of(*, season: Season, level: str | None = None):
    queryset = (
        School.objects.filter(season=season)
        .select_related("town", "town__parent")
        .prefetch_related("capacities")
    )
    if level:
        queryset = queryset.filter(capacities__level=level)
    return queryset.order_by("level", "code")


def school_get(*, season: Season, code: str, user: Any) -> School:
    school = School.objects.filter(season=season, code=code).select_related("town").first()
    if school is None or not access_roster(user, school):
        raise NotFound(_("Not found."))
    return school


@dataclass
class RosterRow:
    number: str
    name: str
    values: dict[str, Any]
    how: str
    klass: str
    rank: int


def school_roster(*, school: School, viewer: Any) -> list[RosterRow]:
    """The children placed at a school by the run in force. ID numbers and birth dates are
    masked unless the viewer's role needs them; showing them unmasked is audited."""
    placements = list(
        Placement.objects.filter(run__season=school.season, run__in_force=True, school=school)
        .select_related("registration__child")
        .order_by("priority_class", "registration__number")
    )
    records = [
        PersonalRecord(
            values={
                "id_number": p.registration.child.id_number,
                "birth_date": p.registration.child.birth_date.isoformat(),
            },
            object_id=p.registration.number,
        )
        for p in placements
    ]
    shown = personal_data_present_many(
        viewer=viewer, records=records, purpose=PURPOSE_ROSTER, object_type="enrollment.registration"
    )
    return [
        RosterRow(
            number=p.registration.number,
            name=p.registration.child.name,
            values=values,
            how=p.get_how_display(),
            klass=class_short(p.priority_class),
            rank=p.rank,
        )
        for p, values in zip(placements, shown, strict=True)
    ]


def figures(*, season: Season) -> dict[str, Any]:
    """Fill rates, unplaced children and class mix, by county and level, from the run in force
    (appeals included)."""
    schools = list(schools_of(season=season))
    county_of = {school.pk: school.town.parent for school in schools}
    counties: dict[str, Any] = {}
    table: dict[tuple[str, str], dict[str, Any]] = {}

    def row(county, level) -> dict[str, Any]:
        counties[county.code] = county
        return table.setdefault(
            (county.code, level),
            {
                "county": county,
                "level": level,
                "seats": 0,
                "placed": 0,
                "coordinated": 0,
                "unplaced": 0,
                "classes": defaultdict(int),
            },
        )

    for school in schools:
        if school.is_open:
            for level in school.entry_levels:
                row(county_of[school.pk], level)["seats"] += school.seats_at(level)
    placements = Placement.objects.filter(run__season=season, run__in_force=True).select_related(
        "school",
        "registration__catchment_school__town__parent",
        "registration__home_division__parent__parent",
    )
    for placement in placements:
        registration = placement.registration
        home = registration.home_division
        if placement.school_id:
            county = county_of[placement.school_id]
        elif home.is_outside_city and registration.catchment_school_id in county_of:
            # a migrant child (户籍 elsewhere): counted where the residence permit's catchment is
            county = county_of[registration.catchment_school_id]
        else:
            county = home.parent.parent if home.parent else home
        entry = row(county, registration.level)
        if placement.school_id:
            entry["placed"] += 1
        else:
            entry["unplaced"] += 1
        if placement.how == Placement.How.COORDINATION:
            entry["coordinated"] += 1
        entry["classes"][registration.priority_class] += 1
    rows = sorted(table.values(), key=lambda r: (r["level"], r["county"].code))
    for entry in rows:
        entry["fill_rate"] = entry["placed"] / entry["seats"] if entry["seats"] else 0.0
        entry["level_label"] = Level(entry["level"]).label
        entry["class_mix"] = [
            {"klass": number, "label": class_short(number), "count": entry["classes"].get(number, 0)}
            for number in (1, 2, 3, 4, CLASS_OTHER)
        ]
    totals = {
        "registrations": Registration.objects.filter(
            season=season, state=Registration.State.SUBMITTED
        ).count(),
        "placed": sum(r["placed"] for r in rows),
        "coordinated": sum(r["coordinated"] for r in rows),
        "unplaced": sum(r["unplaced"] for r in rows),
        "seats": sum(r["seats"] for r in rows),
    }
    return {"rows": rows, "totals": totals, "run": run_in_force(season=season)}


BAR_WIDTH = 380


def bars(items: list[tuple[str, float, str]], *, scale: float | None = None) -> dict[str, Any]:
    """An inline-SVG bar chart's geometry: (label, value, text) per bar."""
    top = scale or max((value for _label, value, _text in items), default=0) or 1
    return {
        "height": 24 * len(items) + 4,
        "bars": [
            {"label": label, "y": 24 * index, "width": int(BAR_WIDTH * value / top), "value": text}
            for index, (label, value, text) in enumerate(items)
        ],
    }


CLASS_COLOURS = {1: "#1f5fa8", 2: "#4a8fd6", 3: "#2e8b57", 4: "#d08a1e", CLASS_OTHER: "#9aa3ad"}


def class_mix_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars: the class mix of each county and level."""
    chart = []
    for index, entry in enumerate(rows):
        total = sum(part["count"] for part in entry["class_mix"]) or 1
        x = 158
        parts = []
        for part in entry["class_mix"]:
            width = int(BAR_WIDTH * part["count"] / total)
            parts.append(
                {
                    "x": x,
                    "width": width,
                    "colour": CLASS_COLOURS[part["klass"]],
                    "label": part["label"],
                    "count": part["count"],
                }
            )
            x += width
        chart.append(
            {"y": 24 * index, "label": f"{entry['county'].name}·{entry['level_label']}", "parts": parts}
        )
    return {
        "height": 24 * len(chart) + 4,
        "rows": chart,
        "legend": [(CLASS_COLOURS[n], class_short(n)) for n in CLASS_COLOURS],
    }


def appeals_list(*, season: Season):
    return (
        Appeal.objects.filter(registration__season=season)
        .select_related("case", "registration", "school", "placed_before")
        .order_by("-created_at")
    )


def appeals_of(*, registration: Registration):
    return (
        Appeal.objects.filter(registration=registration)
        .select_related("case", "school")
        .order_by("-created_at")
    )
