"""The shell's navigation: entries that applications register, each shown to whom it concerns.

    from yiwang.web.navigation import NavEntry, nav_entry_register

    nav_entry_register(NavEntry(key="hotline", label=_("Hotline"), url_name="hotline:index",
                                visible=lambda user: access_role(user, Role.HOTLINE_OPERATOR), order=30))

`visible` decides with the access_* questions of yiwang.core.access; nothing else.
Entries with group="city" appear in the "See the city" tab bar instead of the header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from yiwang.core.access import access_role, access_staff, user_roles
from yiwang.core.models import Role


def _everyone(user: Any) -> bool:
    return True


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: Any
    url_name: str
    visible: Callable[[Any], bool] = _everyone
    order: int = 100
    group: str = "main"
    exact: bool = False  # active only on the exact URL (the home page), not below it


_ENTRIES: dict[str, NavEntry] = {}


def nav_entry_register(entry: NavEntry) -> NavEntry:
    """Add an entry, replacing any entry with the same key."""
    _ENTRIES[entry.key] = entry
    return entry


def nav_entries(*, user: Any, path: str, group: str = "main") -> list[dict[str, Any]]:
    """The entries of a group this user may see, in order, with the current one marked."""
    shown = []
    for entry in sorted(_ENTRIES.values(), key=lambda item: (item.order, item.key)):
        if entry.group != group or not entry.visible(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        active = path == url if entry.exact else path.startswith(url)
        shown.append({"key": entry.key, "label": entry.label, "url": url, "active": active})
    return shown


def _has_role(user: Any) -> bool:
    return bool(user_roles(user))


def _is_admin(user: Any) -> bool:
    return access_role(user, Role.ADMIN)


nav_entry_register(NavEntry(key="home", label=_("Home"), url_name="web:home", order=0, exact=True))
nav_entry_register(
    NavEntry(key="workbench", label=_("My workbench"), url_name="web:workbench", visible=_has_role, order=10)
)
nav_entry_register(
    NavEntry(key="city", label=_("See the city"), url_name="web:city", visible=access_staff, order=50)
)
nav_entry_register(
    NavEntry(key="admin", label=_("Administration"), url_name="admin:index", visible=_is_admin, order=90)
)

for _order, (_key, _label, _url_name) in enumerate(
    [
        ("divisions", _("Divisions"), "web:divisions"),
        ("departments", _("Departments"), "web:departments"),
        ("persons", _("Persons"), "web:persons"),
        ("households", _("Households"), "web:households"),
        ("enterprises", _("Enterprises"), "web:enterprises"),
        ("properties", _("Properties"), "web:properties"),
    ]
):
    nav_entry_register(
        NavEntry(
            key=f"city_{_key}",
            label=_label,
            url_name=_url_name,
            visible=access_staff,
            order=_order * 10,
            group="city",
        )
    )
