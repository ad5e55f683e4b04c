"""A beneficiary's objection to a no-application benefit, as a case type:

    received ──accept──▶ handling ──uphold──▶ upheld        (paid now if the rule finds them eligible)
        │                   └─────dismiss──▶ dismissed     (with the reason)
        └──────────uphold / dismiss─────────┘

The policy's department answers within 15 working days (the limit most Jiangxi 政务服务
matters give a reply; the objection is not an administrative reconsideration, which the
reply names as the next step). A yellow warning at 80 % of the time, a supervisor told when
it is overdue.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition
from yiwang.core.models import Role

OBJECTION = "benefits.objection"
RECEIVED = "received"
HANDLING = "handling"
UPHELD = "upheld"
DISMISSED = "dismissed"
REPLY_LIMIT = Limit(15, "days")


def _after_transition(*, case: Any, transition: str, actor: Any, note: str) -> None:
    """Upholding an objection pays the beneficiary (once) when the rule in force now finds
    them eligible; otherwise the uphold is refused (the source data must be corrected first)."""
    if transition == "uphold":
        from yiwang.benefits.services import objection_payment_make

        objection_payment_make(case=case, actor=actor)


OBJECTION_TYPE = CaseType(
    code=OBJECTION,
    label=_("Objection to a benefit"),
    reference_prefix="MS",
    case_limit=REPLY_LIMIT,
    states=(
        State(RECEIVED, pgettext_lazy("objection state", "Received")),
        State(HANDLING, pgettext_lazy("objection state", "Being handled")),
        State(UPHELD, pgettext_lazy("objection state", "Upheld"), final=True),
        State(DISMISSED, pgettext_lazy("objection state", "Dismissed"), final=True),
    ),
    initial=RECEIVED,
    transitions=(
        Transition(
            "accept",
            pgettext_lazy("objection transition", "Accept"),
            sources=(RECEIVED,),
            target=HANDLING,
            roles=(Role.DEPARTMENT_HANDLER,),
        ),
        Transition(
            "uphold",
            pgettext_lazy("objection transition", "Uphold (pay)"),
            sources=(RECEIVED, HANDLING),
            target=UPHELD,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
        Transition(
            "dismiss",
            pgettext_lazy("objection transition", "Dismiss with the reason"),
            sources=(RECEIVED, HANDLING),
            target=DISMISSED,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
    ),
    escalations=(
        Escalation(
            "objection_overdue",
            state=HANDLING,
            basis="case",
            notify_role=Role.SUPERVISOR,
            message=_("Objection to a benefit past its 15 working-day limit."),
        ),
        Escalation(
            "objection_not_accepted",
            state=RECEIVED,
            basis="case",
            notify_role=Role.SUPERVISOR,
            message=_("Objection to a benefit past its 15 working-day limit."),
        ),
    ),
    after_transition=_after_transition,
)
