"""Workbenches: one page per role, filled by sections that applications register.

The web shell starts each role's workbench with the sections it is planned to hold (shown
as "coming"). An application fills one in from its AppConfig.ready():

    from yiwang.web.workbenches import Section, workbench_section_register

    class HotlineConfig(AppConfig):
        def ready(self):
            workbench_section_register(
                Role.HOTLINE_OPERATOR,
                Section(key="call_intake", title=_("Call intake"), url_name="hotline:intake",
                        description=_("Register a citizen's call as a ticket.")),
            )

A section registered under an existing key replaces it (the planned placeholder becomes
the real link); a new key adds a section. Sections are shown by `order`, then title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.core.access import STAFF_ROLES
from yiwang.core.models import Role

Text = str | Promise


@dataclass(frozen=True)
class Section:
    """One tile of a workbench. Without url_name it is a planned section ("coming")."""

    key: str
    title: Text
    description: Text = ""
    url_name: str | None = None
    url_kwargs: dict[str, Any] = field(default_factory=dict)
    order: int = 100

    @property
    def url(self) -> str | None:
        if not self.url_name:
            return None
        try:
            return reverse(self.url_name, kwargs=self.url_kwargs or None)
        except NoReverseMatch:
            return None


@dataclass
class Workbench:
    role: str
    summary: Text
    sections: dict[str, Section] = field(default_factory=dict)

    @property
    def title(self) -> Text:
        return Role(self.role).label

    def sections_ordered(self) -> list[Section]:
        return sorted(self.sections.values(), key=lambda section: (section.order, str(section.title)))


_WORKBENCHES: dict[str, Workbench] = {}


def workbench_register(role: str, *, summary: Text) -> Workbench:
    """Declare (or re-describe) the workbench of a role; its sections are kept."""
    role = Role(role).value
    workbench = _WORKBENCHES.get(role)
    if workbench is None:
        workbench = _WORKBENCHES[role] = Workbench(role=role, summary=summary)
    else:
        workbench.summary = summary
    return workbench


def workbench_section_register(role: str, section: Section) -> Section:
    """Add a section to a role's workbench, replacing any section with the same key."""
    role = Role(role).value
    workbench = _WORKBENCHES.get(role) or workbench_register(role, summary="")
    workbench.sections[section.key] = section
    return section


def workbench_get(role: str) -> Workbench:
    """The workbench of a role (every role has one, possibly empty)."""
    role = Role(role).value
    return _WORKBENCHES.get(role) or workbench_register(role, summary="")


def _planned(role: str, summary: Text, sections: list[tuple[str, Text, Text]], start: int = 10) -> None:
    workbench_register(role, summary=summary)
    for index, (key, title, description) in enumerate(sections):
        workbench_section_register(
            role, Section(key=key, title=title, description=description, order=start + index * 10)
        )


# --- What each workbench will hold: placeholders until the applications register theirs ---

