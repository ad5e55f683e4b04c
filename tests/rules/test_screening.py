"""Incremental screening: after new and corrected records, re-evaluating only the subjects they
touch gives the same at-risk set as screening everyone again (seeded random feeds), on the
platform database and on the DuckDB mirror."""

from __future__ import annotations

import datetime
import json
import random

import pytest

from tests.factories import DepartmentFactory
from tests.rules.medical import medical_household_rule
from yiwang.exchange import services as exchange
from yiwang.rules.mirror import duckdb_refresh, mirror_build
from yiwang.rules.screening import affected_subjects, screen, screen_affected

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 23)
SYSTEM = "system:test"
PARAMETERS = {"relapse.medical.threshold_fen": 1_500_000}

RULE = medical_household_rule(
    households=("t.households", "household_no"),
    members=("t.members", "household_no"),
    claims="t.claims",
    paid_on="paid_on",
)


def _field(name: str, kind: str = "string") -> dict:
    return {"name": name, "label": name, "type": kind, "sharing_class": "open"}


def _push(resource, rows: list[dict]):
    return exchange.records_ingest(
        actor=SYSTEM, resource=resource, content="\n".join(json.dumps(row) for row in rows).encode()
    )


def _claim(rng: random.Random, number: int, id_number: str) -> dict:
    day = ON - datetime.timedelta(days=rng.randrange(0, 400))  # some outside the window
    fen = rng.choice([rng.randrange(0, 600_000), 1_500_000, 1_499_999, 1])
    return {
        "claim_no": f"C{number:05d}",
        "id_number": id_number,
        "paid_on": day.isoformat(),
        "self_pay": f"{fen // 100}.{fen % 100:02d}",
    }


def _at_risk(**options) -> set[str]:
    return {row["subject"] for row in screen(definition=RULE, on=ON, parameters=PARAMETERS, **options)}


def _resources(*, claims_subject: str = "") -> dict:
    """The three test resources (households, members, claims) of a new 医保 department."""
    department = DepartmentFactory(code="YB")
    made = {}
    for code, key, fields in (
        ("t.households", "household_no", [_field("household_no")]),
        ("t.members", "id_number", [_field("id_number"), _field("household_no")]),
        (
            "t.claims",
            "claim_no",
            [
                _field("claim_no"),
                _field("id_number"),
                _field("paid_on", "date"),
                _field("self_pay", "decimal"),
            ],
        ),
    ):
        made[code] = exchange.resource_publish(
            actor=SYSTEM,
            department=department,
            code=code,
            title=code,
            subject_type="none",
            key_field=key,
            fields=fields,
            subject_field=claims_subject if code == "t.claims" else "",
        )
    return made


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_screening_equals_a_full_rerun(seed, tmp_path, django_capture_on_commit_callbacks):
    rng = random.Random(seed)
    resources = _resources(claims_subject="id_number")
    households = [f"H{i:03d}" for i in range(30)]
    people = [f"P{i:03d}" for i in range(80)]
    _push(resources["t.households"], [{"household_no": h} for h in households])
    _push(resources["t.members"], [{"id_number": p, "household_no": rng.choice(households)} for p in people])
    claims = [_claim(rng, i, rng.choice(people)) for i in range(200)]
    _push(resources["t.claims"], claims)
    mirror_build(resources["t.claims"])
    path = tmp_path / "mirror.duckdb"
    duckdb_refresh(list(resources), path=path)
    current = _at_risk()
    assert current == _at_risk(target="duckdb", duckdb_path=path)
    for round_ in range(3):
        # new claims, amount corrections, and claims moved to another person
        batch = [_claim(rng, 1000 * (round_ + 1) + i, rng.choice(people)) for i in range(15)]
        for old in rng.sample(claims, 10):
            batch.append({**old, "self_pay": _claim(rng, 0, "")["self_pay"]})
        for old in rng.sample(claims, 5):
            batch.append({**old, "id_number": rng.choice(people)})
        unique = list({row["claim_no"]: row for row in batch}.values())
        with django_capture_on_commit_callbacks(execute=True):
            report = _push(resources["t.claims"], unique)
        keys = [row["claim_no"] for row in unique]
        affected = screen_affected(
            definition=RULE,
            on=ON,
            parameters=PARAMETERS,
            resource_code="t.claims",
            keys=keys,
            batch_id=report.batch_id,
        )
        assert len(affected.subjects) < len(households) or round_ > 0 or len(keys) > 20
        current = (current - set(affected.subjects)) | set(affected.eligible)
        assert current == _at_risk(), (seed, round_)
        on_duckdb = screen_affected(
            definition=RULE,
            on=ON,
            parameters=PARAMETERS,
            resource_code="t.claims",
            keys=keys,
            batch_id=report.batch_id,
            target="duckdb",
            duckdb_path=path,
        )
        assert on_duckdb.subjects == affected.subjects
        assert sorted(on_duckdb.eligible) == sorted(affected.eligible)
        claims = [row for row in claims if row["claim_no"] not in {r["claim_no"] for r in unique}] + unique


