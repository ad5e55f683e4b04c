"""Benchmark of no-application benefit runs: the four policies (稳岗返还, 一次性创业补贴, 高龄津贴,
人才安家补贴) over 1,000,000 persons and 100,000 enterprises, from finding the eligible to the
written ledger.

    .venv/bin/python bench/benefits.py [--persons 1000000] [--enterprises 100000] [--runs 3]
                                       [--cache-dir /tmp/yiwang-bench-benefits] [--rebuild] [--write]

The data (built once per size with SQL bulk inserts, cached under --cache-dir, on SQLite):

- the registry: N persons (3.5 % aged 80 or over, a few of them dead) and M enterprises;
- the six feeds the policies read, as exchange records (one applied batch each) with their
  typed mirrors built (yiwang.rules.mirror): 40 % of the enterprises insured, twelve months
  of 2025 each (some laying off more than 5.5 %, some paying part of the year), 1 % of them on
  the dishonesty list; every enterprise's legal representative; returning migrants (two
  thirds of them running a business); graduates and household settlements;
- the policies loaded from their rule files and the departments' grants approved.

Then, `--runs` times (the benefit tables emptied before each): for each policy
`run_start` (the rule in force, one statement, read under the exchange's grants; the
entitlements stored in chunks) and `run_approve` by a second person (the ledger and a notice
per payment, insert-or-skip in chunks). The median of the four policies' total is
`benefit_runs_seconds` (goal ≤ 30 s). Ends with key=value lines; --write replaces this
benchmark's section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench._common import load_average, machine, section_write  # noqa: E402

TODAY = datetime.date(2026, 11, 23)
PERIODS = {
    "benefits.elderly_allowance": "2026-11",
    "benefits.job_retention": "2026",
    "benefits.startup_subsidy": "once",
    "benefits.talent_subsidy": "once",
}
CHUNK = 20_000


def _setup(cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(YIWANG_VAR_DIR=str(cache_dir), DJANGO_SETTINGS_MODULE="yiwang.settings")
    os.environ.setdefault("YIWANG_FAST_PASSWORD_HASHER", "1")
    import django

    django.setup()


def _insert(table: str, columns: list[str], rows, *, json_column: str = "") -> None:
    from django.db import connection, transaction

    marks = ", ".join(
        "%s::jsonb" if name == json_column and connection.vendor == "postgresql" else "%s" for name in columns
    )
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    batch = []
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _records(code: str, key: str, subject: str, rows: list[dict]) -> int:
    """The records of a feed, as one applied ingest batch, written with SQL."""
    from django.utils import timezone

    from yiwang.exchange.models import IngestBatch, Record, Resource

    resource = Resource.objects.get(code=code)
    now = timezone.now()
    batch = IngestBatch.objects.create(
        resource=resource,
        digest=hashlib.sha256(code.encode()).hexdigest(),
        source="bench",
        mode="all_or_nothing",
        rows=len(rows),
        created=len(rows),
        applied=True,
        at=now,
    )
    stamp = now.isoformat()

    def values():
        for row in rows:
            text = json.dumps(row, ensure_ascii=False, sort_keys=True)
            yield (
                resource.pk,
                row[key],
                row[subject],
                text,
                hashlib.md5(text.encode()).hexdigest(),
                batch.pk,
                stamp,
            )  # noqa: S324

    _insert(
        Record._meta.db_table,
        ["resource_id", "key", "subject_key", "data", "digest", "batch_id", "updated_at"],
        values(),
        json_column="data",
    )
    Resource.objects.filter(pk=resource.pk).update(record_count=len(rows), last_updated_at=now)
    return len(rows)


def build(persons: int, enterprises: int) -> dict[str, int]:
    from django.core.management import call_command
    from django.utils import timezone

    from yiwang.benefits.feeds import feeds_publish
    from yiwang.benefits.services import grants_ensure, policies_load
    from yiwang.core.models import Division
    from yiwang.core.reference import reference_load
    from yiwang.core.services import user_create
    from yiwang.exchange.models import Resource
    from yiwang.registry.models import Enterprise, Person
    from yiwang.rules.mirror import mirror_build

    call_command("migrate", interactive=False, verbosity=0)
    reference_load()
    rng = random.Random(2026)
    towns = list(Division.objects.filter(level=3).values_list("code", flat=True))
    stamp = timezone.now().isoformat()
    started = time.perf_counter()

    def person_rows():
        for index in range(persons):
            if index % 1000 < 35:  # 3.5 % aged 80–104
                age_days = 80 * 365 + rng.randrange(0, 25 * 365)
            else:
                age_days = rng.randrange(0, 80 * 365)
            born = TODAY - datetime.timedelta(days=age_days)
            dead = (
                (TODAY - datetime.timedelta(days=rng.randrange(30, 900))).isoformat()
                if index % 1000 == 7
                else None
            )
            yield (
                f"3603{index:013d}X",
                f"测试{index}",
                "MF"[index % 2],
                born.isoformat(),
                "360302",
                "汉族",
                "",
                "",
                towns[index % len(towns)],
                dead,
                stamp,
            )

    _insert(
        Person._meta.db_table,
        [
            "id_number",
            "name",
            "sex",
            "birth_date",
            "birthplace_code",
            "ethnicity",
            "phone",
            "address",
            "division_id",
            "death_date",
            "updated_at",
        ],
        person_rows(),
    )

    def enterprise_rows():
        for index in range(enterprises):
            kind = "individual" if index % 3 == 0 else "company"
            established = TODAY - datetime.timedelta(days=rng.randrange(30, 6000))
            status = "active" if index % 40 else "cancelled"
            yield (
                f"913603{index:011d}X",
                f"企业{index}",
                kind,
                f"法人{index}",
                "C3073",
                "陶瓷",
                "100.00",
                rng.randrange(3, 400),
                "0",
                established.isoformat(),
                status,
                "",
                "",
                towns[index % len(towns)],
                stamp,
            )

    _insert(
        Enterprise._meta.db_table,
        [
            "uscc",
            "name",
            "kind",
            "legal_representative_name",
            "industry_code",
            "industry_name",
            "registered_capital",
            "employee_count",
            "land_area_mu",
            "established_on",
            "status",
            "address",
            "phone",
            "division_id",
            "updated_at",
        ],
        enterprise_rows(),
    )
    population_seconds = time.perf_counter() - started
    feeds_publish()
    employees = dict(Enterprise.objects.values_list("uscc", "employee_count"))
    usccs = sorted(employees)
    counts: dict[str, int] = {}
    # 人社 失业保险: 40 % insured, twelve months of 2025
    insurance = []
    for index, uscc in enumerate(usccs):
        if index % 5 >= 2:
            continue
        insured = employees[uscc]
        months = range(1, 13) if index % 20 else range(1, 9)
        layoffs = max(1, insured // 8) if index % 20 == 7 else rng.choice((0, 0, 1))
        for month in months:
            premium = insured * rng.randrange(3800, 5200)
            insurance.append(
                {
                    "record_no": f"SY{uscc}{month:02d}",
                    "uscc": uscc,
                    "month": f"2025-{month:02d}-01",
                    "insured_count": insured,
                    "separations": layoffs if month == 6 else 0,
                    "premium": f"{premium // 100}.{premium % 100:02d}",
                }
            )
    counts["rs.unemployment_insurance"] = _records(
        "rs.unemployment_insurance", "record_no", "uscc", insurance
    )
    insured = usccs[::5]
    counts["fy.dishonest_debtors"] = _records(
        "fy.dishonest_debtors",
        "case_no",
        "uscc",
        [
            {
                "case_no": f"(2025)赣03执{index}号",
                "uscc": uscc,
                "listed_on": "2025-03-01",
                "status": "在列" if index % 10 else "已屏蔽",
            }
            for index, uscc in enumerate(insured[: len(insured) // 20])
        ],
    )
    established = dict(Enterprise.objects.values_list("uscc", "established_on"))
    status = dict(Enterprise.objects.values_list("uscc", "status"))
    kinds = dict(Enterprise.objects.values_list("uscc", "kind"))
    representatives = [
        {
            "uscc": uscc,
            "id_number": f"3603{(index * 7919) % persons:013d}X",
            "entity_kind": kinds[uscc],
            "established_on": established[uscc].isoformat(),
            "status": status[uscc],
        }
        for index, uscc in enumerate(usccs)
    ]
    counts["scjg.legal_representatives"] = _records(
        "scjg.legal_representatives", "uscc", "id_number", representatives
    )
    runners = [row["id_number"] for row in representatives[: enterprises // 5]]
    migrants = runners + [f"3603{rng.randrange(persons):013d}X" for _ in range(len(runners) // 2)]
    counts["rs.returning_migrants"] = _records(
        "rs.returning_migrants",
        "record_no",
        "id_number",
        [
            {
                "record_no": f"FX{index:08d}",
                "id_number": id_number,
                "returned_on": "2024-03-01",
                "worked_in": "广东省东莞市",
                "registered_on": "2024-04-01",
            }
            for index, id_number in enumerate(dict.fromkeys(migrants))
        ],
    )
    graduates, settlements = [], []
    for index in range(persons // 25):
        id_number = f"3603{rng.randrange(persons):013d}X"
        graduated = TODAY - datetime.timedelta(days=rng.randrange(30, 1500))
        graduates.append(
            {
                "certificate_no": f"G{index:09d}",
                "id_number": id_number,
                "school": "南昌大学",
                "education_code": rng.choice((11, 14, 14, 21, 21, 21, 21, 31)),
                "graduated_on": graduated.isoformat(),
            }
        )
        if index % 4:
            settlements.append(
                {
                    "record_no": f"QR{index:09d}",
                    "id_number": id_number,
                    "settled_on": (graduated + datetime.timedelta(days=60)).isoformat(),
                    "category": "人才引进落户",
                    "moved_from": "江西省南昌市",
                }
            )
    counts["jy.graduates"] = _records("jy.graduates", "certificate_no", "id_number", graduates)
    counts["ga.hukou_settlements"] = _records("ga.hukou_settlements", "record_no", "id_number", settlements)
    started = time.perf_counter()
    for code in counts:
        mirror_build(Resource.objects.get(code=code))
    mirror_seconds = time.perf_counter() - started
    policies_load()
    admin = user_create(actor=None, username="bench-cdo", password="bench-Pw-1", is_superuser=True)
    grants_ensure(actor=admin)
    user_create(
        actor=None,
        username="bench-mz-handler",
        password="bench-Pw-1",
        roles=[("department_handler", _department("MZ"), None)],
    )
    user_create(
        actor=None,
        username="bench-rs-handler",
        password="bench-Pw-1",
        roles=[("department_handler", _department("RS"), None)],
    )
    user_create(
        actor=None,
        username="bench-reviewer",
        password="bench-Pw-1",
        roles=[("supervisor", _department("MZ"), None), ("supervisor", _department("RS"), None)],
    )
    counts["population_seconds"] = round(population_seconds, 1)
    counts["mirror_seconds"] = round(mirror_seconds, 1)
    return counts


def _department(code: str):
    from yiwang.core.models import Department

    return Department.objects.get(code=code)


def _clear() -> None:
    from django.db import connection, transaction

    from yiwang.benefits.models import Entitlement, Notice, Payment, Run

    with transaction.atomic(), connection.cursor() as cursor:
        for model in (Notice, Payment, Entitlement, Run):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608


def run_all() -> tuple[float, dict[str, tuple[float, int, int]]]:
    from django.contrib.auth import get_user_model

    from yiwang.benefits.models import Policy
    from yiwang.benefits.services import run_approve, run_start

    users = get_user_model().objects
    reviewer = users.get(username="bench-reviewer")
    handlers = {"MZ": users.get(username="bench-mz-handler"), "RS": users.get(username="bench-rs-handler")}
    detail = {}
    started = time.perf_counter()
    for policy in Policy.objects.select_related("department").order_by("code"):
        begun = time.perf_counter()
        run = run_start(
            policy=policy,
            period=PERIODS[policy.code],
            actor=handlers[policy.department.code],
            evaluated_on=TODAY,
        )
        run = run_approve(run=run, actor=reviewer)
        detail[policy.code] = (time.perf_counter() - begun, run.paid_count, run.paid_fen)
    return time.perf_counter() - started, detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/yiwang-bench-benefits"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--write", action="store_true", help="replace this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    cache = args.cache_dir / f"p{args.persons}-e{args.enterprises}"
    if args.rebuild and cache.exists():
        for path in cache.glob("yiwang.sqlite3*"):
            path.unlink()
    fresh = not (cache / "yiwang.sqlite3").exists()
    _setup(cache)
    if fresh:
        print(f"building {args.persons:,} persons and {args.enterprises:,} enterprises …", flush=True)
        built = build(args.persons, args.enterprises)
        print("built: " + ", ".join(f"{key} {value:,}" for key, value in built.items()), flush=True)
    totals = []
    for number in range(args.runs):
        _clear()
        total, detail = run_all()
        totals.append(total)
        parts = ", ".join(
            f"{code.split('.')[1]} {seconds:.1f} s ({paid:,} paid, {fen // 100:,} yuan)"
            for code, (seconds, paid, fen) in detail.items()
        )
        print(f"run {number + 1}: {total:.1f} s — {parts} (load {load_average()})", flush=True)
    median = statistics.median(totals)
    lines = [
        "## Benefit runs (bench/benefits.py)",
        "",
        f"Machine: {machine()}; load {load_average()}; SQLite.",
        f"The four policies over {args.persons:,} persons and {args.enterprises:,} enterprises, from the rule "
        f"to the written ledger and notices: median {median:.1f} s of {args.runs} "
        f"(runs: {', '.join(f'{t:.1f}' for t in totals)}); goal ≤ 30 s.",
    ]
    if args.write:
        section_write("benefits", lines)
    print(f"benefit_runs_seconds={median:.2f}")
    print(f"benefit_runs_goal_met={'true' if median <= 30 else 'false'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
