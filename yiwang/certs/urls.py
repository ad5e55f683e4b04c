"""Pages of the certs engine (mounted at /certs/): verification of an e-certificate by anyone,
the holder's certificates, the issuing department's list, the seals."""

from django.urls import path

from yiwang.certs import views

app_name = "certs"
urlpatterns = [
    path("", views.index, name="index"),
    # anyone
    path("verify/<str:number>/<str:token>/", views.verify, name="verify"),
    path("check/", views.check, name="check"),
    path("seals/", views.seals, name="seals"),
    path("seals/<str:key_id>/rotate/", views.seal_rotate, name="seal_rotate"),
    # holders and the issuing department
    path("mine/", views.mine, name="mine"),
    path("issued/", views.issued, name="issued"),
    path("c/<str:number>/", views.certificate, name="certificate"),
    path("c/<str:number>/document.json", views.download, name="download"),
    path("c/<str:number>/revoke/", views.revoke, name="revoke"),
]
