"""What the relapse app does: load its screening rules, screen, take reports, turn each
warning into a verification case, and follow monitored households (measures, reviews) until
the risk is cleared.

Every verb validates first and writes in one transaction with its audit entry. Screening is
idempotent: a warning is unique per (household, source, period), so a rerun, a second worker
or a resumed run after a crash creates nothing new; each household's warning is written in a
transaction of its own, so a crash loses at most the household in hand."""

from __future__ import annotations

import datetime
import inspect
import logging
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import Case
from yiwang.cases.services import case_notify, case_open, case_transition
from yiwang.core.audit import audit_record
from yiwang.core.calendar import WorkingDayCalendar
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, Forbidden
from yiwang.core.models import Department, Division, DivisionLevel, Role
from yiwang.registry.models import Household, HouseholdMember, Person
from yiwang.relapse import cases as states
from yiwang.relapse.models import (
    RULE_SOURCES,
    FeedMark,
    Measure,
    MeasureKind,
    MonitoredHousehold,
    Review,
    RiskType,
    ScreeningRun,
    Source,
    Warning,
)
from yiwang.relapse.selectors import RURAL_REVITALISATION, access_relapse_act, user_towns

logger = logging.getLogger(__name__)

RULES_DIR = Path(__file__).resolve().parent / "rules"
RULE_CODES = tuple(RULE_SOURCES)
SCREENING_ACTOR = "system:relapse-screening"
READ_PURPOSE = "防止返贫监测：部门筛查预警与核实"
EVENT_WINDOW_WORKING_DAYS = 15  # the disaster and accident rules look back this far
MEDICAL_PUSH_DAYS = 5  # 医保 pushes in the last 5 working days of each month
REVIEW_MONTHS = 1
DEFAULT_RISK = {
    Source.MEDICAL: RiskType.ILLNESS,
    Source.DISASTER: RiskType.DISASTER,
    Source.ACCIDENT: RiskType.ACCIDENT,
}
FEED_RULES = {"gajj.traffic_accidents": "relapse.accident", "yjgl.disaster_losses": "relapse.disaster"}
MAX_TEXT = 2000


# --- rules ------------------------------------------------------------------------------------


def relapse_rules_load() -> dict[str, Any]:
    """Load (idempotently) the screening rules shipped in yiwang/relapse/rules/*.yaml: the
    rule in force per code. A changed file is published as a new version."""
    from yiwang.rules.services import rule_file_load

    versions = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "rule" not in raw:
            continue  # measures.yaml: the suggestions, not a rule
        version = rule_file_load(raw=raw, source=f"relapse/rules/{path.name}")
        versions[version.rule.code] = version
    return versions


def rules_department() -> Department:
    """The department that runs the screening rules and reads the members: 乡村振兴局."""
    department = Department.objects.filter(code=RURAL_REVITALISATION).first()
    if department is None:
        raise LookupError("the 乡村振兴局 (XCZX) department does not exist: load the reference data")
    return department


def _evaluate(version: Any, *, on: datetime.date, subjects: list[str] | None) -> list[dict]:
    """The rule's eligible rows, read under the exchange's grants when the rules engine offers
    grant-checked batch reads."""
    from yiwang.rules.services import rule_evaluate

    options: dict[str, Any] = {"on": on, "subjects": subjects, "eligible_only": True}
    accepted = inspect.signature(rule_evaluate).parameters
    if "consumer" in accepted:
        options.update(consumer=rules_department(), purpose=READ_PURPOSE, actor=SCREENING_ACTOR)
    if "version" in accepted:
        options["version"] = version
    return rule_evaluate(version.definition, **options)


# --- places -----------------------------------------------------------------------------------


def town_of(household: Household) -> Division:
    division = household.division
    while division.level > DivisionLevel.TOWN and division.parent_id:
        division = division.parent
    return division


def town_office(town: Division) -> Department:
    office = Department.objects.filter(code=f"{town.pk}-ZF").first()
    if office is None:
        raise LookupError(f"no town government department for {town.name} ({town.pk}-ZF)")
    return office


def period_of(on: datetime.date) -> str:
    return on.strftime("%Y-%m")


