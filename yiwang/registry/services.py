"""Registry verbs. Each is one transaction with one audit entry; bad input raises FieldErrors
naming the field (with its path inside nested input) and writes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import ErrorCollector, FieldErrors
from yiwang.core.ids import IdentifierError, resident_id_parse, uscc_validate
from yiwang.core.masking import mask_address, mask_id_number, mask_phone
from yiwang.core.models import Division
from yiwang.registry.models import (
    Enterprise,
    Household,
    HouseholdMember,
    Person,
    Property,
    PropertyOwner,
    Relation,
)

Path = tuple[str | int, ...]


def _division(code: Any, errors: ErrorCollector, field: str = "division") -> Division | None:
    if not code:
        errors.add(field, _("This field is required."))
        return None
    division = Division.objects.filter(code=str(code)).first()
    if division is None:
        errors.add(field, _("Unknown division code %(code)s.") % {"code": code})
    return division


def _required(data: dict, field: str, errors: ErrorCollector) -> Any:
    value = data.get(field)
    if value in (None, ""):
        errors.add(field, _("This field is required."))
    return value


def _decimal(
    data: dict, field: str, errors: ErrorCollector, *, minimum: Decimal = Decimal(0)
) -> Decimal | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.add(field, _("Enter a number."))
        return None
    if number < minimum:
        errors.add(field, _("Must be at least %(minimum)s.") % {"minimum": minimum})
    return number


def _date(data: dict, field: str, errors: ErrorCollector) -> datetime.date | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, _("Enter a date as YYYY-MM-DD."))
        return None


def _masked_snapshot(instance: Person) -> dict[str, Any]:
    """What the audit log keeps of a person: personal fields masked (the log is read widely)."""
    data = model_to_dict(instance, exclude=["user"])
    data["id_number"] = mask_id_number(instance.id_number)
    data["phone"] = mask_phone(instance.phone)
    data["address"] = mask_address(instance.address)
    return data


def person_validate(data: dict[str, Any], *, prefix: Path = (), existing: Person | None = None) -> dict:
    """Check a person's fields; derive birth date, sex and birthplace from the ID number and
    check that any given birth date and sex agree with it. Returns the cleaned fields."""
    errors = ErrorCollector(prefix)
    cleaned: dict[str, Any] = {}
    number = _required(data, "id_number", errors)
    parsed = None
    if number:
        try:
            parsed = resident_id_parse(str(number))
        except IdentifierError as error:
            errors.add("id_number", error.message)
    name = _required(data, "name", errors)
    if name and len(str(name)) > 32:
        errors.add("name", _("At most 32 characters."))
    birth_date = _date(data, "birth_date", errors)
    if parsed:
        cleaned.update(
            id_number=parsed.number,
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            birthplace_code=parsed.birthplace_code,
        )
        if birth_date and birth_date != parsed.birth_date:
            errors.add(
                "birth_date",
                _("Does not match the birth date in the ID number (%(date)s).")
                % {"date": parsed.birth_date.isoformat()},
            )
        sex = data.get("sex")
        if sex and sex != parsed.sex:
            errors.add("sex", _("Does not match the sex encoded in the ID number."))
        clash = Person.objects.filter(id_number=parsed.number)
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            errors.add("id_number", _("A person with this ID number is already registered."))
    division = _division(data.get("division"), errors)
    phone = str(data.get("phone") or "")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        errors.add("phone", _("Enter a phone number of 7 to 12 digits."))
    errors.raise_if_any()
    cleaned.update(
        name=str(name),
        division=division,
        phone=phone,
        address=str(data.get("address") or ""),
        ethnicity=str(data.get("ethnicity") or "汉族"),
    )
    return cleaned


@transaction.atomic
def person_create(*, actor: Any, data: dict[str, Any]) -> Person:
    person = Person.objects.create(**person_validate(data))
    audit_record(actor=actor, action="person.create", target=person, after=_masked_snapshot(person))
    return person


@transaction.atomic
def household_member_add(*, actor: Any, household: Household, data: dict[str, Any], relation: str) -> Person:
    """Register a new person (a newborn's 出生登记) as a member of `household`: the person's
    fields as `person_create` takes them (division and address default to the household's);
    `relation` to the head is any code but the head's. Refused with the field named, nothing
    written, when the person is already registered or a field is wrong."""
    errors = ErrorCollector()
    if relation not in Relation.values or relation == Relation.HEAD:
        errors.add("relation", _("Unknown relation code %(code)s.") % {"code": relation})
    fields: dict[str, Any] = {}
    try:
        fields = person_validate(
            {
                **data,
                "division": data.get("division") or household.division.code,
                "address": data.get("address") or household.address,
            }
        )
    except FieldErrors as person_errors:
        errors.errors.extend(person_errors.errors)
    errors.raise_if_any()
    person = Person.objects.create(**fields)
    HouseholdMember.objects.create(household=household, person=person, relation=relation)
    audit_record(
        actor=actor,
        action="household.member_add",
        target=household,
        after={"person": mask_id_number(person.id_number), "relation": relation},
    )
    return person


@transaction.atomic
def household_create(*, actor: Any, data: dict[str, Any]) -> Household:
    """Create a household with its members. `data["members"]` is a list of
    {person fields…, "relation": code} or {"id_number": existing, "relation": code};
    exactly one member is the head (relation 02)."""
    errors = ErrorCollector()
    number = _required(data, "number", errors)
    if number and Household.objects.filter(number=number).exists():
        errors.add("number", _("A household with this number already exists."))
    division = _division(data.get("division"), errors)
    members = data.get("members") or []
    if not members:
        errors.add("members", _("A household needs at least one member."))
    heads = [m for m in members if m.get("relation") == Relation.HEAD]
    if members and len(heads) != 1:
        errors.add("members", _("Exactly one member must be the head of household."))
    resolved: list[tuple[Person | dict, str]] = []
    for index, member in enumerate(members):
        prefix = ("members", index)
        relation = member.get("relation")
        if relation not in Relation.values:
            errors.add(prefix + ("relation",), _("Unknown relation code %(code)s.") % {"code": relation})
        existing = Person.objects.filter(id_number=str(member.get("id_number") or "").upper()).first()
        if existing is not None and set(member) <= {"id_number", "relation"}:
            if HouseholdMember.objects.filter(person=existing).exists():
                errors.add(prefix + ("id_number",), _("This person already belongs to a household."))
            resolved.append((existing, relation))
            continue
        try:
            resolved.append((person_validate(member, prefix=prefix), relation))
        except FieldErrors as member_errors:
            errors.errors.extend(member_errors.errors)
    errors.raise_if_any()
    household = Household.objects.create(
        number=number,
        division=division,
        address=str(data.get("address") or ""),
        kind=data.get("kind") or Household.Kind.FAMILY,
        is_rural=bool(data.get("is_rural", not division.is_urban)),
    )
    for person_or_fields, relation in resolved:
        person = (
            person_or_fields
            if isinstance(person_or_fields, Person)
            else Person.objects.create(**person_or_fields)
        )
        HouseholdMember.objects.create(household=household, person=person, relation=relation)
        if relation == Relation.HEAD:
            household.head = person
    household.save(update_fields=["head"])
    audit_record(
        actor=actor,
        action="household.create",
        target=household,
        after={"number": household.number, "division": division.code, "members": len(resolved)},
    )
    return household


@transaction.atomic
def enterprise_create(*, actor: Any, data: dict[str, Any]) -> Enterprise:
    errors = ErrorCollector()
    code = _required(data, "uscc", errors)
    if code:
        try:
            code = uscc_validate(str(code))
        except IdentifierError as error:
            errors.add("uscc", error.message)
        else:
            if Enterprise.objects.filter(uscc=code).exists():
                errors.add("uscc", _("An enterprise with this USCC is already registered."))
    for field in ("name", "legal_representative_name", "industry_code", "industry_name"):
        _required(data, field, errors)
    capital = _decimal(data, "registered_capital", errors)
    if capital is None and "registered_capital" not in [e[0][-1] for e in errors.errors]:
        errors.add("registered_capital", _("This field is required."))
    land = _decimal(data, "land_area_mu", errors)
    employees = data.get("employee_count") or 0
    if not str(employees).isdigit():
        errors.add("employee_count", _("Enter a whole number of at least 0."))
    established = _date(data, "established_on", errors)
    if established is None and "established_on" not in [e[0][-1] for e in errors.errors]:
        errors.add("established_on", _("This field is required."))
    elif established and established > datetime.date.today():
        errors.add("established_on", _("Cannot be in the future."))
    division = _division(data.get("division"), errors)
    kind = data.get("kind") or Enterprise.Kind.COMPANY
    if kind not in Enterprise.Kind.values:
        errors.add("kind", _("Unknown kind %(kind)s.") % {"kind": kind})
    representative = None
    if data.get("legal_representative_id_number"):
        representative = Person.objects.filter(
            id_number=str(data["legal_representative_id_number"]).upper()
        ).first()
        if representative is None:
            errors.add("legal_representative_id_number", _("No registered person has this ID number."))
    errors.raise_if_any()
    enterprise = Enterprise.objects.create(
        uscc=code,
        name=data["name"],
        kind=kind,
        legal_representative=representative,
        legal_representative_name=data["legal_representative_name"],
        industry_code=data["industry_code"],
        industry_name=data["industry_name"],
        registered_capital=capital,
        employee_count=int(employees),
        land_area_mu=land or 0,
        established_on=established,
        address=data.get("address") or "",
        phone=data.get("phone") or "",
        division=division,
    )
    audit_record(
        actor=actor,
        action="enterprise.create",
        target=enterprise,
        after=model_to_dict(enterprise, exclude=["phone", "address"]),
    )
    return enterprise


@transaction.atomic
def property_create(*, actor: Any, data: dict[str, Any]) -> Property:
    """Register a property with its owners: [{"id_number"| "uscc": …, "share": 0.5}, …]."""
    errors = ErrorCollector()
    unit = str(_required(data, "unit_number", errors) or "")
    if unit and (len(unit) != 28 or not unit[:12].isdigit()):
        errors.add("unit_number", _("A property unit number has 28 characters, the first 12 digits."))
    elif unit and Property.objects.filter(unit_number=unit).exists():
        errors.add("unit_number", _("This property unit is already registered."))
    use = data.get("use")
    if use not in Property.Use.values:
        errors.add("use", _("Unknown use %(use)s.") % {"use": use})
    area = _decimal(data, "area", errors, minimum=Decimal("0.01"))
    if area is None and not any(e[0][-1] == "area" for e in errors.errors):
        errors.add("area", _("This field is required."))
    registered = _date(data, "registered_on", errors) or datetime.date.today()
    address = _required(data, "address", errors)
    division = _division(data.get("division"), errors)
    owners = data.get("owners") or []
    if not owners:
        errors.add("owners", _("A property needs at least one owner."))
    resolved = []
    total = Decimal(0)
    for index, owner in enumerate(owners):
        prefix = ("owners", index)
        share = _decimal(owner, "share", ErrorCollector()) or Decimal(1)
        total += share
        if owner.get("id_number"):
            person = Person.objects.filter(id_number=str(owner["id_number"]).upper()).first()
            if person is None:
                errors.add(prefix + ("id_number",), _("No registered person has this ID number."))
            resolved.append({"person": person, "share": share})
        elif owner.get("uscc"):
            enterprise = Enterprise.objects.filter(uscc=str(owner["uscc"]).upper()).first()
            if enterprise is None:
                errors.add(prefix + ("uscc",), _("No registered enterprise has this USCC."))
            resolved.append({"enterprise": enterprise, "share": share})
        else:
            errors.add(prefix, _("An owner needs an ID number or a USCC."))
    if owners and total != 1:
        errors.add(
            "owners", _("Owner shares must add up to 1 (they add up to %(total)s).") % {"total": total}
        )
    errors.raise_if_any()
    prop = Property.objects.create(
        unit_number=unit,
        certificate_number=data.get("certificate_number") or "",
        use=use,
        area=area,
        address=address,
        division=division,
        registered_on=registered,
    )
    PropertyOwner.objects.bulk_create(PropertyOwner(property=prop, **owner) for owner in resolved)
    audit_record(
        actor=actor,
        action="property.create",
        target=prop,
        after={
            "unit_number": unit,
            "use": use,
            "area": area,
            "division": division.code,
            "owners": len(resolved),
        },
    )
    return prop
