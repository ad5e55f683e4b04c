"""Registry questions: look-ups, searches and city figures."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from yiwang.core.errors import NotFound
from yiwang.core.models import Department, Division, DivisionLevel
from yiwang.core.services import personal_data_present
from yiwang.registry.models import Enterprise, Household, Person, Property


def city_figures() -> dict[str, int]:
    """Headline counts for the home page and the API."""
    levels = dict(Division.objects.values_list("level").annotate(n=Count("code")).values_list("level", "n"))
    return {
        "counties": levels.get(DivisionLevel.COUNTY, 0),
        "towns": levels.get(DivisionLevel.TOWN, 0),
        "villages": levels.get(DivisionLevel.VILLAGE, 0),
        "departments": Department.objects.filter(is_active=True).count(),
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "enterprises": Enterprise.objects.count(),
        "properties": Property.objects.count(),
    }


def _division_filter(queryset: QuerySet, division_code: str | None) -> QuerySet:
    if division_code:
        queryset = queryset.filter(division__code__startswith=division_code)
    return queryset


def person_list(*, query: str = "", division_code: str | None = None) -> QuerySet[Person]:
    """Persons by name prefix or exact ID number, optionally inside a division."""
    queryset = Person.objects.select_related("division")
    if query:
        queryset = queryset.filter(Q(id_number=query.upper()) | Q(name__startswith=query))
    return _division_filter(queryset, division_code).order_by("id")


def person_get(*, id_number: str) -> Person:
    person = Person.objects.select_related("division").filter(id_number=str(id_number).upper()).first()
    if person is None:
        raise NotFound("person not found")
    return person


def person_present(*, person: Person, viewer: Any, purpose: str) -> dict[str, Any]:
    """A person as the viewer may see them: personal fields masked unless the role needs them
    (and then the read is audited with its purpose)."""
    values = {
        "id_number": person.id_number,
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "ethnicity": person.ethnicity,
        "phone": person.phone,
        "address": person.address,
        "division": person.division_id,
        "division_name": person.division.name,
    }
    return personal_data_present(
        viewer=viewer,
        values=values,
        purpose=purpose,
        object_type="registry.person",
        object_id=person.pk,
        subject_user_id=person.user_id,
    )


def household_get(*, number: str) -> Household:
    household = Household.objects.select_related("division", "head").filter(number=number).first()
    if household is None:
        raise NotFound("household not found")
    return household


def household_members(*, household: Household) -> QuerySet:
    return household.members.select_related("person").order_by("relation", "person__birth_date")


def enterprise_list(*, query: str = "", division_code: str | None = None) -> QuerySet[Enterprise]:
    queryset = Enterprise.objects.select_related("division")
    if query:
        queryset = queryset.filter(Q(uscc=query.upper()) | Q(name__contains=query))
    return _division_filter(queryset, division_code).order_by("id")


def enterprise_get(*, uscc: str) -> Enterprise:
    enterprise = Enterprise.objects.select_related("division").filter(uscc=str(uscc).upper()).first()
    if enterprise is None:
        raise NotFound("enterprise not found")
    return enterprise


def property_list(*, division_code: str | None = None, owner_id_number: str | None = None) -> QuerySet[Property]:
    queryset = Property.objects.select_related("division")
    if owner_id_number:
        queryset = queryset.filter(owners__person__id_number=owner_id_number.upper())
    return _division_filter(queryset, division_code).order_by("id")


def property_get(*, unit_number: str) -> Property:
    prop = Property.objects.select_related("division").prefetch_related("owners").filter(unit_number=unit_number).first()
    if prop is None:
        raise NotFound("property not found")
    return prop


def division_tree(*, root_code: str) -> Division:
    division = Division.objects.filter(code=root_code).first()
    if division is None:
        raise NotFound("division not found")
    return division


def division_children(*, code: str) -> QuerySet[Division]:
    return Division.objects.filter(parent_id=code).annotate(persons_count=Count("persons")).order_by("code")
