"""Pages of 智慧入学: a parent's registration (phone first), the education bureau's season page
(configuration checks, allocation runs), figures with inline-SVG charts, school rosters and
appeals. Thin: selectors read, services write, FieldErrors land beside the fields they name."""

from __future__ import annotations

import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases.selectors import case_state_label
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.enrollment import selectors, services
from yiwang.enrollment.access import access_bureau, access_figures
from yiwang.enrollment.models import ENTRY_GRADE_LABEL, Level, School, TieBreak

SEASON_DATES = ("registration_opens", "registration_closes", "allocation_on", "results_on")
SEASON_NUMBERS = ("max_choices", "appeal_days")
TIE_BREAK_SLOTS = 2  # the tie-breaks a bureau can order (the lottery always comes last)


def _guard(check):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _season_or_404():
    season = selectors.season_current()
    if season is None:
        raise Http404
    return season


def _errors_by_field(error: FieldErrors) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, message in error.errors:
        key = ".".join(str(part) for part in path) if path else "general"
        found.setdefault(key, []).append(message)
    return found


@login_required
def index(request):
    season = selectors.season_current()
    if access_bureau(request.user) and not request.GET.get("parent"):
        return redirect("enrollment:bureau")
    rows = []
    if season is not None:
        for registration in selectors.registrations_of(user=request.user, season=season):
            rows.append(
                {
                    "registration": registration,
                    "placement": selectors.placement_of(registration=registration),
                    "klass": selectors.class_label(registration.priority_class),
                }
            )
    return render(
        request,
        "enrollment/index.html",
        {"season": season, "rows": rows},
    )


@login_required
def register(request):
    season = _season_or_404()
    errors: dict[str, list[str]] = {}
    value = ""
    if request.method == "POST":
        value = request.POST.get("child_id_number", "").strip()
        try:
            registration = services.registration_submit(
                season=season, child_id_number=value, actor=request.user
            )
        except FieldErrors as error:
            errors = _errors_by_field(error)
        except DomainError as error:
            errors = {"child_id_number": [error.message]}
        else:
            messages.success(request, _("Registered. Check the class and rank the schools you want."))
            return redirect("enrollment:registration", number=registration.number)
    return render(request, "enrollment/register.html", {"season": season, "errors": errors, "value": value})


def _registration_context(request, registration):
    placement = selectors.placement_of(registration=registration)
    explanations = []
    for number, title, explanation in services.class_explanations(
        registration=registration, actor=request.user
    ):
        explanations.append({"number": number, "title": title, "explanation": explanation})
    schools = list(
        selectors.schools_of(season=registration.season, level=registration.level).filter(is_open=True)
    )
    chosen = [choice.school.code for choice in registration.choices.select_related("school").order_by("rank")]
    slots = [
        {"index": index, "selected": chosen[index] if index < len(chosen) else ""}
        for index in range(registration.season.max_choices)
    ]
    return {
        "registration": registration,
        "season": registration.season,
        "klass": selectors.class_label(registration.priority_class),
        "explanations": explanations,
        "decisive": next((e for e in explanations if e["explanation"].eligible), None),
        "facts": registration.facts,
        "schools": schools,
        "slots": slots,
        "chosen": chosen,
        "placement": placement,
        "reason": selectors.placement_reason(placement=placement) if placement else [],
        "appeals": [
            {"appeal": appeal, "state": case_state_label(appeal.case)}
            for appeal in selectors.appeals_of(registration=registration)
        ],
        "staff_view": access_bureau(request.user),
    }


@login_required
def registration(request, number: str):
    try:
        found = selectors.registration_get(number=number, user=request.user)
    except NotFound:
        raise Http404 from None
    return render(request, "enrollment/registration.html", _registration_context(request, found))


@login_required
@require_POST
def choices(request, number: str):
    try:
        found = selectors.registration_get(number=number, user=request.user)
    except NotFound:
        raise Http404 from None
    codes = [request.POST.get(f"choice_{index}", "") for index in range(found.season.max_choices)]
    try:
        services.choices_set(
            registration=found, school_codes=[code for code in codes if code], actor=request.user
        )
    except FieldErrors as error:
        context = _registration_context(request, found)
        context["choice_errors"] = [message for _path, message in error.errors]
        context["slots"] = [{"index": i, "selected": code} for i, code in enumerate(codes)]
        return render(request, "enrollment/registration.html", context, status=422)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your choices are saved."))
    return redirect("enrollment:registration", number=found.number)


