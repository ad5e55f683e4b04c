"""Allocation on the small town, checked by hand: deferred acceptance by class and tie-breaks,
coordination for the rest, stability verified and recorded, the same result again from the
same seed, the reason for every better choice; all-or-nothing; configuration checks; a
single-seat appeal that moves no one else."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.enrollment.conftest import OPEN_DAY, register
from yiwang.cases.services import case_transition
from yiwang.core.errors import Conflict, Forbidden, NotFound
from yiwang.enrollment import services
from yiwang.enrollment.models import AllocationRun, Placement

pytestmark = pytest.mark.django_db

CHOICES = {1: ["P1"], 2: ["P1"], 3: ["P2"], 4: ["P1", "P2"], 5: ["PR"]}


def registered(town) -> dict:
    got = {}
    for number, codes in CHOICES.items():
        registration = register(town, number)
        services.choices_set(
            registration=registration, school_codes=codes, actor=town.families[number].user, now=OPEN_DAY
        )
        got[number] = registration
    return got


def placements(run) -> dict[str, tuple]:
    return {
        p.registration.number: (p.school.code if p.school else None, p.how, p.rank, p.priority_class)
        for p in run.placements.select_related("school", "registration")
    }


def test_allocation_by_hand(town):
    got = registered(town)
    with translation.override("zh-hans"):  # the run's verdict is stored in the language of the day
        run = services.allocation_run(season=town.season, actor=town.bureau)
    assert run.in_force and run.stable and "稳定：没有阻塞对" in run.stability
    by_family = {number: placements(run)[r.number] for number, r in got.items()}
    assert by_family == {
        1: ("P1", "choice", 0, 1),  # class 1 at P1 (1 seat)
        2: ("P2", "coordination", -1, 9),  # class 2 at P1 loses to class 1; P2 is the nearest with a seat
        3: ("P2", "choice", 0, 3),
        4: ("P2", "choice", 1, 4),  # outside P1's catchment (class 9) there; class 4 at P2
        5: ("PR", "choice", 0, 0),  # private school: lottery
    }
    # why not P1, for family 2: P1 full, admitted down to class 1, family 2 is class 2 there
    reason = Placement.objects.get(run=run, registration=got[2]).reason
    assert reason == [
        {
            "rank": 0,
            "school": "P1",
            "school_name": "测试第一小学",
            "own_class": 2,
            "full": True,
            "seats": 1,
            "cutoff_class": 1,
            "cutoff_number": got[1].number,
        }
    ]


def test_the_same_seed_gives_the_same_result_and_a_run_replaces_the_previous(town):
    registered(town)
    first = services.allocation_run(season=town.season, actor=town.bureau)
    second = services.allocation_run(season=town.season, actor=town.bureau)
    first.refresh_from_db()
    assert placements(first) == placements(second)
    assert not first.in_force and second.in_force and second.number == 2


def test_lottery_is_published_and_recomputable():
    import hashlib

    value = services.lottery_value("seed", "RX2027000001")
    assert value == int(hashlib.sha256(b"seed:RX2027000001").hexdigest()[:15], 16)


def test_an_allocation_that_fails_half_way_leaves_the_previous_result_in_force(town, monkeypatch):
    registered(town)
    first = services.allocation_run(season=town.season, actor=town.bureau)
    before = placements(first)

    def write_half_then_crash(rows):
        Placement.objects.bulk_create(rows[: len(rows) // 2])
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_placements_write", write_half_then_crash)
    with pytest.raises(RuntimeError):
        services.allocation_run(season=town.season, actor=town.bureau)
    assert list(AllocationRun.objects.values_list("number", "in_force")) == [(1, True)]
    assert placements(AllocationRun.objects.get()) == before
    assert Placement.objects.count() == len(before)


def test_only_the_bureau_allocates(town):
    registered(town)
    with pytest.raises(Forbidden):
        services.allocation_run(season=town.season, actor=town.outsider)
    with pytest.raises(Forbidden):
        services.allocation_run(season=town.season, actor=town.families[1].user)


def test_configuration_checks_name_gaps_capacity_and_closed_schools(town):
    registered(town)
    problems = services.config_check(season=town.season)
    gap = [p for p in problems if p.code == "gap"]
    assert gap and town.villages["V3"].name in gap[0].message and gap[0].level == "warning"
    # P1 cannot hold its class-1 children once it has no seat
    p1 = town.schools["P1"]
    services.school_save(
        actor=town.bureau,
        season=town.season,
        code="P1",
        name=p1.name,
        level="primary",
        kind="public",
        town_code=p1.town_id,
        longitude=p1.longitude,
        latitude=p1.latitude,
        seats=0,
    )
    codes = {p.code for p in services.config_check(season=town.season)}
    assert "class1_over_capacity" in codes
    # a school closed after parents chose it: an error that blocks the allocation, naming them
    p2 = town.schools["P2"]
    services.school_save(
        actor=town.bureau,
        season=town.season,
        code="P2",
        name=p2.name,
        level="primary",
        kind="public",
        town_code=p2.town_id,
        longitude=p2.longitude,
        latitude=p2.latitude,
        seats=3,
        is_open=False,
    )
    closed = [p for p in services.config_check(season=town.season) if p.code == "closed_school_chosen"]
    assert len(closed) == 2 and all(p.level == "error" for p in closed)
    with pytest.raises(Conflict, match="测试第二小学"):
        services.allocation_run(season=town.season, actor=town.bureau)
    assert not AllocationRun.objects.exists()


def test_an_upheld_appeal_seats_the_appellant_and_moves_no_one_else(town):
    got = registered(town)
    run = services.allocation_run(season=town.season, actor=town.bureau)
    before = placements(run)
    appeal = services.appeal_file(
        registration=got[2],
        school_code="P1",
        reason="房产在学区内，孩子应就近入学",
        actor=town.families[2].user,
    )
    case = appeal.case
    assert case.type_code == "enrollment.appeal" and case.department.code == "JY" and case.case_deadline
    case = case_transition(case=case, transition="accept", actor=town.bureau, expected_version=case.version)
    case_transition(
        case=case,
        transition="uphold",
        actor=town.bureau,
        expected_version=case.version,
        note="核实属实，增加学位",
    )
    after = placements(run)
    assert after[got[2].number] == ("P1", "appeal", 0, 2)
    assert {k: v for k, v in after.items() if k != got[2].number} == {
        k: v for k, v in before.items() if k != got[2].number
    }
    # P1 was full: the bureau added a seat in its entry grade
    assert town.schools["P1"].capacity_at("primary").added_seats == 1


def test_a_rejected_appeal_changes_nothing(town):
    got = registered(town)
    run = services.allocation_run(season=town.season, actor=town.bureau)
    before = placements(run)
    appeal = services.appeal_file(
        registration=got[4], school_code="P1", reason="离家近", actor=town.families[4].user
    )
    case_transition(
        case=appeal.case,
        transition="reject",
        actor=town.bureau,
        expected_version=appeal.case.version,
        note="学区外，学位已满",
    )
    assert placements(run) == before
    appeal.refresh_from_db()
    assert appeal.outcome == "rejected"
    with pytest.raises(NotFound):  # another family's registration: not found, as if missing
        services.appeal_file(registration=got[4], school_code="P1", reason="x", actor=town.families[1].user)
