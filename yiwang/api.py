"""The JSON API (django-ninja); OpenAPI page at /api/docs.

Auth: `Authorization: Bearer <token>` for systems (core.ApiToken), the Django session (with
CSRF) for browsers. Every error has one shape:

    {"error": {"code": "invalid", "message": "…",
               "fields": [{"path": "body.members.0.id_number", "message": "…"}]}}

Missing and forbidden objects both answer 404 with code "not_found".
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from yiwang.core.errors import DomainError, FieldErrors
from yiwang.core.tokens import ApiTokenAuth

api = NinjaAPI(
    title="Yiwang API",
    version="1",
    description="一网 digital-government platform. Token auth for systems, session auth for browsers.",
    auth=[ApiTokenAuth(), SessionAuth()],
    urls_namespace="api",
)


# Error paths that are not inside the JSON body: query and path parameters, uploaded files and
# the rows of an imported table ("rows.3.身份证号": row 3 as a spreadsheet numbers it).
UNPREFIXED = ("query", "path", "file", "rows")


def error_body(code: str, message: str, fields: list[dict] | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _path(location) -> str:
    parts = list(location)
    # Every body parameter is called "payload"; the client sees body.<field>.
    if len(parts) > 1 and parts[0] == "body" and parts[1] == "payload":
        del parts[1]
    return ".".join(str(part) for part in parts)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields = [{"path": _path(error.get("loc", ())), "message": error.get("msg", "")} for error in exc.errors]
    message = _("The request has invalid fields.")
    return api.create_response(request, error_body("invalid", message, fields), status=422)


@api.exception_handler(FieldErrors)
def _field_errors(request, exc: FieldErrors):
    fields = [
        {
            "path": _path(path if path and path[0] in UNPREFIXED else ("body", *path)),
            "message": message,
        }
        for path, message in exc.errors
    ]
    message = exc.summary or _("The request has invalid fields.")
    return api.create_response(request, error_body("invalid", message, fields), status=422)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    message = _("Not found.") if exc.status == 404 else exc.message
    return api.create_response(request, error_body(exc.code, message), status=exc.status)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(
        request, error_body("unauthenticated", _("Log in or send a valid API token.")), status=401
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}
    return api.create_response(
        request, error_body(codes.get(exc.status_code, "error"), str(exc)), status=exc.status_code
    )


api.add_router("/", "yiwang.core.api.router")
api.add_router("/registry", "yiwang.registry.api.router")
api.add_router("/cases", "yiwang.cases.api.router")
api.add_router("/exchange", "yiwang.exchange.api.router")
api.add_router("/hotline", "yiwang.hotline.api.router")
api.add_router("/rules", "yiwang.rules.api.router")
api.add_router("/certs", "yiwang.certs.api.router")
api.add_router("/services", "yiwang.services.api.router")
api.add_router("/benefits", "yiwang.benefits.api.router")
api.add_router("/relapse", "yiwang.relapse.api.router")
api.add_router("/enrollment", "yiwang.enrollment.api.router")
