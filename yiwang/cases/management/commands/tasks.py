"""`yiwang tasks worker`: run background tasks in a separate process (same code as the
in-process runner thread). `yiwang tasks run-pending` runs what is due once and exits."""

from __future__ import annotations

import os
import signal
import threading

from django.core.management.base import BaseCommand

from yiwang.cases.taskqueue import periodic_schedule, tasks_run_pending, worker_loop, worker_name


class Command(BaseCommand):
    help = "Background tasks: `worker` runs them until stopped; `run-pending` runs what is due once."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True)
        worker = commands.add_parser("worker", help="Run tasks until interrupted.")
        worker.add_argument("--poll", type=float, default=2.0, help="Seconds between polls (default 2).")
        worker.add_argument("--name", default="", help="Worker name (default host:pid).")
        commands.add_parser("run-pending", help="Schedule periodic tasks, run every due task, exit.")

    def handle(self, *args, subcommand: str, **options):
        # This process is the worker: no in-process runner thread besides it.
        os.environ["YIWANG_TASK_RUNNER"] = "worker"
        if subcommand == "run-pending":
            periodic_schedule()
            ran = tasks_run_pending()
            self.stdout.write(f"tasks_ran={ran}")
            return
        name = options["name"] or worker_name("worker")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"task worker {name} started (poll {options['poll']} s)")
        worker_loop(worker=name, stop=stop, poll=options["poll"])
        self.stdout.write(f"task worker {name} stopped")
