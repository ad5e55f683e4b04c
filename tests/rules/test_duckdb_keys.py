"""The DuckDB mirror file's integer key columns: persons' ID numbers and household numbers are
numbered by one dictionary per key space, so that a household rule over the whole population
joins and groups on integers — with the very answer of the platform database, to the fen,
after catch-ups, registry changes, corrections, and in a file made before the key columns."""

from __future__ import annotations

import datetime
import json

import duckdb
import pytest

from tests.factories import DepartmentFactory, HouseholdFactory, HouseholdMemberFactory
from tests.rules.medical import medical_household_rule
from yiwang.exchange import services as exchange
from yiwang.rules.compiler import rule_sql
from yiwang.rules.definition import definition_parse
from yiwang.rules.mirror import duckdb_refresh, duckdb_relations, mirror_build
from yiwang.rules.screening import screen, screen_affected

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 23)
SYSTEM = "system:test"
PARAMETERS = {"relapse.medical.threshold_fen": 1_500_000}
RULE = medical_household_rule()


def _push(resource, rows: list[dict]):
    return exchange.records_ingest(
        actor=SYSTEM, resource=resource, content="\n".join(json.dumps(row) for row in rows).encode()
    )


def _claim(number: str, id_number: str, yuan: str, day: str = "2026-06-01") -> dict:
    return {"claim_no": number, "id_number": id_number, "settled_on": day, "self_pay": yuan}


@pytest.fixture
def city(db):
    ga = DepartmentFactory(code="GA")
    for code, backing, key in (
        ("ga.households", "household", "number"),
        ("ga.household_members", "household_member", "id_number"),
    ):
        exchange.resource_publish(
            actor=SYSTEM,
            department=ga,
            code=code,
            title=code,
            subject_type="household" if backing == "household" else "person",
            key_field=key,
            subject_field=key,
            fields=[],
            backing=backing,
        )
    claims = exchange.resource_publish(
        actor=SYSTEM,
        department=DepartmentFactory(code="YB"),
        code="yb.self_pay_claims",
        title="医保结算自付费用",
        subject_type="person",
        key_field="claim_no",
        subject_field="id_number",
        fields=[
            {"name": "claim_no", "label": "结算单号", "type": "string", "sharing_class": "open"},
            {"name": "id_number", "label": "身份证号", "type": "string", "sharing_class": "open"},
            {"name": "settled_on", "label": "结算日期", "type": "date", "sharing_class": "open"},
            {"name": "self_pay", "label": "个人自付金额", "type": "decimal", "sharing_class": "open"},
        ],
    )
    # at: exactly 15,000.00 yuan over two members; below: 14,999.99 yuan; old: outside the window
    households = {label: HouseholdFactory() for label in ("at", "below", "old")}
    spouse = HouseholdMemberFactory(household=households["at"]).person
    _push(
        claims,
        [
            _claim("C1", households["at"].head.id_number, "4999.99"),
            _claim("C2", spouse.id_number, "10000.01"),
            _claim("C3", households["below"].head.id_number, "14999.99"),
            _claim("C4", households["old"].head.id_number, "30000.00", day="2025-11-22"),
            _claim("C5", "360302199001010000", "50000.00"),  # not in the registry
        ],
    )
    mirror_build(claims)
    return claims, households


def _rows(**options) -> dict[str, tuple[int, bool]]:
    rows = screen(definition=RULE, on=ON, parameters=PARAMETERS, eligible_only=False, **options)
    return {row["subject"]: (int(row["v_self_pay"]), bool(row["eligible"])) for row in rows}


def _sql(path) -> str:
    parsed = definition_parse(RULE)
    with duckdb.connect(str(path), read_only=True) as duck:
        relations = duckdb_relations({source.resource for source in parsed.sources.values()}, duck)
        return rule_sql(parsed, relations=relations, parameters=PARAMETERS, on=ON, dialect="duckdb")


def _dictionary(path, space: str) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as duck:
        return dict(duck.execute(f"SELECT value, id FROM keys_{space}").fetchall())


