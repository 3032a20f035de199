"""Domain errors. Services raise them; the API maps each to an HTTP status in one table."""

from __future__ import annotations

from typing import Any

import msgspec


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str
    row: int | None = None


class DomainError(Exception):
    """A refusal. Its transaction rolls back, unless `keep_changes`: a refusal that must itself be recorded
    (a stolen refresh token ends its session even though the request fails)."""

    code = "error"
    title = "Error"

    def __init__(self, detail: str, *, keep_changes: bool = False, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.keep_changes = keep_changes
        self.extra = extra


class BadRequest(DomainError):
    code = "bad_request"
    title = "Bad request"


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"
    title = "Not signed in"


class Invalid(DomainError):
    code = "invalid"
    title = "Invalid input"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or []


class RateLimited(DomainError):
    code = "rate_limited"
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class TooLarge(DomainError):
    code = "too_large"
    title = "Too large"
