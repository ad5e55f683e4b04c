"""The beneficiary's side: my benefits with the explanation of why, "why not" with the failing
condition, declining, and an objection handled as a case by the policy's department; and the
figures per policy with the share paid without an application."""

from __future__ import annotations

import datetime

import pytest

from tests.benefits.conftest import insurance_rows, push
from yiwang.benefits.cases import OBJECTION
from yiwang.benefits.models import Payment, Policy
from yiwang.benefits.selectors import benefit_explanation, benefit_figures, my_benefits
from yiwang.benefits.services import (
    benefit_decline,
    notices_read,
    objection_submit,
    run_approve,
    run_start,
)
from yiwang.cases.models import Notification
from yiwang.cases.services import case_transition
from yiwang.core.calendar import WorkingDayCalendar
from yiwang.core.errors import Conflict, FieldErrors, NotFound
from yiwang.core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


def policy(code: str) -> Policy:
    return Policy.objects.get(code=f"benefits.{code}")


def pay_elderly(city, period="2026-11"):
    return run_approve(
        run=run_start(policy=policy("elderly_allowance"), period=period, actor=city.mz_handler),
        actor=city.mz_reviewer,
    )


def test_the_citizen_sees_the_payment_and_why(city):
    run = run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler)
    [pending] = my_benefits(user=city.citizen)
    assert (pending.status, pending.amount_fen) == ("pending", 5000)
    run_approve(run=run, actor=city.mz_reviewer)
    [paid] = my_benefits(user=city.citizen)
    assert (paid.status, paid.amount_fen, paid.period, paid.unread) == ("paid", 5000, "2026-11", True)
    assert notices_read(user=city.citizen) == 1 and not my_benefits(user=city.citizen)[0].unread
    why = benefit_explanation(
        policy=paid.policy, beneficiary=paid.beneficiary, period=paid.period, user=city.citizen
    )
    assert why.eligible and why.amount == 5000
    age = next(condition for condition in why.conditions if condition.id == "age")
    assert (age.value, age.compared_with, age.passed) == (80, 80, True)
    assert age.basis["document"].startswith("《江西省民政厅")
    assert AuditEntry.objects.filter(action="rules.batch_read", actor_id=city.citizen.pk).exists()
    # someone else's benefit is not found, whoever asks
    with pytest.raises(NotFound):
        benefit_explanation(
            policy=paid.policy, beneficiary=paid.beneficiary, period="2026-11", user=city.agent
        )


def test_why_not_names_the_failing_condition(city):
    why = benefit_explanation(
        policy=policy("talent_subsidy"),
        beneficiary=city.citizen_person.id_number,
        period="once",
        user=city.citizen,
    )
    assert not why.eligible
    failed = {condition.id for condition in why.conditions if not condition.passed}
    assert {"degree", "graduated_recently", "settled"} <= failed


def test_a_declined_benefit_is_not_paid_again(city):
    pay_elderly(city)
    benefit_decline(
        policy=policy("elderly_allowance"), beneficiary=city.citizen_person.id_number, actor=city.citizen
    )
    with pytest.raises(Conflict):
        benefit_decline(
            policy=policy("elderly_allowance"), beneficiary=city.citizen_person.id_number, actor=city.citizen
        )
    with pytest.raises(NotFound):
        benefit_decline(
            policy=policy("elderly_allowance"), beneficiary=city.citizen_person.id_number, actor=city.agent
        )
    december = pay_elderly(city, "2026-12")
    assert (december.paid_count, december.skipped_count) == (0, 1)
    assert not Payment.objects.filter(period="2026-12").exists()


def test_an_objection_is_a_case_of_the_department_and_upholding_it_pays_once(city):
    person = city.citizen_person
    startup = policy("startup_subsidy")
    with pytest.raises(FieldErrors):
        objection_submit(
            policy=startup, beneficiary=person.id_number, period="once", text=" ", actor=city.citizen
        )
    objection = objection_submit(
        policy=startup,
        beneficiary=person.id_number,
        period="once",
        text="我2025年返乡开了个体店，已经营业一年，为什么没有收到创业补贴？",
        actor=city.citizen,
    )
    case = objection.case
    assert (case.type_code, case.department_id, case.state) == (OBJECTION, city.rs.pk, "received")
    opened = case.opened_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
    assert case.case_deadline.date() == WorkingDayCalendar().add_working_days(opened, 15)
    assert Notification.objects.filter(case=case, role=Role.DEPARTMENT_HANDLER, department=city.rs).exists()
    case = case_transition(
        case=case, transition="accept", actor=city.rs_handler, expected_version=case.version
    )
    # the registers do not show it yet: upholding is refused, nothing paid
    with pytest.raises(Conflict):
        case_transition(
            case=case,
            transition="uphold",
            actor=city.rs_handler,
            expected_version=case.version,
            note="核实属实",
        )
    assert not Payment.objects.exists()
    push(
        "rs.returning_migrants",
        [
            {
                "record_no": "FX1",
                "id_number": person.id_number,
                "returned_on": "2025-03-01",
                "worked_in": "广东省东莞市",
                "registered_on": "2025-03-10",
            }
        ],
    )
    push(
        "scjg.legal_representatives",
        [
            {
                "uscc": "92360302MA00000001",
                "id_number": person.id_number,
                "entity_kind": "individual",
                "established_on": "2025-04-01",
                "status": "active",
            }
        ],
    )
    case.refresh_from_db()
    case = case_transition(
        case=case,
        transition="uphold",
        actor=city.rs_handler,
        expected_version=case.version,
        note="经核实符合条件，补发",
    )
    payment = Payment.objects.get()
    assert (payment.origin, payment.amount_fen, payment.period, case.state) == (
        "objection",
        500000,
        "once",
        "upheld",
    )
    # a later run finds the same person and pays nobody twice
    run = run_approve(
        run=run_start(
            policy=startup, period="once", actor=city.rs_handler, evaluated_on=datetime.date(2026, 11, 23)
        ),
        actor=city.rs_reviewer,
    )
    assert (run.eligible_count, run.paid_count, run.skipped_count) == (1, 0, 1)
    figures = benefit_figures()
    row = next(row for row in figures["policies"] if row["policy"].code == "benefits.startup_subsidy")
    assert (row["count"], row["platform"], row["objection_paid"], row["objections"], row["share"]) == (
        1,
        0,
        1,
        1,
        0.0,
    )


def test_the_enterprise_agent_sees_the_refund_and_the_figures_count_it(city):
    push("rs.unemployment_insurance", insurance_rows(city.enterprise.uscc, insured=25, premium="800.00"))
    run_approve(
        run=run_start(policy=policy("job_retention"), period="2026", actor=city.rs_handler),
        actor=city.rs_reviewer,
    )
    pay_elderly(city)
    [refund] = my_benefits(user=city.agent)
    assert (refund.policy.code, refund.amount_fen, refund.period) == (
        "benefits.job_retention",
        576000,
        "2026",
    )
    why = benefit_explanation(
        policy=refund.policy, beneficiary=refund.beneficiary, period="2026", user=city.agent
    )
    assert why.eligible and why.amount == 576000
    figures = benefit_figures()
    assert figures["count"] == 2 and figures["amount"] == 576000 + 5000 and figures["share"] == 100.0
    assert {row["code"] for row in figures["by_county"]} == {city.county.code}
    assert benefit_figures(period="2026")["count"] == 1
