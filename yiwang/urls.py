from django.contrib import admin
from django.urls import include, path

from yiwang.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("exchange/", include("yiwang.exchange.urls")),
    path("cases/", include("yiwang.cases.urls")),
    path("hotline/", include("yiwang.hotline.urls")),
    path("open311/v2/", include("yiwang.hotline.open311_urls")),
    path("rules/", include("yiwang.rules.urls")),
    path("certs/", include("yiwang.certs.urls")),
    path("services/", include("yiwang.services.urls")),
    path("benefits/", include("yiwang.benefits.urls")),
    path("relapse/", include("yiwang.relapse.urls")),
    path("enrollment/", include("yiwang.enrollment.urls")),
    path("", include("yiwang.web.urls")),
]
