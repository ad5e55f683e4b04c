"""One rule, one SQL query: the batch face and the explain face are the same statement.

`rule_sql` turns a parsed Definition into a sqlglot tree and renders it for a dialect
(sqlite, postgres, duckdb, spark). The query has one row per subject:

    subject                 the subject's key
    v_<condition>           the value the condition found (a sum, an age, an attribute …)
    t_<condition>           what it was compared with (the parameter's value at the date)
    p_<condition>           whether it passed (NULL values fail)
    eligible                the rule's verdict
    amount                  the amount in fen (0 when not eligible)

The batch run selects the eligible rows over the whole population; explain selects the rows
of the given subjects. Because both run the very same statement, what a citizen is told is
what the batch decided.

Every aggregate over a related source is one grouped subquery joined to the subjects, so a
rule over 1M subjects and 12M claim rows is one scan of each table. Money is integer fen:
parameters are inlined as integer literals and no division by 100 ever happens in SQL (DuckDB
turns DECIMAL / 100 into DOUBLE).
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from yiwang.rules.definition import AGGREGATES, OPERATORS, Condition, Definition

_COMPARE = {"ge": exp.GTE, "gt": exp.GT, "le": exp.LTE, "lt": exp.LT, "eq": exp.EQ, "ne": exp.NEQ}
SUBJECT_ALIAS = "s"
# The list of subjects is spliced into the rendered SQL in place of this literal: building
# and rendering a sqlglot node per subject takes about a second for 10,000 subjects.
SUBJECTS_MARK = "__yiwang_rules_subjects__"


KEY_PREFIX = "_key_"


@dataclass(frozen=True)
class Relation:
    """Where a resource's rows are in the database the query runs on: a table name or a SELECT
    (in the dialect the query is rendered for), exposing the resource's fields as columns.

    `keys`: (field, key space) pairs for the fields that also have an integer *key column*,
    `_key_<field>`: one integer per distinct value of the key space (persons' ID numbers,
    household numbers …), the same in every relation of the same database — equal integers
    exactly when the texts are equal. Over the whole population, a link whose both ends have
    key columns of the same space is joined and grouped on the integers (the DuckDB mirror
    file has them: dense integers group by array index instead of hashing text)."""

    sql: str
    keys: tuple[tuple[str, str], ...] = ()

    def key_space(self, field: str) -> str | None:
        return dict(self.keys).get(field)

    def expression(self, alias: str, dialect: str) -> exp.Expression:
        text = self.sql.strip()
        if text.lower().startswith("select") or text.lower().startswith("with"):
            return exp.Subquery(
                this=sqlglot.parse_one(text, read=dialect),
                alias=exp.TableAlias(this=exp.to_identifier(alias)),
            )
        return exp.to_table(text).as_(alias)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter:
    12 months before 2024-02-29 is 2023-02-28)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Compiler:
    def __init__(
        self,
        definition: Definition,
        relations: dict[str, Relation],
        parameters: dict[str, Any],
        on: datetime.date,
        dialect: str,
    ):
        self.definition = definition
        self.relations = relations
        self.parameters = parameters
        self.on = on
        self.dialect = dialect
        self.joins: list[tuple[str, exp.Expression, bool]] = []  # (alias, subquery, on key columns)
        self.twins = False  # the aggregate being built joins on integer key columns
        self.subjects: list[str] | None = None
        self._last_query: exp.Select | None = None

    # --- values -------------------------------------------------------------------------

    def date_literal(self, day: datetime.date) -> exp.Expression:
        return exp.cast(exp.Literal.string(day.isoformat()), "date")

    def literal(self, value: Any) -> exp.Expression:
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, int):
            return exp.Literal.number(value)
        if isinstance(value, datetime.date):
            return self.date_literal(value)
        if value is None:
            return exp.null()
        return exp.Literal.string(str(value))

    def param(self, code: str) -> Any:
        try:
            return self.parameters[code]
        except KeyError:
            raise LookupError(f"parameter {code!r} has no value on {self.on.isoformat()}") from None

    def value(self, node: dict, *, row_alias: str = SUBJECT_ALIAS) -> exp.Expression:
        if "field" in node:
            return exp.column(node["field"].split(".")[1], row_alias)
        for name in AGGREGATES:
            if name in node:
                return self.aggregate(name, node)
        if "age" in node:
            born = exp.column(node["age"].split(".")[1], row_alias)
            as_number = exp.cast(exp.TimeToStr(this=born, format=exp.Literal.string("%Y%m%d")), "bigint")
            today = exp.Literal.number(int(self.on.strftime("%Y%m%d")))
            return exp.IntDiv(
                this=exp.paren(exp.Sub(this=today, expression=as_number)),
                expression=exp.Literal.number(10000),
            )
        if "param" in node:
            return self.literal(self.param(node["param"]))
        if "value" in node:
            return self.literal(node["value"])
        for name, node_class in (("add", exp.Add), ("sub", exp.Sub), ("mul", exp.Mul)):
            if name in node:
                operands = [exp.paren(self.value(operand, row_alias=row_alias)) for operand in node[name]]
                result = operands[0]
                for operand in operands[1:]:
                    result = node_class(this=result, expression=operand)
                return exp.paren(result)
        if "band" in node:
            subject = self.value(node["band"], row_alias=row_alias)
            case = exp.Case()
            for low, high, amount in node["bands"]:
                tests = []
                if low is not None:
                    tests.append(exp.GTE(this=subject.copy(), expression=exp.Literal.number(low)))
                if high is not None:
                    tests.append(exp.LTE(this=subject.copy(), expression=exp.Literal.number(high)))
                case = case.when(exp.and_(*tests) if tests else exp.true(), exp.Literal.number(amount))
            return case.else_(exp.Literal.number(0))
        if "months_before" in node:
            return self.date_literal(months_before(self.on, int(node["months_before"])))
        if "days_before" in node:
            return self.date_literal(self.on - datetime.timedelta(days=int(node["days_before"])))
        if "working_days_before" in node:
            from yiwang.core.calendar import add_working_days  # the law counts working days

            return self.date_literal(add_working_days(self.on, -int(node["working_days_before"])))
        if "date" in node:
            return self.date_literal(datetime.date.fromisoformat(str(node["date"])))
        raise ValueError(f"unknown value {node}")

    def aggregate(self, name: str, node: dict) -> exp.Expression:
        target = node[name]
        source_name = target.split(".")[0] if "." in target else target
        alias = f"a{len(self.joins) + 1}"
        source = self.definition.sources[source_name]
        if name == "count" and "." not in target:
            measure: exp.Expression = exp.Count(this=exp.Star())
        else:
            column = exp.column(target.split(".")[1], "x0")
            measure = {"sum": exp.Sum, "count": exp.Count, "min": exp.Min, "max": exp.Max}[name](this=column)
        filters = []
        for clause in node.get("where", []) or []:
            value = clause["value"] if isinstance(clause["value"], dict) else {"value": clause["value"]}
            filters.append(
                _COMPARE[OPERATORS[clause["op"]]](
                    this=exp.column(clause["field"].split(".")[1], "x0"), expression=self.value(value)
                )
            )
        # The rows of the source first, filtered; then the walk up to the subject. Over the
        # whole population, on integer key columns when every link on the way has them.
        hops = self._hops(source)
        self.twins = self.subjects is None and self._keyed(source)
        if hops and self.subjects is None:
            # Over the whole population, aggregate at the source first, by the field linking it
            # to the next source, then add the partial results up along the links (sum of sums,
            # sum of counts, min of mins, max of maxes): the long table is grouped by one of its
            # own columns, in one scan, before any join.
            link = self.link(source.via[2], "x0")
            partial = exp.select(link.as_("k"), measure.as_("v")).from_(
                self.relations[source.resource].expression("x0", self.dialect)
            )
            if filters:
                partial = partial.where(exp.and_(*filters))
            partial = partial.group_by(link.copy())
            query = exp.select().from_(
                exp.Subquery(this=partial, alias=exp.TableAlias(this=exp.to_identifier("x0")))
            )
            start_field, from_partial = "k", True
            combine = {"sum": exp.Sum, "count": exp.Sum, "min": exp.Min, "max": exp.Max}[name]
            measure = combine(this=exp.column("v", "x0"))
            filters = []
        else:
            query = exp.select().from_(self.relations[source.resource].expression("x0", self.dialect))
            start_field, from_partial = (source.via[2] if source.via else ""), False
        subject_key = self._walk(query, source, start_field, partial=from_partial)
        query = self._last_query
        query = query.select(subject_key.as_("subject"), measure.as_("v"))
        if self.subjects is not None:
            # Only the subjects asked about: the filter goes into the aggregate, so that an
            # explain or an incremental screening reads only their rows (by index).
            filters.append(exp.In(this=subject_key.copy(), expressions=[exp.Literal.string(SUBJECTS_MARK)]))
        if filters:
            query = query.where(exp.and_(*filters))
        query = query.group_by(subject_key.copy())
        self.joins.append((alias, query, self.twins))
        result: exp.Expression = exp.column("v", alias)
        if name in ("sum", "count"):
            result = exp.Coalesce(this=result, expressions=[exp.Literal.number(0)])
        return result

    def _hops(self, source) -> int:
        """How many other sources lie between a source and the subject's own."""
        hops, current = 0, source
        while not current.subject:
            other_name = current.via[0]
            if other_name == self.definition.subject:
                return hops
            hops += 1
            current = self.definition.sources[other_name]
        return hops

    def link(self, field: str, alias: str) -> exp.Column:
        """A link column: its integer key column when the aggregate being built uses them."""
        return exp.column(f"{KEY_PREFIX}{field}" if self.twins else field, alias)

    def _links(self, source) -> list[tuple[tuple[str, str], tuple[str, str]]]:
        """The (resource, field) pairs joined on the way from `source` to the subject, the
        subject's own key last (the same walk as _walk)."""
        definition = self.definition
        subject = definition.sources[definition.subject]
        end = (subject.resource, subject.key)
        pairs, current = [], source
        while True:
            if current.subject:
                return [*pairs, ((current.resource, current.subject), end)]
            other_name, other_field, own_field = current.via
            if other_name == definition.subject:
                return [*pairs, ((current.resource, own_field), end)]
            other = definition.sources[other_name]
            pairs.append(((current.resource, own_field), (other.resource, other_field)))
            current = other

    def _keyed(self, source) -> bool:
        """Whether every link from `source` to the subject joins two key columns of one space."""
        for (left_resource, left_field), (right_resource, right_field) in self._links(source):
            left = self.relations[left_resource].key_space(left_field)
            if left is None or left != self.relations[right_resource].key_space(right_field):
                return False
        return True

    def _walk(self, query: exp.Select, source, start_field: str, *, partial: bool = False) -> exp.Expression:
        """Join each source on the way from `source` (as x0) to the subject; returns the
        expression of the subject's key. `start_field` is x0's column holding the link (the
        partial aggregate's own column `k` when `partial`)."""
        current_alias, current = "x0", source
        own_field = start_field
        hop = 0
        while True:
            if current.subject:
                self._last_query = query
                return self.link(current.subject, current_alias)
            other_name, other_field, _own = current.via
            if current_alias != "x0":
                own_field = _own
            other = self.definition.sources[other_name]
            hop += 1
            other_alias = f"x{hop}"
            if partial and current_alias == "x0":
                own = exp.column(own_field, current_alias)
            else:
                own = self.link(own_field, current_alias)
            if other_name == self.definition.subject:
                self._last_query = query
                return own
            query = query.join(
                self.relations[other.resource].expression(other_alias, self.dialect),
                on=exp.EQ(this=self.link(other_field, other_alias), expression=own),
            )
            current_alias, current = other_alias, other

    # --- the statement ------------------------------------------------------------------

    def condition(self, condition: Condition) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
        found = self.value(condition.value)
        against = self.value(condition.than)
        passed = _COMPARE[OPERATORS[condition.op]](this=found.copy(), expression=against.copy())
        # NULL (no record) fails the condition rather than leaving the verdict unknown.
        passed = exp.Coalesce(this=exp.paren(passed), expressions=[exp.false()])
        return found, against, passed

    def eligible(self, node: Any) -> exp.Expression:
        if node == "all":
            return exp.and_(*(exp.column(f"p_{c.id}") for c in self.definition.conditions))
        if isinstance(node, str):
            return exp.column(f"p_{node}")
        ((operator, operands),) = node.items()
        if operator == "not":
            return exp.not_(exp.paren(self.eligible(operands)))
        parts = [exp.paren(self.eligible(operand)) for operand in operands]
        return exp.and_(*parts) if operator == "all" else exp.or_(*parts)

    def statement(self, subjects: list[str] | None, eligible_only: bool) -> exp.Expression:
        definition = self.definition
        subject_source = definition.sources[definition.subject]
        inner = exp.select(exp.column(subject_source.key, SUBJECT_ALIAS).as_("subject")).from_(
            self.relations[subject_source.resource].expression(SUBJECT_ALIAS, self.dialect)
        )
        for condition in definition.conditions:
            found, against, passed = self.condition(condition)
            inner = inner.select(
                found.as_(f"v_{condition.id}"),
                against.as_(f"t_{condition.id}"),
                passed.as_(f"p_{condition.id}"),
            )
        amount = self.value(definition.amount) if definition.amount else exp.Literal.number(0)
        inner = inner.select(amount.as_("amount_if_eligible"))
        for alias, query, twins in self.joins:
            key = f"{KEY_PREFIX}{subject_source.key}" if twins else subject_source.key
            inner = inner.join(
                exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias))),
                on=exp.EQ(this=exp.column("subject", alias), expression=exp.column(key, SUBJECT_ALIAS)),
                join_type="left",
            )
        if subjects is not None:
            inner = inner.where(
                exp.In(
                    this=exp.column(subject_source.key, SUBJECT_ALIAS),
                    expressions=[exp.Literal.string(SUBJECTS_MARK)],
                )
            )
        verdict = self.eligible(definition.eligible)
        outer = exp.select(
            exp.Star(),
            verdict.as_("eligible"),
            exp.Case()
            .when(verdict.copy(), exp.column("amount_if_eligible"))
            .else_(exp.Literal.number(0))
            .as_("amount"),
        ).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        if eligible_only:
            outer = outer.where(verdict.copy())
        return outer.order_by(exp.column("subject"))