@login_required
def appeal(request, number: str):
    try:
        found = selectors.registration_get(number=number, user=request.user)
    except NotFound:
        raise Http404 from None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.appeal_file(
                registration=found,
                school_code=request.POST.get("school", ""),
                reason=request.POST.get("reason", ""),
                actor=request.user,
            )
        except FieldErrors as error:
            errors = _errors_by_field(error)
        except DomainError as error:
            errors = {"general": [error.message]}
        else:
            messages.success(
                request, _("Your appeal is filed. The education bureau answers within its time limit.")
            )
            return redirect("enrollment:registration", number=found.number)
    schools = selectors.schools_of(season=found.season, level=found.level).filter(is_open=True)
    return render(
        request,
        "enrollment/appeal.html",
        {"registration": found, "schools": schools, "errors": errors, "data": request.POST},
    )


def _season_form(season, *, data=None, errors=None) -> dict:
    """The season form's fields: what the bureau typed (after a refusal) or what is saved."""
    data = data or {}
    fields = {}
    for name in ("title", "lottery_seed", *SEASON_DATES, *SEASON_NUMBERS):
        saved = getattr(season, name)
        if isinstance(saved, datetime.date):
            saved = saved.isoformat()
        fields[name] = data.get(name, saved)
    order = [data.get(f"tie_break_{index}", "") for index in range(TIE_BREAK_SLOTS)] if data else []
    if not data:
        order = list(season.tie_breaks) + [""] * TIE_BREAK_SLOTS
    slots = [
        {
            "index": index,
            "selected": order[index] if index < len(order) else "",
            "errors": (errors or {}).get(f"tie_breaks.{index}", []),
        }
        for index in range(TIE_BREAK_SLOTS)
    ]
    return {
        "values": fields,
        "errors": errors or {},
        "tie_break_slots": slots,
        "tie_break_choices": [
            (value, label) for value, label in TieBreak.choices if value != TieBreak.LOTTERY
        ],
        "redraw": bool(data.get("redraw")),
        "drawn": season.runs.exists(),
    }


def _bureau_page(
    request,
    season,
    *,
    edited: School | None = None,
    errors=None,
    data=None,
    season_data=None,
    season_errors=None,
    status=200,
):
    problems = services.config_check(season=season)
    schools = []
    counts = {}
    for school in selectors.schools_of(season=season):
        counts[school.pk] = school.catchments.count()
        # The edit form of the school just refused keeps what the bureau typed and its errors.
        refused = edited is not None and school.pk == edited.pk
        school.form_errors = (errors or {}) if refused else {}
        school.form_open = bool((data or {}).get("is_open")) if refused else school.is_open
        school.grades = []
        for level in school.entry_levels:
            row = school.capacity_at(level)
            saved = row.seats if row else 0
            school.grades.append(
                {
                    "level": level,
                    "label": ENTRY_GRADE_LABEL[Level(level)],
                    "value": (data or {}).get(f"seats_{level}", saved) if refused else saved,
                    "saved": saved,
                    "added": row.added_seats if row else 0,
                    "errors": school.form_errors.get(f"seats.{level}", []),
                }
            )
        schools.append(school)
    run = selectors.run_in_force(season=season)
    return render(
        request,
        "enrollment/bureau.html",
        {
            "season": season,
            "problems": problems,
            "errors": [p for p in problems if p.level == "error"],
            "schools": schools,
            "catchment_counts": counts,
            "runs": season.runs.all()[:10],
            "run_in_force": run,
            "registrations": season.registrations.count(),
            "tie_breaks": [str(dict(_tie_labels()).get(name, name)) for name in season.tie_breaks],
            "season_form": _season_form(season, data=season_data, errors=season_errors),
        },
        status=status,
    )


@_guard(access_bureau)
def bureau(request):
    return _bureau_page(request, _season_or_404())


