"""Pages of the hotline app (mounted at /hotline/)."""

app_name = "hotline"
urlpatterns: list = []
