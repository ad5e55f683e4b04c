"""The certs JSON API (mounted at /api/certs)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["certs"])