def household_by_address(address: str) -> Household:
    """The household at an address, as a cadre or the household writes it: the registered
    address containing it (spaces ignored), narrowed to the town or village it names.
    Raises FieldErrors naming `address` when none or several match."""
    from yiwang.core.places import division_from_address

    text = "".join((address or "").split())
    if len(text) < 4:
        raise FieldErrors.single(
            "address", _("Write the household's address (at least the village and house).")
        )
    division = division_from_address(text)
    candidates = Household.objects.all()
    if division is not None:
        field = "division__parent_id" if division.level == DivisionLevel.TOWN else "division_id"
        candidates = candidates.filter(**{field: division.pk})
    found = [
        household
        for household in candidates.filter(address__contains=text[-6:])[:200]
        if text in "".join(household.address.split())
    ]
    if not found:
        raise FieldErrors.single("address", _("No registered household at this address."))
    if len(found) > 1:
        exact = [household for household in found if "".join(household.address.split()) == text]
        if len(exact) != 1:
            raise FieldErrors.single(
                "address",
                _("%(count)s households match this address; give the household number instead.")
                % {"count": len(found)},
            )
        found = exact
    return found[0]


# --- warnings ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value the rule found, as JSON: PostgreSQL sums bigints into NUMERIC, so an integral
    Decimal is an int again; dates are ISO text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _findings(version: Any, row: dict) -> list[dict[str, Any]]:
    findings = []
    for condition in version.definition.get("conditions", []):
        ident = condition["id"]
        findings.append(
            {
                "id": ident,
                "label": condition["label"],
                "basis": condition.get("basis", {}),
                "value": _plain(row.get(f"v_{ident}")),
                "op": condition["op"],
                "compared_with": _plain(row.get(f"t_{ident}")),
                "passed": bool(row.get(f"p_{ident}")),
            }
        )
    return findings


def _warning_open(
    *,
    household: Household,
    source: str,
    period: str,
    on: datetime.date,
    actor: Any,
    findings: list | None = None,
    rule_code: str = "",
    rule_version: int = 0,
    run: ScreeningRun | None = None,
    reporter: Any = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    description: str = "",
    risk_types: list[str] | None = None,
    now: datetime.datetime | None = None,
) -> Warning | None:
    """Raise one warning and open its verification case, in one transaction. Returns None when
    the household was already warned from this source for this period (the unique constraint
    decides, so two runs at once cannot both raise it)."""
    now = now or timezone.now()
    town = town_of(household)
    office = town_office(town)
    try:
        with transaction.atomic():
            warning = Warning.objects.create(
                household=household,
                source=source,
                period=period,
                town=town,
                raised_on=on,
                raised_at=now,
                rule_code=rule_code,
                rule_version=rule_version,
                run=run,
                findings=findings or [],
                reporter=reporter if getattr(reporter, "pk", None) else None,
                reporter_name=reporter_name,
                reporter_phone=reporter_phone,
                description=description,
                risk_types=risk_types or ([DEFAULT_RISK[source]] if source in DEFAULT_RISK else []),
            )
            case = case_open(
                case_type=states.VERIFICATION,
                title=_("Relapse warning: household %(number)s (%(source)s)")
                % {"number": household.number, "source": Source(source).label},
                department=office,
                division=household.division,
                actor=actor,
                subject_type="registry.household",
                subject_key=household.number,
                data={"warning": warning.pk, "source": source, "period": period},
                now=now,
            )
            warning.case = case
            warning.save(update_fields=["case"])
            case_notify(
                case=case,
                role=Role.DEPARTMENT_HANDLER,
                department=office,
                message=_("New relapse warning to verify: household %(number)s, %(source)s.")
                % {"number": household.number, "source": Source(source).label},
                now=now,
            )
            audit_record(
                actor=actor,
                action="relapse.warning_raise",
                target=warning,
                after={
                    "household": household.number,
                    "source": source,
                    "period": period,
                    "case": case.reference,
                    "rule": rule_code,
                },
            )
    except IntegrityError:
        return None
    return warning


def _recently_warned(numbers: list[str], source: str, since: datetime.date) -> set[str]:
    return set(
        Warning.objects.filter(
            household__number__in=numbers, source=source, raised_on__gte=since
        ).values_list("household__number", flat=True)
    )


