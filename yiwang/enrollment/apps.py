from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "yiwang.enrollment"
    label = "enrollment"
    verbose_name = _("School enrollment")

    def ready(self) -> None:
        from yiwang.cases.types import case_type_register
        from yiwang.enrollment.cases import APPEAL_TYPE

        case_type_register(APPEAL_TYPE)
        _web_register()


def _web_register() -> None:
    """Enrollment tiles on the workbenches of parents, the education bureau and leaders, and
    its menu entry."""
    from yiwang.core.models import Role
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_section_register

    sections = [
        (
            Role.CITIZEN,
            Section(
                key="enrollment_register",
                title=_("School enrollment"),
                description=_(
                    "Register your child for primary or junior middle school and see the placement."
                ),
                url_name="enrollment:index",
                order=45,
            ),
        ),
        (
            Role.DEPARTMENT_HANDLER,
            Section(
                key="enrollment_bureau",
                title=_("School enrollment season"),
                description=_("Education bureau: schools, catchments, checks, allocation, appeals."),
                url_name="enrollment:bureau",
                order=60,
            ),
        ),
        (
            Role.SUPERVISOR,
            Section(
                key="enrollment_bureau",
                title=_("School enrollment season"),
                description=_("Education bureau: schools, catchments, checks, allocation, appeals."),
                url_name="enrollment:bureau",
                order=60,
            ),
        ),
        (
            Role.CITY_LEADER,
            Section(
                key="enrollment_figures",
                title=_("School enrollment figures"),
                description=_("Fill rates, unplaced children and class mix by county."),
                url_name="enrollment:figures",
                order=50,
            ),
        ),
    ]
    for role, section in sections:
        workbench_section_register(role, section)
    nav_entry_register(
        NavEntry(key="enrollment", label=_("School enrollment"), url_name="enrollment:index", order=55)
    )
