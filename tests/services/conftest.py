"""The real city (divisions and departments) for the services tests."""

from __future__ import annotations

import pytest

from yiwang.core.reference import reference_load
from yiwang.services.search import search_index_clear


@pytest.fixture
def city(db):
    reference_load()
    search_index_clear()
    yield
    search_index_clear()
