"""Pages of the certs engine (mounted at /certs/): verification of an e-certificate by anyone."""

from django.urls import path  # noqa: F401

app_name = "certs"
urlpatterns: list = []
