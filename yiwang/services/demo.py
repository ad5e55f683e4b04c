"""The demo city's matter catalog: ≥ 1,508 matters (as many as Nanchang's 南事好办 serves) for
the departments of the core seed, their county branches and the town service centres, built
from the real matter names in demo_data.py with the structure of a real catalog (the 广安区
list: main item → sub-items, type codes, time limits, visits). Deterministic: each matter draws
from its own random stream seeded by its code, so running the seed twice changes nothing.

    from yiwang.services.demo import services_demo_seed
    services_demo_seed()          # or: yiwang services_seed
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, DepartmentKind
from yiwang.services.demo_data import CITY, COUNTY, TOWN, VARIANTS
from yiwang.services.forms_data import (
    ENTERPRISE_FIELDS,
    ENTERPRISE_MATERIALS,
    PERSON_FIELDS,
    PERSON_MATERIALS,
    REASON,
    SUPPORTING,
    FieldSpec,
    MaterialSpec,
    applicant_kind_guess,
    property_form,
)
from yiwang.services.models import Matter

TARGET = 1508

LAWS = {
    "GA": "《中华人民共和国居民身份证法》《中华人民共和国户口登记条例》",
    "GAJJ": "《中华人民共和国道路交通安全法》《机动车登记规定》",
    "SCJG": "《中华人民共和国市场主体登记管理条例》《中华人民共和国食品安全法》",
    "ZJ": "《中华人民共和国建筑法》《城市房地产开发经营管理条例》",
    "ZRZY": "《中华人民共和国土地管理法》《中华人民共和国城乡规划法》",
    "BDCDJ": "《不动产登记暂行条例》《不动产登记暂行条例实施细则》",
    "SW": "《中华人民共和国税收征收管理法》",
    "RS": "《中华人民共和国社会保险法》《中华人民共和国就业促进法》",
    "YB": "《中华人民共和国社会保险法》《医疗保障基金使用监督管理条例》",
    "MZ": "《社会救助暂行办法》《婚姻登记条例》",
    "JY": "《中华人民共和国教育法》《中华人民共和国民办教育促进法》",
    "WJ": "《医疗机构管理条例》《中华人民共和国母婴保健法》",
    "STHJ": "《中华人民共和国环境影响评价法》《排污许可管理条例》",
    "JTYS": "《中华人民共和国道路运输条例》",
    "CL": "《中华人民共和国残疾人保障法》",
    "ZFGJJ": "《住房公积金管理条例》",
    "NY": "《中华人民共和国农业法》《农药管理条例》",
}
DEFAULT_LAW = "《中华人民共和国行政许可法》《江西省优化营商环境条例》"
FEES = {  # (department, words in the name) → fee in fen and its basis
    ("GA", "居民身份证申领"): (2000, "发改价格〔2003〕2322号：二代证工本费20元"),
    ("GA", "普通护照"): (12000, "发改价格规〔2019〕914号：护照120元"),
    ("GAJJ", "驾驶证"): (1000, "驾驶证工本费10元"),
    ("BDCDJ", "首次登记"): (8000, "发改价格规〔2016〕2559号：住宅类80元/件"),
    ("BDCDJ", "转移登记"): (8000, "发改价格规〔2016〕2559号：住宅类80元/件"),
}
# Extra questions some kinds of matter ask that no shared data answers.
LICENSING_FIELD = FieldSpec("business_scope", "申请经营（执业）范围", "textarea", True)
LICENSING_MATERIAL = MaterialSpec("经营（执业）场所证明材料", True, False, "upload")


def _lines(text: str) -> list[tuple[int, str, str, str]]:
    rows = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        kind, name, flags, keywords = (part.strip() for part in line.split("|"))
        rows.append((int(kind), name, flags, keywords))
    return rows


def _form(name: str, flags: str, matter_type: int) -> tuple[str, tuple, tuple]:
    if "P" in flags:
        fields, materials = property_form()
        return "person", fields, materials
    kind = "enterprise" if "E" in flags else "person" if "R" in flags else applicant_kind_guess(name)
    if kind == "enterprise":
        fields: tuple[FieldSpec, ...] = (*ENTERPRISE_FIELDS, REASON)
        materials: tuple[MaterialSpec, ...] = (*ENTERPRISE_MATERIALS, SUPPORTING)
        if matter_type == 1:
            fields = (*ENTERPRISE_FIELDS, LICENSING_FIELD, REASON)
            materials = (*ENTERPRISE_MATERIALS, LICENSING_MATERIAL, SUPPORTING)
        return kind, fields, materials
    return kind, (*PERSON_FIELDS, REASON), (*PERSON_MATERIALS, SUPPORTING)


def _limits(rng: random.Random, matter_type: int) -> tuple[int, int]:
    legal = {
        1: rng.choice((20, 20, 15, 30)),
        7: rng.choice((20, 30)),
        5: 20,
        20: rng.choice((5, 10, 15)),
    }.get(matter_type, 15)
    promised = max(1, round(legal * rng.choice((0.2, 0.25, 0.3, 0.5))))
    return legal, promised


def _row(
    *,
    code: str,
    name: str,
    main_item: str,
    matter_type: int,
    department: Department,
    flags: str,
    keywords: str,
    division_code: str,
) -> tuple[dict[str, Any], tuple]:
    rng = random.Random(code)
    applicant_kind, fields, materials = _form(name, flags, matter_type)
    legal, promised = _limits(rng, matter_type)
    parent_code = department.parent.code if department.parent_id else department.code
    fee_fen, fee_note = 0, ""
    for (fee_department, words), (fen, basis) in FEES.items():
        if fee_department == parent_code and words in name:
            fee_fen, fee_note = fen, basis
    visits = rng.choices((0, 1, 2), weights=(72, 26, 2))[0]
    fields_values = {
        "code": code,
        "name": name,
        "main_item": main_item,
        "type": matter_type,
        "department_id": department.pk,
        "source_department": department.name,
        "division_code": division_code,
        "applicant_kind": applicant_kind,
        "legal_limit_days": legal,
        "promised_limit_days": promised,
        "visits": visits,
        "fee_fen": fee_fen,
        "fee_note": fee_note,
        "legal_basis": LAWS.get(parent_code, DEFAULT_LAW),
        "conditions": "申请人身份真实有效，所需材料齐全并符合法定形式。",
        "keywords": " ".join(dict.fromkeys([*keywords.split(), department.short_name]))[:255],
    }
    material_rows = [{"position": position, **spec._asdict()} for position, spec in enumerate(materials)]
    row = {"fields": fields_values, "materials": material_rows, "has_materials": True}
    body = json.dumps(
        {"row": row, "form": [spec._asdict() for spec in fields]}, ensure_ascii=False, sort_keys=True
    )
    row["digest"] = hashlib.sha256(body.encode()).hexdigest()[:32]
    return row, (fields, materials)


def _expand(lines, department: Department, prefix: str, division_code: str, limit: int | None = None):
    rows = []
    for index, (matter_type, name, flags, keywords) in enumerate(lines[:limit], start=1):
        variants = [letter for letter in flags if letter in VARIANTS]
        names = [
            (f"{name}（{VARIANTS[letter]}）", f"{index:03d}{position}")
            for position, letter in enumerate(variants, 1)
        ]
        for full_name, suffix in names or [(name, f"{index:03d}0")]:
            rows.append(
                _row(
                    code=f"{prefix}-{department.code.split('-')[-1]}-{suffix}",
                    name=full_name,
                    main_item=name if names else "",
                    matter_type=matter_type,
                    department=department,
                    flags=flags,
                    keywords=keywords,
                    division_code=division_code,
                )
            )
    return rows


def demo_matter_rows() -> list[tuple[dict[str, Any], tuple]]:
    """Every demo matter as an import row and its form, for the departments that exist."""
    departments = {department.code: department for department in Department.objects.select_related("parent")}
    rows: list[tuple[dict[str, Any], tuple]] = []
    for code, text in CITY.items():
        if code in departments:
            rows += _expand(_lines(text), departments[code], "3603", "3603")
    for department in departments.values():
        if "-" not in department.code:
            continue
        division_code, suffix = department.code.split("-", 1)
        if suffix in COUNTY and suffix in CITY:
            rows += _expand(_lines(CITY[suffix])[: COUNTY[suffix]], department, division_code, division_code)
        elif department.kind == DepartmentKind.TOWN_OFFICE:
            rows += _expand(_lines(TOWN), department, division_code, division_code)
    return rows


def services_demo_seed(*, actor: Any = "system:services-seed") -> dict[str, int]:
    """Create or update the demo catalog (idempotent) and, when an administrator exists, the
    grants the departments' forms need to fill conditional fields. Returns counts."""
    from yiwang.services.services import autofill_grants_ensure, matters_write

    made = demo_matter_rows()
    forms = {row["fields"]["code"]: form for row, form in made}
    with transaction.atomic():
        created, updated, unchanged = matters_write(rows=[row for row, _form in made], forms=forms)
        if created or updated:
            audit_record(
                actor=actor,
                action="services.demo_seed",
                object_type="services.matter",
                after={"created": created, "updated": updated},
            )
    grants = 0
    from yiwang.core.models import User

    chief = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if chief is not None:
        grants = autofill_grants_ensure(actor=chief)
    return {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "matters": Matter.objects.count(),
        "grants": grants,
    }
