from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "yiwang.services"
    label = "services"
    verbose_name = _("One-network services")

    def ready(self) -> None:
        from yiwang.cases.types import case_type_register
        from yiwang.services.cases import APPLICATION_TYPE, BUNDLE_TYPE, RATING_FOLLOWUP_TYPE

        for case_type in (APPLICATION_TYPE, BUNDLE_TYPE, RATING_FOLLOWUP_TYPE):
            case_type_register(case_type)
        # The effects of an application's moves register themselves (yiwang/services/effects.py).
        from yiwang.services import bundles, gaps, instant, window  # noqa: F401

        _web_register()


def _web_register() -> None:
    """The services' tiles on the workbenches of those who apply, accept, review and keep the
    catalog, and the menu entry everyone sees."""
    from yiwang.core.models import Role
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_section_register

    sections = [
        (
            Role.CITIZEN,
            Section(
                key="services_apply",
                title=_("Apply for a service"),
                description=_("Search the service catalog and apply online."),
                url_name="services:index",
                order=10,
            ),
        ),
        (
            Role.CITIZEN,
            Section(
                key="my_applications",
                title=_("My applications"),
                description=_("Where each application stands; rate the service."),
                url_name="services:mine",
                order=15,
            ),
        ),
        (
            Role.ENTERPRISE_AGENT,
            Section(
                key="services_apply",
                title=_("Apply for a service"),
                description=_("Search the service catalog and apply online."),
                url_name="services:index",
                order=10,
            ),
        ),
        (
            Role.ENTERPRISE_AGENT,
            Section(
                key="enterprise_applications",
                title=_("My applications"),
                description=_("Where each application stands; rate the service."),
                url_name="services:mine",
                order=15,
            ),
        ),
        (
            Role.DEPARTMENT_HANDLER,
            Section(
                key="to_review",
                title=_("Applications to review"),
                description=_("Service applications for your department, with their time limits."),
                url_name="services:handling",
                order=10,
            ),
        ),
        (
            Role.WINDOW_CLERK,
            Section(
                key="applications_to_accept",
                title=_("Applications to accept"),
                description=_("Online applications waiting for acceptance, for every department."),
                url_name="services:handling",
                order=10,
            ),
        ),
        (
            Role.DATA_STEWARD,
            Section(
                key="matter_import",
                title=_("Import the matter catalog"),
                description=_("Load matters from CSV or Excel, with a validation report."),
                url_name="services:import",
                order=40,
            ),
        ),
        (
            Role.ADMIN,
            Section(
                key="matter_import",
                title=_("Import the matter catalog"),
                description=_("Load matters from CSV or Excel, with a validation report."),
                url_name="services:import",
                order=40,
            ),
        ),
    ]

    def tile(role, key, title, description, url_name, order):
        sections.append(
            (role, Section(key=key, title=title, description=description, url_name=url_name, order=order))
        )

    for role in (Role.CITIZEN, Role.ENTERPRISE_AGENT):
        tile(
            role,
            "bundles",
            _("One-thing bundles"),
            _("One application for matters of several departments."),
            "services:bundle_index",
            12,
        )
    tile(
        Role.WINDOW_CLERK,
        "window_intake",
        _("Integrated window intake"),
        _("Apply for the citizen in front of you, for any department."),
        "services:window",
        5,
    )
    tile(
        Role.DEPARTMENT_HANDLER,
        "tolerated_gaps",
        _("Tolerated gaps"),
        _("Materials awaited and pledges to verify, due soonest first."),
        "services:gaps",
        12,
    )
    for role in (Role.DEPARTMENT_HANDLER, Role.SUPERVISOR):
        tile(
            role,
            "rating_followups",
            _("Bad ratings to answer"),
            _("Each 差评 is a case with a time limit."),
            "services:followups",
            14,
        )
        tile(
            role,
            "service_ratings",
            _("Service ratings"),
            _("Ratings by matter, department and clerk."),
            "services:ratings",
            16,
        )
    for role, section in sections:
        workbench_section_register(role, section)
    nav_entry_register(
        NavEntry(key="services", label=_("Government services"), url_name="services:index", order=20)
    )
