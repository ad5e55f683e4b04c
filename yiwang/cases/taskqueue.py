"""A small database-backed task queue that needs no extra server.

- `task_enqueue` inserts a Task row *inside the caller's transaction* (a transactional outbox:
  the task exists if and only if the change that asked for it committed) and wakes the
  in-process runner through `transaction.on_commit`.
- Workers claim work with a compare-and-set UPDATE (`… WHERE id = ? AND state = 'queued'`),
  never read-then-write, so two workers (threads or processes, SQLite or PostgreSQL) never run
  the same task. A claim is a lease: a worker that dies leaves `locked_until` behind and the
  task is queued again when the lease runs out.
- Periodic tasks (the SLA sweep) are enqueued with a `unique_key` naming their time slot, so
  however many workers schedule them, each slot runs once.
- Runner: `YIWANG_TASK_RUNNER=thread` (default) starts one daemon thread in the web process
  lazily, at the first enqueue or the first cases page; `worker` leaves the work to
  `yiwang tasks worker` processes (same code); `off` runs nothing (the default under pytest,
  where tests call `tasks_run_pending` themselves).

Applications register their tasks in AppConfig.ready() with `@task_register("app.verb")`.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import F
from django.utils import timezone

from yiwang.cases.models import Task, TaskState

logger = logging.getLogger(__name__)

TASKS: dict[str, Callable[..., object]] = {}


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    args: dict


PERIODIC: dict[str, Periodic] = {}


def task_register(name: str) -> Callable:
    """Decorator: make a function runnable as task `name` (keyword arguments from JSON)."""

    def decorate(function: Callable) -> Callable:
        TASKS[name] = function
        return function

    return decorate


def periodic_register(name: str, *, every: timedelta, args: dict | None = None) -> None:
    PERIODIC[name] = Periodic(name=name, every=every, args=args or {})


def runner_mode() -> str:
    default = "off" if "pytest" in sys.modules else "thread"
    return os.environ.get("YIWANG_TASK_RUNNER", default).strip().lower()


def task_enqueue(
    name: str, args: dict | None = None, *, run_at: datetime | None = None, unique_key: str | None = None
) -> Task | None:
    """Queue task `name` in the current transaction. With `unique_key`, a second enqueue of the
    same key is ignored (returns None)."""
    if name not in TASKS:
        raise LookupError(f"unknown task {name!r}")
    try:
        with transaction.atomic():
            task = Task.objects.create(
                name=name, args=args or {}, run_at=run_at or timezone.now(), unique_key=unique_key
            )
    except IntegrityError:
        if unique_key is None:
            raise
        return None
    transaction.on_commit(runner_wake)
    return task


def _requeue_expired(now: datetime) -> None:
    """Leases that ran out: the worker died. Queue again, or fail after the last attempt."""
    expired = Task.objects.filter(state=TaskState.RUNNING, locked_until__lt=now)
    expired.filter(attempts__gte=F("max_attempts")).update(
        state=TaskState.FAILED, finished_at=now, last_error="lease expired"
    )
    expired.update(state=TaskState.QUEUED, locked_by="", locked_until=None)


def task_claim(*, worker: str, limit: int = 10, lease: timedelta = timedelta(minutes=5)) -> list[Task]:
    """Claim up to `limit` due tasks for `worker`. Each candidate is taken with a
    compare-and-set UPDATE; a task another worker took first is skipped."""
    now = timezone.now()
    _requeue_expired(now)
    candidates = list(
        Task.objects.filter(state=TaskState.QUEUED, run_at__lte=now)
        .order_by("run_at", "id")
        .values_list("id", flat=True)[: limit * 2]
    )
    claimed: list[int] = []
    for task_id in candidates:
        won = Task.objects.filter(pk=task_id, state=TaskState.QUEUED).update(
            state=TaskState.RUNNING, locked_by=worker, locked_until=now + lease, attempts=F("attempts") + 1
        )
        if won:
            claimed.append(task_id)
        if len(claimed) >= limit:
            break
    return list(Task.objects.filter(pk__in=claimed).order_by("run_at", "id"))


def task_run(task: Task, *, worker: str) -> bool:
    """Run one claimed task; record done, or queue it again with a back-off, or fail it."""
    function = TASKS.get(task.name)
    mine = Task.objects.filter(pk=task.pk, state=TaskState.RUNNING, locked_by=worker)
    try:
        if function is None:
            raise LookupError(f"unknown task {task.name!r}")
        function(**task.args)
    except Exception:
        error = traceback.format_exc(limit=5)
        logger.exception("task %s #%s failed", task.name, task.pk)
        if task.attempts >= task.max_attempts:
            mine.update(state=TaskState.FAILED, finished_at=timezone.now(), last_error=error)
        else:
            retry_at = timezone.now() + timedelta(seconds=30 * 2**task.attempts)
            mine.update(
                state=TaskState.QUEUED, run_at=retry_at, locked_by="", locked_until=None, last_error=error
            )
        return False
    mine.update(state=TaskState.DONE, finished_at=timezone.now(), locked_until=None)
    return True


def periodic_schedule(*, now: datetime | None = None) -> int:
    """Queue the current slot of every periodic task (once per slot, whoever calls)."""
    now = now or timezone.now()
    queued = 0
    for periodic in PERIODIC.values():
        seconds = int(periodic.every.total_seconds())
        slot = int(now.timestamp()) // seconds * seconds
        key = f"{periodic.name}@{slot}"
        if task_enqueue(periodic.name, periodic.args, run_at=now, unique_key=key) is not None:
            queued += 1
    return queued


def tasks_run_pending(*, worker: str | None = None, limit: int = 1000) -> int:
    """Claim and run due tasks until none is left (or `limit` ran); returns how many ran."""
    worker = worker or worker_name()
    ran = 0
    while ran < limit:
        claimed = task_claim(worker=worker, limit=min(10, limit - ran))
        if not claimed:
            break
        for task in claimed:
            task_run(task, worker=worker)
            ran += 1
    return ran


def worker_name(suffix: str = "") -> str:
    return f"{socket.gethostname()}:{os.getpid()}{':' + suffix if suffix else ''}"


def worker_loop(
    *, worker: str, stop: threading.Event, wake: threading.Event | None = None, poll: float = 5.0
) -> None:
    """Schedule periodic tasks and run due ones until `stop` is set."""
    while not stop.is_set():
        try:
            close_old_connections()
            periodic_schedule()
            tasks_run_pending(worker=worker)
        except Exception:
            logger.exception("task worker %s: error in loop", worker)
        finally:
            close_old_connections()
        if wake is not None:
            wake.wait(poll)
            wake.clear()
        else:
            stop.wait(poll)
    connections.close_all()


_runner_lock = threading.Lock()
_runner: threading.Thread | None = None
_runner_stop = threading.Event()
_runner_wake = threading.Event()


def runner_ensure_started() -> bool:
    """Start the in-process runner thread once (YIWANG_TASK_RUNNER=thread)."""
    global _runner
    if runner_mode() != "thread":
        return False
    with _runner_lock:
        if _runner is None or not _runner.is_alive():
            _runner = threading.Thread(
                target=worker_loop,
                kwargs={"worker": worker_name("thread"), "stop": _runner_stop, "wake": _runner_wake},
                name="yiwang-tasks",
                daemon=True,
            )
            _runner.start()
    return True


def runner_stop(timeout: float = 10.0) -> None:
    """Stop the in-process runner thread (tests, shutdown) and wait for it."""
    global _runner
    with _runner_lock:
        runner, _runner = _runner, None
    if runner is not None:
        _runner_stop.set()
        _runner_wake.set()
        runner.join(timeout)
        _runner_stop.clear()


def runner_wake() -> None:
    if runner_ensure_started():
        _runner_wake.set()
