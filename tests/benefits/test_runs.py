"""Runs: the eligible found by the rule in force, totals for review, four-eyes approval, the
ledger written and each beneficiary notified; nobody paid twice whatever reruns or crashes
happen, nobody missed."""

from __future__ import annotations

import datetime

import pytest

from tests.benefits.conftest import elderly, insurance_rows, push
from tests.factories import EnterpriseFactory
from yiwang.benefits.models import Entitlement, Notice, Payment, Policy, Run
from yiwang.benefits.services import policies_load, run_approve, run_compute, run_pay, run_reject, run_start
from yiwang.core.errors import Conflict, FieldErrors, Forbidden
from yiwang.core.models import AuditEntry
from yiwang.rules.models import RuleVersion

pytestmark = pytest.mark.django_db


def policy(code: str) -> Policy:
    return Policy.objects.get(code=f"benefits.{code}")


def test_the_four_policies_load_once_however_often(city):
    policies_load()
    assert set(Policy.objects.values_list("code", "department__code", "period_kind")) == {
        ("benefits.elderly_allowance", "MZ", "month"),
        ("benefits.job_retention", "RS", "year"),
        ("benefits.startup_subsidy", "RS", "once"),
        ("benefits.talent_subsidy", "RS", "once"),
    }
    assert RuleVersion.objects.filter(rule__code__startswith="benefits.", status="published").count() == 4
    assert RuleVersion.objects.filter(rule__code__startswith="benefits.").count() == 4


def test_a_run_finds_the_eligible_and_pays_after_a_second_person_approves(city):
    old = elderly(2, born=datetime.date(1930, 5, 5))  # 96: 100 yuan a month
    run = run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler)
    assert (run.state, run.evaluated_on, run.period) == ("review", datetime.date(2026, 11, 1), "2026-11")
    assert run.eligible_count == 3 and run.total_fen == 2 * 10000 + 5000  # the citizen turns 80 that day
    assert set(run.entitlements.values_list("beneficiary", flat=True)) == {
        city.citizen_person.id_number,
        *(person.id_number for person in old),
    }
    assert not Payment.objects.exists()
    with pytest.raises(Forbidden, match="双人复核"):
        run_approve(run=run, actor=city.mz_handler)
    with pytest.raises(Forbidden):
        run_approve(run=run, actor=city.rs_reviewer)  # another department
    paid = run_approve(run=run, actor=city.mz_reviewer, note="已核")
    assert (paid.state, paid.paid_count, paid.paid_fen, paid.skipped_count) == ("paid", 3, 25000, 0)
    ledger = Payment.objects.filter(policy__code="benefits.elderly_allowance", period="2026-11")
    assert ledger.count() == 3 and sum(ledger.values_list("amount_fen", flat=True)) == 25000
    notice = Notice.objects.get(beneficiary=city.citizen_person.id_number)
    assert "高龄津贴" in notice.message and "2026-11" in notice.message
    assert AuditEntry.objects.filter(action="benefits.run_approve", actor_id=city.mz_reviewer.pk).exists()
    with pytest.raises(Conflict):
        run_approve(run=paid, actor=city.mz_reviewer)


def test_only_the_policy_department_starts_a_run_and_a_bad_period_is_named(city):
    with pytest.raises(Forbidden):
        run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.outsider)
    with pytest.raises(FieldErrors) as refused:
        run_start(policy=policy("job_retention"), period="二〇二六", actor=city.rs_handler)
    assert refused.value.errors[0][0] == ("period",)
    assert not Run.objects.exists()


def test_a_rejected_run_pays_nobody(city):
    run = run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler)
    with pytest.raises(FieldErrors):
        run_reject(run=run, actor=city.mz_reviewer, note=" ")
    run = run_reject(run=run, actor=city.mz_reviewer, note="数据待核实")
    assert run.state == "rejected" and not Payment.objects.exists()


