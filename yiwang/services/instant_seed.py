"""The demo city's rules-approvable matters (秒批) and the certificates they issue. Idempotent:
a second run changes nothing.

- 不动产登记资料查询 (不动产登记中心 and its branches): approved at once for a right holder in
  the property register (rule services.property_record); issues a 不动产登记资料查询结果证明;
  its material 不动产权证书 is the e-certificate BDCQZS, never asked for (无证办理) but checked.
- 不动产登记信息证明（无房证明）: approved at once for someone holding no property (rule
  services.no_property); issues a 不动产登记信息证明（无房）.
- 经济困难的高龄老年人津贴 (民政局 and its branches): approved at once for a resident aged 80 or
  over in the 低保/特困 list (rule services.elderly_allowance, over the mz.subsistence feed;
  skipped when the feed is not published); no certificate (a payment).

Run after the certs and services seeds: `yiwang instant_seed`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from yiwang.core.audit import audit_record

ACTOR = "system:services-instant-seed"


def _field(key: str, label: str, *, required: bool = True, public: bool = False) -> dict:
    return {"key": key, "label": label, "label_en": "", "required": required, "public": public}


# code, name, department, holder kind, validity in days, legal basis, fields
CERTIFICATE_TYPES = [
    (
        "BDCCXZM",
        "不动产登记资料查询结果证明",
        "BDCDJ",
        "person",
        90,
        "《不动产登记资料查询暂行办法》第二十条",
        [
            _field("unit_number", "不动产单元号", public=True),
            _field("address", "坐落"),
            _field("use", "用途", required=False, public=True),
            _field("area", "面积（平方米）", public=True),
            _field("queried_on", "查询日期", public=True),
        ],
    ),
    (
        "WFZM",
        "不动产登记信息证明（无房）",
        "BDCDJ",
        "person",
        90,
        "《不动产登记资料查询暂行办法》第二十条",
        [
            _field("name", "姓名"),
            _field("result", "查询结果", public=True),
            _field("queried_on", "查询日期", public=True),
        ],
    ),
]

# (department code, matter name, instant rule, certificate type, {material name: certificate type})
INSTANT_MATTERS = [
    ("BDCDJ", "不动产登记资料查询", "services.property_record", "BDCCXZM", {"不动产权证书": "BDCQZS"}),
    ("BDCDJ", "不动产登记信息证明（无房证明）", "services.no_property", "WFZM", {}),
    ("MZ", "经济困难的高龄老年人津贴", "services.elderly_allowance", "", {}),
]


def _types_ensure() -> list[str]:
    from yiwang.certs.models import CertificateType
    from yiwang.certs.services import certificate_type_save, seal_active, seal_create
    from yiwang.core.models import Department

    saved = []
    for code, name, department_code, holder_kind, validity, basis, fields in CERTIFICATE_TYPES:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            continue
        if seal_active(department=department) is None:
            seal_create(department=department, actor=ACTOR)
        existing = CertificateType.objects.filter(code=code).first()
        if (
            existing is not None
            and existing.name == name
            and existing.department_id == department.pk
            and existing.fields == fields
            and existing.validity_days == validity
            and existing.legal_basis == basis
        ):
            continue
        certificate_type_save(
            code=code,
            name=name,
            department=department,
            holder_kind=holder_kind,
            fields=fields,
            validity_days=validity,
            legal_basis=basis,
            actor=ACTOR,
        )
        saved.append(code)
    return saved


def _matters_mark(published: set[str]) -> list[str]:
    from yiwang.certs.models import CertificateType
    from yiwang.services.models import Material, MaterialSource, Matter

    types = set(CertificateType.objects.values_list("code", flat=True))
    changed: list[str] = []
    with transaction.atomic():
        for department_code, name, rule, certificate_type, materials in INSTANT_MATTERS:
            if rule not in published or (certificate_type and certificate_type not in types):
                continue
            matters = Matter.objects.filter(
                Q(department__code=department_code) | Q(department__parent__code=department_code), name=name
            )
            for matter in matters:
                if matter.instant_rule != rule or matter.certificate_type != certificate_type:
                    Matter.objects.filter(pk=matter.pk).update(
                        instant_rule=rule, certificate_type=certificate_type
                    )
                    changed.append(matter.code)
                for material_name, type_code in materials.items():
                    if type_code in types:
                        Material.objects.filter(matter=matter, name=material_name).exclude(
                            source=MaterialSource.E_CERTIFICATE, resource_code=type_code
                        ).update(source=MaterialSource.E_CERTIFICATE, resource_code=type_code)
        if changed:
            audit_record(
                actor=ACTOR,
                action="services.instant_seed",
                object_type="services.matter",
                after={"matters": changed},
            )
    return changed


def instant_seed() -> dict[str, Any]:
    """Load the instant rules, define the certificate types, mark the demo matters and grant
    their departments what the rules read. Returns what was done."""
    from yiwang.core.models import User
    from yiwang.services.instant import instant_grants_ensure, instant_rules_load

    rules = instant_rules_load()
    types = _types_ensure()
    matters = _matters_mark(set(rules["loaded"]))
    grants = 0
    chief = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if chief is not None:
        grants = instant_grants_ensure(actor=chief)
    return {
        "rules": rules["loaded"],
        "skipped": rules["skipped"],
        "types_saved": types,
        "matters_marked": matters,
        "grants": grants,
    }
