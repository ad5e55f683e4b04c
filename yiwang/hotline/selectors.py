"""Reading tickets: lists for the centre and the departments, and similar open tickets."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet

from yiwang.core.models import DivisionLevel
from yiwang.hotline import cases as states
from yiwang.hotline.models import Ticket

SIMILAR_WINDOW = datetime.timedelta(days=30)
SIMILAR_MIN_SCORE = 0.35
SIMILAR_CANDIDATES = 500


def _bigrams(text: str) -> frozenset[str]:
    chars = [ch for ch in text if not ch.isspace() and ch not in "，。！？、；：,.!?;:（）()“”\"'"]
    return frozenset(a + b for a, b in zip(chars, chars[1:], strict=False))


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character bigrams (0 … 1)."""
    left, right = _bigrams(a), _bigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _town_code(division: Any) -> str:
    return division.parent_id if division.level == DivisionLevel.VILLAGE else division.pk


def tickets_similar(*, ticket: Ticket, limit: int = 5) -> list[tuple[Ticket, float]]:
    """Open tickets at the same place (the same town) from the last 30 days that say nearly
    the same thing, most similar first: offered to the operator for merging."""
    town = _town_code(ticket.division)
    since = ticket.received_at - SIMILAR_WINDOW
    candidates = (
        Ticket.objects.filter(
            case__state__in=states.OPEN_STATES,
            received_at__gte=since,
            duplicate_of__isnull=True,
        )
        .filter(division__pk__startswith=town)
        .exclude(pk=ticket.pk)
        .select_related("case", "division")
        .order_by("-received_at")[:SIMILAR_CANDIDATES]
    )
    scored = [(other, text_similarity(ticket.text, other.text)) for other in candidates]
    scored = [(other, round(score, 3)) for other, score in scored if score >= SIMILAR_MIN_SCORE]
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


def ticket_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related(
        "case", "case__department", "division", "division__parent", "category", "suggested_department"
    )


def dispatcher_queue() -> QuerySet[Ticket]:
    """Tickets waiting for a dispatcher: routing was not sure, a department returned them, or
    the classifier is not trained yet. Oldest first."""
    return ticket_queryset().filter(case__state=states.DISPATCHING).order_by("received_at", "case_id")


def callback_queue() -> QuerySet[Ticket]:
    """Replied tickets waiting for the satisfaction check, oldest reply first."""
    return ticket_queryset().filter(case__state=states.REPLIED).order_by("replied_at", "case_id")


def tickets_of_citizen(*, user: Any) -> QuerySet[Ticket]:
    return ticket_queryset().filter(citizen=user).order_by("-received_at")


def ticket_by_token(token: Any) -> Ticket | None:
    return ticket_queryset().filter(token=token).first()
