"""Case types as data: a registry of frozen dataclasses that applications fill at start-up.

An application declares its case type in its AppConfig.ready():

    from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition, case_type_register

    case_type_register(CaseType(
        code="hotline.ticket", label=_("Hotline ticket"),
        states=(State("new", _("New"), limit=Limit(1, "days")), State("handling", _("Handling"),
                limit=Limit(16, "hours")), State("closed", _("Closed"), final=True)),
        initial="new",
        transitions=(Transition("accept", _("Accept"), sources=("new",), target="handling",
                                roles=("department_handler",)), ...),
        escalations=(Escalation("press", state="handling", overdue_by=Limit(0, "hours"),
                                notify_role="supervisor"),),
    ))

Like NetBox's registry the declarations are code-reviewed data, not database rows: a case type
changes with a release (its states are referenced by stored cases, so an edit is a migration of
meaning), the engine validates it once at start-up, and no query is needed to read it. Rows
would let an administrator edit a workflow at run time, which nobody has asked for yet.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.utils.functional import Promise

from yiwang.core.calendar import DEFAULT_OFFICE_DAY, WorkingDayCalendar, add_working_hours
from yiwang.core.models import Role

Text = str | Promise
Unit = Literal["days", "hours"]


@dataclass(frozen=True)
class Limit:
    """A time limit in working days (due at the close of the office day) or working hours."""

    amount: float
    unit: Unit = "days"

    def due(
        self, start: datetime.datetime, *, calendar: WorkingDayCalendar | None = None
    ) -> datetime.datetime:
        calendar = calendar or WorkingDayCalendar()
        if self.unit == "hours":
            return add_working_hours(start, self.amount, calendar=calendar)
        local = start.astimezone(DEFAULT_OFFICE_DAY.close(start.date()).tzinfo)
        return DEFAULT_OFFICE_DAY.close(calendar.add_working_days(local.date(), int(self.amount)))

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} working {self.unit}"


@dataclass(frozen=True)
class State:
    code: str
    label: Text
    limit: Limit | None = None
    final: bool = False


@dataclass(frozen=True)
class Transition:
    """A move from one of `sources` to `target`, allowed to the holders of `roles`.
    `system` transitions are taken by the engine (escalation rules), never by a person."""

    name: str
    label: Text
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...] = ()
    note_required: bool = False
    system: bool = False


@dataclass(frozen=True)
class Escalation:
    """ "State `state` overdue by `overdue_by` → take `transition` and/or notify `notify_role`.
    `basis` says which deadline counts: the state's own ("state") or the whole case's ("case",
    for a state that has no limit of its own but must not outlive the case's)."""

    key: str
    state: str
    overdue_by: Limit = Limit(0, "hours")
    notify_role: str = ""
    transition: str = ""
    message: Text = ""
    basis: Literal["state", "case"] = "state"


@dataclass(frozen=True)
class CaseType:
    code: str
    label: Text
    states: tuple[State, ...]
    initial: str
    transitions: tuple[Transition, ...]
    case_limit: Limit | None = None
    escalations: tuple[Escalation, ...] = ()
    warning_share: float = 0.8
    reference_prefix: str = ""
    # Roles that see every case of this type (beyond the city-wide roles and the handlers
    # of its departments): the hotline's operators follow every ticket to call back.
    viewer_roles: tuple[str, ...] = ()
    # Called inside the transition's transaction as after_transition(case=, transition=,
    # actor=, note=): the application updates its own rows (a bundle advances when a
    # sub-case ends, a ticket records its reply) atomically with the move. It may raise a
    # DomainError to refuse the move; the engine never imports the application.
    after_transition: Callable[..., None] | None = field(default=None, compare=False)
    _states: dict[str, State] = field(default_factory=dict, init=False, repr=False, compare=False)
    _transitions: dict[str, Transition] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._states.update({state.code: state for state in self.states})
        self._transitions.update({transition.name: transition for transition in self.transitions})
        problems = self.problems()
        if problems:
            raise ValueError(f"case type {self.code}: " + "; ".join(problems))

    def problems(self) -> list[str]:
        problems = []
        if len(self._states) != len(self.states):
            problems.append("two states share a code")
        if len(self._transitions) != len(self.transitions):
            problems.append("two transitions share a name")
        if self.initial not in self._states:
            problems.append(f"unknown initial state {self.initial!r}")
        for transition in self.transitions:
            for code in (*transition.sources, transition.target):
                if code not in self._states:
                    problems.append(f"transition {transition.name!r} names unknown state {code!r}")
            for role in transition.roles:
                if role not in Role.values:
                    problems.append(f"transition {transition.name!r} names unknown role {role!r}")
            if not transition.roles and not transition.system:
                problems.append(f"transition {transition.name!r} has no role and is not a system transition")
        for rule in self.escalations:
            if rule.state not in self._states:
                problems.append(f"escalation {rule.key!r} names unknown state {rule.state!r}")
            if rule.transition and rule.transition not in self._transitions:
                problems.append(f"escalation {rule.key!r} names unknown transition {rule.transition!r}")
            elif rule.transition and rule.state not in self._transitions[rule.transition].sources:
                problems.append(
                    f"escalation {rule.key!r}: transition {rule.transition!r} does not leave {rule.state!r}"
                )
            if rule.basis not in ("state", "case"):
                problems.append(f"escalation {rule.key!r} has unknown basis {rule.basis!r}")
            if rule.notify_role and rule.notify_role not in Role.values:
                problems.append(f"escalation {rule.key!r} names unknown role {rule.notify_role!r}")
        if not 0 < self.warning_share <= 1:
            problems.append("warning_share must be in (0, 1]")
        return problems

    def state(self, code: str) -> State:
        return self._states[code]

    def transition(self, name: str) -> Transition | None:
        return self._transitions.get(name)

    def transitions_from(self, state: str) -> list[Transition]:
        return [transition for transition in self.transitions if state in transition.sources]


_CASE_TYPES: dict[str, CaseType] = {}


def case_type_register(case_type: CaseType, *, replace: bool = False) -> CaseType:
    """Declare a case type (from an AppConfig.ready()). Registering a code twice is an error
    unless `replace` (tests)."""
    if case_type.code in _CASE_TYPES and not replace and _CASE_TYPES[case_type.code] != case_type:
        raise ValueError(f"case type {case_type.code} is already registered")
    _CASE_TYPES[case_type.code] = case_type
    return case_type


def case_type_get(code: str) -> CaseType:
    try:
        return _CASE_TYPES[code]
    except KeyError:
        raise LookupError(f"unknown case type {code!r}; is its application installed?") from None


def case_types() -> list[CaseType]:
    return sorted(_CASE_TYPES.values(), key=lambda case_type: case_type.code)
