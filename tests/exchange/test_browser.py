"""The chief data officer approves a sharing request in a real browser (Debian's Chromium):
workbench → request queue → approve; the grant is live; the metrics page draws its charts."""

from __future__ import annotations

import pytest

from tests.exchange.conftest import FIELDS, ROWS, lines
from tests.factories import PASSWORD, DepartmentFactory, UserFactory
from yiwang.core.models import Role
from yiwang.exchange import services
from yiwang.exchange.models import AccessRequest, Resource
from yiwang.exchange.selectors import exchange_read

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_steward_approves_a_request(page, live_server, screenshot_dir):
    owner = DepartmentFactory(code="YB", name="萍乡市医疗保障局", short_name="医保局")
    consumer = DepartmentFactory(code="MZ", name="萍乡市民政局", short_name="民政局")
    cdo_department = DepartmentFactory(code="ZS", name="萍乡市政数局", short_name="政数局")
    cdo = UserFactory(
        username="cdo", display_name="赵敏", role=Role.DATA_STEWARD, role__department=cdo_department
    )
    handler = UserFactory(username="mz", role=Role.DEPARTMENT_HANDLER, role__department=consumer)
    resource = services.resource_publish(
        actor=None,
        department=owner,
        code="yb.self_pay_claims",
        title="医保结算自付费用",
        subject_type="person",
        key_field="claim_no",
        subject_field="id_number",
        fields=FIELDS,
    )
    services.records_ingest(actor=None, resource=resource, content=lines(*ROWS))
    request = services.access_request_submit(
        actor=handler,
        consumer=consumer,
        resource=resource,
        fields=["self_pay"],
        purpose="支出型贫困低保家庭认定",
        legal_basis="《社会救助暂行办法》第十一条",
        duration_days=365,
    )
    exchange_read(
        consumer=consumer, resource_code=resource.code, subject=ROWS[0]["id_number"], purpose="核查"
    )

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill("cdo")
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="共享申请").first.click()
    card = page.locator(f'[data-request="{request.pk}"]')
    assert card.get_by_text("支出型贫困低保家庭认定").is_visible()
    assert card.get_by_text("含有条件共享字段：由首席数据官审批").is_visible()
    page.screenshot(path=str(screenshot_dir / "exchange-queue.png"), full_page=True)
    card.get_by_role("button", name="批准").click()
    page.wait_for_load_state()
    assert page.get_by_text("已批准：授权已生效。").is_visible()
    assert page.locator("#no-pending").is_visible()
    assert page.locator("#decided").get_by_text("已批准").is_visible()
    page.screenshot(path=str(screenshot_dir / "exchange-approved.png"), full_page=True)
    request.refresh_from_db()
    assert request.state == AccessRequest.State.APPROVED and request.decided_by == cdo
    assert (
        "self_pay"
        in exchange_read(
            consumer=consumer, resource_code=resource.code, subject=ROWS[0]["id_number"], purpose="核查"
        ).fields
    )

    page.goto(f"{live_server.url}/exchange/resources/yb.self_pay_claims/")
    assert page.locator('[data-field="diagnosis"]').get_by_text("不予共享").is_visible()
    page.screenshot(path=str(screenshot_dir / "exchange-resource.png"), full_page=True)
    page.goto(f"{live_server.url}/exchange/metrics/")
    assert page.locator("#mount-rate .figure-value").inner_text() == "100.0%"
    assert page.locator("svg.bar-chart").count() >= 2
    page.screenshot(path=str(screenshot_dir / "exchange-metrics.png"), full_page=True)


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_steward_publishes_and_consumer_sees_its_access(page_factory, live_server, screenshot_dir):
    owner = DepartmentFactory(code="YB", name="萍乡市医疗保障局", short_name="医保局")
    consumer = DepartmentFactory(code="MZ", name="萍乡市民政局", short_name="民政局")
    cdo_department = DepartmentFactory(code="ZS", name="萍乡市政数局", short_name="政数局")
    UserFactory(username="yb", display_name="陈丽", role=Role.DATA_STEWARD, role__department=owner)
    cdo = UserFactory(username="cdo", role=Role.DATA_STEWARD, role__department=cdo_department)
    handler = UserFactory(
        username="mz", display_name="黄霞", role=Role.DEPARTMENT_HANDLER, role__department=consumer
    )

    steward_page = page_factory()
    _login(steward_page, live_server, "yb")
    steward_page.goto(f"{live_server.url}/exchange/")
    steward_page.get_by_role("link", name="发布数据资源").click()
    steward_page.get_by_label("代码", exact=True).fill("yb.drug_purchases")
    steward_page.get_by_label("标题", exact=True).fill("药品购买记录")
    steward_page.get_by_label("记录主键字段").fill("purchase_no")
    steward_page.get_by_label("主体字段（身份证号、统一社会信用代码等）").fill("id_number")
    for index, (name, label, sharing) in enumerate(
        [
            ("purchase_no", "购买单号", "无条件共享"),
            ("id_number", "身份证号", "有条件共享"),
            ("drug", "药品", "不予共享"),
        ]
    ):
        row = steward_page.locator(f'[data-row="{index}"]')
        row.locator(f'input[name="field-{index}-name"]').fill(name)
        row.locator(f'input[name="field-{index}-label"]').fill(label)
        row.locator(f'select[name="field-{index}-sharing_class"]').select_option(label=sharing)
    steward_page.screenshot(path=str(screenshot_dir / "exchange-publish.png"), full_page=True)
    steward_page.get_by_role("button", name="发布", exact=True).click()
    steward_page.wait_for_load_state()
    assert steward_page.get_by_text("资源已发布到目录。").is_visible()
    assert steward_page.locator('[data-field="drug"]').get_by_text("不予共享").is_visible()
    steward_page.screenshot(path=str(screenshot_dir / "exchange-published.png"), full_page=True)
    csv = "购买单号,身份证号,药品\nP1,360302199005091234,阿莫西林\n,360302199005091234,布洛芬\n"
    steward_page.get_by_label("文件", exact=True).set_input_files(
        files=[{"name": "purchases.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    steward_page.get_by_label("保留正确行").check()
    steward_page.get_by_role("button", name="导入", exact=True).click()
    steward_page.wait_for_load_state()
    report = steward_page.locator("#import-report")
    assert report.get_by_text("正确的行已写入，有错误的行已跳过。").is_visible()
    assert steward_page.locator("#import-errors").get_by_text("purchase_no").is_visible()
    steward_page.locator("#push-records").screenshot(path=str(screenshot_dir / "exchange-import-report.png"))

    resource = Resource.objects.get(code="yb.drug_purchases")
    request = services.access_request_submit(
        actor=handler,
        consumer=consumer,
        resource=resource,
        fields=["id_number"],
        purpose="低保家庭药品支出核查",
        legal_basis="《社会救助暂行办法》",
        duration_days=90,
    )
    services.access_request_decide(actor=cdo, request=request, approve=True)

    consumer_page = page_factory()
    _login(consumer_page, live_server, "mz")
    consumer_page.goto(f"{live_server.url}/exchange/mine/")
    grant_row = consumer_page.locator(f'[data-grant="{request.grant.pk}"]')
    assert grant_row.get_by_text("药品购买记录").is_visible()
    assert grant_row.get_by_text("生效中").is_visible()
    assert consumer_page.locator(f'[data-request="{request.pk}"]').get_by_text("已批准").is_visible()
    consumer_page.screenshot(path=str(screenshot_dir / "exchange-my-access.png"), full_page=True)
