"""The demo city's catalog: the registry published through the exchange, the department
feeds later applications read, and a catalog of other resources, ≥ 100 in all, with synthetic
records for the demo persons and enterprises. Deterministic (one random seed); idempotent
(resources that exist are left alone; pushing the same records again changes nothing).

    from yiwang.exchange.seed import exchange_demo_seed
    exchange_demo_seed()          # or: yiwang exchange_seed
"""

from __future__ import annotations

import datetime
import json
import math
import random
from typing import Any

from yiwang.core.models import Department
from yiwang.exchange import services
from yiwang.exchange.models import Resource

SEED = 3603
ACTOR = "system:exchange-seed"
BASE_DAY = datetime.date(2026, 1, 1)


# Fields that identify or locate a person leave a department only under a grant.
PERSONAL_FIELDS = ("id_number", "phone", "address", "birth_date")


def _f(
    name: str, label: str, sharing: str | None = None, type_: str = "string", description: str = ""
) -> dict:
    if sharing is None:
        personal = name in PERSONAL_FIELDS or name.endswith("_id_number")
        sharing = "conditional" if personal else "open"
    return {"name": name, "label": label, "sharing_class": sharing, "type": type_, "description": description}


# The registry, published by its keepers and read live (no copy).
REGISTRY = (
    ("ga.persons", "GA", "人口基础信息", "person", "id_number", "person", "人口库"),
    ("ga.households", "GA", "户籍户信息", "household", "number", "household", "人口库"),
    ("scjg.enterprises", "SCJG", "市场主体登记信息", "enterprise", "uscc", "enterprise", "法人库"),
    (
        "bdcdj.properties",
        "BDCDJ",
        "不动产登记信息",
        "property",
        "unit_number",
        "property",
        "自然资源和空间地理库",
    ),
    ("ga.household_members", "GA", "户籍成员信息", "person", "id_number", "household_member", "人口库"),
    (
        "bdcdj.property_owners",
        "BDCDJ",
        "不动产权利人信息",
        "person",
        "owner_id_number",
        "property_owner",
        "自然资源和空间地理库",
    ),
)


def _day(rng: random.Random, span: int = 360) -> str:
    return (BASE_DAY + datetime.timedelta(days=rng.randrange(span))).isoformat()


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randrange(low, high)}.{rng.randrange(100):02d}"


def _disaster_extra(index: int) -> dict:
    """The 防返贫 fields of a disaster report (response level, a labourer's death), drawn from a
    stream of their own so the other feeds' records stay as they were."""
    rng = random.Random(SEED * 7919 + index)
    level = rng.choices([0, 4, 3, 2], weights=[950, 40, 8, 2])[0]
    return {"response_level": level, "labourer_died": level > 0 and rng.random() < 0.01}


def _accident_extra(index: int, record: dict) -> dict:
    """The 防返贫 fields of an accident (a labourer's death, the household's loss), consistent
    with its severity, from a stream of their own."""
    rng = random.Random(SEED * 104729 + index)
    died = record["severity"] == "死亡" and rng.random() < 0.04
    heavy = record["severity"] in ("重伤", "死亡") and rng.random() < 0.04
    loss = _money(rng, 20000, 90000) if heavy else _money(rng, 200, 8000)
    return {**record, "labourer_died": died, "economic_loss": loss}


def _money_tail(rng: random.Random, median: int) -> str:
    """Yuan with two decimals from a log-normal with this median (σ = 1.2)."""
    fen = min(int(rng.lognormvariate(math.log(median * 100), 1.2)), 50_000_000)
    return f"{fen // 100}.{fen % 100:02d}"


