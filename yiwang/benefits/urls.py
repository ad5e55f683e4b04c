"""Pages of the benefits app (mounted at /benefits/)."""

from django.urls import path  # noqa: F401

app_name = "benefits"
urlpatterns: list = []
