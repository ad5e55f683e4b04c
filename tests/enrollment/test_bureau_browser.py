"""The education bureau edits the season in a real browser (Debian Chromium, zh-CN): dates out
of order are named beside their field and nothing changes; the corrected form saves the key
dates and the tie-break order; after an allocation the published seed is refused unless the
bureau asks for a new draw; seats lowered below the children placed are refused naming the
school and the numbers."""

from __future__ import annotations

import datetime

import pytest

from tests.enrollment.conftest import OPEN_DAY, register
from tests.factories import PASSWORD
from yiwang.enrollment import services
from yiwang.enrollment.models import AllocationRun, Season

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bureau_edits_the_season_and_seats_in_the_browser(
    page_factory, live_server, town, screenshot_dir
):
    base = live_server.url
    page = page_factory()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/login/?next=/enrollment/bureau/")
    page.get_by_label("用户名").fill(town.bureau.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/enrollment/bureau/")

    page.get_by_text("修改招生季设置").click()
    page.get_by_label("结果公布").fill("2027-06-01")  # before the allocation
    page.get_by_role("button", name="保存招生季设置").click()
    page.wait_for_load_state()
    assert "结果应在学位分配之后公布" in page.locator("#results_on-errors").inner_text()
    page.locator("#season").screenshot(path=str(screenshot_dir / "enrollment-season-refused.png"))
    assert Season.objects.get(pk=town.season.pk).results_on == datetime.date(2027, 6, 30)

    page.get_by_label("结果公布").fill("2027-07-02")
    page.get_by_label("报名截止").fill("2027-06-05")
    page.locator("#tie_break_0").select_option("distance")
    page.locator("#tie_break_1").select_option("property_date")
    page.get_by_role("button", name="保存招生季设置").click()
    page.wait_for_load_state()
    assert "招生季设置已保存" in page.content()
    season = Season.objects.get(pk=town.season.pk)
    assert season.results_on == datetime.date(2027, 7, 2)
    assert season.registration_closes == datetime.date(2027, 6, 5)
    assert season.tie_breaks == ["distance", "property_date"]
    assert "距离" in page.locator("#season dl").inner_text()

    # After an allocation the published seed cannot change without a new draw.
    for number, codes in {1: ["P1"], 2: ["P1"], 3: ["P2"], 4: ["P2"]}.items():
        registration = register(town, number)
        services.choices_set(
            registration=registration, school_codes=codes, actor=town.families[number].user, now=OPEN_DAY
        )
    services.allocation_run(season=season, actor=town.bureau)
    page.reload()
    page.get_by_text("修改招生季设置").click()
    page.get_by_label("派位种子").fill("换一个种子")
    page.get_by_role("button", name="保存招生季设置").click()
    page.wait_for_load_state()
    assert "已公布" in page.locator("#lottery_seed-errors").inner_text()
    page.locator("#season").screenshot(path=str(screenshot_dir / "enrollment-season-seed-frozen.png"))
    page.get_by_label("用新种子重新派位").check()
    page.get_by_role("button", name="保存招生季设置").click()
    page.wait_for_load_state()
    assert "招生季设置已保存" in page.content()
    assert AllocationRun.objects.get(in_force=True).lottery_seed == "换一个种子"

    # Seats below the children placed: refused naming the school and the numbers.
    page.locator("#seats-P2-primary").fill("1")
    page.locator("#school-P2").get_by_role("button").click()
    page.wait_for_load_state()
    message = page.locator("#seats-P2-primary-errors").inner_text()
    assert "测试第二小学" in message and "3 名儿童" in message
    page.locator("#school-P2").screenshot(path=str(screenshot_dir / "enrollment-seats-refused.png"))
