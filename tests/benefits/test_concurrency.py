"""Two runs of the same policy and period paying at the same time, and two workers resuming
the same run at the same time, in real threads with their own database connections: everyone
paid exactly once, nobody missed, the runs' counters add up."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.benefits.conftest import elderly
from yiwang.benefits.models import Entitlement, Notice, Payment, Policy, Run
from yiwang.benefits.services import run_approve, run_pay, run_start

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*functions):
    barrier = threading.Barrier(len(functions))
    errors = []

    def call(function):
        try:
            barrier.wait(timeout=30)
            function()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_concurrent_runs_and_workers_pay_everyone_exactly_once(city):
    elderly(39)  # 40 with the citizen
    elderly_policy = Policy.objects.get(code="benefits.elderly_allowance")
    first = run_start(policy=elderly_policy, period="2026-11", actor=city.mz_handler, chunk_size=6)
    second = run_start(policy=elderly_policy, period="2026-11", actor=city.mz_handler, chunk_size=6)
    # approve both without paying yet, then let three workers pay: two on the first run
    from yiwang.benefits import services

    original = services.run_pay
    services.run_pay = lambda *, run, chunk_size: run
    try:
        run_approve(run=first, actor=city.mz_reviewer)
        run_approve(run=second, actor=city.mz_reviewer)
    finally:
        services.run_pay = original
    _together(
        lambda: run_pay(run=Run.objects.get(pk=first.pk), chunk_size=6),
        lambda: run_pay(run=Run.objects.get(pk=first.pk), chunk_size=6),
        lambda: run_pay(run=Run.objects.get(pk=second.pk), chunk_size=6),
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("paid", "paid")
    assert Payment.objects.count() == 40 and Notice.objects.count() == 40
    assert Payment.objects.values("beneficiary").distinct().count() == 40
    assert first.paid_count + second.paid_count == 40
    assert first.paid_count + first.skipped_count == 40 and second.paid_count + second.skipped_count == 40
    assert first.paid_fen + second.paid_fen == sum(Payment.objects.values_list("amount_fen", flat=True))
    assert not Entitlement.objects.filter(status="pending").exists()
    for run in (first, second):
        assert (
            Entitlement.objects.filter(run=run, status="paid").count()
            == Payment.objects.filter(run=run).count()
        )
