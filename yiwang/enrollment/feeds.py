"""Data the enrollment app reads or writes through the exchange that the demo catalog does not
publish in the shape it needs. Each is published under its real owning department by
`feeds_publish` (the seed command calls it; so do the tests); yiwang/exchange/seed.py is not
touched.

- `ga.residence_permit_holders` (公安局): one row per residence permit (居住证) with the
  village/community of residence and its validity. The catalog's generic `ga.residence_permits`
  has neither.
- `jy.enrollment_facts` (教育局): the facts a registration's priority class is decided on, one
  row per registration, computed by the enrollment app from what it read (see
  services.facts_gather). The priority-class rules (rules/*.yaml) read this resource, so the
  rules engine's batch and explain faces run over it like any other feed.

Social insurance is read from the existing `rs.social_insurance_payments` (month "YYYY-MM").
"""

from __future__ import annotations

from typing import Any

from yiwang.core.models import Department

PERMITS = "ga.residence_permit_holders"
FACTS = "jy.enrollment_facts"
SOCIAL_INSURANCE = "rs.social_insurance_payments"


def _field(name: str, label: str, sharing: str = "open", type_: str = "string") -> dict[str, Any]:
    return {"name": name, "label": label, "sharing_class": sharing, "type": type_}


FEEDS: tuple[dict[str, Any], ...] = (
    {
        "code": PERMITS,
        "department": "GA",
        "title": "居住证持证人员信息",
        "subject_type": "person",
        "key_field": "permit_number",
        "subject_field": "id_number",
        "update_frequency": "daily",
        "theme": "公共安全",
        "fields": [
            _field("permit_number", "居住证编号"),
            _field("id_number", "公民身份号码", "conditional"),
            _field("division_code", "居住地村（社区）区划代码"),
            _field("address", "居住地址", "conditional"),
            _field("issued_on", "签发日期", type_="date"),
            _field("valid_until", "有效期至", type_="date"),
            _field("status", "状态"),
        ],
    },
    {
        "code": FACTS,
        "department": "JY",
        "title": "义务教育入学报名资格信息",
        "subject_type": "person",
        "key_field": "registration_number",
        "subject_field": "child_id_number",
        "update_frequency": "realtime",
        "theme": "教育文化",
        "fields": [
            _field("registration_number", "报名编号"),
            _field("child_id_number", "适龄儿童公民身份号码", "conditional"),
            _field("season", "招生年度", type_="integer"),
            _field("level", "学段"),
            _field("catchment_school", "学区学校代码"),
            _field("hukou_in_catchment", "户籍在学区内", type_="boolean"),
            _field("property_in_catchment", "父母在学区内有住房产权", type_="boolean"),
            _field("same_address", "户籍地址与房产地址一致", type_="boolean"),
            _field("permit_in_catchment", "居住证居住地在学区内", type_="boolean"),
            _field("permit_valid", "居住证在有效期内", type_="boolean"),
            _field("insurance_months", "父母近24个月在本市缴纳社会保险月数", type_="integer"),
            _field("property_registered_on", "房产登记日期", type_="date"),
        ],
    },
)


def feeds_publish(*, actor: Any = "system:enrollment") -> list[str]:
    """Publish the feeds above that are not in the catalog yet (idempotent). Returns codes."""
    from yiwang.exchange.models import Resource
    from yiwang.exchange.services import resource_publish

    published = []
    for spec in FEEDS:
        if Resource.objects.filter(code=spec["code"]).exists():
            continue
        department = Department.objects.get(code=spec["department"])
        resource_publish(
            actor=actor,
            department=department,
            code=spec["code"],
            title=spec["title"],
            subject_type=spec["subject_type"],
            key_field=spec["key_field"],
            subject_field=spec["subject_field"],
            fields=spec["fields"],
            update_frequency=spec["update_frequency"],
            theme=spec["theme"],
            source_system=f"{department.short_name}业务系统",
            access_rights="有条件共享字段须经首席数据官审批",
        )
        published.append(spec["code"])
    return published
