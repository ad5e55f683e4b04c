"""A rule as data: what it reads, its conditions with their legal basis, its amount.

A definition is a dict (stored as JSON, written by people as YAML):

    code: relapse.medical
    title: 医保：家庭成员个人自付医疗费用高
    subject: households                       # the source whose rows are the subjects
    sources:
      households: {resource: ga.households, key: household_no}
      members:    {resource: ga.household_members, subject: household_no}
      claims:     {resource: yb.self_pay_claims, via: {source: members, field: id_number, to: id_number}}
    conditions:
      - id: self_pay
        label: 家庭成员近12个月个人自付医疗费用合计
        basis: {document: 国家乡村振兴局等《关于健全防止返贫动态监测和帮扶机制的指导意见》, article: 二}
        value: {sum: claims.self_pay_fen, where: [{field: claims.paid_on, op: ">=", value: {months_before: 12}}]}
        op: ">="
        than: {param: relapse.medical.threshold_fen}
    amount: {value: 0}                        # optional; integer fen

Values:
    {field: S.f}                     an attribute of the subject's own source S
    {sum|count|min|max: S.f, where}  an aggregate over the rows of S that belong to the subject
    {count: S, where}                how many rows of S belong to the subject
    {age: S.f}                       whole years from the date in S.f to the evaluation date
    {param: code}                    a dated parameter's value at the evaluation date
    {value: literal}                 a number, text or boolean
    {add|sub|mul: [v, v, …]}         integer arithmetic (money is integer fen)
    {band: v, bands: [[low, high, amount], …]}   the amount of the first band low ≤ v ≤ high
                                                 (null = open end)
    {months_before: n}, {days_before: n}, {date: "YYYY-MM-DD"}   dates, in `where` and tests
    {working_days_before: n}         the date n working days before the evaluation date
                                     (the core calendar: holidays and 调休 counted)

A source belongs to the subject directly (`subject: field` = the subject's key) or through
another source (`via: {source, field, to}`: this source's `to` equals that source's `field`).
The subject source itself has `key`. Conditions all must hold unless `eligible` says otherwise:
    eligible: {all: [a, {any: [b, c]}, {not: d}]}

`definition_parse` checks the shape and, given the catalog of resources and their typed
fields, every reference and type; it raises FieldErrors naming the path of each problem.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from yiwang.core.errors import ErrorCollector

NUMERIC = frozenset({"integer", "decimal"})
TYPES = frozenset({"string", "integer", "decimal", "date", "datetime", "boolean"})
OPERATORS = {">=": "ge", ">": "gt", "<=": "le", "<": "lt", "==": "eq", "!=": "ne"}
AGGREGATES = ("sum", "count", "min", "max")
ARITHMETIC = ("add", "sub", "mul")
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Source:
    name: str
    resource: str
    key: str = ""  # the subject source's key field
    subject: str = ""  # this source's field holding the subject's key
    via: tuple[str, str, str] | None = None  # (other source, its field, this source's field)


@dataclass(frozen=True)
class Condition:
    id: str
    label: str
    basis: dict[str, str]
    value: dict
    op: str
    than: dict


@dataclass(frozen=True)
class Definition:
    code: str
    title: str
    subject: str
    sources: dict[str, Source]
    conditions: tuple[Condition, ...]
    eligible: Any  # "all" or a boolean tree over condition ids
    amount: dict | None = None
    basis: dict[str, str] = field(default_factory=dict)
    raw: dict = field(default_factory=dict, compare=False)

    def parameters(self) -> set[str]:
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if "param" in node and isinstance(node["param"], str):
                    found.add(node["param"])
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(self.raw)
        return found


# A catalog answers: which fields, of which types, does a resource have?
Catalog = dict[str, dict[str, str]]


class _Checker:
    def __init__(
        self, errors: ErrorCollector, sources: dict[str, Source], subject: str, catalog: Catalog | None
    ):
        self.errors = errors
        self.sources = sources
        self.subject = subject
        self.catalog = catalog

    def field_type(
        self, reference: Any, path: tuple, *, subject_only: bool = False
    ) -> tuple[str, str] | None:
        """(source, type) of "source.field", or None after recording the problem."""
        if not isinstance(reference, str) or reference.count(".") != 1:
            self.errors.add(path, f"write a field as source.field, not {reference!r}")
            return None
        source_name, field_name = reference.split(".")
        source = self.sources.get(source_name)
        if source is None:
            self.errors.add(
                path, f"unknown source {source_name!r} (declared: {', '.join(sorted(self.sources))})"
            )
            return None
        if subject_only and source_name != self.subject:
            self.errors.add(
                path,
                f"{reference}: only the subject's own source ({self.subject}) has one value per subject; aggregate the others",
            )
            return None
        if self.catalog is None:
            return source_name, "any"
        fields = self.catalog.get(source.resource)
        if fields is None:
            return None  # reported once on the source
        if field_name not in fields:
            self.errors.add(
                path, f"{source.resource} has no field {field_name!r} (fields: {', '.join(sorted(fields))})"
            )
            return None
        return source_name, fields[field_name]

    def value(self, node: Any, path: tuple) -> str | None:
        """The type of a value expression ("integer", "date", …; "any" without a catalog)."""
        if not isinstance(node, dict) or not node:
            self.errors.add(
                path, "a value is an object such as {field: …}, {sum: …}, {param: …} or {value: …}"
            )
            return None
        if "field" in node:
            found = self.field_type(node["field"], (*path, "field"), subject_only=True)
            return found[1] if found else None
        for name in AGGREGATES:
            if name in node:
                return self.aggregate(name, node, path)
        if "age" in node:
            found = self.field_type(node["age"], (*path, "age"), subject_only=True)
            if found and found[1] not in ("date", "any"):
                self.errors.add((*path, "age"), f"age needs a date field; {node['age']} is {found[1]}")
            return "integer"
        if "param" in node:
            if not isinstance(node["param"], str) or not node["param"]:
                self.errors.add((*path, "param"), "name the parameter by its code")
            return "any"
        if "value" in node:
            literal = node["value"]
            if isinstance(literal, bool):
                return "boolean"
            if isinstance(literal, int):
                return "integer"
            if isinstance(literal, str):
                return "string"
            self.errors.add((*path, "value"), "a literal is an integer (money in fen), a text or true/false")
            return None
        for name in ARITHMETIC:
            if name in node:
                operands = node[name]
                if not isinstance(operands, list) or len(operands) < 2:
                    self.errors.add((*path, name), f"{name} takes a list of two or more values")
                    return None
                for index, operand in enumerate(operands):
                    kind = self.value(operand, (*path, name, index))
                    if kind not in (None, "any", "integer"):
                        self.errors.add(
                            (*path, name, index), f"{name} works on integers (money in fen), not {kind}"
                        )
                return "integer"
        if "band" in node:
            self.value(node["band"], (*path, "band"))
            bands = node.get("bands")
            if not isinstance(bands, list) or not bands:
                self.errors.add((*path, "bands"), "bands is a list of [low, high, amount]")
                return None
            for index, band in enumerate(bands):
                if not (isinstance(band, list) and len(band) == 3 and isinstance(band[2], int)):
                    self.errors.add(
                        (*path, "bands", index), "a band is [low, high, amount in fen] (null for an open end)"
                    )
            return "integer"
        if "months_before" in node or "days_before" in node or "working_days_before" in node:
            amount = node.get("months_before", node.get("days_before", node.get("working_days_before")))
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                self.errors.add(path, "months_before, days_before, working_days_before: a whole number ≥ 0")
            return "date"
        if "date" in node:
            try:
                datetime.date.fromisoformat(str(node["date"]))
            except ValueError:
                self.errors.add((*path, "date"), f"not a date (YYYY-MM-DD): {node['date']!r}")
            return "date"
        self.errors.add(path, f"unknown value {sorted(node)}")
        return None

    def aggregate(self, name: str, node: dict, path: tuple) -> str | None:
        target = node[name]
        if name == "count" and isinstance(target, str) and "." not in target:
            source_name = target
            if source_name not in self.sources:
                self.errors.add((*path, name), f"unknown source {source_name!r}")
                return None
            kind = "integer"
        else:
            found = self.field_type(target, (*path, name))
            source_name, field_type = found or (str(target).split(".")[0], None)
            if field_type and name == "sum" and field_type not in NUMERIC | {"any"}:
                self.errors.add((*path, name), f"sum needs a number; {target} is {field_type}")
            kind = "integer" if name in ("sum", "count") else field_type
        if source_name == self.subject:
            self.errors.add(
                (*path, name),
                f"aggregate the rows of a related source, not the subject's own ({self.subject})",
            )
        for index, clause in enumerate(node.get("where", []) or []):
            self.where(clause, source_name, (*path, "where", index))
        return kind

    def where(self, clause: Any, source_name: str, path: tuple) -> None:
        if not isinstance(clause, dict) or not {"field", "op", "value"} <= set(clause):
            self.errors.add(path, "a filter is {field: source.field, op: '>=', value: …}")
            return
        found = self.field_type(clause["field"], (*path, "field"))
        if found and found[0] != source_name:
            self.errors.add((*path, "field"), f"filter the aggregated source {source_name}, not {found[0]}")
        if clause["op"] not in OPERATORS:
            self.errors.add((*path, "op"), f"unknown operator {clause['op']!r} ({' '.join(OPERATORS)})")
        value = clause["value"]
        if isinstance(value, dict) and ("field" in value or any(name in value for name in AGGREGATES)):
            self.errors.add(
                (*path, "value"), "compare a filtered field with a literal, a parameter or a date"
            )
            return
        kind = self.value(value if isinstance(value, dict) else {"value": value}, (*path, "value"))
        if found and kind and not _comparable(found[1], kind):
            self.errors.add((*path, "value"), f"cannot compare {clause['field']} ({found[1]}) with {kind}")


def _comparable(left: str, right: str) -> bool:
    if "any" in (left, right):
        return True
    if left in NUMERIC and right in NUMERIC:
        return True
    if {left, right} <= {"date", "datetime"}:
        return True
    return left == right


def _source(name: str, raw: Any, errors: ErrorCollector) -> Source | None:
    path = ("sources", name)
    if not _IDENT.match(name):
        errors.add(path, "a source name is lower-case letters, digits and _")
    if not isinstance(raw, dict) or not isinstance(raw.get("resource"), str):
        errors.add(path, "a source names its resource: {resource: code, …}")
        return None
    via = raw.get("via")
    if via is not None:
        if not (isinstance(via, dict) and {"source", "field", "to"} <= set(via)):
            errors.add((*path, "via"), "via is {source: other, field: its field, to: this source's field}")
            return None
        via = (str(via["source"]), str(via["field"]), str(via["to"]))
    return Source(
        name=name,
        resource=raw["resource"],
        key=str(raw.get("key") or ""),
        subject=str(raw.get("subject") or ""),
        via=via,
    )


def definition_parse(raw: Any, *, catalog: Catalog | None = None) -> Definition:
    """Check a rule definition and return it parsed. With a catalog, every resource, field and
    type is checked too. Raises FieldErrors naming the path of every problem."""
    errors = ErrorCollector(("definition",))
    if not isinstance(raw, dict):
        errors.add((), "a rule definition is an object")
        errors.raise_if_any()
    for name in ("code", "title", "subject"):
        if not isinstance(raw.get(name), str) or not raw.get(name).strip():
            errors.add(name, "required")
    sources: dict[str, Source] = {}
    raw_sources = raw.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        errors.add("sources", "declare the sources the rule reads")
        raw_sources = {}
    for name, source_raw in raw_sources.items():
        source = _source(str(name), source_raw, errors)
        if source:
            sources[source.name] = source
    subject = raw.get("subject")
    if isinstance(subject, str) and subject not in sources:
        errors.add("subject", f"the subject must be one of the sources ({', '.join(sorted(sources))})")
    elif isinstance(subject, str) and not sources[subject].key:
        errors.add(("sources", subject, "key"), "the subject's source names its key field")
    for source in sources.values():
        if catalog is not None and source.resource not in catalog:
            errors.add(("sources", source.name, "resource"), f"unknown resource {source.resource!r}")
        if source.name == subject:
            continue
        if bool(source.subject) == bool(source.via):
            errors.add(("sources", source.name), "a related source has either `subject: field` or `via: {…}`")
        if source.via and source.via[0] not in sources:
            errors.add(("sources", source.name, "via", "source"), f"unknown source {source.via[0]!r}")
    _check_links(sources, subject, catalog, errors)
    checker = _Checker(errors, sources, str(subject), catalog)
    conditions: list[Condition] = []
    raw_conditions = raw.get("conditions")
    if not isinstance(raw_conditions, list) or not raw_conditions:
        errors.add("conditions", "a rule has at least one condition")
        raw_conditions = []
    seen: set[str] = set()
    for index, item in enumerate(raw_conditions):
        path = ("conditions", index)
        if not isinstance(item, dict):
            errors.add(path, "a condition is an object")
            continue
        ident = str(item.get("id") or "")
        if not _IDENT.match(ident):
            errors.add((*path, "id"), "a condition id is lower-case letters, digits and _")
        elif ident in seen:
            errors.add((*path, "id"), f"two conditions are called {ident!r}")
        seen.add(ident)
        if not str(item.get("label") or "").strip():
            errors.add((*path, "label"), "say in words what the condition checks")
        basis = item.get("basis")
        if not (isinstance(basis, dict) and str(basis.get("document") or "").strip()):
            errors.add((*path, "basis"), "cite the legal basis: {document: …, article: …}")
            basis = {}
        left = checker.value(item.get("value"), (*path, "value"))
        op = item.get("op")
        if op not in OPERATORS:
            errors.add((*path, "op"), f"unknown operator {op!r} ({' '.join(OPERATORS)})")
        right = checker.value(item.get("than"), (*path, "than"))
        if left and right and not _comparable(left, right):
            errors.add((*path, "than"), f"cannot compare {left} with {right}")
        conditions.append(
            Condition(
                id=ident,
                label=str(item.get("label") or ""),
                basis={str(k): str(v) for k, v in basis.items()},
                value=item.get("value") or {},
                op=str(op),
                than=item.get("than") or {},
            )
        )
    eligible = raw.get("eligible", "all")
    _check_eligible(eligible, seen, ("eligible",), errors)
    amount = raw.get("amount")
    if amount is not None:
        kind = checker.value(amount, ("amount",))
        if kind not in (None, "any", "integer"):
            errors.add("amount", f"an amount is integer fen, not {kind}")
    errors.raise_if_any()
    return Definition(
        code=raw["code"].strip(),
        title=raw["title"].strip(),
        subject=subject,
        sources=sources,
        conditions=tuple(conditions),
        eligible=eligible,
        amount=amount,
        basis={str(k): str(v) for k, v in (raw.get("basis") or {}).items()},
        raw=raw,
    )


def _check_links(
    sources: dict[str, Source], subject: Any, catalog: Catalog | None, errors: ErrorCollector
) -> None:
    """Every related source reaches the subject through a chain without cycles, and the
    linking fields exist."""
    for source in sources.values():
        seen = {source.name}
        node = source
        while node.via and node.name != subject:
            other = sources.get(node.via[0])
            if other is None:
                break
            if other.name in seen:
                errors.add(("sources", source.name, "via"), "the via links go round in a circle")
                break
            seen.add(other.name)
            node = other
        if catalog is None:
            continue
        fields = catalog.get(source.resource, {})
        for name in filter(None, (source.key, source.subject, source.via[2] if source.via else "")):
            if fields and name not in fields:
                errors.add(("sources", source.name), f"{source.resource} has no field {name!r}")
        if source.via and source.via[0] in sources:
            other_fields = catalog.get(sources[source.via[0]].resource, {})
            if other_fields and source.via[1] not in other_fields:
                errors.add(
                    ("sources", source.name, "via", "field"),
                    f"{sources[source.via[0]].resource} has no field {source.via[1]!r}",
                )


def _check_eligible(node: Any, ids: set[str], path: tuple, errors: ErrorCollector) -> None:
    if node == "all":
        return
    if isinstance(node, str):
        if node not in ids:
            errors.add(path, f"unknown condition {node!r}")
        return
    if isinstance(node, dict) and len(node) == 1:
        ((operator, operands),) = node.items()
        if operator == "not":
            _check_eligible(operands, ids, (*path, "not"), errors)
            return
        if operator in ("all", "any") and isinstance(operands, list) and operands:
            for index, operand in enumerate(operands):
                _check_eligible(operand, ids, (*path, operator, index), errors)
            return
    errors.add(path, 'eligible is "all" or a tree of {all: […]}, {any: […]}, {not: …} over condition ids')
