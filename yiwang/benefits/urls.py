"""Pages of the benefits app (mounted at /benefits/)."""

from django.urls import path

from yiwang.benefits import views

app_name = "benefits"
urlpatterns = [
    path("", views.index, name="index"),
    # the department
    path("policies/", views.policies, name="policies"),
    path("policies/<int:policy_id>/run/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run, name="run"),
    path("runs/<int:run_id>/decide/", views.run_decide, name="run_decide"),
    path("runs/<int:run_id>/why/<int:entitlement_id>/", views.explain_staff, name="explain_staff"),
    # the beneficiary
    path("mine/", views.mine, name="mine"),
    path("mine/why-not/", views.why_not, name="why_not"),
    path("mine/decline/", views.decline, name="decline"),
    path("mine/object/", views.object_, name="object"),
    # figures
    path("reports/", views.reports, name="reports"),
]
