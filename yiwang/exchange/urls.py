"""Pages of the exchange app (mounted at /exchange/)."""

from django.urls import path

from yiwang.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("resources/<str:code>/", views.resource_detail, name="resource"),
    path("requests/", views.request_queue, name="requests"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="decide"),
    path("metrics/", views.metrics, name="metrics"),
]
