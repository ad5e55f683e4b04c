"""The benefit policies' own YAML cases (tests/benefits/cases/*.yaml): each names a policy file
shipped in yiwang/benefits/rules/, a date, the rows of each resource and the verdict, values
and amount (fen, after the policy's divisor) expected per subject. Parameters are the policy
file's dated values on that date. Each case runs with the rules' case runner (tests/rules) on
SQLite and DuckDB, over everyone (batch), the eligible only, and per subject (explain)."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.rules.test_cases import load, run
from yiwang.benefits.services import RULES_DIR
from yiwang.rules.compiler import rule_sql
from yiwang.rules.definition import definition_parse

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def parameters_on(policy: dict, on: datetime.date) -> dict[str, int]:
    """Each parameter's dated value on `on`, as parameters_at does in the database."""
    values = {}
    for parameter in policy.get("parameters") or []:
        for entry in parameter["values"]:
            start, end = entry["valid_from"], entry.get("valid_to")
            if start <= on and (end is None or on <= end):
                values[parameter["code"]] = entry["value"]
    return values


def expand(rows: list[dict]) -> list[dict]:
    """A row with `each_month: [YYYY-MM, YYYY-MM]` becomes one row per month (month = its first
    day, record_no numbered), with `overrides` {YYYY-MM: {field: value}} applied."""
    result = []
    for row in rows:
        if "each_month" not in row:
            result.append(row)
            continue
        first, last = (str(month) for month in row["each_month"])
        overrides = row.get("overrides") or {}
        base = {key: value for key, value in row.items() if key not in ("each_month", "overrides")}
        year, month = (int(part) for part in first.split("-"))
        while f"{year:04d}-{month:02d}" <= last:
            label = f"{year:04d}-{month:02d}"
            result.append(
                {
                    "record_no": f"{base.get('uscc', '')}-{label}",
                    **base,
                    "month": datetime.date(year, month, 1),
                    **overrides.get(label, {}),
                }
            )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def test_every_policy_has_cases():
    assert {path.name for path in CASES} == {path.name for path in RULES_DIR.glob("*.yaml")}


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_policy_case(path: Path, dialect: str):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = yaml.safe_load((RULES_DIR / case["policy"]).read_text(encoding="utf-8"))
    divisor = int(policy["benefit"].get("amount_divisor") or 1)
    definition = definition_parse(policy["rule"])
    on = case["as_of"]
    connection = sqlite3.connect(":memory:") if dialect == "sqlite" else duckdb.connect()
    relations = load(connection, dialect, {resource: expand(rows) for resource, rows in case["data"].items()})
    common = {"relations": relations, "parameters": parameters_on(policy, on), "on": on, "dialect": dialect}
    everyone = run(connection, rule_sql(definition, **common))
    eligible = run(connection, rule_sql(definition, **common, eligible_only=True))
    assert set(everyone) == set(case["expect"])
    for subject, expected in case["expect"].items():
        row = everyone[subject]
        assert bool(row["eligible"]) is expected["eligible"], (subject, row)
        assert int(row["amount"]) // divisor == expected["amount"], (subject, row)
        for condition in definition.conditions:
            if condition.id in expected:
                assert row[f"v_{condition.id}"] == expected[condition.id], (subject, condition.id, row)
        alone = run(connection, rule_sql(definition, **common, subjects=[subject]))
        assert alone == {subject: row}
    assert set(eligible) == {subject for subject, expected in case["expect"].items() if expected["eligible"]}