def rule_sql(
    definition: Definition,
    *,
    relations: dict[str, Relation],
    parameters: dict[str, Any],
    on: datetime.date,
    dialect: str,
    subjects: list[str] | None = None,
    eligible_only: bool = False,
) -> str:
    """The rule as one SELECT in `dialect`: every subject (or only `subjects`; or only the
    eligible ones) with each condition's value, comparison and verdict."""
    missing = {source.resource for source in definition.sources.values()} - set(relations)
    if missing:
        raise LookupError(f"no relation for resources {sorted(missing)}")
    compiler = _Compiler(definition, relations, parameters, on, dialect)
    compiler.subjects = None if subjects is None else [str(k) for k in subjects]
    sql = compiler.statement(subjects, eligible_only).sql(dialect=dialect)
    if compiler.subjects is None:
        return sql
    mark = exp.Literal.string(SUBJECTS_MARK).sql(dialect=dialect)
    listed = ", ".join(
        exp.Literal.string(key).sql(dialect=dialect) if "'" in key or "\\" in key else f"'{key}'"
        for key in compiler.subjects
    )
    return sql.replace(mark, listed or "NULL")


def condition_columns(definition: Definition) -> list[str]:
    columns = ["subject"]
    for condition in definition.conditions:
        columns += [f"v_{condition.id}", f"t_{condition.id}", f"p_{condition.id}"]
    return [*columns, "amount_if_eligible", "eligible", "amount"]
