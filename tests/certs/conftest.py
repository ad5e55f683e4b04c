"""A department with an e-seal, two certificate types (a person's and an enterprise's), a
citizen linked to a registered person and an enterprise agent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import DepartmentFactory, EnterpriseFactory, PersonFactory, UserFactory
from yiwang.certs import services
from yiwang.certs.models import CertificateType, Seal
from yiwang.core.models import Department
from yiwang.registry.models import EnterpriseAgent, Person

PASSWORD = "certs-test-Pw1"


@dataclass
class World:
    department: Department
    other_department: Department
    seal: Seal
    person_type: CertificateType
    enterprise_type: CertificateType
    person: Person
    citizen: object
    stranger: object
    agent: object
    enterprise: object
    handler: object


@pytest.fixture
def world(db) -> World:
    department = DepartmentFactory(code="WJT", name="萍乡市卫生健康委员会", short_name="卫健委")
    other = DepartmentFactory(code="SCJT", name="萍乡市市场监督管理局", short_name="市场监管局")
    seal = services.seal_create(department=department, actor="test")
    services.seal_create(department=other, actor="test")
    person_type = services.certificate_type_save(
        code="CSYXZM",
        name="出生医学证明",
        department=department,
        holder_kind="person",
        fields=[
            {"key": "child_name", "label": "新生儿姓名", "public": True},
            {"key": "birth_date", "label": "出生日期"},
            {"key": "hospital", "label": "接生机构", "public": True},
            {"key": "remark", "label": "备注", "required": False},
        ],
        actor="test",
    )
    enterprise_type = services.certificate_type_save(
        code="YYZZ",
        name="营业执照",
        department=other,
        holder_kind="enterprise",
        fields=[
            {"key": "name", "label": "名称", "public": True},
            {"key": "legal_representative", "label": "法定代表人", "public": True},
        ],
        validity_days=365 * 20,
        actor="test",
    )
    citizen = UserFactory(username="certs-citizen", role="citizen", password=PASSWORD)
    person = PersonFactory(user=citizen)
    stranger = UserFactory(username="certs-stranger", role="citizen", password=PASSWORD)
    PersonFactory(user=stranger)
    agent = UserFactory(username="certs-agent", role="enterprise_agent", password=PASSWORD)
    enterprise = EnterpriseFactory()
    EnterpriseAgent.objects.create(enterprise=enterprise, user=agent)
    handler = UserFactory(
        username="certs-handler", role="department_handler", role__department=department, password=PASSWORD
    )
    return World(
        department=department,
        other_department=other,
        seal=seal,
        person_type=person_type,
        enterprise_type=enterprise_type,
        person=person,
        citizen=citizen,
        stranger=stranger,
        agent=agent,
        enterprise=enterprise,
        handler=handler,
    )


def birth_fields(**changes) -> dict:
    return {"child_name": "李小萍", "birth_date": "2026-11-01", "hospital": "萍乡市人民医院", **changes}
