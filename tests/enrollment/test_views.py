"""The pages, through the test client: a parent's registration, choices and placement; the
bureau's season page, allocation, figures, appeals and rosters (ID numbers unmasked only for
roles that need them, and audited); outsiders refused."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.enrollment.conftest import OPEN_DAY, register
from yiwang.core.models import AuditEntry
from yiwang.enrollment import services

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_parent_pages_show_class_explanation_choices_and_placement(town, settings):
    registration = register(town, 2)
    parent = client_for(town.families[2].user)
    page = parent.get(f"/enrollment/registrations/{registration.number}/").content.decode()
    assert "测试第一小学" in page and 'data-condition="same_address"' in page
    response = parent.post(
        f"/enrollment/registrations/{registration.number}/choices/", {"choice_0": "P1", "choice_1": "PC"}
    )
    assert response.status_code == 422 and "测试关停小学" in response.content.decode()
    parent.post(
        f"/enrollment/registrations/{registration.number}/choices/", {"choice_0": "PR", "choice_1": "P1"}
    )
    assert [c.school.code for c in registration.choices.all()] == ["PR", "P1"]
    services.allocation_run(season=town.season, actor=town.bureau)
    page = parent.get(f"/enrollment/registrations/{registration.number}/").content.decode()
    assert 'id="placement"' in page and "测试民办小学" in page
    # another parent cannot see it
    assert (
        client_for(town.families[1].user).get(f"/enrollment/registrations/{registration.number}/").status_code
        == 404
    )


def test_register_page_names_the_field_on_bad_input(town):
    parent = client_for(town.families[1].user)
    response = parent.post("/enrollment/register/", {"child_id_number": "123"})
    assert response.status_code == 200 and 'id="child_id_number-errors"' in response.content.decode()


def test_bureau_pages_and_roster_masking(town):
    registered = [register(town, n) for n in (1, 3, 4)]
    handler = client_for(town.bureau)
    page = handler.get("/enrollment/bureau/").content.decode()
    assert 'data-code="gap"' in page
    handler.post("/enrollment/bureau/allocate/")
    assert town.season.runs.filter(in_force=True).exists()
    assert "<svg" in handler.get("/enrollment/bureau/figures/").content.decode()
    roster = handler.get("/enrollment/schools/P2/").content.decode()
    child = registered[1].child
    assert child.id_number in roster  # a department handler's work needs it …
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").exists()  # … and it is audited
    supervisor_roster = client_for(town.supervisor).get("/enrollment/schools/P2/").content.decode()
    assert child.id_number not in supervisor_roster and child.id_number[-4:] in supervisor_roster
    assert client_for(town.outsider).get("/enrollment/bureau/").status_code == 403
    assert client_for(town.outsider).get("/enrollment/schools/P2/").status_code == 404
    assert client_for(town.leader).get("/enrollment/bureau/figures/").status_code == 200


def test_appeal_page_files_a_case(town):
    registration = register(town, 4)
    services.allocation_run(season=town.season, actor=town.bureau)
    parent = client_for(town.families[4].user)
    response = parent.post(
        f"/enrollment/registrations/{registration.number}/appeal/", {"school": "P1", "reason": ""}
    )
    assert "errorlist" in response.content.decode()
    parent.post(
        f"/enrollment/registrations/{registration.number}/appeal/", {"school": "P1", "reason": "离家近"}
    )
    assert registration.appeals.count() == 1
    assert (
        registration.appeals.get().case.reference
        in client_for(town.bureau).get("/enrollment/bureau/appeals/").content.decode()
    )


_ = OPEN_DAY
