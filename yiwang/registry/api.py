"""Registry API: persons, households, enterprises, properties. Thin: shapes in, services and
selectors do the work. Personal fields come back masked unless the caller's role needs them."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

from django.db import transaction
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status, UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from yiwang.core.access import access_registry_write, access_staff
from yiwang.core.audit import audit_record
from yiwang.core.errors import FieldErrors, Forbidden, NotFound
from yiwang.core.masking import mask_values
from yiwang.core.services import personal_fields_revealed
from yiwang.registry import imports, selectors, services

router = Router(tags=["registry"])


def _require_staff(request) -> None:
    if not access_staff(request.auth):
        raise NotFound("not found")


def _require_writer(request, entity: str) -> None:
    # The collection is no secret (unlike a person), so the refusal says why: 403, not 404.
    if not access_registry_write(request.auth, entity):
        raise Forbidden(_("Your role may not register records of this kind."))


class FiguresOut(Schema):
    counties: int
    towns: int
    villages: int
    departments: int
    persons: int
    households: int
    enterprises: int
    properties: int


@router.get("/figures", response=FiguresOut, auth=None)
def figures(request):
    """The city's headline figures."""
    return selectors.city_figures()


class PersonOut(Schema):
    id_number: str
    name: str
    sex: str
    birth_date: str  # YYYY-MM-DD, or YYYY-**-** when masked
    ethnicity: str
    phone: str
    address: str
    division: str
    division_name: str


class PersonIn(Schema):
    id_number: str
    name: str
    division: str
    birth_date: datetime.date | None = None
    sex: str | None = Field(None, pattern="^[MF]$")
    phone: str = ""
    address: str = ""
    ethnicity: str = "汉族"


@router.get("/persons", response=list[PersonOut])
@paginate(PageNumberPagination, page_size=50)
def person_list(request, q: str = "", division: str | None = None, purpose: str = "registry lookup"):
    """Search persons (staff only) by name prefix or exact ID number."""
    _require_staff(request)
    persons = selectors.person_list(query=q, division_code=division)
    return _PresentedPage(persons, request.auth, purpose)


class _PresentedPage:
    """A lazy sequence: the paginator slices it, and only the slice is presented (and audited)."""

    def __init__(self, queryset, viewer, purpose: str):
        self.queryset, self.viewer, self.purpose = queryset, viewer, purpose

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        return selectors.person_present_many(
            persons=self.queryset[item], viewer=self.viewer, purpose=self.purpose
        )


EXPORT_COLUMNS = ("id_number", "name", "sex", "birth_date", "phone", "address", "division")
MAX_EXPORT_ROWS = 200_000


@router.get("/exports/persons.csv", response=None)
def person_export(request, q: str = "", division: str | None = None, purpose: str = ""):
    """Persons as CSV (UTF-8 with BOM, opens in Excel), masked as on the pages. An export with
    unmasked fields needs a purpose and leaves one audit entry for the whole file."""
    _require_staff(request)
    revealed = personal_fields_revealed(viewer=request.auth)
    if revealed and not purpose.strip():
        raise FieldErrors([(("query", "purpose"), "an export with unmasked personal data needs a purpose")])
    persons = selectors.person_list(query=q, division_code=division)
    count = persons.count()
    if count > MAX_EXPORT_ROWS:
        raise FieldErrors(
            [(("query", "division"), f"{count} rows: narrow the export to {MAX_EXPORT_ROWS} rows")]
        )
    if revealed:
        with transaction.atomic():
            audit_record(
                actor=request.auth,
                action="personal_data.export_unmasked",
                object_type="registry.person",
                after={"fields": sorted(revealed), "rows": count, "q": q, "division": division},
                purpose=purpose,
            )

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"
        writer.writerow(EXPORT_COLUMNS)
        for person in persons.iterator(chunk_size=2000):
            row = {column: getattr(person, column) for column in EXPORT_COLUMNS}
            row["division"] = person.division_id
            row = mask_values(row, revealed=revealed)
            writer.writerow([row[c] for c in EXPORT_COLUMNS])
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="persons.csv"'
    return response


@router.get("/persons/{id_number}", response=PersonOut)
def person_get(request, id_number: str, purpose: str = "registry lookup"):
    """One person: staff, or the person themself. Anyone else gets 404."""
    person = selectors.person_get(id_number=id_number)
    if not (access_staff(request.auth) or person.user_id == request.auth.pk):
        raise NotFound("not found")
    return selectors.person_present(person=person, viewer=request.auth, purpose=purpose)


@router.post("/persons", response={201: PersonOut})
def person_create(request, payload: PersonIn):
    _require_writer(request, "person")
    person = services.person_create(actor=request.auth, data=payload.dict())
    return Status(201, selectors.person_present(person=person, viewer=request.auth, purpose="registration"))


MAX_IMPORT_BYTES = 20 * 1024 * 1024


class ImportOut(Schema):
    ok: bool
    rows: int
    created: int
    updated: int
    unchanged: int


