from django.urls import path

from yiwang.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/<slug:role>/", views.workbench_role, name="workbench_role"),
    path("large-type/", views.large_type, name="large_type"),
    path("city/", views.city, name="city"),
    path("city/divisions/", views.divisions, name="divisions"),
    path("city/departments/", views.departments, name="departments"),
    path("city/persons/", views.persons, name="persons"),
    path("city/persons/new/", views.person_register, name="person_register"),
    path("city/persons/<int:person_id>/", views.person_detail, name="person_detail"),
    path("city/households/", views.households, name="households"),
    path("city/households/<int:household_id>/", views.household_detail, name="household_detail"),
    path("city/enterprises/", views.enterprises, name="enterprises"),
    path("city/properties/", views.properties, name="properties"),
]
