"""Pages of the hotline app (mounted at /hotline/)."""

from django.urls import path

from yiwang.hotline import views
from yiwang.hotline.views_kpis import kpi_urlpatterns

app_name = "hotline"
urlpatterns = [
    path("", views.index, name="index"),
    # citizens
    path("new/", views.file, name="file"),
    path("follow/<uuid:token>/", views.follow, name="follow"),
    path("follow/<uuid:token>/rate/", views.rate, name="rate"),
    path("mine/", views.mine, name="mine"),
    # the centre
    path("console/", views.console, name="console"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("dispatch/", views.dispatch_queue, name="dispatch_queue"),
    path("search/", views.search, name="search"),
    # supervisors and departments
    path("supervision/", views.supervision, name="supervision"),
    path("overdue/", views.overdue, name="overdue"),
    path("unresolved/", views.unresolved, name="unresolved"),
    path("handling/", views.handling, name="handling"),
    # one ticket
    path("tickets/<int:ticket_id>/", views.ticket, name="ticket"),
    path("tickets/<int:ticket_id>/act/", views.act, name="act"),
    *kpi_urlpatterns,  # the figures pages (views_kpis): /hotline/kpis/, /hotline/hotspots/
]
