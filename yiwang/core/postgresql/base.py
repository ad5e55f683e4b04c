"""Django's PostgreSQL backend with `before_commit` (yiwang/core/db.py)."""

from django.db.backends.postgresql import base

from yiwang.core.db import BeforeCommitMixin


class DatabaseWrapper(BeforeCommitMixin, base.DatabaseWrapper):
    pass
