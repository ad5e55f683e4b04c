"""The department feeds the benefit policies read and the exchange's demo seed does not publish
yet, declared in the FEEDS format of yiwang.exchange.seed: (code, department, title, subject
type, key, subject field, frequency, theme, fields, record maker). Each is published under
the department that really keeps the data:

- rs.unemployment_insurance  人社局 (失业保险经办): each insured employer's monthly contribution
  with its insured headcount and the month's separations (裁员减员人数);
- fy.dishonest_debtors       中级人民法院: 失信被执行人名单 (enterprises);
- rs.returning_migrants      人社局 (就业创业): 返乡入乡创业人员登记;
- scjg.legal_representatives 市场监管局: who is the legal representative (经营者) of which
  market entity, with the entity's kind, date of establishment and status;
- jy.graduates               教育局: graduates' education (学历代码 GB/T 4658-2006) and date;
- ga.hukou_settlements       公安局 (户政): 户口迁入登记 with the date and category.

`feeds_publish()` publishes whichever of them is missing (idempotent); the records are pushed
by the demo seed (yiwang.benefits.seed) or, in a real city, by each department's system.
"""

from __future__ import annotations

from typing import Any

from yiwang.exchange.seed import _f

# (code, name, short name) of departments a feed needs that the reference data may lack.
EXTRA_DEPARTMENTS = {"FY": ("萍乡市中级人民法院", "中级法院")}

FEEDS: tuple[tuple[Any, ...], ...] = (
    (
        "rs.unemployment_insurance",
        "RS",
        "失业保险单位参保缴费明细",
        "enterprise",
        "record_no",
        "uscc",
        "monthly",
        "社会保障",
        [
            _f("record_no", "缴费记录编号"),
            _f("uscc", "统一社会信用代码"),
            _f("month", "费款所属期（月初日期）", type_="date"),
            _f("insured_count", "月末参保职工人数", "conditional", "integer"),
            _f("separations", "本月裁员减员人数", "conditional", "integer"),
            _f("premium", "单位及职工实缴失业保险费（元）", "conditional", "decimal"),
        ],
        None,
    ),
    (
        "fy.dishonest_debtors",
        "FY",
        "失信被执行人名单",
        "enterprise",
        "case_no",
        "uscc",
        "daily",
        "信用服务",
        [
            _f("case_no", "执行案号"),
            _f("uscc", "统一社会信用代码"),
            _f("listed_on", "纳入日期", type_="date"),
            _f("status", "名单状态（在列 / 已屏蔽）"),
        ],
        None,
    ),
    (
        "rs.returning_migrants",
        "RS",
        "返乡入乡创业人员登记",
        "person",
        "record_no",
        "id_number",
        "daily",
        "就业创业",
        [
            _f("record_no", "登记编号"),
            _f("id_number", "身份证号"),
            _f("returned_on", "返乡日期", type_="date"),
            _f("worked_in", "外出务工地"),
            _f("registered_on", "登记日期", type_="date"),
        ],
        None,
    ),
    (
        "scjg.legal_representatives",
        "SCJG",
        "市场主体法定代表人（负责人、经营者）信息",
        "person",
        "uscc",
        "id_number",
        "daily",
        "市场监管",
        [
            _f("uscc", "统一社会信用代码"),
            _f("id_number", "法定代表人（经营者）身份证号"),
            _f("entity_kind", "市场主体类型（company / individual / cooperative）"),
            _f("established_on", "成立日期", type_="date"),
            _f("status", "登记状态（active / revoked / cancelled）"),
        ],
        None,
    ),
    (
        "jy.graduates",
        "JY",
        "高校毕业生学历信息",
        "person",
        "certificate_no",
        "id_number",
        "yearly",
        "教育文化",
        [
            _f("certificate_no", "毕业证书编号"),
            _f("id_number", "身份证号"),
            _f("school", "毕业院校"),
            _f("education_code", "学历代码（GB/T 4658-2006：11 博士，14 硕士，21 本科）", type_="integer"),
            _f("graduated_on", "毕业日期", type_="date"),
        ],
        None,
    ),
    (
        "ga.hukou_settlements",
        "GA",
        "户口迁入登记信息",
        "person",
        "record_no",
        "id_number",
        "daily",
        "公共安全",
        [
            _f("record_no", "迁入登记编号"),
            _f("id_number", "身份证号"),
            _f("settled_on", "迁入日期", type_="date"),
            _f("category", "迁入类别"),
            _f("moved_from", "迁出地", "conditional"),
        ],
        None,
    ),
)

# Registry-backed resources the policies read (published by the exchange seed when it ran).
REGISTRY_NEEDED = ("ga.persons", "scjg.enterprises")


def _department(code: str):
    from yiwang.core.audit import audit_record
    from yiwang.core.models import Department, DepartmentKind, Division

    department = Department.objects.filter(code=code).first()
    if department is None and code in EXTRA_DEPARTMENTS:
        name, short_name = EXTRA_DEPARTMENTS[code]
        city = Division.objects.filter(level=1, is_outside_city=False).order_by("code").first()
        department = Department.objects.create(
            code=code, name=name, short_name=short_name, kind=DepartmentKind.OTHER, division=city
        )
        audit_record(actor="system:benefits-seed", action="core.department_create", target=department)
    return department


def feeds_publish(*, actor: Any = "system:benefits-seed") -> list[str]:
    """Publish the registry resources and feeds the policies read, those not yet in the
    catalog. Returns the codes published."""
    from yiwang.exchange import services
    from yiwang.exchange.models import Resource
    from yiwang.exchange.seed import REGISTRY

    existing = set(Resource.objects.values_list("code", flat=True))
    published = []
    for code, department_code, title, subject_type, key, backing, theme in REGISTRY:
        if code in existing or code not in REGISTRY_NEEDED:
            continue
        services.resource_publish(
            actor=actor,
            department=_department(department_code),
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
        )
        published.append(code)
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
        _make,
    ) in FEEDS:
        if code in existing:
            continue
        department = _department(department_code)
        services.resource_publish(
            actor=actor,
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
            provenance=f"{department.short_name}业务系统推送",
            access_rights="有条件共享字段须经首席数据官审批",
        )
        published.append(code)
    return published
