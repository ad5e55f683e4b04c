"""Pages of the cases app (mounted at /cases/)."""

app_name = "cases"
urlpatterns: list = []
