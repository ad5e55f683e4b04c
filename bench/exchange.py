"""Benchmark: the exchange's ingest of one day of a big feed, and subject reads through it.

    .venv/bin/python bench/exchange.py [--records 1800000] [--reads 10000] [--runs 3] [--no-write]

On a fresh SQLite database (a temporary YIWANG_VAR_DIR, migrated, not timed):

- ingest: `records_ingest` of N JSON lines (an employment feed: 8 typed fields) into a new
  resource, timed from the bytes to the commit (parsing, validation, upsert, batch, audit).
  Each run ingests into its own resource; the records of the previous run are deleted first
  (not timed), so every run loads one day into an empty table.
- reads: `exchange_read` of one subject by ID number, by a consumer department that is not
  the owner, holding a live grant for a conditional field (so the grant check runs), each
  appending its row to the hash-chained evidence log in its own transaction (head lock,
  catalog-version check, insert, head update); against the same read done bare (the resource
  by code, the records by subject key, the same field projection: no grant check, no
  evidence; the same plain SQL the exchange runs for those two steps). The exchange keeps the
  resource, its fields and the consumer's grants in a per-process cache, checked against the
  catalog version under the evidence head's lock; the bare read looks the resource up each time.
  read_overhead_ratio = mean time per exchange read ÷ mean time per bare read. The exchange,
  bare and ORM reads are interleaved (each over its own shuffle of the same subjects), so that
  all see the same load of a shared machine.

The median of the runs is printed as key=value lines and written to this benchmark's section
of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN = "<!-- bench/exchange.py: begin -->"
END = "<!-- bench/exchange.py: end -->"

FIELDS = [
    {"name": "record_no", "type": "string", "sharing_class": "open"},
    {"name": "id_number", "type": "string", "sharing_class": "open"},
    {"name": "name", "type": "string", "sharing_class": "open"},
    {"name": "employer_uscc", "type": "string", "sharing_class": "open"},
    {"name": "started_on", "type": "date", "sharing_class": "open"},
    {"name": "monthly_wage", "type": "decimal", "sharing_class": "conditional"},
    {"name": "insured", "type": "boolean", "sharing_class": "open"},
    {"name": "months_paid", "type": "integer", "sharing_class": "closed"},
]


def _setup(var_dir: str) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(YIWANG_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="yiwang.settings")
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def feed(records: int, seed: int) -> tuple[bytes, list[str]]:
    """N JSON lines, one per employment record; about 1.5 records per person."""
    rng = random.Random(seed)
    people = [
        f"360302{1960 + i % 45:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}{i % 10}"
        for i in range(records * 2 // 3)
    ]
    lines = []
    for index in range(records):
        person = people[index % len(people)]
        lines.append(
            json.dumps(
                {
                    "record_no": f"E{index:09d}",
                    "id_number": person,
                    "name": "张伟",
                    "employer_uscc": f"91360302MA{index % 99991:07d}X",
                    "started_on": f"20{10 + index % 16}-{1 + index % 12:02d}-{1 + index % 28:02d}",
                    "monthly_wage": f"{3000 + rng.randrange(20000)}.{rng.randrange(100):02d}",
                    "insured": bool(index % 5),
                    "months_paid": index % 240,
                },
                ensure_ascii=False,
            )
        )
    return "\n".join(lines).encode(), people


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_800_000)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-exchange-") as var_dir:
        _setup(var_dir)

        from django.db import connection

        from yiwang.core.models import Department, Division, Role
        from yiwang.core.services import user_create
        from yiwang.exchange import services
        from yiwang.exchange.models import Record, Resource
        from yiwang.exchange.selectors import _resource_with_fields, _subject_records, exchange_read

        city = Division.objects.create(code="3603", name="萍乡市", level=1)
        owner = Department.objects.create(code="RS", name="萍乡市人社局", short_name="人社局", division=city)
        consumer = Department.objects.create(
            code="MZ", name="萍乡市民政局", short_name="民政局", division=city
        )
        cdo_department = Department.objects.create(
            code="ZS", name="萍乡市政数局", short_name="政数局", division=city
        )
        steward = user_create(
            actor=None, username="rs", password="x-bench-1", roles=[(Role.DATA_STEWARD, owner, None)]
        )
        cdo = user_create(
            actor=None,
            username="cdo",
            password="x-bench-1",
            roles=[(Role.DATA_STEWARD, cdo_department, None)],
        )
        handler = user_create(
            actor=None, username="mz", password="x-bench-1", roles=[(Role.DEPARTMENT_HANDLER, consumer, None)]
        )
        content, people = feed(args.records, seed=3603)
        print(f"feed: {args.records:,} records, {len(content) / 1e6:.0f} MB of JSON lines", flush=True)

        ingest_runs = []
        for run in range(args.runs):
            if run:
                # Each run loads an empty table, as the first (not timed): one day of a feed.
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM exchange_record")
            resource = services.resource_publish(
                actor=steward,
                department=owner,
                code=f"rs.employment.{run}",
                title="就业登记",
                subject_type="person",
                key_field="record_no",
                subject_field="id_number",
                fields=FIELDS,
            )
            started = time.perf_counter()
            report = services.records_ingest(actor=steward, resource=resource, content=content)
            seconds = time.perf_counter() - started
            assert report.applied and report.created == args.records, report.as_dict()
            ingest_runs.append(seconds)
            print(f"ingest run {run + 1}: {seconds:.1f} s", flush=True)

        resource = Resource.objects.get(code=f"rs.employment.{args.runs - 1}")
        request = services.access_request_submit(
            actor=handler,
            consumer=consumer,
            resource=resource,
            fields=["monthly_wage"],
            purpose="低保核查",
            legal_basis="《社会救助暂行办法》",
            duration_days=30,
        )
        services.access_request_decide(actor=cdo, request=request, approve=True)
        rng = random.Random(12345)
        read_runs = []
        for run in range(args.runs):
            subjects = [rng.choice(people) for _ in range(args.reads)]
            # The three kinds of read are interleaved, each over its own shuffle of the subjects,
            # so that all three see the same load of a shared machine (and the same warmth of
            # the page cache) instead of one phase each.
            bare_subjects = rng.sample(subjects, len(subjects))
            orm_subjects = rng.sample(subjects, len(subjects))
            fields = exchange_read(
                consumer=consumer, resource_code=resource.code, subject=subjects[0], purpose="低保核查"
            ).fields
            exchange_times, bare_times, orm_times = [], [], []
            for subject, bare_subject, orm_subject in zip(subjects, bare_subjects, orm_subjects, strict=True):
                started = time.perf_counter()
                result = exchange_read(
                    consumer=consumer,
                    resource_code=resource.code,
                    subject=subject,
                    purpose="低保核查",
                    actor=handler,
                )
                exchange_times.append(time.perf_counter() - started)
                assert (
                    result.rows and "monthly_wage" in result.rows[0] and "months_paid" not in result.rows[0]
                )
                started = time.perf_counter()
                bare_resource, _fields = _resource_with_fields(resource.code)
                rows = [
                    {name: data.get(name) for name in fields}
                    for data in _subject_records(resource=bare_resource, subject=bare_subject, limit=51)
                ]
                bare_times.append(time.perf_counter() - started)
                assert rows
                started = time.perf_counter()
                found = Resource.objects.filter(code=resource.code).only("id").first()
                rows = [
                    {name: data.get(name) for name in fields}
                    for data in Record.objects.filter(resource=found, subject_key=orm_subject)
                    .order_by("key")
                    .values_list("data", flat=True)[:51]
                ]
                orm_times.append(time.perf_counter() - started)
            read_runs.append(
                (
                    percentile(exchange_times, 0.99) * 1000,
                    percentile(bare_times, 0.99) * 1000,
                    statistics.fmean(exchange_times) / statistics.fmean(bare_times),
                    statistics.fmean(exchange_times) * 1000,
                    statistics.fmean(bare_times) * 1000,
                    statistics.fmean(exchange_times) / statistics.fmean(orm_times),
                )
            )
            print(
                f"read run {run + 1}: p99 {read_runs[-1][0]:.2f} ms (bare {read_runs[-1][1]:.2f} ms), "
                f"mean {read_runs[-1][3]:.2f} ms vs {read_runs[-1][4]:.2f} ms, ratio {read_runs[-1][2]:.2f} (to a bare ORM read {read_runs[-1][5]:.2f})",
                flush=True,
            )
    load_after = os.getloadavg()[0]
    ingest = statistics.median(ingest_runs)
    p99 = statistics.median(run[0] for run in read_runs)
    bare_p99 = statistics.median(run[1] for run in read_runs)
    ratio = statistics.median(run[2] for run in read_runs)
    ratio_orm = statistics.median(run[5] for run in read_runs)
    mean_ms = statistics.median(run[3] for run in read_runs)
    bare_mean_ms = statistics.median(run[4] for run in read_runs)
    if not args.no_write:
        machine = (
            f"{os.cpu_count()} CPUs, Linux {platform.machine()}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}"
        )
        section = "\n".join(
            [
                BEGIN,
                "## Exchange ingest and reads (`bench/exchange.py`)",
                "",
                f"Ingest: `records_ingest` of {args.records:,} JSON lines (8 typed fields) into a new resource "
                "on a fresh SQLite database (WAL), parsing, validation, upsert, batch row and audit entry, one "
                f"transaction. Reads: {args.reads:,} `exchange_read` calls by ID number from a consumer with a "
                "live grant for a conditional field, each appending its row to the hash-chained evidence log "
                "(head lock, catalog-version check, insert, head update, commit); the resource, fields and "
                "grants come from the per-process cache checked under that lock. Baseline: the same read bare "
                "(resource by code, records by subject key, same projection and the same SQL; no grant check, no "
                "evidence). The exchange, bare and ORM reads are interleaved (each over its own shuffle of the same "
                "subjects), so that all three see the same load. Ingest parses and converts in one worker process "
                "per CPU (up to 4).",
                "",
                "| machine | date | load before/after | ingest runs (s) | ingest median (s) | read p99 runs (ms) | read p99 (ms) | bare p99 (ms) | mean exchange / bare (ms) | overhead ratio (mean) | ratio to a bare ORM read |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
                f"| {machine} | {datetime.date.today()} | {load_before:.1f} / {load_after:.1f} | "
                f"{' / '.join(f'{s:.1f}' for s in ingest_runs)} | {ingest:.1f} | "
                f"{' / '.join(f'{r[0]:.2f}' for r in read_runs)} | {p99:.2f} | {bare_p99:.2f} | "
                f"{mean_ms:.2f} / {bare_mean_ms:.2f} | {ratio:.2f} | {ratio_orm:.2f} |",
                "",
                "Targets (issue 3): ingest ≤ 60 s, read p99 ≤ 20 ms, overhead ≤ 2×. The overhead ratio is "
                "against the same plain SQL without grant check and evidence (the strict baseline); the last "
                "column is against the same read written with the ORM, as an application would write it.",
                "",
                "The load is the 1-minute load average before and after: the machine is shared, and other work running at the same time slows the runs down.",
                END,
            ]
        )
        text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(text)
    print(f"ingest_seconds={ingest:.1f}")
    print(f"read_p99_ms={p99:.2f}")
    print(f"read_overhead_ratio={ratio:.2f}")
    print(f"read_overhead_ratio_orm={ratio_orm:.2f}")


if __name__ == "__main__":
    main()
