"""Pages of the hotline app (mounted at /hotline/)."""

from yiwang.hotline.views_kpis import kpi_urlpatterns

app_name = "hotline"
urlpatterns: list = [
    *kpi_urlpatterns,  # the figures pages (views_kpis): /hotline/kpis/, /hotline/hotspots/
]
