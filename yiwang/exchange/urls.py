"""Pages of the exchange app (mounted at /exchange/)."""

app_name = "exchange"
urlpatterns: list = []
