"""The bureau's school edit form on /enrollment/bureau/: seats and enrolling changed through
services.school_save (audited); a bad value is refused naming the field and nothing changes;
parents and outsiders cannot post it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.enrollment.conftest import register
from yiwang.core.models import AuditEntry
from yiwang.enrollment.models import School

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bureau_changes_seats_and_sees_them(town):
    handler = client_for(town.bureau)
    response = handler.post("/enrollment/bureau/schools/P1/", {"seats_primary": "77", "is_open": "1"})
    assert response.status_code == 302
    school = School.objects.get(season=town.season, code="P1")
    assert school.seats_at("primary") == 77 and school.is_open
    assert AuditEntry.objects.filter(action="enrollment.school_save").exists()
    page = handler.get("/enrollment/bureau/").content.decode()
    assert 'id="seats-P1-primary" name="seats_primary" value="77"' in page


@pytest.mark.parametrize("value", ["-3", "many"])
def test_bad_seats_are_refused_naming_the_field(town, value):
    before = School.objects.get(season=town.season, code="P1")
    response = client_for(town.bureau).post(
        "/enrollment/bureau/schools/P1/", {"seats_primary": value, "is_open": "1"}
    )
    assert response.status_code == 422 and 'id="seats-P1-primary-errors"' in response.content.decode()
    after = School.objects.get(season=town.season, code="P1")
    assert (after.seats_at("primary"), after.is_open) == (before.seats_at("primary"), before.is_open)


def test_closing_a_chosen_school_makes_the_checks_name_it(town):
    registration = register(town, 1)
    client_for(town.families[1].user).post(
        f"/enrollment/registrations/{registration.number}/choices/", {"choice_0": "P2"}
    )
    assert registration.choices.filter(school__code="P2").exists()
    handler = client_for(town.bureau)
    handler.post("/enrollment/bureau/schools/P2/", {"seats_primary": "40"})
    assert not School.objects.get(season=town.season, code="P2").is_open
    page = handler.get("/enrollment/bureau/").content.decode()
    assert 'data-code="closed_school_chosen"' in page and registration.number in page


def test_parent_and_outsider_cannot_post(town):
    before = School.objects.get(season=town.season, code="P1").seats_at("primary")
    for user in (town.families[1].user, town.outsider):
        response = client_for(user).post(
            "/enrollment/bureau/schools/P1/", {"seats_primary": "1", "is_open": "1"}
        )
        assert response.status_code in (403, 404)
    assert School.objects.get(season=town.season, code="P1").seats_at("primary") == before