@router.post("/imports/persons", response=ImportOut)
def person_import(request, file: File[UploadedFile]):
    """Import persons from .csv/.xlsx, all or nothing. Errors name the row and the column:
    `rows.<row>.<column>`; nothing is written if any row is bad; re-importing changes nothing."""
    _require_writer(request, "person")
    if file.size > MAX_IMPORT_BYTES:
        raise FieldErrors.single("file", f"at most {MAX_IMPORT_BYTES // 1024 // 1024} MB")
    rows = imports.table_read(name=file.name or "", content=file.read())
    report = imports.person_import(actor=request.auth, rows=rows, source=file.name or "")
    if not report.ok:
        raise FieldErrors(
            [(("rows", e["row"], e["column"]), e["message"]) for e in report.errors],
            message=f"{len(report.errors)} error(s); nothing was imported",
        )
    return report.as_dict()


class MemberIn(Schema):
    relation: str
    id_number: str
    name: str | None = None
    birth_date: datetime.date | None = None
    sex: str | None = None
    phone: str = ""
    division: str | None = None


class HouseholdIn(Schema):
    number: str
    division: str
    address: str = ""
    kind: str = "family"
    members: list[MemberIn]


class MemberOut(Schema):
    relation: str
    name: str
    id_number: str


class HouseholdOut(Schema):
    number: str
    kind: str
    division: str
    head: str | None
    members: list[MemberOut]


def _household_out(household, viewer) -> dict:
    rows = list(selectors.household_members(household=household))
    shown = selectors.person_present_many(
        persons=[member.person for member in rows], viewer=viewer, purpose="household lookup"
    )
    members = [
        {"relation": member.relation, "name": person["name"], "id_number": person["id_number"]}
        for member, person in zip(rows, shown, strict=True)
    ]
    return {
        "number": household.number,
        "kind": household.kind,
        "division": household.division_id,
        "head": household.head.name if household.head_id else None,
        "members": members,
    }


@router.post("/households", response={201: HouseholdOut})
def household_create(request, payload: HouseholdIn):
    _require_writer(request, "household")
    data = payload.dict()
    for member in data["members"]:
        member.setdefault("division", data["division"])
        member["division"] = member["division"] or data["division"]
        if member.get("name") is None:
            # An existing person joins by ID number alone.
            for key in ("name", "birth_date", "sex", "phone", "division"):
                member.pop(key, None)
    household = services.household_create(actor=request.auth, data=data)
    return Status(201, _household_out(household, request.auth))


@router.get("/households/{number}", response=HouseholdOut)
def household_get(request, number: str):
    _require_staff(request)
    return _household_out(selectors.household_get(number=number), request.auth)


class EnterpriseOut(Schema):
    uscc: str
    name: str
    kind: str
    legal_representative_name: str
    industry_code: str
    industry_name: str
    registered_capital: Decimal
    employee_count: int
    land_area_mu: Decimal
    established_on: datetime.date
    status: str
    division: str

    @staticmethod
    def resolve_division(obj):
        return obj.division_id


class EnterpriseIn(Schema):
    uscc: str
    name: str
    legal_representative_name: str
    legal_representative_id_number: str | None = None
    industry_code: str
    industry_name: str
    registered_capital: Decimal
    employee_count: int = Field(0, ge=0)
    land_area_mu: Decimal = Decimal(0)
    established_on: datetime.date
    division: str
    kind: str = "company"
    address: str = ""
    phone: str = ""


@router.get("/enterprises", response=list[EnterpriseOut])
@paginate(PageNumberPagination, page_size=50)
def enterprise_list(request, q: str = "", division: str | None = None):
    _require_staff(request)
    return selectors.enterprise_list(query=q, division_code=division)


@router.get("/enterprises/{uscc}", response=EnterpriseOut)
def enterprise_get(request, uscc: str):
    enterprise = selectors.enterprise_get(uscc=uscc)
    agent = enterprise.agents.filter(user_id=request.auth.pk).exists()
    if not (access_staff(request.auth) or agent):
        raise NotFound("not found")
    return enterprise


@router.post("/enterprises", response={201: EnterpriseOut})
def enterprise_create(request, payload: EnterpriseIn):
    _require_writer(request, "enterprise")
    return Status(201, services.enterprise_create(actor=request.auth, data=payload.dict()))


class OwnerIn(Schema):
    id_number: str | None = None
    uscc: str | None = None
    share: Decimal = Decimal(1)


class OwnerOut(Schema):
    name: str
    kind: str
    share: Decimal


class PropertyIn(Schema):
    unit_number: str
    use: str
    area: Decimal
    address: str
    division: str
    registered_on: datetime.date | None = None
    certificate_number: str = ""
    owners: list[OwnerIn]


class PropertyOut(Schema):
    unit_number: str
    certificate_number: str
    use: str
    area: Decimal
    division: str
    registered_on: datetime.date
    owners: list[OwnerOut]

    @staticmethod
    def resolve_division(obj):
        return obj.division_id

    @staticmethod
    def resolve_owners(obj):
        return [
            {
                "name": o.person.name if o.person_id else o.enterprise.name,
                "kind": "person" if o.person_id else "enterprise",
                "share": o.share,
            }
            for o in obj.owners.select_related("person", "enterprise")
        ]


@router.get("/properties/{unit_number}", response=PropertyOut)
def property_get(request, unit_number: str):
    _require_staff(request)
    return selectors.property_get(unit_number=unit_number)


@router.post("/properties", response={201: PropertyOut})
def property_create(request, payload: PropertyIn):
    _require_writer(request, "property")
    return Status(201, services.property_create(actor=request.auth, data=payload.dict()))
