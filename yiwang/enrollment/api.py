"""The enrollment JSON API (mounted at /api/enrollment)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["enrollment"])
