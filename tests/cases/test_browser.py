"""A department handler takes a case through two steps in a real browser (Debian Chromium)."""

from __future__ import annotations

import pytest

from tests.cases.conftest import PASSWORD, PERMIT
from yiwang.cases import services
from yiwang.cases.models import Case, CaseEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_handler_takes_a_case_through_two_steps(page, live_server, staff, screenshot_dir):
    case = services.case_open(
        case_type=PERMIT.code,
        title="小区路灯不亮，夜间出行不便",
        department=staff.department,
        actor=staff.handler,
    )
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(staff.handler.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/cases/")
    assert page.locator("#queue-title").inner_text() == "我的待办案件"
    page.screenshot(path=str(screenshot_dir / "case-queue.png"), full_page=True)
    page.get_by_role("link", name=case.reference).click()
    assert page.locator("#case-state").inner_text() == "已收件"
    page.screenshot(path=str(screenshot_dir / "case-detail-received.png"), full_page=True)

    page.get_by_label("意见").fill("已受理，安排人员现场查看")
    page.get_by_role("button", name="受理").click()
    page.wait_for_load_state()
    assert page.locator("#case-state").inner_text() == "审查中"

    # Refusing needs a note: the page says so and nothing moves.
    page.get_by_role("button", name="不予许可 *").click()
    page.wait_for_load_state()
    assert "须填写理由" in page.locator("#case-messages").inner_text()
    assert page.locator("#case-state").inner_text() == "审查中"

    page.get_by_label("意见").fill("已更换灯泡，恢复照明")
    page.get_by_role("button", name="办结").click()
    page.wait_for_load_state()
    assert page.locator("#case-state").inner_text() == "已办结"
    timeline = page.locator("#case-timeline").inner_text()
    assert "已受理，安排人员现场查看" in timeline and "已更换灯泡，恢复照明" in timeline
    page.screenshot(path=str(screenshot_dir / "case-detail-closed.png"), full_page=True)

    case.refresh_from_db()
    assert (case.state, case.version) == ("approved", 3)
    assert CaseEvent.objects.filter(case=case, kind="transition").count() == 2
    assert Case.objects.filter(pk=case.pk, closed_at__isnull=False).exists()
