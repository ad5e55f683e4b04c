"""The typed mirror of a feed: the same rows as the JSON of the stored records (exact fen at
the boundary), following every ingest and correction, used only when in sync, rebuilt by the
command, copied into the DuckDB file."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import DepartmentFactory, PersonFactory
from tests.rules.medical import medical_person_rule
from yiwang.exchange import services as exchange
from yiwang.exchange.models import RecordHistory
from yiwang.rules.mirror import (
    duckdb_refresh,
    mirror_build,
    mirror_in_sync,
    mirror_states,
    mirror_table,
)
from yiwang.rules.relations import platform_relations
from yiwang.rules.screening import screen

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 23)
SYSTEM = "system:test"

RULE = medical_person_rule()
PARAMETERS = {"relapse.medical.threshold_fen": 1_500_000}


def _push(resource, rows: list[dict]):
    return exchange.records_ingest(
        actor=SYSTEM, resource=resource, content="\n".join(json.dumps(row) for row in rows).encode()
    )


@pytest.fixture
def feed(db):
    department = DepartmentFactory(code="YB", name="萍乡市医疗保障局", short_name="医保局")
    exchange.resource_publish(
        actor=SYSTEM,
        department=DepartmentFactory(code="GA"),
        code="ga.persons",
        title="人口基础信息",
        subject_type="person",
        key_field="id_number",
        subject_field="id_number",
        fields=[],
        backing="person",
    )
    resource = exchange.resource_publish(
        actor=SYSTEM,
        department=department,
        code="yb.self_pay_claims",
        title="医保结算自付费用",
        subject_type="person",
        key_field="claim_no",
        subject_field="id_number",
        fields=[
            {"name": "claim_no", "label": "结算单号", "type": "string", "sharing_class": "open"},
            {"name": "id_number", "label": "身份证号", "type": "string", "sharing_class": "conditional"},
            {"name": "settled_on", "label": "结算日期", "type": "date", "sharing_class": "open"},
            {"name": "self_pay", "label": "个人自付金额", "type": "decimal", "sharing_class": "conditional"},
            {"name": "catastrophic", "label": "是否大病", "type": "boolean", "sharing_class": "open"},
            {"name": "visits", "label": "就诊次数", "type": "integer", "sharing_class": "open"},
        ],
    )
    people = {label: PersonFactory() for label in ("boundary", "below", "old")}
    rows = [
        # exactly 15,000.00 yuan in three claims whose float sum is not 15000.0
        {
            "claim_no": "C1",
            "id_number": people["boundary"].id_number,
            "settled_on": "2026-01-10",
            "self_pay": "4999.99",
        },
        {
            "claim_no": "C2",
            "id_number": people["boundary"].id_number,
            "settled_on": "2026-05-10",
            "self_pay": "5000.01",
        },
        {
            "claim_no": "C3",
            "id_number": people["boundary"].id_number,
            "settled_on": "2025-11-23",
            "self_pay": "5000.00",
            "catastrophic": True,
            "visits": 3,
        },
        # one fen below
        {
            "claim_no": "C4",
            "id_number": people["below"].id_number,
            "settled_on": "2026-09-01",
            "self_pay": "14999.99",
        },
        # one day outside the window
        {
            "claim_no": "C5",
            "id_number": people["old"].id_number,
            "settled_on": "2025-11-22",
            "self_pay": "30000.00",
        },
    ]
    _push(resource, rows)
    return resource, {label: person.id_number for label, person in people.items()}


def _rows(relation_sql: str) -> list[tuple]:
    source = f"({relation_sql})" if relation_sql.lower().startswith("select") else relation_sql
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT claim_no, id_number, settled_on, self_pay, self_pay_fen, catastrophic, visits "
            f"FROM {source} t ORDER BY claim_no"
        )
        return [
            tuple(str(value) if isinstance(value, datetime.date) else value for value in row)
            for row in cursor
        ]


def _at_risk(**options) -> dict[str, int]:
    rows = screen(definition=RULE, on=ON, parameters=PARAMETERS, eligible_only=False, **options)
    return {row["subject"]: (row["v_self_pay"], bool(row["eligible"])) for row in rows}


def test_the_mirror_holds_what_the_json_says_to_the_fen(feed):
    resource, people = feed
    json_relation = platform_relations([resource.code])[resource.code].sql
    assert json_relation.lower().startswith("select")  # no mirror yet: the JSON
    before = _at_risk()
    assert mirror_build(resource) == 5
    assert mirror_in_sync(resource)
    mirror_relation = platform_relations([resource.code])[resource.code].sql
    assert mirror_relation == mirror_table(resource.code)
    assert _rows(mirror_relation) == _rows(json_relation)
    fen = {row[0]: row[4] for row in _rows(mirror_relation)}
    assert fen == {"C1": 499999, "C2": 500001, "C3": 500000, "C4": 1499999, "C5": 3000000}
    after = _at_risk()
    assert after == before
    assert after[people["boundary"]] == (1_500_000, True)  # inclusive, exactly at the threshold
    assert after[people["below"]] == (1_499_999, False)  # one fen below
    assert after[people["old"]] == (0, False)  # outside the window


def test_the_mirror_follows_an_ingest_and_a_correction(feed, django_capture_on_commit_callbacks):
    resource, people = feed
    mirror_build(resource)
    with django_capture_on_commit_callbacks(execute=True):
        report = _push(
            resource,
            [
                # a correction: C4 was one fen short
                {
                    "claim_no": "C4",
                    "id_number": people["below"],
                    "settled_on": "2026-09-01",
                    "self_pay": "15000.00",
                },
                {
                    "claim_no": "C6",
                    "id_number": people["old"],
                    "settled_on": "2026-11-23",
                    "self_pay": "0.01",
                },
            ],
        )
    assert (report.created, report.updated) == (1, 1)
    assert RecordHistory.objects.filter(batch_id=report.batch_id).count() == 1
    assert mirror_in_sync(resource)
    assert mirror_states()[resource.code].batch_id == report.batch_id
    assert mirror_states()[resource.code].rows == 6
    fen = {row[0]: row[4] for row in _rows(mirror_table(resource.code))}
    assert fen["C4"] == 1_500_000 and fen["C6"] == 1
    json_relation = platform_relations([resource.code], mirror=False)[resource.code].sql
    assert _rows(mirror_table(resource.code)) == _rows(json_relation)
    assert _at_risk()[people["below"]] == (1_500_000, True)


def test_a_mirror_behind_is_not_read_and_the_command_rebuilds_it(feed, capsys):
    resource, people = feed
    mirror_build(resource)
    # An ingest whose listener did not run (here: its on-commit callbacks are never executed):
    # the mirror is behind, so the rules read the JSON, and the answer is still right.
    _push(
        resource,
        [{"claim_no": "C7", "id_number": people["below"], "settled_on": "2026-10-01", "self_pay": "0.01"}],
    )
    assert not mirror_in_sync(resource)
    assert platform_relations([resource.code])[resource.code].sql.lower().startswith("select")
    assert _at_risk()[people["below"]] == (1_500_000, True)
    call_command("rules_mirror", "--resource", resource.code, "--status")
    assert "behind" in capsys.readouterr().out
    call_command("rules_mirror", "--resource", resource.code)
    assert mirror_in_sync(resource)
    assert platform_relations([resource.code])[resource.code].sql == mirror_table(resource.code)
    assert _at_risk()[people["below"]] == (1_500_000, True)


def test_the_duckdb_file_answers_as_the_platform_and_catches_up(
    feed, tmp_path, django_capture_on_commit_callbacks
):
    resource, people = feed
    path = tmp_path / "mirror.duckdb"
    report = duckdb_refresh(["ga.persons", resource.code], path=path)
    assert report[resource.code]["mode"] == "full" and report[resource.code]["rows"] == 5
    assert report["ga.persons"]["mode"] == "snapshot"
    assert _at_risk(target="duckdb", duckdb_path=path) == _at_risk()
    with django_capture_on_commit_callbacks(execute=True):
        _push(
            resource,
            [
                {
                    "claim_no": "C8",
                    "id_number": people["below"],
                    "settled_on": "2026-10-01",
                    "self_pay": "0.01",
                }
            ],
        )
    # screen() catches the file up with the new batch's rows before reading it
    assert _at_risk(target="duckdb", duckdb_path=path)[people["below"]] == (1_500_000, True)
    assert _at_risk(target="duckdb", duckdb_path=path) == _at_risk()
    again = duckdb_refresh([resource.code], path=path, registry=False)
    assert again[resource.code]["mode"] == "current"
