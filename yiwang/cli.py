"""The `yiwang` command: `yiwang demo` runs the demo city; `yiwang serve` runs the web server;
every other verb is a Django management command (`yiwang migrate`, `yiwang seed --persons N`,
`yiwang audit verify`, `yiwang createsuperuser` …). Works from any folder; DATABASE_URL and
the other variables in .env.example choose the database and the rest."""

from __future__ import annotations

import argparse
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


def _prepare_dirs() -> None:
    from django.conf import settings

    for folder in (settings.VAR_DIR, settings.STATIC_ROOT, settings.MEDIA_ROOT):
        os.makedirs(folder, exist_ok=True)


# How `yiwang serve` runs gunicorn: YIWANG_WORKERS worker processes (default 2, one per CPU of
# the reference machine) of YIWANG_THREADS threads each (default 1). The platform's requests
# are CPU-bound Python: threads of one worker take turns at the GIL, so more threads than one
# only make every request slower. Measured with 20 applicants submitting 秒批 at once through
# HTTP (form → certificate page, bench/services.py --mode http), p95 on 2 CPUs: 0.87 s (SQLite)
# and 0.85 s (PostgreSQL) with 2 × 1, 1.30 s and 1.23 s with 2 × 4. More threads (or a proxy
# that buffers, such as nginx) protect the workers from slow clients and long CSV exports.
def serve_workers() -> int:
    return int(os.environ.get("YIWANG_WORKERS", "2"))


def serve_threads() -> int:
    return int(os.environ.get("YIWANG_THREADS", "1"))


def gunicorn_command(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    """The gunicorn command line `yiwang serve` runs (bench/services.py runs the same)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "yiwang.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--logger-class",
        "yiwang.core.gunicorn_logging.MaskingLogger",
        "--log-level",
        "warning",
    ]


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yiwang serve", description="Run the web server (gunicorn).")
    parser.add_argument("--host", default=os.environ.get("YIWANG_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("YIWANG_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=serve_workers())
    parser.add_argument("--threads", type=int, default=serve_threads())
    args = parser.parse_args(argv)
    _setup()
    _prepare_dirs()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    command = gunicorn_command(host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    sys.stdout.flush()
    os.execv(sys.executable, command)
    return 0  # not reached


def _demo_routing_model() -> None:
    """Train hotline routing on the project's own demo corpus when no model exists yet."""
    from pathlib import Path

    from django.core.management import call_command

    from yiwang.hotline.routing import route_model_path

    if route_model_path().exists():
        return
    corpus = Path(__file__).resolve().parent / "hotline" / "data" / "demo_corpus.csv"
    print("Training hotline routing on the demo corpus …", flush=True)
    call_command("hotline", "train", "--file", str(corpus))


def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="yiwang demo", description="Migrate, generate the demo city if empty, and serve it."
    )
    parser.add_argument("--host", default=os.environ.get("YIWANG_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("YIWANG_PORT", "8000")))
    parser.add_argument("--persons", type=int, default=None)
    parser.add_argument("--no-serve", action="store_true", help="prepare the city and stop")
    args = parser.parse_args(argv)
    _setup()
    _prepare_dirs()
    from django.conf import settings
    from django.core.management import call_command

    from yiwang.core.models import Role

    print(
        f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} "
        f"{settings.DATABASES['default']['NAME']}"
    )
    call_command("migrate", interactive=False, verbosity=0)
    persons = args.persons or settings.YIWANG_DEMO_PERSONS
    call_command("seed", persons=persons)
    call_command("exchange_seed")
    call_command("hotline_seed")
    _demo_routing_model()
    call_command("hotline_seed", tickets=300)  # demo tickets over the past ~90 days (tops up to 300)
    call_command("certs_seed")  # seals and certificate types of the demo departments
    call_command("certs_publish")  # the e-certificate register, published to the exchange
    call_command("services_seed")  # the matter catalog (≥ 1,508 matters) with forms
    call_command("instant_seed")  # 秒批 matters, their rules and certificate types
    call_command("services_gaps_seed")  # a matter whose non-key material may be tolerated (容缺)
    call_command("bundles_seed")  # the 一件事 bundles: 不动产转移, 企业开办, 新生儿出生
    call_command("benefits_seed")  # four policies, their feeds and one approved run each
    call_command("relapse_seed")  # the three screening rules, warnings, monitored households
    call_command("enrollment_seed")  # the 2027 enrollment season, registrations, one allocation
    address = f"http://{args.host}:{args.port}/"
    lines = [
        "",
        "=" * 64,
        f"  一网 Yiwang demo city 萍乡市 is at  {address}",
        f"  API docs: {address}api/docs      admin: {address}admin/",
        f"  Demo logins (password: {settings.YIWANG_DEMO_PASSWORD}):",
    ]
    for role in Role:
        lines.append(f"    {role.value:<20} {role.label}")
    lines.append("=" * 64)
    print("\n".join(lines), flush=True)
    if args.no_serve:
        return 0
    return serve(["--host", args.host, "--port", str(args.port)])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verb = argv[0] if argv else "help"
    if verb == "demo":
        return demo(argv[1:])
    if verb == "serve":
        return serve(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    from django.core.management import execute_from_command_line

    if verb == "help" and len(argv) <= 1:
        print(__doc__.strip() + "\n")
    execute_from_command_line(["yiwang", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
