"""Two handlers at once: one wins, the other gets a conflict, nothing is lost. Two task
workers: each task runs once. Real threads and real transactions (SQLite WAL or PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.cases.conftest import PERMIT, at
from yiwang.cases import services
from yiwang.cases.models import Case, CaseEvent, Task, TaskState
from yiwang.cases.taskqueue import TASKS, task_enqueue, task_register, tasks_run_pending
from yiwang.core.errors import Conflict
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(*functions):
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, f)) for index, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_handlers_take_the_same_case_at_once_one_wins(staff):
    case = services.case_open(
        case_type=PERMIT.code,
        title="井盖缺失",
        department=staff.department,
        actor=staff.handler,
        now=at(2026, 9, 30),
    )

    def take(user, transition):
        return lambda: services.case_transition(
            case=Case.objects.get(pk=case.pk),
            transition=transition,
            actor=user,
            expected_version=1,
            note=user.username,
        )

    results = run_in_threads(take(staff.handler, "accept"), take(staff.colleague, "accept"))
    winners = [result for result in results if isinstance(result, Case)]
    conflicts = [result for result in results if isinstance(result, Conflict)]
    assert len(winners) == 1 and len(conflicts) == 1, results
    assert case.reference in conflicts[0].message
    case.refresh_from_db()
    assert (case.state, case.version) == ("reviewing", 2)
    transitions = CaseEvent.objects.filter(case=case, kind="transition")
    assert transitions.count() == 1
    assert transitions.get().note == winners[0].events.get(kind="transition").note
    assert AuditEntry.objects.filter(action="case.transition", object_id=str(case.pk)).count() == 1


def test_two_workers_claim_each_task_once():
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()

    @task_register("test.record")
    def record(*, number: int) -> None:
        with lock:
            ran.append((threading.current_thread().name, number))

    try:
        for number in range(40):
            task_enqueue("test.record", {"number": number})
        results = run_in_threads(
            lambda: tasks_run_pending(worker="worker-a"), lambda: tasks_run_pending(worker="worker-b")
        )
    finally:
        TASKS.pop("test.record", None)
    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 40
    assert sorted(number for _name, number in ran) == list(range(40))
    assert Task.objects.filter(state=TaskState.DONE).count() == 40
    assert set(Task.objects.values_list("locked_by", flat=True)) <= {"worker-a", "worker-b"}


def test_the_in_process_runner_thread_runs_an_enqueued_task(monkeypatch):
    from django.db import transaction

    from yiwang.cases.taskqueue import runner_stop

    done = threading.Event()

    @task_register("test.signal")
    def signal() -> None:
        done.set()

    monkeypatch.setenv("YIWANG_TASK_RUNNER", "thread")
    try:
        with transaction.atomic():
            task = task_enqueue("test.signal")
            assert not done.is_set()  # nothing runs before the commit
        assert done.wait(timeout=20)
    finally:
        runner_stop()
        TASKS.pop("test.signal", None)
    task.refresh_from_db()
    for _ in range(50):  # the runner records "done" just after the function returns
        if task.state == TaskState.DONE:
            break
        threading.Event().wait(0.1)
        task.refresh_from_db()
    assert task.state == TaskState.DONE


def test_a_separate_worker_process_runs_the_periodic_sla_sweep(staff, tmp_path):
    """`yiwang tasks worker` in its own process, on the same database: it schedules the
    periodic SLA sweep and runs it, and the overdue case turns red."""
    import os
    import subprocess
    import sys
    import time

    from django.conf import settings as django_settings

    case = services.case_open(
        case_type=PERMIT.code,
        title="垃圾清运不及时",
        department=staff.department,
        actor=staff.handler,
        now=at(2026, 9, 30),
    )
    database = django_settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        url = f"sqlite:///{database['NAME']}"
    else:
        url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    environment = {**os.environ, "DATABASE_URL": url, "YIWANG_VAR_DIR": str(tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "yiwang.cli", "tasks", "worker", "--poll", "0.2", "--name", "process-worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            case.refresh_from_db()
            if case.sla_status == "red":
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert case.sla_status == "red", output
    assert "started" in output and "stopped" in output
    sweep = Task.objects.get(name="cases.sla_sweep")
    assert (sweep.state, sweep.locked_by) == (TaskState.DONE, "process-worker")
