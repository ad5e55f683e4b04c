"""The demo's relapse monitoring (yiwang relapse_seed): coherent (the household at exactly
15,000.00 yuan is warned, the one a fen below is not; the flood and the accident are warned;
some households are monitored with measures and one's risk is cleared) and idempotent."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from yiwang.cases.models import Case
from yiwang.relapse.demo import relapse_demo_seed
from yiwang.relapse.models import Measure, MonitoredHousehold, Warning

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def test_the_demo_is_coherent_and_idempotent(city):
    for index in range(16):
        city.household(members=2 + index % 3, village=city.village if index % 2 else city.other_village)
    first = relapse_demo_seed(today=TODAY)
    sources = set(Warning.objects.values_list("source", flat=True))
    assert {"medical", "disaster", "accident"} <= sources
    assert first["monitored"] >= 4 and first["cleared"] == 1
    assert Measure.objects.exists() and all(m.amount_fen >= 0 for m in Measure.objects.all())
    totals = {}
    for warning in Warning.objects.filter(source="medical"):
        totals[warning.household_id] = next(f["value"] for f in warning.findings if f["id"] == "self_pay")
    assert 1500000 in totals.values() and all(value >= 1500000 for value in totals.values())
    counts = (
        Warning.objects.count(),
        Case.objects.count(),
        MonitoredHousehold.objects.count(),
        Measure.objects.count(),
    )
    out = StringIO()
    call_command("relapse_seed", today=TODAY.isoformat(), stdout=out)
    assert "warnings:" in out.getvalue()
    assert (
        Warning.objects.count(),
        Case.objects.count(),
        MonitoredHousehold.objects.count(),
        Measure.objects.count(),
    ) == counts
