"""Writing rules and parameters: every save is validated whole, refused with the problem
named, and audited. A rule version is written by one person and approved by another (four
eyes) before it is published; publishing retires the version it replaces."""

from __future__ import annotations

import datetime
import decimal
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.access import user_roles
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Role
from yiwang.rules.definition import Catalog, Definition, definition_parse
from yiwang.rules.models import Parameter, ParameterValue, Rule, RuleKind, RuleVersion, VersionStatus

AUTHOR_ROLES = frozenset({Role.DATA_STEWARD, Role.ADMIN})
APPROVER_ROLES = frozenset({Role.SUPERVISOR, Role.CITY_LEADER, Role.ADMIN})


def exchange_catalog() -> Catalog:
    """Every catalog resource with its fields' types: what a rule may read."""
    from yiwang.exchange.models import ResourceField

    catalog: Catalog = {}
    for code, name, kind in ResourceField.objects.values_list("resource__code", "name", "type"):
        catalog.setdefault(code, {})[name] = kind
        if kind == "decimal":  # money in yuan, offered to rules as exact integer fen
            catalog[code][f"{name}_fen"] = "integer"
    return catalog


WORKBENCH_ROLES = AUTHOR_ROLES | APPROVER_ROLES


def access_rules_workbench(user: Any) -> bool:
    """May this user see the rules workbench (rules, versions, parameters, what-if)?"""
    return bool(user_roles(user) & WORKBENCH_ROLES)


def access_rules_author(user: Any) -> bool:
    """May this user write drafts and set parameter values?"""
    return bool(user_roles(user) & AUTHOR_ROLES)


def access_rules_approve(user: Any, version: RuleVersion) -> bool:
    """May this user approve this version (an approver's role; not its author)?"""
    return bool(user_roles(user) & APPROVER_ROLES) and version.author_id != getattr(user, "pk", None)


def access_rules_publish(user: Any) -> bool:
    return bool(user_roles(user) & (APPROVER_ROLES | AUTHOR_ROLES))


# --- parameters -----------------------------------------------------------------------------


def parameter_value_add(
    *,
    parameter: Parameter,
    value: int,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    actor: Any,
) -> ParameterValue:
    """Add a dated value. Refused when its dates overlap a value already recorded (an open
    end overlaps everything after it): a threshold has one value on any day."""
    if not user_roles(actor) & AUTHOR_ROLES:
        raise Forbidden(_("Only a data steward may set rule parameters."))
    return _parameter_value_write(
        parameter=parameter, value=value, valid_from=valid_from, valid_to=valid_to, actor=actor
    )


def _parameter_value_write(
    *, parameter: Parameter, value: int, valid_from: datetime.date, valid_to: datetime.date | None, actor: Any
) -> ParameterValue:
    errors = ErrorCollector()
    if not isinstance(value, int) or isinstance(value, bool):
        errors.add("value", _("A parameter value is a whole number (money in fen)."))
    if valid_to is not None and valid_to < valid_from:
        errors.add("valid_to", _("The end date is before the start date."))
    errors.raise_if_any()
    with transaction.atomic():
        Parameter.objects.select_for_update().filter(pk=parameter.pk).first()  # one writer per parameter
        clash = ParameterValue.objects.filter(parameter=parameter).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)
        )
        if valid_to is not None:
            clash = clash.filter(valid_from__lte=valid_to)
        other = clash.order_by("valid_from").first()
        if other is not None:
            raise FieldErrors.single(
                "valid_from",
                _("%(code)s already has the value %(value)s from %(start)s to %(end)s; the dates overlap.")
                % {
                    "code": parameter.code,
                    "value": other.value,
                    "start": other.valid_from.isoformat(),
                    "end": other.valid_to.isoformat() if other.valid_to else _("further notice"),
                },
            )
        row = ParameterValue.objects.create(
            parameter=parameter, value=value, valid_from=valid_from, valid_to=valid_to, created_by=actor
        )
        audit_record(
            actor=actor,
            action="rules.parameter_value",
            target=row,
            after={"parameter": parameter.code, "value": value, "from": str(valid_from), "to": str(valid_to)},
        )
    return row


def parameters_at(codes: set[str] | list[str], on: datetime.date) -> dict[str, int]:
    """The value of each parameter on a day. Raises FieldErrors naming those without one."""
    values: dict[str, int] = {}
    rows = ParameterValue.objects.filter(parameter__code__in=list(codes), valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )
    for code, value in rows.values_list("parameter__code", "value"):
        values[code] = value
    missing = sorted(set(codes) - set(values))
    if missing:
        raise FieldErrors([(("parameters", code), _("No value on %s.") % on.isoformat()) for code in missing])
    return values


