"""The relapse loop clicked through in a real browser (Debian Chromium): a household applies on
a phone; a department's screening flags another; the town cadre verifies the warning in the
browser, the household becomes monitored and gets a measure the rules suggested; the city
leader's dashboard shows it with masked addresses."""

from __future__ import annotations

import datetime

import pytest

from tests.relapse.conftest import PASSWORD, claim, members_of, push
from yiwang.registry.models import Person
from yiwang.relapse import services
from yiwang.relapse.models import Measure, MonitoredHousehold, Warning

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _login(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_path}")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_town_cadre_verifies_a_warning_and_records_a_measure(
    page_factory, live_server, city, screenshot_dir
):
    base = live_server.url
    # A household applies for itself on a phone.
    own = city.household(members=2)
    Person.objects.filter(id_number=members_of(own)[0]).update(user=city.citizen)
    phone = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    _login(phone, base, city.citizen, "/relapse/report/")
    phone.get_by_role("button", name="提交申请").click()
    assert "至少5个字" in phone.locator("#description-errors").inner_text()
    phone.get_by_label("因病").check()
    phone.get_by_label("家庭困难情况").fill("丈夫突发脑梗住院，花费较大，家里没有收入了")
    phone.get_by_label("联系电话").fill("13807990001")
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_url(f"{base}/relapse/report/?sent=1")
    assert phone.locator("#report-sent").is_visible()
    assert _fits(phone)
    phone.screenshot(path=str(screenshot_dir / "relapse-apply-phone.png"), full_page=True)
    applied = Warning.objects.get(household=own)
    assert applied.source == "self_report" and applied.risk_types == ["illness"]

    # 医保's screening flags another household of the same town.
    household = city.household(members=3)
    push(
        "yb.self_pay_claims",
        [
            claim(
                "W1",
                members_of(household)[1],
                "21000.00",
                datetime.date.today() - datetime.timedelta(days=20),
            )
        ],
    )
    services.screen(rule_code="relapse.medical", on=datetime.date.today())
    warning = Warning.objects.get(household=household)

    cadre = page_factory()
    _login(cadre, base, city.cadre, "/relapse/warnings/")
    assert cadre.locator("#warning-list").get_by_text(household.number).is_visible()
    cadre.get_by_role("link", name=warning.case.reference).click()
    cadre.wait_for_url(f"{base}/relapse/warnings/{warning.pk}/")
    assert "21,000.00 元\t≥ 15,000.00 元" in cadre.locator("#findings").inner_text()
    cadre.get_by_role("button", name="确认纳入监测").click()  # no note yet
    assert "请说明核实情况" in cadre.locator("#note-errors").inner_text()
    cadre.locator("#verify-note").fill("入户核实：户主患尿毒症长期透析，家庭收入骤减")
    cadre.screenshot(path=str(screenshot_dir / "relapse-verify.png"), full_page=True)
    cadre.get_by_role("button", name="确认纳入监测").click()
    monitored = MonitoredHousehold.objects.get(household=household)
    cadre.wait_for_url(f"{base}/relapse/monitored/{monitored.pk}/")
    assert cadre.locator("#members tbody tr").count() == 3
    assert "医疗救助" in cadre.locator("#suggestions").inner_text()

    cadre.locator("#measure-kind").select_option("medical")
    cadre.locator("#measure-description").fill("大病医疗救助")
    cadre.locator("#measure-date").fill(datetime.date.today().isoformat())
    cadre.locator("#measure-amount").fill("6800.5")
    cadre.get_by_role("button", name="记录帮扶措施").click()
    cadre.wait_for_load_state()
    assert "6,800.50" in cadre.locator("#measure-list").inner_text()
    cadre.screenshot(path=str(screenshot_dir / "relapse-monitored.png"), full_page=True)
    measure = Measure.objects.get(monitored=monitored)
    assert (measure.kind, measure.amount_fen) == ("medical", 680050)

    leader = page_factory()
    _login(leader, base, city.leader, "/relapse/")
    assert leader.locator("#fig-monitored .figure-value").inner_text() == "1"
    assert leader.locator("#fig-people .figure-value").inner_text() == "3"
    assert leader.locator("svg.bar-chart").count() >= 3
    leader.screenshot(path=str(screenshot_dir / "relapse-dashboard.png"), full_page=True)
    leader.goto(f"{base}/relapse/monitored/{monitored.pk}/")
    assert "****" in leader.locator("#members").inner_text()  # ID numbers masked for a leader
