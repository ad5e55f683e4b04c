"""Pages of the rules engine (mounted at /rules/): rules, versions, parameters, what-if."""

from django.urls import path  # noqa: F401

app_name = "rules"
urlpatterns: list = []
