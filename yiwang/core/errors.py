"""Typed errors shared by every app. The API and the pages turn them into one shape."""

from __future__ import annotations


class DomainError(Exception):
    """A request the platform refuses for a reason the user can act on."""

    code = "refused"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FieldErrors(DomainError):
    """Bad input: one or more fields, each with its path (e.g. ("members", 2, "id_number"))."""

    code = "invalid"
    status = 422

    def __init__(self, errors: list[tuple[tuple[str | int, ...], str]], message: str | None = None):
        self.errors = errors
        self.summary = message
        first = errors[0] if errors else ((), "")
        super().__init__(message or f"{'.'.join(str(p) for p in first[0])}: {first[1]}")

    @classmethod
    def single(cls, field: str, message: str) -> FieldErrors:
        return cls([((field,), message)])


class NotFound(DomainError):
    """Missing or forbidden: the caller is told the same in both cases."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    """The caller may not take this action (objects they may not see are NotFound instead)."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409
