"""Benchmark of the cases engine on a fresh database (SQLite by default).

    .venv/bin/python bench/cases.py [--cases 2000] [--tasks 2000] [--database-url URL] [--no-write]

Opens N cases of a benchmark case type, then times: the SLA sweep that turns them all red and
fires one escalation rule each (one small transaction, two timeline events, two audit entries
and a queued notification per case); the same sweep again (finding nothing to do); and two
worker threads draining M no-op tasks with compare-and-set claims. The output ends with
key=value lines; the figures also go to this benchmark's section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN = "<!-- bench/cases.py: begin -->"
END = "<!-- bench/cases.py: end -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL URL of an empty database (default: SQLite)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="yiwang-bench-cases-")
    os.environ.update(
        YIWANG_VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="yiwang.settings",
        YIWANG_FAST_PASSWORD_HASHER="1",
        YIWANG_TASK_RUNNER="off",
        DATABASE_URL=args.database_url,
    )
    sys.path.insert(0, str(PROJECT_DIR))
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v0"], env=os.environ, check=True, cwd=PROJECT_DIR
    )

    import django

    django.setup()
    from zoneinfo import ZoneInfo

    from django.db import connection

    from yiwang.cases import services
    from yiwang.cases.taskqueue import TASKS, task_enqueue, task_register, tasks_run_pending
    from yiwang.cases.types import CaseType, Escalation, Limit, State, Transition, case_type_register
    from yiwang.core.models import Department, Division, DivisionLevel

    zone = ZoneInfo("Asia/Shanghai")
    case_type_register(
        CaseType(
            code="bench.case",
            label="bench",
            states=(State("open", "open", limit=Limit(2, "days")), State("done", "done", final=True)),
            initial="open",
            transitions=(
                Transition(
                    "finish", "finish", sources=("open",), target="done", roles=("department_handler",)
                ),
            ),
            escalations=(Escalation("late", state="open", notify_role="supervisor"),),
        )
    )
    city = Division.objects.create(code="3603", name="萍乡市", level=DivisionLevel.CITY)
    department = Department.objects.create(code="BENCH", name="测试局", short_name="测试局", division=city)

    opened_at = datetime.datetime(2026, 9, 30, 10, tzinfo=zone)
    started = time.perf_counter()
    for number in range(args.cases):
        services.case_open(
            case_type="bench.case", title=f"案件{number}", department=department, actor="bench", now=opened_at
        )
    open_seconds = time.perf_counter() - started

    late = datetime.datetime(2026, 10, 9, 18, tzinfo=zone)
    started = time.perf_counter()
    result = services.case_sla_sweep(now=late)
    sweep_seconds = time.perf_counter() - started
    assert len(result.red) == args.cases and len(result.escalated) == args.cases, result
    started = time.perf_counter()
    again = services.case_sla_sweep(now=late + datetime.timedelta(minutes=5))
    idle_seconds = time.perf_counter() - started
    assert not (again.red or again.yellow or again.escalated)

    from yiwang.cases.models import Task

    Task.objects.all().delete()
    task_register("bench.noop")(lambda **_: None)
    for _ in range(args.tasks):
        task_enqueue("bench.noop")
    counts: list[int] = []

    def drain(name: str) -> None:
        counts.append(tasks_run_pending(worker=name, limit=args.tasks))
        connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=drain, args=(f"w{index}",)) for index in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    task_seconds = time.perf_counter() - started
    assert sum(counts) == args.tasks, counts
    TASKS.pop("bench.noop", None)

    engine = connection.vendor
    figures = {
        "database": engine,
        "cases": args.cases,
        "case_open_per_second": round(args.cases / open_seconds, 1),
        "sla_sweep_cases_per_second": round(args.cases / sweep_seconds, 1),
        "sla_sweep_idle_seconds": round(idle_seconds, 3),
        "tasks": args.tasks,
        "tasks_per_second_two_workers": round(args.tasks / task_seconds, 1),
    }
    if not args.no_write:
        _write(figures)
    for key, value in figures.items():
        print(f"{key}={value}")
    return 0


def _write(figures: dict) -> None:
    machine = (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    row = (
        f"| {machine} | {datetime.date.today()} | {figures['database']} | {figures['cases']} | "
        f"{figures['case_open_per_second']} | {figures['sla_sweep_cases_per_second']} | "
        f"{figures['sla_sweep_idle_seconds']} | {figures['tasks_per_second_two_workers']} |"
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    rows: list[str] = []
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        section, tail = rest.split(END, 1)
        rows = [line for line in section.splitlines() if line.startswith("| ") and "CPUs" in line]
    else:
        head, tail = text.rstrip("\n") + "\n\n", "\n"
    rows = [line for line in rows if f"| {figures['database']} |" not in line] + [row]
    section = "\n".join(
        [
            BEGIN,
            "## Cases engine (`bench/cases.py`)",
            "",
            "Fresh database. Open N cases one by one (a transaction, a timeline event and an audit entry "
            "each); one SLA sweep turns all of them red and fires one escalation each (per case: its own "
            "transaction, two events, two audit entries, a notification and its queued task); a second "
            "sweep finds nothing to do; two worker threads drain M no-op tasks.",
            "",
            "| machine | date | database | cases | opened/s | swept/s | idle sweep (s) | tasks/s (2 workers) |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Each opened case and each swept case is its own committed transaction (no batching), so",
            "the figures follow the database's commit latency; PostgreSQL ran on the same machine.",
            END,
        ]
    )
    RESULTS.write_text(head + section + tail, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
