"""Pages of the services app (mounted at /services/)."""

from django.urls import path

from yiwang.services import views, views_bundles, views_gaps, views_window

app_name = "services"
urlpatterns = [
    path("", views.index, name="index"),
    path("matters/<str:code>/", views.guide, name="guide"),
    path("matters/<str:code>/apply/", views.apply, name="apply"),
    # applicants
    path("mine/", views.mine, name="mine"),
    path("applications/<str:reference>/", views.application, name="application"),
    path("applications/<str:reference>/rate/", views.rate, name="rate"),
    path("applications/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    # departments and the window
    path("handling/", views.handling, name="handling"),
    path("handling/<int:case_id>/", views.handle, name="handle"),
    path("handling/<int:case_id>/act/", views.act, name="act"),
    path("handling/<int:case_id>/materials/<int:material_id>/", views.material_file, name="material_file"),
    # the catalog's keepers
    path("import/", views.import_catalog, name="import"),
]
urlpatterns += views_bundles.urlpatterns + views_gaps.urlpatterns + views_window.urlpatterns
