"""The 12345 closed loop on the cases engine: intake → routing → department handling →
satisfaction check → supervision, with bad input, returns, reopening, escalation over a
holiday, duplicates and concurrent handlers."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from tests.hotline.conftest import at, request
from yiwang.cases.models import CaseEvent, Notification
from yiwang.cases.services import case_sla_sweep
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.models import AuditEntry, Department, Role
from yiwang.core.places import division_from_address
from yiwang.hotline import cases as states
from yiwang.hotline.models import Channel, KindLimit, Rating, Ticket, TicketKind
from yiwang.hotline.selectors import dispatcher_queue, tickets_similar
from yiwang.hotline.services import (
    ticket_cohandle,
    ticket_dispatch,
    ticket_intake,
    ticket_merge,
    ticket_move,
    ticket_rate,
    ticket_return,
)


def _paths(error: FieldErrors) -> dict[str, str]:
    return {".".join(map(str, path)): message for path, message in error.errors}


# --- places ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_address_is_placed_in_its_town_or_village(hotline):
    assert division_from_address("芦溪县南坑镇滨河路12号").name == "南坑镇"
    assert division_from_address("安源区丹江街10号").name == "丹江街街道"  # 丹江街街道 written short
    village = hotline.town.children.first()
    assert division_from_address(f"安源区丹江街道{village.name}3栋") == village
    assert division_from_address("北京市朝阳区建国路") is None
    assert division_from_address("") is None


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_requests_are_refused_naming_each_field_and_nothing_is_written(hotline):
    with pytest.raises(FieldErrors) as caught:
        ticket_intake(
            data={"kind": "gossip", "text": "", "caller_phone": "12345", "address": "火星基地"},
            channel="web",
            actor=hotline.citizen,
        )
    paths = _paths(caught.value)
    assert set(paths) == {"kind", "text", "caller_phone", "address"}
    assert "12345" in paths["caller_phone"]
    assert "火星基地" in paths["address"]
    with pytest.raises(FieldErrors) as caught:
        ticket_intake(data=request(text="长" * 2001), channel="web", actor=hotline.citizen)
    assert "2001" in _paths(caught.value)["text"]
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_without_a_trained_model_every_ticket_waits_for_the_dispatcher(hotline):
    ticket = ticket_intake(data=request(), channel="phone", actor=hotline.operator)
    assert ticket.case.state == states.DISPATCHING
    assert ticket.case.department == hotline.centre
    assert ticket.suggested_category is None and not ticket.auto_dispatched
    assert list(dispatcher_queue()) == [ticket]


# --- routing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_confident_routing_dispatches_by_category_and_division(hotline, trained):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen, citizen=hotline.citizen)
    assert ticket.suggested_category.name == "城乡建设"
    assert ticket.auto_dispatched
    # 城乡建设 in a town goes to the town government (the town's rule beats the city default).
    assert ticket.case.state == states.ASSIGNED
    assert ticket.case.department == hotline.town_office
    assert ticket.dispatched_at is not None
    labour = ticket_intake(
        data=request(text="丹江街道一家餐馆拖欠员工三个月工资，老板不见人，劳动监察能不能管？"),
        channel="web",
        actor=hotline.citizen,
    )
    assert labour.suggested_category.name == "劳动和社会保障"
    assert labour.case.department == hotline.labour_branch  # the county's branch, not the city bureau


@pytest.mark.django_db
def test_below_the_threshold_the_suggestion_waits_in_the_dispatcher_queue(hotline, trained, settings):
    settings.HOTLINE_AUTO_THRESHOLD = 1.01
    ticket = ticket_intake(data=request(), channel="api", actor=hotline.operator)
    assert ticket.case.state == states.DISPATCHING
    assert ticket.suggested_category.name == "城乡建设"
    assert ticket.suggested_department == hotline.town_office
    assert 0 < ticket.confidence < 1
    assert not ticket.auto_dispatched


# --- the loop for each kind ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TicketKind.values)
def test_whole_loop_for_each_ticket_kind(hotline, kind):
    now = at(2026, 11, 23, 9)  # a Monday
    ticket = ticket_intake(
        data=request(kind=kind), channel="web", actor=hotline.citizen, citizen=hotline.citizen, now=now
    )
    limit = KindLimit.objects.get(kind=kind)
    expected_deadline = {
        1: at(2026, 11, 24, 17, 30),
        3: at(2026, 11, 26, 17, 30),
        5: at(2026, 11, 30, 17, 30),
    }
    if int(limit.amount) in expected_deadline:
        assert ticket.case.case_deadline == expected_deadline[int(limit.amount)]
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    assert ticket.case.state == states.ASSIGNED and ticket.case.department == hotline.town_office
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    assert ticket.accepted_at is not None
    ticket = ticket_move(
        ticket=ticket, transition="reply", actor=hotline.handler, note="已安排维修，三日内修复。"
    )
    assert ticket.case.state == states.REPLIED
    assert ticket.reply == "已安排维修，三日内修复。" and ticket.replied_at is not None
    ticket = ticket_rate(ticket=ticket, actor=hotline.citizen, rating=Rating.SATISFIED)
    assert ticket.case.state == states.CLOSED and ticket.case.closed_at is not None
    assert ticket.rating == Rating.SATISFIED
    transitions = list(
        CaseEvent.objects.filter(case=ticket.case, kind="transition").values_list("transition", flat=True)
    )
    assert transitions == ["dispatch", "accept", "reply", "rate_close"]
    assert AuditEntry.objects.filter(action="hotline.rate", object_id=str(ticket.pk)).exists()


@pytest.mark.django_db
def test_the_centre_answers_a_consultation_directly(hotline):
    ticket = ticket_intake(data=request(kind="consultation"), channel="phone", actor=hotline.operator)
    ticket = ticket_move(
        ticket=ticket, transition="answer", actor=hotline.operator, note="可到社区服务中心办理。"
    )
    assert ticket.case.state == states.REPLIED and ticket.reply == "可到社区服务中心办理。"
    ticket = ticket_rate(ticket=ticket, actor=hotline.operator, rating=Rating.BASICALLY_SATISFIED)
    assert ticket.case.state == states.CLOSED


@pytest.mark.django_db
def test_unsatisfied_with_the_centres_own_answer_goes_to_a_department(hotline):
    ticket = ticket_intake(data=request(kind="consultation"), channel="phone", actor=hotline.operator)
    ticket = ticket_move(ticket=ticket, transition="answer", actor=hotline.operator, note="请自行联系物业。")
    ticket = ticket_rate(ticket=ticket, actor=hotline.operator, rating=Rating.UNSATISFIED, note="物业不管")
    assert ticket.case.state == states.DISPATCHING and ticket.case.department == hotline.centre
    assert ticket in dispatcher_queue() and ticket.reopen_count == 1
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    ticket = ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="已协调物业修复。")
    ticket = ticket_rate(ticket=ticket, actor=hotline.operator, rating=Rating.SATISFIED)
    assert ticket.case.state == states.CLOSED and ticket.reply == "已协调物业修复。"


@pytest.mark.django_db
def test_a_department_returns_a_ticket_with_a_reason_and_the_dispatcher_reroutes_it(hotline):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.labour_branch)
    with pytest.raises(FieldErrors):
        ticket_return(ticket=ticket, actor=hotline.labour_handler, note="")
    with pytest.raises(NotFound):  # only the holding department sees it, and may return it
        ticket_return(ticket=ticket, actor=hotline.handler, note="不归我们管")
    ticket = ticket_return(ticket=ticket, actor=hotline.labour_handler, note="路灯维修不属于人社部门职责")
    assert ticket.case.state == states.DISPATCHING
    assert ticket.case.department == hotline.centre
    assert ticket in dispatcher_queue()
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    assert ticket.case.state == states.HANDLING
    notes = CaseEvent.objects.filter(case=ticket.case, transition="return").values_list("note", flat=True)
    assert list(notes) == ["路灯维修不属于人社部门职责"]


@pytest.mark.django_db
def test_co_handling_department_may_act_on_the_ticket(hotline):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    ticket_cohandle(ticket=ticket, actor=hotline.handler, department=hotline.labour_branch, note="涉及欠薪")
    assert ticket.case.participants.filter(department=hotline.labour_branch).exists()
    ticket = ticket_move(ticket=ticket, transition="reply", actor=hotline.labour_handler, note="联合处理完毕")
    assert ticket.case.state == states.REPLIED


@pytest.mark.django_db
def test_unsatisfied_reopens_under_supervision_and_closed_but_not_resolved_is_honest(hotline):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen, citizen=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    ticket = ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="已修好")
    with pytest.raises(Forbidden):  # another citizen cannot rate it
        ticket_rate(ticket=ticket, actor=hotline.outsider, rating=Rating.SATISFIED)
    with pytest.raises(FieldErrors):  # 不满意 needs a reason
        ticket_rate(ticket=ticket, actor=hotline.citizen, rating=Rating.UNSATISFIED)
    ticket = ticket_rate(ticket=ticket, actor=hotline.citizen, rating=Rating.UNSATISFIED, note="路灯还是不亮")
    assert ticket.case.state == states.SUPERVISED
    assert ticket.case.department == hotline.town_office and ticket.reopen_count == 1
    assert ticket.case.closed_at is None
    assert Notification.objects.filter(case=ticket.case, role=Role.SUPERVISOR).exists()
    ticket = ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="更换了灯具")
    ticket = ticket_rate(ticket=ticket, actor=hotline.citizen, rating=Rating.UNSATISFIED, note="仍然不亮")
    with pytest.raises(Forbidden):  # only a supervisor closes a ticket as not resolved
        ticket_move(ticket=ticket, transition="close_unresolved", actor=hotline.handler, note="x")
    ticket = ticket_move(
        ticket=ticket, transition="close_unresolved", actor=hotline.supervisor, note="线路改造需列入明年计划"
    )
    assert ticket.case.state == states.CLOSED_UNRESOLVED
    assert ticket.case.closed_at is not None and ticket.reopen_count == 2


@pytest.mark.django_db
def test_supervisor_presses_an_overdue_ticket(hotline):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    with pytest.raises(Forbidden):
        ticket_move(ticket=ticket, transition="press", actor=hotline.dispatcher, note="快办")
    ticket = ticket_move(ticket=ticket, transition="press", actor=hotline.supervisor, note="请今日内答复")
    assert ticket.case.state == states.SUPERVISED
    ticket = ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="已处理")
    assert ticket.case.state == states.REPLIED


# --- escalation over a holiday ----------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_escalation_counts_working_days_across_the_national_day_holiday(hotline):
    # A consultation (1 working day) received on Wednesday 30 September 2026, the eve of the
    # National Day holiday (1-7 October): due at the close of the next working day, 8 October.
    received = at(2026, 9, 30, 15)
    ticket = ticket_intake(
        data=request(kind="consultation"), channel="phone", actor=hotline.operator, now=received
    )
    assert ticket.case.case_deadline == at(2026, 10, 8, 17, 30)
    case = ticket.case
    from yiwang.cases.services import case_transition

    case = case_transition(
        case=case,
        transition="dispatch",
        actor=hotline.dispatcher,
        expected_version=case.version,
        department=hotline.town_office,
        now=at(2026, 9, 30, 15, 30),
    )
    case = case_transition(
        case=case,
        transition="accept",
        actor=hotline.handler,
        expected_version=case.version,
        now=at(2026, 9, 30, 16),
    )
    result = case_sla_sweep(now=at(2026, 10, 7, 12))  # the holiday: nothing is late yet
    assert ticket.case.reference not in result.red
    result = case_sla_sweep(now=at(2026, 10, 8, 18))  # after the close of 8 October
    assert ticket.case.reference in result.red
    assert (ticket.case.reference, "handling_overdue") in result.escalated
    case.refresh_from_db()
    assert case.state == states.HANDLING  # told, not yet moved
    result = case_sla_sweep(now=at(2026, 10, 9, 18))  # one more working day: supervised
    assert (ticket.case.reference, "handling_supervise") in result.escalated
    case.refresh_from_db()
    assert case.state == states.SUPERVISED
    assert Notification.objects.filter(case=case, role=Role.SUPERVISOR).count() == 2
    again = case_sla_sweep(now=at(2026, 10, 9, 18, 5))
    assert not again.escalated  # idempotent


@pytest.mark.django_db
def test_no_rating_within_two_working_days_closes_without_a_rating(hotline):
    ticket = ticket_intake(
        data=request(kind="consultation"), channel="phone", actor=hotline.operator, now=at(2026, 11, 23, 9)
    )
    from yiwang.cases.services import case_transition

    case = case_transition(
        case=ticket.case,
        transition="answer",
        actor=hotline.operator,
        expected_version=ticket.case.version,
        note="请到社区办理",
        now=at(2026, 11, 23, 10),
    )
    assert case.state == states.REPLIED
    case_sla_sweep(now=at(2026, 11, 25, 12))
    case.refresh_from_db()
    assert case.state == states.REPLIED
    case_sla_sweep(now=at(2026, 11, 25, 18))
    case.refresh_from_db()
    assert case.state == states.CLOSED
    assert Ticket.objects.get(pk=case.pk).rating == ""


# --- duplicates --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_repeated_request_at_the_same_place_is_offered_for_merging(hotline, trained):
    first = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    assert first.auto_dispatched
    second = ticket_intake(
        data=request(
            text="丹江街道建设社区小区门口路灯坏了一个多月了，晚上出行很不方便，希望尽快维修。",
            caller_phone="13907990000",
        ),
        channel="phone",
        actor=hotline.operator,
    )
    assert not second.auto_dispatched  # a possible duplicate waits for a person
    similar = tickets_similar(ticket=second)
    assert [ticket for ticket, _ in similar] == [first]
    elsewhere = ticket_intake(
        data=request(address="芦溪县南坑镇滨河路"), channel="web", actor=hotline.citizen
    )
    assert first not in [ticket for ticket, _ in tickets_similar(ticket=elsewhere)]
    merged = ticket_merge(ticket=second, into=first, actor=hotline.operator)
    assert merged.case.state == states.MERGED and merged.duplicate_of == first
    assert CaseEvent.objects.filter(case=first.case, kind="merged").exists()


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_handlers_acting_at_once_one_wins_the_other_gets_a_conflict(hotline):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    version = ticket.case.version
    colleague = type(hotline.handler).objects.get(pk=hotline.handler.pk)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def act(user, transition, note):
        try:
            mine = Ticket.objects.select_related("case").get(pk=ticket.pk)
            barrier.wait(timeout=10)
            if transition == "return":
                ticket_return(ticket=mine, actor=user, note=note, expected_version=version)
            else:
                ticket_move(ticket=mine, transition=transition, actor=user, expected_version=version)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=act, args=(hotline.handler, "accept", "")),
        threading.Thread(target=act, args=(colleague, "return", "不属于本单位")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "won"]
    ticket.case.refresh_from_db()
    assert ticket.case.state in (states.HANDLING, states.DISPATCHING)
    assert CaseEvent.objects.filter(case=ticket.case, transition__in=["accept", "return"]).count() == 1


@pytest.mark.django_db
def test_handlers_of_other_departments_cannot_touch_the_ticket(hotline):
    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    with pytest.raises(NotFound):
        ticket_move(ticket=ticket, transition="accept", actor=hotline.outsider)
    assert Department.objects.get(pk=ticket.case.department_id) == hotline.town_office


def test_the_web_form_takes_so_many_requests_per_phone_a_day_and_sends_the_rest_to_the_phone_line(
    hotline, settings
):
    settings.HOTLINE_WEB_DAILY_LIMIT = 2
    day_before = at(2026, 11, 18, 9)
    ticket_intake(data=request(), channel=Channel.WEB, actor=None, now=day_before)
    now = at(2026, 11, 19, 10)
    for _ in range(2):
        ticket_intake(data=request(), channel=Channel.WEB, actor=None, now=now)
    with pytest.raises(FieldErrors) as refused:
        ticket_intake(data=request(), channel=Channel.WEB, actor=None, now=now)
    assert refused.value.errors[0][0] == ("caller_phone",)
    assert "12345" in refused.value.errors[0][1]
    # another number, and the operator taking the same caller's call, are not limited
    ticket_intake(data=request(caller_phone="13907990000"), channel=Channel.WEB, actor=None, now=now)
    ticket_intake(data=request(), channel=Channel.PHONE, actor=hotline.operator, now=now)
    assert Ticket.objects.filter(caller_phone="13807991234").count() == 4
