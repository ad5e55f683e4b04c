"""秒批: a rules-approvable matter is approved on submission with no human step when every
condition of its rule is met on shared data (the certificate issued at once and verifiable);
a condition not met leaves the application to a handler, with the explanation on the handling
page, and the handler's approval issues the certificate then."""

from __future__ import annotations

import pytest

from tests.factories import PersonFactory, UserFactory
from yiwang.cases.services import case_transition
from yiwang.certs.models import Certificate
from yiwang.certs.selectors import certificate_verify
from yiwang.core.models import AuditEntry, Role
from yiwang.exchange.models import ExchangeRead
from yiwang.services import cases as states
from yiwang.services.instant import (
    INSTANT_APPROVED,
    INSTANT_FALLBACK,
    instant_grants_ensure,
    instant_rules_load,
)
from yiwang.services.instant_seed import _types_ensure
from yiwang.services.models import Application
from yiwang.services.services import application_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def instant(granted):
    """不动产登记资料查询 made rules-approvable with its certificate (as instant_seed does), and a
    handler of 不动产登记中心."""
    from yiwang.core.models import Department

    loaded = instant_rules_load(names=["property_record.yaml", "no_property.yaml"])
    assert set(loaded["loaded"]) == {"services.property_record", "services.no_property"}
    _types_ensure()
    matter = granted.transfer
    matter.name = "不动产登记资料查询"
    matter.instant_rule = "services.property_record"
    matter.certificate_type = "BDCCXZM"
    matter.save()
    instant_grants_ensure(actor=granted.cdo)
    granted.bdc_handler = UserFactory(
        username="bdc-handler",
        role=Role.DEPARTMENT_HANDLER,
        role__department=Department.objects.get(code="BDCDJ"),
    )
    return granted


def _submit(user, matter, key="k1"):
    return application_submit(
        matter=matter, actor=user, values={"reason": "查询本人不动产登记结果"}, submission_key=key
    )


