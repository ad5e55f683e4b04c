"""Display preferences kept in the browser: large type (适老化) for older and low-vision users."""

from __future__ import annotations

from typing import Any

LARGE_TYPE_COOKIE = "yiwang_large_type"
LARGE_TYPE_MAX_AGE = 365 * 24 * 3600


def large_type_enabled(request: Any) -> bool:
    """On if the browser says so; without a cookie, the logged-in user's stored preference."""
    value = request.COOKIES.get(LARGE_TYPE_COOKIE)
    if value is not None:
        return value == "1"
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "prefers_large_type", False))
