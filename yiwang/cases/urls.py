"""Pages of the cases app (mounted at /cases/)."""

from django.urls import path

from yiwang.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("overdue/", views.overdue, name="overdue"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/transition/", views.transition, name="transition"),
    path("<int:case_id>/attachments/<int:event_id>/", views.attachment, name="attachment"),
]
