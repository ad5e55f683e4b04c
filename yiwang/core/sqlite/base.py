"""Django's SQLite backend with write transactions queued first come, first served, and
`before_commit` (yiwang/core/db.py).

SQLite lets one writer in at a time. A writer that finds the lock taken waits in SQLite's busy
handler, which sleeps and retries (1, 2, 5 … up to 100 ms between tries) rather than queueing:
whoever happens to try just after the lock is freed gets it. Under many concurrent writers the
order is random, and a random order has a long tail — in `bench/services.py` (20 applicants
submitting 秒批 at once) the median submission took 0.3 s and the slowest 5 % over 2 s, while
the CPUs were half idle.

Here every write transaction (Django's `BEGIN IMMEDIATE`) first takes a ticket and waits for the
holder of the ticket before it: a queue lock across processes and threads, made of Linux
open-file-description record locks on a file next to the database (`<name>.writelock`):

- byte 0 guards the counter stored at bytes 8–15;
- ticket t holds a lock on byte 16 + t mod 65536 from the moment it is issued until its
  transaction ends; it waits for ticket t − 1 by locking that byte, which is granted when t − 1
  releases it. So tickets pass in order, each handing over directly to the next.

A writer waits in the kernel for the ticket before it when that ticket is another process's:
it is woken the moment the ticket is released, and it does not take the CPU from the
transaction it waits for. When another thread of the same process is queued too (it could be
the one holding a transaction while waiting for this thread), the wait ends after the
connection's timeout at the latest: woken by the release when the ticket before is a thread's
of this process (as in a gunicorn worker's threads), polling otherwise.

The lock only orders writers; SQLite's own lock still keeps them apart. So whatever goes wrong
with the queue — a wait that timed out, a lock file that cannot be opened, a ticket's slot still
held after 65,536 tickets — the transaction goes on to `BEGIN IMMEDIATE` as Django's backend
does, and SQLite decides. A process that dies releases its locks with its file descriptors. Each
process opens its own descriptor (a forked worker does not share its parent's).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import threading
import time

from django.db.backends.sqlite3 import base

from yiwang.core.db import BeforeCommitMixin

RING = 1 << 16
SLOTS = 16  # the first slot's offset; bytes 8–15 hold the counter
_FLOCK = "hhqqi4x"  # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)


def _lock(fd: int, kind: int, offset: int, *, wait: bool) -> bool:
    """Lock (or unlock) one byte as this open file description; False if `wait` is off and the
    byte is held by another."""
    try:
        fcntl.fcntl(
            fd,
            fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK,
            struct.pack(_FLOCK, kind, os.SEEK_SET, offset, 1, 0),
        )
    except OSError as error:
        if not wait and error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


_queued = 0  # tickets of this process's connections not yet released
_queued_lock = threading.Lock()
# The slots of this process's tickets, each with the event set when its ticket is released: a
# thread whose ticket comes next is woken by it, not by polling.
_released: dict[int, threading.Event] = {}


def _queued_add(count: int) -> None:
    global _queued
    with _queued_lock:
        _queued += count


def _others_of_this_process_queued() -> bool:
    return _queued > 1


def _forked() -> None:
    global _queued
    _queued = 0  # the parent's tickets are not the child's
    _released.clear()


os.register_at_fork(after_in_child=_forked)


class WriteQueue:
    """The queue of one database file's writers, for one connection."""

    def __init__(self, path: str, timeout: float):
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None
        self._pid: int | None = None
        self._slot: int | None = None

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            self._slot = None  # a ticket of the parent's (its descriptor is the parent's)
        return self._fd

    def enter(self) -> None:
        """Take a ticket and wait for the one before it."""
        try:
            fd = self._descriptor()
            _lock(fd, fcntl.F_WRLCK, 0, wait=True)
            try:
                raw = os.pread(fd, 8, 8)
                ticket = struct.unpack("q", raw)[0] if len(raw) == 8 else 0
                os.pwrite(fd, struct.pack("q", ticket + 1), 8)
                slot = SLOTS + ticket % RING
                if not _lock(fd, fcntl.F_WRLCK, slot, wait=False):
                    return  # the slot of a ticket 65,536 back is still held: no place in the queue
                self._slot = slot
                _released[slot] = threading.Event()
                _queued_add(1)
            finally:
                _lock(fd, fcntl.F_UNLCK, 0, wait=True)
        except OSError:
            return  # no queue (the lock file cannot be used): SQLite's busy handler decides
        if ticket:
            self._wait_for(SLOTS + (ticket - 1) % RING)

    def _wait_for(self, slot: int) -> None:
        fd = self._fd
        if not _others_of_this_process_queued():
            # The ticket before is another process's, which goes on whatever this one does: wait
            # in the kernel, woken the moment it is released (polling would wake the waiters
            # over and over, taking the CPU from the transaction they wait for).
            _lock(fd, fcntl.F_WRLCK, slot, wait=True)
            _lock(fd, fcntl.F_UNLCK, slot, wait=True)
            return
        # Another thread of this process is queued or inside: it may be waiting for this one
        # (a thread holding a transaction while another writes), so the wait is bounded. When
        # the ticket before is this process's, its release wakes this thread; otherwise a
        # blocking wait cannot be given a timeout, so it polls: the order is kept by the
        # tickets, the polling only decides how soon this one notices.
        deadline = time.monotonic() + self.timeout
        pause = 0.0005
        while True:
            if _lock(fd, fcntl.F_WRLCK, slot, wait=False):
                _lock(fd, fcntl.F_UNLCK, slot, wait=True)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            released = _released.get(slot)
            if released is not None:
                released.wait(min(left, 0.05))
                continue
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.005)

    def leave(self) -> None:
        if self._slot is not None:
            slot, self._slot = self._slot, None
            _queued_add(-1)
            with contextlib.suppress(OSError):  # the descriptor is gone, and its locks with it
                _lock(self._fd, fcntl.F_UNLCK, slot, wait=True)
            released = _released.pop(slot, None)
            if released is not None:
                released.set()

    def close(self) -> None:
        self.leave()
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


class DatabaseWrapper(BeforeCommitMixin, base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._write_queue: WriteQueue | None = None

    def _queue(self) -> WriteQueue | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name or not hasattr(fcntl, "F_OFD_SETLKW"):  # Linux only
            return None
        path = f"{name}.writelock"
        if self._write_queue is None or self._write_queue.path != path:
            timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            self._write_queue = WriteQueue(path, timeout)
        return self._write_queue

    def _start_transaction_under_autocommit(self):
        queue = self._queue()
        if queue is not None:
            queue.enter()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            if queue is not None:
                queue.leave()
            raise

    def _leave(self) -> None:
        if self._write_queue is not None:
            self._write_queue.leave()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._leave()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._leave()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._leave()
