"""Metrics on a known fixture: mount rate, timeliness, reads per consumer and resource."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.exchange.conftest import ID_A
from yiwang.exchange import services
from yiwang.exchange.models import Resource
from yiwang.exchange.selectors import exchange_metrics, exchange_read

pytestmark = pytest.mark.django_db


def test_metrics_on_a_known_fixture(hub):
    # Catalog: hub's resource (records, updated now), a monthly one never mounted, a weekly
    # one mounted but stale, and one backed by the registry (always mounted and live).
    for code, frequency in (("yb.empty", "monthly"), ("yb.stale", "weekly")):
        services.resource_publish(
            actor=None,
            department=hub.owner,
            code=code,
            title=code,
            subject_type="none",
            key_field="k",
            fields=[{"name": "k", "sharing_class": "open"}],
            update_frequency=frequency,
        )
    Resource.objects.filter(code="yb.stale").update(
        record_count=5, last_updated_at=timezone.now() - datetime.timedelta(days=8)
    )
    services.resource_publish(
        actor=None,
        department=hub.owner,
        code="yb.persons",
        title="persons",
        subject_type="person",
        key_field="id_number",
        fields=[],
        backing="person",
    )
    for _ in range(3):
        exchange_read(consumer=hub.consumer, resource_code=hub.resource.code, subject=ID_A, purpose="p")
    exchange_read(consumer=hub.outsider, resource_code=hub.resource.code, subject=ID_A, purpose="p")
    exchange_read(consumer=hub.outsider, resource_code="yb.persons", subject=ID_A, purpose="p")
    services.access_request_submit(
        actor=hub.consumer_user,
        consumer=hub.consumer,
        resource=hub.resource,
        fields=["self_pay"],
        purpose="p",
        legal_basis="b",
        duration_days=5,
    )

    metrics = exchange_metrics()
    assert metrics["resources"] == 4
    assert metrics["mounted"] == 3 and metrics["mount_rate"] == 0.75
    assert metrics["timely"] == 2 and metrics["timeliness_rate"] == 0.5
    assert metrics["reads"] == 5
    assert [(row["consumer__code"], row["reads"]) for row in metrics["reads_per_consumer"]] == [
        ("MZ", 3),
        ("JY", 2),
    ]
    assert [(row["resource__code"], row["reads"]) for row in metrics["reads_per_resource"]] == [
        ("yb.self_pay_claims", 4),
        ("yb.persons", 1),
    ]
    assert metrics["pending_requests"] == 1
