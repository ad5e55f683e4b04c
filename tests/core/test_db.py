"""Work done just before COMMIT (`before_commit`) and counters (yiwang/core/db.py)."""

import pytest
from django.db import DatabaseError, connection, transaction

from tests.core.open_transaction import while_a_transaction_is_open
from yiwang.cases.models import CaseCounter
from yiwang.core.db import counter_next
from yiwang.core.models import AuditEntry


@pytest.mark.django_db(transaction=True)
def test_before_commit_work_runs_once_per_key_just_before_commit_and_not_after_a_rollback():
    ran = []
    with transaction.atomic():
        connection.before_commit("a", lambda: ran.append(("a", AuditEntry.objects.count())))
        connection.before_commit("a", lambda: ran.append(("a again", 0)))
        connection.before_commit("b", lambda: ran.append(("b", 0)))
        assert ran == []
    assert ran == [("a", 0), ("b", 0)]
    with pytest.raises(RuntimeError), transaction.atomic():
        connection.before_commit("c", lambda: ran.append(("c", 0)))
        raise RuntimeError("the service failed")
    with transaction.atomic():
        pass
    assert ran == [("a", 0), ("b", 0)]


@pytest.mark.django_db(transaction=True)
def test_failing_before_commit_work_rolls_the_transaction_back():
    def fail():
        raise ValueError("cannot seal")

    with pytest.raises(DatabaseError, match="cannot seal"), transaction.atomic():
        CaseCounter.objects.create(year=2031, last=7)
        connection.before_commit("fail", fail)
    assert not CaseCounter.objects.filter(year=2031).exists()


@pytest.mark.django_db
def test_counters_count_from_one_per_key_or_on_from_the_row_they_had():
    assert [counter_next(CaseCounter, {"year": 2030}) for _ in range(3)] == [1, 2, 3]
    assert counter_next(CaseCounter, {"year": 2029}) == 1
    CaseCounter.objects.create(year=2028, last=41)
    assert counter_next(CaseCounter, {"year": 2028}) == 42


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_does_not_hold_a_counter_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time whatever the counter does")
    found = while_a_transaction_is_open(
        lambda: counter_next(CaseCounter, {"year": 2027}),
        lambda: counter_next(CaseCounter, {"year": 2027}),
    )
    assert found == {"first": 1, "second": 2, "second committed first": True}
