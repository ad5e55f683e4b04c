"""The hotline's pages through the test client: each role's page, field errors beside the
fields, actions through the same services as the API, masking and who is refused."""

from __future__ import annotations

import pytest

from tests.hotline.conftest import PASSWORD, request
from yiwang.core.models import AuditEntry
from yiwang.hotline import cases as states
from yiwang.hotline.models import Rating, Ticket
from yiwang.hotline.services import ticket_dispatch, ticket_intake, ticket_move

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _filed(hotline, **overrides) -> Ticket:
    return ticket_intake(
        data=request(**overrides), channel="web", actor=hotline.citizen, citizen=hotline.citizen
    )


def _replied(hotline) -> Ticket:
    ticket = _filed(hotline)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    return ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="已修好")


def test_anonymous_citizen_files_and_follows_by_the_token_link(client, hotline):
    response = client.get("/hotline/new/")
    assert response.status_code == 200
    assert "12345" in response.content.decode()
    response = client.post("/hotline/new/", request())
    ticket = Ticket.objects.get()
    assert ticket.citizen is None and ticket.channel == "web"
    assert response.status_code == 302
    assert response["Location"] == f"/hotline/follow/{ticket.token}/?filed=1"
    page = client.get(response["Location"]).content.decode()
    assert ticket.case.reference in page
    assert "138****1234" in page  # the token holder sees the number masked
    assert "13807991234" not in page


