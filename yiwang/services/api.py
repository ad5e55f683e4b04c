"""The services JSON API (mounted at /api/services)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["services"])
