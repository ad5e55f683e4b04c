"""The enrollment JSON API (mounted at /api/enrollment): the same verbs as the pages. A parent
registers a child, reads the class with its explanation and the placement with its reason,
ranks schools and appeals; the education bureau reads the configuration checks, runs the
allocation, reads figures and rosters (ID numbers masked unless the role needs them, unmasked
reads audited). Auth and errors as the rest of /api (422 with the path of each bad field,
404 for what is missing or not yours, 403, 409)."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Router, Schema, Status

from yiwang.core.errors import Forbidden
from yiwang.enrollment import selectors, services
from yiwang.enrollment.access import access_bureau, access_figures

router = Router(tags=["enrollment"])


class SeasonOut(Schema):
    year: int
    title: str
    registration_opens: datetime.date
    registration_closes: datetime.date
    allocation_on: datetime.date
    results_on: datetime.date
    lottery_seed: str
    tie_breaks: list[str]
    max_choices: int


class SeasonIn(Schema):
    title: str
    registration_opens: datetime.date
    registration_closes: datetime.date
    allocation_on: datetime.date
    results_on: datetime.date
    lottery_seed: str
    tie_breaks: list[str] = []
    max_choices: int = 5
    appeal_days: int = 5
    redraw: bool = False


class ProblemOut(Schema):
    level: str
    code: str
    message: str
    where: str


class RegistrationIn(Schema):
    child_id_number: str = ""


class ChoicesIn(Schema):
    schools: list[str] = []


class AppealIn(Schema):
    school: str = ""
    reason: str = ""


def _season(year: int):
    return selectors.season_get(year=year)


def _explanation(explanation) -> dict[str, Any]:
    return {
        "eligible": explanation.eligible,
        "conditions": [
            {
                "id": c.id,
                "label": c.label,
                "value": c.value,
                "op": c.op,
                "compared_with": c.compared_with,
                "passed": c.passed,
                "basis": c.basis,
            }
            for c in explanation.conditions
        ],
    }


def _registration(registration, user) -> dict[str, Any]:
    placement = selectors.placement_of(registration=registration)
    return {
        "number": registration.number,
        "season": registration.season.year,
        "level": registration.level,
        "child_name": registration.child.name,
        "priority_class": registration.priority_class,
        "class_label": selectors.class_label(registration.priority_class),
        "catchment_school": registration.catchment_school.code if registration.catchment_school else None,
        "choices": [c.school.code for c in registration.choices.select_related("school").order_by("rank")],
        "explanation": [
            {"class": number, "title": title, **_explanation(explanation)}
            for number, title, explanation in services.class_explanations(
                registration=registration, actor=user
            )
        ],
        "facts": registration.facts,
        "placement": None
        if placement is None
        else {
            "school": placement.school.code if placement.school else None,
            "school_name": placement.school.name if placement.school else None,
            "how": placement.how,
            "rank": placement.rank,
            "priority_class": placement.priority_class,
            "reason": selectors.placement_reason(placement=placement),
            "better_choices": placement.reason,
        },
    }


@router.get("/seasons/{year}", response=SeasonOut)
def season_detail(request, year: int):
    """The season's key dates, published lottery seed and tie-breaks."""
    return _season(year)


@router.put("/seasons/{year}", response=SeasonOut)
def season_update(request, year: int, payload: SeasonIn):
    """The education bureau changes the season's key dates, tie-break order and published
    lottery seed (422 naming each bad field; the seed is refused once a run drew with it
    unless `redraw` starts a new draw). Audited."""
    _season(year)
    return services.season_configure(actor=request.auth, year=year, **payload.dict())


@router.get("/seasons/{year}/checks", response=list[ProblemOut])
def season_checks(request, year: int):
    """Configuration problems: catchment gaps, class-1 children over capacity, closed schools
    chosen (errors block the allocation). Education bureau only."""
    if not access_bureau(request.auth):
        raise Forbidden("education bureau only")
    return [problem.__dict__ for problem in services.config_check(season=_season(year))]


@router.post("/seasons/{year}/registrations", response={201: dict})
def registration_create(request, year: int, payload: RegistrationIn):
    """Register a child of the caller's household by ID number. 422 names child_id_number
    when it is not valid, the child is not in the household or not of entry age, or is already
    registered."""
    registration = services.registration_submit(
        season=_season(year), child_id_number=payload.child_id_number, actor=request.auth
    )
    return Status(201, _registration(registration, request.auth))


@router.get("/registrations", response=list[dict])
def registration_list(request):
    """The caller's registrations."""
    return [_registration(r, request.auth) for r in selectors.registrations_of(user=request.auth)]


@router.get("/registrations/{number}", response=dict)
def registration_detail(request, number: str):
    """One registration: class with the rules' explanation, choices, placement with its reason."""
    return _registration(selectors.registration_get(number=number, user=request.auth), request.auth)


@router.put("/registrations/{number}/choices", response=dict)
def registration_choices(request, number: str, payload: ChoicesIn):
    """Rank up to the season's number of schools (codes). 422 names each bad position."""
    registration = selectors.registration_get(number=number, user=request.auth)
    services.choices_set(registration=registration, school_codes=payload.schools, actor=request.auth)
    return _registration(registration, request.auth)


@router.post("/registrations/{number}/appeals", response={201: dict})
def registration_appeal(request, number: str, payload: AppealIn):
    """Appeal the placement: becomes an enrollment.appeal case of the bureau."""
    registration = selectors.registration_get(number=number, user=request.auth)
    appeal = services.appeal_file(
        registration=registration, school_code=payload.school, reason=payload.reason, actor=request.auth
    )
    return Status(
        201, {"case": appeal.case.reference, "case_id": appeal.case.pk, "deadline": appeal.case.case_deadline}
    )


@router.post("/seasons/{year}/allocations", response={201: dict})
def allocation_create(request, year: int):
    """Run the allocation (all or nothing); the new run is in force when it succeeds."""
    run = services.allocation_run(season=_season(year), actor=request.auth)
    return Status(
        201,
        {
            "number": run.number,
            "in_force": run.in_force,
            "stable": run.stable,
            "stability": run.stability,
            "figures": run.figures,
        },
    )


@router.get("/seasons/{year}/figures", response=dict)
def season_figures(request, year: int):
    """Fill rates, coordinated and unplaced children, class mix, by county and level."""
    if not access_figures(request.auth):
        raise Forbidden("education bureau and city leaders only")
    found = selectors.figures(season=_season(year))
    return {
        "totals": found["totals"],
        "rows": [
            {
                "county": row["county"].code,
                "county_name": row["county"].name,
                "level": row["level"],
                "seats": row["seats"],
                "placed": row["placed"],
                "fill_rate": round(row["fill_rate"], 4),
                "coordinated": row["coordinated"],
                "unplaced": row["unplaced"],
                "class_mix": {str(part["klass"]): part["count"] for part in row["class_mix"]},
            }
            for row in found["rows"]
        ],
    }


@router.get("/seasons/{year}/schools/{code}/roster", response=list[dict])
def school_roster(request, year: int, code: str):
    """A school's placed children (ID numbers masked unless the role needs them)."""
    season = _season(year)
    school = selectors.school_get(season=season, code=code, user=request.auth)
    return [
        {
            "number": row.number,
            "name": row.name,
            "id_number": row.values["id_number"],
            "class": row.klass,
            "how": row.how,
        }
        for row in selectors.school_roster(school=school, viewer=request.auth)
    ]