def test_a_right_holder_is_approved_at_once_with_a_verifiable_certificate(instant, client):
    application = _submit(instant.citizen, instant.transfer)
    application.refresh_from_db()
    assert application.case.state == states.APPROVED
    assert application.instant == INSTANT_APPROVED
    conditions = application.instant_explanation["conditions"]
    assert [(c["id"], c["value"], c["passed"]) for c in conditions] == [("holds_property", 1, True)]
    certificate = Certificate.objects.get(number=application.certificate_number)
    assert certificate.certificate_type.code == "BDCCXZM"
    assert certificate.holder == instant.person.id_number
    assert certificate.fields["unit_number"] == instant.flat.unit_number
    assert certificate.fields["address"] == instant.flat.address
    assert certificate.source == f"services:application:{application.pk}"
    assert certificate_verify(certificate=certificate).ok
    # No human step: the only move is the rules engine's, audited with the certificate.
    events = list(application.case.events.filter(kind="transition").values_list("transition", "actor_label"))
    assert events == [("instant_approve", "system:services-instant")]
    assert AuditEntry.objects.filter(
        action="services.certificate_issue", object_id=str(application.pk)
    ).exists()
    # The rule read shared data as 不动产登记中心, with the purpose naming the matter.
    assert ExchangeRead.objects.filter(consumer__code="BDCDJ", purpose__contains="秒批").exists()
    # The applicant's page shows the outcome and links the certificate's page.
    client.force_login(instant.citizen)
    page = client.get(f"/services/applications/{application.case.reference}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-outcome="approved"' in html
    assert f"/certs/c/{certificate.number}/" in html


def test_a_failed_condition_falls_back_to_a_handler_who_approves_by_hand(instant, client):
    stranger = UserFactory(username="no-flat", role=Role.CITIZEN)
    person = PersonFactory(user=stranger, name="王建国")
    matter = instant.transfer
    # The form's unit is not filled for someone who owns nothing: they type one in.
    application = application_submit(
        matter=matter,
        actor=stranger,
        values={
            "reason": "查询继承房屋登记结果",
            "unit_number": instant.flat.unit_number,
            "property_address": instant.flat.address,
            "property_area": "89.5",
        },
        submission_key="k2",
    )
    application.refresh_from_db()
    assert application.case.state == states.SUBMITTED
    assert application.instant == INSTANT_FALLBACK
    assert application.certificate_number == ""
    failed = [c for c in application.instant_explanation["conditions"] if not c["passed"]]
    assert [(c["id"], c["label"], c["value"]) for c in failed] == [
        ("holds_property", "申请人名下登记的不动产（处）", 0)
    ]
    # The handler sees the explanation on the handling page, naming the failed condition.
    client.force_login(instant.bdc_handler)
    page = client.get(f"/services/handling/{application.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-outcome="fallback"' in html
    assert 'data-condition="holds_property" data-passed="false"' in html
    # … and approves by hand: the certificate is issued then.
    case = application.case
    case = case_transition(
        case=case, transition="accept", actor=instant.bdc_handler, expected_version=case.version
    )
    case_transition(case=case, transition="approve", actor=instant.bdc_handler, expected_version=case.version)
    application.refresh_from_db()
    assert application.case.state == states.APPROVED
    certificate = Certificate.objects.get(number=application.certificate_number)
    assert (
        certificate.holder == person.id_number
        and certificate.fields["unit_number"] == instant.flat.unit_number
    )
    assert certificate_verify(certificate=certificate).ok


def test_unreadable_data_falls_back_with_the_reason(instant):
    from yiwang.exchange.models import Grant

    Grant.objects.filter(
        consumer__code="BDCDJ"
    ).delete()  # 不动产登记中心 may no longer read ga.persons.id_number
    person = instant.person
    application = application_submit(  # the form is no longer filled: the applicant types it
        matter=instant.transfer,
        actor=instant.citizen,
        values={
            "reason": "查询本人不动产登记结果",
            "name": person.name,
            "id_number": person.id_number,
            "sex": person.sex,
            "birth_date": person.birth_date.isoformat(),
            "phone": "13800000000",
            "address": "萍乡市安源区",
        },
        submission_key="k3",
    )
    application.refresh_from_db()
    assert application.instant == INSTANT_FALLBACK and application.case.state == states.SUBMITTED
    assert "ga.persons.id_number" in application.instant_explanation["error"]


def test_a_double_submission_is_decided_once(instant):
    first = _submit(instant.citizen, instant.transfer, key="same")
    second = _submit(instant.citizen, instant.transfer, key="same")
    assert first.pk == second.pk
    assert Application.objects.count() == 1
    assert Certificate.objects.filter(source=f"services:application:{first.pk}").count() == 1


def test_no_property_certificate_is_instant_for_someone_owning_nothing(instant):
    stranger = UserFactory(username="no-flat-2", role=Role.CITIZEN)
    PersonFactory(user=stranger, name="赵敏")
    matter = instant.subsidy  # a person form of 民政局, re-purposed for the test as 不动产登记中心's 无房证明
    from yiwang.core.models import Department

    matter.department = Department.objects.get(code="BDCDJ")
    matter.instant_rule = "services.no_property"
    matter.certificate_type = "WFZM"
    matter.save()
    from yiwang.services.services import autofill_grants_ensure

    autofill_grants_ensure(actor=instant.cdo)
    application = _submit(stranger, matter, key="wf")
    application.refresh_from_db()
    assert application.instant == INSTANT_APPROVED, application.instant_explanation
    certificate = Certificate.objects.get(number=application.certificate_number)
    assert certificate.fields["name"] == "赵敏" and "无不动产登记记录" in certificate.fields["result"]
    # The owner of a flat is not certified as owning none: a handler looks.
    owner = _submit(instant.citizen, matter, key="wf2")
    owner.refresh_from_db()
    assert owner.instant == INSTANT_FALLBACK and owner.certificate_number == ""


def test_through_the_api_the_answer_carries_the_outcome_and_the_certificate(instant):
    from django.test import Client

    from tests.factories import PASSWORD

    client = Client()
    assert client.login(username=instant.citizen.username, password=PASSWORD)
    body = {
        "matter": instant.transfer.code,
        "values": {"reason": "查询本人不动产"},
        "submission_key": "api-1",
    }
    created = client.post("/api/services/applications", body, content_type="application/json")
    assert created.status_code == 201, created.content
    answer = created.json()
    assert answer["state"] == states.APPROVED and answer["instant"] == INSTANT_APPROVED
    assert answer["certificate_number"].startswith("BDCCXZM-")
    assert [step["transition"] for step in answer["steps"] if step["kind"] == "transition"] == [
        "instant_approve"
    ]
