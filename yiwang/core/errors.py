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


class ErrorCollector:
    """Gathers every field error of one input before anything is written, then raises them
    together as one FieldErrors."""

    def __init__(self, prefix: tuple[str | int, ...] = ()):
        self.prefix = prefix
        self.errors: list[tuple[tuple[str | int, ...], str]] = []

    def add(self, field: str | tuple[str | int, ...], message: str) -> None:
        path = (field,) if isinstance(field, str) else field
        self.errors.append((self.prefix + path, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)
