"""Standard application forms and materials, as data: what a matter gets when its catalog row
brings no form of its own (an imported catalog lists matters, not forms). Each field names the
exchange field that fills it for the applicant; the applicant writes only the rest.

Field: (name, label, kind, required, resource, resource field, subject_from, editable, choices)
Material: (name, required, key, source, resource or certificate type)
"""

from __future__ import annotations

from typing import NamedTuple


class FieldSpec(NamedTuple):
    name: str
    label: str
    kind: str = "text"
    required: bool = True
    resource_code: str = ""
    resource_field: str = ""
    subject_from: str = ""
    editable: bool = True
    choices: str = ""


class MaterialSpec(NamedTuple):
    name: str
    required: bool = True
    is_key: bool = False
    source: str = "upload"
    resource_code: str = ""


PERSONS = "ga.persons"
MEMBERS = "ga.household_members"
ENTERPRISES = "scjg.enterprises"
OWNERS = "bdcdj.property_owners"
PROPERTIES = "bdcdj.properties"

# The applicant's identity, from the population base (人口库). Name and ID number are what the
# applicant logged in with: never editable.
PERSON_FIELDS = (
    FieldSpec("name", "申请人姓名", resource_code=PERSONS, resource_field="name", editable=False),
    FieldSpec("id_number", "公民身份号码", resource_code=PERSONS, resource_field="id_number", editable=False),
    FieldSpec("sex", "性别", "choice", True, PERSONS, "sex", choices="M=男|F=女", editable=False),
    FieldSpec("birth_date", "出生日期", "date", True, PERSONS, "birth_date", editable=False),
    FieldSpec("ethnicity", "民族", "text", False, PERSONS, "ethnicity"),
    FieldSpec("phone", "联系电话", "phone", True, PERSONS, "phone"),
    FieldSpec("address", "住址", "text", True, PERSONS, "address"),
    FieldSpec("division_code", "户籍地区划代码", "text", False, PERSONS, "division_code", editable=False),
    FieldSpec("household_number", "户号", "text", False, MEMBERS, "household_number", editable=False),
)

ENTERPRISE_FIELDS = (
    FieldSpec("uscc", "统一社会信用代码", resource_code=ENTERPRISES, resource_field="uscc", editable=False),
    FieldSpec(
        "enterprise_name", "单位名称", resource_code=ENTERPRISES, resource_field="name", editable=False
    ),
    FieldSpec("enterprise_kind", "主体类型", "text", False, ENTERPRISES, "kind", editable=False),
    FieldSpec("legal_representative", "法定代表人", "text", True, ENTERPRISES, "legal_representative_name"),
    FieldSpec("registered_capital", "注册资本（万元）", "number", False, ENTERPRISES, "registered_capital"),
    FieldSpec("established_on", "成立日期", "date", False, ENTERPRISES, "established_on", editable=False),
    FieldSpec("industry", "所属行业", "text", False, ENTERPRISES, "industry_name"),
    FieldSpec("enterprise_address", "住所", "text", True, ENTERPRISES, "address"),
    FieldSpec("contact_phone", "联系电话", "phone", True, ENTERPRISES, "phone"),
)

# A property the applicant owns (不动产): the unit from the owners' register, the rest from the
# property register read by that unit number.
PROPERTY_FIELDS = (
    FieldSpec("unit_number", "不动产单元号", "text", True, OWNERS, "unit_number"),
    FieldSpec("property_address", "坐落", "text", True, PROPERTIES, "address", subject_from="unit_number"),
    FieldSpec("property_area", "面积（㎡）", "number", True, PROPERTIES, "area", subject_from="unit_number"),
    FieldSpec("property_use", "用途", "text", False, PROPERTIES, "use", subject_from="unit_number"),
    FieldSpec(
        "certificate_number",
        "不动产权证书号",
        "text",
        False,
        PROPERTIES,
        "certificate_number",
        subject_from="unit_number",
    ),
)

REASON = FieldSpec("reason", "申请事项说明", "textarea", True)

PERSON_MATERIALS = (
    MaterialSpec("居民身份证", True, True, "e_certificate", PERSONS),
    MaterialSpec("居民户口簿", False, False, "exchange", MEMBERS),
)
ENTERPRISE_MATERIALS = (
    MaterialSpec("营业执照", True, True, "e_certificate", ENTERPRISES),
    MaterialSpec("法定代表人身份证明", True, True, "e_certificate", PERSONS),
)
PROPERTY_MATERIALS = (MaterialSpec("不动产权证书", True, True, "e_certificate", PROPERTIES),)
SUPPORTING = MaterialSpec("其他相关证明材料", False, False, "upload")


def default_form(applicant_kind: str) -> tuple[tuple[FieldSpec, ...], tuple[MaterialSpec, ...]]:
    """The standard form and materials of a matter for this kind of applicant."""
    if applicant_kind == "enterprise":
        return (*ENTERPRISE_FIELDS, REASON), (*ENTERPRISE_MATERIALS, SUPPORTING)
    return (*PERSON_FIELDS, REASON), (*PERSON_MATERIALS, SUPPORTING)


def property_form() -> tuple[tuple[FieldSpec, ...], tuple[MaterialSpec, ...]]:
    return (*PERSON_FIELDS, *PROPERTY_FIELDS, REASON), (*PERSON_MATERIALS, *PROPERTY_MATERIALS, SUPPORTING)


ENTERPRISE_WORDS = (
    "企业",
    "公司",
    "经营",
    "生产",
    "单位",
    "机构",
    "工程",
    "项目",
    "建设",
    "施工",
    "道路运输",
    "排污",
    "广告",
    "食品",
    "药品",
    "医疗器械",
    "特种设备",
    "网吧",
    "营业",
    "资质",
    "备案",
)


def applicant_kind_guess(name: str) -> str:
    """Whom a matter is for when the catalog does not say: a legal person if its name speaks
    of one, else a natural person."""
    return "enterprise" if any(word in name for word in ENTERPRISE_WORDS) else "person"
