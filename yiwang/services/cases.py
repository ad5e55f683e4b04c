"""The application (办件) as a case type: 申请 → 受理 → 审查 → 办结.

    submitted ──accept──▶ reviewing ──approve──▶ approved
        │  ▲                  │  └──reject (note)──▶ rejected
        │  └── resubmit ──┐   └──request_correction (note)──▶ correction
        ├──refuse (不予受理, note)──▶ not_accepted      │
        └──request_correction (note)──▶ correction ─────┘ (the applicant supplies what is missing)
    submitted, correction ──withdraw (the applicant)──▶ withdrawn

The case's time limit is the matter's promised (else legal) limit in working days; acceptance
has one working day of its own.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition
from yiwang.core.models import Role

APPLICATION = "services.application"

SUBMITTED = "submitted"
REVIEWING = "reviewing"
CORRECTION = "correction"
APPROVED = "approved"
REJECTED = "rejected"
NOT_ACCEPTED = "not_accepted"
WITHDRAWN = "withdrawn"

OPEN_STATES = (SUBMITTED, REVIEWING, CORRECTION)
# Ends the applicant may rate (好差评): a decision was made.
RATEABLE_STATES = (APPROVED, REJECTED, NOT_ACCEPTED)

HANDLERS = (Role.DEPARTMENT_HANDLER,)
ACCEPTORS = (Role.DEPARTMENT_HANDLER, Role.WINDOW_CLERK)

APPLICATION_TYPE = CaseType(
    code=APPLICATION,
    label=_("Service application"),
    reference_prefix="BJ",
    viewer_roles=(Role.WINDOW_CLERK,),
    states=(
        State(
            SUBMITTED,
            pgettext_lazy("application state", "Submitted, awaiting acceptance"),
            limit=Limit(1, "days"),
        ),
        State(REVIEWING, pgettext_lazy("application state", "Accepted, under review")),
        State(CORRECTION, pgettext_lazy("application state", "Awaiting corrections from the applicant")),
        State(APPROVED, pgettext_lazy("application state", "Approved"), final=True),
        State(REJECTED, pgettext_lazy("application state", "Not approved"), final=True),
        State(NOT_ACCEPTED, pgettext_lazy("application state", "Not accepted"), final=True),
        State(WITHDRAWN, pgettext_lazy("application state", "Withdrawn"), final=True),
    ),
    initial=SUBMITTED,
    transitions=(
        Transition(
            "accept",
            pgettext_lazy("application transition", "Accept"),
            sources=(SUBMITTED,),
            target=REVIEWING,
            roles=ACCEPTORS,
        ),
        Transition(
            "refuse",
            pgettext_lazy("application transition", "Do not accept"),
            sources=(SUBMITTED,),
            target=NOT_ACCEPTED,
            roles=ACCEPTORS,
            note_required=True,
        ),
        Transition(
            "request_correction",
            pgettext_lazy("application transition", "Ask for corrections"),
            sources=(SUBMITTED, REVIEWING),
            target=CORRECTION,
            roles=ACCEPTORS,
            note_required=True,
        ),
        Transition(
            "resubmit",
            pgettext_lazy("application transition", "Corrections supplied"),
            sources=(CORRECTION,),
            target=SUBMITTED,
            system=True,
        ),
        Transition(
            "approve",
            pgettext_lazy("application transition", "Approve"),
            sources=(REVIEWING,),
            target=APPROVED,
            roles=HANDLERS,
        ),
        Transition(
            "reject",
            pgettext_lazy("application transition", "Do not approve"),
            sources=(REVIEWING,),
            target=REJECTED,
            roles=HANDLERS,
            note_required=True,
        ),
        Transition(
            "withdraw",
            pgettext_lazy("application transition", "Withdraw"),
            sources=(SUBMITTED, CORRECTION),
            target=WITHDRAWN,
            system=True,
        ),
    ),
    escalations=(
        Escalation(
            "acceptance_late",
            state=SUBMITTED,
            notify_role=Role.DEPARTMENT_HANDLER,
            message=_("An application has waited more than a working day for acceptance."),
        ),
        Escalation(
            "review_overdue",
            state=REVIEWING,
            basis="case",
            notify_role=Role.SUPERVISOR,
            message=_("An application is past its promised time limit."),
        ),
    ),
)
