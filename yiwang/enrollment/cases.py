"""An enrollment appeal (入学申诉) as a case type, handled by the education bureau:

    submitted ──accept──▶ reviewing ──uphold (with a note)──▶ upheld
                              └──────reject (with a note)──▶ rejected

The whole case is due in the season's working days (Season.appeal_days, 5 by default), set
when the appeal is filed. Upholding seats the appellant at the school asked for (a free seat,
or one the bureau adds) without moving anyone else: services.appeal_seat runs inside the
transition's transaction.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition
from yiwang.core.models import Role

APPEAL = "enrollment.appeal"
SUBMITTED, REVIEWING, UPHELD, REJECTED = "submitted", "reviewing", "upheld", "rejected"


def _after_transition(*, case: Any, transition: str, actor: Any, note: str) -> None:
    from yiwang.enrollment.models import Appeal
    from yiwang.enrollment.services import appeal_seat

    if transition not in ("uphold", "reject"):
        return
    appeal = Appeal.objects.select_related("registration__season", "case").get(case=case)
    appeal_seat(appeal=appeal, actor=actor, upheld=transition == "uphold")


APPEAL_TYPE = CaseType(
    code=APPEAL,
    label=_("Enrollment appeal"),
    reference_prefix="JYSS",
    states=(
        State(SUBMITTED, pgettext_lazy("appeal state", "Submitted"), limit=Limit(1, "days")),
        State(REVIEWING, pgettext_lazy("appeal state", "Under review")),
        State(UPHELD, pgettext_lazy("appeal state", "Upheld"), final=True),
        State(REJECTED, pgettext_lazy("appeal state", "Rejected"), final=True),
    ),
    initial=SUBMITTED,
    transitions=(
        Transition(
            "accept",
            pgettext_lazy("appeal transition", "Accept for review"),
            sources=(SUBMITTED,),
            target=REVIEWING,
            roles=(Role.DEPARTMENT_HANDLER,),
        ),
        Transition(
            "uphold",
            pgettext_lazy("appeal transition", "Uphold and seat the child"),
            sources=(SUBMITTED, REVIEWING),
            target=UPHELD,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
        Transition(
            "reject",
            pgettext_lazy("appeal transition", "Reject"),
            sources=(SUBMITTED, REVIEWING),
            target=REJECTED,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
    ),
    escalations=(
        Escalation(
            "appeal_overdue",
            state=REVIEWING,
            basis="case",
            notify_role=Role.SUPERVISOR,
            message=_("An enrollment appeal is past its time limit."),
        ),
    ),
    after_transition=_after_transition,
)
