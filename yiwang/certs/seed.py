"""The demo city's e-seals and certificate types, and a few certificates for the demo citizen and
enterprise agent. Idempotent: a department that has an active seal keeps it, a type already
defined the same way is left alone, a holder who already holds a valid certificate of a type
gets no second one."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from yiwang.certs import selectors, services
from yiwang.certs.models import CertificateType, HolderKind, Seal
from yiwang.core.models import Department
from yiwang.registry.models import Enterprise, Person, PropertyOwner

ACTOR = "system:certs_seed"


def _field(key: str, label: str, label_en: str, *, required: bool = True, public: bool = False) -> dict:
    return {"key": key, "label": label, "label_en": label_en, "required": required, "public": public}


# code, name, English name, department code, holder kind, validity in days, legal basis, fields
CERTIFICATE_TYPES: list[tuple[str, str, str, str, str, int | None, str, list[dict]]] = [
    (
        "YYZZ",
        "营业执照",
        "Business licence",
        "SCJG",
        HolderKind.ENTERPRISE,
        None,
        "《中华人民共和国市场主体登记管理条例》第二十一条",
        [
            _field("name", "名称", "Name", public=True),
            _field("kind", "类型", "Kind", public=True),
            _field("legal_representative", "法定代表人", "Legal representative", public=True),
            _field("registered_capital", "注册资本", "Registered capital", required=False, public=True),
            _field("established_on", "成立日期", "Established on", public=True),
            _field("address", "住所", "Domicile", public=True),
            _field("business_scope", "经营范围", "Business scope", required=False, public=True),
        ],
    ),
    (
        "GZBA",
        "公章刻制备案证明",
        "Official seal engraving record",
        "GA",
        HolderKind.ENTERPRISE,
        None,
        "《印铸刻字业暨公章刻制治安管理办法》",
        [
            _field("name", "单位名称", "Name", public=True),
            _field("seals", "刻制印章", "Seals engraved", public=True),
            _field("engraver", "刻制单位", "Engraver", required=False),
        ],
    ),
    (
        "SWDJ",
        "税务登记信息确认",
        "Tax registration record",
        "SW",
        HolderKind.ENTERPRISE,
        None,
        "《中华人民共和国税收征收管理法》第十五条",
        [
            _field("name", "纳税人名称", "Taxpayer", public=True),
            _field("taxpayer_kind", "纳税人类型", "Taxpayer kind", public=True),
            _field("tax_office", "主管税务机关", "Tax office", public=True),
        ],
    ),
    (
        "DWSBDJ",
        "单位社会保险登记证明",
        "Employer social insurance registration",
        "RS",
        HolderKind.ENTERPRISE,
        None,
        "《中华人民共和国社会保险法》第五十七条",
        [
            _field("name", "单位名称", "Employer", public=True),
            _field("insurance_number", "单位社保编号", "Employer insurance number"),
            _field("insurances", "参保险种", "Insurances", public=True),
        ],
    ),
    (
        "BDCQZS",
        "不动产权证书",
        "Real estate title certificate",
        "BDCDJ",
        HolderKind.PERSON,
        None,
        "《不动产登记暂行条例》第二十一条",
        [
            _field("unit_number", "不动产单元号", "Unit number", public=True),
            _field("address", "坐落", "Location"),
            _field("use", "用途", "Use", public=True),
            _field("area", "面积（平方米）", "Area (m²)", public=True),
            _field("right_kind", "权利性质", "Kind of right", public=True),
            _field("share", "共有情况", "Co-ownership", required=False),
        ],
    ),
    (
        "SPFBA",
        "商品房买卖合同备案证明",
        "Housing sale contract filing",
        "ZJ",
        HolderKind.PERSON,
        365,
        "《城市商品房预售管理办法》第十条",
        [
            _field("contract_number", "合同编号", "Contract number", public=True),
            _field("unit_number", "不动产单元号", "Unit number", public=True),
            _field("price", "成交价格（元）", "Price (yuan)"),
            _field("seller", "出卖人", "Seller"),
        ],
    ),
    (
        "WSZM",
        "完税证明",
        "Tax payment certificate",
        "SW",
        HolderKind.PERSON,
        None,
        "《税收票证管理办法》",
        [
            _field("tax_kind", "税种", "Tax", public=True),
            _field("amount", "实缴金额（元）", "Amount paid (yuan)"),
            _field("unit_number", "不动产单元号", "Unit number", required=False, public=True),
        ],
    ),
    (
        "CSYXZM",
        "出生医学证明",
        "Medical birth certificate",
        "WJ",
        HolderKind.PERSON,
        None,
        "《中华人民共和国母婴保健法》第二十三条",
        [
            _field("child_name", "新生儿姓名", "Child's name", public=True),
            _field("child_sex", "性别", "Sex"),
            _field("birth_date", "出生日期", "Date of birth"),
            _field("birth_place", "出生地点", "Place of birth", public=True),
            _field("mother_name", "母亲姓名", "Mother"),
            _field("father_name", "父亲姓名", "Father", required=False),
        ],
    ),
    (
        "HKDJ",
        "户口登记证明",
        "Household registration record",
        "GA",
        HolderKind.PERSON,
        None,
        "《中华人民共和国户口登记条例》第七条",
        [
            _field("name", "姓名", "Name"),
            _field("household_number", "户号", "Household number"),
            _field("relation", "与户主关系", "Relation to head"),
            _field("registered_on", "登记日期", "Registered on", public=True),
        ],
    ),
    (
        "YBCB",
        "医疗保险参保凭证",
        "Medical insurance enrolment",
        "YB",
        HolderKind.PERSON,
        None,
        "《中华人民共和国社会保险法》第二十三条",
        [
            _field("insurance_kind", "险种", "Insurance", public=True),
            _field("enrolled_on", "参保日期", "Enrolled on", public=True),
        ],
    ),
    (
        "SBK",
        "社会保障卡",
        "Social security card",
        "RS",
        HolderKind.PERSON,
        3650,
        "《社会保障卡管理办法》",
        [
            _field("card_number", "社会保障号码", "Card number"),
            _field("bank", "发卡银行", "Issuing bank", required=False, public=True),
        ],
    ),
]


def _type_ensure(row: tuple, departments: dict[str, Department]) -> tuple[CertificateType | None, bool]:
    code, name, name_en, department_code, holder_kind, validity_days, legal_basis, fields = row
    department = departments.get(department_code)
    if department is None:
        return None, False
    existing = CertificateType.objects.filter(code=code).first()
    if (
        existing is not None
        and existing.name == name
        and existing.department_id == department.pk
        and existing.fields == fields
        and existing.validity_days == validity_days
        and existing.legal_basis == legal_basis
    ):
        return existing, False
    saved = services.certificate_type_save(
        code=code,
        name=name,
        name_en=name_en,
        department=department,
        holder_kind=holder_kind,
        fields=fields,
        validity_days=validity_days,
        legal_basis=legal_basis,
        actor=ACTOR,
    )
    return saved, True


def _sample_certificates() -> list[str]:
    """A business licence for the demo enterprise agent's enterprise, a title certificate and a
    social security card for the demo citizen, if they have none yet."""
    issued: list[str] = []
    person = Person.objects.filter(user__username="citizen").first()
    if person is not None:
        if not selectors.certificate_held(holder=person.id_number, type_code="SBK"):
            issued.append(
                services.certificate_issue(
                    type_code="SBK",
                    holder=person.id_number,
                    fields={"card_number": person.id_number, "bank": "中国工商银行萍乡分行"},
                    actor=ACTOR,
                    source="demo",
                ).number
            )
        owned = PropertyOwner.objects.filter(person=person).select_related("property").first()
        if owned is not None and not selectors.certificate_held(holder=person.id_number, type_code="BDCQZS"):
            unit = owned.property
            issued.append(
                services.certificate_issue(
                    type_code="BDCQZS",
                    holder=person.id_number,
                    fields={
                        "unit_number": unit.unit_number,
                        "address": unit.address,
                        "use": unit.get_use_display(),
                        "area": str(unit.area),
                        "right_kind": "市场化商品房",
                        "share": "单独所有" if owned.share == 1 else f"按份共有 {owned.share}",
                    },
                    actor=ACTOR,
                    source="demo",
                ).number
            )
    enterprise = Enterprise.objects.filter(agents__user__username="enterprise_agent").first()
    if enterprise is not None and not selectors.certificate_held(holder=enterprise.uscc, type_code="YYZZ"):
        issued.append(
            services.certificate_issue(
                type_code="YYZZ",
                holder=enterprise.uscc,
                fields={
                    "name": enterprise.name,
                    "kind": enterprise.get_kind_display(),
                    "legal_representative": enterprise.legal_representative_name,
                    "registered_capital": f"{enterprise.registered_capital}万元",
                    "established_on": enterprise.established_on.isoformat(),
                    "address": enterprise.address,
                    "business_scope": enterprise.industry_name,
                },
                actor=ACTOR,
                source="demo",
            ).number
        )
    return issued


def certs_seed(*, samples: bool = True) -> dict[str, Any]:
    """Seals for every department that issues a demo certificate type (and the administrative
    approval bureau), the demo certificate types, and (with `samples`) a few certificates."""
    codes = sorted({row[3] for row in CERTIFICATE_TYPES} | {"XZSP"})
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    seals_created: list[str] = []
    for code in codes:
        department = departments.get(code)
        if (
            department is not None
            and not Seal.objects.filter(department=department, superseded_at__isnull=True).exists()
        ):
            services.seal_create(department=department, actor=ACTOR)
            seals_created.append(code)
    types_saved: list[str] = []
    skipped: list[str] = []
    with transaction.atomic():
        for row in CERTIFICATE_TYPES:
            certificate_type, changed = _type_ensure(row, departments)
            if certificate_type is None:
                skipped.append(row[0])
            elif changed:
                types_saved.append(row[0])
    issued = _sample_certificates() if samples else []
    return {
        "seals_created": seals_created,
        "types_saved": types_saved,
        "types_skipped": skipped,
        "issued": issued,
    }
