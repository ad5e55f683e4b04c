"""Pages of the exchange app (mounted at /exchange/)."""

from django.urls import path

from yiwang.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("publish/", views.resource_edit, name="publish"),
    path("mine/", views.my_access, name="mine"),
    path("resources/<str:code>/", views.resource_detail, name="resource"),
    path("resources/<str:code>/edit/", views.resource_edit, name="edit"),
    path("requests/", views.request_queue, name="requests"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="decide"),
    path("metrics/", views.metrics, name="metrics"),
]
