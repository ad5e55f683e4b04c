"""Pages of the enrollment app (mounted at /enrollment/)."""

from django.urls import path  # noqa: F401

app_name = "enrollment"
urlpatterns: list = []
