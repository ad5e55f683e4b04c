"""API tokens for systems: created once (the plain token is shown only then), stored as SHA-256."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from ninja.security import HttpBearer

from yiwang.core.audit import audit_record
from yiwang.core.models import ApiToken

TOKEN_PREFIX = "yw_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Any, user: Any, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """Create a token for `user`. Returns the row and the plain token (shown once)."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + datetime.timedelta(days=days) if days else None
    token = ApiToken.objects.create(
        user=user, name=name, prefix=plain[:8], token_hash=_digest(plain), expires_at=expires
    )
    audit_record(
        actor=actor,
        action="api_token.create",
        target=token,
        after={"user": user.get_username(), "name": name, "expires_at": expires},
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    token.revoked = True
    audit_record(actor=actor, action="api_token.revoke", target=token)
    return token


def api_token_user(plain: str) -> Any | None:
    """The active user behind a plain token, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_digest(plain), revoked=False, user__is_active=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at <= timezone.now()):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user
