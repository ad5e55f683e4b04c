"""A citizen on a phone finds 不动产转移登记 by its pinyin initials, reads the guide, applies
with the form filled from shared data, and finds the application in "my applications"."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from yiwang.services.models import Application

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:
    """Nothing wider than the phone's screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_search_guide_apply_and_follow_on_a_phone(page_factory, live_server, granted, screenshot_dir):
    world = granted
    base = live_server.url
    page = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(f"{base}/login/?next=/services/")
    page.get_by_label("用户名").fill(world.citizen.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/services/")

    page.get_by_label("搜索事项").fill("bdcdj")
    page.locator("#catalog-search").get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    results = page.locator("#matters li")
    assert results.count() == 1
    assert "国有建设用地使用权及房屋所有权转移登记" in results.first.inner_text()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "services-search-phone.png"), full_page=True)

    results.first.get_by_role("link").click()
    page.wait_for_load_state()
    assert page.locator("#matter-name").inner_text() == "国有建设用地使用权及房屋所有权转移登记"
    assert "3个工作日" in page.locator("#promised-limit").inner_text()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "services-guide-phone.png"), full_page=True)

    page.locator("#apply-link").click()
    page.wait_for_load_state()
    assert page.locator("#autofill-percent").inner_text() == "93%"  # 14 of 15 fields
    assert page.locator("#f_unit_number").input_value() == world.flat.unit_number
    assert page.locator("#f_property_address").input_value() == world.flat.address
    assert page.locator("#f_phone").input_value() == world.person.phone
    assert "李秀英" in page.locator("#field-name").inner_text()  # locked: from the population base
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "services-apply-phone.png"), full_page=True)

    page.get_by_label("申请事项说明").fill("买卖过户，买方为本人配偶")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(f"{base}/services/applications/**")
    application = Application.objects.get()
    assert page.locator("#reference").inner_text() == application.case.reference
    assert page.locator("#application-state").inner_text() == "已提交，待受理"
    assert application.values["unit_number"] == world.flat.unit_number
    page.screenshot(path=str(screenshot_dir / "services-application-phone.png"), full_page=True)

    page.goto(f"{base}/services/mine/")
    row = page.locator(f'#my-applications tr[data-reference="{application.case.reference}"]')
    assert "已提交，待受理" in row.inner_text() and "转移登记" in row.inner_text()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "services-mine-phone.png"), full_page=True)