def test_a_second_run_of_the_same_period_pays_nobody_twice(city):
    elderly(3)
    first = run_approve(
        run=run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler),
        actor=city.mz_reviewer,
    )
    again = run_approve(
        run=run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler),
        actor=city.mz_reviewer,
    )
    assert first.paid_count == 4 and (again.paid_count, again.skipped_count, again.paid_fen) == (0, 4, 0)
    assert Payment.objects.count() == 4 and Notice.objects.count() == 4
    december = run_approve(
        run=run_start(policy=policy("elderly_allowance"), period="2026-12", actor=city.mz_handler),
        actor=city.mz_reviewer,
    )
    assert december.paid_count == 4 and Payment.objects.count() == 8


def test_a_run_killed_mid_way_and_resumed_pays_everyone_exactly_once(city):
    elderly(29)  # 30 with the citizen
    run = run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler, chunk_size=7)
    run.refresh_from_db()
    with pytest.raises(RuntimeError, match="simulated crash"):
        # approve, then the worker dies inside the third chunk's transaction
        from yiwang.benefits import services

        original = services.run_pay
        services.run_pay = lambda **kwargs: original(**kwargs, fail_after_chunks=2)
        try:
            run_approve(run=run, actor=city.mz_reviewer, chunk_size=7)
        finally:
            services.run_pay = original
    run.refresh_from_db()
    assert run.state == "paying" and run.paid_count == 14 and Payment.objects.count() == 14
    assert Notice.objects.count() == 14
    resumed = run_pay(run=run, chunk_size=7)
    assert (resumed.state, resumed.paid_count, resumed.skipped_count) == ("paid", 30, 0)
    assert Payment.objects.count() == 30 and Notice.objects.count() == 30
    assert not Entitlement.objects.filter(run=run).exclude(status="paid").exists()
    assert run_pay(run=resumed).paid_count == 30  # once more: nothing changes
    assert Payment.objects.count() == 30


def test_finding_the_eligible_killed_mid_way_completes_when_run_again(city):
    elderly(20)
    from yiwang.benefits import services

    original = services.run_compute
    services.run_compute = lambda **kwargs: original(**kwargs, fail_after=12)
    try:
        with pytest.raises(RuntimeError):
            run_start(
                policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler, chunk_size=5
            )
    finally:
        services.run_compute = original
    run = Run.objects.get()
    assert run.state == "computing" and 0 < run.entitlements.count() < 21
    run = run_compute(run=run, chunk_size=5)
    assert (run.state, run.eligible_count) == ("review", 21)
    assert run.entitlements.values("beneficiary").distinct().count() == 21


def test_job_retention_refunds_a_share_of_last_years_premiums(city):
    sme = EnterpriseFactory()
    large = EnterpriseFactory()
    laid_off = EnterpriseFactory()
    push(
        "rs.unemployment_insurance",
        insurance_rows(sme.uscc, insured=20, premium="1000.01")
        + insurance_rows(large.uscc, insured=1200, premium="50000.00")
        + insurance_rows(laid_off.uscc, insured=100, premium="2000.00", separations=6),
    )
    run = run_start(policy=policy("job_retention"), period="2026", actor=city.rs_handler)
    assert run.evaluated_on == datetime.date(2026, 1, 1)
    amounts = dict(run.entitlements.values_list("beneficiary", "amount_fen"))
    # 12 × 1,000.01 yuan × 60 % = 7,200.07 yuan (rounded down to the fen); large: 30 %
    assert amounts == {sme.uscc: 720007, large.uscc: 18000000}
    run = run_approve(run=run, actor=city.rs_reviewer)
    assert run.paid_fen == 18720007
    assert Payment.objects.get(beneficiary=sme.uscc).division_code == sme.division_id


def test_a_department_without_the_grants_is_refused_and_no_run_is_left(city):
    from yiwang.exchange.models import Grant
    from yiwang.exchange.selectors import ReadRefused

    Grant.objects.filter(consumer=city.mz).delete()
    with pytest.raises(ReadRefused, match="ga.persons.birth_date"):
        run_start(policy=policy("elderly_allowance"), period="2026-11", actor=city.mz_handler)
    assert not Run.objects.exists() and not Payment.objects.exists()
    assert AuditEntry.objects.filter(action="benefits.run_refused").exists()
    assert AuditEntry.objects.filter(action="rules.read_refused").exists()