def test_bad_request_shows_each_error_beside_its_field_in_chinese(client, hotline):
    response = client.post(
        "/hotline/new/", {"kind": "complaint", "text": "", "caller_phone": "12345", "address": "火星基地"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"text", "caller_phone", "address"}
    page = response.content.decode()
    assert 'id="caller_phone-errors"' in page
    assert "“12345”不是有效的" in form.errors["caller_phone"][0]
    assert Ticket.objects.count() == 0


def test_logged_in_citizen_sees_my_tickets_and_rates_the_reply(client, hotline):
    ticket = _replied(hotline)
    _login(client, hotline.citizen)
    page = client.get("/hotline/mine/").content.decode()
    assert ticket.case.reference in page and "已答复" in page
    follow = f"/hotline/follow/{ticket.token}/"
    assert 'id="rate-form"' in client.get(follow).content.decode()
    response = client.post(f"{follow}rate/", {"rating": Rating.UNSATISFIED, "note": ""})
    assert response.status_code == 422
    assert "note" in response.context["rate_form"].errors
    response = client.post(f"{follow}rate/", {"rating": Rating.UNSATISFIED, "note": "路灯还是不亮"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.case.state == states.SUPERVISED and ticket.rating == Rating.UNSATISFIED


def test_another_citizen_cannot_rate(client, hotline):
    ticket = _replied(hotline)
    other = type(hotline.citizen).objects.create_user(username="other", password=PASSWORD)
    _login(client, other)
    assert 'id="rate-form"' not in client.get(f"/hotline/follow/{ticket.token}/").content.decode()
    client.post(f"/hotline/follow/{ticket.token}/rate/", {"rating": Rating.SATISFIED})
    ticket.refresh_from_db()
    assert ticket.case.state == states.REPLIED


def test_operator_console_registers_a_call_and_shows_the_suggestion(client, hotline):
    _login(client, hotline.operator)
    response = client.post("/hotline/console/", request(kind="consultation"))
    ticket = Ticket.objects.get()
    assert ticket.channel == "phone"
    assert response["Location"] == f"/hotline/console/?ticket={ticket.pk}"
    page = client.get(response["Location"]).content.decode()
    assert 'id="routing-suggestion"' in page and 'id="answer-card"' in page
    assert 'id="caller-history"' not in page  # the first call from this number
    response = client.post(
        f"/hotline/tickets/{ticket.pk}/act/",
        {"action": "answer", "note": "可到社区服务中心办理。", "expected_version": ticket.case.version},
    )
    ticket.refresh_from_db()
    assert ticket.case.state == states.REPLIED
    page = client.get("/hotline/callbacks/").content.decode()
    assert ticket.case.reference in page and "13807991234" in page  # the operator calls back
    assert AuditEntry.objects.filter(
        action="personal_data.read_unmasked", purpose="hotline: satisfaction call-back"
    ).exists()
    client.post("/hotline/console/", request(text="小区门口的路灯又坏了，还是没人来修。"))
    page = client.get(f"/hotline/console/?ticket={Ticket.objects.latest('received_at').pk}").content.decode()
    assert 'id="caller-history"' in page and ticket.case.reference in page


def test_dispatcher_queue_shows_why_and_dispatches(client, hotline):
    ticket = _filed(hotline)
    _login(client, hotline.dispatcher)
    page = client.get("/hotline/dispatch/").content.decode()
    assert ticket.case.reference in page and "没有分拨模型" in page
    client.post(
        f"/hotline/tickets/{ticket.pk}/act/",
        {
            "action": "dispatch",
            "department": hotline.labour_branch.pk,
            "expected_version": ticket.case.version,
            "next": "/hotline/dispatch/",
        },
    )
    ticket.refresh_from_db()
    assert ticket.case.state == states.ASSIGNED
    _login(client, hotline.labour_handler)
    client.post(
        f"/hotline/tickets/{ticket.pk}/act/",
        {"action": "return", "note": "路灯不归人社管", "expected_version": ticket.case.version},
    )
    _login(client, hotline.dispatcher)
    page = client.get("/hotline/dispatch/").content.decode()
    assert "路灯不归人社管" in page and "部门退回" in page


def test_ticket_page_masks_the_phone_for_a_supervisor_and_shows_it_to_the_handler(client, hotline):
    ticket = _filed(hotline)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    _login(client, hotline.supervisor)
    page = client.get(f"/hotline/tickets/{ticket.pk}/").content.decode()
    assert "138****1234" in page and 'id="action-press"' in page
    _login(client, hotline.handler)
    page = client.get(f"/hotline/tickets/{ticket.pk}/").content.decode()
    assert "13807991234" in page and 'id="action-accept"' in page and 'id="action-cohandle"' in page
    assert AuditEntry.objects.filter(
        action="personal_data.read_unmasked", object_id=str(ticket.pk), actor_id=hotline.handler.pk
    ).exists()
    # the handler reaches it from the cases queue
    assert f"/hotline/tickets/{ticket.pk}/" in client.get("/cases/").content.decode()


def test_outsiders_are_refused(client, hotline):
    ticket = _filed(hotline)
    _login(client, hotline.outsider)
    assert client.get(f"/hotline/tickets/{ticket.pk}/").status_code == 404
    assert client.post(f"/hotline/tickets/{ticket.pk}/act/", {"action": "accept"}).status_code == 404
    assert client.get("/hotline/dispatch/").status_code == 403
    _login(client, hotline.citizen)
    assert client.get(f"/hotline/tickets/{ticket.pk}/").status_code == 403
    assert client.get("/hotline/console/").status_code == 403


def test_supervisor_lists_and_workbench_tiles(client, hotline):
    ticket = _filed(hotline)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket_move(ticket=ticket, transition="press", actor=hotline.supervisor, note="请今日答复")
    _login(client, hotline.supervisor)
    assert ticket.case.reference in client.get("/hotline/supervision/").content.decode()
    assert client.get("/hotline/unresolved/").status_code == 200
    assert client.get("/hotline/overdue/").status_code == 200
    page = client.get("/workbench/supervisor/").content.decode()
    assert "/hotline/supervision/" in page and "/hotline/unresolved/" in page


def test_operator_finds_a_ticket_by_number_phone_or_words(client, hotline):
    ticket = _filed(hotline)
    other = _filed(
        hotline, text="芦溪县南坑镇滨河路的垃圾三天没人清运，气味很大。", address="芦溪县南坑镇滨河路"
    )
    _login(client, hotline.operator)
    assert client.get("/hotline/search/").status_code == 200
    for query in (ticket.case.reference, ticket.case.reference[-6:], "13807991234", "路灯"):
        response = client.get("/hotline/search/", {"q": query})
        references = [row["ticket"].case.reference for row in response.context["rows"]]
        assert ticket.case.reference in references, query
        if query != "13807991234":
            assert other.case.reference not in references, query


def test_closed_but_not_resolved_list_shows_the_supervisors_reason(client, hotline):
    ticket = _filed(hotline)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="press", actor=hotline.supervisor, note="请今日答复")
    _login(client, hotline.supervisor)
    client.post(
        f"/hotline/tickets/{ticket.pk}/act/",
        {
            "action": "close_unresolved",
            "note": "线路改造需列入明年计划",
            "expected_version": ticket.case.version,
        },
    )
    ticket.refresh_from_db()
    assert ticket.case.state == states.CLOSED_UNRESOLVED
    page = client.get("/hotline/unresolved/").content.decode()
    assert ticket.case.reference in page and "线路改造需列入明年计划" in page


def test_a_stale_page_shows_the_conflict_and_changes_nothing(client, hotline):
    ticket = _filed(hotline)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    stale = ticket.case.version
    ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    _login(client, hotline.handler)
    response = client.post(
        f"/hotline/tickets/{ticket.pk}/act/",
        {"action": "return", "note": "不归我们管", "expected_version": stale},
        follow=True,
    )
    assert "已被他人处理" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.case.state == states.HANDLING


def test_below_the_threshold_the_queue_preselects_the_suggestion(client, hotline, trained, settings):
    settings.HOTLINE_AUTO_THRESHOLD = 1.01
    ticket = _filed(hotline)
    assert ticket.suggested_department == hotline.town_office
    _login(client, hotline.dispatcher)
    page = client.get("/hotline/dispatch/").content.decode()
    assert "置信度低于自动派单阈值（101%）" in page and "城乡建设" in page
    assert f'<option value="{hotline.town_office.pk}" selected>' in page


def test_the_dispatcher_sees_overdue_tickets_without_the_supervisors_tabs(client, hotline):
    _login(client, hotline.dispatcher)
    response = client.get("/hotline/overdue/")
    assert response.status_code == 200
    assert "/hotline/unresolved/" not in response.content.decode()
    assert client.get("/hotline/unresolved/").status_code == 403


def test_the_supervisor_is_told_on_the_supervision_page_when_a_citizen_is_not_satisfied(client, hotline):
    from yiwang.hotline.services import ticket_rate

    ticket = _replied(hotline)
    ticket_rate(ticket=ticket, actor=hotline.citizen, rating=Rating.UNSATISFIED, note="路灯还是不亮")
    _login(client, hotline.supervisor)
    page = client.get("/hotline/supervision/").content.decode()
    assert 'id="ticket-notices"' in page
    assert f'href="/hotline/tickets/{ticket.pk}/">群众对 {ticket.case.reference} 的答复不满意' in page


def test_a_merged_ticket_tells_its_citizen_which_ticket_answers_it(client, hotline):
    from yiwang.hotline.services import ticket_merge

    first = _filed(hotline)
    second = _filed(hotline, caller_phone="13907990000")
    ticket_merge(ticket=second, into=first, actor=hotline.operator)
    page = client.get(f"/hotline/follow/{second.token}/").content.decode()
    assert f"同一事项已有工单 {first.case.reference}" in page and "已合并" in page


@pytest.mark.parametrize(
    ("person", "role", "links"),
    [
        ("citizen", "citizen", ["/hotline/new/", "/hotline/mine/"]),
        ("operator", "hotline_operator", ["/hotline/console/", "/hotline/callbacks/", "/hotline/search/"]),
        ("dispatcher", "dispatcher", ["/hotline/dispatch/", "/hotline/overdue/"]),
        ("handler", "department_handler", ["/hotline/handling/"]),
    ],
)
def test_each_role_finds_its_hotline_pages_on_its_workbench(client, hotline, person, role, links):
    _login(client, getattr(hotline, person))
    page = client.get(f"/workbench/{role}/").content.decode()
    for link in links:
        assert f'href="{link}"' in page, link
        assert client.get(link).status_code == 200, link


def test_unsatisfied_with_the_centres_answer_waits_for_dispatch_with_the_citizens_words(client, hotline):
    from yiwang.hotline.services import ticket_rate

    ticket = _filed(hotline, kind="consultation")
    ticket = ticket_move(ticket=ticket, transition="answer", actor=hotline.operator, note="请到社区办理。")
    ticket = ticket_rate(
        ticket=ticket, actor=hotline.citizen, rating=Rating.UNSATISFIED, note="社区说不归他们管"
    )
    assert ticket.case.state == states.DISPATCHING
    _login(client, hotline.dispatcher)
    page = client.get("/hotline/dispatch/").content.decode()
    assert "群众对热线中心的直接答复不满意" in page and "社区说不归他们管" in page
