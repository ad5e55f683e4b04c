from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from yiwang.cases import notices, tasks  # noqa: F401  (registers the engine's tasks)
        from yiwang.core.models import Role
        from yiwang.web.workbenches import Section, workbench_section_register

        for role in (Role.DEPARTMENT_HANDLER, Role.SUPERVISOR):
            workbench_section_register(
                role,
                Section(
                    key="case_queue",
                    title=_("My case queue"),
                    description=_("Cases of your department and assigned to you, with their time limits."),
                    url_name="cases:queue",
                    order=5,
                ),
            )
        workbench_section_register(
            Role.DEPARTMENT_HANDLER,
            Section(
                key="deadline_warnings",
                title=_("Deadline warnings"),
                description=_("Cases turning yellow or red."),
                url_name="cases:queue",
                url_kwargs={},
                order=40,
            ),
        )
        workbench_section_register(
            Role.SUPERVISOR,
            Section(
                key="overdue_cases",
                title=_("Overdue cases"),
                description=_("Every case past its time limit."),
                url_name="cases:overdue",
                order=20,
            ),
        )
