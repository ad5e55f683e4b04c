"""Pages of the rules engine (mounted at /rules/): rules, versions, parameters, what-if."""

from django.urls import path

from yiwang.rules import views

app_name = "rules"
urlpatterns = [
    path("", views.index, name="index"),
    path("draft/", views.draft, name="draft"),
    path("parameters/<str:code>/", views.parameter_detail, name="parameter"),
    path("<str:code>/", views.rule_detail, name="rule"),
    path("<str:code>/try/", views.try_subject, name="try"),
    path("<str:code>/v<int:number>/", views.version_detail, name="version"),
    path("<str:code>/v<int:number>/whatif/", views.whatif, name="whatif"),
    path("<str:code>/v<int:number>/approve/", views.version_approve, name="approve"),
    path("<str:code>/v<int:number>/publish/", views.version_publish, name="publish"),
]
