"""The benefits JSON API (mounted at /api/benefits)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["benefits"])
