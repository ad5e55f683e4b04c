"""The cases engine's verbs. Each is one transaction and one audit entry; notifications and
task enqueues become visible only when it commits."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.access import access_case_assign, access_case_transition, access_case_view
from yiwang.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseParticipant,
    EscalationLog,
    Notification,
    SlaStatus,
)
from yiwang.cases.taskqueue import task_enqueue
from yiwang.cases.types import CaseType, Escalation, Limit, case_type_get, case_types
from yiwang.core.audit import _actor_parts, audit_record
from yiwang.core.calendar import WorkingDayCalendar, add_working_hours, working_hours_between
from yiwang.core.db import counter_next, unit_of_work
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Department

SYSTEM = "system"
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def _check_attachment(file: File | None, field: str = "attachment") -> None:
    if file is not None and (file.size or 0) > MAX_ATTACHMENT_BYTES:
        raise FieldErrors.single(
            field,
            _("The file is larger than %(limit)s MB.") % {"limit": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
        )


# --- deadlines -------------------------------------------------------------------------


def _deadline_pair(
    limit: Limit | None, start: datetime.datetime, share: float, calendar: WorkingDayCalendar
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(warn_at, deadline) for a limit starting at `start`: the warning comes when `share` of
    the working time allowed has passed."""
    if limit is None:
        return None, None
    deadline = limit.due(start, calendar=calendar)
    allowed = working_hours_between(start, deadline, calendar=calendar)
    warn_at = add_working_hours(start, allowed * share, calendar=calendar) if allowed > 0 else deadline
    return min(warn_at, deadline), deadline


def _sla_status(*moments: tuple[datetime.datetime | None, datetime.datetime | None], now) -> str:
    status = SlaStatus.GREEN
    for warn_at, deadline in moments:
        if deadline is not None and deadline <= now:
            return SlaStatus.RED
        if warn_at is not None and warn_at <= now:
            status = SlaStatus.YELLOW
    return status


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "type": case.type_code,
        "state": case.state,
        "department": case.department_id,
        "assignee": case.assignee_id,
        "version": case.version,
        "sla_status": case.sla_status,
    }


def _event(case: Case, *, actor: Any, kind: str, at, **fields) -> CaseEvent:
    actor_id, actor_label = _actor_parts(actor)
    return CaseEvent.objects.create(
        case=case, at=at, actor_id=actor_id, actor_label=actor_label[:128], kind=kind, **fields
    )


def _reference_next(case_type: CaseType, now: datetime.datetime) -> str:
    year = timezone.localtime(now).year
    number = counter_next(CaseCounter, {"year": year})  # the row stays locked until commit
    return f"{case_type.reference_prefix}{year}-{number:06d}"


# --- open, transition, assign ----------------------------------------------------------


