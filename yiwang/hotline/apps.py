from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "yiwang.hotline"
    label = "hotline"
    verbose_name = _("Hotline")

    def ready(self) -> None:
        from yiwang.cases.types import case_type_register
        from yiwang.hotline.cases import TICKET_TYPE

        case_type_register(TICKET_TYPE)
