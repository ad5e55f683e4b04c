"""The hotline ticket as a case type: 群众诉求 → 智能分拨 → 部门处置 → 满意度评价 → 闭环督办.

    dispatching ──dispatch / auto_dispatch──▶ assigned ──accept──▶ handling ──reply──▶ replied
        │  ▲                                     │                   │  ▲                 │
        │  └────────────── return ───────────────┴───────────────────┘  │                 │
        ├─answer (the centre answers a consultation itself) ────────────┼────────────────▶│
        └─merge──▶ merged                      press / supervise_overdue│                 │
                                                        ▼               │                 │
                                                    supervised ──reply──┘                 │
    replied ──rate_close (满意/基本满意) / close_unrated (no answer in 2 working days)──▶ closed
    replied ──rate_reopen (不满意)──▶ supervised        (a department replied: it acts again)
    replied ──rate_redispatch (不满意)──▶ dispatching   (the centre answered: a department must act)
    supervised, replied ──close_unresolved (supervisor, with the reason)──▶ closed_unresolved

The time limit from intake to the reply is the ticket kind's (KindLimit rows); states have
their own limits for dispatching, accepting, supervised handling and the callback.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition
from yiwang.core.models import Role

TICKET = "hotline.ticket"

DISPATCHING = "dispatching"
ASSIGNED = "assigned"
HANDLING = "handling"
SUPERVISED = "supervised"
REPLIED = "replied"
CLOSED = "closed"
CLOSED_UNRESOLVED = "closed_unresolved"
MERGED = "merged"

# States in which a department holds the ticket (for "open at the same place" and KPIs).
WITH_DEPARTMENT = (ASSIGNED, HANDLING, SUPERVISED)
OPEN_STATES = (DISPATCHING, ASSIGNED, HANDLING, SUPERVISED, REPLIED)
FINAL_STATES = (CLOSED, CLOSED_UNRESOLVED, MERGED)


def _after_transition(*, case: Any, transition: str, actor: Any, note: str) -> None:
    """Keep the ticket's own record of the loop in step with the case, whichever page or API
    took the transition."""
    from yiwang.hotline.models import Ticket

    now = case.state_entered_at or timezone.now()
    changes: dict[str, Any] = {}
    if transition in ("dispatch", "auto_dispatch"):
        changes = {"dispatched_at": now, "accepted_at": None}
    elif transition == "accept":
        changes = {"accepted_at": now}
    elif transition in ("return", "rate_redispatch"):
        changes = {"dispatched_at": None, "accepted_at": None}
    elif transition in ("reply", "answer"):
        late = case.case_deadline is not None and case.case_deadline < now
        changes = {"reply": note, "replied_at": now, "reply_late": late}
    if changes:
        Ticket.objects.filter(pk=case.pk).update(**changes)


TICKET_TYPE = CaseType(
    code=TICKET,
    label=_("Hotline ticket"),
    reference_prefix="RX",
    viewer_roles=(Role.HOTLINE_OPERATOR,),
    states=(
        State(DISPATCHING, pgettext_lazy("ticket state", "Awaiting dispatch"), limit=Limit(2, "hours")),
        State(ASSIGNED, pgettext_lazy("ticket state", "Awaiting acceptance"), limit=Limit(2, "hours")),
        State(HANDLING, pgettext_lazy("ticket state", "Being handled")),
        State(SUPERVISED, pgettext_lazy("ticket state", "Under supervision"), limit=Limit(3, "days")),
        State(
            REPLIED,
            pgettext_lazy("ticket state", "Replied, awaiting the satisfaction check"),
            limit=Limit(2, "days"),
        ),
        State(CLOSED, pgettext_lazy("ticket state", "Closed"), final=True),
        State(CLOSED_UNRESOLVED, pgettext_lazy("ticket state", "Closed but not resolved"), final=True),
        State(MERGED, pgettext_lazy("ticket state", "Merged into another ticket"), final=True),
    ),
    initial=DISPATCHING,
    transitions=(
        Transition(
            "dispatch",
            pgettext_lazy("ticket transition", "Dispatch"),
            sources=(DISPATCHING,),
            target=ASSIGNED,
            roles=(Role.DISPATCHER,),
        ),
        Transition(
            "auto_dispatch",
            pgettext_lazy("ticket transition", "Dispatch automatically"),
            sources=(DISPATCHING,),
            target=ASSIGNED,
            system=True,
        ),
        Transition(
            "answer",
            pgettext_lazy("ticket transition", "Answer directly"),
            sources=(DISPATCHING,),
            target=REPLIED,
            roles=(Role.HOTLINE_OPERATOR, Role.DISPATCHER),
            note_required=True,
        ),
        Transition(
            "merge",
            pgettext_lazy("ticket transition", "Merge into an open ticket"),
            sources=(DISPATCHING,),
            target=MERGED,
            system=True,
        ),
        Transition(
            "accept",
            pgettext_lazy("ticket transition", "Accept"),
            sources=(ASSIGNED,),
            target=HANDLING,
            roles=(Role.DEPARTMENT_HANDLER,),
        ),
        Transition(
            "return",
            pgettext_lazy("ticket transition", "Return to the dispatcher"),
            sources=(ASSIGNED, HANDLING),
            target=DISPATCHING,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
        Transition(
            "reply",
            pgettext_lazy("ticket transition", "Reply to the citizen"),
            sources=(HANDLING, SUPERVISED),
            target=REPLIED,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
        Transition(
            "press",
            pgettext_lazy("ticket transition", "Press (supervise)"),
            sources=(ASSIGNED, HANDLING),
            target=SUPERVISED,
            roles=(Role.SUPERVISOR,),
            note_required=True,
        ),
        Transition(
            "supervise_overdue",
            pgettext_lazy("ticket transition", "Supervise an overdue ticket"),
            sources=(HANDLING,),
            target=SUPERVISED,
            system=True,
        ),
        Transition(
            "rate_close",
            pgettext_lazy("ticket transition", "Rated satisfied: close"),
            sources=(REPLIED,),
            target=CLOSED,
            system=True,
        ),
        Transition(
            "rate_reopen",
            pgettext_lazy("ticket transition", "Rated unsatisfied: reopen under supervision"),
            sources=(REPLIED,),
            target=SUPERVISED,
            system=True,
        ),
        Transition(
            "rate_redispatch",
            pgettext_lazy("ticket transition", "Rated unsatisfied: send to a department"),
            sources=(REPLIED,),
            target=DISPATCHING,
            system=True,
        ),
        Transition(
            "close_unrated",
            pgettext_lazy("ticket transition", "Close without a rating"),
            sources=(REPLIED,),
            target=CLOSED,
            system=True,
        ),
        Transition(
            "close_unresolved",
            pgettext_lazy("ticket transition", "Close as not resolved"),
            sources=(SUPERVISED, REPLIED),
            target=CLOSED_UNRESOLVED,
            roles=(Role.SUPERVISOR,),
            note_required=True,
        ),
    ),
    escalations=(
        Escalation(
            "dispatch_late",
            state=DISPATCHING,
            notify_role=Role.DISPATCHER,
            message=_("Ticket waiting for dispatch for more than 2 working hours."),
        ),
        Escalation(
            "accept_late",
            state=ASSIGNED,
            notify_role=Role.DISPATCHER,
            message=_("The department has not accepted the ticket within 2 working hours."),
        ),
        Escalation(
            "handling_overdue",
            state=HANDLING,
            basis="case",
            notify_role=Role.SUPERVISOR,
            message=_("Ticket past its time limit without a reply."),
        ),
        Escalation(
            "handling_supervise",
            state=HANDLING,
            basis="case",
            overdue_by=Limit(1, "days"),
            transition="supervise_overdue",
            notify_role=Role.SUPERVISOR,
            message=_("Ticket overdue by a working day: put under supervision."),
        ),
        Escalation(
            "supervised_overdue",
            state=SUPERVISED,
            notify_role=Role.SUPERVISOR,
            message=_("Supervised ticket past its time limit."),
        ),
        Escalation(
            "callback_late",
            state=REPLIED,
            transition="close_unrated",
            message=_("No rating within 2 working days of the reply: closed without a rating."),
        ),
    ),
    after_transition=_after_transition,
)