@_guard(access_bureau)
@require_POST
def season_edit(request):
    """The bureau changes the season's key dates, its published lottery seed (refused once a
    run drew with it, unless the bureau asks for a new draw) and the tie-break order, through
    services.season_configure (audited); each refused value is named beside its field."""
    season = _season_or_404()
    post = request.POST
    errors: dict[str, list[str]] = {}
    values: dict = {}
    for name in SEASON_DATES:
        raw = post.get(name, "").strip()
        try:
            values[name] = datetime.date.fromisoformat(raw)
        except ValueError:
            errors[name] = [_("Not a date (YYYY-MM-DD): “%(value)s”.") % {"value": raw}]
    for name in SEASON_NUMBERS:
        raw = post.get(name, "").strip()
        try:
            values[name] = int(raw)
        except ValueError:
            errors[name] = [_("Not a whole number: “%(value)s”.") % {"value": raw}]
    if errors:
        return _bureau_page(request, season, season_data=post, season_errors=errors, status=422)
    try:
        services.season_configure(
            actor=request.user,
            year=season.year,
            title=post.get("title", ""),
            lottery_seed=post.get("lottery_seed", ""),
            tie_breaks=[
                post.get(f"tie_break_{i}", "") for i in range(TIE_BREAK_SLOTS) if post.get(f"tie_break_{i}")
            ],
            redraw=bool(post.get("redraw")),
            **values,
        )
    except FieldErrors as error:
        return _bureau_page(
            request, season, season_data=post, season_errors=_errors_by_field(error), status=422
        )
    except DomainError as error:
        return _bureau_page(
            request, season, season_data=post, season_errors={"general": [error.message]}, status=409
        )
    messages.success(request, _("The season is saved."))
    return redirect(f"{reverse('enrollment:bureau')}#season")


@_guard(access_bureau)
@require_POST
def school_edit(request, code: str):
    """The bureau changes a school's seats in each entry grade and whether it enrolls this
    season, through services.school_save (audited); a refused value is named beside its field
    and nothing changes."""
    season = _season_or_404()
    school = School.objects.filter(season=season, code=code).select_related("town").first()
    if school is None:
        raise Http404
    seats: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for level in school.entry_levels:
        raw = request.POST.get(f"seats_{level}", "").strip()
        try:
            seats[level] = int(raw)
        except ValueError:
            errors[f"seats.{level}"] = [_("Not a whole number: “%(value)s”.") % {"value": raw}]
    if errors:
        return _bureau_page(request, season, edited=school, errors=errors, data=request.POST, status=422)
    try:
        services.school_save(
            actor=request.user,
            season=season,
            code=school.code,
            name=school.name,
            level=school.level,
            kind=school.kind,
            town_code=school.town.code,
            longitude=school.longitude,
            latitude=school.latitude,
            seats=seats,
            address=school.address,
            is_open=bool(request.POST.get("is_open")),
        )
    except FieldErrors as error:
        return _bureau_page(
            request, season, edited=school, errors=_errors_by_field(error), data=request.POST, status=422
        )
    messages.success(request, _("%(school)s is saved.") % {"school": school.name})
    return redirect(f"{reverse('enrollment:bureau')}#school-{school.code}")


def _tie_labels():
    from yiwang.enrollment.models import TieBreak

    return TieBreak.choices


@_guard(access_bureau)
@require_POST
def allocate(request):
    season = _season_or_404()
    try:
        run = services.allocation_run(season=season, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Allocation run %(number)d is in force: %(stability)s")
            % {"number": run.number, "stability": run.stability},
        )
    return redirect("enrollment:bureau")


@_guard(access_figures)
def figures(request):
    season = _season_or_404()
    found = selectors.figures(season=season)
    charts = []
    for level in Level.values:
        rows = [r for r in found["rows"] if r["level"] == level]
        if not rows:
            continue
        charts.append(
            {
                "level": Level(level).label,
                "fill": selectors.bars(
                    [(r["county"].name, r["fill_rate"], f"{r['fill_rate']:.0%}") for r in rows], scale=1.0
                ),
                "unplaced": selectors.bars(
                    [
                        (
                            r["county"].name,
                            r["unplaced"] + r["coordinated"],
                            f"{r['coordinated']} / {r['unplaced']}",
                        )
                        for r in rows
                    ]
                ),
            }
        )
    return render(
        request,
        "enrollment/figures.html",
        {
            "season": season,
            "figures": found,
            "charts": charts,
            "mix": selectors.class_mix_chart(found["rows"]),
        },
    )


@_guard(access_bureau)
def appeals(request):
    season = _season_or_404()
    rows = [{"appeal": a, "state": case_state_label(a.case)} for a in selectors.appeals_list(season=season)]
    return render(request, "enrollment/appeals.html", {"season": season, "rows": rows})


@login_required
def roster(request, code: str):
    season = _season_or_404()
    try:
        school = selectors.school_get(season=season, code=code, user=request.user)
    except NotFound:
        raise Http404 from None
    rows = selectors.school_roster(school=school, viewer=request.user)
    seats = sum(school.seats_at(level) for level in school.entry_levels)
    return render(
        request,
        "enrollment/roster.html",
        {"season": season, "school": school, "rows": rows, "seats": seats, "kinds": School.Kind},
    )
