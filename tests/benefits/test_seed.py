"""The demo's benefits: coherent records so each policy has some eligible and some not, one
approved run per policy, the demo citizen and enterprise agent paid; a second seed changes
nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from yiwang.benefits.models import Payment, Policy, Run
from yiwang.benefits.seed import benefits_demo_seed
from yiwang.benefits.selectors import my_benefits
from yiwang.core.models import User
from yiwang.core.reference import reference_load
from yiwang.exchange.models import Record
from yiwang.registry.seed import demo_logins_ensure, registry_seed

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def test_the_demo_pays_each_policy_to_some_and_not_others_once(capsys):
    reference_load()
    registry_seed(persons=3000, seed=7, as_of=datetime.date(2026, 1, 1))
    demo_logins_ensure()
    result = benefits_demo_seed(today=TODAY)
    assert len(result["runs"]) == 4
    for policy in Policy.objects.all():
        run = Run.objects.get(policy=policy)
        assert run.state == "paid" and run.paid_count > 0, policy.code
        assert run.started_by.username == "department_handler" and run.approved_by.username == "supervisor"
    migrants = Record.objects.filter(resource__code="rs.returning_migrants").count()
    graduates = Record.objects.filter(resource__code="jy.graduates").count()
    assert Run.objects.get(policy__code="benefits.startup_subsidy").paid_count < migrants
    assert Run.objects.get(policy__code="benefits.talent_subsidy").paid_count < graduates
    insured = (
        Record.objects.filter(resource__code="rs.unemployment_insurance")
        .values("subject_key")
        .distinct()
        .count()
    )
    assert Run.objects.get(policy__code="benefits.job_retention").paid_count < insured
    citizen = User.objects.get(username="citizen")
    assert "benefits.talent_subsidy" in {row.policy.code for row in my_benefits(user=citizen)}
    agent = User.objects.get(username="enterprise_agent")
    assert [row.policy.code for row in my_benefits(user=agent)] == ["benefits.job_retention"]
    paid, runs = Payment.objects.count(), Run.objects.count()
    again = benefits_demo_seed(today=TODAY)
    assert again["runs"] == [] and again["grants"] == 0 and not any(again["records"].values())
    assert (Payment.objects.count(), Run.objects.count()) == (paid, runs)
    call_command("benefits_seed")
    assert "benefits run:" in capsys.readouterr().out
