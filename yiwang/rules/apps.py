from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RulesConfig(AppConfig):
    name = "yiwang.rules"
    label = "rules"
    verbose_name = _("Rules")

    def ready(self):
        from yiwang.rules.mirror import connect

        connect()  # the typed mirrors follow the exchange's ingests
        _web_register()


def _web_register() -> None:
    """The rules workbench on the workbenches of those who write and approve rules, and its
    menu entry for them."""
    from yiwang.core.models import Role
    from yiwang.rules.services import access_rules_workbench
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_section_register

    workbench_section_register(
        Role.DATA_STEWARD,
        Section(
            key="rules",
            title=_("Rules and parameters"),
            description=_("Policy and screening rules: write drafts, set dated parameters, run a what-if."),
            url_name="rules:index",
            order=50,
        ),
    )
    for role, order in ((Role.SUPERVISOR, 60), (Role.CITY_LEADER, 60)):
        workbench_section_register(
            role,
            Section(
                key="rules_approval",
                title=_("Rules to approve"),
                description=_(
                    "Drafts of policy and screening rules: their what-if, approval and publication."
                ),
                url_name="rules:index",
                order=order,
            ),
        )
    nav_entry_register(
        NavEntry(
            key="rules",
            label=pgettext_lazy("navigation", "Rules"),
            url_name="rules:index",
            visible=access_rules_workbench,
            order=70,
        )
    )