# --- rule versions ----------------------------------------------------------------------------


def rule_version_save(
    *,
    definition: dict,
    actor: Any,
    kind: str = RuleKind.ELIGIBILITY,
    note: str = "",
    catalog: Catalog | None = None,
) -> RuleVersion:
    """Save a definition as the next draft version of its rule (creating the rule). Refused,
    with every problem named, when it references an unknown resource or field, compares
    values of different types, or names a parameter that does not exist."""
    if not user_roles(actor) & AUTHOR_ROLES:
        raise Forbidden(_("Only a data steward may write rules."))
    return _version_write(definition=definition, actor=actor, kind=kind, note=note, catalog=catalog)


def _version_write(
    *, definition: dict, actor: Any, kind: str, note: str, catalog: Catalog | None
) -> RuleVersion:
    parsed: Definition = definition_parse(
        definition, catalog=exchange_catalog() if catalog is None else catalog
    )
    unknown = sorted(
        parsed.parameters()
        - set(Parameter.objects.filter(code__in=parsed.parameters()).values_list("code", flat=True))
    )
    if unknown:
        raise FieldErrors(
            [(("definition", "parameters"), _("Unknown parameter %s.") % code) for code in unknown]
        )
    if kind not in RuleKind.values:
        raise FieldErrors.single("kind", _("Unknown rule kind."))
    with transaction.atomic():
        rule, _created = Rule.objects.get_or_create(
            code=parsed.code, defaults={"title": parsed.title, "kind": kind}
        )
        Rule.objects.select_for_update().filter(pk=rule.pk).first()
        number = (rule.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        version = RuleVersion.objects.create(
            rule=rule, number=number, definition=definition, note=note, author=actor
        )
        audit_record(
            actor=actor,
            action="rules.version_save",
            target=version,
            after={"rule": rule.code, "number": number},
        )
    return version


def rule_version_approve(*, version: RuleVersion, actor: Any) -> RuleVersion:
    """Four eyes: someone other than the author, holding an approver's role."""
    if not user_roles(actor) & APPROVER_ROLES:
        raise Forbidden(_("Only a supervisor or a city leader may approve rules."))
    if version.author_id == getattr(actor, "pk", None):
        raise Forbidden(_("The author of a rule version may not approve it."))
    with transaction.atomic():
        won = RuleVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
            status=VersionStatus.APPROVED, approved_by=actor, approved_at=timezone.now()
        )
        if not won:
            raise Conflict(_("Only a draft can be approved."))
        version.refresh_from_db()
        audit_record(
            actor=actor, action="rules.version_approve", target=version, after={"status": version.status}
        )
    return version


def rule_version_publish(*, version: RuleVersion, actor: Any) -> RuleVersion:
    """Make an approved version the one in force; the previous one is retired."""
    if not user_roles(actor) & (APPROVER_ROLES | AUTHOR_ROLES):
        raise Forbidden(_("You may not publish rules."))
    return _publish(version=version, actor=actor)


def _publish(*, version: RuleVersion, actor: Any) -> RuleVersion:
    with transaction.atomic():
        RuleVersion.objects.filter(rule=version.rule, status=VersionStatus.PUBLISHED).update(
            status=VersionStatus.RETIRED
        )
        won = RuleVersion.objects.filter(pk=version.pk, status=VersionStatus.APPROVED).update(
            status=VersionStatus.PUBLISHED, published_at=timezone.now()
        )
        if not won:
            raise Conflict(_("Only an approved version can be published."))
        version.refresh_from_db()
        audit_record(
            actor=actor, action="rules.version_publish", target=version, after={"status": version.status}
        )
    return version


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionResult:
    id: str
    label: str
    basis: dict[str, str]
    value: Any
    op: str
    compared_with: Any
    passed: bool
    unit: str = ""  # how the value is shown (fen, age, count …; see rules.explain)


@dataclass(frozen=True)
class Explanation:
    subject: str
    eligible: bool
    amount: int
    conditions: list[ConditionResult]
    code: str = ""  # the rule's code and title, and the day it was evaluated on
    title: str = ""
    on: datetime.date | None = None


# What does not change from one evaluation to the next is kept in the process: a version's
# parsed definition and the rendered SQL of a definition over the same relations, parameter
# values and day. Both are keyed by content (the definition's canonical JSON, the relations'
# SQL), never by a row id alone, so a newly published version (or an edited mirror, a new
# parameter value, another day) simply misses the cache; nothing has to be invalidated.
CACHE_LIMIT = 256
_SUBJECT_SLOT = "__yiwang_rules_subject_slot__"
_cache_lock = threading.Lock()
_parsed_cache: OrderedDict[str, Definition] = OrderedDict()
_sql_cache: OrderedDict[tuple, str] = OrderedDict()


