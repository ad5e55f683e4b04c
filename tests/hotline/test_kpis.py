"""The hotline's key figures on a fixture whose every figure is worked out by hand.

Period: Monday 2 – Sunday 15 November 2026; figures computed at Friday 20 November 12:00.

    A  complaint    Mon 11-02 09:00  丹江街  dispatched 09:30 → town office, accepted 10:30 (in time,
                    due 11:30), replied 11-04 (due 11-09 17:30), rated 满意 11-04
    B  complaint    Mon 11-02 16:00  丹江街  dispatched 16:30, accepted Tue 10:30 (late: due Tue
                    10:00), replied 11-10 (late), 不满意 11-10 → reopened, replied 11-11, 基本满意 11-11
    C  consultation Tue 11-03 10:00  南坑镇  answered by the centre 10:20 (in time, due 11-04 17:30),
                    不满意 11-03 → under supervision, no new reply
    D  help         Wed 11-04 09:00  丹江街  dispatched 09:10, returned 10:00, re-dispatched 11:00 to
                    the labour branch (accept due 14:30), never accepted (due 11-09 17:30)
    E  suggestion   Sat 11-07 11:00  丹江街  dispatched 11:05, accepted Mon 11-09 10:00 (in time: due
                    Mon 11:00), not replied (due 11-20 17:30, after "now")
    G  consultation Fri 10-30 16:00  丹江街  (received before the period) dispatched 16:10, accepted
                    16:20, replied 11-02 17:00 (due 11-02 17:30)
    H  complaint    Thu 11-05 09:00  丹江街  merged into D
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.hotline.conftest import at, request
from yiwang.cases.services import case_transition
from yiwang.hotline import kpis
from yiwang.hotline.kpis import Period, accept_deadline, accept_segments, kpi_report
from yiwang.hotline.models import Rating, Ticket
from yiwang.hotline.services import ticket_intake, ticket_merge, ticket_rate

PERIOD = Period(datetime.date(2026, 11, 2), datetime.date(2026, 11, 15))
NOW = at(2026, 11, 20, 12)
DANJIANG = "安源区丹江街道建设社区5栋"
NANKENG = "芦溪县南坑镇滨河路8号"


def _take(ticket, transition, actor, moment, **fields):
    ticket.case = case_transition(
        case=ticket.case,
        transition=transition,
        actor=actor,
        expected_version=ticket.case.version,
        now=moment,
        **fields,
    )
    return ticket


def _rate(ticket, actor, rating, moment, note=""):
    fresh = Ticket.objects.select_related("case").get(pk=ticket.pk)
    return ticket_rate(ticket=fresh, actor=actor, rating=rating, note=note, now=moment)


def _new(hotline, kind, received, address=DANJIANG, text=None):
    data = request(kind=kind, address=address)
    if text:
        data["text"] = text
    return ticket_intake(data=data, channel="phone", actor=hotline.operator, now=received)


@pytest.fixture
def loop(hotline):
    h = hotline
    office, labour = h.town_office, h.labour_branch
    a = _new(h, "complaint", at(2026, 11, 2, 9))
    _take(a, "dispatch", h.dispatcher, at(2026, 11, 2, 9, 30), department=office)
    _take(a, "accept", h.handler, at(2026, 11, 2, 10, 30))
    _take(a, "reply", h.handler, at(2026, 11, 4, 10), note="已修复")
    _rate(a, h.operator, Rating.SATISFIED, at(2026, 11, 4, 15))

    b = _new(
        h, "complaint", at(2026, 11, 2, 16), text="建设社区垃圾清运不及时，楼下垃圾堆了好几天，气味很大。"
    )
    _take(b, "dispatch", h.dispatcher, at(2026, 11, 2, 16, 30), department=office)
    _take(b, "accept", h.handler, at(2026, 11, 3, 10, 30))
    _take(b, "reply", h.handler, at(2026, 11, 10, 9), note="已清运")
    b = _rate(b, h.operator, Rating.UNSATISFIED, at(2026, 11, 10, 10), note="还是没有清运干净")
    _take(b, "reply", h.handler, at(2026, 11, 11, 10), note="再次清运并增加频次")
    _rate(b, h.operator, Rating.BASICALLY_SATISFIED, at(2026, 11, 11, 15))

    c = _new(h, "consultation", at(2026, 11, 3, 10), address=NANKENG, text="南坑镇办理居住证需要带哪些材料？")
    _take(c, "answer", h.operator, at(2026, 11, 3, 10, 20), note="带身份证和租房合同到派出所办理。")
    _rate(c, h.operator, Rating.UNSATISFIED, at(2026, 11, 3, 11), note="没说清楚")

    d = _new(h, "help", at(2026, 11, 4, 9), text="建设社区一位独居老人家中断水两天，请帮助联系维修。")
    _take(d, "dispatch", h.dispatcher, at(2026, 11, 4, 9, 10), department=office)
    _take(d, "return", h.handler, at(2026, 11, 4, 10), note="涉及就业帮扶，不属于本单位", department=h.centre)
    _take(d, "dispatch", h.dispatcher, at(2026, 11, 4, 11), department=labour)

    e = _new(h, "suggestion", at(2026, 11, 7, 11), text="建议在建设社区增设一处电动车充电桩，方便居民。")
    _take(e, "dispatch", h.dispatcher, at(2026, 11, 7, 11, 5), department=office)
    _take(e, "accept", h.handler, at(2026, 11, 9, 10))

    g = _new(h, "consultation", at(2026, 10, 30, 16), text="建设社区老旧小区改造什么时候开始施工？")
    _take(g, "dispatch", h.dispatcher, at(2026, 10, 30, 16, 10), department=office)
    _take(g, "accept", h.handler, at(2026, 10, 30, 16, 20))
    _take(g, "reply", h.handler, at(2026, 11, 2, 17), note="预计明年三月开工")

    h_ticket = _new(
        h, "complaint", at(2026, 11, 5, 9), text="建设社区一位独居老人家中断水两天了，请帮忙联系维修。"
    )
    d = Ticket.objects.select_related("case").get(pk=d.pk)
    ticket_merge(ticket=h_ticket, into=d, actor=h.operator)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "g": g, "h": h_ticket}


def _counts(row):
    return {name: getattr(row, name) for name in kpis.COUNTS}


def test_accept_deadline_counts_office_hours_of_working_days(db):
    segments = accept_segments(at(2026, 10, 28, 0), at(2026, 11, 12, 0))
    assert accept_deadline(at(2026, 11, 2, 9, 30), segments) == at(2026, 11, 2, 11, 30)
    assert accept_deadline(at(2026, 11, 2, 16, 30), segments) == at(2026, 11, 3, 10)  # overnight
    assert accept_deadline(at(2026, 11, 4, 11), segments) == at(2026, 11, 4, 14, 30)  # over lunch
    assert accept_deadline(at(2026, 11, 7, 11, 5), segments) == at(2026, 11, 9, 11)  # weekend
    assert accept_deadline(at(2026, 11, 2, 7), segments) == at(2026, 11, 2, 11)  # before office hours


@pytest.mark.django_db
def test_each_figure_of_the_period(hotline, loop):
    assert loop["a"].case.case_deadline == at(2026, 11, 9, 17, 30)
    assert loop["d"].case.case_deadline == at(2026, 11, 9, 17, 30)
    assert loop["e"].case.case_deadline == at(2026, 11, 20, 17, 30)
    report = kpi_report(period=PERIOD, now=NOW)
    assert _counts(report.total) == {
        "received": 6,  # A B C D E H
        "merged": 1,  # H
        "response_due": 4,  # A B D E
        "responded_in_time": 2,  # A E
        "resolution_due": 5,  # A B C D G
        "resolved_in_time": 3,  # A C G
        "replied_late": 1,  # B
        "rated": 3,  # A B C
        "satisfied": 2,  # A B
        "overdue_open": 2,  # C (under supervision) D (never accepted)
        "returned": 1,  # D
        "reopened": 2,  # B C
    }
    assert report.total.response_rate == 0.5
    assert report.total.resolution_rate == 0.6
    assert report.total.satisfaction_rate == pytest.approx(2 / 3)

    departments = {row.key: row for row in report.by_department}
    office, centre, labour = hotline.town_office, hotline.centre, hotline.labour_branch
    assert set(departments) == {office.pk, centre.pk, labour.pk}
    assert departments[office.pk].label == office.short_name
    assert _counts(departments[office.pk]) == {
        "received": 3,  # A B E
        "merged": 0,
        "response_due": 3,
        "responded_in_time": 2,
        "resolution_due": 3,  # A B G
        "resolved_in_time": 2,
        "replied_late": 1,
        "rated": 2,
        "satisfied": 2,
        "overdue_open": 0,
        "returned": 0,
        "reopened": 1,
    }
    assert _counts(departments[centre.pk]) == {
        "received": 2,  # C H
        "merged": 1,
        "response_due": 0,
        "responded_in_time": 0,
        "resolution_due": 1,
        "resolved_in_time": 1,
        "replied_late": 0,
        "rated": 1,
        "satisfied": 0,
        "overdue_open": 1,
        "returned": 0,
        "reopened": 1,
    }
    assert departments[centre.pk].response_rate is None
    assert _counts(departments[labour.pk]) == {
        "received": 1,
        "merged": 0,
        "response_due": 1,
        "responded_in_time": 0,
        "resolution_due": 1,
        "resolved_in_time": 0,
        "replied_late": 0,
        "rated": 0,
        "satisfied": 0,
        "overdue_open": 1,
        "returned": 1,
        "reopened": 0,
    }

    towns = {row.label.split()[-1]: row for row in report.by_town}
    assert set(towns) == {"丹江街街道", "南坑镇"}
    assert towns["丹江街街道"].key == hotline.town.pk
    assert (
        towns["丹江街街道"].received,
        towns["丹江街街道"].response_due,
        towns["丹江街街道"].responded_in_time,
    ) == (
        5,
        4,
        2,
    )
    assert (towns["丹江街街道"].resolution_due, towns["丹江街街道"].resolved_in_time) == (4, 2)
    assert (towns["南坑镇"].received, towns["南坑镇"].rated, towns["南坑镇"].satisfied) == (1, 1, 0)
    assert (towns["南坑镇"].overdue_open, towns["南坑镇"].reopened) == (1, 1)

    weeks = {row.key: row for row in report.by_week}
    first, second = datetime.date(2026, 11, 2), datetime.date(2026, 11, 9)
    assert list(weeks) == [first, second]
    assert (weeks[first].received, weeks[second].received) == (6, 0)
    assert (weeks[first].resolution_due, weeks[first].resolved_in_time) == (2, 2)  # C G
    assert (weeks[second].resolution_due, weeks[second].resolved_in_time) == (3, 1)  # A B D
    assert (weeks[first].rated, weeks[first].satisfied) == (2, 1)  # A C
    assert (weeks[second].rated, weeks[second].satisfied) == (1, 1)  # B
    # Every grouping adds up to the totals.
    for rows in (report.by_department, report.by_town, report.by_week):
        total = kpis.KpiRow(key="sum", label="")
        for row in rows:
            total.add(row)
        assert _counts(total) == _counts(report.total)


@pytest.mark.django_db
def test_before_the_accept_limit_passes_a_dispatched_ticket_is_not_yet_counted(hotline, loop):
    # At Wednesday 4 November 14:00, D's dispatch of 11:00 is still within its limit (14:30).
    report = kpi_report(period=PERIOD, now=at(2026, 11, 4, 14))
    departments = {row.key: row for row in report.by_department}
    assert departments[hotline.labour_branch.pk].response_due == 0
    report = kpi_report(period=PERIOD, now=at(2026, 11, 4, 15))
    departments = {row.key: row for row in report.by_department}
    assert departments[hotline.labour_branch.pk].response_due == 1


@pytest.mark.django_db
def test_page_and_excel_export_for_supervisors_only(client, hotline, loop):
    client.force_login(hotline.citizen)
    assert client.get("/hotline/kpis/").status_code == 403
    client.force_login(hotline.handler)
    assert client.get("/hotline/kpis/export.xlsx").status_code == 403
    client.logout()
    assert client.get("/hotline/kpis/").status_code == 302  # to the login page

    for user in (hotline.supervisor, hotline.dispatcher):
        client.force_login(user)
        page = client.get("/hotline/kpis/", {"from": "2026-11-02", "to": "2026-11-15"})
        assert page.status_code == 200
        assert page.context["total"].received == 6
        assert page.context["period"] == PERIOD
    html = page.content.decode()
    assert 'id="kpis-department"' in html and 'id="kpis-town"' in html and 'id="kpis-week"' in html
    assert "<svg" in html and "<polyline" in html and "cdn" not in html.lower()
    assert 'id="definitions"' in html

    export = client.get("/hotline/kpis/export.xlsx", {"from": "2026-11-02", "to": "2026-11-15"})
    assert export.status_code == 200
    assert "spreadsheetml" in export["Content-Type"]
    book = load_workbook(io.BytesIO(export.content))
    assert len(book.sheetnames) == 4  # department, town, week, definitions
    department_sheet = book[book.sheetnames[0]]
    rows = list(department_sheet.iter_rows(min_row=3, values_only=True))
    by_label = {row[0]: row for row in rows}
    office = by_label[hotline.town_office.short_name]
    assert office[1] == 3  # received
    week_sheet = book[book.sheetnames[2]]
    total = list(week_sheet.iter_rows(values_only=True))[-1]
    assert total[1] == 6


@pytest.mark.django_db
def test_a_period_from_the_query_string(rf):
    from yiwang.hotline.views_kpis import period_from_query

    today = timezone.localdate()
    period, notice = period_from_query({"days": "7"})
    assert period == Period(today - datetime.timedelta(days=6), today) and not notice
    period, notice = period_from_query({"from": "2026-11-15", "to": "2026-11-02"})
    assert period == PERIOD  # swapped
    period, notice = period_from_query({"days": "forever"})
    assert period.days == 30 and notice
    period, notice = period_from_query({"from": "2020-01-01", "to": "2026-11-15"})
    assert period.days == 366 and notice
