"""The bureau's season form and seats after an allocation, on /enrollment/bureau/:

- key dates, the tie-break order and the lottery seed are edited through
  services.season_configure (audited); a bad value is refused with 422 naming its field;
- the published seed is frozen once a run drew with it: changing it is refused naming the
  field and the run, unless the bureau asks for a new draw (a new run with the new seed, the
  earlier run keeping its own);
- seats after a run: below the children placed there is refused naming the school and the
  numbers; any other change marks the run stale (parents do not see it) until it runs again;
- a nine-year school (九年一贯制) has seats per entry grade, each grade allocated on its own.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tests.enrollment.conftest import OPEN_DAY, family_make, register
from tests.factories import UserFactory, VillageFactory
from yiwang.core.errors import FieldErrors
from yiwang.core.models import AuditEntry, Role
from yiwang.enrollment import selectors, services
from yiwang.enrollment.models import AllocationRun, Placement, School, Season

pytestmark = pytest.mark.django_db

CHOICES = {1: ["P1"], 2: ["P1"], 3: ["P2"], 4: ["P1", "P2"], 5: ["PR"]}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def season_form(season: Season, **changes) -> dict:
    data = {
        "title": season.title,
        "registration_opens": season.registration_opens.isoformat(),
        "registration_closes": season.registration_closes.isoformat(),
        "allocation_on": season.allocation_on.isoformat(),
        "results_on": season.results_on.isoformat(),
        "appeal_days": str(season.appeal_days),
        "max_choices": str(season.max_choices),
        "lottery_seed": season.lottery_seed,
        "tie_break_0": "property_date",
        "tie_break_1": "distance",
    }
    data.update(changes)
    return data


def allocated(town) -> AllocationRun:
    for number, codes in CHOICES.items():
        registration = register(town, number)
        services.choices_set(
            registration=registration, school_codes=codes, actor=town.families[number].user, now=OPEN_DAY
        )
    return services.allocation_run(season=town.season, actor=town.bureau)


# --- the season form -----------------------------------------------------------------------------


def test_the_bureau_edits_key_dates_seed_and_tie_break_order(town):
    handler = client_for(town.bureau)
    page = handler.get("/enrollment/bureau/").content.decode()
    assert 'id="season-form"' in page and 'name="lottery_seed"' in page
    response = handler.post(
        "/enrollment/bureau/season/",
        season_form(
            town.season,
            registration_closes="2027-06-05",
            allocation_on="2027-06-20",
            lottery_seed="2027-新的公开种子",
            tie_break_0="distance",
            tie_break_1="",
            appeal_days="7",
        ),
    )
    assert response.status_code == 302 and response.url.endswith("#season")
    season = Season.objects.get(pk=town.season.pk)
    assert season.registration_closes == datetime.date(2027, 6, 5)
    assert season.allocation_on == datetime.date(2027, 6, 20)
    assert season.lottery_seed == "2027-新的公开种子"
    assert season.tie_breaks == ["distance"] and season.appeal_days == 7
    entry = AuditEntry.objects.filter(action="enrollment.season_configure").order_by("-pk").first()
    assert entry.before["lottery_seed"] == "2027-pingxiang-公开种子"
    assert entry.after["lottery_seed"] == "2027-新的公开种子" and "title" not in entry.after
    page = handler.get("/enrollment/bureau/").content.decode()
    assert 'value="2027-新的公开种子"' in page and 'value="2027-06-20"' in page


def test_a_date_that_is_not_a_date_is_named_beside_its_field(town):
    response = client_for(town.bureau).post(
        "/enrollment/bureau/season/", season_form(town.season, registration_opens="2027/05/01")
    )
    page = response.content.decode()
    assert response.status_code == 422 and 'id="registration_opens-errors"' in page
    assert 'value="2027/05/01"' in page  # what the bureau typed stays in the form
    assert Season.objects.get(pk=town.season.pk).registration_opens == datetime.date(2027, 5, 1)


def test_dates_out_of_order_and_a_repeated_tie_break_are_refused_per_field(town):
    response = client_for(town.bureau).post(
        "/enrollment/bureau/season/",
        season_form(town.season, results_on="2027-06-01", tie_break_1="property_date", max_choices="0"),
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="results_on-errors"' in page and 'id="tie_break_1-errors"' in page
    assert 'id="max_choices-errors"' in page and 'id="allocation_on-errors"' not in page
    season = Season.objects.get(pk=town.season.pk)
    assert season.results_on == datetime.date(2027, 6, 30) and season.max_choices == 5


def test_parents_and_outsiders_cannot_change_the_season(town):
    for user in (town.families[1].user, town.outsider):
        response = client_for(user).post(
            "/enrollment/bureau/season/", season_form(town.season, lottery_seed="偷换的种子")
        )
        assert response.status_code in (403, 404)
    assert Season.objects.get(pk=town.season.pk).lottery_seed == "2027-pingxiang-公开种子"


def test_the_published_seed_is_frozen_once_drawn_unless_the_bureau_draws_again(town):
    first = allocated(town)
    handler = client_for(town.bureau)
    response = handler.post("/enrollment/bureau/season/", season_form(town.season, lottery_seed="换一个种子"))
    page = response.content.decode()
    assert response.status_code == 422 and 'id="lottery_seed-errors"' in page
    assert "派位种子“2027-pingxiang-公开种子”已公布，第 1 次分配已用它派位" in page
    assert Season.objects.get(pk=town.season.pk).lottery_seed == "2027-pingxiang-公开种子"
    assert AllocationRun.objects.count() == 1

    # An explicit new draw: the new seed and a new run with it, in one step.
    response = handler.post(
        "/enrollment/bureau/season/", season_form(town.season, lottery_seed="换一个种子", redraw="1")
    )
    assert response.status_code == 302
    runs = {run.number: run for run in AllocationRun.objects.all()}
    assert set(runs) == {1, 2}
    assert runs[2].in_force and runs[2].lottery_seed == "换一个种子" and runs[2].stable
    assert not runs[1].in_force and runs[1].lottery_seed == first.lottery_seed == "2027-pingxiang-公开种子"
    entry = AuditEntry.objects.filter(action="enrollment.season_configure").order_by("-pk").first()
    assert entry.after["redraw"] is True and entry.before["lottery_seed"] == "2027-pingxiang-公开种子"


def test_the_same_seed_is_not_a_change(town):
    allocated(town)
    response = client_for(town.bureau).post(
        "/enrollment/bureau/season/", season_form(town.season, results_on="2027-07-01")
    )
    assert response.status_code == 302
    assert AllocationRun.objects.count() == 1
    assert AllocationRun.objects.get().stale_since is None  # dates do not change the result


def test_a_new_tie_break_order_after_a_run_marks_it_stale(town):
    run = allocated(town)
    response = client_for(town.bureau).post(
        "/enrollment/bureau/season/", season_form(town.season, tie_break_0="distance", tie_break_1="")
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.stale_since is not None


# --- seats after an allocation ---------------------------------------------------------------


def test_seats_below_the_children_placed_are_refused_naming_school_and_numbers(town):
    run = allocated(town)
    placed = Placement.objects.filter(run=run, school__code="P2").count()
    assert placed == 3
    response = client_for(town.bureau).post(
        "/enrollment/bureau/schools/P2/", {"seats_primary": "1", "is_open": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 422 and 'id="seats-P2-primary-errors"' in page
    assert "测试第二小学一年级在第 1 次分配中已录取 3 名儿童，学位数不能少于此数（填写的是 1）" in page
    assert School.objects.get(season=town.season, code="P2").seats_at("primary") == 3
    run.refresh_from_db()
    assert run.stale_since is None


def test_a_school_with_children_placed_keeps_enrolling(town):
    allocated(town)
    response = client_for(town.bureau).post("/enrollment/bureau/schools/P2/", {"seats_primary": "3"})
    assert response.status_code == 422 and 'id="open-P2-errors"' in response.content.decode()
    assert School.objects.get(season=town.season, code="P2").is_open


def test_more_seats_after_a_run_make_it_stale_until_the_allocation_runs_again(town):
    run = allocated(town)
    registration = run.placements.get(registration__child=town.families[2].child).registration
    assert selectors.placement_of(registration=registration) is not None
    handler = client_for(town.bureau)
    response = handler.post("/enrollment/bureau/schools/P1/", {"seats_primary": "2", "is_open": "1"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.stale_since is not None and "测试第一小学" in run.stale_reason
    assert "stale_result" in {p.code for p in services.config_check(season=town.season)}
    assert selectors.placement_of(registration=registration) is None  # parents wait for the re-run
    assert 'id="stale-run"' in handler.get("/enrollment/bureau/").content.decode()
    # Saving the same seats again changes nothing more.
    first_reason = run.stale_reason
    handler.post("/enrollment/bureau/schools/P1/", {"seats_primary": "2", "is_open": "1"})
    run.refresh_from_db()
    assert run.stale_reason == first_reason

    again = services.allocation_run(season=town.season, actor=town.bureau)
    assert again.in_force and again.stale_since is None
    placement = selectors.placement_of(registration=registration)
    assert placement is not None and placement.school.code == "P1"  # the new seat went to family 2
    assert 'id="stale-run"' not in handler.get("/enrollment/bureau/").content.decode()


# --- a nine-year school: seats per entry grade -------------------------------------------------


def test_a_nine_year_school_has_seats_per_entry_grade_allocated_on_their_own(town):
    village = VillageFactory(parent=town.villages["V1"].parent, is_urban=True, name="测试V4社区")
    save = dict(
        actor=town.bureau,
        season=town.season,
        code="N1",
        name="测试九年一贯制学校",
        level="nine_year",
        kind="public",
        town_code=village.parent_id,
        longitude=114.05,
        latitude=27.65,
    )
    with pytest.raises(FieldErrors) as refused:
        services.school_save(**save, seats={"primary": 1})
    assert [path for path, _message in refused.value.errors] == [("seats", "junior")]
    school = services.school_save(**save, seats={"primary": 1, "junior": 1})
    assert {row.level: row.seats for row in school.capacities.all()} == {"primary": 1, "junior": 1}
    assert {row.grade for row in school.capacities.all()} == {1, 7}
    services.catchment_set(actor=town.bureau, school=school, division_codes=[village.code])
    services.localities_set(actor=town.bureau, places={village.code: (114.05, 27.651)})

    users = [UserFactory(role=Role.CITIZEN) for _ in range(3)]
    primary_owner = family_make(village, user=users[0], own_in=village)
    primary_renter = family_make(village, user=users[1])
    junior = family_make(village, user=users[2], own_in=village, born=datetime.date(2015, 3, 15))
    made = {}
    for name, family in (("owner", primary_owner), ("renter", primary_renter), ("junior", junior)):
        made[name] = services.registration_submit(
            season=town.season, child_id_number=family.child.id_number, actor=family.user, now=OPEN_DAY
        )
        assert made[name].catchment_school == school
    assert made["junior"].level == "junior" and made["owner"].level == "primary"

    handler = client_for(town.bureau)
    page = handler.get("/enrollment/bureau/").content.decode()
    assert 'id="seats-N1-primary"' in page and 'id="seats-N1-junior"' in page
    # the bureau form edits each grade; a bad junior figure names that grade's field
    response = handler.post("/enrollment/bureau/schools/N1/", {"seats_primary": "1", "seats_junior": "-1"})
    assert response.status_code == 422 and 'id="seats-N1-junior-errors"' in response.content.decode()
    response = handler.post(
        "/enrollment/bureau/schools/N1/", {"seats_primary": "1", "seats_junior": "2", "is_open": "1"}
    )
    assert response.status_code == 302
    assert School.objects.get(code="N1").seats_at("junior") == 2

    run = services.allocation_run(season=town.season, actor=town.bureau)
    assert run.stable
    at = {p.registration_id: p for p in run.placements.select_related("school")}
    assert at[made["owner"].pk].school.code == "N1" and at[made["owner"].pk].how == "choice"
    assert at[made["junior"].pk].school.code == "N1" and at[made["junior"].pk].how == "choice"
    # one primary seat: the class-4 renter goes elsewhere, though N1's junior grade has room
    assert at[made["renter"].pk].school.code != "N1"
    assert run.figures["levels"]["junior"]["placed_on_choice"] == 1
    roster = client_for(town.bureau).get("/enrollment/schools/N1/").content.decode()
    assert "已录取 2 人" in roster and "学位 3 个" in roster