_planned(
    Role.CITIZEN,
    _("Apply for services, follow your applications and talk to the city."),
    [
        ("services_apply", _("Apply for a service"), _("Every department's matters in one place.")),
        ("my_applications", _("My applications"), _("Where each application stands, and its time limit.")),
        ("my_certificates", _("My e-certificates"), _("Licences and certificates, signed and verifiable.")),
        ("my_benefits", _("Benefits for me"), _("Benefits you receive without applying.")),
        ("hotline_request", _("Ask the 12345 hotline"), _("Requests, complaints and advice.")),
    ],
)
_planned(
    Role.ENTERPRISE_AGENT,
    _("Act for your enterprise: applications, policies and certificates."),
    [
        (
            "enterprise_applications",
            _("Enterprise applications"),
            _("Matters applied for by your enterprise."),
        ),
        ("enterprise_policies", _("Enterprise policies"), _("Policies your enterprise qualifies for.")),
        ("enterprise_certificates", _("Enterprise e-certificates"), _("Licences of your enterprise.")),
        ("per_mu_evaluation", _("Per-mu evaluation"), _("Your enterprise's grade and its figures.")),
    ],
)
_planned(
    Role.WINDOW_CLERK,
    _("Accept applications for every department at the integrated window."),
    [
        ("window_intake", _("Integrated window intake"), _("Accept an application for any department.")),
        ("grab_queue", _("Grab queue"), _("Call the next visitor from the shared pool.")),
        ("tolerated_gaps", _("Tolerated gaps"), _("Applications waiting for a missing material.")),
        ("assisted_service", _("Assisted service"), _("Help citizens on the spot or remotely.")),
    ],
)
_planned(
    Role.DEPARTMENT_HANDLER,
    _("Handle your department's applications and tickets within their time limits."),
    [
        ("to_review", _("Applications to review"), _("Applications waiting for your department.")),
        ("tickets_to_handle", _("Tickets to handle"), _("Hotline tickets dispatched to your department.")),
        ("parallel_review", _("Parallel review"), _("Your part of bundles handled together.")),
        ("deadline_warnings", _("Deadline warnings"), _("Cases turning yellow or red.")),
    ],
)
_planned(
    Role.HOTLINE_OPERATOR,
    _("Take citizens' calls to the 12345 hotline and register them as tickets."),
    [
        ("call_intake", _("Call intake"), _("Register a call as a ticket.")),
        ("ticket_search", _("Ticket search"), _("Find a ticket and tell the caller where it stands.")),
        (
            "satisfaction_checks",
            _("Satisfaction checks"),
            _("Call back citizens whose tickets are resolved."),
        ),
        ("knowledge_base", _("Knowledge base"), _("Answers from guides and policies.")),
    ],
)
_planned(
    Role.DISPATCHER,
    _("Route hotline tickets to the departments and towns that must handle them."),
    [
        ("routing", _("Routing"), _("Tickets waiting for a department.")),
        ("returns", _("Returned tickets"), _("Tickets a department sent back, with the reason.")),
        ("dispatch_overdue", _("Overdue tickets"), _("Tickets past their time limit.")),
    ],
)
_planned(
    Role.SUPERVISOR,
    _("Press overdue and unsatisfied cases until the loop is closed."),
    [
        ("supervision", _("Supervision"), _("Cases you are pressing, and their answers.")),
        ("overdue_cases", _("Overdue cases"), _("Every case past its time limit.")),
        ("key_rates", _("Response, resolution and satisfaction rates"), _("By department and town.")),
    ],
)
_planned(
    Role.DATA_STEWARD,
    _("Keep the shared data: the catalog, sharing grants and data quality."),
    [
        ("catalog", _("Data resource catalog"), _("What each department publishes, field by field.")),
        ("sharing_requests", _("Sharing requests"), _("Requests for conditional data to approve.")),
        ("data_quality", _("Data quality"), _("Problems found in the base registry.")),
        ("read_audit", _("Read audit"), _("Who read which personal data, and why.")),
    ],
)
_planned(
    Role.CITY_LEADER,
    _("See the whole city on one screen."),
    [
        ("cockpit", _("City cockpit"), _("The city's live indicators.")),
        ("hotline_rates", _("Hotline key figures"), _("Response, resolution and satisfaction rates.")),
        ("relapse_overview", _("Relapse monitoring"), _("Households at risk and the help they get.")),
    ],
)
_planned(
    Role.ADMIN,
    _("Keep the platform running: users, roles, reference data and the audit log."),
    [
        ("users_roles", _("Users and roles"), _("Logins and the roles they hold.")),
        ("reference_data", _("Departments and divisions"), _("The city's reference data.")),
        ("working_calendar", _("Working-day calendar"), _("Corrections to the holiday calendar.")),
        ("audit_verify", _("Audit chain check"), _("Verify that the audit log is intact.")),
    ],
)

# Real links the web shell itself provides: every member of staff may see the city.
for _role in sorted(STAFF_ROLES):
    workbench_section_register(
        _role,
        Section(
            key="see_the_city",
            title=_("See the city"),
            description=_("Divisions, departments and the base registry."),
            url_name="web:divisions",
            order=900,
        ),
    )
workbench_section_register(
    Role.ADMIN,
    Section(
        key="admin_site",
        title=_("Administration site"),
        description=_("Edit users, roles and reference data."),
        url_name="admin:index",
        order=5,
    ),
)