# The feeds later issues read: (code, department, title, subject type, key, subject field,
# frequency, theme, fields, record maker(rng, index, subject) → dict).
FEEDS: tuple[tuple[Any, ...], ...] = (
    (
        "yb.self_pay_claims",
        "YB",
        "医保结算自付费用",
        "person",
        "claim_no",
        "id_number",
        "daily",
        "医疗保障",
        [
            _f("claim_no", "结算单号"),
            _f("id_number", "身份证号"),
            _f("settled_on", "结算日期", type_="date"),
            _f("hospital", "医疗机构"),
            _f("total_cost", "医疗总费用", "conditional", "decimal"),
            _f("self_pay", "个人自付金额", "conditional", "decimal"),
            _f("catastrophic", "是否大病", "conditional", "boolean"),
            _f("diagnosis", "诊断", "closed"),
        ],
        lambda rng, i, s: {
            "claim_no": f"YB{i:08d}",
            "id_number": s,
            "settled_on": _day(rng),
            "hospital": rng.choice(["萍乡市人民医院", "萍乡市中医院", "安源区人民医院", "莲花县人民医院"]),
            "total_cost": _money(rng, 200, 80000),
            # long-tailed like real self-pay: median ~900 yuan, about 1 in 100 claims ≥ 15,000
            "self_pay": _money_tail(rng, 900),
            "catastrophic": rng.random() < 0.08,
            "diagnosis": rng.choice(["I10", "E11", "C34", "J18", "N18"]),
        },
    ),
    (
        "yjgl.disaster_losses",
        "YJGL",
        "自然灾害受灾及损失",
        "person",
        "report_no",
        "id_number",
        "realtime",
        "应急管理",
        [
            _f("report_no", "灾情编号"),
            _f("id_number", "受灾户主身份证号"),
            _f("disaster_type", "灾种"),
            _f("occurred_on", "发生日期", type_="date"),
            _f("house_damaged", "房屋受损", type_="boolean"),
            _f("loss_amount", "直接经济损失（元）", "conditional", "decimal"),
            _f("assessor", "核灾人员", "closed"),
            _f(
                "response_level",
                "应急响应级别",
                type_="integer",
                description="1-4 = Ⅰ-Ⅳ级响应（Ⅰ级最高）; 0 = 未启动应急响应",
            ),
            _f("labourer_died", "造成家庭劳动力死亡", "conditional", "boolean"),
        ],
        lambda rng, i, s: {
            "report_no": f"ZH{i:08d}",
            "id_number": s,
            "disaster_type": rng.choice(["洪涝", "干旱", "风雹", "低温冷冻", "地质灾害"]),
            "occurred_on": _day(rng),
            "house_damaged": rng.random() < 0.3,
            "loss_amount": _money(rng, 500, 120000),
            "assessor": "应急管理局核灾组",
            **_disaster_extra(i),
        },
    ),
    (
        "gajj.traffic_accidents",
        "GAJJ",
        "道路交通事故信息",
        "person",
        "accident_no",
        "id_number",
        "daily",
        "公共安全",
        [
            _f("accident_no", "事故编号"),
            _f("id_number", "当事人身份证号"),
            _f("occurred_on", "事故日期", type_="date"),
            _f("severity", "后果"),
            _f("injured", "当事人受伤", "conditional", "boolean"),
            _f("liability", "责任认定", "conditional"),
            _f("location", "事故地点", "closed"),
            _f("labourer_died", "造成家庭劳动力死亡", "conditional", "boolean"),
            _f("economic_loss", "当事人家庭直接经济损失（元）", "conditional", "decimal"),
        ],
        lambda rng, i, s: _accident_extra(
            i,
            {
                "accident_no": f"JJ{i:08d}",
                "id_number": s,
                "occurred_on": _day(rng),
                "severity": rng.choice(["财产损失", "轻伤", "重伤", "死亡"]),
                "injured": rng.random() < 0.4,
                "liability": rng.choice(["全部责任", "主要责任", "同等责任", "次要责任", "无责任"]),
                "location": "萍乡市安源区某路段",
            },
        ),
    ),
    (
        "rs.social_insurance_payments",
        "RS",
        "社会保险缴费明细",
        "person",
        "payment_no",
        "id_number",
        "monthly",
        "社会保障",
        [
            _f("payment_no", "缴费流水号"),
            _f("id_number", "身份证号"),
            _f("month", "缴费所属期"),
            _f("insurance_type", "险种"),
            _f("employer_uscc", "缴费单位统一社会信用代码"),
            _f("base", "缴费基数", "conditional", "decimal"),
            _f("amount", "个人缴费金额", "conditional", "decimal"),
        ],
        lambda rng, i, s: {
            "payment_no": f"SB{i:09d}",
            "id_number": s,
            "month": f"2025-{1 + i % 12:02d}",
            "insurance_type": rng.choice(["企业职工基本养老保险", "城乡居民基本养老保险", "失业保险"]),
            "employer_uscc": "",
            "base": _money(rng, 3500, 20000),
            "amount": _money(rng, 200, 1800),
        },
    ),
    (
        "rs.employment",
        "RS",
        "就业登记信息",
        "person",
        "record_no",
        "id_number",
        "daily",
        "就业创业",
        [
            _f("record_no", "登记编号"),
            _f("id_number", "身份证号"),
            _f("employer_uscc", "用人单位统一社会信用代码"),
            _f("started_on", "入职日期", type_="date"),
            _f("status", "就业状态"),
            _f("monthly_wage", "月工资", "conditional", "decimal"),
        ],
        lambda rng, i, s: {
            "record_no": f"JY{i:09d}",
            "id_number": s,
            "employer_uscc": "",
            "started_on": _day(rng, 3000),
            "status": rng.choice(["在职", "在职", "在职", "离职", "灵活就业"]),
            "monthly_wage": _money(rng, 2000, 18000),
        },
    ),
    (
        "sw.tax_paid",
        "SW",
        "企业纳税信息",
        "enterprise",
        "record_no",
        "uscc",
        "monthly",
        "财税金融",
        [
            _f("record_no", "记录编号"),
            _f("uscc", "统一社会信用代码"),
            _f("year", "年度", type_="integer"),
            _f("credit_rating", "纳税信用等级"),
            _f("tax_paid", "实缴税额（万元）", "conditional", "decimal"),
            _f("vat", "增值税（万元）", "conditional", "decimal"),
            _f("invoice_sales", "开票销售额（万元）", "closed", "decimal"),
        ],
        lambda rng, i, s: {
            "record_no": f"SW{i:08d}",
            "uscc": s,
            "year": 2025,
            "credit_rating": rng.choice("AABBCDM"),
            "tax_paid": _money(rng, 1, 800),
            "vat": _money(rng, 0, 400),
            "invoice_sales": _money(rng, 10, 9000),
        },
    ),
    (
        "mz.subsistence",
        "MZ",
        "低保及特困供养对象",
        "person",
        "record_no",
        "id_number",
        "monthly",
        "社会救助",
        [
            _f("record_no", "救助编号"),
            _f("id_number", "身份证号"),
            _f("category", "救助类别"),
            _f("started_on", "起始日期", type_="date"),
            _f("status", "状态"),
            _f("monthly_amount", "月救助金额", "conditional", "decimal"),
        ],
        lambda rng, i, s: {
            "record_no": f"MZ{i:08d}",
            "id_number": s,
            "category": rng.choice(["城市低保", "农村低保", "特困供养"]),
            "started_on": _day(rng, 2000),
            "status": rng.choice(["在保", "在保", "在保", "停保"]),
            "monthly_amount": _money(rng, 300, 1200),
        },
    ),
    (
        "cl.disability",
        "CL",
        "残疾人证信息",
        "person",
        "certificate_no",
        "id_number",
        "monthly",
        "社会救助",
        [
            _f("certificate_no", "残疾人证号"),
            _f("id_number", "身份证号"),
            _f("issued_on", "发证日期", type_="date"),
            _f("disability_type", "残疾类别", "conditional"),
            _f("grade", "残疾等级", "conditional", "integer"),
        ],
        lambda rng, i, s: {
            "certificate_no": f"{s}{rng.randrange(1, 7)}{rng.randrange(1, 5)}",
            "id_number": s,
            "issued_on": _day(rng, 3000),
            "disability_type": rng.choice(["视力", "听力", "言语", "肢体", "智力", "精神"]),
            "grade": rng.randrange(1, 5),
        },
    ),
    (
        "jy.students",
        "JY",
        "在校学生学籍信息",
        "person",
        "student_no",
        "id_number",
        "quarterly",
        "教育文化",
        [
            _f("student_no", "学籍号"),
            _f("id_number", "身份证号"),
            _f("school", "学校"),
            _f("grade", "年级"),
            _f("enrolled_on", "入学日期", type_="date"),
            _f("boarding", "寄宿生", type_="boolean"),
            _f("aid", "资助金额", "conditional", "decimal"),
        ],
        lambda rng, i, s: {
            "student_no": f"G{s}",
            "id_number": s,
            "school": rng.choice(["萍乡市第二中学", "萍乡中学", "安源区八一街小学", "莲花县琴亭中学"]),
            "grade": rng.choice(["一年级", "三年级", "六年级", "初二", "高一", "高三"]),
            "enrolled_on": _day(rng, 3000),
            "boarding": rng.random() < 0.2,
            "aid": _money(rng, 0, 3000),
        },
    ),
)

