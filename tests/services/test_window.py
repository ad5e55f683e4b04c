"""The integrated window (一窗受理): a window clerk finds the applicant in the registry (an audited
unmasked read), applies on their behalf with the form filled from shared data, and the case is
accepted at once; anyone else is refused; a bad ID number is named."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, PersonFactory
from yiwang.cases.models import CaseEvent
from yiwang.core.errors import FieldErrors, Forbidden, NotFound
from yiwang.core.models import AuditEntry
from yiwang.services import cases as states
from yiwang.services.models import Application
from yiwang.services.services import application_submit
from yiwang.services.window import WINDOW_LOOKUP_PURPOSE, applicant_at_window, window_submissions_today

pytestmark = pytest.mark.django_db


def _bad_id(number: str) -> str:
    """The same number with a wrong check digit."""
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_clerk_applies_for_a_citizen_and_it_is_accepted_at_once(granted):
    world = granted
    before = AuditEntry.objects.filter(action="personal_data.read_unmasked").count()
    applicant = applicant_at_window(clerk=world.clerk, subject_key=f" {world.person.id_number.lower()} ")
    assert applicant.kind == "person" and applicant.name == "李秀英" and applicant.user == world.citizen
    lookup = AuditEntry.objects.filter(action="personal_data.read_unmasked").order_by("-sequence").first()
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").count() == before + 1
    assert lookup.actor_id == world.clerk.pk and lookup.purpose == WINDOW_LOOKUP_PURPOSE
    assert (lookup.object_type, lookup.object_id) == ("registry.person", str(world.person.pk))

    application = application_submit(
        matter=world.subsidy,
        actor=world.clerk,
        values={"reason": "窗口代办高龄津贴"},
        submission_key="window-1",
        on_behalf_of=applicant,
    )
    application.refresh_from_db()
    assert application.applicant == world.citizen
    assert application.window_clerk == world.clerk
    assert application.subject_key == world.person.id_number
    assert application.case.state == states.REVIEWING
    # The form was filled for the citizen, not for the clerk.
    assert application.values["name"] == "李秀英"
    assert application.fields_prefilled == 9
    accept = CaseEvent.objects.get(case=application.case, transition="accept")
    assert accept.actor == world.clerk
    # The same form sent twice makes one application.
    again = application_submit(
        matter=world.subsidy,
        actor=world.clerk,
        values={"reason": "窗口代办高龄津贴"},
        submission_key="window-1",
        on_behalf_of=applicant,
    )
    assert again.pk == application.pk and Application.objects.count() == 1
    assert list(window_submissions_today(clerk=world.clerk)) == [application]
    # The citizen follows it as their own.
    assert (
        client_for(world.citizen).get(f"/services/applications/{application.case.reference}/").status_code
        == 200
    )


def test_anyone_but_a_window_clerk_is_refused(granted):
    world = granted
    with pytest.raises(Forbidden):
        applicant_at_window(clerk=world.handler, subject_key=world.person.id_number)
    applicant = applicant_at_window(clerk=world.clerk, subject_key=world.person.id_number)
    with pytest.raises(Forbidden):
        application_submit(
            matter=world.subsidy,
            actor=world.handler,
            values={"reason": "x"},
            submission_key="w-2",
            on_behalf_of=applicant,
        )
    assert not Application.objects.exists()
    assert client_for(world.handler).get("/services/window/").status_code == 403
    answer = client_for(world.citizen).post(
        "/api/services/window/applicant",
        {"subject_key": world.person.id_number},
        content_type="application/json",
    )
    assert answer.status_code == 403


def test_a_bad_id_number_names_the_field_and_an_unknown_one_is_not_found(world):
    with pytest.raises(FieldErrors) as bad:
        applicant_at_window(clerk=world.clerk, subject_key=_bad_id(world.person.id_number))
    assert bad.value.errors[0][0] == ("subject_key",)
    assert "check digit" in bad.value.errors[0][1]
    with pytest.raises(FieldErrors) as empty:
        applicant_at_window(clerk=world.clerk, subject_key="  ")
    assert empty.value.errors[0][0] == ("subject_key",)
    stranger = PersonFactory()
    number = stranger.id_number
    stranger.delete()
    with pytest.raises(NotFound):
        applicant_at_window(clerk=world.clerk, subject_key=number)


def test_a_mistyped_check_digit_that_makes_a_well_formed_uscc_is_named_as_the_id_numbers_mistake(world):
    from stdnum.cn import ric, uscc

    # An ID number (萍乡 安源区, born 1980-01-dd) whose wrong check digit makes a valid USCC.
    body, wrong = next(
        (body, digit)
        for body in (f"36030219800101{order:03d}" for order in range(100, 999))
        for digit in "0123456789"
        if digit != ric.calc_check_digit(body) and uscc.is_valid(body + digit)
    )
    with pytest.raises(FieldErrors) as typo:
        applicant_at_window(clerk=world.clerk, subject_key=body + wrong)
    assert typo.value.errors[0][0] == ("subject_key",)
    assert "check digit" in typo.value.errors[0][1]


def test_a_person_without_a_login_is_refused_with_the_reason(granted):
    world = granted
    walk_in = PersonFactory(name="王建国")
    applicant = applicant_at_window(clerk=world.clerk, subject_key=walk_in.id_number)
    assert applicant.user is None
    with pytest.raises(FieldErrors) as refused:
        application_submit(
            matter=world.subsidy,
            actor=world.clerk,
            values={"reason": "x"},
            submission_key="w-3",
            on_behalf_of=applicant,
        )
    assert refused.value.errors[0][0] == ("subject_key",)
    assert "no login" in refused.value.errors[0][1]
    assert not Application.objects.exists()


def test_an_enterprise_is_applied_for_as_its_agent_and_the_matter_kind_is_checked(granted):
    world = granted
    enterprise = applicant_at_window(clerk=world.clerk, subject_key=world.enterprise.uscc)
    assert enterprise.kind == "enterprise" and enterprise.user == world.agent
    application = application_submit(
        matter=world.licence,
        actor=world.clerk,
        values={"reason": "窗口代办"},
        submission_key="w-4",
        on_behalf_of=enterprise,
    )
    assert application.applicant == world.agent and application.case.state == states.REVIEWING
    person = applicant_at_window(clerk=world.clerk, subject_key=world.person.id_number)
    with pytest.raises(FieldErrors) as wrong_kind:
        application_submit(
            matter=world.licence,
            actor=world.clerk,
            values={"reason": "x"},
            submission_key="w-5",
            on_behalf_of=person,
        )
    assert wrong_kind.value.errors[0][0] == ("subject_key",)


def test_the_window_pages(granted):
    world = granted
    clerk = client_for(world.clerk)
    page = clerk.get("/services/window/")
    assert page.status_code == 200
    bad = clerk.post("/services/window/", {"subject_key": _bad_id(world.person.id_number)})
    assert bad.status_code == 422 and "lookup-errors" in bad.content.decode()
    found = clerk.post("/services/window/", {"subject_key": world.person.id_number})
    assert found.status_code == 302
    desk = clerk.get("/services/window/", {"q": "高龄"}).content.decode()
    assert "李秀英" in desk and world.person.id_number in desk
    assert world.person.phone not in desk  # masked
    assert f"/services/window/matters/{world.subsidy.code}/apply/" in desk
    form = clerk.get(f"/services/window/matters/{world.subsidy.code}/apply/")
    assert form.status_code == 200 and "window-apply-form" in form.content.decode()
    sent = clerk.post(
        f"/services/window/matters/{world.subsidy.code}/apply/",
        {"submission_key": "page-1", "f_reason": "窗口代办"},
    )
    application = Application.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/services/handling/{application.pk}/"
    assert application.window_clerk == world.clerk and application.case.state == states.REVIEWING
    handling = clerk.get("/services/handling/").content.decode()
    assert 'id="window-today"' in handling and application.case.reference in handling


def test_the_window_api(granted):
    world = granted
    clerk = client_for(world.clerk)
    found = clerk.post(
        "/api/services/window/applicant",
        {"subject_key": world.person.id_number},
        content_type="application/json",
    )
    assert found.status_code == 200
    assert found.json()["name"] == "李秀英" and found.json()["can_apply"] is True
    bad = clerk.post(
        "/api/services/window/applicant",
        {"subject_key": _bad_id(world.person.id_number)},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["path"].endswith("subject_key")
    body = {
        "subject_key": world.person.id_number,
        "matter": world.subsidy.code,
        "values": {"reason": "窗口代办"},
        "submission_key": "api-w-1",
    }
    first = clerk.post("/api/services/window/applications", body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["state"] == states.REVIEWING
    second = clerk.post("/api/services/window/applications", body, content_type="application/json")
    assert second.status_code == 200 and second.json()["reference"] == first.json()["reference"]
