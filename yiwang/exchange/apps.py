from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "yiwang.exchange"
    label = "exchange"
    verbose_name = _("Data exchange")

    def ready(self) -> None:
        from yiwang.core.access import access_staff
        from yiwang.core.models import Role
        from yiwang.web.navigation import NavEntry, nav_entry_register
        from yiwang.web.workbenches import Section, workbench_section_register

        steward = Role.DATA_STEWARD
        for section in (
            Section(
                key="catalog",
                title=_("Data resource catalog"),
                description=_("What each department publishes, field by field."),
                url_name="exchange:catalog",
                order=10,
            ),
            Section(
                key="sharing_requests",
                title=_("Sharing requests"),
                description=_("Requests for shared data to approve or refuse."),
                url_name="exchange:requests",
                order=20,
            ),
            Section(
                key="exchange_metrics",
                title=_("Exchange metrics"),
                description=_("Mount rate, update timeliness, reads and pending requests."),
                url_name="exchange:metrics",
                order=25,
            ),
        ):
            workbench_section_register(steward, section)
        mine = Section(
            key="my_data_access",
            title=_("My data access"),
            description=_("Your department's grants and requests for shared data."),
            url_name="exchange:mine",
            order=15,
        )
        for role in (Role.DEPARTMENT_HANDLER, steward):
            workbench_section_register(role, mine)
        nav_entry_register(
            NavEntry(
                key="exchange",
                label=_("Data exchange"),
                url_name="exchange:catalog",
                visible=access_staff,
                order=60,
            )
        )
