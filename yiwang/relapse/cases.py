"""A warning's verification (核实) as a case type of the cases engine:

    verifying ──confirm (town cadre: risk types, one-to-one cadre)──▶ confirmed → monitored household
        └──────dismiss (town cadre, with the reason)───────────────▶ dismissed

The case belongs to the town government (乡镇人民政府/街道办事处) of the household, whose
department handlers are the town cadres; it must be verified within 15 working days, turns
yellow at 80 % of that, red at the deadline (the 乡村振兴局's supervisor is told) and, five
working days later, the city leaders are told too.

Whichever page or API takes the transition, `_after_transition` keeps the warning and the
monitored household in step with the case, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition
from yiwang.core.models import Role

VERIFICATION = "relapse.verification"
VERIFYING = "verifying"
CONFIRMED = "confirmed"
DISMISSED = "dismissed"
VERIFY_LIMIT = Limit(15, "days")


def _after_transition(*, case: Any, transition: str, actor: Any, note: str) -> None:
    from yiwang.relapse.services import verification_settle

    verification_settle(case=case, transition=transition, actor=actor, note=note)


VERIFICATION_TYPE = CaseType(
    code=VERIFICATION,
    label=_("Relapse warning verification"),
    reference_prefix="FP",
    states=(
        State(VERIFYING, pgettext_lazy("warning state", "Being verified"), limit=VERIFY_LIMIT),
        State(CONFIRMED, pgettext_lazy("warning state", "Confirmed: monitored"), final=True),
        State(DISMISSED, pgettext_lazy("warning state", "Dismissed"), final=True),
    ),
    initial=VERIFYING,
    transitions=(
        Transition(
            "confirm",
            pgettext_lazy("warning transition", "Confirm: monitor the household"),
            sources=(VERIFYING,),
            target=CONFIRMED,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
        Transition(
            "dismiss",
            pgettext_lazy("warning transition", "Dismiss"),
            sources=(VERIFYING,),
            target=DISMISSED,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
    ),
    escalations=(
        Escalation(
            "verify_overdue",
            state=VERIFYING,
            notify_role=Role.SUPERVISOR,
            message=_("A relapse warning has not been verified within 15 working days."),
        ),
        Escalation(
            "verify_overdue_leader",
            state=VERIFYING,
            overdue_by=Limit(5, "days"),
            notify_role=Role.CITY_LEADER,
            message=_("A relapse warning is overdue for verification by 5 working days."),
        ),
    ),
    after_transition=_after_transition,
)
