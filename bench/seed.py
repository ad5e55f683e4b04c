"""Benchmark: `seed --persons 1000000` on a fresh SQLite database, against a plain sqlite3 baseline.

    .venv/bin/python bench/seed.py [--persons N] [--runs 3] [--no-write]

Each run gets a new temporary YIWANG_VAR_DIR, is migrated (not timed), then runs the seed in a
subprocess (timed: wall clock of the whole command, start-up and demo logins included). The
baseline is a plain sqlite3 executemany of the same number of (id, 18-character text, text,
date) rows into a fresh table, one transaction, default pragmas. The output ends with key=value
lines; the figures are also written to this benchmark's section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN = "<!-- bench/seed.py: begin -->"
END = "<!-- bench/seed.py: end -->"


def _environment(var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # always the embedded SQLite database
    env.pop("YIWANG_FAST_PASSWORD_HASHER", None)  # the demo logins hash as in production
    env.update(YIWANG_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="yiwang.settings", PYTHONPATH=str(PROJECT_DIR))
    return env


def seed_run(persons: int) -> tuple[float, str]:
    """Migrate a fresh database, then time the seed. Returns (seconds, the seed's summary line)."""
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-seed-") as var_dir:
        env = _environment(var_dir)
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "-v0"], env=env, check=True, cwd=PROJECT_DIR
        )
        started = time.perf_counter()
        finished = subprocess.run(
            [sys.executable, "-m", "django", "seed", "--persons", str(persons)],
            env=env,
            check=True,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
    summary = next((line for line in finished.stdout.splitlines() if line.startswith("Generated")), "")
    return seconds, summary


def baseline_run(rows: int) -> float:
    """Plain sqlite3: executemany of `rows` (id, 18-char text, text, date) rows, one commit."""
    rng = random.Random(1)
    data = [(i, f"{rng.randrange(10**17):017d}X", "张伟", "1980-05-17") for i in range(1, rows + 1)]
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-baseline-") as folder:
        connection = sqlite3.connect(Path(folder) / "baseline.sqlite3")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT, name TEXT, day DATE)")
        started = time.perf_counter()
        connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", data)
        connection.commit()
        seconds = time.perf_counter() - started
        connection.close()
    return seconds


def machine() -> dict[str, str]:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            kilobytes = int(handle.readline().split()[1])
        memory = f"{kilobytes / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpus": str(os.cpu_count()),
        "ram": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": f"{platform.system()} {platform.machine()}",
    }


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def write_results(figures: dict, runs: list[float], summary: str, loads: tuple[str, str]) -> None:
    info = machine()
    section = "\n".join(
        [
            BEGIN,
            "## Demo city seed (`bench/seed.py`)",
            "",
            f"`seed --persons {figures['persons']:,}` on a fresh SQLite database (WAL), wall clock of "
            "the whole command (start-up, reference data, bulk inserts, demo logins with the production "
            "password hasher). Baseline: plain `sqlite3` executemany of as many "
            "(id, 18-character text, text, date) rows into a fresh table, one transaction.",
            "",
            "| machine | date | load before/after | runs (s) | median (s) | baseline (s) | ratio |",
            "|---|---|---|---|---|---|---|",
            f"| {info['cpus']} CPUs, {info['ram']} RAM, {info['system']}, Python {info['python']}, "
            f"SQLite {info['sqlite']} | {datetime.date.today().isoformat()} | {loads[0]} / {loads[1]} | "
            f"{' / '.join(f'{s:.1f}' for s in runs)} | {figures['seed_seconds']:.1f} | "
            f"{figures['baseline_seconds']:.2f} | {figures['seed_vs_baseline_ratio']:.1f} |",
            "",
            f"Rows of one run: {summary.removeprefix('Generated ')}" if summary else "",
            "",
            "The load is the 1-minute load average before and after: the machine may be shared, and "
            "other work running at the same time slows the seed down.",
            END,
        ]
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    runs = []
    summary = ""
    load_before = load_average()
    for number in range(1, args.runs + 1):
        seconds, summary = seed_run(args.persons)
        runs.append(seconds)
        print(f"run {number}: seed --persons {args.persons} took {seconds:.1f} s", flush=True)
    print(summary)
    baseline = baseline_run(args.persons)
    print(f"baseline: plain sqlite3 executemany of {args.persons} rows took {baseline:.2f} s")
    median = statistics.median(runs)
    figures = {
        "seed_seconds": median,
        "persons": args.persons,
        "baseline_seconds": baseline,
        "seed_vs_baseline_ratio": median / baseline,
    }
    if not args.no_write:
        write_results(figures, runs, summary, (load_before, load_average()))
    print(f"seed_seconds={median:.1f}")
    print(f"persons={args.persons}")
    print(f"baseline_seconds={baseline:.2f}")
    print(f"seed_vs_baseline_ratio={median / baseline:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
