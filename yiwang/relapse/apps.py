from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelapseConfig(AppConfig):
    name = "yiwang.relapse"
    label = "relapse"
    verbose_name = _("Poverty-relapse monitoring")

    def ready(self) -> None:
        from yiwang.cases.types import case_type_register
        from yiwang.relapse import tasks  # registers the schedule's tasks
        from yiwang.relapse.cases import VERIFICATION_TYPE

        case_type_register(VERIFICATION_TYPE)
        from yiwang.exchange.services import INGEST_LISTENERS

        if tasks.on_ingest not in INGEST_LISTENERS:
            INGEST_LISTENERS.append(tasks.on_ingest)  # after the rules engine's mirror
        _web_register()


def _web_register() -> None:
    """Tiles on the workbenches of the town cadres, the 乡村振兴局, supervisors and city leaders,
    the citizen's application, and the menu entry."""
    from yiwang.core.models import Role
    from yiwang.relapse.selectors import access_relapse_view
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_section_register

    for role, key, title, description, url_name, order in (
        (
            Role.DEPARTMENT_HANDLER,
            "relapse_warnings",
            _("Relapse warnings to verify"),
            _("Households flagged by the departments or reported: verify within 15 working days."),
            "relapse:warnings",
            40,
        ),
        (
            Role.DEPARTMENT_HANDLER,
            "relapse_monitored",
            _("Monitored households"),
            _("Assistance measures, reviews and clearing the risk."),
            "relapse:monitored",
            45,
        ),
        (
            Role.DEPARTMENT_HANDLER,
            "relapse_report",
            _("Report a household at risk"),
            _("A village cadre's report of a household in difficulty."),
            "relapse:report",
            46,
        ),
        (
            Role.SUPERVISOR,
            "relapse_dashboard",
            _("Relapse monitoring"),
            _("Warnings, monitored households and measures by town."),
            "relapse:index",
            50,
        ),
        (
            Role.CITY_LEADER,
            "relapse_dashboard",
            _("Relapse monitoring"),
            _("Warnings, monitored households and measures by town."),
            "relapse:index",
            30,
        ),
        (
            Role.CITIZEN,
            "relapse_apply",
            _("Apply for relapse-prevention help"),
            _("Tell the town if your household has fallen into difficulty (illness, disaster, accident…)."),
            "relapse:report",
            70,
        ),
    ):
        workbench_section_register(
            role, Section(key=key, title=title, description=description, url_name=url_name, order=order)
        )
    nav_entry_register(
        NavEntry(
            key="relapse",
            label=_("Relapse monitoring"),
            url_name="relapse:index",
            visible=access_relapse_view,
            order=60,
        )
    )