def test_the_whole_population_is_joined_on_integer_keys_with_the_platform_answer(city, tmp_path):
    _claims, households = city
    path = tmp_path / "mirror.duckdb"
    duckdb_refresh(["ga.households", "ga.household_members", "yb.self_pay_claims"], path=path)
    with duckdb.connect(str(path), read_only=True) as duck:
        relations = duckdb_relations(["ga.households", "ga.household_members", "yb.self_pay_claims"], duck)
    assert relations["yb.self_pay_claims"].keys == (("id_number", "person"),)
    assert relations["ga.household_members"].keys == (
        ("household_number", "household"),
        ("id_number", "person"),
    )
    sql = _sql(path)
    assert "GROUP BY x0._key_id_number" in sql
    assert "x1._key_id_number = x0.k" in sql and "a1.subject = s._key_number" in sql
    # the dictionary numbers every ID number once, the one outside the registry too
    people = _dictionary(path, "person")
    assert len(people) == len(set(people.values())) == 5
    assert "360302199001010000" in people
    on_duckdb = _rows(target="duckdb", duckdb_path=path)
    assert on_duckdb == _rows()
    assert on_duckdb[households["at"].number] == (1_500_000, True)  # inclusive, exactly at it
    assert on_duckdb[households["below"].number] == (1_499_999, False)  # one fen below
    assert on_duckdb[households["old"].number] == (0, False)  # one day outside the window
    # explain and incremental (given subjects) join on the text, with the same rows
    subjects = sorted(h.number for h in households.values())
    assert screen(
        definition=RULE,
        on=ON,
        parameters=PARAMETERS,
        subjects=subjects,
        eligible_only=False,
        target="duckdb",
        duckdb_path=path,
    ) == screen(definition=RULE, on=ON, parameters=PARAMETERS, subjects=subjects, eligible_only=False)


def test_the_numbers_stay_valid_through_catch_ups_corrections_and_registry_refreshes(
    city, tmp_path, django_capture_on_commit_callbacks
):
    claims, households = city
    path = tmp_path / "mirror.duckdb"
    duckdb_refresh(["ga.households", "ga.household_members", "yb.self_pay_claims"], path=path)
    before = _dictionary(path, "person")
    # A newcomer's claim arrives before the registry snapshot knows them; C3 is corrected up to
    # the threshold; C1 is moved from the head of "at" to the head of "old".
    newcomer = HouseholdFactory()
    with django_capture_on_commit_callbacks(execute=True):
        report = _push(
            claims,
            [
                _claim("C6", newcomer.head.id_number, "15000.00"),
                _claim("C3", households["below"].head.id_number, "15000.00"),
                _claim("C1", households["old"].head.id_number, "4999.99"),
            ],
        )
    affected = screen_affected(
        definition=RULE,
        on=ON,
        parameters=PARAMETERS,
        resource_code=claims.code,
        keys=["C6", "C3", "C1"],
        batch_id=report.batch_id,
        target="duckdb",
        duckdb_path=path,
    )
    assert sorted(affected.subjects) == sorted(h.number for h in households.values())  # not yet the newcomer
    after = _dictionary(path, "person")
    assert {value: after[value] for value in before} == before  # the numbers given stay
    assert after[newcomer.head.id_number] == max(before.values()) + 1
    rows = _rows(target="duckdb", duckdb_path=path)
    assert newcomer.number not in rows  # the registry snapshot is older than the claim
    assert rows[households["below"].number] == (1_500_000, True)
    assert rows[households["at"].number] == (1_000_001, False)
    assert rows[households["old"].number] == (499_999, False)
    # The registry snapshot taken again: the newcomer's household, by the number its claim got.
    duckdb_refresh(["ga.households", "ga.household_members"], path=path)
    assert _dictionary(path, "person") == after
    rows = _rows(target="duckdb", duckdb_path=path)
    assert rows[newcomer.number] == (1_500_000, True)
    assert rows == _rows()


def test_a_file_without_key_columns_answers_on_text_and_is_made_again(city, tmp_path):
    path = tmp_path / "mirror.duckdb"
    duckdb_refresh(["ga.households", "ga.household_members", "yb.self_pay_claims"], path=path)
    with duckdb.connect(str(path)) as duck:  # as a file of the previous format was
        duck.execute("ALTER TABLE yb_self_pay_claims DROP COLUMN _key_id_number")
        duck.execute("UPDATE mirror_state SET signature = split_part(signature, ';', 1)")
    assert "_key_" not in _sql(path)
    assert _rows(target="duckdb", duckdb_path=path) == _rows()
    report = duckdb_refresh(
        ["ga.households", "ga.household_members", "yb.self_pay_claims"], path=path, registry=False
    )
    assert report["yb.self_pay_claims"]["mode"] == "full"
    assert report["ga.households"]["mode"] == "snapshot"  # not of this format: made again too
    assert "GROUP BY x0._key_id_number" in _sql(path)
    assert _rows(target="duckdb", duckdb_path=path) == _rows()
