"""records_ingest: idempotent, upsert with history, a report with row/column/reason, both modes,
CSV and Excel, nothing half-written."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.exchange.conftest import ROWS, lines
from yiwang.core.errors import Conflict, Forbidden
from yiwang.core.models import AuditEntry
from yiwang.exchange import services
from yiwang.exchange.models import IngestBatch, Record, RecordHistory

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(Record.objects.values_list("key", "digest", "data", "updated_at"))


def test_same_batch_twice_changes_nothing(hub):
    before = snapshot()
    batches = IngestBatch.objects.count()
    audits = AuditEntry.objects.count()
    report = services.records_ingest(actor=hub.owner_steward, resource=hub.resource, content=lines(*ROWS))
    assert report.duplicate and report.as_dict()["created"] == 0 and report.as_dict()["updated"] == 0
    assert snapshot() == before
    assert IngestBatch.objects.count() == batches and AuditEntry.objects.count() == audits
    # The same rows in another order (another batch): compared row by row, still nothing changes.
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=lines(*reversed(ROWS))
    )
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert snapshot() == before and not RecordHistory.objects.exists()


def test_upsert_keeps_history(hub):
    changed = dict(ROWS[0], self_pay="999.99")
    new = {"claim_no": "C9", "id_number": ROWS[0]["id_number"], "settled_on": "2026-06-01", "self_pay": "1"}
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=lines(changed, new)
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    history = RecordHistory.objects.get()
    assert history.record.key == "C1"
    assert history.before["self_pay"] == "1200.50" and history.after["self_pay"] == "999.99"
    hub.resource.refresh_from_db()
    assert hub.resource.record_count == 4 and hub.resource.last_updated_at == report_batch(report).at
    assert AuditEntry.objects.filter(action="exchange.records_ingest").count() == 2


def report_batch(report):
    return IngestBatch.objects.get(pk=report.batch_id)


BAD = [
    {"claim_no": "D1", "id_number": "X", "settled_on": "2026-13-01", "self_pay": "1"},
    {"claim_no": "D2", "id_number": "X", "settled_on": "2026-01-01", "self_pay": "abc"},
    {"claim_no": "D3", "id_number": "X", "settled_on": "2026-01-01", "self_pay": "2"},
]


def test_all_or_nothing_writes_nothing_and_reports_row_and_column(hub):
    before = snapshot()
    content = lines(*BAD) + b"\nnot json\n" + lines({"claim_no": "", "colour": "red"})
    report = services.records_ingest(actor=hub.owner_steward, resource=hub.resource, content=content)
    body = report.as_dict()
    assert not body["applied"] and "all-or-nothing" in body["outcome"]
    errors = {(error["row"], error["column"]) for error in body["errors"]}
    assert (1, "settled_on") in errors and (2, "self_pay") in errors
    assert (4, "") in errors and (5, "colour") in errors and (5, "claim_no") in errors
    assert snapshot() == before


def test_keep_good_rows_writes_the_good_ones(hub):
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=lines(*BAD), mode="keep_good_rows"
    )
    body = report.as_dict()
    assert body["applied"] and body["created"] == 1 and body["rejected"] == 2
    assert "skipped" in body["outcome"]
    assert Record.objects.filter(key="D3").exists() and not Record.objects.filter(key="D1").exists()


def test_duplicate_key_in_batch_is_reported(hub):
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=lines(ROWS[0], dict(ROWS[0], self_pay="2"))
    )
    assert not report.applied and report.errors[0]["row"] == 2 and report.errors[0]["column"] == "claim_no"


def test_csv_with_chinese_headers_numbers_rows_like_a_spreadsheet(hub):
    csv = "结算单号,身份证号,结算日期,自付金额\nE1,360302199005091234,2026-01-02,10\nE2,360302199005091234,2026/01/02,10\n"
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=csv.encode(), name="claims.csv"
    )
    assert report.errors == [{"row": 3, "column": "settled_on", "reason": report.errors[0]["reason"]}]
    assert not Record.objects.filter(key="E1").exists()


def test_excel_upload(hub):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["claim_no", "id_number", "settled_on", "self_pay"])
    sheet.append(["X1", "360302199005091234", "2026-02-02", 12.5])
    buffer = io.BytesIO()
    book.save(buffer)
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=buffer.getvalue(), name="claims.xlsx"
    )
    assert report.created == 1 and Record.objects.get(key="X1").data["self_pay"] == "12.5"


def test_crash_mid_import_leaves_nothing(hub, monkeypatch):
    before = snapshot()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "audit_record", crash)
    with pytest.raises(RuntimeError):
        services.records_ingest(
            actor=hub.owner_steward,
            resource=hub.resource,
            content=lines({"claim_no": "Z1", "id_number": "X", "settled_on": "2026-01-01"}),
        )
    assert snapshot() == before and not IngestBatch.objects.filter(rows=1, created=1).exists()


def test_only_the_owner_pushes(hub):
    with pytest.raises(Forbidden):
        services.records_ingest(actor=hub.outsider_user, resource=hub.resource, content=lines(*ROWS))


def test_registry_backed_resource_refuses_pushes(hub, db):
    resource = services.resource_publish(
        actor=None,
        department=hub.owner,
        code="test.persons",
        title="人口",
        subject_type="person",
        key_field="id_number",
        subject_field="id_number",
        fields=[],
        backing="person",
    )
    with pytest.raises(Conflict):
        services.records_ingest(actor=None, resource=resource, content=lines(*ROWS))


def test_big_batches_are_validated_in_parallel_slices(hub, monkeypatch):
    monkeypatch.setattr(services, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(services.os, "cpu_count", lambda: 3)
    rows = [
        {"claim_no": f"P{index}", "id_number": "X", "settled_on": "2026-01-01", "self_pay": str(index)}
        for index in range(30)
    ]
    rows[7]["settled_on"] = "bad"
    rows[25]["claim_no"] = "P3"  # the same key as row 4, in another slice
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=lines(*rows), mode="keep_good_rows"
    )
    assert [(error["row"], error["column"]) for error in report.errors] == [
        (8, "settled_on"),
        (26, "claim_no"),
    ]
    assert report.rows == 30 and report.created == 28 and report.rejected == 2


@pytest.mark.parametrize("full_scan", [False, True])
def test_a_batch_looks_up_its_keys_in_chunks_or_scans_the_resource_with_the_same_outcome(
    hub, monkeypatch, full_scan
):
    """A batch small beside its resource reads only its own keys (in chunks of KEY_CHUNK), never
    the whole resource; a large one scans once. Either way each row is classified the same."""
    monkeypatch.setattr(services, "KEY_CHUNK", 2)
    monkeypatch.setattr(services, "FULL_SCAN_SHARE", 0.0 if full_scan else 10.0)
    scans = []
    real_scan = services._all_records
    monkeypatch.setattr(services, "_all_records", lambda resource: scans.append(1) or real_scan(resource))
    changed = dict(ROWS[0], self_pay="999.99")
    new = [
        {"claim_no": f"N{i}", "id_number": ROWS[1]["id_number"], "settled_on": "2026-06-01", "self_pay": "1"}
        for i in range(3)
    ]
    report = services.records_ingest(
        actor=hub.owner_steward, resource=hub.resource, content=lines(changed, ROWS[1], ROWS[2], *new)
    )
    assert (report.created, report.updated, report.unchanged) == (3, 1, 2)
    assert len(scans) == (1 if full_scan else 0)
    assert Record.objects.filter(resource=hub.resource).count() == 6
    assert RecordHistory.objects.get().after["self_pay"] == "999.99"
