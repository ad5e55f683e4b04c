"""The JSON API (django-ninja), OpenAPI at /api/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="Yiwang API", version="1")
