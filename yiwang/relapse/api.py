"""The relapse JSON API (mounted at /api/relapse)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["relapse"])
