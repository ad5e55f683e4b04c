"""A small exchange: departments (owner 医保局, consumer 民政局, another 教育局, the CDO's
政数局), a published resource with open / conditional / closed fields and a few records."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.utils import translation

from tests.factories import DepartmentFactory, UserFactory
from yiwang.core.models import Department, Role
from yiwang.exchange import services
from yiwang.exchange.models import Resource

FIELDS = [
    {"name": "claim_no", "type": "string", "sharing_class": "open", "label": "结算单号"},
    {"name": "id_number", "type": "string", "sharing_class": "open", "label": "身份证号"},
    {"name": "settled_on", "type": "date", "sharing_class": "open", "label": "结算日期"},
    {"name": "self_pay", "type": "decimal", "sharing_class": "conditional", "label": "自付金额"},
    {"name": "diagnosis", "type": "string", "sharing_class": "closed", "label": "诊断"},
]
ID_A = "360302199005091234"
ID_B = "360302199201020026"


def lines(*rows: dict) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


ROWS = [
    {
        "claim_no": "C1",
        "id_number": ID_A,
        "settled_on": "2026-03-01",
        "self_pay": "1200.50",
        "diagnosis": "I10",
    },
    {"claim_no": "C2", "id_number": ID_A, "settled_on": "2026-04-11", "self_pay": "300", "diagnosis": "E11"},
    {
        "claim_no": "C3",
        "id_number": ID_B,
        "settled_on": "2026-05-20",
        "self_pay": "80.00",
        "diagnosis": "J20",
    },
]


@dataclass
class Hub:
    owner: Department
    consumer: Department
    outsider: Department
    cdo_department: Department
    resource: Resource
    owner_steward: object
    cdo: object
    consumer_user: object
    outsider_user: object


@pytest.fixture(autouse=True)
def _english():
    """Service-level messages are asserted in English (the pages and the API speak Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def hub(db) -> Hub:
    owner = DepartmentFactory(code="YB", name="萍乡市医疗保障局", short_name="医保局")
    consumer = DepartmentFactory(code="MZ", name="萍乡市民政局", short_name="民政局")
    outsider = DepartmentFactory(code="JY", name="萍乡市教育局", short_name="教育局")
    cdo_department = DepartmentFactory(code="ZS", name="萍乡市政数局", short_name="政数局")
    owner_steward = UserFactory(username="yb-steward", role=Role.DATA_STEWARD, role__department=owner)
    cdo = UserFactory(username="cdo", role=Role.DATA_STEWARD, role__department=cdo_department)
    consumer_user = UserFactory(
        username="mz-handler", role=Role.DEPARTMENT_HANDLER, role__department=consumer
    )
    outsider_user = UserFactory(
        username="jy-handler", role=Role.DEPARTMENT_HANDLER, role__department=outsider
    )
    resource = services.resource_publish(
        actor=owner_steward,
        department=owner,
        code="yb.self_pay_claims",
        title="医保自付结算",
        subject_type="person",
        key_field="claim_no",
        subject_field="id_number",
        fields=FIELDS,
        update_frequency="daily",
    )
    services.records_ingest(actor=owner_steward, resource=resource, content=lines(*ROWS))
    resource.refresh_from_db()
    return Hub(
        owner, consumer, outsider, cdo_department, resource, owner_steward, cdo, consumer_user, outsider_user
    )


@pytest.fixture
def granted(hub):
    """An approved request of 民政局 for the conditional self_pay field."""
    request = services.access_request_submit(
        actor=hub.consumer_user,
        consumer=hub.consumer,
        resource=hub.resource,
        fields=["self_pay"],
        purpose="低保家庭支出型贫困核查",
        legal_basis="《社会救助暂行办法》第十一条",
        duration_days=30,
    )
    services.access_request_decide(actor=hub.cdo, request=request, approve=True)
    request.refresh_from_db()
    return request.grant