def rule_cache_clear() -> None:
    """Forget the parsed definitions and rendered statements of this process."""
    with _cache_lock:
        _parsed_cache.clear()
        _sql_cache.clear()


def _cache_get(cache: OrderedDict, key: Any) -> Any:
    with _cache_lock:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
        return found


def _cache_put(cache: OrderedDict, key: Any, value: Any) -> None:
    with _cache_lock:
        cache[key] = value
        while len(cache) > CACHE_LIMIT:
            cache.popitem(last=False)


def _definition_key(raw: dict) -> str:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def definition_of(version: RuleVersion) -> Definition:
    """The parsed definition of a rule version, parsed once per process (keyed by the
    definition's content: a new version, or a different definition under a reused id, is
    parsed anew)."""
    key = _definition_key(version.definition)
    parsed = _cache_get(_parsed_cache, key)
    if parsed is None:
        parsed = definition_parse(version.definition)
        _cache_put(_parsed_cache, key, parsed)
    return parsed


def _statement(
    parsed: Definition,
    *,
    relations: dict[str, Any],
    parameters: dict[str, int],
    on: datetime.date,
    dialect: str,
    subjects: list[str] | None,
    eligible_only: bool,
) -> str:
    """rule_sql, rendered once per definition, relations, parameter values, day, dialect and
    kind of run; the subjects of an explain are spliced into the cached statement (as the
    compiler splices them into its own rendering)."""
    from sqlglot import exp

    from yiwang.rules.compiler import rule_sql

    key = (
        _definition_key(parsed.raw) if parsed.raw else repr(parsed),
        tuple(sorted((code, relation.sql) for code, relation in relations.items())),
        tuple(sorted(parameters.items())),
        on.isoformat(),
        dialect,
        eligible_only,
        subjects is None,
    )
    sql = _cache_get(_sql_cache, key)
    if sql is None:
        sql = rule_sql(
            parsed,
            relations=relations,
            parameters=parameters,
            on=on,
            dialect=dialect,
            subjects=None if subjects is None else [_SUBJECT_SLOT],
            eligible_only=eligible_only,
        )
        _cache_put(_sql_cache, key, sql)
    if subjects is None:
        return sql
    listed = ", ".join(
        exp.Literal.string(key).sql(dialect=dialect) if "'" in key or "\\" in key else f"'{key}'"
        for key in (str(subject) for subject in subjects)
    )
    return sql.replace(f"'{_SUBJECT_SLOT}'", listed or "NULL")


@dataclass
class RuleRead:
    """A rule run under a department's grants whose evidence is not written yet: `rows` as
    rule_evaluate returns them; `evidence_record()` writes the evidence rows and the audit
    entry (call it inside the transaction that acts on the rows)."""

    rows: list[dict[str, Any]]
    evidence_record: Callable[[], None]


def rule_evaluate(
    definition: Definition | dict,
    *,
    on: datetime.date,
    subjects: list[str] | None = None,
    eligible_only: bool = False,
    parameters: dict[str, int] | None = None,
    consumer: Any = None,
    purpose: str = "",
    actor: Any = None,
    version: RuleVersion | None = None,
) -> list[dict[str, Any]]:
    """Run a rule on the platform's database: one row per subject (see compiler.rule_sql).
    Parameters are their values on `on` unless given (a what-if).

    With a `consumer` (the Department running the rule), the read is one under the exchange's
    grants: every field of every resource the rule reads must be readable by that department
    now (exchange.selectors.readable_fields: open fields, conditional ones under a live grant,
    all of its own), and a purpose must be given; otherwise the read is refused (ReadRefused,
    naming each resource.field) and the refusal audited. A served read appends one evidence
    row per resource to the exchange's chain and one audit entry `rules.batch_read`, each
    naming the rule, its version, the purpose and the number of rows. Without a consumer the
    rule runs as the platform itself (a rule's author trying it, the tests)."""
    read = rule_read(
        definition,
        on=on,
        subjects=subjects,
        eligible_only=eligible_only,
        parameters=parameters,
        consumer=consumer,
        purpose=purpose,
        actor=actor,
        version=version,
    )
    read.evidence_record()
    return read.rows


