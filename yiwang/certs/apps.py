from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertsConfig(AppConfig):
    name = "yiwang.certs"
    label = "certs"
    verbose_name = _("E-certificates")
