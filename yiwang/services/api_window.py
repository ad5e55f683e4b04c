"""The services API of the integrated window (一窗受理), bad-rating follow-ups and the ratings
report (mounted under /api/services by api.py). Thin: the services and selectors of
yiwang/services/window.py do the work; errors in the platform's one shape (422 naming
`subject_key` for a bad ID number or USCC, 403 for a caller who is not a window clerk).

The ID number travels in request bodies, never in a URL."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Router, Schema, Status

from yiwang.core.errors import Forbidden
from yiwang.services import selectors, services, window
from yiwang.services.models import Application

router = Router(tags=["services"])


class LookupIn(Schema):
    subject_key: str


class WindowApplicantOut(Schema):
    kind: str
    name: str
    shown: dict[str, str]
    can_apply: bool


class WindowSubmitIn(Schema):
    subject_key: str
    matter: str
    values: dict[str, Any] = {}
    submission_key: str


class FollowupOut(Schema):
    reference: str
    case_id: int
    application: str
    matter: str
    department: str
    rating: int
    reasons: str
    state: str
    deadline: datetime.datetime | None
    closed_at: datetime.datetime | None
    answer: str


class AnswerIn(Schema):
    note: str
    expected_version: int


class RatingRowOut(Schema):
    key: str
    label: str
    count: int
    mean: float | None
    satisfied_share: float | None
    bad: int
    answered_on_time: int
    answered_late: int


class RatingReportOut(Schema):
    date_from: datetime.date | None
    date_to: datetime.date | None
    overall: RatingRowOut
    matters: list[RatingRowOut]
    departments: list[RatingRowOut]
    clerks: list[RatingRowOut]


def _followup(application: Application) -> dict[str, Any]:
    case = application.rating_case
    answer = window.followup_answer_of(application)
    return {
        "reference": case.reference,
        "case_id": case.pk,
        "application": application.case.reference,
        "matter": application.matter.code,
        "department": application.matter.department.code,
        "rating": application.rating,
        "reasons": application.rating_reasons,
        "state": case.state,
        "deadline": case.case_deadline,
        "closed_at": case.closed_at,
        "answer": answer.note if answer else "",
    }


@router.post("/window/applicant", response=WindowApplicantOut, summary="Find an applicant at the window")
def window_applicant(request, payload: LookupIn):
    """A window clerk looks a person (ID number) or an enterprise (USCC) up in the registry;
    audited as an unmasked read."""
    found = window.applicant_present_at_window(clerk=request.auth, subject_key=payload.subject_key)
    return {
        "kind": found.applicant.kind,
        "name": found.applicant.name,
        "shown": found.shown,
        "can_apply": found.can_apply,
    }


@router.post(
    "/window/applications",
    response={201: dict, 200: dict},
    summary="Apply on the applicant's behalf at the window (accepted at once)",
)
def window_submit(request, payload: WindowSubmitIn):
    from yiwang.services.api import _detail

    applicant = window.applicant_at_window(clerk=request.auth, subject_key=payload.subject_key)
    matter = selectors.matter_get(code=payload.matter)
    before = Application.objects.filter(
        applicant=applicant.user, submission_key=payload.submission_key
    ).exists()
    application = services.application_submit(
        matter=matter,
        actor=request.auth,
        values=payload.values,
        submission_key=payload.submission_key,
        on_behalf_of=applicant,
    )
    return Status(200 if before else 201, {**_detail(application), "window_clerk": request.auth.pk})


@router.get("/followups", response=list[FollowupOut], summary="Bad ratings to answer")
def followup_list(request, include_answered: bool = False):
    if not window.access_rating_report(request.auth):
        raise Forbidden("Only department handlers and supervisors see bad ratings.")
    rows = window.followups_to_answer(user=request.auth, open_only=not include_answered)[:200]
    return [_followup(application) for application in rows]


@router.post("/followups/{case_id}/answer", response=FollowupOut, summary="Answer a bad rating")
def followup_answer(request, case_id: int, payload: AnswerIn):
    application = window.followup_for_staff(case_id=case_id, user=request.auth)
    application = window.rating_followup_answer(
        application=application,
        actor=request.auth,
        note=payload.note,
        expected_version=payload.expected_version,
    )
    return _followup(application)


@router.get("/ratings/report", response=RatingReportOut, summary="Ratings per matter, department and clerk")
def ratings_report(request, date_from: datetime.date | None = None, date_to: datetime.date | None = None):
    return window.rating_report(user=request.auth, date_from=date_from, date_to=date_to).as_dict()
