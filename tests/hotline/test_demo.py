"""Demo tickets: made by the real services, spread over the past, idempotent."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Count

from tests.hotline.conftest import at
from yiwang.cases.models import CaseEvent
from yiwang.hotline import cases as states
from yiwang.hotline.demo import hotline_demo_tickets
from yiwang.hotline.models import Ticket

NOW = at(2026, 11, 20, 12)  # a fixed present: the same seed then gives the same tickets


@pytest.mark.django_db
def test_demo_tickets_fill_the_past_through_the_loop_and_only_top_up(hotline, trained):
    assert hotline_demo_tickets(count=60, now=NOW) == 60
    assert Ticket.objects.count() == 60
    assert hotline_demo_tickets(count=60, now=NOW) == 0  # idempotent
    assert hotline_demo_tickets(count=65, seed=7, now=NOW) == 5  # tops up
    assert Ticket.objects.count() == 65

    now = NOW
    received = list(Ticket.objects.values_list("received_at", flat=True))
    assert all(now - datetime.timedelta(days=91) < moment < now for moment in received)
    assert max(received) - min(received) > datetime.timedelta(days=30)
    states_seen = dict(Ticket.objects.values_list("case__state").annotate(n=Count("pk")))
    assert states_seen.get(states.CLOSED, 0) > 20
    assert Ticket.objects.exclude(rating="").exists()
    assert Ticket.objects.filter(kind="consultation").exists()
    # Every ticket's timeline runs forward in time from its receipt.
    for ticket in Ticket.objects.select_related("case")[:20]:
        moments = list(
            CaseEvent.objects.filter(case=ticket.case, kind__in=["opened", "transition"])
            .order_by("id")
            .values_list("at", flat=True)
        )
        assert moments[0] == ticket.received_at
        assert moments == sorted(moments)


@pytest.mark.django_db
def test_hotline_seed_command_takes_tickets(hotline, trained, capsys):
    call_command("hotline_seed", tickets=12)
    assert "12 created" in capsys.readouterr().out
    call_command("hotline_seed", tickets=12)
    assert "0 created" in capsys.readouterr().out
    assert Ticket.objects.count() == 12


@pytest.mark.django_db
def test_without_a_routing_model_the_demo_dispatcher_routes_every_ticket(hotline):
    assert hotline_demo_tickets(count=50, seed=3, now=NOW) == 50
    assert not Ticket.objects.filter(auto_dispatched=True).exists()
    assert Ticket.objects.exclude(dispatched_at=None).count() > 20
    answered = Ticket.objects.filter(case__department=hotline.centre).exclude(replied_at=None)
    assert answered.exists()  # consultations the centre answered itself
    # … one rated 不满意 went back to the dispatcher, who sent it to a department (seed 3)
    redispatched = CaseEvent.objects.filter(transition="rate_redispatch").values_list("case_id", flat=True)
    assert redispatched
    assert not Ticket.objects.filter(
        pk__in=redispatched, case__department=hotline.centre, case__state="replied"
    ).exists()
