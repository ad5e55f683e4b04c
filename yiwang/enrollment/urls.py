"""Pages of the enrollment app (mounted at /enrollment/)."""

from django.urls import path

from yiwang.enrollment import views

app_name = "enrollment"
urlpatterns = [
    path("", views.index, name="index"),
    path("register/", views.register, name="register"),
    path("registrations/<str:number>/", views.registration, name="registration"),
    path("registrations/<str:number>/choices/", views.choices, name="choices"),
    path("registrations/<str:number>/appeal/", views.appeal, name="appeal"),
    path("bureau/", views.bureau, name="bureau"),
    path("bureau/season/", views.season_edit, name="season_edit"),
    path("bureau/schools/<str:code>/", views.school_edit, name="school_edit"),
    path("bureau/allocate/", views.allocate, name="allocate"),
    path("bureau/figures/", views.figures, name="figures"),
    path("bureau/appeals/", views.appeals, name="appeals"),
    path("bureau/registrations/<str:number>/", views.registration, name="registration_staff"),
    path("schools/<str:code>/", views.roster, name="roster"),
]
