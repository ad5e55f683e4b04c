"""The web shell in a real browser (Debian's Chromium through Playwright): each demo role logs
in through the form and lands on its own workbench; a phone; large type; English.

Screenshots go to the `screenshot_dir` printed at the end of the run."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD, ROLE_NAMES_ZH
from yiwang.core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def font_size(page, selector: str = "body") -> float:
    return float(
        page.eval_on_selector(selector, "node => getComputedStyle(node).fontSize").removesuffix("px")
    )


@pytest.mark.parametrize("role", list(Role.values))
def test_each_role_logs_in_and_lands_on_its_workbench(page, live_server, make_user, screenshot_dir, role):
    user = make_user(role)
    log_in(page, live_server, user)
    assert page.url == f"{live_server.url}/workbench/{role}/"
    heading = page.locator("#workbench-title")
    assert heading.inner_text() == f"{ROLE_NAMES_ZH[role]}工作台"
    assert heading.is_visible()
    assert page.get_by_text("您的工作范围").is_visible()
    assert page.locator(".section-tile").count() >= 3
    page.screenshot(path=str(screenshot_dir / f"workbench-{role}.png"), full_page=True)


def test_phone_layout(page_factory, live_server, make_user, city, screenshot_dir):
    page = page_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(f"{live_server.url}/")
    page.screenshot(path=str(screenshot_dir / "phone-home.png"), full_page=True)
    assert _no_horizontal_scroll(page)

    log_in(page, live_server, make_user(Role.WINDOW_CLERK))
    assert page.locator("#workbench-title").inner_text() == "窗口工作人员工作台"
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "phone-workbench.png"), full_page=True)

    page.goto(f"{live_server.url}/city/persons/")
    assert page.get_by_text("李明").is_visible()
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "phone-persons.png"), full_page=True)

    page.goto(f"{live_server.url}/city/divisions/")
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "phone-divisions.png"), full_page=True)

    page.goto(f"{live_server.url}/city/persons/{city.person.pk}/")
    page.locator("#large-type-toggle").click()
    page.wait_for_load_state()
    assert page.locator("html.large-type").count() == 1
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(screenshot_dir / "phone-large-type-person.png"), full_page=True)


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_large_type_switch_makes_the_text_bigger(page, live_server, make_user, screenshot_dir):
    log_in(page, live_server, make_user(Role.HOTLINE_OPERATOR))
    body_before = font_size(page)
    heading_before = font_size(page, "#workbench-title")
    toggle = page.locator("#large-type-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/workbench/hotline_operator/"
    assert page.locator("#large-type-toggle").get_attribute("aria-pressed") == "true"
    assert font_size(page) > body_before * 1.2
    assert font_size(page, "#workbench-title") > heading_before * 1.2
    page.screenshot(path=str(screenshot_dir / "large-type-workbench.png"), full_page=True)

    page.goto(f"{live_server.url}/")  # the choice is kept from page to page
    assert font_size(page) > body_before * 1.2
    page.locator("#large-type-toggle").click()
    page.wait_for_load_state()
    assert font_size(page) == body_before


def test_chinese_home_then_english_through_the_switcher(page, live_server, make_user, screenshot_dir):
    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", name="一网 · 萍乡市数字政府").is_visible()
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name=re.compile("Yiwang · 萍乡市 Digital Government")).is_visible()
    assert page.get_by_text("Counties and districts").is_visible()
    page.screenshot(path=str(screenshot_dir / "english-home.png"), full_page=True)

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(make_user(Role.DISPATCHER).username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.locator("#workbench-title").inner_text() == "Dispatcher workbench"
    page.screenshot(path=str(screenshot_dir / "english-workbench-dispatcher.png"), full_page=True)


def test_staff_pages_look_right(page, live_server, make_user, screenshot_dir):
    """Screenshots of the city pages for a person to look at; masked for a data steward."""
    log_in(page, live_server, make_user(Role.DATA_STEWARD))
    for name in ["divisions", "departments", "persons", "households", "enterprises", "properties"]:
        page.goto(f"{live_server.url}/city/{name}/")
        assert page.locator("h1").is_visible()
        page.screenshot(path=str(screenshot_dir / f"city-{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/city/persons/")
    page.get_by_role("link", name="李明").click()
    page.wait_for_load_state()
    assert page.locator("#person-id-number").inner_text() == "3603**********1234"
    page.screenshot(path=str(screenshot_dir / "city-person-detail.png"), full_page=True)


def test_keyboard_reaches_the_skip_link_first(page, live_server, db):
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()


def test_window_clerk_registers_a_person_and_sees_field_errors(
    page, live_server, make_user, city, screenshot_dir
):
    import datetime

    from yiwang.core.ids import resident_id_build
    from yiwang.registry.models import Person

    log_in(page, live_server, make_user(Role.WINDOW_CLERK))
    page.goto(f"{live_server.url}/city/persons/")
    page.get_by_role("link", name="人口登记").click()
    number = resident_id_build("360302", datetime.date(1979, 8, 15), 3, "M")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    page.get_by_label("身份证号").fill(wrong)
    page.get_by_label("姓名").fill("周建华")
    village = page.locator("#id_division option").nth(1).get_attribute("value")
    page.locator("#id_division").select_option(village)
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_load_state()
    error = page.locator("#id_number-errors")
    assert error.is_visible()
    assert "校验" in error.inner_text()
    page.screenshot(path=str(screenshot_dir / "person-register-error.png"), full_page=True)
    assert not Person.objects.filter(name="周建华").exists()

    page.get_by_label("身份证号").fill(number)
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="周建华").is_visible()
    assert page.get_by_text("周建华 已登记。").is_visible()
    assert Person.objects.get(name="周建华").birth_date == datetime.date(1979, 8, 15)
