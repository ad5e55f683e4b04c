"""A parent registers a child on a phone in a real browser (Debian Chromium): a wrong ID
number is named beside the field; the right one fetches 户籍 and property through the
exchange and shows the class with the rules' explanation; the parent ranks schools; after the
bureau's allocation the parent sees the placement and the reason."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import PASSWORD
from yiwang.enrollment import services
from yiwang.enrollment.models import Registration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_parent_registers_on_a_phone_and_sees_the_placement(
    page_factory, live_server, town, screenshot_dir
):
    today = timezone.localdate()
    season = town.season
    season.registration_opens, season.registration_closes = (
        today - datetime.timedelta(days=1),
        today + datetime.timedelta(days=30),
    )
    season.save()
    family = town.families[2]
    base = live_server.url
    page = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    page.set_default_timeout(
        60_000
    )  # each registration reads the exchange a dozen times; the machine is shared
    page.goto(f"{base}/login/?next=/enrollment/register/")
    page.get_by_label("用户名").fill(family.user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/enrollment/register/")

    page.get_by_label("孩子的身份证号").fill("360302202103150000")
    page.get_by_role("button", name="获取信息并报名").click()
    page.wait_for_load_state()
    assert page.locator("#child_id_number-errors").inner_text().strip()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "enrollment-register-error-phone.png"), full_page=True)

    page.get_by_label("孩子的身份证号").fill(family.child.id_number)
    page.get_by_role("button", name="获取信息并报名").click()
    page.wait_for_url(f"{base}/enrollment/registrations/*/")
    registration = Registration.objects.get()
    assert "第二类" in page.locator("[data-role=class]").inner_text()
    # the rule that decided it, with each condition and its basis, and why not class 1
    assert page.locator('#priority-class tr[data-condition="property"][data-passed="true"]').count() >= 1
    assert page.locator("details.better-class").count() == 1
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "enrollment-registered-phone.png"), full_page=True)

    page.get_by_label("第 1 志愿").select_option("PR")
    page.get_by_label("第 2 志愿").select_option("P1")
    page.get_by_role("button", name="保存志愿").click()
    page.wait_for_load_state()
    assert "志愿已保存" in page.content()
    assert [c.school.code for c in registration.choices.all()] == ["PR", "P1"]

    services.registration_submit(
        season=season, child_id_number=town.families[1].child.id_number, actor=town.families[1].user
    )
    services.choices_set(
        registration=Registration.objects.get(child=town.families[1].child),
        school_codes=["PR"],
        actor=town.families[1].user,
    )
    services.allocation_run(season=season, actor=town.bureau)
    page.reload()
    placed = page.locator("#placement [data-role=school]").inner_text()
    reason = page.locator("#placement [data-role=reason]").inner_text()
    assert placed in ("测试民办小学", "测试第一小学")
    assert "志愿" in reason
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "enrollment-placement-phone.png"), full_page=True)
