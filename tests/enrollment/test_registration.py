"""A parent registers a child: the platform fetches 户籍, property, residence permit and social
insurance through the exchange as the education bureau (with its purpose and evidence), the
rules decide the class, and bad input is refused naming the field."""

from __future__ import annotations

import pytest

from tests.enrollment.conftest import register
from yiwang.core.errors import FieldErrors, Forbidden, NotFound
from yiwang.enrollment import services
from yiwang.exchange.models import ExchangeRead, Record

pytestmark = pytest.mark.django_db


def test_each_family_gets_the_class_its_facts_give(town):
    got = {number: register(town, number) for number in (1, 2, 3, 4, 5)}
    assert {number: r.priority_class for number, r in got.items()} == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    assert got[1].catchment_school.code == "P1" and got[2].catchment_school.code == "P1"
    assert got[3].catchment_school.code == "P2" and got[4].catchment_school.code == "P2"
    assert got[5].catchment_school is None and got[5].facts["warnings"]
    assert got[3].facts["insurance_months"] == 14
    # the catchment school is ranked first by default
    assert [c.school.code for c in got[1].choices.all()] == ["P1"]
    # the facts went to the bureau's own feed; the reads left evidence with the purpose
    assert Record.objects.filter(resource__code="jy.enrollment_facts").count() == 5
    reads = ExchangeRead.objects.filter(consumer__code="JY")
    assert reads.exists() and set(reads.values_list("purpose", flat=True)) == {services.PURPOSE}
    assert {
        "ga.persons",
        "ga.household_members",
        "ga.households",
        "bdcdj.property_owners",
        "bdcdj.properties",
        "ga.residence_permit_holders",
        "rs.social_insurance_payments",
    } <= set(reads.values_list("resource__code", flat=True))


def test_the_explanation_is_the_rules_engines(town):
    registration = register(town, 2)
    shown = services.class_explanations(registration=registration)
    # class 1 not met (户籍 not in the catchment, not the same address), class 2 met
    assert [(number, explanation.eligible) for number, _title, explanation in shown] == [
        (1, False),
        (2, True),
    ]
    class1 = {c.id: c.passed for c in shown[0][2].conditions}
    assert class1 == {"hukou": False, "property": True, "same_address": False}


def test_a_child_registered_twice_is_refused(town):
    first = register(town, 1)
    with pytest.raises(FieldErrors) as refused:
        register(town, 1)
    assert refused.value.errors[0][0] == ("child_id_number",)
    assert first.number in refused.value.errors[0][1]


def test_a_child_not_in_the_parents_household_is_refused(town):
    with pytest.raises(FieldErrors, match="不在您的户籍户内"):
        services.registration_submit(
            season=town.season,
            child_id_number=town.families[2].child.id_number,
            actor=town.families[1].user,
            now=__import__("tests.enrollment.conftest", fromlist=["OPEN_DAY"]).OPEN_DAY,
        )


def test_bad_id_number_closed_registration_and_no_person(town):
    from tests.enrollment.conftest import OPEN_DAY, at

    family = town.families[1]
    with pytest.raises(FieldErrors) as refused:
        services.registration_submit(
            season=town.season, child_id_number="36030220210315001X", actor=family.user, now=OPEN_DAY
        )
    assert refused.value.errors[0][0] == ("child_id_number",)
    with pytest.raises(FieldErrors, match="报名时间为"):
        register(town, 1, now=at(2027, 6, 2))
    with pytest.raises(Forbidden):
        services.registration_submit(
            season=town.season, child_id_number=family.child.id_number, actor=town.bureau, now=OPEN_DAY
        )


def test_choices_refuse_closed_unknown_other_level_and_repeated_schools(town):
    registration = register(town, 1)
    with pytest.raises(FieldErrors) as refused:
        services.choices_set(
            registration=registration,
            school_codes=["P1", "PC", "J1", "XX", "P1", "PR"],
            actor=town.families[1].user,
        )
    paths = {path: message for path, message in refused.value.errors}
    assert ("choices",) in paths  # more than 5
    assert "本年度不招生" in paths[("choices", 1)]
    assert ("choices", 2) in paths and ("choices", 3) in paths and "重复填报" in paths[("choices", 4)]
    services.choices_set(registration=registration, school_codes=["PR", "P1"], actor=town.families[1].user)
    assert [c.school.code for c in registration.choices.all()] == ["PR", "P1"]
    with pytest.raises(NotFound):
        services.choices_set(registration=registration, school_codes=["P2"], actor=town.families[2].user)
