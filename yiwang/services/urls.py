"""Pages of the services app (mounted at /services/)."""

from django.urls import path  # noqa: F401

app_name = "services"
urlpatterns: list = []
