"""一件事 (bundles): one submission, sub-applications in several departments released along the
bundle's DAG, one status, one combined result.

    bundle_write      a bundle as data: its steps (matters) and what each depends on, checked
                      (unknown step, cycle, inactive matter → FieldErrors naming the step)
    bundle_form       the combined form: every step's fields, each asked once, filled from
                      shared data by `services.form_autofill` (per step, as its department)
    bundle_submit     one submission → a BundleApplication whose case (services.bundle) is the
                      parent; the steps with no dependency start at once (application_submit)
    bundle_advance    releases the steps whose dependencies are all approved; completes the
                      bundle when every step is approved; fails it (naming the step and its
                      reason) once a step ended unapproved and nothing runs any more. Called
                      by the effect below whenever a step's application ends.
    bundle_withdraw   the applicant withdraws while no step is under review

A step that ends without approval (rejected, not accepted, withdrawn, revoked) stops the steps
that depend on it, transitively (they never start: 未开始：前序环节未通过); steps that do not
depend on it go on.
"""

from __future__ import annotations

import datetime
import graphlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.cases.models import Case
from yiwang.cases.selectors import case_state_label
from yiwang.cases.services import case_open, case_transition_system
from yiwang.cases.types import Limit
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, DomainError, ErrorCollector, FieldErrors, Forbidden, NotFound
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Department
from yiwang.services import cases as states
from yiwang.services.effects import effect_register
from yiwang.services.models import (
    ApplicantKind,
    Application,
    Bundle,
    BundleApplication,
    BundleStep,
    FormField,
    Material,
    MaterialSource,
    Matter,
)
from yiwang.services.services import FilledForm


def _record_language():
    """Notes on the timeline and notices are stored in the platform's language (Chinese), not
    in the language of whichever request happened to write them."""
    return translation.override(settings.LANGUAGE_CODE)


CENTRE = "ZWFW"  # 政务服务中心: the bundle case's department when several steps start together
ENDED_UNAPPROVED = (states.REJECTED, states.NOT_ACCEPTED, states.WITHDRAWN, states.REVOKED)

# The state of a step within its bundle.
APPROVED = "approved"
RUNNING = "running"
FAILED = "failed"
READY = "ready"  # every dependency approved, not released yet (transient)
WAITING = "waiting"
BLOCKED = "blocked"  # an earlier step it depends on ended unapproved: it never starts


# --------------------------------------------------------------------------- the DAG


def _matter_of(value: Any) -> Matter | None:
    if isinstance(value, Matter):
        return value
    return Matter.objects.filter(code=str(value or "")).select_related("department").first()


def bundle_steps_check(*, steps: list[dict[str, Any]], applicant_kind: str) -> list[dict[str, Any]]:
    """Check a bundle's steps (dicts: code, name, matter (a Matter or its code), depends_on)
    and return them with `matter` resolved. FieldErrors name the step (`steps.<i>.…`): an
    unknown or repeated code, a dependency on an unknown step or on itself, a cycle (every step
    in it named), a missing or inactive matter, a matter for another kind of applicant, a step
    that waits for another and still asks the applicant for an upload (a bundle is submitted
    once: everything the applicant gives is given then)."""
    errors = ErrorCollector()
    if not steps:
        errors.add("steps", _("A bundle needs at least one step."))
    codes: dict[str, int] = {}
    resolved: list[dict[str, Any]] = []
    for index, raw in enumerate(steps):
        code = str(raw.get("code") or "").strip()
        if not code:
            errors.add(("steps", index, "code"), _("Step %(number)s has no code.") % {"number": index + 1})
        elif code in codes:
            errors.add(("steps", index, "code"), _("Step “%(code)s” appears twice.") % {"code": code})
        else:
            codes[code] = index
        matter = _matter_of(raw.get("matter"))
        if matter is None:
            errors.add(
                ("steps", index, "matter"),
                _("Step “%(code)s”: no matter %(matter)s.") % {"code": code, "matter": raw.get("matter")},
            )
        elif not matter.is_active:
            errors.add(
                ("steps", index, "matter"),
                _("Step “%(code)s”: the matter “%(matter)s” is not active.")
                % {"code": code, "matter": matter.name},
            )
        elif (
            matter.applicant_kind not in (ApplicantKind.BOTH, applicant_kind)
            and applicant_kind != ApplicantKind.BOTH
        ):
            errors.add(
                ("steps", index, "matter"),
                _("Step “%(code)s”: the matter “%(matter)s” is for another kind of applicant.")
                % {"code": code, "matter": matter.name},
            )
        resolved.append(
            {
                "code": code,
                "name": str(raw.get("name") or (matter.name if matter else code)).strip()[:200],
                "matter": matter,
                "depends_on": [str(item) for item in (raw.get("depends_on") or [])],
            }
        )
    for index, step in enumerate(resolved):
        for dependency in step["depends_on"]:
            if dependency == step["code"]:
                errors.add(
                    ("steps", index, "depends_on"),
                    _("Step “%(code)s” depends on itself.") % {"code": step["code"]},
                )
            elif dependency not in codes:
                errors.add(
                    ("steps", index, "depends_on"),
                    _("Step “%(code)s” depends on “%(dependency)s”, which is not a step of this bundle.")
                    % {"code": step["code"], "dependency": dependency},
                )
        if step["depends_on"] and step["matter"] is not None:
            asked = step["matter"].materials.filter(source=MaterialSource.UPLOAD, required=True).first()
            if asked is not None:
                errors.add(
                    ("steps", index, "matter"),
                    _(
                        "Step “%(code)s” waits for another step but asks the applicant to upload "
                        "“%(material)s”: a bundle asks for everything once, at submission."
                    )
                    % {"code": step["code"], "material": asked.name},
                )
    errors.raise_if_any()
    sorter = graphlib.TopologicalSorter({step["code"]: step["depends_on"] for step in resolved})
    try:
        sorter.prepare()
    except graphlib.CycleError as cycle:
        ring = list(dict.fromkeys(cycle.args[1]))
        for code in ring:
            errors.add(
                ("steps", codes[code], "depends_on"),
                _("Step “%(code)s” is in a cycle: %(cycle)s.")
                % {"code": code, "cycle": " → ".join([*ring, ring[0]])},
            )
        errors.raise_if_any()
    return resolved


