"""Pages of the relapse app (mounted at /relapse/)."""

from django.urls import path  # noqa: F401

app_name = "relapse"
urlpatterns: list = []
