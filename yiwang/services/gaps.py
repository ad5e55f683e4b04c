"""Tolerated gaps (容缺受理) and pledges (告知承诺制).

An application may be accepted with a required, non-key material missing (tolerated: the
applicant supplies it within the matter's `gap_supply_days` working days) or with the
applicant's pledge instead of a material the catalog allows to be pledged (the department
verifies the pledge within the same time). Each is an ApplicationGap opened in the submission's
transaction (`gap_requests_check` and `gaps_open`, called by `application_submit`).

    open ──gap_supply (the applicant uploads it)──▶ supplied
      ├──gap_verify true (the department)──▶ verified
      ├──gap_verify false (note) ──▶ false_pledge, and the application is revoked
      └──gaps_sweep after due_on (tolerated only)──▶ revoked, and the application is revoked

The sweep (`gaps_sweep`, a periodic task and `manage.py services_gap_sweep`) reminds the
applicant two working days before the due date and on it, revokes the application the day after
an unsupplied tolerated material was due, and closes the gaps of applications that ended
(withdrawn, rejected …) — those are never revoked. A pledge not verified in time is the
department's failure, never the applicant's: it stays open and is listed red for the department.
A gap closed because its application ended keeps its status and gets `closed_at` and a note.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.access import user_department_ids
from yiwang.cases.models import Notice
from yiwang.cases.notices import notice_send
from yiwang.cases.services import case_transition_system
from yiwang.cases.taskqueue import periodic_register, task_register
from yiwang.core.access import access_role
from yiwang.core.audit import audit_record
from yiwang.core.calendar import WorkingDayCalendar
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Role
from yiwang.services import cases as states
from yiwang.services.effects import effect_register
from yiwang.services.models import (
    Application,
    ApplicationGap,
    ApplicationMaterial,
    GapKind,
    GapStatus,
    Material,
    Matter,
)

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:services.gaps"
# Notices about a gap are keyed "services.gap:<id>:<what>" (sent once).
REMIND_KEY = "services.gap:"
# Working days before the due date on which the applicant is reminded (and on the due date).
REMIND_BEFORE_DAYS = 2
# Applications that ended without a decision to keep: their gaps are closed, never revoked.
ENDED_STATES = (states.REJECTED, states.NOT_ACCEPTED, states.WITHDRAWN, states.REVOKED)
SWEEP_EVERY = datetime.timedelta(hours=1)
MAX_PLEDGE = 2000
MAX_NOTE = 500

# --------------------------------------------------------------------------- at submission


def gap_due_on(*, matter: Matter, submitted: datetime.date, calendar: WorkingDayCalendar | None = None):
    """The date a gap opened on `submitted` is due: the matter's `gap_supply_days` working days
    later, on the working-day calendar (holidays and 调休 workdays)."""
    return (calendar or WorkingDayCalendar()).add_working_days(submitted, matter.gap_supply_days)


def pledge_text_default(*, material: Material) -> str:
    """The pledge the page shows and the applicant signs by choosing it."""
    return _(
        "I pledge that I meet the conditions certified by “%(name)s” and that what I declared is "
        "true. If the pledge proves false, I accept that the application is revoked and I bear "
        "the legal consequences."
    ) % {"name": material.name}


def gap_requests_check(
    *,
    materials: list[Material],
    uploads: dict[int, Any],
    tolerate: set[int] | None,
    pledges: dict[int, str] | None,
    errors: ErrorCollector,
) -> dict[int, tuple[str, str]]:
    """Check what the applicant asks to leave out: material id → (kind, pledge text) for each
    material asked to be tolerated or pledged, and not uploaded after all (an upload wins).
    A refused request adds its error under `materials.<id>` (and is in the answer all the
    same, so that the caller does not also ask for the upload); the caller raises."""
    tolerate = set(tolerate or ())
    pledges = dict(pledges or {})
    by_id = {material.pk: material for material in materials}
    requested: dict[int, tuple[str, str]] = {}
    for material_id in sorted(tolerate | set(pledges)):
        material = by_id.get(material_id)
        path = ("materials", str(material_id))
        if material is None or material.fetched:
            errors.add(path, _("This material is not asked of the applicant."))
            continue
        if material_id in uploads:
            continue
        if material_id in pledges:
            text = (pledges[material_id] or "").strip()
            if not material.pledge_allowed:
                errors.add(path, _("“%(name)s” cannot be replaced by a pledge.") % {"name": material.name})
            elif not text:
                errors.add(path, _("Write the pledge for “%(name)s”.") % {"name": material.name})
            elif len(text) > MAX_PLEDGE:
                errors.add(path, _("At most %(count)s characters.") % {"count": MAX_PLEDGE})
            requested[material_id] = (GapKind.PLEDGE, text[:MAX_PLEDGE])
            continue
        if material.is_key:
            errors.add(
                path,
                _("“%(name)s” is a key material and cannot be supplied later.") % {"name": material.name},
            )
        elif not material.required:
            errors.add(
                path, _("“%(name)s” is not required: nothing to supply later.") % {"name": material.name}
            )
        requested[material_id] = (GapKind.TOLERATED, "")
    return requested


def gaps_open(
    *, application: Application, requested: dict[int, tuple[str, str]], now: datetime.datetime
) -> list[ApplicationGap]:
    """Open the gaps of a new application, inside the submission's transaction (its audit entry
    lists them)."""
    if not requested:
        return []
    due_on = gap_due_on(matter=application.matter, submitted=timezone.localdate(now))
    return ApplicationGap.objects.bulk_create(
        [
            ApplicationGap(
                application=application,
                material_id=material_id,
                kind=kind,
                pledge_text=text,
                due_on=due_on,
            )
            for material_id, (kind, text) in sorted(requested.items())
        ]
    )


def gap_choices_from_form(*, data: Any, materials: list[Material]) -> tuple[set[int], dict[int, str]]:
    """(tolerate, pledges) from the apply page: a radio `how_<material id>` per material,
    "upload" (the default), "tolerate" or "pledge" (the pledge is the standard text shown)."""
    tolerate: set[int] = set()
    pledges: dict[int, str] = {}
    for material in materials:
        how = data.get(f"how_{material.pk}", "")
        if how == "tolerate":
            tolerate.add(material.pk)
        elif how == "pledge":
            pledges[material.pk] = pledge_text_default(material=material)
    return tolerate, pledges


def gap_option(*, material: Material, matter: Matter, data: Any = None) -> dict[str, Any]:
    """What the apply page offers for one upload material: may it be supplied later, may a
    pledge replace it (and its text), and what the applicant chose."""
    return {
        "tolerable": material.may_be_tolerated,
        "pledgeable": material.pledge_allowed,
        "pledge_text": pledge_text_default(material=material) if material.pledge_allowed else "",
        "supply_days": matter.gap_supply_days,
        "how": (data.get(f"how_{material.pk}", "") if data is not None else "") or "upload",
    }


def pledges_parse(raw: dict[str, str] | None) -> dict[int, str]:
    """The API's pledges (material id as a string → text) keyed by material id."""
    parsed: dict[int, str] = {}
    errors = ErrorCollector()
    for key, text in (raw or {}).items():
        if not str(key).isdigit():
            errors.add(("pledges", str(key)), _("Name the material by its id."))
            continue
        parsed[int(key)] = text
    errors.raise_if_any()
    return parsed