def test_affected_subjects_follow_the_links_and_the_record_history(db):
    made = _resources()
    _push(made["t.households"], [{"household_no": "H1"}, {"household_no": "H2"}, {"household_no": "H3"}])
    _push(
        made["t.members"],
        [
            {"id_number": "P1", "household_no": "H1"},
            {"id_number": "P2", "household_no": "H2"},
            {"id_number": "P3", "household_no": "H3"},
        ],
    )
    _push(
        made["t.claims"],
        [{"claim_no": "C1", "id_number": "P1", "paid_on": "2026-10-01", "self_pay": "15000.00"}],
    )
    assert affected_subjects(definition=RULE, resource_code="t.claims", keys=["C1"]) == ["H1"]
    assert affected_subjects(definition=RULE, resource_code="t.members", keys=["P2"]) == ["H2"]
    assert affected_subjects(definition=RULE, resource_code="t.households", keys=["H3"]) == ["H3"]
    assert affected_subjects(definition=RULE, resource_code="t.other", keys=["X"]) == []
    # C1 was filed under the wrong person: corrected to P2, it touches H2 now and H1 before.
    report = _push(
        made["t.claims"],
        [{"claim_no": "C1", "id_number": "P2", "paid_on": "2026-10-01", "self_pay": "15000.00"}],
    )
    assert affected_subjects(definition=RULE, resource_code="t.claims", keys=["C1"]) == ["H2"]
    both = screen_affected(
        definition=RULE,
        on=ON,
        parameters=PARAMETERS,
        resource_code="t.claims",
        keys=["C1"],
        batch_id=report.batch_id,
    )
    assert both.subjects == ["H1", "H2"]
    assert both.eligible == ["H2"]
    assert {row["subject"]: row["v_self_pay"] for row in both.rows} == {"H1": 0, "H2": 1_500_000}


def test_the_link_values_of_a_batch_come_from_the_mirror_by_batch_or_by_key(
    db, django_capture_on_commit_callbacks
):
    """Asked as an ingest listener asks (the batch's keys and id), the claims' ID numbers are the
    mirror's rows of that batch; asked about other keys, or with the mirror behind, each key is
    looked up — the same subjects either way."""
    made = _resources()
    _push(made["t.households"], [{"household_no": f"H{i}"} for i in range(4)])
    _push(made["t.members"], [{"id_number": f"P{i}", "household_no": f"H{i}"} for i in range(4)])
    mirror_build(made["t.claims"])
    with django_capture_on_commit_callbacks(execute=True):
        first = _push(
            made["t.claims"],
            [
                {"claim_no": f"C{i}", "id_number": f"P{i}", "paid_on": "2026-10-01", "self_pay": "1.00"}
                for i in range(3)
            ],
        )
    with django_capture_on_commit_callbacks(execute=True):
        # C0 moved to P3; C1 unchanged (not written by this batch); C9 new
        second = _push(
            made["t.claims"],
            [
                {"claim_no": "C0", "id_number": "P3", "paid_on": "2026-10-01", "self_pay": "1.00"},
                {"claim_no": "C1", "id_number": "P1", "paid_on": "2026-10-01", "self_pay": "1.00"},
                {"claim_no": "C9", "id_number": "P2", "paid_on": "2026-10-01", "self_pay": "15000.00"},
            ],
        )
    assert (second.created, second.updated, second.unchanged) == (1, 1, 1)

    def touched(keys, batch_id):
        return affected_subjects(definition=RULE, resource_code="t.claims", keys=keys, batch_id=batch_id)

    # C0 has moved on since the first batch: read by key, as the records are now
    assert touched(["C0", "C1", "C2"], first.batch_id) == ["H1", "H2", "H3"]
    assert touched(["C0", "C9"], second.batch_id) == ["H0", "H2", "H3"]  # by batch; H0 from the history
    assert touched(["C9"], second.batch_id) == ["H0", "H2"]  # a part of the batch: by key
    assert touched(["C0", "C9"], None) == ["H2", "H3"]
    affected = screen_affected(
        definition=RULE,
        on=ON,
        parameters=PARAMETERS,
        resource_code="t.claims",
        keys=["C0", "C9"],
        batch_id=second.batch_id,
    )
    assert affected.eligible == ["H2"]
    assert (affected.subjects, affected.eligible) == (
        sorted(touched(["C0", "C9"], None) + ["H0"]),
        [row["subject"] for row in screen(definition=RULE, on=ON, parameters=PARAMETERS)],
    )
