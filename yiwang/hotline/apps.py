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
        _web_register()


def _web_register() -> None:
    """The hotline's tiles on the workbenches of the roles on the loop, and its menu entry."""
    from yiwang.core.models import Role
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_section_register

    sections = [
        (
            Role.CITIZEN,
            Section(
                key="hotline_request",
                title=_("Ask the 12345 hotline"),
                description=_("Requests, complaints and advice."),
                url_name="hotline:file",
                order=50,
            ),
        ),
        (
            Role.CITIZEN,
            Section(
                key="hotline_mine",
                title=_("My hotline tickets"),
                description=_("Where each request stands; rate the replies."),
                url_name="hotline:mine",
                order=55,
            ),
        ),
        (
            Role.HOTLINE_OPERATOR,
            Section(
                key="call_intake",
                title=_("Call intake"),
                description=_("Register a call as a ticket."),
                url_name="hotline:console",
                order=10,
            ),
        ),
        (
            Role.HOTLINE_OPERATOR,
            Section(
                key="satisfaction_checks",
                title=_("Satisfaction checks"),
                description=_("Call back citizens whose tickets are resolved."),
                url_name="hotline:callbacks",
                order=30,
            ),
        ),
        (
            Role.DISPATCHER,
            Section(
                key="routing",
                title=_("Routing"),
                description=_("Tickets waiting for a department."),
                url_name="hotline:dispatch_queue",
                order=10,
            ),
        ),
        (
            Role.DISPATCHER,
            Section(
                key="returns",
                title=_("Returned tickets"),
                description=_("Returned tickets wait in the dispatch queue, with the department's reason."),
                url_name="hotline:dispatch_queue",
                order=20,
            ),
        ),
        (
            Role.DISPATCHER,
            Section(
                key="dispatch_overdue",
                title=_("Overdue tickets"),
                description=_("Tickets past their time limit."),
                url_name="hotline:overdue",
                order=30,
            ),
        ),
        (
            Role.SUPERVISOR,
            Section(
                key="supervision",
                title=_("Supervision"),
                description=_("Tickets under supervision: pressed, overdue or the citizen not satisfied."),
                url_name="hotline:supervision",
                order=10,
            ),
        ),
        (
            Role.SUPERVISOR,
            Section(
                key="hotline_overdue",
                title=_("Overdue tickets"),
                description=_("Tickets past their time limit."),
                url_name="hotline:overdue",
                order=15,
            ),
        ),
        (
            Role.SUPERVISOR,
            Section(
                key="hotline_unresolved",
                title=_("Closed but not resolved"),
                description=_("Tickets closed without solving the citizen's problem, with the reason."),
                url_name="hotline:unresolved",
                order=18,
            ),
        ),
        (
            Role.DEPARTMENT_HANDLER,
            Section(
                key="tickets_to_handle",
                title=_("Tickets to handle"),
                description=_("Hotline tickets dispatched to your department."),
                url_name="hotline:handling",
                order=20,
            ),
        ),
    ]
    # The figures pages (views_kpis) on the workbenches of those who read them.
    for role, key, title, description, order in (
        (
            Role.SUPERVISOR,
            "key_rates",
            _("Response, resolution and satisfaction rates"),
            _("By department and town."),
            30,
        ),
        (
            Role.CITY_LEADER,
            "hotline_rates",
            _("Hotline key figures"),
            _("Response, resolution and satisfaction rates."),
            20,
        ),
    ):
        sections.append(
            (
                role,
                Section(key=key, title=title, description=description, url_name="hotline:kpis", order=order),
            )
        )
    for role in (Role.SUPERVISOR, Role.CITY_LEADER, Role.DISPATCHER):
        sections.append(
            (
                role,
                Section(
                    key="hotline_hotspots",
                    title=_("Hotspots"),
                    description=_("Where the same problem is reported again and again, rising first."),
                    url_name="hotline:hotspots",
                    order=40,
                ),
            )
        )
    sections.append(
        (
            Role.HOTLINE_OPERATOR,
            Section(
                key="ticket_search",
                title=_("Ticket search"),
                description=_("Find a ticket and tell the caller where it stands."),
                url_name="hotline:search",
                order=20,
            ),
        )
    )
    for role, section in sections:
        workbench_section_register(role, section)
    nav_entry_register(NavEntry(key="hotline", label=_("12345 hotline"), url_name="hotline:index", order=40))
