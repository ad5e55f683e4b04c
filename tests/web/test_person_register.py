"""Registering a person on the page: field errors beside the field, nothing half-written,
the same rules as the API."""

import datetime

import pytest

from yiwang.core.ids import resident_id_build
from yiwang.core.models import AuditEntry, Division, Role
from yiwang.core.services import user_create
from yiwang.registry.models import Person

pytestmark = pytest.mark.django_db
PASSWORD = "pw-register-1"


@pytest.fixture
def village():
    root = Division.objects.create(code="3603", name="萍乡市", level=1)
    county = Division.objects.create(code="360313", name="湘东区", level=2, parent=root)
    town = Division.objects.create(code="360313101", name="湘东镇", level=3, parent=county)
    return Division.objects.create(code="360313101201", name="桐田村", level=4, parent=town)


def _client(client, role):
    user_create(actor=None, username=role, password=PASSWORD, roles=[(role, None, None)])
    client.login(username=role, password=PASSWORD)
    return client


def test_bad_id_number_is_shown_beside_its_field_and_nothing_is_saved(client, village):
    _client(client, Role.WINDOW_CLERK)
    number = resident_id_build("360313", datetime.date(1979, 8, 15), 3, "M")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = client.post(
        "/city/persons/new/",
        {"id_number": wrong, "name": "周建华", "division": village.code},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["id_number"]
    assert "check digit" in form.errors["id_number"][0]
    assert Person.objects.count() == 0
    assert not AuditEntry.objects.filter(action="person.create").exists()


def test_birth_date_disagreeing_with_the_id_is_an_error_on_birth_date(client, village):
    _client(client, Role.WINDOW_CLERK)
    number = resident_id_build("360313", datetime.date(1979, 8, 15), 3, "M")
    response = client.post(
        "/city/persons/new/",
        {"id_number": number, "name": "周建华", "division": village.code, "birth_date": "1979-08-16"},
    )
    assert list(response.context["form"].errors) == ["birth_date"]
    assert Person.objects.count() == 0


def test_valid_registration_goes_to_the_person_and_is_audited(client, village):
    _client(client, Role.WINDOW_CLERK)
    number = resident_id_build("360313", datetime.date(1979, 8, 15), 3, "M")
    response = client.post(
        "/city/persons/new/",
        {"id_number": number, "name": "周建华", "division": village.code, "phone": "13607991234"},
    )
    person = Person.objects.get()
    assert response.status_code == 302
    assert response.url == f"/city/persons/{person.pk}/"
    assert (person.sex, person.birth_date) == ("M", datetime.date(1979, 8, 15))
    assert AuditEntry.objects.filter(action="person.create", object_id=str(person.pk)).exists()


def test_roles_without_registry_work_cannot_register(client, village):
    _client(client, Role.DATA_STEWARD)
    assert client.get("/city/persons/new/").status_code == 403
    assert "/city/persons/new/" not in client.get("/city/persons/").content.decode()
