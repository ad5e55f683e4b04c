"""好差评: a bad rating opens a follow-up case for the department (5 working days), a handler of
that department answers it, the applicant sees the answer; a good rating opens none; the report
per matter, department and clerk on a known set of ratings."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from yiwang.cases.models import Notice
from yiwang.cases.services import case_transition
from yiwang.core.calendar import add_working_days
from yiwang.core.errors import Forbidden
from yiwang.core.models import Department, Role
from yiwang.services import cases as states
from yiwang.services.models import Application
from yiwang.services.services import application_rate, application_submit
from yiwang.services.window import applicant_at_window, rating_followup_answer, rating_report

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _move(application, actor, *transitions, note=""):
    case = application.case
    for transition in transitions:
        case = case_transition(
            case=case, transition=transition, actor=actor, expected_version=case.version, note=note
        )
    application.case = case
    return application


def _online(world, key, matter=None, user=None):
    return application_submit(
        matter=matter or world.subsidy,
        actor=user or world.citizen,
        values={"reason": "申请"},
        submission_key=key,
    )


def _at_window(world, key, matter=None, subject=None):
    applicant = applicant_at_window(clerk=world.clerk, subject_key=subject or world.person.id_number)
    return application_submit(
        matter=matter or world.subsidy,
        actor=world.clerk,
        values={"reason": "窗口代办"},
        submission_key=key,
        on_behalf_of=applicant,
    )


def test_a_bad_rating_opens_a_followup_the_department_answers_and_the_applicant_sees(granted):
    world = granted
    application = _move(_online(world, "r-1"), world.handler, "accept", "reject", note="材料不符合条件")
    rated = application_rate(
        application=application, actor=world.citizen, rating=1, reasons="等了太久，没人解释"
    )
    followup = rated.rating_case
    assert followup is not None and followup.type_code == states.RATING_FOLLOWUP
    assert followup.state == states.FOLLOWUP_OPEN
    assert followup.department.code == "MZ"
    opened = timezone.localtime(followup.opened_at)
    assert timezone.localtime(followup.case_deadline).date() == add_working_days(opened.date(), 5)
    assert timezone.localtime(followup.state_deadline).date() == add_working_days(opened.date(), 5)
    # The applicant is told it will be answered.
    citizen = client_for(world.citizen)
    page = citizen.get(f"/services/applications/{application.case.reference}/").content.decode()
    assert 'id="rating-answer-pending"' in page
    # Another department's handler sees nothing of it; the department's handler answers.
    assert client_for(world.outsider).get(f"/services/followups/{followup.pk}/").status_code == 404
    handler = client_for(world.handler)
    listing = handler.get("/services/followups/").content.decode()
    assert followup.reference in listing
    empty = handler.post(
        f"/services/followups/{followup.pk}/", {"note": " ", "expected_version": followup.version}
    )
    assert empty.status_code == 422
    answered = handler.post(
        f"/services/followups/{followup.pk}/",
        {
            "note": "已核实：材料审核标准已在办事指南中写明，并向您电话说明。",
            "expected_version": followup.version,
        },
    )
    assert answered.status_code == 302
    followup.refresh_from_db()
    assert followup.state == states.FOLLOWUP_ANSWERED
    page = citizen.get(f"/services/applications/{application.case.reference}/").content.decode()
    assert 'id="rating-answer"' in page and "已核实：材料审核标准" in page
    told = Notice.objects.filter(ref=application.case.reference, key__startswith=followup.reference)
    assert told.count() == 1 and "已核实" in told.get().body
    # It disappears from the list of those to answer.
    assert followup.reference not in handler.get("/services/followups/").content.decode()


def test_a_good_rating_opens_none_and_a_bad_one_needs_reasons(granted):
    world = granted
    application = _move(_online(world, "r-2"), world.handler, "accept", "approve")
    rated = application_rate(application=application, actor=world.citizen, rating=4)
    assert rated.rating_case is None
    assert not Application.objects.filter(rating_case__isnull=False).exists()
    from yiwang.cases.models import Case

    assert not Case.objects.filter(type_code=states.RATING_FOLLOWUP).exists()


def test_the_followup_api(granted):
    world = granted
    application = _move(_online(world, "r-3"), world.handler, "accept", "approve")
    application_rate(application=application, actor=world.citizen, rating=2, reasons="态度不好")
    handler = client_for(world.handler)
    listing = handler.get("/api/services/followups").json()
    assert [row["application"] for row in listing] == [application.case.reference]
    case_id = listing[0]["case_id"]
    assert client_for(world.outsider).get("/api/services/followups").json() == []
    answer = handler.post(
        f"/api/services/followups/{case_id}/answer",
        {"note": "已批评教育窗口人员", "expected_version": 1},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert (
        answer.json()["state"] == states.FOLLOWUP_ANSWERED and answer.json()["answer"] == "已批评教育窗口人员"
    )
    again = handler.post(
        f"/api/services/followups/{case_id}/answer",
        {"note": "再答一次", "expected_version": 2},
        content_type="application/json",
    )
    assert again.status_code == 409


def test_the_report_on_a_known_set_of_ratings(granted):
    world = granted
    scjg_handler = UserFactory(
        username="scjg-handler",
        role=Role.DEPARTMENT_HANDLER,
        role__department=Department.objects.get(code="SCJG"),
    )
    supervisor = UserFactory(username="services-supervisor", role=Role.SUPERVISOR)
    # A1 online, approved by the 民政局 handler: 5.
    a1 = _move(_online(world, "k-1"), world.handler, "accept", "approve")
    application_rate(application=a1, actor=world.citizen, rating=5)
    # A2 at the window, approved: 4.
    a2 = _move(_at_window(world, "k-2"), world.handler, "approve")
    application_rate(application=a2, actor=world.citizen, rating=4)
    # A3 at the window, not approved: 1, answered on time.
    a3 = _move(_at_window(world, "k-3"), world.handler, "reject", note="不符合条件")
    a3 = application_rate(application=a3, actor=world.citizen, rating=1, reasons="不认可")
    rating_followup_answer(application=a3, actor=world.handler, note="已复核并说明", expected_version=1)
    # A4 online by the enterprise, approved by 市场监管局: 2, not answered.
    a4 = _move(
        _online(world, "k-4", matter=world.licence, user=world.agent), scjg_handler, "accept", "approve"
    )
    application_rate(application=a4, actor=world.agent, rating=2, reasons="跑了两次")
    # A5 at the window, approved, answered late (after its 5 working days): 1.
    a5 = _move(_at_window(world, "k-5"), world.handler, "approve")
    a5 = application_rate(application=a5, actor=world.citizen, rating=1, reasons="排队太久")
    late = a5.rating_case
    case_transition(
        case=late,
        transition="answer",
        actor=world.handler,
        expected_version=late.version,
        note="迟复",
        now=late.case_deadline + datetime.timedelta(days=1),
    )

    report = rating_report(user=supervisor)
    overall = report.overall.as_dict()
    assert overall == {
        "key": "",
        "label": "All",
        "count": 5,
        "mean": 2.6,  # (5 + 4 + 1 + 2 + 1) / 5
        "satisfied_share": 0.4,
        "bad": 3,
        "answered_on_time": 1,
        "answered_late": 1,
    }
    matters = {row.key: row.as_dict() for row in report.matters}
    assert (matters["T-MZ-1"]["count"], matters["T-MZ-1"]["mean"]) == (4, 2.75)
    assert matters["T-MZ-1"]["satisfied_share"] == 0.5
    assert (matters["T-MZ-1"]["bad"], matters["T-MZ-1"]["answered_on_time"]) == (2, 1)
    assert (matters["T-SCJG-1"]["count"], matters["T-SCJG-1"]["mean"], matters["T-SCJG-1"]["bad"]) == (
        1,
        2.0,
        1,
    )
    assert matters["T-SCJG-1"]["answered_on_time"] == 0 and matters["T-SCJG-1"]["satisfied_share"] == 0.0
    departments = {row.key: row for row in report.departments}
    assert (departments["MZ"].count, departments["SCJG"].count) == (4, 1)
    clerks = {row.key: row.as_dict() for row in report.clerks}
    window = clerks[str(world.clerk.pk)]
    assert (window["count"], window["mean"], window["satisfied_share"], window["bad"]) == (3, 2.0, 0.3333, 2)
    assert (window["answered_on_time"], window["answered_late"]) == (1, 1)
    assert (clerks[str(world.handler.pk)]["count"], clerks[str(world.handler.pk)]["mean"]) == (1, 5.0)
    assert (clerks[str(scjg_handler.pk)]["count"], clerks[str(scjg_handler.pk)]["mean"]) == (1, 2.0)

    # A department's handler sees their department only; a citizen nothing.
    mine = rating_report(user=world.handler)
    assert mine.overall.count == 4 and [row.key for row in mine.departments] == ["MZ"]
    with pytest.raises(Forbidden):
        rating_report(user=world.citizen)

    # By date: A1 was rated last month.
    Application.objects.filter(pk=a1.pk).update(rated_at=timezone.now() - datetime.timedelta(days=40))
    today = timezone.localdate()
    recent = rating_report(user=supervisor, date_from=today - datetime.timedelta(days=7), date_to=today)
    assert recent.overall.count == 4 and recent.overall.mean == 2.0

    # The API and the page say the same.
    api = client_for(supervisor).get(
        "/api/services/ratings/report", {"date_from": (today - datetime.timedelta(days=7)).isoformat()}
    )
    assert api.status_code == 200
    assert api.json()["overall"]["count"] == 4 and api.json()["overall"]["mean"] == 2.0
    assert client_for(world.citizen).get("/api/services/ratings/report").status_code == 403
    page = client_for(supervisor).get("/services/ratings/")
    assert page.status_code == 200 and 'id="ratings-clerks"' in page.content.decode()
    assert client_for(world.citizen).get("/services/ratings/").status_code == 403