def screen(
    *,
    rule_code: str,
    on: datetime.date,
    actor: Any = SCREENING_ACTOR,
    subjects: list[str] | None = None,
    trigger: str = "demand",
    slot: str | None = None,
) -> ScreeningRun:
    """Run one screening rule as of `on` (over every household, or only `subjects`) and raise a
    warning for each household it flags that has none from this source for the period yet.
    A scheduled run names its `slot`; a slot that already finished is not run again."""
    from yiwang.rules.services import rule_in_force

    if rule_code not in RULE_SOURCES:
        raise FieldErrors.single(
            "rule",
            _("Unknown screening rule %(code)s (one of: %(codes)s).")
            % {"code": rule_code, "codes": ", ".join(RULE_CODES)},
        )
    source = RULE_SOURCES[rule_code]
    version = rule_in_force(code=rule_code)
    if slot is not None:
        done = ScreeningRun.objects.filter(slot=slot).first()
        if done is not None and done.finished_at is not None:
            return done
    period = period_of(on)
    label = actor if isinstance(actor, str) else getattr(actor, "username", "system")
    try:
        with transaction.atomic():
            run, _created = (
                ScreeningRun.objects.get_or_create(
                    slot=slot,
                    defaults={
                        "rule_code": rule_code,
                        "rule_version": version.number,
                        "on": on,
                        "period": period,
                        "trigger": trigger,
                        "subjects": len(subjects) if subjects is not None else None,
                        "started_at": timezone.now(),
                        "actor_label": label[:128],
                    },
                )
                if slot is not None
                else (
                    ScreeningRun.objects.create(
                        rule_code=rule_code,
                        rule_version=version.number,
                        on=on,
                        period=period,
                        trigger=trigger,
                        subjects=len(subjects) if subjects is not None else None,
                        started_at=timezone.now(),
                        actor_label=label[:128],
                    ),
                    True,
                )
            )
    except IntegrityError:
        run = ScreeningRun.objects.get(slot=slot)
    rows = [] if subjects is not None and not subjects else _evaluate(version, on=on, subjects=subjects)
    numbers = [str(row["subject"]) for row in rows]
    skip: set[str] = set()
    if source != Source.MEDICAL and numbers:
        since = WorkingDayCalendar().add_working_days(on, -EVENT_WINDOW_WORKING_DAYS)
        skip = _recently_warned(numbers, source, since)  # the same event, warned last month
    for start in range(0, len(numbers), 500):  # warned already this period: nothing to try
        skip.update(
            Warning.objects.filter(
                source=source, period=period, household__number__in=numbers[start : start + 500]
            ).values_list("household__number", flat=True)
        )
    households = {  # (a household whose 户籍 is outside the city is monitored where it is registered)
        household.number: household
        for household in Household.objects.filter(
            number__in=numbers, division__is_outside_city=False
        ).select_related("division__parent")
    }
    created = 0
    for row in rows:
        number = str(row["subject"])
        if number in skip or number not in households:
            continue
        warning = _warning_open(
            household=households[number],
            source=source,
            period=period,
            on=on,
            actor=actor,
            findings=_findings(version, row),
            rule_code=rule_code,
            rule_version=version.number,
            run=run,
        )
        created += warning is not None
    with transaction.atomic():
        ScreeningRun.objects.filter(pk=run.pk).update(
            flagged=len(rows), created=run.created + created if slot else created, finished_at=timezone.now()
        )
        run.refresh_from_db()
        audit_record(
            actor=actor,
            action="relapse.screen",
            target=run,
            after={
                "rule": rule_code,
                "version": version.number,
                "on": on.isoformat(),
                "trigger": trigger,
                "flagged": len(rows),
                "created": created,
            },
        )
    return run


def households_of_persons(id_numbers: list[str]) -> list[str]:
    """The household numbers of these persons (a feed's records name persons)."""
    numbers: set[str] = set()
    ids = sorted({value.upper() for value in id_numbers if value})
    for start in range(0, len(ids), 500):
        numbers.update(
            HouseholdMember.objects.filter(person__id_number__in=ids[start : start + 500]).values_list(
                "household__number", flat=True
            )
        )
    return sorted(numbers)


