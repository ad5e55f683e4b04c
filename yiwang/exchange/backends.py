"""Resources backed by the base registry: the registry stays the one copy of persons,
households, enterprises and properties; the exchange reads it through the registry's selectors
and only decides which fields leave, and keeps the evidence.

Each backend names its fields (with the sharing class they are published under), the column a
subject is looked up by, and how filters map onto the registry's columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from yiwang.registry import selectors as registry


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _person(person) -> dict[str, Any]:
    return {
        "id_number": person.id_number,
        "name": person.name,
        "sex": person.sex,
        "birth_date": _iso(person.birth_date),
        "ethnicity": person.ethnicity,
        "division_code": person.division_id,
        "phone": person.phone,
        "address": person.address,
        "death_date": _iso(person.death_date),
    }


def _household(household) -> dict[str, Any]:
    return {
        "number": household.number,
        "kind": household.kind,
        "head_id_number": household.head.id_number if household.head_id else None,
        "division_code": household.division_id,
        "is_rural": household.is_rural,
        "member_count": getattr(household, "member_count", None),
        "address": household.address,
    }


def _enterprise(enterprise) -> dict[str, Any]:
    return {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "kind": enterprise.kind,
        "legal_representative_name": enterprise.legal_representative_name,
        "industry_code": enterprise.industry_code,
        "industry_name": enterprise.industry_name,
        "registered_capital": str(enterprise.registered_capital),
        "established_on": _iso(enterprise.established_on),
        "status": enterprise.status,
        "division_code": enterprise.division_id,
        "employee_count": enterprise.employee_count,
        "land_area_mu": str(enterprise.land_area_mu),
        "address": enterprise.address,
        "phone": enterprise.phone,
    }


def _property(prop) -> dict[str, Any]:
    return {
        "unit_number": prop.unit_number,
        "use": prop.use,
        "area": str(prop.area),
        "division_code": prop.division_id,
        "registered_on": _iso(prop.registered_on),
        "address": prop.address,
        "certificate_number": prop.certificate_number,
    }


def _household_member(member) -> dict[str, Any]:
    return {
        "household_number": member.household.number,
        "id_number": member.person.id_number,
        "relation": member.relation,
    }


def _property_owner(owner) -> dict[str, Any]:
    return {
        "unit_number": owner.property.unit_number,
        "owner_id_number": owner.person.id_number if owner.person_id else None,
        "owner_uscc": owner.enterprise.uscc if owner.enterprise_id else None,
        "share": str(owner.share),
    }


@dataclass(frozen=True)
class Backend:
    queryset: Callable[[], QuerySet]
    subject_column: str
    row: Callable[[Any], dict[str, Any]]
    # field name → registry column it filters on (fields not listed cannot be filters)
    filter_columns: dict[str, str]
    # (name, type, sharing class, label, description)
    fields: tuple[tuple[str, str, str, str, str], ...]


BACKENDS: dict[str, Backend] = {
    "person": Backend(
        queryset=lambda: registry.person_list(),
        subject_column="id_number",
        row=_person,
        filter_columns={
            "id_number": "id_number",
            "name": "name",
            "sex": "sex",
            "ethnicity": "ethnicity",
            "division_code": "division_id",
        },
        fields=(
            ("id_number", "string", "conditional", "公民身份号码", "GB 11643 resident ID number"),
            ("name", "string", "open", "姓名", ""),
            ("sex", "string", "open", "性别", "M / F"),
            ("birth_date", "date", "conditional", "出生日期", ""),
            ("ethnicity", "string", "open", "民族", ""),
            ("division_code", "string", "open", "户籍地区划代码", "village or community code"),
            ("phone", "string", "conditional", "联系电话", ""),
            ("address", "string", "conditional", "住址", ""),
            ("death_date", "date", "conditional", "死亡日期", ""),
        ),
    ),
    "household": Backend(
        queryset=lambda: registry.household_list(),
        subject_column="number",
        row=_household,
        filter_columns={"number": "number", "division_code": "division_id", "kind": "kind"},
        fields=(
            ("number", "string", "open", "户号", ""),
            ("kind", "string", "open", "户别", "family / collective"),
            ("head_id_number", "string", "conditional", "户主身份号码", ""),
            ("division_code", "string", "open", "区划代码", ""),
            ("is_rural", "boolean", "open", "农村户", ""),
            ("member_count", "integer", "open", "户内人数", ""),
            ("address", "string", "conditional", "住址", ""),
        ),
    ),
    "enterprise": Backend(
        queryset=lambda: registry.enterprise_list(),
        subject_column="uscc",
        row=_enterprise,
        filter_columns={
            "uscc": "uscc",
            "kind": "kind",
            "industry_code": "industry_code",
            "status": "status",
            "division_code": "division_id",
        },
        fields=(
            ("uscc", "string", "open", "统一社会信用代码", "GB 32100"),
            ("name", "string", "open", "名称", ""),
            ("kind", "string", "open", "类型", ""),
            ("legal_representative_name", "string", "open", "法定代表人", ""),
            ("industry_code", "string", "open", "行业代码", "GB/T 4754-2017"),
            ("industry_name", "string", "open", "行业", ""),
            ("registered_capital", "decimal", "open", "注册资本（万元）", ""),
            ("established_on", "date", "open", "成立日期", ""),
            ("status", "string", "open", "登记状态", ""),
            ("division_code", "string", "open", "区划代码", ""),
            ("address", "string", "open", "住所", ""),
            ("employee_count", "integer", "conditional", "从业人数", ""),
            ("land_area_mu", "decimal", "conditional", "用地面积（亩）", ""),
            ("phone", "string", "conditional", "联系电话", ""),
        ),
    ),
    "property": Backend(
        queryset=lambda: registry.property_list(),
        subject_column="unit_number",
        row=_property,
        filter_columns={"unit_number": "unit_number", "use": "use", "division_code": "division_id"},
        fields=(
            ("unit_number", "string", "open", "不动产单元号", "28 characters"),
            ("use", "string", "open", "用途", ""),
            ("area", "decimal", "open", "面积（㎡）", ""),
            ("division_code", "string", "open", "区划代码", ""),
            ("registered_on", "date", "open", "登记日期", ""),
            ("address", "string", "conditional", "坐落", ""),
            ("certificate_number", "string", "closed", "不动产权证书号", "kept by the registration centre"),
        ),
    ),
    # Membership and ownership: what household rules and catchment checks join through. A
    # subject (a person) is looked up by the member's or the owner's ID number.
    "household_member": Backend(
        queryset=lambda: registry.household_member_list(),
        subject_column="person__id_number",
        row=_household_member,
        filter_columns={"household_number": "household__number", "id_number": "person__id_number"},
        fields=(
            ("household_number", "string", "open", "户号", ""),
            ("id_number", "string", "conditional", "成员公民身份号码", ""),
            ("relation", "string", "open", "与户主关系", "GB/T 4761 code"),
        ),
    ),
    "property_owner": Backend(
        queryset=lambda: registry.property_owner_list(),
        subject_column="person__id_number",
        row=_property_owner,
        filter_columns={"unit_number": "property__unit_number", "owner_id_number": "person__id_number"},
        fields=(
            ("unit_number", "string", "open", "不动产单元号", ""),
            ("owner_id_number", "string", "conditional", "权利人公民身份号码", ""),
            ("owner_uscc", "string", "open", "权利人统一社会信用代码", ""),
            ("share", "decimal", "open", "共有份额", "0–1"),
        ),
    ),
}


def backend_rows(
    *, backing: str, subject: str | None, filters: dict[str, Any], offset: int, limit: int
) -> list[dict[str, Any]]:
    """Rows of a registry-backed resource: one subject, or a filtered page."""
    backend = BACKENDS[backing]
    queryset = backend.queryset()
    if subject is not None:
        queryset = queryset.filter(**{backend.subject_column: str(subject).upper()})
    for name, value in filters.items():
        queryset = queryset.filter(**{backend.filter_columns[name]: value})
    return [backend.row(item) for item in queryset[offset : offset + limit]]


def backend_count(*, backing: str) -> int:
    return BACKENDS[backing].queryset().count()
