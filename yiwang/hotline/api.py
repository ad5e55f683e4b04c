"""The hotline's JSON API (mounted at /api/hotline)."""

from ninja import Router

router = Router(tags=["hotline"])
