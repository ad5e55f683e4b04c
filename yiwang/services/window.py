"""The integrated window (一窗受理), ratings (好差评) with bad-rating follow-up cases and reports, and
the applicant's notices.

- A window clerk finds the applicant in the registry (`applicant_at_window`) and submits for them
  (`services.application_submit(..., on_behalf_of=)`); the case is accepted at once, since the
  clerk checked the materials at the counter.
  A person with no login of their own cannot be the applicant of record (an Application needs a
  user: it is how the applicant follows the case, rates it and receives notices), so the window
  refuses with a message saying to register a login first; an enterprise is applied for as its
  first agent (经办人), else as its legal representative's login.
- A bad rating (不满意, 非常不满意) opens a `services.rating_followup` case for the matter's
  department (`rating_followup_open`, called by `application_rate` in its transaction); a handler
  answers it (`rating_followup_answer`), the applicant is told and sees the answer.
- `rating_report`: per matter, department and clerk (the window clerk, else the handler who
  decided), over a date range.
- `application_notice` (an effect of every move of an application): the applicant is sent a
  notice on acceptance, a request for corrections, the decision and a revocation, once per move.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import Case, CaseEvent
from yiwang.cases.notices import notice_send
from yiwang.cases.services import case_open, case_transition
from yiwang.cases.types import Limit
from yiwang.core.access import access_role, user_roles
from yiwang.core.audit import audit_record
from yiwang.core.errors import FieldErrors, Forbidden, NotFound
from yiwang.core.ids import IdentifierError, resident_id_parse, uscc_validate
from yiwang.core.masking import mask_address, mask_id_number, mask_phone
from yiwang.core.models import Role
from yiwang.services import cases as states
from yiwang.services.effects import effect_register
from yiwang.services.models import ApplicantKind, Application, Rating
from yiwang.services.services import Applicant

WINDOW_LOOKUP_PURPOSE = "一窗受理：核验申请人身份并代为申请"
REPORT_ROLES = frozenset({Role.SUPERVISOR, Role.CITY_LEADER, Role.ADMIN})
# The moves that decide an application: whoever took one is "the handler who decided".
DECIDING_TRANSITIONS = ("approve", "reject", "refuse")
SATISFIED_AT_LEAST = Rating.SATISFIED
BAD_AT_MOST = Rating.DISSATISFIED

# --------------------------------------------------------------------------- the window


def access_window(user: Any) -> bool:
    return access_role(user, Role.WINDOW_CLERK)


def subject_key_parse(subject_key: str) -> tuple[str, str]:
    """(applicant kind, compacted key) of a resident ID number or a USCC; FieldErrors naming
    `subject_key` with what is wrong otherwise."""
    raw = "".join((subject_key or "").split()).upper()
    if not raw:
        raise FieldErrors.single("subject_key", _("Enter the applicant's ID number or USCC."))
    try:
        return ApplicantKind.PERSON, resident_id_parse(raw).number
    except IdentifierError as person_error:
        looks_personal = raw[:17].isdigit() and (len(raw) < 18 or raw[17:] in ("", *"0123456789X"))
        try:
            return ApplicantKind.ENTERPRISE, uscc_validate(raw)
        except IdentifierError as enterprise_error:
            problem = person_error if looks_personal else enterprise_error
            raise FieldErrors.single("subject_key", problem.message) from None


def _person_typo_raise(key: str) -> None:
    """About one ID number in 31 with a mistyped check digit is a well-formed USCC. When no
    enterprise holds it and it is an ID number but for its check digit (a known division, a
    real birth date), the clerk most likely mistyped an ID number: say so, naming the field."""
    from stdnum.cn import ric

    if len(key) != 18 or not key[:17].isdigit():
        return
    try:
        resident_id_parse(key[:17] + ric.calc_check_digit(key))
    except IdentifierError:
        return  # not an ID number with another check digit either: a USCC nobody holds
    try:
        resident_id_parse(key)
    except IdentifierError as error:
        raise FieldErrors.single("subject_key", error.message) from None


@dataclass(frozen=True)
class WindowApplicant:
    """The applicant as the window shows them: what the clerk needs (name, the key they typed,
    whether a login exists), the rest masked."""

    applicant: Applicant
    shown: dict[str, str]

    @property
    def can_apply(self) -> bool:
        return self.applicant.user is not None


def applicant_at_window(*, clerk: Any, subject_key: str) -> Applicant:
    """The person (by ID number) or enterprise (by USCC) a window clerk serves, from the
    registry. Forbidden unless `clerk` is a window clerk; FieldErrors on `subject_key` for a bad
    number; NotFound if nobody holds it. The lookup is an unmasked read of personal data,
    audited with its purpose. `user` is the login the application will belong to (None if the
    person has none)."""
    return applicant_present_at_window(clerk=clerk, subject_key=subject_key).applicant


def applicant_present_at_window(*, clerk: Any, subject_key: str) -> WindowApplicant:
    """applicant_at_window, with what the page shows of them."""
    from yiwang.registry.models import Enterprise, Person

    if not access_window(clerk):
        raise Forbidden(_("Only a window clerk may apply on someone's behalf."))
    kind, key = subject_key_parse(subject_key)
    if kind == ApplicantKind.PERSON:
        person = Person.objects.select_related("user").filter(id_number=key).first()
        if person is None:
            raise NotFound(_("Nobody with this ID number is in the registry."))
        applicant = Applicant(ApplicantKind.PERSON, person.id_number, person.name, person.user)
        shown = {
            "name": person.name,
            "id_number": person.id_number,
            "phone": mask_phone(person.phone),
            "address": mask_address(person.address),
        }
        object_type, object_id = "registry.person", person.pk
    else:
        enterprise = Enterprise.objects.select_related("legal_representative__user").filter(uscc=key).first()
        if enterprise is None:
            _person_typo_raise(key)
            raise NotFound(_("No enterprise with this USCC is in the registry."))
        agency = enterprise.agents.select_related("user").order_by("id").first()
        user = agency.user if agency is not None else None
        if user is None and enterprise.legal_representative is not None:
            user = enterprise.legal_representative.user
        applicant = Applicant(ApplicantKind.ENTERPRISE, enterprise.uscc, enterprise.name, user)
        shown = {
            "name": enterprise.name,
            "uscc": enterprise.uscc,
            "legal_representative": enterprise.legal_representative_name,
        }
        object_type, object_id = "registry.enterprise", enterprise.pk
    with transaction.atomic():
        audit_record(
            actor=clerk,
            action="personal_data.read_unmasked",
            object_type=object_type,
            object_id=object_id,
            after={"fields": sorted(set(shown) - {"name"}), "key": mask_id_number(key)},
            purpose=WINDOW_LOOKUP_PURPOSE,
        )
    return WindowApplicant(applicant=applicant, shown=shown)


def window_applicant_check(*, actor: Any, applicant: Applicant, matter: Any) -> Any:
    """For `application_submit(on_behalf_of=)`: the login the application will belong to.
    Forbidden unless the actor is a window clerk; FieldErrors if the applicant cannot apply
    for this matter or has no login."""
    if not access_window(actor):
        raise Forbidden(_("Only a window clerk may apply on someone's behalf."))
    if matter.applicant_kind not in (ApplicantKind.BOTH, applicant.kind):
        raise FieldErrors.single(
            "subject_key",
            _("This matter is for enterprises: enter a USCC.")
            if matter.applicant_kind == ApplicantKind.ENTERPRISE
            else _("This matter is for natural persons: enter an ID number."),
        )
    if applicant.user is None:
        raise FieldErrors.single(
            "subject_key",
            _(
                "%(name)s has no login on the platform, so could not follow, rate or be told about "
                "the application: register a login for them first."
            )
            % {"name": applicant.name},
        )
    return applicant.user


def window_accept(*, application: Application, clerk: Any) -> Application:
    """Accept at once what a clerk submitted at the window (inside the submission's
    transaction), unless another effect already moved it (秒批)."""
    case = application.case
    if case.state != states.SUBMITTED:
        return application
    application.case = case_transition(
        case=case,
        transition="accept",
        actor=clerk,
        expected_version=case.version,
        note=_("Materials checked at the integrated window."),
    )
    return application


def window_submissions_today(*, clerk: Any, now: datetime.datetime | None = None) -> QuerySet[Application]:
    """The applications this clerk submitted at the window today, newest first."""
    if not access_window(clerk):
        return Application.objects.none()
    today = timezone.localdate(now or timezone.now())
    return (
        Application.objects.filter(window_clerk=clerk, submitted_at__date=today)
        .select_related("case", "matter", "case__department")
        .order_by("-submitted_at")
    )


# --------------------------------------------------------------------------- bad ratings


def rating_followup_open(
    *, application: Application, actor: Any, now: datetime.datetime | None = None
) -> Case:
    """A bad rating becomes a case of the matter's department, to answer within
    RATING_FOLLOWUP_DAYS working days (call it inside the rating's transaction)."""
    matter = application.matter
    case = case_open(
        case_type=states.RATING_FOLLOWUP,
        title=_("Bad rating: %(matter)s (%(reference)s)")
        % {"matter": matter.name, "reference": application.case.reference},
        department=matter.department,
        actor=actor,
        subject_type="services.application",
        subject_key=str(application.pk),
        data={"application": application.case.reference, "rating": application.rating},
        note=application.rating_reasons,
        case_limit=Limit(states.RATING_FOLLOWUP_DAYS, "days"),
        now=now,
    )
    Application.objects.filter(pk=application.pk).update(rating_case=case)
    application.rating_case = case
    audit_record(
        actor=actor,
        action="services.rating_followup_open",
        target=application,
        after={"followup": case.reference, "rating": application.rating},
    )
    return case


def followups_to_answer(*, user: Any, open_only: bool = True) -> QuerySet[Application]:
    """Rated applications with a follow-up case the user may see: their departments' (handlers),
    every one (supervisors, leaders, admins); nearest deadline first."""
    queryset = Application.objects.filter(rating_case__isnull=False).select_related(
        "rating_case", "matter", "matter__department", "case"
    )
    roles = user_roles(user)
    if not roles & (REPORT_ROLES | {Role.DEPARTMENT_HANDLER}):
        return queryset.none()
    if not roles & REPORT_ROLES:
        from yiwang.cases.access import user_department_ids

        queryset = queryset.filter(rating_case__department_id__in=user_department_ids(user))
    if open_only:
        queryset = queryset.filter(rating_case__state=states.FOLLOWUP_OPEN)
    return queryset.order_by("rating_case__case_deadline", "rating_case_id")


def followup_for_staff(*, case_id: int, user: Any) -> Application:
    """The rated application of follow-up case `case_id`, if the user may see it."""
    found = followups_to_answer(user=user, open_only=False).filter(rating_case_id=case_id).first()
    if found is None:
        raise NotFound(_("Not found."))
    return found


def followup_answer_of(application: Application) -> CaseEvent | None:
    """The department's answer to a bad rating (the `answer` event), if given."""
    if application.rating_case_id is None:
        return None
    return (
        CaseEvent.objects.filter(case_id=application.rating_case_id, transition="answer")
        .order_by("-at")
        .first()
    )


def rating_followup_answer(
    *, application: Application, actor: Any, note: str, expected_version: int
) -> Application:
    """A department handler answers a bad rating (what was found, what changed); the applicant
    is told. The cases engine checks the role, the department, the note and the version."""
    case = application.rating_case
    if case is None:
        raise NotFound(_("Not found."))
    with transaction.atomic():
        application.rating_case = case_transition(
            case=case, transition="answer", actor=actor, expected_version=expected_version, note=note
        )
        notice_send(
            user=application.applicant,
            phone=_notice_phone(application),
            subject=_("Your rating was answered"),
            body=_("%(department)s answered your rating of %(reference)s (%(matter)s): %(note)s")
            % {
                "department": application.matter.department.name,
                "reference": application.case.reference,
                "matter": application.matter.name,
                "note": note.strip(),
            },
            ref=application.case.reference,
            key=f"{case.reference}:answer:{application.rating_case.version}",
        )
    return application


# --------------------------------------------------------------------------- reports


@dataclass
class RatingRow:
    key: str
    label: str
    count: int = 0
    total: int = 0
    satisfied: int = 0
    bad: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    by_rating: dict[int, int] = field(default_factory=dict)

    @property
    def mean(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None

    @property
    def satisfied_share(self) -> float | None:
        return round(self.satisfied / self.count, 4) if self.count else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "mean": self.mean,
            "satisfied_share": self.satisfied_share,
            "bad": self.bad,
            "answered_on_time": self.answered_on_time,
            "answered_late": self.answered_late,
        }


@dataclass
class RatingReport:
    date_from: datetime.date | None
    date_to: datetime.date | None
    overall: RatingRow
    matters: list[RatingRow]
    departments: list[RatingRow]
    clerks: list[RatingRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "overall": self.overall.as_dict(),
            "matters": [row.as_dict() for row in self.matters],
            "departments": [row.as_dict() for row in self.departments],
            "clerks": [row.as_dict() for row in self.clerks],
        }


def access_rating_report(user: Any) -> bool:
    return bool(user_roles(user) & (REPORT_ROLES | {Role.DEPARTMENT_HANDLER}))


def rated_applications(
    *, user: Any, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> QuerySet[Application]:
    """Rated applications the user may report on (rated between the dates, inclusive):
    supervisors, leaders and admins every one, handlers their departments'."""
    if not access_rating_report(user):
        raise Forbidden(_("Only supervisors, leaders, administrators and department handlers see ratings."))
    queryset = Application.objects.filter(rating__isnull=False)
    if not user_roles(user) & REPORT_ROLES:
        from yiwang.cases.access import user_department_ids

        queryset = queryset.filter(matter__department_id__in=user_department_ids(user))
    if date_from is not None:
        queryset = queryset.filter(rated_at__date__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(rated_at__date__lte=date_to)
    return queryset


def _deciders(case_ids: list[int]) -> dict[int, tuple[int | None, str]]:
    """case id → (user id, label) of whoever last decided it (approve, reject, refuse)."""
    deciders: dict[int, tuple[int | None, str]] = {}
    events = (
        CaseEvent.objects.filter(case_id__in=case_ids, kind="transition", transition__in=DECIDING_TRANSITIONS)
        .order_by("at", "id")
        .values_list("case_id", "actor_id", "actor__display_name", "actor_label")
    )
    for case_id, actor_id, display_name, label in events:
        deciders[case_id] = (actor_id, display_name or label)
    return deciders


def rating_report(
    *, user: Any, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> RatingReport:
    """好差评 report: per matter, per department and per clerk (the window clerk who took the
    application, else the handler who decided it): how many ratings, their mean, the share
    satisfied (满意 or better), bad ratings and how many of those the department answered within
    the time limit."""
    rows = list(
        rated_applications(user=user, date_from=date_from, date_to=date_to)
        .select_related("matter", "matter__department", "window_clerk", "rating_case")
        .order_by("case_id")
    )
    deciders = _deciders([row.pk for row in rows if row.window_clerk_id is None])
    overall = RatingRow(key="", label=_("All"))
    matters: dict[str, RatingRow] = {}
    departments: dict[str, RatingRow] = {}
    clerks: dict[str, RatingRow] = {}
    for application in rows:
        matter, department = application.matter, application.matter.department
        if application.window_clerk_id is not None:
            clerk = application.window_clerk
            clerk_key, clerk_label = str(clerk.pk), clerk.display_name or clerk.get_username()
        else:
            actor_id, label = deciders.get(application.pk, (None, ""))
            clerk_key, clerk_label = (str(actor_id), label) if actor_id else ("", _("No one (by rule)"))
        targets = (
            overall,
            matters.setdefault(matter.code, RatingRow(matter.code, matter.name)),
            departments.setdefault(department.code, RatingRow(department.code, department.name)),
            clerks.setdefault(clerk_key, RatingRow(clerk_key, clerk_label)),
        )
        followup = application.rating_case
        for row in targets:
            row.count += 1
            row.total += application.rating
            row.by_rating[application.rating] = row.by_rating.get(application.rating, 0) + 1
            if application.rating >= SATISFIED_AT_LEAST:
                row.satisfied += 1
            if application.rating <= BAD_AT_MOST:
                row.bad += 1
                if followup is not None and followup.state == states.FOLLOWUP_ANSWERED:
                    on_time = followup.case_deadline is None or followup.closed_at <= followup.case_deadline
                    if on_time:
                        row.answered_on_time += 1
                    else:
                        row.answered_late += 1

    def ordered(groups: dict[str, RatingRow]) -> list[RatingRow]:
        return sorted(groups.values(), key=lambda row: (-row.count, row.key))

    return RatingReport(
        date_from=date_from,
        date_to=date_to,
        overall=overall,
        matters=ordered(matters),
        departments=ordered(departments),
        clerks=ordered(clerks),
    )


# --------------------------------------------------------------------------- notices and tracking


def _notice_text(application: Application, transition: str, note: str) -> tuple[str, str] | None:
    """(subject, body) of the notice for a move, or None if the move is not told."""
    values = {
        "reference": application.case.reference,
        "matter": application.matter.name,
        "department": application.matter.department.name,
        "note": (note or "").strip(),
        "certificate": application.certificate_number,
    }
    if transition == "accept":
        return _("Application accepted"), _(
            "Your application %(reference)s (%(matter)s) was accepted by %(department)s."
        ) % values
    if transition == "request_correction":
        return _("Corrections needed"), _(
            "Your application %(reference)s (%(matter)s) needs corrections: %(note)s"
        ) % values
    if transition in ("approve", "instant_approve"):
        body = _("Your application %(reference)s (%(matter)s) was approved.") % values
        if application.certificate_number:
            body += " " + _("Certificate number: %(certificate)s.") % values
        return _("Application approved"), body
    if transition == "reject":
        return _("Application not approved"), _(
            "Your application %(reference)s (%(matter)s) was not approved: %(note)s"
        ) % values
    if transition == "refuse":
        return _("Application not accepted"), _(
            "Your application %(reference)s (%(matter)s) was not accepted: %(note)s"
        ) % values
    if transition == "revoke":
        return _("Application revoked"), _(
            "Your application %(reference)s (%(matter)s) was revoked: %(note)s"
        ) % values
    return None


def _notice_phone(application: Application) -> str:
    """The registry's phone of a person whose login has neither phone nor e-mail (a citizen who
    came to the window), so that they are told too; else empty (the login's own is used)."""
    from yiwang.registry.models import Person

    user = application.applicant
    if getattr(user, "phone", "") or getattr(user, "email", ""):
        return ""
    if application.applicant_kind != ApplicantKind.PERSON:
        return ""
    return (
        Person.objects.filter(id_number=application.subject_key).values_list("phone", flat=True).first() or ""
    )


@effect_register
def application_notice(
    *, application: Application, case: Any, transition: str, actor: Any, note: str
) -> None:
    """Tell the applicant of a move (through the one notification service, once per move)."""
    text = _notice_text(application, transition, note)
    if text is None:
        return
    notice_send(
        user=application.applicant,
        phone=_notice_phone(application),
        subject=text[0],
        body=text[1],
        ref=case.reference,
        key=f"{case.reference}:{transition}:{case.version}",
    )


@dataclass(frozen=True)
class Deadline:
    label: str
    at: datetime.datetime
    colour: str  # green / yellow / red


def _colour(warn_at, deadline, now) -> str:
    if deadline <= now:
        return "red"
    if warn_at is not None and warn_at <= now:
        return "yellow"
    return "green"


def application_deadlines(
    *, application: Application, now: datetime.datetime | None = None
) -> list[Deadline]:
    """The deadlines of an open application: the current step's and the whole case's, each
    coloured green, yellow (near) or red (passed)."""
    case = application.case
    now = now or timezone.now()
    if case.closed_at is not None:
        return []
    deadlines = []
    if case.state_deadline is not None:
        deadlines.append(
            Deadline(
                _("This step"), case.state_deadline, _colour(case.state_warn_at, case.state_deadline, now)
            )
        )
    if case.case_deadline is not None:
        deadlines.append(
            Deadline(
                _("The whole application"),
                case.case_deadline,
                _colour(case.case_warn_at, case.case_deadline, now),
            )
        )
    return deadlines


def application_tracking(*, application: Application) -> dict[str, Any]:
    """What the application page adds for the applicant: notices sent, deadlines, the answer
    to a bad rating."""
    from yiwang.cases.notices import notices_for

    answer = followup_answer_of(application)
    return {
        "notices": notices_for(ref=application.case.reference),
        "deadlines": application_deadlines(application=application),
        "followup_answer": answer,
        "followup_open": application.rating_case_id is not None and answer is None,
    }
