"""The consumer's "my data access" page and the data steward's publish / edit page, through
the web client: the owner's steward, a consumer with a grant, an outsider refused."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.factories import UserFactory
from yiwang.core.models import AuditEntry, Role
from yiwang.exchange import services
from yiwang.exchange.models import Grant, Resource
from yiwang.exchange.selectors import exchange_read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_my_access_lists_grants_and_requests_with_decisions(hub, granted):
    refused = services.access_request_submit(
        actor=hub.consumer_user,
        consumer=hub.consumer,
        resource=hub.resource,
        fields=["self_pay"],
        purpose="另一用途",
        legal_basis="办法",
        duration_days=10,
    )
    services.access_request_decide(actor=hub.cdo, request=refused, approve=False, reason="用途不明确")
    page = client_of(hub.consumer_user).get("/exchange/mine/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的数据授权" in html and f'data-grant="{granted.pk}"' in html and "生效中" in html
    assert "用途不明确" in html and "已驳回" in html and "已批准" in html
    # The outsider's page shows its own (empty) department, not the consumer's grants.
    other = client_of(hub.outsider_user).get("/exchange/mine/").content.decode()
    assert f'data-grant="{granted.pk}"' not in other and "暂无授权" in other


def test_an_ended_grant_offers_to_request_again(hub, granted):
    ended = timezone.now() - datetime.timedelta(seconds=1)
    Grant.objects.filter(pk=granted.pk).update(valid_from=ended - datetime.timedelta(days=30), valid_to=ended)
    html = client_of(hub.consumer_user).get("/exchange/mine/").content.decode()
    assert "已结束" in html and "#request-access" in html


def test_citizens_cannot_open_my_access(hub):
    client = client_of(UserFactory(role=Role.CITIZEN))
    assert client.get("/exchange/mine/").status_code == 403


FORM = {
    "code": "yb.drug_purchases",
    "title": "药品购买记录",
    "description": "定点药店的药品购买记录",
    "subject_type": "person",
    "update_frequency": "daily",
    "source_system": "医保信息平台",
    "publisher": "萍乡市医疗保障局",
    "contact": "0799-1234567",
    "theme": "医疗保障",
    "access_rights": "按字段分级共享",
    "provenance": "定点药店实时上传",
    "key_field": "purchase_no",
    "subject_field": "id_number",
    "field-0-name": "purchase_no",
    "field-0-label": "购买单号",
    "field-0-type": "string",
    "field-0-sharing_class": "open",
    "field-1-name": "id_number",
    "field-1-label": "身份证号",
    "field-1-type": "string",
    "field-1-sharing_class": "conditional",
    "field-2-name": "drug",
    "field-2-label": "药品",
    "field-2-type": "string",
    "field-2-sharing_class": "closed",
    "field-3-name": "",
}


def test_a_steward_publishes_a_resource_from_the_page(hub):
    client = client_of(hub.owner_steward)
    assert "发布数据资源" in client.get("/exchange/").content.decode()
    assert client.get("/exchange/publish/").status_code == 200
    response = client.post("/exchange/publish/", FORM)
    assert response.status_code == 302 and response["Location"] == "/exchange/resources/yb.drug_purchases/"
    resource = Resource.objects.get(code="yb.drug_purchases")
    assert resource.department == hub.owner and resource.contact == "0799-1234567"
    assert list(resource.fields.values_list("name", "sharing_class")) == [
        ("purchase_no", "open"),
        ("id_number", "conditional"),
        ("drug", "closed"),
    ]
    assert AuditEntry.objects.filter(action="exchange.resource_publish", object_id=str(resource.pk)).exists()


def test_publish_errors_are_shown_next_to_the_inputs(hub):
    client = client_of(hub.owner_steward)
    bad = dict(FORM, key_field="nope", **{"field-2-sharing_class": "", "field-1-name": "purchase_no"})
    response = client.post("/exchange/publish/", bad)
    html = response.content.decode()
    assert response.status_code == 200
    assert "记录主键必须是资源的字段之一" in html and "字段名重复" in html
    assert not Resource.objects.filter(code="yb.drug_purchases").exists()
    assert 'value="药品购买记录"' in html  # what was typed is kept


def test_a_steward_edits_a_field_sharing_class_and_removes_a_field(hub, granted):
    client = client_of(hub.owner_steward)
    page = client.get("/exchange/resources/yb.self_pay_claims/edit/").content.decode()
    assert 'value="self_pay"' in page and "readonly" in page
    form = {
        "title": "医保自付结算（新）",
        "subject_type": "person",
        "update_frequency": "daily",
        "key_field": "claim_no",
        "subject_field": "id_number",
    }
    for index, (name, sharing) in enumerate(
        [
            ("claim_no", "open"),
            ("id_number", "open"),
            ("settled_on", "open"),
            ("self_pay", "closed"),
            ("diagnosis", "closed"),
        ]
    ):
        form.update(
            {
                f"field-{index}-name": name,
                f"field-{index}-type": "string",
                f"field-{index}-sharing_class": sharing,
            }
        )
    form["field-2-remove"] = "1"
    response = client.post("/exchange/resources/yb.self_pay_claims/edit/", form)
    assert response.status_code == 302
    hub.resource.refresh_from_db()
    assert hub.resource.title == "医保自付结算（新）"
    assert dict(hub.resource.fields.values_list("name", "sharing_class")) == {
        "claim_no": "open",
        "id_number": "open",
        "self_pay": "closed",
        "diagnosis": "closed",
    }
    result = exchange_read(
        consumer=hub.consumer,
        resource_code="yb.self_pay_claims",
        subject="360302199005091234",
        purpose="核查",
    )
    assert "self_pay" not in result.fields  # the grant no longer opens a closed field


def test_only_the_owners_steward_may_edit(hub):
    other_steward = UserFactory(role=Role.DATA_STEWARD, role__department=hub.outsider)
    client = client_of(other_steward)
    assert client.get("/exchange/resources/yb.self_pay_claims/edit/").status_code == 403
    assert "编辑数据资源" not in client.get("/exchange/resources/yb.self_pay_claims/").content.decode()
    # The consumer's handler (no steward role) cannot publish at all.
    assert client_of(hub.consumer_user).get("/exchange/publish/").status_code == 403
    assert client_of(hub.consumer_user).post("/exchange/publish/", FORM).status_code == 403
    assert (
        "编辑数据资源"
        in client_of(hub.owner_steward).get("/exchange/resources/yb.self_pay_claims/").content.decode()
    )


def test_the_steward_imports_a_file_and_sees_the_report(hub):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_of(hub.owner_steward)
    url = "/exchange/resources/yb.self_pay_claims/"
    assert 'id="push-records"' in client.get(url).content.decode()
    csv = "结算单号,身份证号,结算日期,自付金额\nK1,360302199005091234,2026-08-01,12.5\nK2,360302199005091234,八月,3\n"
    response = client.post(
        url,
        {
            "action": "push",
            "mode": "keep_good_rows",
            "file": SimpleUploadedFile("claims.csv", csv.encode()),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="import-report"' in html
    assert "有错误的行已跳过" in html
    assert "settled_on" in html and ">3<" in html  # the bad row: spreadsheet row 3, column settled_on
    assert (
        hub.resource.records.filter(key="K1").exists() and not hub.resource.records.filter(key="K2").exists()
    )
    # A consumer sees no import form and may not post one.
    consumer = client_of(hub.consumer_user)
    assert 'id="push-records"' not in consumer.get(url).content.decode()
    refused = consumer.post(url, {"action": "push", "file": SimpleUploadedFile("c.csv", csv.encode())})
    assert refused.status_code == 403
