"""The demo catalog (≥ 100 resources, registry published through the exchange, the feeds with
records) and the pages: catalog, resource detail, request queue, metrics."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import EnterpriseFactory, PersonFactory, UserFactory
from yiwang.core.models import Department, Division, Role
from yiwang.core.reference import reference_load
from yiwang.exchange.models import AccessRequest, Record, Resource
from yiwang.exchange.seed import exchange_demo_seed
from yiwang.exchange.selectors import exchange_metrics, exchange_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    reference_load()
    village = Division.objects.filter(level=4).order_by("code").first()
    persons = [PersonFactory(division=village) for _ in range(30)]
    EnterpriseFactory.create_batch(5, division=village)
    exchange_demo_seed(persons_per_feed=20, records_per_resource=10)
    return persons


def test_demo_seed_publishes_the_catalog(seeded):
    assert Resource.objects.count() >= 100
    assert Resource.objects.values("department").distinct().count() >= 30
    for code in (
        "ga.persons",
        "ga.households",
        "scjg.enterprises",
        "bdcdj.properties",
        "yb.self_pay_claims",
        "yjgl.disaster_losses",
        "gajj.traffic_accidents",
        "rs.social_insurance_payments",
        "rs.employment",
        "sw.tax_paid",
        "mz.subsistence",
        "cl.disability",
        "jy.students",
    ):
        assert Resource.objects.filter(code=code).exists(), code
    assert Record.objects.filter(resource__code="yb.self_pay_claims").count() == 20
    assert AccessRequest.objects.filter(state="pending").count() == 2
    before = Record.objects.count()
    exchange_demo_seed(persons_per_feed=20, records_per_resource=10)  # idempotent
    assert Record.objects.count() == before
    metrics = exchange_metrics()
    assert 0.85 < metrics["mount_rate"] < 1


def test_registry_is_read_through_the_exchange(seeded):
    person = seeded[0]
    consumer = Department.objects.get(code="MZ")
    result = exchange_read(
        consumer=consumer, resource_code="ga.persons", subject=person.id_number, purpose="核查"
    )
    assert result.rows[0]["name"] == person.name
    assert "phone" not in result.fields  # conditional, no grant
    owner = Department.objects.get(code="GA")
    full = exchange_read(consumer=owner, resource_code="ga.persons", subject=person.id_number, purpose="核查")
    assert full.rows[0]["phone"] == person.phone


@pytest.fixture
def steward_client(seeded):
    user = UserFactory(role=Role.DATA_STEWARD, role__department=Department.objects.get(code="ZS"))
    client = Client()
    client.force_login(user)
    return client


def test_pages_render_in_chinese(steward_client):
    catalog = steward_client.get("/exchange/")
    assert catalog.status_code == 200 and "数据资源目录" in catalog.content.decode()
    detail = steward_client.get("/exchange/resources/yb.self_pay_claims/").content.decode()
    assert "有条件共享" in detail and "不予共享" in detail and "self_pay" in detail
    assert steward_client.get("/exchange/metrics/").status_code == 200
    queue = steward_client.get("/exchange/requests/").content.decode()
    assert "支出型贫困低保家庭认定" in queue and 'href="/exchange/requests/"' in queue
    request = AccessRequest.objects.filter(resource__code="yb.self_pay_claims").get()
    refused = steward_client.post(
        f"/exchange/requests/{request.pk}/decide/", {"decision": "refuse", "reason": ""}
    )
    assert refused.status_code == 302
    request.refresh_from_db()
    assert request.state == "pending"
    steward_client.post(f"/exchange/requests/{request.pk}/decide/", {"decision": "approve"})
    request.refresh_from_db()
    assert request.state == "approved" and request.grant.fields == ["self_pay", "total_cost"]


def test_outsiders_are_refused(seeded):
    citizen = UserFactory(role=Role.CITIZEN)
    client = Client()
    client.force_login(citizen)
    assert client.get("/exchange/").status_code == 403
    assert client.get("/exchange/requests/").status_code == 403
    assert Client().get("/exchange/").status_code == 302


def test_a_consumer_requests_access_from_the_resource_page(seeded):
    handler = UserFactory(role=Role.DEPARTMENT_HANDLER, role__department=Department.objects.get(code="JY"))
    client = Client()
    client.force_login(handler)
    url = "/exchange/resources/yb.self_pay_claims/"
    page = client.get(url).content.decode()
    assert "申请共享" in page and 'value="diagnosis"' not in page
    assert 'href="/exchange/requests/"' not in page  # the stewards' queue is not offered to a handler
    bad = client.post(url, {"fields": ["self_pay"], "purpose": "", "legal_basis": "x", "duration_days": "30"})
    assert bad.status_code == 200 and "请说明数据用途" in bad.content.decode()
    ok = client.post(
        url,
        {
            "fields": ["self_pay"],
            "purpose": "学生资助家庭经济困难认定",
            "legal_basis": "资助办法",
            "duration_days": "90",
        },
    )
    assert ok.status_code == 302
    created = AccessRequest.objects.get(consumer__code="JY")
    assert created.fields == ["self_pay"] and created.duration_days == 90 and created.requested_by == handler


def test_personal_identifiers_leave_a_department_only_under_a_grant(seeded):
    """ID numbers, birth dates, phones and addresses of persons are conditional in every demo
    resource about people, so no department can page through a population (or everyone with a
    medical claim) without a grant. (An enterprise's registered address is public.)"""
    from yiwang.exchange.models import ResourceField

    personal = ResourceField.objects.filter(
        name__in=["id_number", "birth_date", "phone", "address"],
        resource__subject_type__in=["person", "household"],
    )
    assert personal.exists()
    assert set(personal.values_list("sharing_class", flat=True)) <= {"conditional", "closed"}
    consumer = Department.objects.get(code="MZ")
    listing = exchange_read(consumer=consumer, resource_code="ga.persons", filters={}, purpose="核查")
    assert listing.rows
    assert "id_number" not in listing.fields
    assert all("id_number" not in row for row in listing.rows)