# The rest of the catalog: (department, code suffix, title, subject type, frequency, theme).
CATALOG = """
GA|residence_permits|居住证办理信息|person|daily|公共安全
GA|id_card_issuance|居民身份证办理信息|person|daily|公共安全
GA|migrant_registration|流动人口登记信息|person|weekly|公共安全
GA|vehicle_owners|机动车登记信息|person|daily|公共安全
GA|criminal_record_checks|无犯罪记录证明开具|person|daily|公共安全
GAJJ|driving_licences|机动车驾驶证信息|person|daily|公共安全
GAJJ|traffic_violations|交通违法处理信息|person|daily|公共安全
SCJG|annual_reports|企业年报信息|enterprise|yearly|市场监管
SCJG|administrative_penalties|行政处罚信息|enterprise|weekly|信用服务
SCJG|abnormal_operations|经营异常名录|enterprise|weekly|信用服务
SCJG|food_licences|食品经营许可|enterprise|weekly|市场监管
SCJG|special_equipment|特种设备登记|enterprise|monthly|市场监管
ZJ|housing_security|保障性住房配租|person|monthly|城乡建设
ZJ|construction_permits|建筑工程施工许可|enterprise|weekly|城乡建设
ZJ|property_sales_contracts|商品房网签备案|person|daily|城乡建设
ZJ|qualified_builders|建筑业企业资质|enterprise|monthly|城乡建设
ZRZY|land_supply|国有建设用地供应|enterprise|monthly|自然资源
ZRZY|planning_permits|建设工程规划许可|enterprise|weekly|自然资源
BDCDJ|mortgages|不动产抵押登记|property|daily|自然资源
BDCDJ|seizures|不动产查封登记|property|daily|自然资源
SW|invoices_summary|发票开具汇总|enterprise|monthly|财税金融
SW|tax_arrears|欠税公告|enterprise|monthly|信用服务
SW|individual_income_tax|个人所得税纳税记录|person|monthly|财税金融
RS|unemployment_benefits|失业保险金领取|person|monthly|社会保障
RS|pension_recipients|养老金领取人员|person|monthly|社会保障
RS|vocational_certificates|职业技能等级证书|person|monthly|就业创业
RS|labour_disputes|劳动人事争议仲裁|enterprise|weekly|就业创业
RS|job_retention_refunds|稳岗返还发放|enterprise|quarterly|就业创业
YB|insured_persons|基本医疗保险参保信息|person|monthly|医疗保障
YB|medical_assistance|医疗救助信息|person|monthly|医疗保障
YB|designated_institutions|定点医药机构|enterprise|monthly|医疗保障
MZ|marriage_registrations|婚姻登记信息|person|daily|民政服务
MZ|elderly_allowances|高龄津贴发放|person|monthly|民政服务
MZ|temporary_assistance|临时救助信息|person|monthly|社会救助
MZ|social_organisations|社会组织登记|enterprise|monthly|民政服务
MZ|funeral_records|殡葬服务信息|person|daily|民政服务
JY|school_catalog|学校基本信息|none|yearly|教育文化
JY|student_aid|学生资助发放|person|quarterly|教育文化
JY|teacher_certificates|教师资格证|person|quarterly|教育文化
JY|enrollment_results|义务教育入学结果|person|yearly|教育文化
YJGL|hazardous_enterprises|危险化学品企业|enterprise|monthly|应急管理
YJGL|fireworks_workshops|烟花爆竹生产企业|enterprise|monthly|应急管理
YJGL|relief_supplies|救灾物资发放|person|weekly|应急管理
YJGL|safety_inspections|安全生产执法检查|enterprise|weekly|应急管理
WJ|birth_certificates|出生医学证明|person|daily|卫生健康
WJ|death_certificates|死亡医学证明|person|daily|卫生健康
WJ|family_doctor_contracts|家庭医生签约|person|monthly|卫生健康
WJ|medical_institutions|医疗机构执业登记|enterprise|monthly|卫生健康
CG|urban_management_cases|城市管理案件|event|realtime|城市管理
CG|street_vending_zones|摊点疏导区|none|quarterly|城市管理
STHJ|pollutant_permits|排污许可信息|enterprise|monthly|生态环境
STHJ|environmental_penalties|环境行政处罚|enterprise|weekly|信用服务
STHJ|air_quality|空气质量监测|event|realtime|生态环境
JTYS|road_transport_licences|道路运输经营许可|enterprise|monthly|交通运输
JTYS|bus_lines|公交线路信息|none|monthly|交通运输
CL|rehabilitation_services|残疾人康复服务|person|monthly|社会救助
CL|disability_subsidies|残疾人两项补贴|person|monthly|社会救助
XCZX|monitored_households|防返贫监测对象|person|monthly|乡村振兴
XCZX|assistance_measures|帮扶措施落实|person|monthly|乡村振兴
XZSP|approvals|行政许可决定|enterprise|daily|政务服务
ZWFW|service_ratings|政务服务好差评|event|daily|政务服务
ZWFW|matters_catalog|政务服务事项目录|none|monthly|政务服务
FG|key_projects|重点项目信息|enterprise|monthly|经济发展
FG|price_monitoring|重要商品价格监测|none|weekly|经济发展
GXJ|industrial_output|规上工业企业产值|enterprise|monthly|经济发展
GXJ|energy_consumption|企业能耗信息|enterprise|monthly|经济发展
CZ|subsidy_payments|惠民惠农补贴发放|person|monthly|财税金融
CZ|government_procurement|政府采购合同|enterprise|weekly|财税金融
SF|legal_aid|法律援助案件|person|weekly|司法服务
SF|community_corrections|社区矫正对象|person|monthly|司法服务
NY|land_contracts|农村土地承包经营权|person|yearly|农业农村
NY|farm_subsidies|耕地地力保护补贴|person|yearly|农业农村
NY|new_farming_entities|家庭农场和合作社|enterprise|monthly|农业农村
SL|reservoirs|水库基本信息|none|yearly|水利
SL|flood_warnings|山洪预警信息|event|realtime|水利
SW2|foreign_trade|进出口企业备案|enterprise|monthly|商务
WGLT|tourist_sites|A级旅游景区|none|yearly|文化旅游
TY|sports_venues|公共体育场馆|none|yearly|文化旅游
TJ|statistical_bulletins|统计公报数据|none|yearly|经济发展
TYJR|veterans|退役军人信息|person|monthly|社会保障
LY|forest_rights|林权登记信息|person|yearly|自然资源
SJ|audit_findings|审计发现问题整改|enterprise|quarterly|监督
GZW|state_enterprises|市属国有企业名录|enterprise|yearly|经济发展
XF|petitions|信访事项信息|event|daily|社会治理
ZFGJJ|housing_fund_deposits|住房公积金缴存|person|monthly|城乡建设
ZFGJJ|housing_fund_loans|住房公积金贷款|person|monthly|城乡建设
XFJY|fire_inspections|消防监督检查|enterprise|weekly|应急管理
QX|weather_warnings|气象预警信号|event|realtime|应急管理
GDJ|electricity_usage|企业用电量|enterprise|monthly|经济发展
SWJT|water_usage|居民用水信息|person|monthly|公用事业
RQ|gas_accounts|燃气开户信息|person|monthly|公用事业
RX12345|hotline_tickets|12345热线工单|event|realtime|社会治理
"""