# --------------------------------------------------------------------------- access


def gap_is_live(gap: ApplicationGap) -> bool:
    return gap.status == GapStatus.OPEN and gap.closed_at is None


def access_gap_verify(user: Any, application: Application) -> bool:
    """A department handler of the application's department verifies its pledges."""
    if not access_role(user, Role.DEPARTMENT_HANDLER):
        return False
    return application.case.department_id in user_department_ids(user)


# --------------------------------------------------------------------------- selectors


def gaps_of(*, application: Application) -> list[ApplicationGap]:
    """The gaps of one application, due soonest first, each with `overdue` and `live` set."""
    today = timezone.localdate()
    gaps = list(application.gaps.select_related("material", "supplied", "closed_by"))
    for gap in gaps:
        gap.live = gap_is_live(gap)
        gap.overdue = gap.live and gap.due_on < today
    return gaps


def gap_for_applicant(*, reference: str, gap_id: int, user: Any) -> ApplicationGap:
    """A gap of the user's own application; NotFound for anyone else's."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFound(_("Not found."))
    gap = (
        ApplicationGap.objects.select_related("application__case", "application__matter", "material")
        .filter(pk=gap_id, application__case__reference=reference, application__applicant=user)
        .first()
    )
    if gap is None:
        raise NotFound(_("Not found."))
    return gap


def gap_for_staff(*, gap_id: int, user: Any, case_id: int | None = None) -> ApplicationGap:
    """A gap of an application the user may verify; NotFound otherwise (missing or forbidden)."""
    queryset = ApplicationGap.objects.select_related(
        "application__case", "application__matter", "application__applicant", "material"
    ).filter(pk=gap_id)
    if case_id is not None:
        queryset = queryset.filter(application_id=case_id)
    gap = queryset.first()
    if gap is None or not access_gap_verify(user, gap.application):
        raise NotFound(_("Not found."))
    return gap


def gaps_to_watch(*, user: Any, today: datetime.date | None = None) -> QuerySet[ApplicationGap]:
    """Live gaps of the user's departments (as a department handler): tolerated materials
    awaited and pledges to verify, due soonest first."""
    departments = user_department_ids(user)
    if not departments or not access_role(user, Role.DEPARTMENT_HANDLER):
        return ApplicationGap.objects.none()
    return (
        ApplicationGap.objects.filter(
            status=GapStatus.OPEN,
            closed_at__isnull=True,
            application__case__department_id__in=departments,
        )
        .exclude(application__case__state__in=ENDED_STATES)
        .select_related("application__case", "application__matter", "material")
        .order_by("due_on", "id")
    )


# --------------------------------------------------------------------------- writes


def _close_fields(now: datetime.datetime, actor: Any) -> dict[str, Any]:
    return {"closed_at": now, "closed_by": actor if getattr(actor, "pk", None) else None}


def gap_supply(
    *, gap: ApplicationGap, actor: Any, upload: Any, now: datetime.datetime | None = None
) -> ApplicationGap:
    """The applicant uploads a tolerated material: it is checked like any upload (type by
    content, size), becomes a material of the application, and the gap is supplied."""
    from yiwang.services.services import upload_check

    application = gap.application
    if application.applicant_id != getattr(actor, "pk", None):
        raise NotFound(_("Not found."))
    now = now or timezone.now()
    if gap.kind != GapKind.TOLERATED:
        raise Conflict(_("A pledge is verified by the department; there is nothing to upload."))
    if not gap_is_live(gap) or application.case.state in ENDED_STATES:
        raise Conflict(_("This material is no longer awaited."))
    if timezone.localdate(now) > gap.due_on:
        raise Conflict(
            _("The time to supply “%(name)s” ended on %(date)s.")
            % {"name": gap.material.name, "date": gap.due_on.isoformat()}
        )
    if upload is None:
        raise FieldErrors.single("file", _("Choose the file to upload."))
    try:
        _extension, content_type = upload_check(upload)
    except ValueError as problem:
        raise FieldErrors.single("file", f"{gap.material.name}: {problem}") from None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        material = ApplicationMaterial.objects.create(
            application=application,
            material=gap.material,
            file=upload,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        changed = ApplicationGap.objects.filter(
            pk=gap.pk, status=GapStatus.OPEN, closed_at__isnull=True
        ).update(status=GapStatus.SUPPLIED, supplied=material, **_close_fields(now, actor))
        if changed != 1:
            raise Conflict(_("This material is no longer awaited."))
        gap.refresh_from_db()
        audit_record(
            actor=actor,
            action="services.gap_supply",
            target=gap,
            after={
                "reference": application.case.reference,
                "material": gap.material.name,
                "file": material.original_name,
                "size": material.size,
                "sha256": material.sha256,
            },
        )
    return gap


def _revoke(*, gap: ApplicationGap, note: str, now: datetime.datetime, actor: Any) -> None:
    """Revoke the gap's application (inside the caller's transaction); the effects of the
    `revoke` transition follow (this module's closes the other gaps; a certificate is revoked
    by its own effect)."""
    case = gap.application.case
    case.refresh_from_db()
    if case.state in ENDED_STATES:
        return
    case_transition_system(
        case=case, transition="revoke", actor=actor, expected_version=case.version, note=note, now=now
    )


def gap_verify(
    *, gap: ApplicationGap, actor: Any, true: bool, note: str = "", now: datetime.datetime | None = None
) -> ApplicationGap:
    """The department verifies a pledge: true (the gap is verified) or false, with the note
    saying what was found (the gap is a false pledge, the application is revoked with the note
    and the applicant told)."""
    application = gap.application
    if not access_gap_verify(actor, application):
        raise Forbidden(_("Only a handler of the department verifies its pledges."))
    if gap.kind != GapKind.PLEDGE:
        raise Conflict(_("Only a pledge is verified; a tolerated material is supplied by the applicant."))
    if not gap_is_live(gap) or application.case.state in ENDED_STATES:
        raise Conflict(_("This pledge is no longer awaiting verification."))
    note = (note or "").strip()
    if not true and not note:
        raise FieldErrors.single("note", _("Say what was found false."))
    now = now or timezone.now()
    status = GapStatus.VERIFIED if true else GapStatus.FALSE_PLEDGE
    with transaction.atomic():
        changed = ApplicationGap.objects.filter(
            pk=gap.pk, status=GapStatus.OPEN, closed_at__isnull=True
        ).update(status=status, note=note[:MAX_NOTE], **_close_fields(now, actor))
        if changed != 1:
            raise Conflict(_("This pledge is no longer awaiting verification."))
        gap.refresh_from_db()
        audit_record(
            actor=actor,
            action="services.gap_verify",
            target=gap,
            after={
                "reference": application.case.reference,
                "material": gap.material.name,
                "true": true,
                "note": note[:MAX_NOTE],
            },
        )
        if not true:
            revoke_note = _("The pledge in place of “%(name)s” was found false: %(note)s") % {
                "name": gap.material.name,
                "note": note,
            }
            _revoke(gap=gap, note=revoke_note, now=now, actor=actor)
            notice_send(
                user=application.applicant,
                subject=_("Application %(reference)s revoked") % {"reference": application.case.reference},
                body=revoke_note,
                ref=application.case.reference,
                key=f"services.gap:{gap.pk}:false_pledge",
                now=now,
            )
    return gap


# --------------------------------------------------------------------------- the effect


@effect_register
def gaps_close_when_ended(
    *, application: Application, case: Any, transition: str, actor: Any, note: str
) -> None:
    """An application that ended (withdrawn, not accepted, rejected, revoked) awaits nothing
    more: its live gaps are closed with a note, never revoked."""
    if case.state not in ENDED_STATES:
        return
    _gaps_close_for(application=application, state=case.state, now=timezone.now(), actor=actor)


def _gaps_close_for(*, application: Application, state: str, now: datetime.datetime, actor: Any) -> list[int]:
    live = list(
        ApplicationGap.objects.filter(
            application=application, status=GapStatus.OPEN, closed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not live:
        return []
    label = states.APPLICATION_TYPE.state(state).label
    ApplicationGap.objects.filter(pk__in=live, closed_at__isnull=True).update(
        note=(_("Closed: the application ended (%(state)s).") % {"state": label})[:MAX_NOTE],
        **_close_fields(now, actor),
    )
    audit_record(
        actor=actor,
        action="services.gaps_close",
        target=application,
        after={"reference": application.case.reference, "gaps": live, "state": state},
    )
    return live


# --------------------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    reminded: list[int] = field(default_factory=list)  # gap ids reminded in this run
    revoked: list[int] = field(default_factory=list)  # gap ids whose application was revoked
    closed: list[int] = field(default_factory=list)  # gap ids closed: their application ended
    pledges_overdue: list[int] = field(default_factory=list)  # pledges the department has not verified


def _remind(*, gap: ApplicationGap, now: datetime.datetime, which: str) -> bool:
    """Remind the applicant once per gap and reminder ("before", "due"); True if sent now."""
    application = gap.application
    key = f"{REMIND_KEY}{gap.pk}:remind:{which}"
    if Notice.objects.filter(key=key).exists():
        return False
    notice = notice_send(
        user=application.applicant,
        subject=_("Supply “%(name)s” by %(date)s")
        % {"name": gap.material.name, "date": gap.due_on.isoformat()},
        body=_(
            "Application %(reference)s (%(matter)s) was accepted without “%(name)s”. Upload it on "
            "the application's page by %(date)s, or the application will be revoked."
        )
        % {
            "reference": application.case.reference,
            "matter": application.matter.name,
            "name": gap.material.name,
            "date": gap.due_on.isoformat(),
        },
        ref=application.case.reference,
        key=key,
        now=now,
    )
    if notice is None:  # the applicant has neither phone nor e-mail: the page shows the date
        return False
    ApplicationGap.objects.filter(pk=gap.pk).update(reminded_at=now)
    return True


def gaps_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    """Remind, revoke and close, gap by gap, each in its own transaction: idempotent (notices
    carry a key per gap and reminder, a revoked or closed gap is no longer live) and
    resumable (a run that stops half-way leaves every gap it touched finished)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    calendar = WorkingDayCalendar()
    result = SweepResult()
    live = (
        ApplicationGap.objects.filter(status=GapStatus.OPEN, closed_at__isnull=True)
        .select_related("application__case", "application__matter", "application__applicant", "material")
        .order_by("due_on", "id")
    )
    # Only the gaps that may need something today: due within the reminder window, overdue, or
    # of an application that ended.
    horizon = today
    for _step in range(40):  # the window may span a long holiday
        if calendar.add_working_days(horizon, -REMIND_BEFORE_DAYS) > today:
            break
        horizon += datetime.timedelta(days=1)
    candidates = live.filter(Q(due_on__lte=horizon) | Q(application__case__state__in=ENDED_STATES))
    rows = list(candidates.values_list("pk", "kind", "due_on", "application__case__state"))
    keys = [f"{REMIND_KEY}{pk}:remind:{which}" for pk, *_rest in rows for which in ("before", "due")]
    sent = set(Notice.objects.filter(key__in=keys).values_list("key", flat=True)) if keys else set()
    for gap_id, kind, due_on, state in rows:
        # Decide from the row what (if anything) is to be done, before opening a transaction.
        if state not in ENDED_STATES:
            if kind == GapKind.PLEDGE:
                if due_on < today:
                    result.pledges_overdue.append(gap_id)
                continue
            if due_on >= today:
                which = "due" if due_on == today else "before"
                in_window = calendar.add_working_days(due_on, -REMIND_BEFORE_DAYS) <= today
                if not in_window or f"{REMIND_KEY}{gap_id}:remind:{which}" in sent:
                    continue
        with transaction.atomic():
            gap = live.select_for_update(of=("self",)).filter(pk=gap_id).first()
            if gap is None:  # finished by someone else meanwhile
                continue
            application = gap.application
            case = application.case
            if case.state in ENDED_STATES:
                result.closed += _gaps_close_for(
                    application=application, state=case.state, now=now, actor=SYSTEM_ACTOR
                )
                continue
            if gap.kind == GapKind.PLEDGE:
                continue
            if gap.due_on < today:
                note = _(
                    "“%(name)s” was accepted to be supplied later (容缺) and was not supplied by %(date)s."
                ) % {"name": gap.material.name, "date": gap.due_on.isoformat()}
                changed = ApplicationGap.objects.filter(
                    pk=gap.pk, status=GapStatus.OPEN, closed_at__isnull=True
                ).update(status=GapStatus.REVOKED, note=note[:MAX_NOTE], closed_at=now)
                if changed != 1:  # supplied a moment ago (compare-and-set, also on SQLite)
                    continue
                audit_record(
                    actor=SYSTEM_ACTOR,
                    action="services.gap_revoke",
                    target=gap,
                    after={
                        "reference": case.reference,
                        "material": gap.material.name,
                        "due_on": gap.due_on.isoformat(),
                    },
                )
                _revoke(gap=gap, note=note, now=now, actor=SYSTEM_ACTOR)
                notice_send(
                    user=application.applicant,
                    subject=_("Application %(reference)s revoked") % {"reference": case.reference},
                    body=note,
                    ref=case.reference,
                    key=f"services.gap:{gap.pk}:revoked",
                    now=now,
                )
                result.revoked.append(gap.pk)
                continue
            if _remind(gap=gap, now=now, which="due" if gap.due_on == today else "before"):
                result.reminded.append(gap.pk)
    return result


@task_register("services.gap_sweep")
def gap_sweep_task() -> None:
    result = gaps_sweep()
    logger.info(
        "gap sweep: %d reminded, %d revoked, %d closed, %d pledges overdue",
        len(result.reminded),
        len(result.revoked),
        len(result.closed),
        len(result.pledges_overdue),
    )


periodic_register("services.gap_sweep", every=SWEEP_EVERY)
