"""The demo city's hotline configuration: the seven categories the demo corpus (and the real
training data) use, and who handles them where. A city replaces these rows in the admin."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division, DivisionLevel
from yiwang.hotline.models import Category, RoutingRule

# code (Open311 service code), name (the classifier's label), description, city department
CATEGORIES = (
    ("urban-construction", "城乡建设", "住房、物业、市政设施、城市管理、违章建筑", "ZJ"),
    ("labour-social-security", "劳动和社会保障", "工资拖欠、社保、就业、劳动合同", "RS"),
    ("education-culture-sport", "教育文体", "学校、招生、培训机构、文化体育", "JY"),
    ("commerce-tourism", "商贸旅游", "消费纠纷、市场经营、旅游服务", "SW2"),
    ("health-family-planning", "卫生计生", "医疗机构、医保、生育登记、公共卫生", "WJ"),
    ("environment", "环境保护", "噪声、油烟、污水、废气、垃圾", "STHJ"),
    ("transport", "交通运输", "公交、客运、出租车、道路、停车", "JTYS"),
)
# Categories that go to the county branch of the city department where there is one, and
# those the town government handles on the spot (属地管理).
COUNTY_BRANCH = {"劳动和社会保障": "RS"}
TOWN_OFFICE = {"城乡建设"}


@transaction.atomic
def hotline_configuration_ensure(*, actor: Any = "system:seed") -> dict[str, int]:
    """Create the demo categories and routing rules that are missing; leave edited ones."""
    created = {"categories": 0, "rules": 0}
    for code, name, description, department_code in CATEGORIES:
        category, made = Category.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
        created["categories"] += made
        city_department = Department.objects.filter(code=department_code).first()
        if city_department is not None:
            _, made = RoutingRule.objects.get_or_create(
                category=category, division=None, defaults={"department": city_department}
            )
            created["rules"] += made
        if name in COUNTY_BRANCH:
            for county in Division.objects.filter(level=DivisionLevel.COUNTY):
                branch = Department.objects.filter(code=f"{county.pk}-{COUNTY_BRANCH[name]}").first()
                if branch is not None:
                    _, made = RoutingRule.objects.get_or_create(
                        category=category, division=county, defaults={"department": branch}
                    )
                    created["rules"] += made
        if name in TOWN_OFFICE:
            for town in Division.objects.filter(level=DivisionLevel.TOWN):
                office = Department.objects.filter(code=f"{town.pk}-ZF").first()
                if office is not None:
                    _, made = RoutingRule.objects.get_or_create(
                        category=category, division=town, defaults={"department": office}
                    )
                    created["rules"] += made
    if any(created.values()):
        audit_record(
            actor=actor, action="hotline.configure", object_type="hotline.configuration", after=created
        )
    return created
