"""What every page of the shell knows: the city, the user's roles, navigation, preferences."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yiwang.core.models import Role
from yiwang.web.navigation import nav_entries
from yiwang.web.preferences import large_type_enabled
from yiwang.web.selectors import city_get, user_role_codes


def shell(request):
    user = getattr(request, "user", None)
    city = city_get()
    city_name = city.name if city else ""
    if city_name:
        platform_name = _("Yiwang · %(city)s Digital Government") % {"city": city_name}
    else:
        platform_name = _("Yiwang · Digital Government")
    roles = [
        {
            "code": code,
            "label": Role(code).label,
            "url": reverse("web:workbench_role", kwargs={"role": code}),
        }
        for code in user_role_codes(user=user)
    ]
    path = request.path
    return {
        "platform_name": platform_name,
        "city_name": city_name,
        "user_roles": roles,
        "nav_entries": nav_entries(user=user, path=path),
        "city_nav_entries": nav_entries(user=user, path=path, group="city"),
        "large_type": large_type_enabled(request),
        "current_language": get_language(),
        "shell_languages": settings.LANGUAGES,
    }
