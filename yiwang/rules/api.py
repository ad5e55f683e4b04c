"""The rules JSON API (mounted at /api/rules)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["rules"])
