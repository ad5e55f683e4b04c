from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertsConfig(AppConfig):
    name = "yiwang.certs"
    label = "certs"
    verbose_name = _("E-certificates")

    def ready(self) -> None:
        _web_register()


def _web_register() -> None:
    """The holders' certificates on the citizen's and the enterprise agent's workbenches (the
    planned tiles become links), the issuing departments' list, and the menu entry."""
    from yiwang.core.models import Role
    from yiwang.web.navigation import NavEntry, nav_entry_register
    from yiwang.web.workbenches import Section, workbench_get, workbench_section_register

    def order_of(role: str, key: str, default: int) -> int:
        planned = workbench_get(role).sections.get(key)
        return planned.order if planned else default

    for role, key, title, description in (
        (
            Role.CITIZEN,
            "my_certificates",
            _("My e-certificates"),
            _("Licences and certificates, signed and verifiable."),
        ),
        (
            Role.ENTERPRISE_AGENT,
            "enterprise_certificates",
            _("Enterprise e-certificates"),
            _("Licences of your enterprise."),
        ),
    ):
        workbench_section_register(
            role,
            Section(
                key=key,
                title=title,
                description=description,
                url_name="certs:mine",
                order=order_of(role, key, 30),
            ),
        )
    for role in (Role.DEPARTMENT_HANDLER, Role.WINDOW_CLERK):
        workbench_section_register(
            role,
            Section(
                key="certificates_issued",
                title=_("Certificates issued"),
                description=_("E-certificates your department issued: print, check or revoke."),
                url_name="certs:issued",
                order=60,
            ),
        )
    workbench_section_register(
        Role.ADMIN,
        Section(
            key="seals",
            title=_("E-seals"),
            description=_("Each department's seal and its public key."),
            url_name="certs:seals",
            order=60,
        ),
    )
    nav_entry_register(NavEntry(key="certs", label=_("E-certificates"), url_name="certs:index", order=60))
