"""Hotspots: topic × town clusters per period with their trend, rising first."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils.translation import gettext

from tests.hotline.conftest import at, request
from yiwang.hotline.hotspots import hotspots
from yiwang.hotline.models import Category
from yiwang.hotline.services import ticket_dispatch, ticket_intake

LAST_DAY = datetime.date(2026, 11, 15)  # periods: 11-09…11-15, 11-02…11-08, 10-26…11-01, …
DANJIANG = "安源区丹江街道建设社区5栋"
NANKENG = "芦溪县南坑镇滨河路8号"


@pytest.fixture
def clusters(hotline):
    categories = {category.name: category for category in Category.objects.all()}
    callers = itertools.count(1000)  # each filing from its own caller

    def file(category, address, moment, number=1):
        for _ in range(number):
            phone = f"1390799{next(callers):04d}"
            ticket = ticket_intake(
                data=request(address=address, caller_phone=phone),
                channel="web",
                actor=hotline.citizen,
                now=moment,
            )
            if category:
                ticket_dispatch(
                    ticket=ticket,
                    actor=hotline.dispatcher,
                    department=hotline.town_office,
                    category=categories[category],
                )

    file("城乡建设", DANJIANG, at(2026, 11, 10, 9), 3)
    file("城乡建设", DANJIANG, at(2026, 11, 15, 23, 30))  # the last evening of the last period
    file("城乡建设", DANJIANG, at(2026, 11, 2, 0, 5))
    file("城乡建设", DANJIANG, at(2026, 10, 30, 9))
    file("城乡建设", DANJIANG, at(2026, 11, 16, 0, 5))  # after the last day: left out
    file("劳动和社会保障", DANJIANG, at(2026, 11, 12, 9), 2)
    file("劳动和社会保障", DANJIANG, at(2026, 11, 5, 9), 2)
    file("城乡建设", NANKENG, at(2026, 11, 3, 9), 3)
    file("环境保护", NANKENG, at(2026, 11, 14, 9), 2)
    file(None, NANKENG, at(2026, 11, 13, 9))  # not classified yet
    file("环境保护", NANKENG, at(2026, 9, 1, 9), 5)  # long before the eight periods


@pytest.mark.django_db
def test_clusters_per_topic_and_town_with_their_trend_rising_first(hotline, clusters):
    result = hotspots(last_day=LAST_DAY)
    assert result.periods[-1] == (datetime.date(2026, 11, 9), LAST_DAY)
    assert result.periods[-2] == (datetime.date(2026, 11, 2), datetime.date(2026, 11, 8))
    assert result.periods[0] == (datetime.date(2026, 9, 21), datetime.date(2026, 9, 27))
    found = [(spot.topic, spot.area.split()[-1], spot.current, spot.previous) for spot in result.hotspots]
    assert found == [
        ("城乡建设", "丹江街街道", 4, 1),
        ("环境保护", "南坑镇", 2, 0),
        ("劳动和社会保障", "丹江街街道", 2, 2),
        ("城乡建设", "南坑镇", 0, 3),
    ]
    first = result.hotspots[0]
    assert first.counts == [0, 0, 0, 0, 0, 1, 1, 4]
    assert first.town_code == hotline.town.pk and first.rising
    assert first.change_text == "+3 (+300%)"
    assert result.hotspots[-1].change == -3 and not result.hotspots[-1].rising


@pytest.mark.django_db
def test_threshold_period_length_and_unclassified_tickets(hotline, clusters):
    everything = hotspots(last_day=LAST_DAY, minimum=1)
    topics = {(spot.topic, spot.area.split()[-1]) for spot in everything.hotspots}
    assert (gettext("Not yet classified"), "南坑镇") in topics
    assert len(everything.hotspots) == 5
    fortnight = hotspots(last_day=LAST_DAY, days=14, periods=2)
    spot = next(s for s in fortnight.hotspots if s.topic == "城乡建设" and s.town_code == hotline.town.pk)
    assert spot.counts == [1, 5]  # 10-19…11-01, 11-02…11-15
    with pytest.raises(ValueError):
        hotspots(last_day=LAST_DAY, periods=1)


@pytest.mark.django_db
def test_hotspot_page_shows_the_table_with_sparklines(client, hotline, clusters):
    client.force_login(hotline.citizen)
    assert client.get("/hotline/hotspots/").status_code == 403
    client.force_login(hotline.supervisor)
    page = client.get("/hotline/hotspots/", {"to": "2026-11-15"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'data-topic="城乡建设" data-town="{hotline.town.pk}"') < html.index(
        'data-topic="环境保护"'
    )
    assert html.count("<polyline") == 4
    page = client.get("/hotline/hotspots/", {"to": "2026-11-15", "days": "99", "min": "x"})
    assert page.status_code == 200 and page.context["days"] == 7 and page.context["minimum"] == 2
