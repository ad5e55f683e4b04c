"""Rule test cases as YAML files (tests/rules/cases/*.yaml): a rule, parameters, a date, the
rows of each resource, and the expected verdict, values and amount per subject. Each case runs
on SQLite and on DuckDB, over the whole population (batch) and for each subject (explain);
both faces must agree with the expectation and with each other."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import duckdb
import pytest
import yaml

from yiwang.rules.compiler import Relation, rule_sql
from yiwang.rules.definition import definition_parse

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def _table(resource: str) -> str:
    return resource.replace(".", "_")


def _sql_type(values: list, dialect: str) -> str:
    sample = next((value for value in values if value is not None), "")
    if isinstance(sample, bool):
        return "BOOLEAN"
    if isinstance(sample, int):
        return "BIGINT"
    if isinstance(sample, datetime.date):
        return "TEXT" if dialect == "sqlite" else "DATE"
    return "TEXT" if dialect == "sqlite" else "VARCHAR"


def load(connection, dialect: str, data: dict) -> dict[str, Relation]:
    relations = {}
    for resource, rows in data.items():
        columns = list(dict.fromkeys(name for row in rows for name in row))
        types = {name: _sql_type([row.get(name) for row in rows], dialect) for name in columns}
        table = _table(resource)
        connection.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {types[c]}' for c in columns)})")
        for row in rows:
            values = [
                row.get(c).isoformat()
                if isinstance(row.get(c), datetime.date) and dialect == "sqlite"
                else row.get(c)
                for c in columns
            ]
            connection.execute(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in columns)})", values)
        relations[resource] = Relation(table)
    return relations


def run(connection, sql: str) -> dict[str, dict]:
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description]
    return {str(row[0]): dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_rule_case(path: Path, dialect: str):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    definition = definition_parse(case["rule"])
    connection = sqlite3.connect(":memory:") if dialect == "sqlite" else duckdb.connect()
    relations = load(connection, dialect, case["data"])
    on = case["as_of"]
    common = {"relations": relations, "parameters": case.get("parameters", {}), "on": on, "dialect": dialect}
    everyone = run(connection, rule_sql(definition, **common))
    eligible = run(connection, rule_sql(definition, **common, eligible_only=True))
    assert set(everyone) == set(case["expect"])
    for subject, expected in case["expect"].items():
        row = everyone[subject]
        assert bool(row["eligible"]) is expected["eligible"], (subject, row)
        assert row["amount"] == expected.get("amount", row["amount"]), (subject, row)
        for condition in definition.conditions:
            if condition.id in expected:
                assert row[f"v_{condition.id}"] == expected[condition.id], (subject, condition.id, row)
        # The explain face: the same statement for one subject gives the same row.
        alone = run(connection, rule_sql(definition, **common, subjects=[subject]))
        assert alone == {subject: row}
    assert set(eligible) == {subject for subject, expected in case["expect"].items() if expected["eligible"]}
