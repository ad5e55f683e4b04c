from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "yiwang.benefits"
    label = "benefits"
    verbose_name = _("No-application benefits")

    def ready(self) -> None:
        from yiwang.benefits.cases import OBJECTION_TYPE
        from yiwang.cases.types import case_type_register

        case_type_register(OBJECTION_TYPE)
        _web_register()


def _web_register() -> None:
    """The benefits pages on the workbenches of those who use them, and the menu entry."""
    from yiwang.core.models import Role
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_section_register

    sections = [
        (
            Role.CITIZEN,
            Section(
                key="benefits_mine",
                title=_("My benefits"),
                description=_("Benefits paid to you without an application, and why."),
                url_name="benefits:mine",
                order=40,
            ),
        ),
        (
            Role.ENTERPRISE_AGENT,
            Section(
                key="benefits_mine",
                title=_("Our enterprise's benefits"),
                description=_("Policy money paid to the enterprise without an application, and why."),
                url_name="benefits:mine",
                order=40,
            ),
        ),
        (
            Role.DEPARTMENT_HANDLER,
            Section(
                key="benefits_runs",
                title=_("No-application benefits"),
                description=_("Run a policy for a period, review the list and totals, approve payment."),
                url_name="benefits:policies",
                order=40,
            ),
        ),
        (
            Role.SUPERVISOR,
            Section(
                key="benefits_runs",
                title=_("Benefit runs to approve"),
                description=_("Runs awaiting a second person's approval."),
                url_name="benefits:policies",
                order=45,
            ),
        ),
        (
            Role.CITY_LEADER,
            Section(
                key="benefits_reports",
                title=_("No-application benefits: figures"),
                description=_(
                    "Paid, amounts and the share paid without an application, by policy and county."
                ),
                url_name="benefits:reports",
                order=30,
            ),
        ),
        (
            Role.DEPARTMENT_HANDLER,
            Section(
                key="benefits_reports",
                title=_("No-application benefits: figures"),
                description=_(
                    "Paid, amounts and the share paid without an application, by policy and county."
                ),
                url_name="benefits:reports",
                order=45,
            ),
        ),
    ]
    for role, section in sections:
        workbench_section_register(role, section)
    nav_entry_register(NavEntry(key="benefits", label=_("Benefits"), url_name="benefits:index", order=50))