def bundle_write(
    *,
    code: str,
    name: str,
    steps: list[dict[str, Any]],
    actor: Any,
    description: str = "",
    legal_basis: str = "",
    applicant_kind: str = ApplicantKind.PERSON,
    is_active: bool = True,
) -> tuple[Bundle, bool]:
    """Create or update a bundle and its steps (checked by `bundle_steps_check`). Writing the
    same definition again changes nothing. Returns (bundle, changed)."""
    code = (code or "").strip()
    if not code:
        raise FieldErrors.single("code", _("A bundle needs a code."))
    if not (name or "").strip():
        raise FieldErrors.single("name", _("A bundle needs a name."))
    resolved = bundle_steps_check(steps=steps, applicant_kind=applicant_kind)
    wanted_steps = [
        (step["code"], step["name"], step["matter"].pk, step["depends_on"], position)
        for position, step in enumerate(resolved)
    ]
    columns = {
        "name": name.strip(),
        "description": description,
        "legal_basis": legal_basis,
        "applicant_kind": applicant_kind,
        "is_active": is_active,
    }
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().filter(code=code).first()
        if bundle is not None:
            have_steps = list(
                bundle.steps.order_by("position", "id").values_list(
                    "code", "name", "matter_id", "depends_on", "position"
                )
            )
            if have_steps == wanted_steps and all(getattr(bundle, k) == v for k, v in columns.items()):
                return bundle, False
        before = None
        if bundle is None:
            bundle = Bundle.objects.create(code=code, **columns)
        else:
            before = {"name": bundle.name, "steps": [list(row[:4]) for row in have_steps]}
            for key, value in columns.items():
                setattr(bundle, key, value)
            bundle.save()
            bundle.steps.exclude(code__in=[row[0] for row in wanted_steps]).delete()
        for step_code, step_name, matter_id, depends_on, position in wanted_steps:
            BundleStep.objects.update_or_create(
                bundle=bundle,
                code=step_code,
                defaults={
                    "name": step_name,
                    "matter_id": matter_id,
                    "depends_on": depends_on,
                    "position": position,
                },
            )
        audit_record(
            actor=actor,
            action="services.bundle_write",
            target=bundle,
            before=before,
            after={"name": bundle.name, "steps": [list(row[:4]) for row in wanted_steps]},
        )
    return bundle, True


def bundle_steps(bundle: Bundle) -> list[BundleStep]:
    """The bundle's steps in an order where every step comes after those it depends on (ties
    by position)."""
    steps = list(bundle.steps.select_related("matter", "matter__department").order_by("position", "id"))
    by_code = {step.code: step for step in steps}
    sorter = graphlib.TopologicalSorter({step.code: step.depends_on for step in steps})
    sorter.prepare()
    order: list[BundleStep] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda code: (by_code[code].position, by_code[code].pk))
        order += [by_code[code] for code in ready]
        sorter.done(*ready)
    return order


def bundle_limit_days(bundle: Bundle, steps: list[BundleStep] | None = None) -> int:
    """The bundle's time limit: the promised (else legal) working days of its steps added up
    along the DAG's longest path (parallel steps count once)."""
    steps = steps if steps is not None else bundle_steps(bundle)
    finish: dict[str, int] = {}
    for step in steps:
        start = max((finish.get(code, 0) for code in step.depends_on), default=0)
        finish[step.code] = start + (step.matter.time_limit_days or 0)
    return max(finish.values(), default=0)


def bundle_department(steps: list[BundleStep]) -> Department:
    """The department of the bundle case: the first step's when one step starts it, else the
    政务服务中心 (several departments start together)."""
    roots = [step for step in steps if not step.depends_on]
    if len(roots) != 1:
        centre = Department.objects.filter(code=CENTRE).first()
        if centre is not None:
            return centre
    return (roots or steps)[0].matter.department


# --------------------------------------------------------------------------- selectors


def bundles_active() -> QuerySet[Bundle]:
    return (
        Bundle.objects.filter(is_active=True).prefetch_related("steps__matter__department").order_by("code")
    )


def bundle_get(*, code: str) -> Bundle:
    bundle = Bundle.objects.filter(code=code, is_active=True).first()
    if bundle is None:
        raise NotFound(_("No such bundled service."))
    return bundle


