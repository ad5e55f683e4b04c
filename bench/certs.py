"""Micro-benchmark of the certs engine: issuing and verifying e-certificates (SM3withSM2).

    .venv/bin/python bench/certs.py [--count 200] [--runs 3] [--postgres postgres://postgres@127.0.0.1:5432/NAME]

On a fresh SQLite database in a temporary YIWANG_VAR_DIR (migrated, the city's departments
loaded, one seal and one certificate type; not timed; the folder is removed at the end) — or
on the PostgreSQL database given with --postgres (an existing empty database, e.g. made with
`createdb -h 127.0.0.1 -U postgres certs_bench`; drop it afterwards) — each run times, one
after the other, on one thread:

- issue: `certificate_issue` --count times (validation of holder and fields, decrypting the
  seal's private key, number sequence, canonical payload, SM3 digest, SM2 signature, insert,
  audit entry; one transaction each);
- verify_stored: `certificate_verify` of each (digest, signature, columns against the signed
  payload, status), as the public verification page does;
- verify_document: `document_verify` of each certificate's downloaded JSON, as POST
  /api/certs/verify does;
- sign / verify: the bare SM2 operations (`crypto.signature_create`, `signature_verify`).

Prints the median of --runs as key=value lines (per second). Does not write bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench._common import load_average, machine  # noqa: E402


def _setup(postgres: str | None) -> None:
    os.environ["YIWANG_VAR_DIR"] = tempfile.mkdtemp(prefix="yiwang-bench-certs-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    if postgres:
        os.environ["DATABASE_URL"] = postgres
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _world():
    from yiwang.certs import services
    from yiwang.core.models import Department
    from yiwang.core.reference import reference_load

    reference_load()
    department = Department.objects.get(code="SCJG")
    services.seal_create(department=department, actor="bench")
    services.certificate_type_save(
        code="BENCHZZ",
        name="营业执照",
        department=department,
        holder_kind="person",
        fields=[
            {"key": "name", "label": "名称", "public": True},
            {"key": "address", "label": "住所"},
            {"key": "scope", "label": "经营范围", "required": False},
        ],
        actor="bench",
    )


def _holders(count: int, run: int) -> list[str]:
    from yiwang.core.ids import resident_id_build

    start = datetime.date(1960, 1, 1)
    return [
        resident_id_build("360302", start + datetime.timedelta(days=run * count + i), i % 500, "MF"[i % 2])
        for i in range(count)
    ]


def _per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def run_once(count: int, run: int) -> dict[str, float]:
    from yiwang.certs import crypto, documents, selectors, services
    from yiwang.certs.models import Seal

    holders = _holders(count, run)
    started = time.perf_counter()
    issued = [
        services.certificate_issue(
            type_code="BENCHZZ",
            holder=holder,
            holder_name="测试个体户",
            fields={
                "name": f"萍乡市安源区测试{index}号商店",
                "address": "江西省萍乡市安源区跃进路1号",
                "scope": "日用百货",
            },
            actor="bench",
            source="bench",
        )
        for index, holder in enumerate(holders)
    ]
    issue_seconds = time.perf_counter() - started

    started = time.perf_counter()
    stored_ok = sum(selectors.certificate_verify(certificate=c).ok for c in issued)
    verify_stored_seconds = time.perf_counter() - started

    downloaded = [documents.document_of(c) for c in issued]
    started = time.perf_counter()
    document_ok = sum(selectors.document_verify(document=d).ok for d in downloaded)
    verify_document_seconds = time.perf_counter() - started
    if stored_ok != count or document_ok != count:
        raise SystemExit(f"verification failed: {stored_ok}, {document_ok} of {count}")

    seal = Seal.objects.filter(superseded_at__isnull=True).first()
    private_key = crypto.private_key_decrypt(seal.private_key_encrypted)
    message = issued[0].payload.encode()
    started = time.perf_counter()
    signatures = [
        crypto.signature_create(private_key=private_key, public_key=seal.public_key, message=message)
        for _ in range(count)
    ]
    sign_seconds = time.perf_counter() - started
    started = time.perf_counter()
    assert all(
        crypto.signature_verify(public_key=seal.public_key, message=message, signature=s) for s in signatures
    )
    verify_seconds = time.perf_counter() - started
    return {
        "issue_per_second": _per_second(count, issue_seconds),
        "issue_ms": issue_seconds / count * 1000,
        "verify_stored_per_second": _per_second(count, verify_stored_seconds),
        "verify_document_per_second": _per_second(count, verify_document_seconds),
        "sm2_sign_per_second": _per_second(count, sign_seconds),
        "sm2_verify_per_second": _per_second(count, verify_seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="certificates per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default="", help="an existing empty PostgreSQL database URL")
    options = parser.parse_args()
    _setup(options.postgres or None)
    from django.db import connection

    _world()
    from importlib.metadata import version

    print(f"machine: {machine('gmssl ' + version('gmssl'), 'segno ' + version('segno'))}")
    print(f"database: {connection.vendor}, load average {load_average()} at start")
    results = []
    for run in range(options.runs):
        result = run_once(options.count, run)
        results.append(result)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()), flush=True)
    print(f"load average {load_average()} at end")
    print(f"database={connection.vendor}")
    print(f"count={options.count}")
    print(f"runs={options.runs}")
    for key in results[0]:
        print(f"{key}={statistics.median(r[key] for r in results):.1f}")
    connection.close()
    shutil.rmtree(os.environ["YIWANG_VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
