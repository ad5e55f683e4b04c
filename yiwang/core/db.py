"""Work a transaction does last, just before it commits.

A hash chain (the audit log) is appended to by many transactions, and each link needs the one
before it: whoever takes the chain's head keeps it until commit, so on PostgreSQL every writer
would wait for every other from its first audit entry to its commit, and under load that wait
grows with the CPU time of everything else the transaction does. Instead a transaction writes
its entries unsealed and registers a sealer with `before_commit`; the platform's database
backends (yiwang.core.sqlite, yiwang.core.postgresql) run the sealers just before COMMIT, so the
head is held for a few statements only.

Under a test case (Django's TestCase wraps each test in a transaction that is rolled back), the
block directly under the test case's own blocks stands for the transaction: the sealers run
when it ends, as they would at its commit.

`before_commit` callbacks run in registration order, once per key; one that fails rolls the
transaction back (its error is raised as a DatabaseError, as a failed COMMIT is). They are
dropped when the transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, transaction


def under_test_case(connection) -> bool:
    """Is the connection inside the blocks of a test case only (no transaction of the code's own)?"""
    blocks = connection.atomic_blocks
    return bool(blocks) and all(getattr(block, "_from_testcase", False) for block in blocks)


def unit_of_work(connection):
    """An atomic block for a small write that joins the caller's transaction without a savepoint
    (it is rolled back with the caller's on error), or is a transaction of its own. Directly
    under a test case's blocks it is a savepoint, so its end counts as a commit there."""
    return transaction.atomic(savepoint=under_test_case(connection))


class BeforeCommitMixin:
    """For a Django DatabaseWrapper: `before_commit(key, callback)`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._before_commit: dict[str, Callable[[], None]] = {}
        # The savepoints rolled back in the current transaction: work registered inside one
        # of them (`savepoint_ids` at the time, as Django's on_commit keeps) is void.
        self.savepoints_rolled_back: set[str] = set()
        # What the current transaction's before-commit work needs to know (the audit entries
        # to seal), by key: emptied when the transaction ends, committed or rolled back.
        self.transaction_state: dict[str, Any] = {}

    def before_commit(self, key: str, callback: Callable[[], None]) -> None:
        if not self.in_atomic_block:
            raise RuntimeError("before_commit needs a transaction")
        self._before_commit.setdefault(key, callback)

    def _run_before_commit(self) -> None:
        while self._before_commit:
            callbacks = list(self._before_commit.values())
            self._before_commit.clear()
            for callback in callbacks:
                try:
                    callback()
                except DatabaseError:
                    raise
                except Exception as error:  # noqa: BLE001 - a failed COMMIT, for Atomic to roll back
                    raise DatabaseError(f"before-commit work failed: {error!r}") from error

    def commit(self):
        if self._before_commit:
            try:
                self._run_before_commit()
            except Exception:
                self._before_commit.clear()
                raise
        self._transaction_end()
        return super().commit()

    def rollback(self):
        self._before_commit.clear()
        self._transaction_end()
        return super().rollback()

    def _transaction_end(self) -> None:
        self.savepoints_rolled_back.clear()
        self.transaction_state.clear()

    def savepoint_rollback(self, sid):
        self.savepoints_rolled_back.add(sid)
        return super().savepoint_rollback(sid)

    def savepoint_commit(self, sid):
        if self._before_commit and under_test_case(self):
            try:
                self._run_before_commit()
            except Exception:
                self._before_commit.clear()
                raise
        return super().savepoint_commit(sid)

    def close(self):
        self._before_commit.clear()
        self._transaction_end()
        return super().close()


def counter_next(model, key: dict[str, Any], *, field: str = "last") -> int:
    """The next number of the counter of `model` with these key columns (a case reference of
    a year, a certificate number of a type and year), starting at 1, never given twice.

    SQLite (one writer at a time anyway): the counter row, incremented by one `UPDATE …
    RETURNING` (the row made at 0 the first time). PostgreSQL: a sequence per counter
    (`<table>_<key values>_seq`, made the first time, starting after the row's value if there
    is one), so that a transaction does not hold a lock from its first number to its commit —
    every other writer would wait on it. A number taken by a transaction that then rolls back
    is not given again: PostgreSQL's numbers may have gaps."""
    if connection.vendor == "postgresql":
        return _sequence_next(model, key, field)
    table = model._meta.db_table
    columns = {name: model._meta.get_field(name).column for name in key}
    where = " AND ".join(f"{column} = %s" for column in columns.values())
    statement = f"UPDATE {table} SET {field} = {field} + 1 WHERE {where} RETURNING {field}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, list(key.values()))
        row = cursor.fetchone()
        if row is None:  # the first of its kind: make the row (once, whoever races), then count
            model.objects.get_or_create(**key)
            cursor.execute(statement, list(key.values()))
            row = cursor.fetchone()
    return row[0]


def _sequence_next(model, key: dict[str, Any], field: str) -> int:
    name = "_".join([model._meta.db_table, *(str(value) for value in key.values()), "seq"])[:63]
    take = "SELECT nextval(r) FROM to_regclass(%s) AS r WHERE r IS NOT NULL"
    with connection.cursor() as cursor:
        cursor.execute(take, [name])
        row = cursor.fetchone()
        if row is None:
            start = (model.objects.filter(**key).values_list(field, flat=True).first() or 0) + 1
            try:
                with transaction.atomic():  # a savepoint: another transaction may make it first
                    cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(start)}')
            except DatabaseError:
                pass  # made (and committed) by the other transaction meanwhile
            cursor.execute(take, [name])
            row = cursor.fetchone()
    return row[0]
