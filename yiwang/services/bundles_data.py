"""The demo city's 一件事 bundles, as data: each bundle's own matters (department, form fields
filled from the exchange where the registry holds the data, materials, time limits, legal
basis, the e-certificate each step issues) and its steps with their dependencies (a DAG).

A material that an earlier step produces is an e-certificate material of the later step
(source e_certificate, resource_code = the certificate type), so it is never asked for again
(GovStack Registration: a document produced by one step is not asked for again).

    from yiwang.services.bundles import bundles_demo_seed
    bundles_demo_seed()        # or: yiwang bundles_seed (after services_seed and certs_seed)
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_noop

from yiwang.services.bundles_feeds import BIRTH_PARENTS, BIRTHS
from yiwang.services.forms_data import (
    ENTERPRISE_FIELDS,
    ENTERPRISES,
    MEMBERS,
    OWNERS,
    PERSON_FIELDS,
    PERSONS,
    PROPERTIES,
    FieldSpec,
    MaterialSpec,
)


class MatterSpec(NamedTuple):
    code: str
    name: str
    department: str
    type: int  # national matter type code
    applicant_kind: str
    legal_limit_days: int
    promised_limit_days: int
    certificate_type: str
    legal_basis: str
    keywords: str
    fields: tuple[FieldSpec, ...]
    materials: tuple[MaterialSpec, ...]


class StepSpec(NamedTuple):
    code: str
    name: str
    matter: str  # matter code
    depends_on: tuple[str, ...] = ()


class BundleSpec(NamedTuple):
    code: str
    name: str
    applicant_kind: str
    description: str
    legal_basis: str
    steps: tuple[StepSpec, ...]


BUNDLE_BASIS = "《国务院关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见》（国发〔2024〕3号）"

ID_CARD = MaterialSpec("居民身份证", True, True, "e_certificate", PERSONS)
HOUSEHOLD_BOOK = MaterialSpec("居民户口簿", True, False, "exchange", MEMBERS)
LICENCE_HELD = MaterialSpec("营业执照", True, True, "e_certificate", ENTERPRISES)
REPRESENTATIVE_ID = MaterialSpec("法定代表人身份证明", True, True, "e_certificate", PERSONS)

# --------------------------------------------------------------------------- 不动产转移登记
#
# The buyer applies once: 交易备案 (住建) → 税款缴纳 (税务) → 登记发证 (不动产登记中心). The filed
# contract (SPFBA) and the tax certificate (WSZM) are fetched by the later steps, never uploaded.

# The buyer types the unit number (不动产单元号, on the seller's certificate and the contract);
# the property, its owner (the seller) and the seller's certificate number are read from the
# 不动产登记 register by it, the seller's name from the population base. The price and the tax
# declared are the buyer's to write.
UNIT_NUMBER = FieldSpec("unit_number", "不动产单元号", "text", True)
UNIT_FIELDS = (
    UNIT_NUMBER,
    FieldSpec("property_address", "坐落", "text", True, PROPERTIES, "address", "unit_number", False),
    FieldSpec("property_area", "面积（㎡）", "number", True, PROPERTIES, "area", "unit_number", False),
    FieldSpec(
        "property_use",
        "用途",
        "choice",
        True,
        PROPERTIES,
        "use",
        "unit_number",
        False,
        choices="residential=住宅|commercial=商业|office=办公|industrial=工业|homestead=宅基地",
    ),
)
# The owners' register is read by the unit number (a filter: its subject is the owner).
SELLER_ID = FieldSpec(
    "seller_id_number", "出卖人公民身份号码", "text", True, OWNERS, "owner_id_number", "unit_number", False
)
SELLER = FieldSpec("seller", "出卖人", "text", True, PERSONS, "name", "seller_id_number", False)
# The certificate number is a closed field of the register: only the 不动产登记中心 (its owner)
# reads it, so only the registration step asks for it.
OLD_TITLE_NUMBER = FieldSpec(
    "seller_certificate_number",
    "原不动产权证书号",
    "text",
    True,
    PROPERTIES,
    "certificate_number",
    "unit_number",
    False,
)
PRICE = FieldSpec("price", "成交价格（元）", "number", True)
TAX_AMOUNT = FieldSpec("tax_amount", "申报契税税额（元）", "number", True)
OLD_TITLE = MaterialSpec("原不动产权证书（出卖人）", True, True, "exchange", PROPERTIES)
FILED_CONTRACT = MaterialSpec("商品房买卖合同备案证明", True, True, "e_certificate", "SPFBA")
TAX_PAID = MaterialSpec("完税证明", True, True, "e_certificate", "WSZM")

# --------------------------------------------------------------------------- 企业开办

BUSINESS_SCOPE = FieldSpec("business_scope", "经营范围", "textarea", True)
SEALS = FieldSpec(
    "seals",
    "刻制印章",
    "choice",
    False,
    choices="单位公章、财务专用章、发票专用章|单位公章、财务专用章、发票专用章、合同专用章",
)
TAXPAYER_KIND = FieldSpec("taxpayer_kind", "纳税人类型", "choice", False, choices="小规模纳税人|一般纳税人")
EMPLOYEES = FieldSpec("employee_count", "参保职工人数", "number", True, ENTERPRISES, "employee_count")

# --------------------------------------------------------------------------- 新生儿出生一件事

# The delivering hospital's report (wjw.births, found through the parents' index by the
# applicant's ID number), the parents' names from the population base. Only the child's name
# (the parents choose it) is typed; the relation and the bank are the applicant's choice.
BIRTH_NUMBER = FieldSpec(
    "birth_number", "出生信息登记号", "text", True, BIRTH_PARENTS, "birth_number", editable=False
)
CHILD_ID = FieldSpec(
    "child_id_number",
    "新生儿公民身份号码（预赋号）",
    "text",
    True,
    BIRTHS,
    "child_id_number",
    "birth_number",
    False,
)
CHILD_FIELDS = (
    FieldSpec("child_name", "新生儿姓名", "text", True),
    FieldSpec(
        "child_sex",
        "新生儿性别",
        "choice",
        True,
        BIRTHS,
        "child_sex",
        "birth_number",
        False,
        choices="男|女",
    ),
    FieldSpec("child_birth_date", "出生日期", "date", True, BIRTHS, "birth_date", "birth_number", False),
    FieldSpec("birth_place", "出生医院", "text", True, BIRTHS, "hospital", "birth_number", False),
)
PARENT_FIELDS = (
    FieldSpec(
        "mother_id_number",
        "母亲公民身份号码",
        "text",
        True,
        BIRTHS,
        "mother_id_number",
        "birth_number",
        False,
    ),
    FieldSpec("mother_name", "母亲姓名", "text", True, PERSONS, "name", "mother_id_number", False),
    FieldSpec(
        "father_id_number",
        "父亲公民身份号码",
        "text",
        False,
        BIRTHS,
        "father_id_number",
        "birth_number",
        False,
    ),
    FieldSpec("father_name", "父亲姓名", "text", False, PERSONS, "name", "father_id_number", False),
)
RELATION = FieldSpec(
    "relation", "新生儿与户主关系", "choice", True, choices="子|女|孙子|孙女|外孙子|外孙女|其他"
)
BANK = FieldSpec(
    "bank",
    "社保卡发卡银行",
    "choice",
    False,
    choices="中国工商银行|中国农业银行|中国银行|中国建设银行|江西银行",
)
BIRTH_CERTIFICATE = MaterialSpec("出生医学证明", True, True, "e_certificate", "CSYXZM")
HOUSEHOLD_RECORD = MaterialSpec("户口登记证明", True, True, "e_certificate", "HKDJ")

MATTERS: tuple[MatterSpec, ...] = (
    MatterSpec(
        "3603-YJS-BDCZY-01",
        "商品房买卖合同网签备案（不动产转移一件事）",
        "ZJ",
        7,
        "person",
        5,
        1,
        "SPFBA",
        "《城市房地产管理法》第四十五条；《城市商品房预售管理办法》第十条",
        "二手房 过户 网签 备案 买房",
        (*PERSON_FIELDS, *UNIT_FIELDS, SELLER_ID, SELLER, PRICE),
        (ID_CARD, OLD_TITLE, MaterialSpec("房屋买卖合同（纸质签订的可上传）", False, False, "upload")),
    ),
    MatterSpec(
        "3603-YJS-BDCZY-02",
        "契税申报缴纳（不动产转移一件事）",
        "SW",
        4,
        "person",
        5,
        1,
        "WSZM",
        "《中华人民共和国契税法》第三条、第九条；《中华人民共和国税收征收管理法》",
        "契税 纳税 过户 买房",
        (*PERSON_FIELDS, UNIT_NUMBER, PRICE, TAX_AMOUNT),
        (ID_CARD, FILED_CONTRACT),
    ),
    MatterSpec(
        "3603-YJS-BDCZY-03",
        "国有建设用地使用权及房屋所有权转移登记（不动产转移一件事）",
        "BDCDJ",
        7,
        "person",
        30,
        3,
        "BDCQZS",
        "《不动产登记暂行条例》第三条、第二十条；《不动产登记暂行条例实施细则》第三十八条",
        "不动产登记 过户 转移登记 房产证",
        (*PERSON_FIELDS, *UNIT_FIELDS, SELLER_ID, SELLER, OLD_TITLE_NUMBER, PRICE),
        (ID_CARD, OLD_TITLE, FILED_CONTRACT, TAX_PAID),
    ),
    MatterSpec(
        "3603-YJS-QYKB-01",
        "企业设立登记（企业开办一件事）",
        "SCJG",
        1,
        "enterprise",
        15,
        1,
        "YYZZ",
        "《中华人民共和国市场主体登记管理条例》第十九条、第二十一条",
        "开办企业 营业执照 设立",
        (*ENTERPRISE_FIELDS, BUSINESS_SCOPE),
        (REPRESENTATIVE_ID, MaterialSpec("公司章程", False, False, "upload")),
    ),
    MatterSpec(
        "3603-YJS-QYKB-02",
        "公章刻制备案（企业开办一件事）",
        "GA",
        10,
        "enterprise",
        5,
        1,
        "GZBA",
        "《国务院关于国家行政机关和企业事业单位社会团体印章管理的规定》（国发〔1999〕25号）",
        "刻章 印章 开办企业",
        (*ENTERPRISE_FIELDS, SEALS),
        (LICENCE_HELD, REPRESENTATIVE_ID),
    ),
    MatterSpec(
        "3603-YJS-QYKB-03",
        "新办纳税人涉税事项（企业开办一件事）",
        "SW",
        7,
        "enterprise",
        5,
        1,
        "SWDJ",
        "《中华人民共和国税收征收管理法》第十五条；《税务登记管理办法》",
        "税务登记 发票 开办企业",
        (*ENTERPRISE_FIELDS, TAXPAYER_KIND),
        (LICENCE_HELD, REPRESENTATIVE_ID),
    ),
    MatterSpec(
        "3603-YJS-QYKB-04",
        "单位参保登记（企业开办一件事）",
        "RS",
        7,
        "enterprise",
        15,
        1,
        "DWSBDJ",
        "《中华人民共和国社会保险法》第五十七条；《社会保险费征缴暂行条例》",
        "社保登记 参保 开办企业",
        (*ENTERPRISE_FIELDS, EMPLOYEES),
        (LICENCE_HELD,),
    ),
    MatterSpec(
        "3603-YJS-XSE-01",
        "出生医学证明首次签发（新生儿出生一件事）",
        "WJ",
        20,
        "person",
        10,
        1,
        "CSYXZM",
        "《中华人民共和国母婴保健法》第二十三条；《出生医学证明管理办法》",
        "出生证 新生儿 出生一件事",
        (*PERSON_FIELDS, BIRTH_NUMBER, CHILD_ID, *CHILD_FIELDS, *PARENT_FIELDS),
        (ID_CARD, MaterialSpec("住院分娩记录（医院出具）", False, False, "upload")),
    ),
    MatterSpec(
        "3603-YJS-XSE-02",
        "出生登记（新生儿出生一件事）",
        "GA",
        7,
        "person",
        5,
        1,
        "HKDJ",
        "《中华人民共和国户口登记条例》第七条",
        "上户口 出生登记 新生儿 出生一件事",
        (*PERSON_FIELDS, BIRTH_NUMBER, CHILD_ID, *CHILD_FIELDS[:3], RELATION),
        (ID_CARD, HOUSEHOLD_BOOK, BIRTH_CERTIFICATE),
    ),
    MatterSpec(
        "3603-YJS-XSE-03",
        "城乡居民基本医疗保险参保登记（新生儿出生一件事）",
        "YB",
        20,
        "person",
        5,
        1,
        "YBCB",
        "《中华人民共和国社会保险法》第二十五条；《江西省城乡居民基本医疗保险实施办法》",
        "医保 参保 新生儿 出生一件事",
        (*PERSON_FIELDS, BIRTH_NUMBER, CHILD_ID, *CHILD_FIELDS[:3]),
        (ID_CARD, HOUSEHOLD_RECORD),
    ),
    MatterSpec(
        "3603-YJS-XSE-04",
        "社会保障卡申领（新生儿出生一件事）",
        "RS",
        20,
        "person",
        20,
        5,
        "SBK",
        "《中华人民共和国社会保险法》第五十八条；《社会保障卡管理办法》",
        "社保卡 新生儿 出生一件事",
        (*PERSON_FIELDS, BIRTH_NUMBER, CHILD_ID, *CHILD_FIELDS[:2], BANK),
        (ID_CARD, HOUSEHOLD_RECORD),
    ),
)

BUNDLES: tuple[BundleSpec, ...] = (
    BundleSpec(
        "bdc-transfer",
        "不动产转移登记一件事",
        "person",
        "买房过户一次申请：住建局办理合同网签备案，税务局征收契税，不动产登记中心登记发证，依次办理；"
        "前一环节出具的备案证明、完税证明由平台直接调取，不再提交。",
        f"{BUNDLE_BASIS}；《不动产登记暂行条例》",
        (
            StepSpec("filing", "交易备案", "3603-YJS-BDCZY-01"),
            StepSpec("tax", "税款缴纳", "3603-YJS-BDCZY-02", ("filing",)),
            StepSpec("registration", "登记发证", "3603-YJS-BDCZY-03", ("tax",)),
        ),
    ),
    BundleSpec(
        "enterprise-start",
        "企业开办一件事",
        "enterprise",
        "一次申请，营业执照、公章刻制、税务登记、社保登记由各部门同时办理。",
        f"{BUNDLE_BASIS}；《优化营商环境条例》第十九条",
        (
            StepSpec("licence", "营业执照", "3603-YJS-QYKB-01"),
            StepSpec("seal", "公章刻制", "3603-YJS-QYKB-02"),
            StepSpec("tax", "税务登记", "3603-YJS-QYKB-03"),
            StepSpec("insurance", "社保登记", "3603-YJS-QYKB-04"),
        ),
    ),
    BundleSpec(
        "newborn",
        "新生儿出生一件事",
        "person",
        "一次申请：先签发出生医学证明，再办理出生登记（上户口），之后医保参保与社保卡申领同时办理。",
        f"{BUNDLE_BASIS}；《国务院办公厅关于印发〈“高效办成一件事”2024年度首批重点事项清单〉的通知》",
        (
            StepSpec("birth", "出生医学证明", "3603-YJS-XSE-01"),
            StepSpec("household", "户口登记", "3603-YJS-XSE-02", ("birth",)),
            StepSpec("medical", "医保参保", "3603-YJS-XSE-03", ("household",)),
            StepSpec("card", "社保卡申领", "3603-YJS-XSE-04", ("household",)),
        ),
    ),
)

# Whom the steps of a bundle are about when it is not the applicant (the form fields giving
# their ID number and name): the newborn's steps are the child's, so each certificate is issued
# to the child's pre-assigned ID number, never to the parent who applies.
BUNDLE_SUBJECTS: dict[str, tuple[str, str]] = {"newborn": ("child_id_number", "child_name")}

# A field that must name someone other than the applicant, the key field to blame, and the
# message (a msgid of the services catalogue).
BUNDLE_OTHER_PARTY: dict[str, tuple[str, str, str]] = {
    "bdc-transfer": (
        "seller_id_number",
        "unit_number",
        gettext_noop("You are the registered owner of this property: the buyer applies for the transfer."),
    )
}
