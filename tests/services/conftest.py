"""The real city (divisions and departments), the registry published through the exchange, a
citizen with a household and a flat, an enterprise with its agent, department handlers, the
chief data officer, and a few matters with their forms."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation

from tests.factories import EnterpriseFactory, HouseholdFactory, PersonFactory, PropertyFactory, UserFactory
from yiwang.core.models import Department, Role
from yiwang.core.reference import reference_load
from yiwang.exchange import services as exchange_services
from yiwang.exchange.seed import REGISTRY
from yiwang.exchange.selectors import exchange_cache_clear
from yiwang.registry.models import EnterpriseAgent
from yiwang.services.forms_data import (
    ENTERPRISE_FIELDS,
    ENTERPRISE_MATERIALS,
    PERSON_FIELDS,
    PERSON_MATERIALS,
    REASON,
    SUPPORTING,
    MaterialSpec,
    property_form,
)
from yiwang.services.models import Matter
from yiwang.services.search import search_index_clear
from yiwang.services.services import matters_write


@pytest.fixture(autouse=True)
def _english():
    """Service-level messages are asserted in English (the pages speak Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def city(db):
    reference_load()
    search_index_clear()
    exchange_cache_clear()
    yield
    search_index_clear()
    exchange_cache_clear()


def _row(code, name, department, kind, matter_type=20, promised=5, legal=20, materials=(), keywords=""):
    return {
        "fields": {
            "code": code,
            "name": name,
            "type": matter_type,
            "department_id": Department.objects.get(code=department).pk,
            "applicant_kind": kind,
            "legal_limit_days": legal,
            "promised_limit_days": promised,
            "keywords": keywords,
        },
        "materials": [spec._asdict() | {"position": i} for i, spec in enumerate(materials)],
        "has_materials": True,
        "digest": code,
    }


PHOTO = MaterialSpec("近期免冠照片", True, False, "upload")


@dataclass
class World:
    citizen: object
    person: object
    household: object
    flat: object
    agent: object
    enterprise: object
    handler: object  # 民政局
    outsider: object  # 教育局 handler
    clerk: object
    steward: object
    cdo: object
    subsidy: Matter  # 民政局, person form, no upload
    photo_matter: Matter  # 公安局, person form, a required photo
    licence: Matter  # 市场监管局, enterprise form
    transfer: Matter  # 不动产登记中心, property form


@pytest.fixture
def world(city) -> World:
    cdo = UserFactory(username="services-cdo", is_superuser=True)
    for code, department_code, title, subject_type, key, backing, theme in REGISTRY:
        exchange_services.resource_publish(
            actor=cdo,
            department=Department.objects.get(code=department_code),
            code=code,
            title=title,
            subject_type=subject_type,
            key_field=key,
            subject_field=key,
            fields=[],
            backing=backing,
            theme=theme,
        )
    citizen = UserFactory(username="services-citizen", role=Role.CITIZEN)
    person = PersonFactory(user=citizen, name="李秀英", sex="F")
    household = HouseholdFactory(head=person)
    flat = PropertyFactory(owners=[person])
    agent = UserFactory(username="services-agent", role=Role.ENTERPRISE_AGENT)
    enterprise = EnterpriseFactory(name="萍乡市安源区测试陶瓷有限公司")
    EnterpriseAgent.objects.create(enterprise=enterprise, user=agent)
    handler = UserFactory(
        username="mz-handler",
        role=Role.DEPARTMENT_HANDLER,
        role__department=Department.objects.get(code="MZ"),
    )
    outsider = UserFactory(
        username="jy-handler",
        role=Role.DEPARTMENT_HANDLER,
        role__department=Department.objects.get(code="JY"),
    )
    clerk = UserFactory(username="window-clerk", role=Role.WINDOW_CLERK)
    steward = UserFactory(
        username="zs-steward", role=Role.DATA_STEWARD, role__department=Department.objects.get(code="ZS")
    )
    rows = [
        _row("T-MZ-1", "经济困难的高龄老年人津贴", "MZ", "person", 5, 5, 20, (*PERSON_MATERIALS, SUPPORTING)),
        _row("T-GA-1", "居住证申领", "GA", "person", 20, 3, 15, (*PERSON_MATERIALS, PHOTO)),
        _row("T-SCJG-1", "食品经营许可（新办）", "SCJG", "enterprise", 1, 5, 20, ENTERPRISE_MATERIALS),
        _row(
            "T-BDCDJ-1",
            "国有建设用地使用权及房屋所有权转移登记",
            "BDCDJ",
            "person",
            7,
            3,
            30,
            keywords="不动产登记 过户",
        ),
    ]
    person_form = ((*PERSON_FIELDS, REASON), ())
    matters_write(
        rows=rows,
        forms={
            "T-MZ-1": person_form,
            "T-GA-1": person_form,
            "T-SCJG-1": ((*ENTERPRISE_FIELDS, REASON), ()),
            "T-BDCDJ-1": property_form(),
        },
    )
    return World(
        citizen=citizen,
        person=person,
        household=household,
        flat=flat,
        agent=agent,
        enterprise=enterprise,
        handler=handler,
        outsider=outsider,
        clerk=clerk,
        steward=steward,
        cdo=cdo,
        subsidy=Matter.objects.get(code="T-MZ-1"),
        photo_matter=Matter.objects.get(code="T-GA-1"),
        licence=Matter.objects.get(code="T-SCJG-1"),
        transfer=Matter.objects.get(code="T-BDCDJ-1"),
    )


@pytest.fixture
def granted(world) -> World:
    """The chief data officer has granted every department the conditional fields its forms
    fill (as the demo seed does)."""
    from yiwang.services.services import autofill_grants_ensure

    autofill_grants_ensure(actor=world.cdo)
    return world
