"""A window clerk on a desktop finds a citizen by ID number, finds the matter, fills the form
with them (filled from shared data) and accepts it at once; the citizen then sees the notice and
the deadlines on the application's page."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from yiwang.services import cases as states
from yiwang.services.models import Application

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base, user, next_url):
    page.goto(f"{base}/login/?next={next_url}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_url}")


def test_a_clerk_applies_for_a_citizen_at_the_window(page_factory, live_server, granted, screenshot_dir):
    world = granted
    world.citizen.phone = "13800138000"
    world.citizen.save(update_fields=["phone"])
    base = live_server.url
    page = page_factory()
    _login(page, base, world.clerk, "/services/window/")

    number = world.person.id_number
    wrong = number[:-1] + ("1" if number[-1] == "0" else "0")  # a wrong check digit
    page.get_by_label("身份证号或统一社会信用代码").fill(wrong)
    page.locator("#lookup").click()
    page.wait_for_load_state()
    assert "校验" in page.locator("#lookup-errors").inner_text()
    page.screenshot(path=str(screenshot_dir / "window-bad-id.png"), full_page=True)

    page.get_by_label("身份证号或统一社会信用代码").fill(world.person.id_number)
    page.locator("#lookup").click()
    page.wait_for_load_state()
    assert page.locator("#chosen-name").inner_text() == "李秀英"
    page.get_by_label("搜索事项目录").fill("高龄")
    page.locator("#window-matters button[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=str(screenshot_dir / "window-desk.png"), full_page=True)
    page.locator("#window-matter-list a").first.click()
    page.wait_for_load_state()
    assert page.locator("#autofill-percent").inner_text() == "90%"
    page.screenshot(path=str(screenshot_dir / "window-apply.png"), full_page=True)
    page.locator("#f_reason").fill("窗口代办，材料原件已核验")
    page.locator("#window-submit").click()
    page.wait_for_url(f"{base}/services/handling/**")
    application = Application.objects.get()
    assert application.window_clerk_id == world.clerk.pk
    assert application.case.state == states.REVIEWING
    page.goto(f"{base}/services/handling/")
    assert application.case.reference in page.locator("#window-today").inner_text()
    page.screenshot(path=str(screenshot_dir / "window-handling.png"), full_page=True)

    citizen = page_factory()
    reference = application.case.reference
    _login(citizen, base, world.citizen, f"/services/applications/{reference}/")
    assert "办件已受理" in citizen.locator("#notices").inner_text()
    assert citizen.locator("#deadlines [data-colour]").count() == 1  # under review: the case limit only
    citizen.screenshot(path=str(screenshot_dir / "window-citizen-tracking.png"), full_page=True)
