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

    def __init__(self, detail: str, *, keep_changes: bool = False, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.keep_changes = keep_changes
        if code is not None:  # a finer machine-readable reason than the class gives (a photo's "truncated")
            self.code = code
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


class Gone(DomainError):
    code = "gone"
    title = "Gone"


class Locked(DomainError):
    """Someone else is working on it right now (an upload receiving another request's bytes)."""

    code = "locked"
    title = "Locked"


class PreconditionFailed(DomainError):
    code = "precondition_failed"
    title = "Precondition failed"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ChecksumMismatch(DomainError):
    """The bytes sent do not match the checksum sent with them (tus answers 460)."""

    code = "checksum_mismatch"
    title = "Checksum mismatch"


class RangeNotSatisfiable(DomainError):
    code = "range_not_satisfiable"
    title = "Range not satisfiable"


class Unavailable(DomainError):
    """A dependency (PostgreSQL, Redis) cannot be reached right now; the same request may work shortly."""

    code = "unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, *, dependency: str, retry_after: int) -> None:
        super().__init__(detail, dependency=dependency, retry_after=retry_after)
        self.dependency = dependency
        self.retry_after = retry_after
