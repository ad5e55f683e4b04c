"""The 12345 closed loop clicked through by its users in a real browser (Debian Chromium):
a citizen files on a phone, the dispatcher dispatches, the department accepts and replies,
the citizen is not satisfied, the supervisor sees it, the department replies again and the
operator records 满意 on the call-back; and the operator's merge offer on a repeated call."""

from __future__ import annotations

import pytest

from tests.hotline.conftest import PASSWORD, request
from yiwang.hotline import cases as states
from yiwang.hotline.models import Rating, Ticket
from yiwang.hotline.services import ticket_intake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _login(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_path}")


def _fits(page) -> bool:
    """Nothing wider than the phone's screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_closed_loop_in_the_browser(page_factory, live_server, hotline, screenshot_dir):
    base = live_server.url

    # A citizen files on a phone; the first try has mistakes, shown beside each field in Chinese.
    citizen = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    _login(citizen, base, hotline.citizen, "/hotline/new/")
    citizen.get_by_label("投诉").check()
    citizen.get_by_label("联系电话").fill("12345")
    citizen.get_by_label("地址").fill("火星基地")
    citizen.get_by_role("button", name="提交诉求").click()
    citizen.wait_for_load_state()
    assert "请填写诉求内容" in citizen.locator("#text-errors").inner_text()
    assert "“12345”不是有效的中国大陆电话号码" in citizen.locator("#caller_phone-errors").inner_text()
    assert "火星基地" in citizen.locator("#address-errors").inner_text()
    assert citizen.get_by_label("投诉").is_checked()  # what was typed is kept
    assert _fits(citizen)
    citizen.screenshot(path=str(screenshot_dir / "hotline-file-errors-phone.png"), full_page=True)
    assert Ticket.objects.count() == 0

    data = request()
    citizen.get_by_label("诉求内容").fill(data["text"])
    citizen.get_by_label("联系电话").fill(data["caller_phone"])
    citizen.get_by_label("称呼").fill(data["caller_name"])
    citizen.get_by_label("地址").fill(data["address"])
    citizen.get_by_role("button", name="提交诉求").click()
    citizen.wait_for_load_state()
    ticket = Ticket.objects.get()
    reference = ticket.case.reference
    assert citizen.locator("#ticket-reference").inner_text() == reference
    assert str(ticket.token) in citizen.locator("#follow-link").inner_text()
    assert citizen.locator("#ticket-state").inner_text() == "待派单"  # no routing model yet
    assert _fits(citizen)
    citizen.screenshot(path=str(screenshot_dir / "hotline-filed-phone.png"), full_page=True)

    # The dispatcher sees why it waits and dispatches it to the town government.
    dispatcher = page_factory()
    _login(dispatcher, base, hotline.dispatcher, "/hotline/dispatch/")
    card = dispatcher.locator(f'[data-reference="{reference}"]')
    assert "没有分拨模型" in card.inner_text()
    card.get_by_label("部门", exact=True).select_option(str(hotline.town_office.pk))
    dispatcher.screenshot(path=str(screenshot_dir / "hotline-dispatch-queue.png"), full_page=True)
    card.get_by_role("button", name="派单").click()
    dispatcher.wait_for_load_state()
    assert "已派单" in dispatcher.locator(".messages").inner_text()
    assert dispatcher.locator(f'[data-reference="{reference}"]').count() == 0

    # The town's handler finds it in the case queue, accepts and replies.
    handler = page_factory()
    _login(handler, base, hotline.handler, "/cases/")
    handler.get_by_role("link", name=reference).click()
    handler.wait_for_load_state()
    assert handler.locator("#ticket-state").inner_text() == "待签收"
    assert handler.locator("#ticket-phone").inner_text() == "13807991234"  # the handler calls the citizen
    handler.screenshot(path=str(screenshot_dir / "hotline-ticket-assigned.png"), full_page=True)
    handler.locator("#action-accept").get_by_role("button", name="签收").click()
    handler.wait_for_load_state()
    assert handler.locator("#ticket-state").inner_text() == "办理中"
    handler.get_by_label("答复群众").fill("已安排电工更换路灯。")
    handler.get_by_role("button", name="提交答复").click()
    handler.wait_for_load_state()
    assert handler.locator("#ticket-state").inner_text() == "已答复，待回访"
    handler.screenshot(path=str(screenshot_dir / "hotline-ticket-replied.png"), full_page=True)

    # The citizen is not satisfied: the reason is required, then the ticket is reopened.
    citizen.goto(f"{base}/hotline/mine/")
    row = citizen.locator(f'[data-reference="{reference}"]')
    assert "已答复，待回访" in row.inner_text()
    citizen.screenshot(path=str(screenshot_dir / "hotline-mine-phone.png"), full_page=True)
    row.get_by_role("link", name=reference).click()
    citizen.wait_for_load_state()
    assert "已安排电工更换路灯。" in citizen.locator("#ticket-reply").inner_text()
    citizen.get_by_label("不满意").check()
    citizen.get_by_role("button", name="提交评价").click()
    citizen.wait_for_load_state()
    assert "请说明还有什么问题" in citizen.locator("#note-errors").inner_text()
    citizen.get_by_label("不满意").check()
    citizen.get_by_label("还有什么问题没有解决？").fill("路灯还是不亮")
    assert _fits(citizen)
    citizen.screenshot(path=str(screenshot_dir / "hotline-rate-phone.png"), full_page=True)
    citizen.get_by_role("button", name="提交评价").click()
    citizen.wait_for_load_state()
    assert citizen.locator("#ticket-state").inner_text() == "督办中"

    # The supervisor sees it under supervision, with what the citizen said.
    supervisor = page_factory()
    _login(supervisor, base, hotline.supervisor, "/hotline/supervision/")
    row = supervisor.locator(f'[data-reference="{reference}"]')
    assert "群众不满意" in row.inner_text() and "路灯还是不亮" in row.inner_text()
    supervisor.screenshot(path=str(screenshot_dir / "hotline-supervision.png"), full_page=True)
    row.get_by_role("link", name=reference).click()
    supervisor.wait_for_load_state()
    assert supervisor.locator("#ticket-phone").inner_text() == "138****1234"  # not needed to supervise
    assert supervisor.locator("#action-close-unresolved").is_visible()
    supervisor.screenshot(path=str(screenshot_dir / "hotline-ticket-supervised.png"), full_page=True)

    # The handler replies again; the operator calls back and records 满意.
    handler.reload()
    handler.get_by_label("答复群众").fill("已更换灯具并检修线路，现已恢复照明。")
    handler.get_by_role("button", name="提交答复").click()
    handler.wait_for_load_state()
    assert handler.locator("#ticket-state").inner_text() == "已答复，待回访"

    operator = page_factory()
    _login(operator, base, hotline.operator, "/hotline/callbacks/")
    card = operator.locator(f'[data-reference="{reference}"]')
    assert "13807991234" in card.inner_text()
    card.get_by_label("满意", exact=True).check()
    operator.screenshot(path=str(screenshot_dir / "hotline-callbacks.png"), full_page=True)
    card.get_by_role("button", name="记录评价").click()
    operator.wait_for_load_state()
    assert "评价已记录" in operator.locator(".messages").inner_text()
    ticket.refresh_from_db()
    ticket.case.refresh_from_db()
    assert ticket.case.state == states.CLOSED and ticket.rating == Rating.SATISFIED
    assert ticket.reopen_count == 1

    # A repeated call about an open ticket at the same place is offered for merging.
    first = ticket_intake(data=request(caller_phone="13907991111"), channel="web", actor=hotline.citizen)
    operator.goto(f"{base}/hotline/console/")
    operator.get_by_label("来电内容").fill(
        "丹江街道建设社区小区门口路灯坏了一个多月了，晚上出行很不方便，希望尽快维修。"
    )
    operator.get_by_label("来电号码").fill("13907990000")
    operator.get_by_label("来电人所述地址").fill("安源区丹江街道建设社区")
    operator.get_by_role("button", name="登记工单").click()
    operator.wait_for_load_state()
    similar = operator.locator("#similar-tickets")
    assert first.case.reference in similar.inner_text()
    operator.screenshot(path=str(screenshot_dir / "hotline-console-merge.png"), full_page=True)
    similar.get_by_role("button", name=f"合并到 {first.case.reference}").click()
    operator.wait_for_load_state()
    assert operator.locator("#last-state").inner_text() == "已合并"
    second = Ticket.objects.exclude(pk__in=[ticket.pk, first.pk]).get()
    assert second.duplicate_of_id == first.pk
