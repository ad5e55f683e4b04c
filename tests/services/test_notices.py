"""The applicant is told of each move of their application through the one notification service
(accepted, corrections asked with the note, approved with the certificate number, not approved or
not accepted with the reason, revoked), once per move; the application page shows the notices
and the deadlines of the open steps."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD
from yiwang.cases.models import Notice, NoticeChannel
from yiwang.cases.services import case_transition, case_transition_system
from yiwang.services.models import Application
from yiwang.services.services import application_submit
from yiwang.services.window import application_notice

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _submit(world, key="n-1"):
    world.citizen.phone = "13800138000"
    world.citizen.save(update_fields=["phone"])
    return application_submit(
        matter=world.subsidy, actor=world.citizen, values={"reason": "申请高龄津贴"}, submission_key=key
    )


def _move(application, actor, transition, note=""):
    case = application.case
    application.case = case_transition(
        case=case, transition=transition, actor=actor, expected_version=case.version, note=note
    )
    return application


def _texts(reference):
    return [(notice.subject, notice.body) for notice in Notice.objects.filter(ref=reference).order_by("id")]


def test_notices_on_accept_correction_and_approval_once_per_move(granted):
    world = granted
    application = _submit(world)
    reference = application.case.reference
    assert Notice.objects.filter(ref=reference).count() == 0  # submission itself is shown on the page
    _move(application, world.handler, "accept")
    _move(application, world.handler, "request_correction", note="请补充户口簿首页")
    application.case = case_transition_system(
        case=application.case,
        transition="resubmit",
        actor=world.citizen,
        expected_version=application.case.version,
    )
    _move(application, world.handler, "accept")
    Application.objects.filter(pk=application.pk).update(certificate_number="MZ-2026-000123")
    _move(application, world.handler, "approve")
    texts = _texts(reference)
    department = world.subsidy.department.name
    assert texts == [
        (
            "Application accepted",
            f"Your application {reference} (经济困难的高龄老年人津贴) was accepted by {department}.",
        ),
        (
            "Corrections needed",
            f"Your application {reference} (经济困难的高龄老年人津贴) needs corrections: 请补充户口簿首页",
        ),
        (
            "Application accepted",
            f"Your application {reference} (经济困难的高龄老年人津贴) was accepted by {department}.",
        ),
        (
            "Application approved",
            f"Your application {reference} (经济困难的高龄老年人津贴) was approved. "
            "Certificate number: MZ-2026-000123.",
        ),
    ]
    notices = list(Notice.objects.filter(ref=reference).order_by("id"))
    assert {notice.channel for notice in notices} == {NoticeChannel.SMS}
    assert {notice.address for notice in notices} == {"13800138000"}
    assert [notice.key for notice in notices][-1] == f"{reference}:approve:{application.case.version}"
    # Once per move: the effect run again for the same move sends nothing more.
    application.refresh_from_db()
    application_notice(
        application=application, case=application.case, transition="approve", actor=world.handler, note=""
    )
    assert Notice.objects.filter(ref=reference).count() == 4


def test_notices_on_rejection_refusal_and_revocation_carry_the_reason(granted):
    world = granted
    rejected = _move(_submit(world, "n-2"), world.handler, "accept")
    _move(rejected, world.handler, "reject", note="收入超过标准")
    assert _texts(rejected.case.reference)[-1] == (
        "Application not approved",
        f"Your application {rejected.case.reference} (经济困难的高龄老年人津贴) was not approved: 收入超过标准",
    )
    refused = _move(_submit(world, "n-3"), world.handler, "refuse", note="不属于本部门受理范围")
    assert _texts(refused.case.reference) == [
        (
            "Application not accepted",
            f"Your application {refused.case.reference} (经济困难的高龄老年人津贴) was not accepted: "
            "不属于本部门受理范围",
        )
    ]
    revoked = _submit(world, "n-4")
    case_transition_system(
        case=revoked.case,
        transition="revoke",
        actor="system:gaps",
        expected_version=revoked.case.version,
        note="容缺材料逾期未补",
    )
    assert _texts(revoked.case.reference)[-1][0] == "Application revoked"
    assert "容缺材料逾期未补" in _texts(revoked.case.reference)[-1][1]


def test_a_window_applicant_without_a_phone_on_the_login_is_told_at_the_registry_phone(granted):
    from yiwang.services.window import applicant_at_window

    world = granted
    applicant = applicant_at_window(clerk=world.clerk, subject_key=world.person.id_number)
    application = application_submit(
        matter=world.subsidy,
        actor=world.clerk,
        values={"reason": "窗口代办"},
        submission_key="n-5",
        on_behalf_of=applicant,
    )
    accepted = Notice.objects.get(ref=application.case.reference)
    assert accepted.subject == "Application accepted" and accepted.address == world.person.phone


def test_the_application_page_shows_notices_and_deadlines(granted):
    world = granted
    application = _move(_submit(world, "n-6"), world.handler, "accept")
    page = client_for(world.citizen).get(f"/services/applications/{application.case.reference}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="notices"' in html and application.case.reference in html
    assert 'id="deadlines"' in html and 'data-colour="green"' in html
    assert application.case.case_deadline is not None
