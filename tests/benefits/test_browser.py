"""No-application benefits clicked through in a real browser (Debian Chromium): a 民政局
handler finds the eligible for 高龄津贴 2026-11 and sees the totals, may not approve the run
they started; a supervisor of the department approves and pays; the citizen, on a phone, sees
the payment with its explanation and objects; the city leader reads the figures."""

from __future__ import annotations

import pytest

from tests.benefits.conftest import PASSWORD, elderly
from yiwang.benefits.models import Objection, Payment, Run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _login(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_path}")


def test_run_approve_pay_explain_object(page_factory, live_server, city, screenshot_dir):
    base = live_server.url
    elderly(4)
    handler = page_factory()
    _login(handler, base, city.mz_handler, "/benefits/policies/")
    row = handler.locator('tr[data-policy="benefits.elderly_allowance"]')
    row.get_by_label("期间").fill("2026-11")
    row.get_by_role("button", name="比对名单").click()
    handler.wait_for_url(f"{base}/benefits/runs/*/")
    assert handler.locator('[data-role="eligible"]').inner_text() == "5"
    assert handler.locator('[data-role="total"]').inner_text() == "250.00 元"
    assert handler.locator("#four-eyes").is_visible() and handler.locator("#decide").count() == 0
    handler.screenshot(path=str(screenshot_dir / "benefits-run-review.png"), full_page=True)
    run = Run.objects.get()

    supervisor = page_factory()
    _login(supervisor, base, city.mz_reviewer, "/benefits/policies/")
    supervisor.locator("#to-approve").get_by_role("link").first.click()
    supervisor.wait_for_url(f"{base}/benefits/runs/{run.pk}/")
    supervisor.get_by_label("意见").fill("名单与金额已核对")
    supervisor.get_by_role("button", name="审批并发放").click()
    supervisor.wait_for_selector("ul.messages")
    assert "已审批并发放：5个对象" in supervisor.locator("ul.messages").inner_text()
    assert supervisor.locator('[data-role="state"]').inner_text() == "已发放"
    supervisor.screenshot(path=str(screenshot_dir / "benefits-run-paid.png"), full_page=True)
    assert Payment.objects.count() == 5

    citizen = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    _login(citizen, base, city.citizen, "/benefits/mine/")
    benefit = citizen.locator('article[data-policy="benefits.elderly_allowance"]')
    assert benefit.locator('[data-role="paid-amount"]').inner_text() == "50.00 元"
    assert citizen.locator("#new-notices").inner_text() == "1条新的发放通知"
    explanation = benefit.locator(".rule-explanation")
    assert explanation.locator('tr[data-condition="age"]').get_attribute("data-passed") == "true"
    assert "80 周岁" in explanation.locator('tr[data-condition="age"]').inner_text()
    assert citizen.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    citizen.screenshot(path=str(screenshot_dir / "benefits-mine-phone.png"), full_page=True)
    benefit.get_by_text("有问题？提出异议").click()
    benefit.get_by_label("问题说明").fill("我父亲今年也满80周岁了，为什么只发了我的？")
    benefit.get_by_role("button", name="提交异议").click()
    citizen.wait_for_selector("ul.messages")
    objection = Objection.objects.get()
    assert objection.case.reference in citizen.locator("ul.messages").inner_text()
    assert objection.case.department_id == city.mz.pk
    citizen.screenshot(path=str(screenshot_dir / "benefits-objection-phone.png"), full_page=True)

    leader = page_factory()
    _login(leader, base, city.leader, "/benefits/reports/")
    assert leader.locator('#headline [data-role="amount"]').inner_text() == "250.00 元"
    assert leader.locator("svg.bar-chart").count() == 3
    leader.screenshot(path=str(screenshot_dir / "benefits-reports.png"), full_page=True)