def feed_sweep(
    *, resource_code: str, on: datetime.date | None = None, actor: Any = SCREENING_ACTOR
) -> ScreeningRun | None:
    """Real time: screen the households touched by the feed's batches ingested since the last
    sweep, and move the mark past them. Idempotent and resumable: the mark moves only after the
    screening finished, and a rescreen raises nothing twice."""
    from yiwang.exchange.models import IngestBatch, Record, Resource
    from yiwang.rules.services import rule_published

    rule_code = FEED_RULES[resource_code]
    resource = Resource.objects.filter(code=resource_code).first()
    if resource is None or not rule_published(code=rule_code):
        return None  # nothing to screen with yet: the mark stays, the tick catches up once loaded
    mark, _created = FeedMark.objects.get_or_create(
        resource_code=resource_code, defaults={"updated_at": timezone.now()}
    )
    batches = list(
        IngestBatch.objects.filter(resource=resource, applied=True, pk__gt=mark.last_batch_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    if not batches:
        return None
    persons = list(
        Record.objects.filter(resource=resource, batch_id__in=batches).values_list("subject_key", flat=True)
    )
    on = on or timezone.localdate()
    run = screen(
        rule_code=rule_code,
        on=on,
        actor=actor,
        subjects=households_of_persons(persons),
        trigger="ingest",
        slot=f"{rule_code}@batch-{batches[0]}-{batches[-1]}",
    )
    FeedMark.objects.filter(pk=mark.pk, last_batch_id=mark.last_batch_id).update(
        last_batch_id=batches[-1], updated_at=timezone.now()
    )
    return run


# --- reports (申报) -------------------------------------------------------------------------------


def report_submit(
    *,
    actor: Any,
    description: str,
    household_number: str = "",
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    risk_types: list[str] | None = None,
    on: datetime.date | None = None,
) -> Warning:
    """A village cadre's report or a household's own application (申报). The household is found
    by its number or its address; a citizen may only apply for their own household. One report
    per household, kind and day: the same report twice is the same warning."""
    import phonenumbers

    on = on or timezone.localdate()
    errors = ErrorCollector()
    citizen = user_towns(actor) == set() and Role.CITIZEN in _roles(actor)
    household: Household | None = None
    if citizen:
        person = Person.objects.filter(user=actor).first()
        membership = (
            HouseholdMember.objects.filter(person=person).select_related("household").first()
            if person
            else None
        )
        if membership is None:
            raise Forbidden(_("Your account is not linked to a registered household."))
        household = membership.household
        source = Source.SELF_REPORT
    else:
        source = Source.VILLAGE_REPORT
        if household_number.strip():
            household = Household.objects.filter(number=household_number.strip()).first()
            if household is None:
                errors.add("household_number", _("No household with this number."))
        else:
            try:
                household = household_by_address(address)
            except FieldErrors as problem:
                errors.errors.extend(problem.errors)
    text = (description or "").strip()
    if len(text) < 5:
        errors.add("description", _("Describe the household's difficulty (at least 5 characters)."))
    elif len(text) > MAX_TEXT:
        errors.add("description", _("At most %d characters.") % MAX_TEXT)
    chosen = [risk for risk in (risk_types or []) if risk]
    for index, risk in enumerate(chosen):
        if risk not in RiskType.values:
            errors.add(("risk_types", index), _("Unknown risk type."))
    phone = (reporter_phone or "").strip()
    if phone:
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN"))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            errors.add("reporter_phone", _("“%s” is not a valid phone number.") % phone[:20])
    if household is not None and household.division.is_outside_city:
        # monitored where the 户籍 is: the town governments here cannot verify it
        message = _("This household's 户籍 is outside the city: report it where it is registered.")
        if citizen:
            raise Forbidden(message)
        errors.add("household_number" if household_number.strip() else "address", message)
    errors.raise_if_any()
    if not citizen and not access_relapse_act(actor, town_of(household).pk):
        raise Forbidden(_("You may report households of your own town only."))
    warning = _warning_open(
        household=household,
        source=source,
        period=on.isoformat(),
        on=on,
        actor=actor,
        reporter=actor,
        reporter_name=(reporter_name or str(actor))[:64],
        reporter_phone=phone,
        description=text,
        risk_types=chosen or [RiskType.OTHER],
    )
    if warning is None:
        warning = Warning.objects.get(household=household, source=source, period=on.isoformat())
    return warning


def _roles(user: Any) -> frozenset[str]:
    from yiwang.core.access import user_roles

    return user_roles(user)


# --- verification -----------------------------------------------------------------------------


def _risk_types_checked(risk_types: list[str] | None, errors: ErrorCollector) -> list[str]:
    chosen = list(dict.fromkeys(risk for risk in (risk_types or []) if risk))
    if not chosen:
        errors.add("risk_types", _("Choose at least one risk type."))
    for index, risk in enumerate(chosen):
        if risk not in RiskType.values:
            errors.add(("risk_types", index), _("Unknown risk type."))
    return chosen


def warning_confirm(
    *,
    warning: Warning,
    actor: Any,
    risk_types: list[str],
    note: str,
    expected_version: int,
    cadre: Any = None,
    now: datetime.datetime | None = None,
) -> MonitoredHousehold:
    """The town cadre confirms the risk: the household becomes (or stays) monitored with these
    risk types and its one-to-one cadre (the confirming cadre unless another is named)."""
    errors = ErrorCollector()
    chosen = _risk_types_checked(risk_types, errors)
    if not (note or "").strip():
        errors.add("note", _("Say what the verification found."))
    if cadre is not None and not access_relapse_act(cadre, warning.town_id):
        errors.add("cadre", _("The one-to-one cadre must be a cadre of the household's town."))
    errors.raise_if_any()
    case = warning.case
    with transaction.atomic():
        data = {**case.data, "risk_types": chosen, "cadre": getattr(cadre or actor, "pk", None)}
        Case.objects.filter(pk=case.pk).update(data=data)
        case.data = data
        case_transition(
            case=case,
            transition="confirm",
            actor=actor,
            expected_version=expected_version,
            note=note,
            now=now,
        )
    return MonitoredHousehold.objects.get(household=warning.household, cleared_on__isnull=True)


def warning_dismiss(
    *, warning: Warning, actor: Any, reason: str, expected_version: int, now: datetime.datetime | None = None
) -> Warning:
    """The town cadre finds no risk: dismissed, with the reason."""
    if not (reason or "").strip():
        raise FieldErrors.single("note", _("Say why the warning is dismissed."))
    case_transition(
        case=warning.case,
        transition="dismiss",
        actor=actor,
        expected_version=expected_version,
        note=reason,
        now=now,
    )
    warning.refresh_from_db()
    return warning


def verification_settle(*, case: Case, transition: str, actor: Any, note: str) -> None:
    """Called by the case type inside the transition's transaction: the warning follows the
    case, and a confirmed warning makes the household monitored."""
    warning = Warning.objects.select_related("household").filter(case=case).first()
    if warning is None:
        return
    now = case.state_entered_at or timezone.now()
    if transition == "dismiss":
        Warning.objects.filter(pk=warning.pk).update(
            state=Warning.State.DISMISSED, decided_at=now, decision_reason=note
        )
        audit_record(
            actor=actor,
            action="relapse.warning_dismiss",
            target=warning,
            after={"household": warning.household.number, "reason": note},
        )
        return
    if transition != "confirm":
        return
    risk_types = list(case.data.get("risk_types") or warning.risk_types or [RiskType.OTHER])
    cadre_id = case.data.get("cadre") or getattr(actor, "pk", None)
    Warning.objects.filter(pk=warning.pk).update(
        state=Warning.State.CONFIRMED, decided_at=now, decision_reason=note, risk_types=risk_types
    )
    on = timezone.localtime(now).date()
    monitored = (
        MonitoredHousehold.objects.select_for_update()
        .filter(household=warning.household, cleared_on__isnull=True)
        .first()
    )
    if monitored is None:
        members = members_read(household_number=warning.household.number, actor=actor)
        monitored = MonitoredHousehold.objects.create(
            household=warning.household,
            town=warning.town,
            risk_types=risk_types,
            members=members,
            member_count=len(members),
            cadre_id=cadre_id,
            confirmed_on=on,
            next_review_on=_months_later(on, REVIEW_MONTHS),
        )
        action = "relapse.monitor_start"
    else:
        monitored.risk_types = list(dict.fromkeys([*monitored.risk_types, *risk_types]))
        monitored.save(update_fields=["risk_types"])
        action = "relapse.monitor_risk_add"
    audit_record(
        actor=actor,
        action=action,
        target=monitored,
        after={
            "household": warning.household.number,
            "risk_types": monitored.risk_types,
            "warning": warning.pk,
            "cadre": monitored.cadre_id,
        },
    )


def _months_later(day: datetime.date, months: int) -> datetime.date:
    import calendar

    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def members_read(*, household_number: str, actor: Any) -> list[dict[str, Any]]:
    """The household's members as the exchange shares them with the 乡村振兴局: relation and ID
    number from ga.household_members (a granted conditional field), name and sex from
    ga.persons; age and working age from the ID number. Without a grant for the ID numbers,
    the relations alone (the count is still right)."""
    from yiwang.exchange.selectors import ReadRefused, exchange_read

    consumer = rules_department()
    common = {"consumer": consumer, "purpose": READ_PURPOSE, "actor": actor}
    try:
        rows = exchange_read(
            resource_code="ga.household_members",
            filters={"household_number": household_number},
            fields=["household_number", "id_number", "relation"],
            **common,
        ).rows
    except (ReadRefused, Forbidden):
        rows = exchange_read(
            resource_code="ga.household_members",
            filters={"household_number": household_number},
            fields=["household_number", "relation"],
            **common,
        ).rows
        return [{"relation": row["relation"]} for row in rows]
    members = []
    for row in rows:
        id_number = row.get("id_number") or ""
        person = exchange_read(
            resource_code="ga.persons", subject=id_number, fields=["name", "sex"], **common
        ).rows
        born = _birth_date(id_number)
        age = None
        if born:
            today = timezone.localdate()
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        members.append(
            {
                "id_number": id_number,
                "name": person[0]["name"] if person else "",
                "sex": person[0]["sex"] if person else "",
                "relation": row.get("relation", ""),
                "age": age,
                "labourer": age is not None and 16 <= age <= 60,
            }
        )
    return members


def _birth_date(id_number: str) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(id_number[6:14], "%Y%m%d").date()
    except (ValueError, TypeError):
        return None


# --- monitored households ---------------------------------------------------------------------


def _must_act(actor: Any, monitored: MonitoredHousehold) -> None:
    if not access_relapse_act(actor, monitored.town_id):
        raise Forbidden(_("Only the cadres of the household's town may do this."))
    if monitored.cleared_on is not None:
        raise Conflict(_("The household's risk was cleared on %s.") % monitored.cleared_on.isoformat())


def fen_from_yuan(text: Any, field: str = "amount") -> int:
    """'1234.5' yuan → 123450 fen, exactly; FieldErrors naming `field` otherwise."""
    raw = str(text if text is not None else "").strip().replace(",", "") or "0"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldErrors.single(field, _("Write an amount in yuan, e.g. 1200.50.")) from None
    if value < 0 or value != value.quantize(Decimal("0.01")) or value > Decimal("100000000"):
        raise FieldErrors.single(field, _("An amount in yuan ≥ 0 with at most two decimals."))
    return int(value * 100)


def measure_record(
    *,
    monitored: MonitoredHousehold,
    actor: Any,
    kind: str,
    description: str,
    started_on: datetime.date | None,
    amount_fen: int = 0,
) -> Measure:
    """Record an assistance measure with its date and amount (fen)."""
    _must_act(actor, monitored)
    errors = ErrorCollector()
    if kind not in MeasureKind.values:
        errors.add("kind", _("Choose the kind of measure."))
    if not (description or "").strip():
        errors.add("description", _("Say what was done."))
    if started_on is None:
        errors.add("started_on", _("Give the date."))
    elif started_on > timezone.localdate() + datetime.timedelta(days=366):
        errors.add("started_on", _("The date is too far ahead."))
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen < 0:
        errors.add("amount", _("An amount in yuan ≥ 0 with at most two decimals."))
    errors.raise_if_any()
    with transaction.atomic():
        measure = Measure.objects.create(
            monitored=monitored,
            kind=kind,
            description=description.strip()[:255],
            started_on=started_on,
            amount_fen=amount_fen,
            recorded_by=actor if getattr(actor, "pk", None) else None,
            recorded_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="relapse.measure_record",
            target=measure,
            after={"household": monitored.household.number, "kind": kind, "amount_fen": amount_fen},
        )
    return measure


def review_record(
    *,
    monitored: MonitoredHousehold,
    actor: Any,
    risk_remains: bool,
    note: str,
    reviewed_on: datetime.date | None = None,
) -> Review:
    """A periodic review (回访): the next one is due a month later."""
    _must_act(actor, monitored)
    if not (note or "").strip():
        raise FieldErrors.single("note", _("Say what the review found."))
    reviewed_on = reviewed_on or timezone.localdate()
    with transaction.atomic():
        review = Review.objects.create(
            monitored=monitored,
            reviewed_on=reviewed_on,
            risk_remains=bool(risk_remains),
            note=note.strip(),
            reviewer=actor if getattr(actor, "pk", None) else None,
            recorded_at=timezone.now(),
        )
        MonitoredHousehold.objects.filter(pk=monitored.pk).update(
            next_review_on=_months_later(reviewed_on, REVIEW_MONTHS)
        )
        monitored.refresh_from_db()
        audit_record(
            actor=actor,
            action="relapse.review",
            target=review,
            after={"household": monitored.household.number, "risk_remains": bool(risk_remains)},
        )
    return review


def risk_clear(
    *, monitored: MonitoredHousehold, actor: Any, reason: str, on: datetime.date | None = None
) -> MonitoredHousehold:
    """风险消除: only after a review found the risk gone, with at least one measure taken, and
    with the reason. Compare-and-set: cleared once."""
    _must_act(actor, monitored)
    if not (reason or "").strip():
        raise FieldErrors.single("reason", _("Say why the risk is cleared."))
    latest = monitored.reviews.order_by("-reviewed_on", "-id").first()
    if latest is None or latest.risk_remains:
        raise Conflict(_("Record a review that finds the risk gone before clearing it."))
    if not monitored.measures.exists():
        raise Conflict(_("No assistance measure has been recorded for this household."))
    on = on or timezone.localdate()
    with transaction.atomic():
        won = MonitoredHousehold.objects.filter(pk=monitored.pk, cleared_on__isnull=True).update(
            cleared_on=on, cleared_reason=reason.strip()
        )
        if not won:
            raise Conflict(_("The household's risk was already cleared."))
        monitored.refresh_from_db()
        audit_record(
            actor=actor,
            action="relapse.risk_clear",
            target=monitored,
            after={"household": monitored.household.number, "on": on.isoformat(), "reason": reason.strip()},
        )
    return monitored


def cadre_assign(*, monitored: MonitoredHousehold, actor: Any, cadre: Any) -> MonitoredHousehold:
    """Name the household's one-to-one cadre (帮扶责任人), a cadre of its town."""
    _must_act(actor, monitored)
    if not access_relapse_act(cadre, monitored.town_id):
        raise FieldErrors.single("cadre", _("The one-to-one cadre must be a cadre of the household's town."))
    with transaction.atomic():
        before = monitored.cadre_id
        MonitoredHousehold.objects.filter(pk=monitored.pk).update(cadre=cadre)
        monitored.refresh_from_db()
        audit_record(
            actor=actor,
            action="relapse.cadre_assign",
            target=monitored,
            before={"cadre": before},
            after={"cadre": cadre.pk},
        )
    return monitored


# --- grants -----------------------------------------------------------------------------------

# The conditional fields the 乡村振兴局 reads for the screening and the members, and why.
GRANTS_NEEDED = {
    "ga.household_members": ["id_number"],
    "yb.self_pay_claims": ["id_number", "self_pay"],
    "yjgl.disaster_losses": ["id_number", "loss_amount", "labourer_died"],
    "gajj.traffic_accidents": ["id_number", "labourer_died", "economic_loss"],
}


def relapse_grants_ensure(*, actor: Any) -> int:
    """Ask for, and (as the chief data officer `actor`) approve, the grants the screening needs,
    where none is live. Returns how many were made."""
    from yiwang.exchange.models import Grant, Resource
    from yiwang.exchange.services import access_request_decide, access_request_submit

    consumer = rules_department()
    made = 0
    now = timezone.now()
    for code, fields in GRANTS_NEEDED.items():
        resource = Resource.objects.filter(code=code).first()
        if resource is None:
            continue
        wanted = [name for name in fields if resource.fields.filter(name=name).exists()]
        live = Grant.objects.filter(consumer=consumer, resource=resource, valid_to__gt=now, expired=False)
        covered = {name for grant in live for name in grant.fields}
        if not wanted or set(wanted) <= covered:
            continue
        request = access_request_submit(
            actor=actor,
            consumer=consumer,
            resource=resource,
            fields=wanted,
            purpose=READ_PURPOSE,
            legal_basis="《关于健全防止返贫动态监测和帮扶机制的指导意见》",
            duration_days=365,
        )
        access_request_decide(actor=actor, request=request, approve=True)
        made += 1
    return made