def rule_read(
    definition: Definition | dict,
    *,
    on: datetime.date,
    subjects: list[str] | None = None,
    eligible_only: bool = False,
    parameters: dict[str, int] | None = None,
    consumer: Any = None,
    purpose: str = "",
    actor: Any = None,
    version: RuleVersion | None = None,
) -> RuleRead:
    """rule_evaluate's read without its writes: the grants are checked (a refusal is audited
    and raised at once, as rule_evaluate does) and the statement run, but the evidence of a
    served read is written only by `evidence_record()` on the result — so that a caller can
    read first and hold its write transaction (SQLite's write lock, the chains' heads) only
    for the writes: the evidence and what it decides from the rows."""
    from yiwang.rules.relations import dialect_of_connection, platform_relations

    parsed = definition if isinstance(definition, Definition) else definition_parse(definition)
    fields_read: dict[str, list[str]] = {}
    resources: dict[str, Any] | None = None
    if consumer is not None:
        fields_read, resources = _batch_read_check(parsed, consumer=consumer, purpose=purpose, actor=actor)
    values = parameters_at(parsed.parameters(), on) if parameters is None else parameters
    sql = _statement(
        parsed,
        relations=platform_relations(
            {source.resource for source in parsed.sources.values()}, loaded=resources
        ),
        parameters=values,
        on=on,
        dialect=dialect_of_connection(),
        subjects=subjects,
        eligible_only=eligible_only,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def evidence_record() -> None:
        if consumer is None:
            return
        _batch_read_record(
            parsed,
            rows=rows,
            fields_read=fields_read,
            resource_ids={code: resource.pk for code, resource in (resources or {}).items()},
            consumer=consumer,
            purpose=purpose,
            actor=actor,
            version=version,
            on=on,
            subjects=subjects,
            eligible_only=eligible_only,
            parameters=parameters,
        )

    return RuleRead(rows=rows, evidence_record=evidence_record)


def rule_fields_read(definition: Definition) -> dict[str, set[str]]:
    """resource code → the names of its fields the rule reads: keys and links of the sources,
    the fields of values, aggregates, ages, filters and the amount."""
    read: dict[str, set[str]] = {source.resource: set() for source in definition.sources.values()}

    def add(source_name: str, field_name: str) -> None:
        source = definition.sources.get(source_name)
        if source is not None and field_name:
            read[source.resource].add(field_name)

    def reference(text: Any) -> None:
        if isinstance(text, str) and text.count(".") == 1:
            add(*text.split("."))

    for source in definition.sources.values():
        add(source.name, source.key)
        add(source.name, source.subject)
        if source.via:
            add(source.via[0], source.via[1])
            add(source.name, source.via[2])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                if key in ("field", "age", "sum", "count", "min", "max"):
                    reference(child)
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for condition in definition.conditions:
        walk(condition.value)
        walk(condition.than)
    walk(definition.amount)
    return read


def _batch_read_check(
    parsed: Definition, *, consumer: Any, purpose: str, actor: Any
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """The fields read, per resource, as the exchange names them (a `<field>_fen` is the
    decimal field `<field>`), after checking that `consumer` may read every one of them now,
    and the resources (with their fields). Refused, audited, with every field it may not read
    named."""
    from yiwang.exchange.models import Grant, SharingClass
    from yiwang.exchange.selectors import resource_readable

    now = timezone.now()
    wanted = rule_fields_read(parsed)
    resources: dict[str, Any] = {}
    reasons: list[str] = []
    fields_read: dict[str, list[str]] = {}
    if not (purpose or "").strip():
        reasons.append(_("Say the purpose of the read: every read is recorded with its purpose."))
    for code in sorted(wanted):
        # The exchange's read cache (checked against the catalog version): the same answer
        # as readable_fields, without reading the catalog and the grants again.
        found = resource_readable(consumer=consumer, code=code, now=now)
        if found is None:
            reasons.append(_("%(resource)s is not in the exchange's catalog.") % {"resource": code})
            continue
        resource, classes, readable = found
        resources[code] = resource
        names = []
        for name in sorted(wanted[code]):
            if name not in classes and name.endswith("_fen") and name[: -len("_fen")] in classes:
                name = name[: -len("_fen")]
            names.append(name)
        fields_read[code] = sorted(set(names))
        expired = None
        for name in fields_read[code]:
            if name in readable:
                continue
            where = {"field": f"{code}.{name}", "consumer": consumer.name, "owner": resource.department.name}
            if classes.get(name) == SharingClass.CLOSED:
                reasons.append(_("%(field)s is closed: it never leaves %(owner)s.") % where)
                continue
            if expired is None:
                expired = Grant.objects.filter(
                    consumer=consumer, resource=resource, valid_to__lte=now
                ).exists()
            if expired:
                reasons.append(
                    _("The grant of %(consumer)s for %(field)s has expired; request access again.") % where
                )
            else:
                reasons.append(
                    _("%(field)s is conditional and %(owner)s has not granted it to %(consumer)s.") % where
                )
    if reasons:
        message = _("The rule %(rule)s may not read these data: %(reasons)s") % {
            "rule": parsed.code,
            "reasons": " ".join(reasons),
        }
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="rules.read_refused",
                object_type="rules.rule",
                object_id=parsed.code,
                purpose=(purpose or "")[:255],
                after={"consumer": consumer.code, "reasons": reasons},
            )
        from yiwang.exchange.selectors import ReadRefused

        raise ReadRefused(message)
    return fields_read, resources


def _version_number(parsed: Definition, version: RuleVersion | None) -> int | None:
    if version is not None:
        return version.number
    for number, definition in RuleVersion.objects.filter(rule__code=parsed.code).values_list(
        "number", "definition"
    ):
        if definition == parsed.raw:
            return number
    return None


def _batch_read_record(
    parsed: Definition,
    *,
    rows: list[dict[str, Any]],
    fields_read: dict[str, list[str]],
    resource_ids: dict[str, int],
    consumer: Any,
    purpose: str,
    actor: Any,
    version: RuleVersion | None,
    on: datetime.date,
    subjects: list[str] | None,
    eligible_only: bool,
    parameters: dict[str, int] | None,
) -> None:
    """One evidence row per resource in the exchange's chain and one audit entry. The response
    hash is taken of the verdicts (subject, eligible, amount per line), not of the whole rows."""
    from yiwang.core.audit import content_hash
    from yiwang.exchange.evidence import evidence_append_many

    now = timezone.now()
    purpose = purpose.strip()[:255]
    number = _version_number(parsed, version)
    verdicts = "\n".join(f"{row['subject']}\t{int(bool(row['eligible']))}\t{row['amount']}" for row in rows)
    response_hash = content_hash(verdicts.encode())
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    one = subjects[0] if subjects is not None and len(subjects) == 1 else ""
    ids = resource_ids
    with transaction.atomic():
        appended = evidence_append_many(
            [
                {
                    "at": now,
                    "consumer_id": consumer.pk,
                    "actor_id": actor_id,
                    "resource_id": ids[code],
                    "purpose": purpose,
                    "fields": names,
                    "subject": str(one)[:64],
                    "request": {
                        "consumer": consumer.code,
                        "resource": code,
                        "rule": parsed.code,
                        "version": number,
                        "purpose": purpose,
                        "on": on.isoformat(),
                        "subjects": len(subjects) if subjects is not None else None,
                        "eligible_only": eligible_only,
                        "parameters": parameters,
                        "fields": names,
                        "at": now.isoformat(),
                    },
                    "response_hash": response_hash,
                    "rows": len(rows),
                }
                for code, names in sorted(fields_read.items())
            ]
        )
        sequences = [evidence.sequence for evidence in appended]
        audit_record(
            actor=actor,
            action="rules.batch_read",
            object_type="rules.rule",
            object_id=parsed.code,
            purpose=purpose,
            after={
                "rule": parsed.code,
                "version": number,
                "consumer": consumer.code,
                "on": on.isoformat(),
                "rows": len(rows),
                "subjects": len(subjects) if subjects is not None else None,
                "resources": fields_read,
                "evidence": sequences,
            },
        )


def _plain(value: Any) -> Any:
    """A whole number the database returned as NUMERIC (PostgreSQL sums and divides bigints
    into NUMERIC) as an int, so the explain face is the same on every database."""
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def rule_explain(
    definition: Definition | dict,
    *,
    subjects: list[str],
    on: datetime.date,
    consumer: Any = None,
    purpose: str = "",
    actor: Any = None,
    version: RuleVersion | None = None,
    parameters: dict[str, int] | None = None,
) -> list[Explanation]:
    """For each subject, each condition with the value found, what it was compared with and
    whether it passed — the same statement the batch runs, restricted to these subjects. With
    a consumer, read under the exchange's grants as rule_evaluate does."""
    explanations, read = rule_explain_read(
        definition,
        subjects=subjects,
        on=on,
        consumer=consumer,
        purpose=purpose,
        actor=actor,
        version=version,
        parameters=parameters,
    )
    read.evidence_record()
    return explanations


def rule_explain_read(
    definition: Definition | dict,
    *,
    subjects: list[str],
    on: datetime.date,
    consumer: Any = None,
    purpose: str = "",
    actor: Any = None,
    version: RuleVersion | None = None,
    parameters: dict[str, int] | None = None,
) -> tuple[list[Explanation], RuleRead]:
    """rule_explain without writing the evidence yet (see rule_read): the explanations and the
    read, whose `evidence_record()` the caller calls in the transaction that acts on them."""
    from yiwang.rules.explain import condition_unit, parameter_units

    parsed = definition if isinstance(definition, Definition) else definition_parse(definition)
    units_of = parameter_units(parsed.parameters())
    units = {condition.id: condition_unit(condition, units_of) for condition in parsed.conditions}
    explanations = []
    read = rule_read(
        parsed,
        on=on,
        subjects=subjects,
        consumer=consumer,
        purpose=purpose,
        actor=actor,
        version=version,
        parameters=parameters,
    )
    for row in read.rows:
        explanations.append(
            Explanation(
                subject=str(row["subject"]),
                eligible=bool(row["eligible"]),
                amount=int(row["amount"] or 0),
                conditions=[
                    ConditionResult(
                        id=condition.id,
                        label=condition.label,
                        basis=condition.basis,
                        value=_plain(row[f"v_{condition.id}"]),
                        op=condition.op,
                        compared_with=_plain(row[f"t_{condition.id}"]),
                        passed=bool(row[f"p_{condition.id}"]),
                        unit=units[condition.id],
                    )
                    for condition in parsed.conditions
                ],
                code=parsed.code,
                title=parsed.title,
                on=on,
            )
        )
    return explanations, read


# --- reading rules (the workbench's questions) ----------------------------------------------------


def rule_list() -> list[Rule]:
    """Every rule with its versions (newest first) and `in_force`, the published one or None."""
    rules = list(Rule.objects.prefetch_related("versions__author", "versions__approved_by").order_by("code"))
    for rule in rules:
        rule.in_force = next((v for v in rule.versions.all() if v.status == VersionStatus.PUBLISHED), None)
    return rules


def rule_get(*, code: str) -> Rule:
    rule = Rule.objects.filter(code=code).first()
    if rule is None:
        raise NotFound(_("No rule %s.") % code)
    rule.in_force = rule.versions.filter(status=VersionStatus.PUBLISHED).first()
    return rule


def rule_version_get(*, code: str, number: int) -> RuleVersion:
    version = (
        RuleVersion.objects.select_related("rule", "author", "approved_by")
        .filter(rule__code=code, number=number)
        .first()
    )
    if version is None:
        raise NotFound(_("No version %(number)s of rule %(code)s.") % {"code": code, "number": number})
    return version


def parameter_get(*, code: str) -> Parameter:
    parameter = Parameter.objects.filter(code=code).first()
    if parameter is None:
        raise NotFound(_("No parameter %s.") % code)
    return parameter


def parameter_list(*, codes: set[str] | list[str] | None = None) -> list[Parameter]:
    """Parameters (all, or these) with their dated values (`values.all()`, oldest first)."""
    queryset = Parameter.objects.prefetch_related("values").order_by("code")
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    return list(queryset)


def definition_from_yaml(text: str) -> dict:
    """A definition written as YAML, as the JSON object it is stored as (dates as text).
    Refused with the line and column when the text is not YAML or not an object."""
    import json

    import yaml

    try:
        loaded = yaml.safe_load(text or "")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (
            _("line %(line)s, column %(column)s: ") % {"line": mark.line + 1, "column": mark.column + 1}
            if mark
            else ""
        )
        problem = getattr(error, "problem", None) or str(error)
        raise FieldErrors.single(
            "definition", _("Not valid YAML: %(where)s%(problem)s") % {"where": where, "problem": problem}
        ) from None
    if not isinstance(loaded, dict):
        raise FieldErrors.single("definition", _("A rule definition is a YAML mapping (code: …, title: …)."))
    return json.loads(json.dumps(loaded, default=str, ensure_ascii=False))


def definition_to_yaml(definition: dict) -> str:
    import yaml

    return yaml.safe_dump(definition, allow_unicode=True, sort_keys=False, width=100)


def rule_try(*, version: RuleVersion, subject: str, on: datetime.date, actor: Any) -> Explanation:
    """A rule's explanation for one subject (ID number, household number, USCC …), for the
    people who write and approve it: "try it on one subject". Audited (the subject masked).
    NotFound when the subject is not in the rule's subject source."""
    from yiwang.core.masking import mask_id_number

    if not access_rules_workbench(actor):
        raise Forbidden(_("Only data stewards and approvers may try rules."))
    subject = (subject or "").strip()
    if not subject:
        raise FieldErrors.single("subject", _("Enter the subject's number."))
    parsed = definition_parse(version.definition)
    found = rule_explain(parsed, subjects=[subject], on=on)
    if not found and subject.upper() != subject:  # an ID number typed with a small x
        subject = subject.upper()
        found = rule_explain(parsed, subjects=[subject], on=on)
    if not found:
        raise FieldErrors.single(
            "subject",
            _("%(subject)s is not among the subjects of this rule.")
            % {"subject": mask_id_number(subject) if len(subject) == 18 else subject},
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="rules.try",
            target=version,
            purpose="rules: trying a rule on one subject",
            after={
                "rule": parsed.code,
                "version": version.number,
                "on": on.isoformat(),
                "subject": mask_id_number(subject) if len(subject) == 18 else subject,
                "eligible": found[0].eligible,
            },
        )
    return found[0]


# --- what-if ------------------------------------------------------------------------------------

WHATIF_SAMPLE = 50


@dataclass(frozen=True)
class WhatIfSide:
    """One side of a what-if: the version run, the parameter values used, who qualified."""

    version: int | None
    status: str
    parameters: dict[str, int]
    count: int
    amount: int  # fen


@dataclass(frozen=True)
class WhatIf:
    code: str
    title: str
    on: datetime.date
    current: WhatIfSide | None  # the published version (None when none is published yet)
    proposed: WhatIfSide
    gained: int
    lost: int
    amount_changed: int  # subjects qualifying under both, with another amount
    gained_first: list[dict[str, Any]]  # [{subject, amount}], the first WHATIF_SAMPLE by subject
    lost_first: list[dict[str, Any]]

    @property
    def count_difference(self) -> int:
        return self.proposed.count - (self.current.count if self.current else 0)

    @property
    def amount_difference(self) -> int:
        return self.proposed.amount - (self.current.amount if self.current else 0)


def _qualifying(parsed: Definition, *, on: datetime.date, parameters: dict[str, int]) -> dict[str, int]:
    rows = rule_evaluate(parsed, on=on, eligible_only=True, parameters=parameters)
    return {str(row["subject"]): int(row["amount"] or 0) for row in rows}


def rule_whatif(
    *,
    version: RuleVersion,
    on: datetime.date,
    actor: Any,
    parameters: dict[str, int] | None = None,
) -> WhatIf:
    """Dry-run a version (a draft, an approved one, or the published one with changed
    parameters) against the published version of the same rule, on the same day: who
    qualifies and the total amount under each, and who is gained and lost. `parameters`
    overrides the dated values on the proposed side only (a parameter change before it is
    published). Nothing is written but the audit entry."""
    if not user_roles(actor) & (AUTHOR_ROLES | APPROVER_ROLES):
        raise Forbidden(_("Only data stewards and approvers may run a what-if."))
    parsed = definition_parse(version.definition)
    overrides = dict(parameters or {})
    errors = ErrorCollector()
    for code, value in overrides.items():
        if code not in parsed.parameters():
            errors.add(("parameters", code), _("The rule does not use the parameter %s.") % code)
        elif not isinstance(value, int) or isinstance(value, bool):
            errors.add(("parameters", code), _("A parameter value is a whole number (money in fen)."))
    errors.raise_if_any()
    proposed_values = {**parameters_at(parsed.parameters() - set(overrides), on), **overrides}
    proposed = _qualifying(parsed, on=on, parameters=proposed_values)
    published = RuleVersion.objects.filter(rule_id=version.rule_id, status=VersionStatus.PUBLISHED).first()
    current: dict[str, int] = {}
    current_side = None
    if published is not None:
        published_parsed = definition_parse(published.definition)
        current_values = parameters_at(published_parsed.parameters(), on)
        current = _qualifying(published_parsed, on=on, parameters=current_values)
        current_side = WhatIfSide(
            version=published.number,
            status=published.status,
            parameters=current_values,
            count=len(current),
            amount=sum(current.values()),
        )
    gained = sorted(set(proposed) - set(current))
    lost = sorted(set(current) - set(proposed))
    result = WhatIf(
        code=parsed.code,
        title=parsed.title,
        on=on,
        current=current_side,
        proposed=WhatIfSide(
            version=version.number,
            status=version.status,
            parameters=proposed_values,
            count=len(proposed),
            amount=sum(proposed.values()),
        ),
        gained=len(gained),
        lost=len(lost),
        amount_changed=sum(1 for key in set(proposed) & set(current) if proposed[key] != current[key]),
        gained_first=[{"subject": key, "amount": proposed[key]} for key in gained[:WHATIF_SAMPLE]],
        lost_first=[{"subject": key, "amount": current[key]} for key in lost[:WHATIF_SAMPLE]],
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="rules.whatif",
            target=version,
            after={
                "rule": parsed.code,
                "version": version.number,
                "against": published.number if published else None,
                "on": on.isoformat(),
                "parameters": overrides,
                "qualifying": [current_side.count if current_side else 0, result.proposed.count],
                "amount": [current_side.amount if current_side else 0, result.proposed.amount],
                "gained": result.gained,
                "lost": result.lost,
            },
        )
    return result


# --- rule files shipped with an application ------------------------------------------------------

RULE_FILE_ACCOUNT = "system-rules"


def _rule_file_account() -> Any:
    """The account rule files are written and published under: an inactive user no one logs
    in as. A rule file is reviewed with the code it ships in, so it needs no second approver."""
    from django.contrib.auth import get_user_model

    account, created = get_user_model().objects.get_or_create(
        username=RULE_FILE_ACCOUNT, defaults={"is_active": False, "display_name": "规则文件"}
    )
    if created:
        account.set_unusable_password()
        account.save(update_fields=["password"])
    return account


def rule_file_load(*, raw: dict, source: str, catalog: Catalog | None = None) -> RuleVersion:
    """Load a rule file (YAML parsed to a dict) that an application ships with, idempotently:

        kind: eligibility | screening | amount
        parameters:
          - code: relapse.medical.threshold_fen
            label: 医疗自付费用预警线
            unit: fen
            basis: {document: 《…》, article: 二}
            values: [{value: 1500000, valid_from: 2021-01-01, valid_to: null}]
        rule: {code: …, title: …, …}          # a definition (yiwang.rules.definition)

    Parameters are created if missing and values added if not already recorded (a value that
    overlaps a different one is refused, as parameter_value_add does). The rule is published
    as a new version only when its definition differs from the one in force. Returns the
    version in force. Everything is checked before anything is written."""
    account = _rule_file_account()
    errors = ErrorCollector()
    kind = raw.get("kind", RuleKind.ELIGIBILITY)
    if kind not in RuleKind.values:
        errors.add("kind", _("Unknown rule kind."))
    definition = raw.get("rule")
    if not isinstance(definition, dict):
        errors.add("rule", _("A rule file needs a rule definition."))
    declared = raw.get("parameters") or []
    if not isinstance(declared, list):
        errors.add("parameters", _("Parameters are a list."))
        declared = []
    for index, item in enumerate(declared):
        for key in ("code", "label", "unit", "values"):
            if not isinstance(item, dict) or not item.get(key):
                errors.add(("parameters", index, key), _("This field is required."))
    errors.raise_if_any()
    parsed = definition_parse(definition, catalog=exchange_catalog() if catalog is None else catalog)
    known = {item["code"] for item in declared} | set(
        Parameter.objects.filter(code__in=parsed.parameters()).values_list("code", flat=True)
    )
    for code in sorted(parsed.parameters() - known):
        errors.add(("rule", "parameters"), _("Unknown parameter %s.") % code)
    errors.raise_if_any()
    with transaction.atomic():
        for index, item in enumerate(declared):
            basis = item.get("basis") or {}
            parameter, _created = Parameter.objects.get_or_create(
                code=item["code"],
                defaults={
                    "label": item["label"],
                    "unit": item["unit"],
                    "basis_document": basis.get("document", ""),
                    "basis_article": str(basis.get("article", "")),
                },
            )
            for number, entry in enumerate(item["values"]):
                start = _date(entry.get("valid_from"), ("parameters", index, "values", number, "valid_from"))
                end = entry.get("valid_to")
                end = _date(end, ("parameters", index, "values", number, "valid_to")) if end else None
                recorded = ParameterValue.objects.filter(parameter=parameter, valid_from=start).first()
                if recorded is not None and recorded.value == entry.get("value") and recorded.valid_to == end:
                    continue
                _parameter_value_write(
                    parameter=parameter,
                    value=entry.get("value"),
                    valid_from=start,
                    valid_to=end,
                    actor=account,
                )
        rule = Rule.objects.filter(code=parsed.code).first()
        current = rule.versions.filter(status=VersionStatus.PUBLISHED).first() if rule else None
        if current is not None and current.definition == definition:
            return current
        version = _version_write(
            definition=definition, actor=account, kind=kind, note=f"rule file {source}"[:255], catalog=catalog
        )
        RuleVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.APPROVED, approved_by=account, approved_at=timezone.now()
        )
        return _publish(version=version, actor=account)


def _date(value: Any, path: tuple) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise FieldErrors([(path, _("Not a date (YYYY-MM-DD)."))]) from None


def rule_published(*, code: str) -> bool:
    """Whether a version of the rule is in force (an application's rules may not be loaded yet)."""
    return RuleVersion.objects.filter(rule__code=code, status=VersionStatus.PUBLISHED).exists()


def rule_in_force(*, code: str) -> RuleVersion:
    """The published version of a rule. Raises NotFound when none is published."""
    version = RuleVersion.objects.select_related("rule").filter(rule__code=code, status="published").first()
    if version is None:
        raise NotFound(_("No published version of rule %s.") % code)
    return version