def bundle_applications_of(*, user: Any) -> QuerySet[BundleApplication]:
    """The bundles a user submitted (or that were submitted for them at the window), newest first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return BundleApplication.objects.none()
    return BundleApplication.objects.filter(applicant=user).select_related("case", "bundle")


def bundle_application_for_applicant(*, reference: str, user: Any) -> BundleApplication:
    """The user's own bundle application; NotFound for anyone else's (as for a missing one)."""
    found = bundle_applications_of(user=user).filter(case__reference=reference).first()
    if found is None:
        raise NotFound(_("Not found."))
    return found


def _end_note(case: Case) -> str:
    event = case.events.filter(kind="transition", to_state=case.state).order_by("-at", "-id").first()
    return event.note if event is not None else ""


@dataclass
class StepStatus:
    """Where one step of a bundle application stands, for the status page and the API."""

    step: BundleStep
    application: Application | None
    state: str
    label: str
    reason: str = ""  # why it ended unapproved, or why it never started
    waits_for: list[BundleStep] = field(default_factory=list)
    blocked_by: BundleStep | None = None

    @property
    def case(self) -> Case | None:
        return self.application.case if self.application is not None else None

    @property
    def deadline(self) -> datetime.datetime | None:
        return self.case.case_deadline if self.case is not None else None

    @property
    def sla_status(self) -> str:
        return self.case.sla_status if self.case is not None else ""

    @property
    def certificate_number(self) -> str:
        return self.application.certificate_number if self.application is not None else ""


def bundle_steps_status(*, bundle_application: BundleApplication) -> list[StepStatus]:
    """Every step of the bundle application, in DAG order, with its state: approved, running
    (its application is open), failed (ended unapproved, or could not be started), waiting (for
    the steps named in `waits_for`), blocked (an earlier step it depends on failed:
    `blocked_by`), or ready (about to be released)."""
    steps = bundle_steps(bundle_application.bundle)
    applications = {
        item.bundle_step: item
        for item in Application.objects.filter(bundle=bundle_application).select_related(
            "case", "case__department", "matter"
        )
    }
    not_started = (bundle_application.case.data or {}).get("not_started", {})
    by_code: dict[str, StepStatus] = {}
    result: list[StepStatus] = []
    for step in steps:
        application = applications.get(step.code)
        if application is not None:
            case = application.case
            if case.state == states.APPROVED:
                status = StepStatus(step, application, APPROVED, case_state_label(case))
            elif case.state in ENDED_UNAPPROVED:
                status = StepStatus(step, application, FAILED, case_state_label(case), reason=_end_note(case))
            else:
                status = StepStatus(step, application, RUNNING, case_state_label(case))
        elif step.code in not_started:
            status = StepStatus(
                step, None, FAILED, _("Could not be started"), reason=str(not_started[step.code])
            )
        else:
            dependencies = [by_code[code] for code in step.depends_on]
            stopped = [item for item in dependencies if item.state in (FAILED, BLOCKED)]
            if stopped:
                root = stopped[0].blocked_by or stopped[0].step
                status = StepStatus(
                    step,
                    None,
                    BLOCKED,
                    _("Not started: an earlier step was not approved (%(step)s)") % {"step": root.name},
                    blocked_by=root,
                )
            elif all(item.state == APPROVED for item in dependencies):
                status = StepStatus(step, None, READY, _("Starting"))
            else:
                waits = [item.step for item in dependencies if item.state != APPROVED]
                status = StepStatus(
                    step,
                    None,
                    WAITING,
                    _("Waiting for %(steps)s") % {"steps": "、".join(item.name for item in waits)},
                    waits_for=waits,
                )
        by_code[step.code] = status
        result.append(status)
    return result


@dataclass
class BundleResult:
    """The combined result (一次办结): the bundle's state and, step by step, the certificates
    issued; when it failed, which step and why."""

    state: str
    label: str
    done: bool
    certificates: list[dict[str, str]]
    failures: list[dict[str, str]]
    note: str


def bundle_result(*, bundle_application: BundleApplication, statuses: list[StepStatus]) -> BundleResult:
    from yiwang.certs.models import CertificateType

    case = bundle_application.case
    codes = {
        status.step.matter.certificate_type for status in statuses if status.step.matter.certificate_type
    }
    names = dict(CertificateType.objects.filter(code__in=codes).values_list("code", "name"))
    certificates = [
        {
            "step": status.step.name,
            "type": status.step.matter.certificate_type,
            "type_name": names.get(status.step.matter.certificate_type, status.step.matter.certificate_type),
            "number": status.certificate_number,
        }
        for status in statuses
        if status.certificate_number
    ]
    failures = [
        {"step": status.step.name, "label": status.label, "reason": status.reason}
        for status in statuses
        if status.state == FAILED
    ]
    return BundleResult(
        state=case.state,
        label=case_state_label(case),
        done=not case.is_open,
        certificates=certificates,
        failures=failures,
        note=_end_note(case) if not case.is_open else "",
    )


def bundle_is_withdrawable(*, bundle_application: BundleApplication) -> bool:
    """In progress, and no step under review or decided yet."""
    if bundle_application.case.state != states.IN_PROGRESS:
        return False
    return not (
        Application.objects.filter(bundle=bundle_application)
        .exclude(case__state__in=(states.SUBMITTED, states.CORRECTION))
        .exists()
    )


# --------------------------------------------------------------------------- the combined form


@dataclass(kw_only=True)
class BundleForm(FilledForm):
    """The bundle's one form for an applicant: the union of its steps' fields (each once, in
    step order), the values filled from shared data, their sources, and which steps ask each
    field. A services.FilledForm, so the apply page renders it the same way."""

    bundle: Bundle
    steps: list[BundleStep]
    asked_by: dict[str, list[str]] = field(default_factory=dict)
    # Fields the applicant types that other fields are read by (the unit number of the property).
    keys: list[str] = field(default_factory=list)

    def uploads(self) -> list[Material]:
        """The materials the applicant provides: uploads of the steps that start at once."""
        return [
            material
            for step in self.steps
            if not step.depends_on
            for material in step.matter.materials.all()
            if material.source == MaterialSource.UPLOAD
        ]

    def fetched(self) -> list[tuple[str, Material]]:
        """The materials the platform fetches, each once, with the names of the steps that use
        it ("交易备案、登记发证")."""
        seen: dict[tuple[str, str, str], tuple[list[str], Material]] = {}
        for step in self.steps:
            for material in step.matter.materials.all():
                if material.fetched:
                    key = (material.name, material.source, material.resource_code)
                    seen.setdefault(key, ([], material))[0].append(step.name)
        return [("、".join(names), material) for names, material in seen.values()]


def bundle_applicant(*, bundle: Bundle, user: Any):
    """The applicant a logged-in user is for this bundle (services.applicant_of on its first
    step's matter); Forbidden with the reason otherwise."""
    from yiwang.services.services import applicant_of

    steps = bundle_steps(bundle)
    return applicant_of(user=user, matter=steps[0].matter if steps else None)


def bundle_form(
    *, bundle: Bundle, applicant: Any, actor: Any, given: dict[str, Any] | None = None
) -> BundleForm:
    """The combined form, filled from shared data: each step's form is filled by
    services.form_autofill (read as the step's department, purpose recorded); a field asked by
    several steps is asked once, required if any step requires it, locked if any step locks a
    value the platform filled.

    `given`: what the applicant typed so far. A field read by the value of a typed field (the
    property's unit number: its address, its owner the seller, the seller's name) is filled
    from it too (`_fill_keyed`), as the step's department; the typed field is a key
    (`BundleForm.keys`)."""
    from yiwang.services.services import form_autofill

    given = {name: str(value).strip() for name, value in (given or {}).items() if value not in (None, "")}
    steps = bundle_steps(bundle)
    form = BundleForm(bundle=bundle, steps=steps, fields=[])
    by_name: dict[str, FormField] = {}
    for step in steps:
        filled = form_autofill(matter=step.matter, applicant=applicant, actor=actor)
        _fill_keyed(step=step, filled=filled, known={**given, **form.values}, actor=actor)
        for form_field in filled.fields:
            form.asked_by.setdefault(form_field.name, []).append(step.code)
            first = by_name.get(form_field.name)
            if first is None:
                by_name[form_field.name] = form_field
                form.fields.append(form_field)
            else:
                first.required = first.required or form_field.required
                first.editable = first.editable and form_field.editable
            if form_field.name in filled.values and form_field.name not in form.values:
                form.values[form_field.name] = filled.values[form_field.name]
                form.sources[form_field.name] = filled.sources[form_field.name]
    sourced = {f.name for f in form.fields if f.has_source}
    form.keys = [
        f.name
        for f in form.fields
        if not f.has_source
        and any(other.subject_from == f.name for other in form.fields if other.name in sourced)
    ]
    return form


def bundle_value_shown(*, form: BundleForm, name: str, applicant: Any) -> str:
    """A filled value as shown to the applicant: someone else's ID number (the seller's, the
    other parent's) masked; the read that filled it is in the exchange's evidence."""
    value = form.values.get(name, "")
    if value and name.endswith("id_number") and value != applicant.subject_key:
        return mask_id_number(value)
    return value


def _fill_keyed(*, step: BundleStep, filled: Any, known: dict[str, str], actor: Any) -> None:
    """Fill the step's fields that are read by the value of another field the platform did not
    fill (the applicant typed it, or an earlier step filled it), chains included (unit number →
    owner's ID number → owner's name). A field whose name is the resource's key or subject is a
    subject read; a field of the resource is a filter (the owners' register by unit number);
    else a subject read. Read as the step's department with the purpose recorded; what it may
    not read, or what is not found, is left empty."""
    from yiwang.exchange.selectors import exchange_read, readable_fields, resource_get
    from yiwang.services.services import AUTOFILL_PURPOSE, _display

    by_name = {f.name: f for f in filled.fields}
    consumer = step.matter.department
    for _round in range(3):
        progressed = False
        for form_field in filled.fields:
            if form_field.name in filled.values or not (form_field.has_source and form_field.subject_from):
                continue
            value = filled.values.get(form_field.subject_from) or known.get(form_field.subject_from)
            if not value:
                continue
            try:
                resource = resource_get(code=form_field.resource_code)
            except NotFound:
                continue
            if form_field.resource_field not in readable_fields(consumer=consumer, resource=resource):
                continue
            key_field = by_name.get(form_field.subject_from)
            key_name = (key_field.resource_field if key_field and key_field.resource_field else "") or (
                form_field.subject_from
            )
            names = set(resource.fields.values_list("name", flat=True))
            reading: dict[str, Any] = {"subject": value}
            if key_name not in (resource.key_field, resource.subject_field) and key_name in names:
                reading = {"filters": {key_name: value}}
            try:
                result = exchange_read(
                    consumer=consumer,
                    resource_code=resource.code,
                    purpose=AUTOFILL_PURPOSE % step.matter.name,
                    fields=[form_field.resource_field],
                    actor=actor,
                    page_size=1,
                    **reading,
                )
            except (Forbidden, NotFound, FieldErrors):
                continue
            found = result.rows[0].get(form_field.resource_field) if result.rows else None
            if found not in (None, ""):
                filled.values[form_field.name] = _display(form_field, found)
                filled.sources[form_field.name] = f"{resource.code}.{form_field.resource_field}"
                progressed = True
        if not progressed:
            break


def _check_keys(
    form: BundleForm, *, bundle: Bundle, applicant: Any, values: dict[str, Any], errors: ErrorCollector
) -> set[str]:
    """A typed key the shared data knows nothing about (no property with this unit number) is
    named as the error, not the empty fields read by it (returned, so that they are not
    reported missing as well); so is a key that leads back to the applicant where the bundle
    needs someone else (the buyer cannot buy their own flat)."""
    from yiwang.services.bundles_data import BUNDLE_OTHER_PARTY

    unknown: set[str] = set()
    for key in form.keys:
        if not str(values.get(key) or "").strip():
            continue
        dependents = [f for f in form.fields if f.subject_from == key and f.has_source]
        if dependents and not any(f.name in form.values for f in dependents):
            label = next(f.label for f in form.fields if f.name == key)
            errors.add(
                ("values", key),
                _("%(label)s: the shared data has no record of %(value)s.")
                % {"label": label, "value": str(values[key]).strip()[:64]},
            )
            chain = {key}
            for _round in range(len(form.fields)):
                more = {f.name for f in form.fields if f.subject_from in chain} - chain
                if not more:
                    break
                chain |= more
            unknown |= chain - {key}
    party = BUNDLE_OTHER_PARTY.get(bundle.code)
    if party is not None:
        field_name, key, message = party
        if form.values.get(field_name) and form.values[field_name] == applicant.subject_key:
            errors.add(("values", key), _(message))
    return unknown


def _check_subject_once(*, bundle: Bundle, values: dict[str, str], errors: ErrorCollector) -> None:
    """A bundle about someone (the newborn) is applied for once: not again while one is in
    progress or after one completed (another submission key, the other parent, the window)."""
    from yiwang.services.bundles_data import BUNDLE_SUBJECTS

    spec = BUNDLE_SUBJECTS.get(bundle.code)
    number = values.get(spec[0], "") if spec else ""
    if not number:
        return
    earlier = (
        BundleApplication.objects.filter(
            bundle=bundle, case__state__in=(states.IN_PROGRESS, states.COMPLETED)
        )
        .filter(**{f"values__{spec[0]}": number})
        .select_related("case")
        .first()
    )
    if earlier is not None:
        errors.add(
            ("values", spec[0]),
            _("%(bundle)s was already applied for (%(reference)s).")
            % {"bundle": bundle.name, "reference": earlier.case.reference},
        )


def _clean_values(
    form: BundleForm, values: dict[str, Any], errors: ErrorCollector, skip: set[str] = frozenset()
) -> dict[str, str]:
    """The union form's values checked as application_submit checks one matter's (a locked
    pre-filled field keeps the platform's value); errors under `values.<name>`."""
    from yiwang.services.services import _check_value

    clean: dict[str, str] = {}
    for form_field in form.fields:
        sent = values.get(form_field.name)
        value = "" if sent is None else str(sent).strip()
        if form_field.name in form.values and (not form_field.editable or not value):
            value = form.values[form_field.name]
        if not value:
            if form_field.required and form_field.name not in skip:
                errors.add(
                    ("values", form_field.name), _("%(label)s is required.") % {"label": form_field.label}
                )
            continue
        problem = _check_value(form_field, value)
        if problem:
            errors.add(("values", form_field.name), f"{form_field.label}: {problem}")
            continue
        clean[form_field.name] = value
    for name in sorted(set(values) - {f.name for f in form.fields}):
        errors.add(("values", name), _("Not a field of this form."))
    return clean


# --------------------------------------------------------------------------- submitting


def _step_key(bundle_application: BundleApplication, step: BundleStep) -> str:
    return f"{bundle_application.case.reference}/{step.code}"[:64]


def _release(
    *,
    bundle_application: BundleApplication,
    step: BundleStep,
    actor: Any,
    on_behalf_of: Any = None,
    uploads: dict[int, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Application:
    """Start one step: an application for its matter with the bundle's values for its fields,
    a child case of the bundle case (services.application_submit)."""
    from yiwang.services.services import application_submit

    names = set(step.matter.form_fields.values_list("name", flat=True))
    values = {name: value for name, value in bundle_application.values.items() if name in names}
    material_ids = set(step.matter.materials.values_list("pk", flat=True))
    extra: dict[str, Any] = {}
    if on_behalf_of is not None:
        extra["on_behalf_of"] = on_behalf_of
    application = application_submit(
        matter=step.matter,
        actor=actor,
        values=values,
        uploads={pk: upload for pk, upload in (uploads or {}).items() if pk in material_ids},
        submission_key=_step_key(bundle_application, step),
        now=now,
        bundle=bundle_application,
        bundle_step=step.code,
        **extra,
    )
    _step_subject_set(bundle_application=bundle_application, application=application, actor=actor)
    return application


def _step_subject_set(*, bundle_application: BundleApplication, application: Application, actor: Any) -> None:
    """When the bundle's steps are about someone other than the applicant (bundles_data.
    BUNDLE_SUBJECTS: the newborn), the step's application and case are about them: its
    certificate is issued to their ID number and name (the applicant's login still owns and
    follows it). Audited; nothing happens when it is already so."""
    from yiwang.services.bundles_data import BUNDLE_SUBJECTS

    spec = BUNDLE_SUBJECTS.get(bundle_application.bundle.code)
    if spec is None:
        return
    number = str(bundle_application.values.get(spec[0]) or "")
    name = str(bundle_application.values.get(spec[1]) or "")
    if not number or not name or application.subject_key == number:
        return
    before = application.subject_key
    Application.objects.filter(pk=application.pk).update(subject_key=number, applicant_name=name[:128])
    Case.objects.filter(pk=application.pk).update(subject_key=number)
    application.subject_key, application.applicant_name = number, name[:128]
    application.case.subject_key = number
    audit_record(
        actor=actor,
        action="services.bundle_step_subject",
        target=application,
        before={"subject": mask_id_number(before)},
        after={"subject": mask_id_number(number), "bundle": bundle_application.case.reference},
    )


def bundle_submit(
    *,
    bundle: Bundle,
    actor: Any,
    values: dict[str, Any],
    submission_key: str,
    uploads: dict[int, Any] | None = None,
    on_behalf_of: Any = None,
    now: datetime.datetime | None = None,
) -> BundleApplication:
    """Submit a bundle once: the combined form is checked whole (every step's fields, filled
    again from shared data), a bundle case is opened (services.bundle; its department is the
    first step's or the 政务服务中心; its limit the longest path of promised limits) and the
    steps with no dependency start at once as applications, children of the bundle case; the
    others start as the steps they wait for are approved (bundle_advance). All or nothing. The
    same `submission_key` twice returns the first bundle application.

    `on_behalf_of` (a services.Applicant): `actor` is a window clerk submitting for them (一窗
    受理); the clerk is recorded in `window_clerk` and passed on to the first steps."""
    if not bundle.is_active:
        raise NotFound(_("No such bundled service."))
    steps = bundle_steps(bundle)
    if not steps:
        raise NotFound(_("No such bundled service."))
    if on_behalf_of is not None:
        from yiwang.services.window import window_applicant_check

        applicant = on_behalf_of
        owner = window_applicant_check(actor=actor, applicant=on_behalf_of, matter=steps[0].matter)
    else:
        applicant = bundle_applicant(bundle=bundle, user=actor)
        owner = actor
    key = (submission_key or "").strip()[:64]
    if not key:
        raise FieldErrors.single("submission_key", _("The form has no submission key; reload it."))
    existing = (
        BundleApplication.objects.filter(applicant=owner, submission_key=key).select_related("case").first()
    )
    if existing is not None:
        return existing
    uploads = uploads or {}
    form = bundle_form(bundle=bundle, applicant=applicant, actor=actor, given=values)
    errors = ErrorCollector()
    unknown = _check_keys(form, bundle=bundle, applicant=applicant, values=values or {}, errors=errors)
    clean = _clean_values(form, values or {}, errors, skip=unknown)
    asked = {material.pk for material in form.uploads()}
    for material_id in uploads:
        if material_id not in asked:
            errors.add(("materials", str(material_id)), _("This material is not asked of the applicant."))
    _check_subject_once(bundle=bundle, values=clean, errors=errors)
    errors.raise_if_any()
    now = now or timezone.now()
    try:
        with transaction.atomic():
            case = case_open(
                case_type=states.BUNDLE,
                title=f"{bundle.name}（{applicant.name}）",
                department=bundle_department(steps),
                actor=actor,
                subject_type=applicant.kind,
                subject_key=applicant.subject_key,
                data={"bundle": bundle.code},
                case_limit=Limit(bundle_limit_days(bundle, steps), "days"),
                now=now,
            )
            bundle_application = BundleApplication.objects.create(
                case=case,
                bundle=bundle,
                applicant=owner,
                applicant_kind=applicant.kind,
                subject_key=applicant.subject_key,
                applicant_name=applicant.name,
                values=clean,
                submission_key=key,
                submitted_at=now,
                window_clerk=actor if on_behalf_of is not None else None,
            )
            audit_record(
                actor=actor,
                action="services.bundle_submit",
                target=bundle_application,
                after={
                    "reference": case.reference,
                    "bundle": bundle.code,
                    "applicant": mask_id_number(applicant.subject_key),
                    "fields_prefilled": form.filled,
                    "fields_total": form.total,
                    "window": on_behalf_of is not None,
                },
            )
            # The first steps start now; a refusal of any of them refuses the whole submission.
            for step in steps:
                if not step.depends_on:
                    _release(
                        bundle_application=bundle_application,
                        step=step,
                        actor=actor,
                        on_behalf_of=on_behalf_of,
                        uploads=uploads,
                        now=now,
                    )
            bundle_advance(bundle_application=bundle_application, actor=actor, now=now)
            with _record_language():
                _notice(
                    bundle_application,
                    "submitted",
                    _("Bundled service %(reference)s submitted") % {"reference": case.reference},
                    _("Your application “%(bundle)s” was received; follow every step on its status page.")
                    % {"bundle": bundle.name},
                )
    except IntegrityError:
        existing = (
            BundleApplication.objects.filter(applicant=owner, submission_key=key)
            .select_related("case")
            .first()
        )
        if existing is None:
            raise
        return existing
    bundle_application.case.refresh_from_db()
    return bundle_application


def _notice(bundle_application: BundleApplication, what: str, subject: str, body: str) -> None:
    from yiwang.cases.notices import notice_send

    reference = bundle_application.case.reference
    notice_send(
        user=bundle_application.applicant,
        subject=subject,
        body=body,
        ref=reference,
        key=f"services.bundle:{reference}:{what}",
    )


def bundle_advance(
    *, bundle_application: BundleApplication, actor: Any, now: datetime.datetime | None = None
) -> BundleApplication:
    """Move the bundle on after a step ended (inside the caller's transaction; the bundle case
    row is locked, so two steps approved at once are serialised): start every step whose
    dependencies are now all approved (as the applicant's submission); complete the bundle when
    every step is approved; fail it once a step ended unapproved and nothing runs any more, the
    note naming each failed step and its reason. Does nothing once the bundle case is closed.
    The notes and notices it writes are in the platform's language, whoever's request runs it."""
    with transaction.atomic(), _record_language():
        case = Case.objects.select_for_update().get(pk=bundle_application.pk)
        bundle_application.case = case
        if case.state != states.IN_PROGRESS:
            return bundle_application
        statuses = bundle_steps_status(bundle_application=bundle_application)
        for _round in range(len(statuses) + 1):
            # The first steps (no dependency) are started by bundle_submit itself, with the
            # uploads and the window clerk; here only the later ones.
            ready = [status for status in statuses if status.state == READY and status.step.depends_on]
            if not ready:
                break
            for status in ready:
                try:
                    with transaction.atomic():
                        _release(
                            bundle_application=bundle_application,
                            step=status.step,
                            actor=bundle_application.applicant,
                            now=now,
                        )
                except DomainError as problem:
                    # The applicant's data no longer fits the step (a register changed since the
                    # submission): the step cannot start, and counts as failed.
                    message = (
                        "；".join(m for _p, m in problem.errors)
                        if isinstance(problem, FieldErrors)
                        else problem.message
                    )
                    data = dict(case.data or {})
                    data.setdefault("not_started", {})[status.step.code] = message[:500]
                    Case.objects.filter(pk=case.pk).update(data=data)
                    case.data = data
            case.refresh_from_db()
            bundle_application.case = case
            if case.state != states.IN_PROGRESS:  # a released step was approved at once (秒批)
                return bundle_application
            statuses = bundle_steps_status(bundle_application=bundle_application)
        _conclude(bundle_application=bundle_application, statuses=statuses, actor=actor, now=now)
    return bundle_application


def _conclude(
    *,
    bundle_application: BundleApplication,
    statuses: list[StepStatus],
    actor: Any,
    now: datetime.datetime | None,
) -> None:
    case = bundle_application.case
    bundle = bundle_application.bundle
    if statuses and all(status.state == APPROVED for status in statuses):
        case_transition_system(
            case=case,
            transition="complete",
            actor=actor,
            expected_version=case.version,
            note=_("Every step approved: %(steps)s.") % {"steps": "、".join(s.step.name for s in statuses)},
            now=now,
        )
        _notice(
            bundle_application,
            "completed",
            _("%(bundle)s completed") % {"bundle": bundle.name},
            _(
                "Every step of %(bundle)s (%(reference)s) was approved; the certificates are in your e-certificates."
            )
            % {"bundle": bundle.name, "reference": case.reference},
        )
        return
    failed = [status for status in statuses if status.state == FAILED]
    if not failed or any(status.state in (RUNNING, READY) for status in statuses):
        return
    reasons = "；".join(
        _("“%(step)s” %(label)s: %(reason)s")
        % {"step": s.step.name, "label": s.label, "reason": s.reason or "—"}
        for s in failed
    )
    blocked = [status.step.name for status in statuses if status.state == BLOCKED]
    note = reasons
    if blocked:
        note += "；" + _("not started: %(steps)s") % {"steps": "、".join(blocked)}
    case_transition_system(
        case=case, transition="fail", actor=actor, expected_version=case.version, note=note[:2000], now=now
    )
    _notice(
        bundle_application,
        "failed",
        _("%(bundle)s ended: a step was not approved") % {"bundle": bundle.name},
        note,
    )


# 出生登记: approving a matter that issues this certificate (户口登记证明) registers the child.
HOUSEHOLD_REGISTRATION = "HKDJ"
# The form's relation to the head (its choices) → the register's relation (GB/T 4761), by name.
CHILD_RELATIONS = {
    "子": "SON",
    "女": "DAUGHTER",
    "孙子": "GRANDCHILD",
    "孙女": "GRANDCHILD",
    "外孙子": "GRANDCHILD",
    "外孙女": "GRANDCHILD",
    "其他": "OTHER",
}
# The register's person fields ← the form's fields about the child.
CHILD_FIELDS = {
    "id_number": "child_id_number",
    "name": "child_name",
    "sex": "child_sex",
    "birth_date": "child_birth_date",
}
SEXES = {"男": "M", "女": "F", "M": "M", "F": "F"}


@effect_register
def household_registration_on_approval(
    *, application: Application, case: Any, transition: str, actor: Any, note: str
) -> None:
    """出生登记 approved (by a handler or by rule): the child is entered in the population
    register, in the household the applicant belongs to, with the relation the form gives, in
    the approval's transaction; from then on the registry's shared resources (ga.persons,
    ga.household_members) serve the child like anyone registered, so the later steps of
    新生儿出生一件事 read the child from them. A child already registered in that household is
    left alone; anything the register refuses (an ID number registered elsewhere, a birth date
    that does not match it, an applicant in no household) refuses the approval, the form's
    field named."""
    from yiwang.registry.models import HouseholdMember, Person, Relation
    from yiwang.registry.services import household_member_add

    if (
        transition not in ("approve", "instant_approve")
        or case.state != states.APPROVED
        or application.matter.certificate_type != HOUSEHOLD_REGISTRATION
    ):
        return
    values = application.values or {}
    child_number = str(values.get("child_id_number") or application.subject_key).upper()
    membership = (
        HouseholdMember.objects.select_related("household__division")
        .filter(person__id_number=str(values.get("id_number") or "").upper())
        .first()
    )
    if membership is None:
        raise FieldErrors.single(
            "household_number",
            _(
                "The applicant belongs to no household in the population register: the child cannot be registered."
            ),
        )
    household = membership.household
    if Person.objects.filter(id_number=child_number, membership__household=household).exists():
        return
    data = {name: values.get(field) for name, field in CHILD_FIELDS.items()}
    data["id_number"] = child_number
    data["sex"] = SEXES.get(str(data.get("sex") or ""), "")
    try:
        household_member_add(
            actor=actor,
            household=household,
            data=data,
            relation=Relation.__members__.get(CHILD_RELATIONS.get(str(values.get("relation") or ""), ""), ""),
        )
    except FieldErrors as refused:
        raise FieldErrors(
            [
                ((CHILD_FIELDS.get(str(path[0]), str(path[0])) if path else "relation",), message)
                for path, message in refused.errors
            ]
        ) from refused


@effect_register
def bundle_step_moved(*, application: Application, case: Any, transition: str, actor: Any, note: str) -> None:
    """When a step of a bundle ends (approved, or ended unapproved), move the bundle on."""
    if application.bundle_id is None or case.state in states.OPEN_STATES:
        return
    bundle_application = BundleApplication.objects.select_related("bundle", "applicant").get(
        pk=application.bundle_id
    )
    bundle_advance(bundle_application=bundle_application, actor=actor)


def bundle_withdraw(*, bundle_application: BundleApplication, actor: Any) -> BundleApplication:
    """The applicant withdraws the bundle while no step is under review or decided: the bundle
    case and every started step are withdrawn together."""
    from yiwang.services.services import application_withdraw

    if bundle_application.applicant_id != getattr(actor, "pk", None):
        raise NotFound(_("Not found."))
    with transaction.atomic(), _record_language():
        case = Case.objects.select_for_update().get(pk=bundle_application.pk)
        bundle_application.case = case
        if not bundle_is_withdrawable(bundle_application=bundle_application):
            raise Conflict(_("Only a bundle none of whose steps is under review yet can be withdrawn."))
        case_transition_system(
            case=case,
            transition="withdraw",
            actor=actor,
            expected_version=case.version,
            note=_("Withdrawn by the applicant."),
        )
        withdrawn = []
        for application in Application.objects.filter(bundle=bundle_application).select_related("case"):
            application_withdraw(application=application, actor=actor)
            withdrawn.append(application.bundle_step)
        audit_record(
            actor=actor,
            action="services.bundle_withdraw",
            target=bundle_application,
            after={"reference": case.reference, "steps": withdrawn},
        )
    bundle_application.case.refresh_from_db()
    return bundle_application


# --------------------------------------------------------------------------- the demo


def bundles_demo_seed(*, actor: Any = "system:bundles-seed", demo_births: bool = True) -> dict[str, int]:
    """Create or update the demo bundles' matters (services.matters_write: unchanged rows are
    skipped) and the bundles themselves (bundle_write: an unchanged bundle is left alone), then
    the sharing grants their forms need when an administrator exists. Idempotent. Run after
    services_seed (departments, exchange resources) and certs_seed (the certificate types). The
    卫健委's birth feed is published first (bundles_feeds); with `demo_births`, the demo's births
    are reported into it once (a newborn in the demo citizen's family among them)."""
    import hashlib
    import json

    from yiwang.core.models import User
    from yiwang.services.bundles_data import BUNDLES, MATTERS
    from yiwang.services.bundles_feeds import birth_feeds_publish, births_demo_seed
    from yiwang.services.services import autofill_grants_ensure, matters_write

    birth_feeds_publish()  # the 卫健委's birth feed the newborn's forms read

    departments = {
        item.code: item for item in Department.objects.filter(code__in={m.department for m in MATTERS})
    }
    rows = []
    forms = {}
    for spec in MATTERS:
        if spec.department not in departments:
            continue
        fields = {
            "code": spec.code,
            "name": spec.name,
            "type": spec.type,
            "department_id": departments[spec.department].pk,
            "source_department": departments[spec.department].name,
            "division_code": "3603",
            "applicant_kind": spec.applicant_kind,
            "legal_limit_days": spec.legal_limit_days,
            "promised_limit_days": spec.promised_limit_days,
            "visits": 0,
            "legal_basis": spec.legal_basis,
            "conditions": "申请人身份真实有效，所需信息由平台共享调取，前序环节出具的证照不再重复提交。",
            "keywords": spec.keywords,
            "certificate_type": spec.certificate_type,
        }
        materials = [{"position": position, **item._asdict()} for position, item in enumerate(spec.materials)]
        body = json.dumps(
            {
                "fields": fields | {"department_id": spec.department},
                "materials": materials,
                "form": spec.fields,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        rows.append(
            {
                "fields": fields,
                "materials": materials,
                "has_materials": True,
                "digest": hashlib.sha256(body.encode()).hexdigest()[:32],
            }
        )
        forms[spec.code] = (spec.fields, spec.materials)
    with transaction.atomic():
        created, updated, _unchanged = matters_write(rows=rows, forms=forms)
    bundles_changed = 0
    for spec in BUNDLES:
        codes = {step.matter for step in spec.steps}
        if Matter.objects.filter(code__in=codes, is_active=True).count() != len(codes):
            continue
        _bundle, changed = bundle_write(
            code=spec.code,
            name=spec.name,
            description=spec.description,
            legal_basis=spec.legal_basis,
            applicant_kind=spec.applicant_kind,
            steps=[
                {
                    "code": step.code,
                    "name": step.name,
                    "matter": step.matter,
                    "depends_on": list(step.depends_on),
                }
                for step in spec.steps
            ],
            actor=actor,
        )
        bundles_changed += int(changed)
    grants = 0
    chief = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if chief is not None:
        grants = autofill_grants_ensure(
            actor=chief,
            departments=[
                departments[code] for code in {m.department for m in MATTERS} if code in departments
            ],
        )
    return {
        "matters_created": created,
        "matters_updated": updated,
        "bundles_changed": bundles_changed,
        "bundles": Bundle.objects.count(),
        "grants": grants,
        "births": births_demo_seed() if demo_births else 0,
    }


def bundle_rows_of(*, user: Any, limit: int = 100) -> list[dict[str, Any]]:
    """The user's bundle applications for "my applications": each with its state label and how
    many of its steps are approved."""
    rows = []
    for item in bundle_applications_of(user=user)[:limit]:
        total = item.bundle.steps.count()
        approved = Application.objects.filter(bundle=item, case__state=states.APPROVED).count()
        rows.append(
            {
                "bundle_application": item,
                "state_label": case_state_label(item.case),
                "approved": approved,
                "total": total,
            }
        )
    return rows


# --------------------------------------------------------------------------- measuring auto-fill


def bundle_autofill_potential(*, bundle: Bundle) -> tuple[int, int]:
    """(fields of the combined form that shared data can fill, fields in all), each field once,
    as the guide shows it (a matter's guide: selectors.matter_autofill_potential)."""
    seen: dict[str, bool] = {}
    for step in bundle_steps(bundle):
        for form_field in step.matter.form_fields.all():
            seen[form_field.name] = seen.get(form_field.name, False) or form_field.has_source
    return sum(seen.values()), len(seen)


def bundle_sample_keys(*, form: BundleForm, applicant: Any) -> dict[str, str]:
    """For measuring: a value of each key field the applicant would type, as a real applicant
    has one: the unit number of a flat another person owns (the flat the buyer buys)."""
    from yiwang.registry.selectors import property_owner_list

    samples: dict[str, str] = {}
    for key in form.keys:
        if key == "unit_number":
            owner = (
                property_owner_list()
                .filter(person__isnull=False)
                .exclude(property__owners__person__id_number=applicant.subject_key)
                .first()
            )
            if owner is not None:
                samples[key] = owner.property.unit_number
    return samples


def bundle_autofill_measure(*, user: Any, bundles: Any = None) -> list[dict[str, Any]]:
    """Fill each active bundle's combined form this user may apply for, as the apply page does
    (exchange reads with their evidence) once the applicant typed the keys (the unit number:
    `bundle_sample_keys`), and count the fields filled from shared data. One row per bundle:
    code, name, filled, fields, share, keys (the fields typed to look the others up)."""
    rows = []
    for bundle in bundles if bundles is not None else bundles_active():
        try:
            applicant = bundle_applicant(bundle=bundle, user=user)
        except Forbidden:
            continue
        form = bundle_form(bundle=bundle, applicant=applicant, actor=user)
        keys = bundle_sample_keys(form=form, applicant=applicant)
        if keys:
            form = bundle_form(bundle=bundle, applicant=applicant, actor=user, given=keys)
        rows.append(
            {
                "code": bundle.code,
                "name": bundle.name,
                "filled": form.filled,
                "fields": form.total,
                "share": form.share,
                "keys": sorted(keys),
            }
        )
    return rows
