"""The demo city generator: deterministic, valid identifiers, plausible families, idempotent."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command

from tests.factories import EnterpriseFactory, HouseholdFactory, PersonFactory, PropertyFactory
from yiwang.core.audit import audit_verify
from yiwang.core.ids import resident_id_parse, uscc_validate
from yiwang.core.masking import mask_address
from yiwang.core.models import AuditEntry, Division, DivisionLevel, Role, User
from yiwang.core.reference import reference_load
from yiwang.registry.models import (
    Enterprise,
    EnterpriseAgent,
    Household,
    HouseholdMember,
    Person,
    Property,
    PropertyOwner,
    Relation,
)
from yiwang.registry.seed import INDUSTRIES, MOBILE_PREFIXES, registry_seed

pytestmark = pytest.mark.django_db

PERSONS = 2000
SEED = 7
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
CERTIFICATE = re.compile(r"^赣\((\d{4})\)(萍乡市|莲花县|上栗县|芦溪县)不动产权第\d{7}号$")


def seed(persons: int = PERSONS, seed: int = SEED) -> str:
    out = StringIO()
    call_command("seed", persons=persons, seed=seed, stdout=out)
    return out.getvalue()


@pytest.fixture
def city():
    seed()
    entry = AuditEntry.objects.get(action="registry.seed")
    return datetime.date.fromisoformat(entry.after["as_of"])


def years(earlier: datetime.date, later: datetime.date) -> int:
    """Completed years from `earlier` to `later`."""
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def snapshot() -> dict[str, list]:
    return {
        "persons": list(
            Person.objects.order_by("id").values_list(
                "id_number", "name", "sex", "birth_date", "division_id", "address", "phone", "death_date"
            )
        ),
        "households": list(Household.objects.order_by("id").values_list("number", "head__id_number", "kind")),
        "enterprises": list(
            Enterprise.objects.order_by("id").values_list(
                "uscc", "name", "legal_representative__id_number", "industry_code", "registered_capital"
            )
        ),
        "properties": list(
            Property.objects.order_by("id").values_list("unit_number", "certificate_number", "area")
        ),
        "owners": list(
            PropertyOwner.objects.order_by("id").values_list(
                "property__unit_number", "person__id_number", "enterprise__uscc", "share"
            )
        ),
    }


def wipe() -> None:
    PropertyOwner.objects.all().delete()
    Property.objects.all().delete()
    EnterpriseAgent.objects.all().delete()
    Enterprise.objects.all().delete()
    Household.objects.all().delete()
    Person.objects.all().delete()


def test_the_same_seed_gives_the_same_city_and_another_seed_another():
    reference_load()
    registry_seed(persons=PERSONS, seed=SEED)
    first = snapshot()
    wipe()
    registry_seed(persons=PERSONS, seed=SEED)
    assert snapshot() == first
    wipe()
    registry_seed(persons=PERSONS, seed=SEED + 1)
    other = snapshot()
    assert len(other["persons"]) == PERSONS
    ids_first = {row[0] for row in first["persons"]}
    ids_other = {row[0] for row in other["persons"]}
    assert len(ids_first & ids_other) < PERSONS // 10
    assert [row[1] for row in other["persons"]] != [row[1] for row in first["persons"]]


def test_the_batch_size_does_not_change_the_city():
    reference_load()
    registry_seed(persons=500, seed=SEED, batch_size=20000)
    one_batch = snapshot()
    wipe()
    registry_seed(persons=500, seed=SEED, batch_size=37)
    assert snapshot() == one_batch


def test_every_id_number_is_valid_and_agrees_with_birth_date_sex_and_birthplace(city):
    persons = list(Person.objects.all())
    assert len(persons) == PERSONS
    assert len({p.id_number for p in persons}) == PERSONS
    home = 0
    for person in persons:
        parsed = resident_id_parse(person.id_number)
        assert parsed.birth_date == person.birth_date, person.id_number
        assert parsed.sex == person.sex, person.id_number
        assert parsed.birthplace_code == person.birthplace_code, person.id_number
        assert person.birth_date <= city
        home += person.birthplace_code.startswith("3603") or person.birthplace_code == "362431"
    # Most people were born in the city; some elsewhere in Jiangxi or in other provinces.
    assert 0.8 < home / PERSONS < 0.97
    assert any(p.birthplace_code[:2] == "36" and not p.birthplace_code.startswith("3603") for p in persons)
    assert any(p.birthplace_code[:2] != "36" for p in persons)


def test_names_phones_and_addresses_look_real(city):
    divisions = {d.code: d for d in Division.objects.select_related("parent__parent")}
    for person in Person.objects.all():
        assert CHINESE_NAME.match(person.name), person.name
        if person.phone:
            assert len(person.phone) == 11 and person.phone[:3] in MOBILE_PREFIXES
        village = divisions[person.division_id]
        town, county = village.parent, village.parent.parent
        assert person.address.startswith(f"江西省萍乡市{county.name}{town.name}{village.name}")
        # Masking keeps the address down to the town (街道/镇/乡); a farm (垦殖场) down to the county.
        kept = town.name if town.name.endswith(("街道", "镇", "乡")) else ""
        assert mask_address(person.address) == f"江西省萍乡市{county.name}{kept}****"
    with_phone = Person.objects.exclude(phone="").count()
    assert 0.6 < with_phone / PERSONS < 0.95
    deceased = Person.objects.filter(death_date__isnull=False)
    assert 0 < deceased.count() < PERSONS * 0.02
    assert all(p.birth_date < p.death_date <= city for p in deceased)


def test_everyone_lives_in_a_village_or_community(city):
    assert not Person.objects.exclude(division__level=DivisionLevel.VILLAGE).exists()
    assert not Household.objects.exclude(division__level=DivisionLevel.VILLAGE).exists()
    counties = set(Person.objects.values_list("division__parent__parent_id", flat=True))
    assert counties == {"360302", "360313", "360321", "360322", "360323"}


def test_households_are_plausible_families(city):
    members: dict[int, list[HouseholdMember]] = defaultdict(list)
    for member in HouseholdMember.objects.select_related("person"):
        members[member.household_id].append(member)
    households = list(Household.objects.select_related("division"))
    assert sum(len(m) for m in members.values()) == PERSONS
    assert 2.4 < PERSONS / len(households) < 3.1
    assert len({h.number for h in households}) == len(households)
    for household in households:
        group = members[household.id]
        heads = [m for m in group if m.relation == Relation.HEAD]
        assert len(heads) == 1, household.number
        head = heads[0].person
        assert household.head_id == head.id
        assert years(head.birth_date, city) >= 18
        assert household.is_rural == (not household.division.is_urban)
        spouses = [m.person for m in group if m.relation == Relation.SPOUSE]
        assert len(spouses) <= 1
        parents = [head, *spouses]
        for member in group:
            person = member.person
            assert person.division_id == household.division_id
            assert person.address == household.address
            if member.relation == Relation.SPOUSE:
                assert years(person.birth_date, city) >= 18
                assert person.sex != head.sex
            elif member.relation in (Relation.SON, Relation.DAUGHTER):
                assert person.sex == ("M" if member.relation == Relation.SON else "F")
                for parent in parents:
                    assert 20 <= years(parent.birth_date, person.birth_date) < 40, household.number
            elif member.relation == Relation.GRANDCHILD:
                assert years(head.birth_date, person.birth_date) >= 40
            elif member.relation == Relation.PARENT:
                assert 20 <= years(person.birth_date, head.birth_date) < 40
    assert Household.objects.filter(kind="family").count() > 0.95 * len(households)
    assert (
        Household.objects.filter(is_rural=True).exists() and Household.objects.filter(is_rural=False).exists()
    )


def test_enterprises_have_valid_codes_real_industries_and_adult_representatives(city):
    enterprises = list(Enterprise.objects.select_related("legal_representative", "division"))
    assert PERSONS / 25 < len(enterprises) < PERSONS / 10
    industries = {industry.code: industry.name for industry in INDUSTRIES}
    kind_digits = {"company": "1", "individual": "2", "cooperative": "3"}
    for enterprise in enterprises:
        assert uscc_validate(enterprise.uscc) == enterprise.uscc
        assert enterprise.uscc[:2] == "9" + kind_digits[enterprise.kind]
        assert enterprise.uscc[2:8] == enterprise.division_id[:6]
        assert industries[enterprise.industry_code] == enterprise.industry_name
        representative = enterprise.legal_representative
        assert representative.name == enterprise.legal_representative_name
        assert years(representative.birth_date, enterprise.established_on) >= 18
        assert enterprise.established_on <= city
        assert enterprise.division.level == DivisionLevel.VILLAGE
        assert enterprise.registered_capital > 0 and enterprise.employee_count >= 1
        if enterprise.industry_code[0] in "EFGHIKO":
            assert enterprise.land_area_mu == 0
        if enterprise.kind == "cooperative":
            assert enterprise.industry_code.startswith("A")
    assert len({e.uscc for e in enterprises}) == len(enterprises)
    kinds = {e.kind for e in enterprises}
    assert {"company", "individual"} <= kinds
    factories = [e for e in enterprises if e.industry_code.startswith(("B", "C")) and e.kind == "company"]
    assert factories and all(e.land_area_mu > 0 for e in factories)


def test_properties_have_28_character_unit_numbers_and_whole_ownership(city):
    properties = list(Property.objects.select_related("division"))
    owners_of: dict[int, list[PropertyOwner]] = defaultdict(list)
    for owner in PropertyOwner.objects.select_related("person"):
        owners_of[owner.property_id].append(owner)
    assert 0.3 < len(properties) / PERSONS < 0.5
    for prop in properties:
        unit = prop.unit_number
        assert len(unit) == 28 and unit[:12].isdigit(), unit
        assert unit[:12] == prop.division_id
        assert unit[12:14] in ("GB", "JC") and unit[19] == "F" and unit[20:].isdigit()
        match = CERTIFICATE.match(prop.certificate_number)
        assert match and int(match.group(1)) == prop.registered_on.year
        assert prop.registered_on <= city and prop.area > 0
        owners = owners_of[prop.id]
        assert owners and sum(o.share for o in owners) == Decimal(1)
        for owner in owners:
            assert (owner.person_id is None) != (owner.enterprise_id is None)
            if owner.person_id:
                assert owner.person.death_date is None
        if prop.use == Property.Use.RURAL_HOMESTEAD:
            assert not prop.division.is_urban and unit[12:14] == "JC"
        if prop.use in (Property.Use.INDUSTRIAL, Property.Use.COMMERCIAL, Property.Use.OFFICE):
            assert all(owner.enterprise_id for owner in owners)
    uses = {prop.use for prop in properties}
    assert {"residential", "homestead"} <= uses
    assert PropertyOwner.objects.filter(share=Decimal("0.5")).exists()


def test_running_seed_again_duplicates_nothing(city):
    before = snapshot()
    users = User.objects.count()
    out = seed()
    assert "already has 2,000 persons" in out
    assert snapshot() == before
    assert User.objects.count() == users == 10
    assert AuditEntry.objects.filter(action="registry.seed").count() == 1
    assert AuditEntry.objects.filter(action="core.reference_load").count() == 1
    assert AuditEntry.objects.filter(action="user.create").count() == 10


def test_the_seed_is_one_audit_entry_and_the_chain_holds(city):
    entry = AuditEntry.objects.get(action="registry.seed")
    assert entry.after["persons"] == PERSONS
    assert entry.after["households"] == Household.objects.count()
    assert entry.after["enterprises"] == Enterprise.objects.count()
    assert entry.after["properties"] == Property.objects.count()
    assert entry.after["seed"] == SEED
    checked, problems = audit_verify()
    assert checked >= 12 and problems == []


DEMO_SCOPES = {
    Role.CITIZEN: (None, None),
    Role.ENTERPRISE_AGENT: (None, None),
    Role.WINDOW_CLERK: ("ZWFW", None),
    Role.DEPARTMENT_HANDLER: ("ZJ", None),
    Role.HOTLINE_OPERATOR: ("RX12345", None),
    Role.DISPATCHER: ("RX12345", None),
    Role.SUPERVISOR: ("DB", None),
    Role.DATA_STEWARD: ("ZS", None),
    Role.CITY_LEADER: (None, "3603"),
    Role.ADMIN: (None, None),
}


def test_one_demo_login_per_role_that_can_sign_in(city):
    assert set(DEMO_SCOPES) == set(Role)
    for role, (department, division) in DEMO_SCOPES.items():
        user = authenticate(username=role.value, password=settings.YIWANG_DEMO_PASSWORD)
        assert user is not None, role
        assignments = list(user.roles.select_related("department"))
        assert [
            (a.role, a.department.code if a.department else None, a.division_id) for a in assignments
        ] == [(role.value, department, division)]
        assert user.display_name and CHINESE_NAME.match(user.display_name) or role == Role.ADMIN
        assert user.is_superuser == (role == Role.ADMIN)
    assert authenticate(username="citizen", password="wrong") is None
    citizen = User.objects.get(username="citizen")
    assert citizen.person.name == citizen.display_name
    assert citizen.person.membership.relation == Relation.HEAD
    agent = User.objects.get(username="enterprise_agent")
    agency = EnterpriseAgent.objects.get(user=agent)
    assert agency.enterprise.kind == "company" and agency.enterprise.status == "active"


def test_factories_share_a_database_with_the_seed(city):
    person = PersonFactory()
    assert person.id > Person.objects.exclude(pk=person.pk).order_by("-id").first().id
    assert resident_id_parse(person.id_number).birth_date == person.birth_date
    household = HouseholdFactory(division=person.division)
    assert household.members.get().relation == Relation.HEAD
    enterprise = EnterpriseFactory(kind="individual")
    assert uscc_validate(enterprise.uscc)[1] == "2"
    prop = PropertyFactory(owners=[(person, "0.5"), (enterprise, "0.5")])
    assert len(prop.unit_number) == 28
    assert sorted(str(o.share) for o in prop.owners.all()) == ["0.5000", "0.5000"]
