"""The relapse screening rules' YAML test cases (tests/relapse/cases/*.yaml): each names a rule
file shipped in yiwang/relapse/rules/, a date, the rows of each resource and the expected verdict
and values per household. Each case runs on SQLite and DuckDB with the rules engine's own
runner (tests/rules/test_cases.py), over everyone (batch) and per household (explain), with
the parameters' values on that date from the rule file. The working-day window needs the core
calendar, hence the database."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.rules.test_cases import load, run
from yiwang.rules.compiler import rule_sql
from yiwang.rules.definition import definition_parse

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))
RULES = Path(__file__).resolve().parents[2] / "yiwang" / "relapse" / "rules"

pytestmark = pytest.mark.django_db


def _parameters(rule_file: dict, on: datetime.date) -> dict[str, int]:
    values = {}
    for parameter in rule_file.get("parameters", []):
        for entry in parameter["values"]:
            start, end = entry["valid_from"], entry.get("valid_to")
            if start <= on and (end is None or on <= end):
                values[parameter["code"]] = entry["value"]
    return values


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_relapse_rule_case(path: Path, dialect: str):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule_file = yaml.safe_load((RULES / case["rule_file"]).read_text(encoding="utf-8"))
    definition = definition_parse(rule_file["rule"])
    on = case["as_of"]
    connection = sqlite3.connect(":memory:") if dialect == "sqlite" else duckdb.connect()
    relations = load(connection, dialect, case["data"])
    common = {"relations": relations, "parameters": _parameters(rule_file, on), "on": on, "dialect": dialect}
    everyone = run(connection, rule_sql(definition, **common))
    assert set(everyone) == set(case["expect"])
    for subject, expected in case["expect"].items():
        row = everyone[subject]
        assert bool(row["eligible"]) is expected["eligible"], (subject, row)
        for condition in definition.conditions:
            if condition.id in expected:
                assert row[f"v_{condition.id}"] == expected[condition.id], (subject, condition.id, row)
        assert run(connection, rule_sql(definition, **common, subjects=[subject])) == {subject: row}
    eligible = run(connection, rule_sql(definition, **common, eligible_only=True))
    assert set(eligible) == {subject for subject, expected in case["expect"].items() if expected["eligible"]}
