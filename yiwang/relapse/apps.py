from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelapseConfig(AppConfig):
    name = "yiwang.relapse"
    label = "relapse"
    verbose_name = _("Poverty-relapse monitoring")
