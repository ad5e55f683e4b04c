"""Pages of the relapse app (mounted at /relapse/)."""

from django.urls import path

from yiwang.relapse import views

app_name = "relapse"
urlpatterns = [
    path("", views.index, name="index"),
    path("screen/", views.screen_now, name="screen"),
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/<int:warning_id>/", views.warning_detail, name="warning_detail"),
    path("monitored/", views.monitored, name="monitored"),
    path("monitored/<int:monitored_id>/", views.monitored_detail, name="monitored_detail"),
    path("report/", views.report, name="report"),
]
