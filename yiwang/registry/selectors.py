"""Registry questions: look-ups, searches and city figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from yiwang.core.errors import NotFound
from yiwang.core.models import Department, Division, DivisionLevel
from yiwang.core.services import PersonalRecord, personal_data_present_many
from yiwang.registry.models import Enterprise, Household, HouseholdMember, Person, Property, PropertyOwner


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


def _person_record(person: Person) -> PersonalRecord:
    values = {
        "id_number": person.id_number,
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "ethnicity": person.ethnicity,
        "phone": person.phone,
        "address": person.address,
        "division": person.division_id,
        "division_name": person.division.name,
    }
    return PersonalRecord(values=values, object_id=person.pk, subject_user_id=person.user_id)


def person_present_many(*, persons, viewer: Any, purpose: str) -> list[dict[str, Any]]:
    """Persons as the viewer may see them: personal fields (ID number, birth date, phone,
    address) masked unless the role needs them; one audit entry for the unmasked reads."""
    records = [_person_record(person) for person in persons]
    return personal_data_present_many(
        viewer=viewer, records=records, purpose=purpose, object_type="registry.person"
    )


def person_present(*, person: Person, viewer: Any, purpose: str) -> dict[str, Any]:
    """One person as the viewer may see them (see person_present_many)."""
    return person_present_many(persons=[person], viewer=viewer, purpose=purpose)[0]


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


def property_list(
    *, division_code: str | None = None, owner_id_number: str | None = None
) -> QuerySet[Property]:
    queryset = Property.objects.select_related("division")
    if owner_id_number:
        queryset = queryset.filter(owners__person__id_number=owner_id_number.upper())
    return _division_filter(queryset, division_code).order_by("id")


def property_get(*, unit_number: str) -> Property:
    prop = (
        Property.objects.select_related("division")
        .prefetch_related("owners")
        .filter(unit_number=unit_number)
        .first()
    )
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


# --- Reads for the web shell's "see the city" pages ------------------------------------------


@dataclass
class DivisionNode:
    """A division with its children and the registry rows inside it (its own and below)."""

    division: Division
    children: list[DivisionNode] = field(default_factory=list)
    persons: int = 0
    households: int = 0
    enterprises: int = 0
    villages: int = 0


def _counts_by_division(queryset: QuerySet) -> dict[str, int]:
    return dict(
        queryset.order_by().values_list("division_id").annotate(n=Count("pk")).values_list("division_id", "n")
    )


def division_overview(*, root_code: str) -> DivisionNode:
    """The division tree under `root_code` (city → counties → towns → villages) with the
    persons, households, enterprises and villages each division holds, rolled up."""
    root = division_tree(root_code=root_code)
    divisions = list(Division.objects.filter(code__startswith=root.code).order_by("code"))
    nodes = {division.code: DivisionNode(division=division) for division in divisions}
    for division in divisions:
        if division.parent_id in nodes and division.code != root.code:
            nodes[division.parent_id].children.append(nodes[division.code])
    persons = _counts_by_division(Person.objects.filter(division__code__startswith=root.code))
    households = _counts_by_division(Household.objects.filter(division__code__startswith=root.code))
    enterprises = _counts_by_division(Enterprise.objects.filter(division__code__startswith=root.code))

    def roll_up(node: DivisionNode) -> DivisionNode:
        code = node.division.code
        node.persons = persons.get(code, 0)
        node.households = households.get(code, 0)
        node.enterprises = enterprises.get(code, 0)
        node.villages = 0
        for child in node.children:
            roll_up(child)
            node.persons += child.persons
            node.households += child.households
            node.enterprises += child.enterprises
            node.villages += child.villages + (1 if child.division.level == DivisionLevel.VILLAGE else 0)
        return node

    return roll_up(nodes[root.code])


def department_groups() -> list[tuple[Division, list[Department]]]:
    """Active departments grouped by the division they belong to (city first, then counties)."""
    groups: dict[str, tuple[Division, list[Department]]] = {}
    departments = (
        Department.objects.filter(is_active=True)
        .select_related("division", "parent")
        .order_by("division__code", "pk")
    )
    for department in departments:
        groups.setdefault(department.division_id, (department.division, []))[1].append(department)
    return list(groups.values())


def person_get_by_id(*, person_id: int) -> Person:
    person = Person.objects.select_related("division").filter(pk=person_id).first()
    if person is None:
        raise NotFound("person not found")
    return person


def person_membership(*, person: Person) -> HouseholdMember | None:
    """The person's place in a household (with the household), if they belong to one."""
    return (
        HouseholdMember.objects.select_related("household", "household__division")
        .filter(person=person)
        .first()
    )


def household_list(*, query: str = "", division_code: str | None = None) -> QuerySet[Household]:
    """Households by number prefix or the head's name prefix, with their member counts."""
    queryset = Household.objects.select_related("division", "head").annotate(member_count=Count("members"))
    if query:
        queryset = queryset.filter(Q(number__startswith=query) | Q(head__name__startswith=query))
    return _division_filter(queryset, division_code).order_by("id")


def household_member_list(*, division_code: str | None = None) -> QuerySet[HouseholdMember]:
    """Who belongs to which household (户籍成员), with the household and the person."""
    queryset = HouseholdMember.objects.select_related("household", "person")
    if division_code:
        queryset = queryset.filter(household__division__code__startswith=division_code)
    return queryset.order_by("id")


def property_owner_list(*, division_code: str | None = None) -> QuerySet[PropertyOwner]:
    """Who owns which share of which property (a person or an enterprise)."""
    queryset = PropertyOwner.objects.select_related("property", "person", "enterprise")
    if division_code:
        queryset = queryset.filter(property__division__code__startswith=division_code)
    return queryset.order_by("id")


def household_get_by_id(*, household_id: int) -> Household:
    household = Household.objects.select_related("division", "head").filter(pk=household_id).first()
    if household is None:
        raise NotFound("household not found")
    return household


def property_search(*, query: str = "", division_code: str | None = None) -> QuerySet[Property]:
    """Properties by unit number prefix, certificate number, or an owner's ID number or USCC."""
    queryset = Property.objects.select_related("division").annotate(owner_count=Count("owners"))
    if query:
        code = query.upper()
        matching = Property.objects.filter(
            Q(unit_number__startswith=query)
            | Q(certificate_number=query)
            | Q(owners__person__id_number=code)
            | Q(owners__enterprise__uscc=code)
        ).values("pk")
        queryset = queryset.filter(pk__in=matching)
    return _division_filter(queryset, division_code).order_by("id")


def enterprises_of_agent(*, user: Any) -> QuerySet[Enterprise]:
    """The enterprises a user is authorised to act for (经办人)."""
    return Enterprise.objects.filter(agents__user=user).select_related("division").order_by("name")


def village_choices() -> list[tuple[Division, list[Division]]]:
    """Villages and communities grouped by town, for forms."""
    from itertools import groupby

    villages = Division.objects.filter(level=DivisionLevel.VILLAGE).select_related("parent").order_by("code")
    return [(town, list(group)) for town, group in groupby(villages, key=lambda v: v.parent)]
