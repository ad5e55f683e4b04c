"""Two transactions at once, the first held open: does the second have to wait for it?"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction


def while_a_transaction_is_open(first: Callable[[], Any], second: Callable[[], Any]) -> dict[str, Any]:
    """Run `first` in a transaction that stays open, then (in another thread, connection and
    transaction) `second`; `first`'s transaction commits once `second`'s has (or after 10 s).
    Returns both results and whether `second` committed while `first`'s transaction was still
    open (it would not have if `first` held a lock `second` needs)."""
    done, release, found = threading.Event(), threading.Event(), {}

    def hold():
        try:
            with transaction.atomic():
                found["first"] = first()
                done.set()
                release.wait(10)
        finally:
            connections.close_all()

    def follow():
        try:
            done.wait(10)
            with transaction.atomic():
                found["second"] = second()
            found["second committed first"] = not release.is_set()
        finally:
            release.set()
            connections.close_all()

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return found
