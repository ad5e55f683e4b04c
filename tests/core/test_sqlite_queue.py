"""The SQLite backend's queue of writers (yiwang/core/sqlite/base.py): first come, first served,
one at a time, across processes; a wait longer than the timeout gives up its place in the order
(SQLite's own lock still keeps writers apart)."""

import multiprocessing
import queue
import threading
import time

import pytest
from django.db import connection, connections

from yiwang.core.sqlite.base import WriteQueue

FORK = multiprocessing.get_context("fork")


def _writer(queue: WriteQueue, name: str, start_after: float, hold: float, events) -> None:
    time.sleep(start_after)
    events.put((name, "asked", time.monotonic()))
    queue.enter()
    events.put((name, "in", time.monotonic()))
    time.sleep(hold)
    events.put((name, "out", time.monotonic()))
    queue.leave()


def _run(queue: WriteQueue, writers: list[tuple[str, float, float]]) -> list[tuple[str, str, float]]:
    events = FORK.Queue()
    processes = [
        FORK.Process(target=_writer, args=(queue, name, start_after, hold, events))
        for name, start_after, hold in writers
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(20)
        assert process.exitcode == 0
    found = [events.get(timeout=5) for _ in range(3 * len(writers))]
    return sorted(found, key=lambda event: event[2])


def test_writers_enter_one_at_a_time_in_the_order_they_asked(tmp_path):
    queue = WriteQueue(str(tmp_path / "db.sqlite3.writelock"), timeout=10)
    queue.enter()  # the parent's descriptor: each forked writer must open its own
    queue.leave()
    # "first" holds the queue while the others ask, 60 ms apart, in the order e, b, d, c.
    writers = [("first", 0.0, 0.6)] + [(name, 0.15 + 0.06 * i, 0.05) for i, name in enumerate("ebdc")]
    events = _run(queue, writers)

    asked = [name for name, kind, _at in events if kind == "asked"]
    entered = [name for name, kind, _at in events if kind == "in"]
    assert asked == ["first", "e", "b", "d", "c"]
    assert entered == asked
    inside = 0
    for _name, kind, _at in events:
        inside += {"in": 1, "out": -1}.get(kind, 0)
        assert inside <= 1, events


def test_a_writer_waits_for_another_process_however_long_it_takes(tmp_path):
    queue = WriteQueue(str(tmp_path / "db.sqlite3.writelock"), timeout=0.3)
    events = _run(queue, [("slow", 0.0, 1.0), ("next", 0.2, 0.0)])
    at = {(name, kind): moment for name, kind, moment in events}
    assert at[("next", "in")] >= at[("slow", "out")]


def test_a_wait_for_a_thread_of_the_same_process_gives_up_its_place_after_the_timeout(tmp_path):
    path = str(tmp_path / "db.sqlite3.writelock")
    events = queue.Queue()
    holder = WriteQueue(path, timeout=10)
    holder.enter()  # this thread holds the queue (as a thread inside a transaction would) …
    waiter = threading.Thread(target=_writer, args=(WriteQueue(path, timeout=0.3), "next", 0.0, 0.0, events))
    started = time.monotonic()
    waiter.start()
    waiter.join(5)  # … and another thread that writes does not wait for it forever
    holder.leave()
    holder.close()
    entered = [moment for _name, kind, moment in (events.get(timeout=1) for _ in range(3)) if kind == "in"]
    assert len(entered) == 1 and 0.25 <= entered[0] - started < 2


def test_a_thread_waiting_for_a_thread_of_the_same_process_is_woken_by_its_release(tmp_path, monkeypatch):
    from yiwang.core.sqlite import base

    path = str(tmp_path / "db.sqlite3.writelock")
    events = queue.Queue()
    polls = []
    real_sleep = time.sleep

    def sleep(seconds):
        if threading.current_thread().name == "waiter" and seconds > 0:  # not _writer's own sleep(0)
            polls.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(base.time, "sleep", sleep)
    holder = WriteQueue(path, timeout=10)
    holder.enter()
    waiter = threading.Thread(
        target=_writer, args=(WriteQueue(path, timeout=10), "next", 0.0, 0.0, events), name="waiter"
    )
    waiter.start()
    assert events.get(timeout=5)[1] == "asked"
    with pytest.raises(queue.Empty):  # it waits while the ticket before is held …
        events.get(timeout=0.3)
    left = time.monotonic()
    holder.leave()
    holder.close()
    waiter.join(5)
    entered = events.get(timeout=1)
    assert entered[1] == "in" and entered[2] >= left  # … and goes in once it is released,
    assert polls == []  # woken by the release, not by polling


@pytest.mark.django_db
def test_the_configured_sqlite_database_queues_its_writers():
    if connection.vendor != "sqlite":
        pytest.skip("the queue is the SQLite backend's")
    assert type(connections["default"]).__module__ == "yiwang.core.sqlite.base"
    # The test runs in a write transaction: it holds the newest ticket, so a writer arriving
    # now waits for it (here until its timeout).
    other = WriteQueue(f"{connection.settings_dict['NAME']}.writelock", timeout=0.3)
    started = time.monotonic()
    other.enter()
    other.leave()
    other.close()
    assert time.monotonic() - started >= 0.25