SUBJECT_FIELDS = {
    "person": ("id_number", "身份证号"),
    "enterprise": ("uscc", "统一社会信用代码"),
    "property": ("unit_number", "不动产单元号"),
}


def _generic_fields(subject_type: str) -> tuple[list[dict], str]:
    fields = [_f("record_no", "记录编号")]
    subject_field = ""
    if subject_type in SUBJECT_FIELDS:
        subject_field, label = SUBJECT_FIELDS[subject_type]
        fields.append(_f(subject_field, label))
    fields += [
        _f("occurred_on", "业务日期", type_="date"),
        _f("item", "事项"),
        _f("status", "状态"),
        _f("amount", "金额", "conditional", "decimal"),
        _f("handler_note", "内部备注", "closed"),
    ]
    return fields, subject_field


def _push(resource: Resource, records: list[dict]) -> None:
    if records:
        content = "\n".join(json.dumps(record, ensure_ascii=False) for record in records).encode()
        services.records_ingest(actor=ACTOR, resource=resource, content=content, name="seed.jsonl")


def exchange_demo_seed(*, persons_per_feed: int = 3000, records_per_resource: int = 200) -> dict[str, int]:
    """Publish the demo catalog and push its synthetic records. Returns counts."""
    from yiwang.registry.models import Enterprise, Person, Property

    rng = random.Random(SEED)
    departments = {d.code: d for d in Department.objects.filter(division__level=1)}
    existing = set(Resource.objects.values_list("code", flat=True))
    id_numbers = list(Person.objects.order_by("id").values_list("id_number", flat=True)[:200_000])
    usccs = list(Enterprise.objects.order_by("id").values_list("uscc", flat=True)[:50_000])
    units = list(Property.objects.order_by("id").values_list("unit_number", flat=True)[:50_000])
    subjects = {"person": id_numbers, "enterprise": usccs, "property": units}
    published = records = 0

    def sample(pool: list[str], count: int) -> list[str]:
        return rng.sample(pool, min(count, len(pool))) if pool else []

    for code, department_code, title, subject_type, key, backing, theme in REGISTRY:
        if code in existing or department_code not in departments:
            continue
        services.resource_publish(
            actor=ACTOR,
            department=departments[department_code],
            code=code,
            title=title,
            subject_type=subject_type,
            key_field=key,
            subject_field=key,
            fields=[],
            backing=backing,
            update_frequency="realtime",
            theme=theme,
            source_system="基础库",
            provenance="由基础库实时读取",
            access_rights="无条件共享字段向各部门开放；有条件共享字段需申请",
        )
        published += 1
    for (
        code,
        department_code,
        title,
        subject_type,
        key,
        subject_field,
        frequency,
        theme,
        fields,
        make,
    ) in FEEDS:
        if code in existing or department_code not in departments:
            continue
        department = departments[department_code]
        resource = services.resource_publish(
            actor=ACTOR,
            department=department,
            code=code,
            title=title,
            subject_type=subject_type,
            key_field=key,
            subject_field=subject_field,
            fields=fields,
            update_frequency=frequency,
            theme=theme,
            source_system=f"{department.short_name}业务系统",
            contact=f"{department.short_name}数据管理员",
            provenance=f"{department.short_name}业务系统每{'日' if frequency == 'daily' else '期'}推送",
            access_rights="有条件共享字段须经首席数据官审批",
        )
        published += 1
        pool = subjects["enterprise" if subject_type == "enterprise" else "person"]
        batch = [make(rng, index, subject) for index, subject in enumerate(sample(pool, persons_per_feed))]
        _push(resource, batch)
        records += len(batch)
    for index, line in enumerate(line for line in CATALOG.strip().splitlines() if line):
        department_code, suffix, title, subject_type, frequency, theme = line.split("|")
        code = f"{department_code.lower()}.{suffix}"
        if code in existing or department_code not in departments:
            continue
        department = departments[department_code]
        fields, subject_field = _generic_fields(subject_type)
        resource = services.resource_publish(
            actor=ACTOR,
            department=department,
            code=code,
            title=title,
            subject_type=subject_type,
            key_field="record_no",
            subject_field=subject_field,
            fields=fields,
            update_frequency=frequency,
            theme=theme,
            source_system=f"{department.short_name}业务系统",
            contact=f"{department.short_name}数据管理员",
            access_rights="按字段共享属性共享",
        )
        published += 1
        if index % 10 == 9:
            continue  # catalogued, not mounted yet: the mount rate is not a flattering 100%
        pool = subjects.get(subject_type, [])
        keys = sample(pool, records_per_resource) if pool else [None] * (records_per_resource // 4)
        batch = []
        for number, subject in enumerate(keys):
            record = {
                "record_no": f"{suffix[:6].upper()}{number:07d}",
                "occurred_on": _day(rng),
                "item": title,
                "status": rng.choice(["已办结", "已办结", "办理中"]),
                "amount": _money(rng, 0, 5000),
                "handler_note": "内部",
            }
            if subject_field:
                record[subject_field] = subject
            batch.append(record)
        _push(resource, batch)
        records += len(batch)
    _demo_requests(departments)
    return {"resources_published": published, "records": records, "resources": Resource.objects.count()}


def _demo_requests(departments: dict[str, Department]) -> None:
    """Two pending requests for the steward's queue (once)."""
    from yiwang.exchange.models import AccessRequest

    if AccessRequest.objects.exists():
        return
    wanted = (
        (
            "MZ",
            "yb.self_pay_claims",
            ["self_pay", "total_cost"],
            "支出型贫困低保家庭认定",
            "《社会救助暂行办法》第十一条",
        ),
        (
            "XCZX",
            "rs.employment",
            ["monthly_wage"],
            "防返贫监测收入核查",
            "《关于健全防止返贫动态监测和帮扶机制的指导意见》",
        ),
    )
    for consumer, code, fields, purpose, basis in wanted:
        resource = Resource.objects.filter(code=code).first()
        if resource is None or consumer not in departments:
            continue
        services.access_request_submit(
            actor=ACTOR,
            consumer=departments[consumer],
            resource=resource,
            fields=fields,
            purpose=purpose,
            legal_basis=basis,
            duration_days=365,
        )
