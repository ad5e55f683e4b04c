"""What every benchmark script shares: the machine line, the load average, and replacing the
script's own marked section of bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"


def machine(*extra: str) -> str:
    """ "2 CPUs, 24 GiB RAM, Linux x86_64, Python 3.11.7" plus any library versions given."""
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            memory = f", {int(handle.readline().split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    parts = [
        f"{os.cpu_count()} CPUs{memory}",
        f"{platform.system()} {platform.machine()}",
        f"Python {platform.python_version()}",
        *extra,
    ]
    return ", ".join(parts)


def load_average() -> str:
    """The 1-minute load average (the machines are shared: other work slows runs down)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def section_write(script: str, lines: list[str]) -> None:
    """Replace (or append) the section between `<!-- bench/<script>: begin -->` and `end`."""
    begin, end = f"<!-- bench/{script}: begin -->", f"<!-- bench/{script}: end -->"
    section = "\n".join([begin, *lines, end])
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