def case_open(
    *,
    case_type: str,
    title: str,
    department: Department,
    actor: Any,
    assignee: Any = None,
    division: Any = None,
    parent: Case | None = None,
    subject_type: str = "",
    subject_key: str = "",
    data: dict | None = None,
    note: str = "",
    case_limit: Limit | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Open a case of a registered type in its initial state, with its deadlines. `case_limit`
    overrides the type's limit for this case (a hotline ticket kind, a matter's legal limit)."""
    kind = case_type_get(case_type)
    if not title.strip():
        raise FieldErrors.single("title", _("A case needs a title."))
    now = now or timezone.now()
    calendar = WorkingDayCalendar()
    state = kind.state(kind.initial)
    state_warn_at, state_deadline = _deadline_pair(state.limit, now, kind.warning_share, calendar)
    case_warn_at, case_deadline = _deadline_pair(
        case_limit or kind.case_limit, now, kind.warning_share, calendar
    )
    # Checked above, only writes below: part of the caller's transaction, without a savepoint.
    with unit_of_work(connection):
        case = Case.objects.create(
            type_code=kind.code,
            reference=_reference_next(kind, now),
            title=title.strip()[:200],
            state=state.code,
            department=department,
            assignee=assignee,
            division=division,
            parent=parent,
            subject_type=subject_type,
            subject_key=str(subject_key),
            data=data or {},
            opened_at=now,
            state_entered_at=now,
            state_warn_at=state_warn_at,
            state_deadline=state_deadline,
            case_warn_at=case_warn_at,
            case_deadline=case_deadline,
            sla_status=_sla_status((state_warn_at, state_deadline), (case_warn_at, case_deadline), now=now),
        )
        _event(case, actor=actor, kind="opened", at=now, to_state=state.code, note=note)
        audit_record(actor=actor, action="case.open", target=case, after=_snapshot(case))
    return case


def _apply_transition(
    *,
    case: Case,
    kind: CaseType,
    name: str,
    actor: Any,
    note: str,
    expected_version: int,
    now,
    attachment=None,
    department: Department | None = None,
) -> Case:
    """Move the case (inside the caller's transaction) with a compare-and-set on its version;
    `department` hands it to another department in the same move (dispatch, return)."""
    transition = kind.transition(name)
    target = kind.state(transition.target)
    calendar = WorkingDayCalendar()
    state_warn_at, state_deadline = _deadline_pair(target.limit, now, kind.warning_share, calendar)
    closed_at = now if target.final else None
    if target.final:
        state_warn_at = state_deadline = None
    changes: dict[str, Any] = {
        "state": target.code,
        "state_entered_at": now,
        "state_warn_at": state_warn_at,
        "state_deadline": state_deadline,
        "closed_at": closed_at,
    }
    if department is not None and department.pk != case.department_id:
        changes["department"] = department
        changes["assignee"] = None
    if not target.final:
        changes["sla_status"] = _sla_status(
            (state_warn_at, state_deadline), (case.case_warn_at, case.case_deadline), now=now
        )
    elif case.case_deadline is not None and case.case_deadline < now:
        changes["sla_status"] = SlaStatus.RED  # closed late: stays visible as overdue
    before = _snapshot(case)
    won = Case.objects.filter(pk=case.pk, version=expected_version, state=case.state).update(
        version=F("version") + 1, **changes
    )
    if won != 1:
        current = Case.objects.filter(pk=case.pk).values("state", "version").first() or {}
        raise Conflict(
            _(
                "Case %(reference)s was changed by someone else (it is now “%(state)s”, version "
                "%(version)s; you acted on version %(expected)s). Nothing was saved: reload the case "
                "and try again."
            )
            % {
                "reference": case.reference,
                "state": kind.state(current.get("state", case.state)).label,
                "version": current.get("version", "?"),
                "expected": expected_version,
            }
        )
    from_state = case.state
    case.refresh_from_db()
    _event(
        case,
        actor=actor,
        kind="transition",
        at=now,
        transition=name,
        from_state=from_state,
        to_state=target.code,
        note=note,
        attachment=attachment or "",
        data={"department": department.pk} if "department" in changes else {},
    )
    audit_record(
        actor=actor,
        action="case.transition",
        target=case,
        before=before,
        after={**_snapshot(case), "transition": name, "note": note},
    )
    if kind.after_transition is not None:
        kind.after_transition(case=case, transition=name, actor=actor, note=note)
    return case


def case_transition(
    *,
    case: Case,
    transition: str,
    actor: Any,
    expected_version: int,
    note: str = "",
    attachment: File | None = None,
    department: Department | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Take a transition of the case's type. Refused with Forbidden if the actor's roles may
    not take it, FieldErrors if a required note is missing, Conflict if the case is not (or no
    longer) in a state the transition leaves from, or moved on since `expected_version`.
    `department` hands the case to that department with the move (the actor must be allowed
    to assign it)."""
    kind = case_type_get(case.type_code)
    if not access_case_view(actor, case):
        raise NotFound(_("Not found."))
    move = kind.transition(transition)
    if move is None:
        raise FieldErrors.single("transition", _("This case type has no transition “%s”.") % transition)
    if not access_case_transition(actor, case, move):
        raise Forbidden(
            _("You may not take “%(transition)s” on case %(reference)s: it needs the role %(roles)s.")
            % {
                "transition": move.label,
                "reference": case.reference,
                "roles": "、".join(str(role_label(role)) for role in move.roles) or _("system"),
            }
        )
    if case.state not in move.sources:
        raise Conflict(
            _("“%(transition)s” cannot be taken while case %(reference)s is “%(state)s”.")
            % {"transition": move.label, "reference": case.reference, "state": kind.state(case.state).label}
        )
    if department is not None and not access_case_assign(actor, case):
        raise Forbidden(_("You may not assign case %s.") % case.reference)
    _check_attachment(attachment)
    if move.note_required and not note.strip():
        raise FieldErrors.single("note", _("“%s” needs a note saying why.") % move.label)
    now = now or timezone.now()
    with transaction.atomic():
        return _apply_transition(
            case=case,
            kind=kind,
            name=transition,
            actor=actor,
            note=note.strip(),
            expected_version=expected_version,
            now=now,
            attachment=attachment,
            department=department,
        )


def case_transition_system(
    *,
    case: Case,
    transition: str,
    actor: Any,
    expected_version: int,
    note: str = "",
    department: Department | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Take a `system` transition on behalf of an application that has made its own access
    decision (the hotline dispatching automatically, a citizen rating their own ticket). The
    move is checked against the case type and the version like any other and audited under
    `actor` (a user or a "system:…" label)."""
    kind = case_type_get(case.type_code)
    move = kind.transition(transition)
    if move is None or not move.system:
        raise ValueError(f"{case.type_code} has no system transition {transition!r}")
    if case.state not in move.sources:
        raise Conflict(
            _("“%(transition)s” cannot be taken while case %(reference)s is “%(state)s”.")
            % {"transition": move.label, "reference": case.reference, "state": kind.state(case.state).label}
        )
    now = now or timezone.now()
    with transaction.atomic():
        return _apply_transition(
            case=case,
            kind=kind,
            name=transition,
            actor=actor,
            note=note.strip(),
            expected_version=expected_version,
            now=now,
            department=department,
        )


def role_label(role: str) -> str:
    from yiwang.core.models import Role

    return Role(role).label


def case_assign(
    *,
    case: Case,
    actor: Any,
    department: Department | None = None,
    assignee: Any = None,
    note: str = "",
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Give the case to another department and/or a person (compare-and-set on the version)."""
    if not access_case_view(actor, case):
        raise NotFound(_("Not found."))
    if not access_case_assign(actor, case):
        raise Forbidden(_("You may not assign case %s.") % case.reference)
    if department is None and assignee is None:
        raise FieldErrors.single("department", _("Name a department or a person."))
    now = now or timezone.now()
    expected = case.version if expected_version is None else expected_version
    changes: dict[str, Any] = {}
    if department is not None:
        changes["department"] = department
    if assignee is not None or department is not None:
        changes["assignee"] = assignee
    with transaction.atomic():
        before = _snapshot(case)
        won = Case.objects.filter(pk=case.pk, version=expected).update(version=F("version") + 1, **changes)
        if won != 1:
            raise Conflict(
                _("Case %s was changed by someone else. Nothing was saved: reload it and try again.")
                % case.reference
            )
        case.refresh_from_db()
        _event(
            case,
            actor=actor,
            kind="assigned",
            at=now,
            note=note,
            data={"department": case.department_id, "assignee": case.assignee_id},
        )
        audit_record(actor=actor, action="case.assign", target=case, before=before, after=_snapshot(case))
    return case


def case_add_participant(
    *, case: Case, department: Department, actor: Any, note: str = "", now: datetime.datetime | None = None
) -> CaseParticipant:
    """Ask another department to co-handle the case (协办)."""
    if not access_case_view(actor, case) or not access_case_assign(actor, case):
        raise Forbidden(_("You may not add a co-handling department to case %s.") % case.reference)
    if department.pk == case.department_id:
        raise FieldErrors.single("department", _("This department already handles the case."))
    now = now or timezone.now()
    with transaction.atomic():
        participant, created = CaseParticipant.objects.get_or_create(
            case=case, department=department, defaults={"added_at": now}
        )
        if not created:
            raise Conflict(_("%s already co-handles this case.") % department.name)
        _event(
            case, actor=actor, kind="participant_added", at=now, note=note, data={"department": department.pk}
        )
        audit_record(
            actor=actor, action="case.add_participant", target=case, after={"department": department.pk}
        )
    return participant


def case_attach(
    *, case: Case, actor: Any, file: File, note: str = "", now: datetime.datetime | None = None
) -> CaseEvent:
    """Add a file to the case's timeline (stored under MEDIA_ROOT/cases/<reference>/)."""
    if not access_case_view(actor, case):
        raise NotFound(_("Not found."))
    _check_attachment(file, "file")
    now = now or timezone.now()
    with transaction.atomic():
        event = _event(case, actor=actor, kind="attachment", at=now, note=note, attachment=file)
        audit_record(
            actor=actor,
            action="case.attach",
            target=case,
            after={"file": event.attachment.name, "note": note},
        )
    return event


def case_log(
    *,
    case: Case,
    actor: Any,
    kind: str,
    note: str = "",
    data: dict | None = None,
    now: datetime.datetime | None = None,
) -> CaseEvent:
    """Add an application's own line to the case's timeline (a merged duplicate, a call
    back), without moving the case."""
    return _event(case, actor=actor, kind=kind, at=now or timezone.now(), note=note, data=data or {})


def case_notify(
    *,
    case: Case,
    role: str,
    message: str,
    department: Department | None = None,
    now: datetime.datetime | None = None,
) -> Notification:
    """Tell the holders of `role` (in `department`, or anywhere) about the case: a line in
    their workbench inbox, delivered by a queued task. Call it inside the caller's
    transaction, so a rolled-back move tells nobody."""
    notification = Notification.objects.create(
        case=case,
        role=role,
        department=department,
        message=str(message)[:255],
        created_at=now or timezone.now(),
    )
    task_enqueue("cases.notify", {"notification_id": notification.pk})
    return notification


# --- the SLA sweep -----------------------------------------------------------------------


@dataclass
class SweepResult:
    yellow: list[str] = field(default_factory=list)
    red: list[str] = field(default_factory=list)
    escalated: list[tuple[str, str]] = field(default_factory=list)


def _colour(cases, colour: str, now, result: SweepResult) -> None:
    for case in cases:
        with transaction.atomic():
            # Compare-and-set on the colour only: the sweep never bumps the version, so a
            # handler acting at the same moment is not refused because of it.
            won = Case.objects.filter(pk=case.pk, sla_status=case.sla_status, closed_at__isnull=True).update(
                sla_status=colour
            )
            if not won:
                continue
            kind = "overdue" if colour == SlaStatus.RED else "warning"
            _event(case, actor=SYSTEM, kind=kind, at=now, from_state=case.state, to_state=case.state)
            audit_record(
                actor=SYSTEM,
                action=f"case.sla_{colour}",
                target=case,
                before={"sla_status": case.sla_status},
                after={"sla_status": colour, "state": case.state, "reference": case.reference},
            )
        (result.red if colour == SlaStatus.RED else result.yellow).append(case.reference)


def _escalate(case: Case, kind: CaseType, rule: Escalation, now, result: SweepResult) -> None:
    try:
        with transaction.atomic():
            EscalationLog.objects.create(
                case=case,
                rule=rule.key,
                state=case.state,
                state_entered_at=case.state_entered_at,
                fired_at=now,
                notify_role=rule.notify_role,
                transition=rule.transition,
            )
            message = str(rule.message) or _("Case %(reference)s is overdue in “%(state)s”.") % {
                "reference": case.reference,
                "state": kind.state(case.state).label,
            }
            _event(
                case,
                actor=SYSTEM,
                kind="escalated",
                at=now,
                from_state=case.state,
                to_state=case.state,
                note=message,
                data={"rule": rule.key, "notify_role": rule.notify_role},
            )
            audit_record(
                actor=SYSTEM,
                action="case.escalate",
                target=case,
                after={"rule": rule.key, "state": case.state, "notify_role": rule.notify_role},
            )
            if rule.notify_role:
                case_notify(case=case, role=rule.notify_role, message=message, now=now)
            if rule.transition:
                _apply_transition(
                    case=case,
                    kind=kind,
                    name=rule.transition,
                    actor=SYSTEM,
                    note=message,
                    expected_version=case.version,
                    now=now,
                )
    except IntegrityError:
        return  # fired before for this stay in the state (another sweep got there first)
    except Conflict:
        return  # a handler moved the case meanwhile: nothing fired, the next sweep decides again
    result.escalated.append((case.reference, rule.key))


def _batches(queryset, size: int):
    """Keyset pages by id: rows settled in one page are not read again, and nothing is
    written while a cursor is open over the same table (SQLite gives no isolation there)."""
    last_id = 0
    while True:
        batch = list(queryset.filter(pk__gt=last_id).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last_id = batch[-1].pk


def case_sla_sweep(*, now: datetime.datetime | None = None, batch_size: int = 500) -> SweepResult:
    """Mark open cases yellow (warning share of the time limit used) or red (overdue) and run
    each escalation rule once per (case, rule, stay in the state). Idempotent and resumable:
    each case is settled in its own small transaction, and what was done is read back from
    the data (colour, EscalationLog), so a second run — or a run after a crash — does only
    what is left."""
    now = now or timezone.now()
    result = SweepResult()
    open_cases = Case.objects.filter(closed_at__isnull=True)
    overdue = Q(state_deadline__lte=now) | Q(case_deadline__lte=now)
    near = Q(state_warn_at__lte=now) | Q(case_warn_at__lte=now)
    calendar = WorkingDayCalendar()  # one snapshot of the holiday overrides for the whole sweep
    red = open_cases.filter(overdue).exclude(sla_status=SlaStatus.RED)
    for batch in _batches(red, batch_size):
        _colour(batch, SlaStatus.RED, now, result)
    yellow = open_cases.filter(near).exclude(overdue).filter(sla_status=SlaStatus.GREEN)
    for batch in _batches(yellow, batch_size):
        _colour(batch, SlaStatus.YELLOW, now, result)
    for kind in case_types():
        for rule in kind.escalations:
            fired = EscalationLog.objects.filter(
                case=OuterRef("pk"),
                rule=rule.key,
                state=rule.state,
                state_entered_at=OuterRef("state_entered_at"),
            )
            deadline = "case_deadline" if rule.basis == "case" else "state_deadline"
            candidates = open_cases.filter(
                type_code=kind.code, state=rule.state, **{f"{deadline}__lte": now}
            ).exclude(Exists(fired))
            for batch in _batches(candidates, batch_size):
                for case in batch:
                    late = rule.overdue_by.amount and rule.overdue_by.due(
                        getattr(case, deadline), calendar=calendar
                    )
                    if late and late > now:
                        continue
                    _escalate(case, kind, rule, now, result)
    return result
