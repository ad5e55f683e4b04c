"""The application (办件) as a case type: 申请 → 受理 → 审查 → 办结.

    submitted ──accept──▶ reviewing ──approve──▶ approved
        │  ▲                  │  └──reject (note)──▶ rejected
        │  └── resubmit ──┐   └──request_correction (note)──▶ correction
        ├──refuse (不予受理, note)──▶ not_accepted      │
        └──request_correction (note)──▶ correction ─────┘ (the applicant supplies what is missing)
    submitted, correction ──withdraw (the applicant)──▶ withdrawn
    submitted ──instant_approve (秒批: the rules engine, no human step)──▶ approved
    any open state or approved ──revoke (a tolerated material not supplied, a false pledge)──▶ revoked

The case's time limit is the matter's promised (else legal) limit in working days; acceptance
has one working day of its own.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition
from yiwang.core.models import Role
from yiwang.services.effects import application_after_transition

APPLICATION = "services.application"

SUBMITTED = "submitted"
REVIEWING = "reviewing"
CORRECTION = "correction"
APPROVED = "approved"
REJECTED = "rejected"
NOT_ACCEPTED = "not_accepted"
WITHDRAWN = "withdrawn"
REVOKED = "revoked"

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
        State(REVOKED, pgettext_lazy("application state", "Revoked"), final=True),
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
        Transition(
            "instant_approve",
            pgettext_lazy("application transition", "Approve at once by rule"),
            sources=(SUBMITTED,),
            target=APPROVED,
            system=True,
        ),
        Transition(
            "revoke",
            pgettext_lazy("application transition", "Revoke"),
            sources=(SUBMITTED, REVIEWING, CORRECTION, APPROVED),
            target=REVOKED,
            system=True,
            note_required=True,
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
    after_transition=application_after_transition,
)


# --------------------------------------------------------------------------- 一件事 (bundles)
#
#     in_progress ──complete (every step approved)──▶ completed
#          ├──fail (a step ended without approval; the steps that depend on it never start,
#          │        those already running go on)──▶ failed
#          └──withdraw (the applicant, while no step is under review)──▶ withdrawn
#
# The parent case of a bundle submission; each step is an application case (Case.parent).

BUNDLE = "services.bundle"

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"

BUNDLE_TYPE = CaseType(
    code=BUNDLE,
    label=_("Bundled service (一件事)"),
    reference_prefix="YJS",
    viewer_roles=(Role.WINDOW_CLERK, Role.DEPARTMENT_HANDLER),
    states=(
        State(IN_PROGRESS, pgettext_lazy("bundle state", "In progress")),
        State(COMPLETED, pgettext_lazy("bundle state", "Completed"), final=True),
        State(FAILED, pgettext_lazy("bundle state", "Ended: a step was not approved"), final=True),
        State(WITHDRAWN, pgettext_lazy("bundle state", "Withdrawn"), final=True),
    ),
    initial=IN_PROGRESS,
    transitions=(
        Transition(
            "complete",
            pgettext_lazy("bundle transition", "All steps approved"),
            sources=(IN_PROGRESS,),
            target=COMPLETED,
            system=True,
        ),
        Transition(
            "fail",
            pgettext_lazy("bundle transition", "A step was not approved"),
            sources=(IN_PROGRESS,),
            target=FAILED,
            system=True,
            note_required=True,
        ),
        Transition(
            "withdraw",
            pgettext_lazy("bundle transition", "Withdraw"),
            sources=(IN_PROGRESS,),
            target=WITHDRAWN,
            system=True,
        ),
    ),
    escalations=(
        Escalation(
            "bundle_overdue",
            state=IN_PROGRESS,
            basis="case",
            notify_role=Role.SUPERVISOR,
            message=_("A bundled service is past its promised time limit."),
        ),
    ),
)


# --------------------------------------------------------------------------- 差评 follow-up
#
#     open ──answer (the department: what it found and what it changed)──▶ answered
#
# A bad rating (不满意 or 非常不满意) opens one; the department answers within
# RATING_FOLLOWUP_DAYS working days, else the supervisor is told.

RATING_FOLLOWUP = "services.rating_followup"
RATING_FOLLOWUP_DAYS = 5

FOLLOWUP_OPEN = "open"
FOLLOWUP_ANSWERED = "answered"

RATING_FOLLOWUP_TYPE = CaseType(
    code=RATING_FOLLOWUP,
    label=_("Bad rating to answer"),
    reference_prefix="CP",
    viewer_roles=(Role.SUPERVISOR,),
    states=(
        State(
            FOLLOWUP_OPEN,
            pgettext_lazy("rating follow-up state", "Awaiting the department's answer"),
            limit=Limit(RATING_FOLLOWUP_DAYS, "days"),
        ),
        State(FOLLOWUP_ANSWERED, pgettext_lazy("rating follow-up state", "Answered"), final=True),
    ),
    initial=FOLLOWUP_OPEN,
    transitions=(
        Transition(
            "answer",
            pgettext_lazy("rating follow-up transition", "Answer"),
            sources=(FOLLOWUP_OPEN,),
            target=FOLLOWUP_ANSWERED,
            roles=(Role.DEPARTMENT_HANDLER,),
            note_required=True,
        ),
    ),
    escalations=(
        Escalation(
            "rating_unanswered",
            state=FOLLOWUP_OPEN,
            notify_role=Role.SUPERVISOR,
            message=_("A bad rating has not been answered in time."),
        ),
    ),
)
