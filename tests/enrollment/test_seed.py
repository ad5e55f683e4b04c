"""The demo's enrollment season (`yiwang enrollment_seed`) on a small generated city: the
随迁子女 families — 户籍 in a county outside the city, a residence permit for a community of
the city, social insurance paid here — are registered by a parent, class 3 with 12 months or
more, class 5 with fewer and the rules engine's reason why not class 3; the allocation is
stable; a second seed adds nothing.

(The small town of conftest.py has its own 2027 season and schools, which the demo seed would
take over, so this test generates a small city as the demo does.)"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command

from yiwang.core.models import AuditEntry, Division, DivisionLevel, User
from yiwang.core.reference import reference_load
from yiwang.enrollment import selectors, services
from yiwang.enrollment.feeds import PERMITS, SOCIAL_INSURANCE
from yiwang.enrollment.models import AllocationRun, Placement, Registration
from yiwang.enrollment.seed import MIGRANT_FAMILIES, MIGRANT_LOGIN, MIGRANT_SHORT, enrollment_demo_seed
from yiwang.exchange.models import IngestBatch, Record
from yiwang.registry.models import Household, Person
from yiwang.registry.seed import demo_logins_ensure, registry_seed

pytestmark = pytest.mark.django_db

CLASS_3_TITLE = "第三类：随迁子女（居住证与社保）"


def counts() -> dict[str, int]:
    return {
        "divisions": Division.objects.count(),
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "users": User.objects.count(),
        "registrations": Registration.objects.count(),
        "records": Record.objects.count(),
        "batches": IngestBatch.objects.count(),
        "runs": AllocationRun.objects.count(),
        "placements": Placement.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.fixture
def demo(db):
    reference_load()
    registry_seed(persons=1500, seed=7, as_of=datetime.date(2026, 1, 1))
    demo_logins_ensure()
    return enrollment_demo_seed()


def migrant_registrations():
    return list(
        Registration.objects.filter(home_division__is_outside_city=True)
        .select_related("child", "guardian", "home_division", "catchment_school")
        .order_by("number")
    )


def test_migrant_families_are_class_3_or_class_5_with_the_reason(demo):
    assert demo["migrant_families"] == MIGRANT_FAMILIES
    registrations = migrant_registrations()
    assert len(registrations) == MIGRANT_FAMILIES  # every migrant child, registered by a parent
    classes = sorted(r.priority_class for r in registrations)
    assert classes == [3] * (MIGRANT_FAMILIES - len(MIGRANT_SHORT)) + [5] * len(MIGRANT_SHORT)
    for registration in registrations:
        home = registration.home_division
        # 户籍 outside the city: a top-level division with a real county code, the child's ID
        # number issued there, no parent in the city's tree
        assert home.level == DivisionLevel.CITY and home.parent_id is None
        assert not home.code.startswith("3603") and registration.child.id_number[:6] == home.code
        assert registration.guardian.membership.household == registration.child.membership.household
        assert registration.catchment_school is not None  # the residence permit's catchment
        assert registration.choices.filter(rank=0).exists()
        flags = registration.facts["flags"]
        assert flags["permit_in_catchment"] and flags["permit_valid"]
        assert not flags["hukou_in_catchment"] and not flags["property_in_catchment"]
        months = registration.facts["insurance_months"]
        shown = services.class_explanations(registration=registration)
        if registration.priority_class == 3:
            assert months >= 12 and registration.class_rule == "enrollment.class3"
            number, title, explanation = shown[-1]
            assert (number, title, explanation.eligible) == (3, CLASS_3_TITLE, True)
        else:
            assert months in MIGRANT_SHORT.values() and registration.class_rule == ""
            why_not_3 = next(e for n, _t, e in shown if n == 3)
            failed = [c for c in why_not_3.conditions if not c.passed]
            assert [(c.id, c.value, c.compared_with) for c in failed] == [("insurance_months", months, 12)]
    # the permits and payments went in through the exchange's ingest as the owning systems
    permit_records = Record.objects.filter(resource__code=PERMITS)
    assert permit_records.count() == 2 * MIGRANT_FAMILIES
    assert Record.objects.filter(resource__code=SOCIAL_INSURANCE, key__startswith="SQ").exists()
    # the run in force includes them, is stable, and the bureau's class mix shows class 3
    run = AllocationRun.objects.get(in_force=True)
    assert run.stable
    assert Placement.objects.filter(run=run, registration__in=registrations).count() == MIGRANT_FAMILIES
    season = registrations[0].season
    mix = [part for row in selectors.figures(season=season)["rows"] for part in row["class_mix"]]
    assert sum(part["count"] for part in mix if part["klass"] == 3) == MIGRANT_FAMILIES - len(MIGRANT_SHORT)
    # the child lives where the residence permit says (distances are from there), and neither
    # a catchment "gap" nor a village "without a place on the map" is reported for a 户籍
    # outside the city
    outside = services.outside_divisions()
    for registration in registrations:
        lives = services.living_division(registration, outside=outside)
        assert lives in {p["division_code"] for p in registration.facts["permits"]}
        assert services.catchment_map(season).school_of(registration.level, division=lives) == (
            registration.catchment_school
        )
    problems = services.config_check(season=season)
    named = [p.message + p.where for p in problems if p.code in ("gap", "no_location")]
    assert not any(code in text for code in outside for text in named)


def test_the_migrant_parent_sees_class_3_and_its_explanation(demo, client):
    login = User.objects.get(username=MIGRANT_LOGIN)
    registration = Registration.objects.get(guardian__user=login)
    assert registration.priority_class == 3
    assert client.login(username=MIGRANT_LOGIN, password=settings.YIWANG_DEMO_PASSWORD)
    page = client.get(f"/enrollment/registrations/{registration.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert CLASS_3_TITLE in text and "父母近24个月在本市缴纳社会保险月数" in text
    assert "居住证" in text


def test_a_second_seed_adds_nothing(demo):
    before = counts()
    again = enrollment_demo_seed()
    assert again["migrant_families"] == 0 and again["migrant_records"] == 0
    assert (again["registered"], again["run"], again["migrant_login"]) == (0, None, False)
    assert counts() == before
    call_command("enrollment_seed", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts() == before
