"""Every error leaves as RFC 9457 problem details (application/problem+json); one table maps domain errors."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    Locked,
    NotFound,
    PreconditionFailed,
    RangeNotSatisfiable,
    RateLimited,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from core.outages import DEPENDENCY_DOWN, RETRY_AFTER, which_dependency

log = logging.getLogger("fieldwork.api")

STATUS: dict[type[DomainError], int] = {
    BadRequest: 400,
    Invalid: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PreconditionFailed: 412,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    RangeNotSatisfiable: 416,
    Locked: 423,
    RateLimited: 429,
    ChecksumMismatch: 460,  # tus 1.0 checksum extension
}

# Titles people read, in English and Chinese.
TITLES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "请求格式错误"),
    401: ("Not signed in", "未登录或登录已失效"),
    403: ("Forbidden", "无权操作"),
    404: ("Not found", "未找到"),
    405: ("Method not allowed", "不支持该方法"),
    408: ("Request timeout", "请求超时"),
    409: ("Conflict", "与现有数据冲突"),
    410: ("Gone", "已过期或已删除"),
    412: ("Precondition failed", "前置条件不满足"),
    413: ("Too large", "内容过大"),
    415: ("Unsupported media type", "不支持的内容类型"),
    416: ("Range not satisfiable", "请求的范围无效"),
    422: ("Invalid input", "输入无效"),
    423: ("Locked", "正被其他请求占用"),
    429: ("Too many attempts", "尝试次数过多"),
    460: ("Checksum mismatch", "校验和不匹配"),
    500: ("Internal error", "服务器内部错误"),
    503: ("Service unavailable", "服务暂时不可用，请稍后重试"),
}

_encode = msgspec.json.Encoder().encode


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[bytes]:
    title, title_zh = TITLES.get(status, ("Error", "错误"))
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "title_zh": title_zh,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return Response(_encode(body), status_code=status, media_type="application/problem+json", headers=headers)


def status_of(exc: DomainError) -> int:
    return next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    status = status_of(exc)
    extra = dict(exc.extra)
    headers: dict[str, str] = {}
    if isinstance(exc, Invalid):
        extra["errors"] = msgspec.to_builtins(exc.errors)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{exc.extra.get('size', '*')}"
    if isinstance(exc, PreconditionFailed) and "tus_version" in exc.extra:
        headers["Tus-Version"] = exc.extra["tus_version"]
    return problem(request, status, exc.code, exc.detail, headers=headers, **extra)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, ValidationException):
        errors = [
            {"field": e.get("key", ""), "message": e.get("message", ""), "source": e.get("source", "")}
            for e in (exc.extra if isinstance(exc.extra, list) else [])
        ]
        # a body that parsed but does not fit the schema is 422; a bad query or path parameter is 400
        status = 422 if any(e["source"] == "body" for e in errors) else 400
        return problem(request, status, "invalid", "the request does not match the schema", errors=errors)
    status = exc.status_code
    code = {
        400: "bad_request",
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        408: "request_timeout",
        413: "too_large",
        415: "unsupported_media_type",
    }.get(status, "http_error")
    detail = exc.detail if status < 500 else "internal error"
    if status == 400 and "decode" in detail.lower():
        detail = "the body is not valid JSON"
    return problem(request, status, code, detail, headers=exc.headers)


def on_unstorable_text(request: Request[Any, Any, Any], exc: asyncpg.PostgresError) -> Response[bytes]:
    # a NUL in a path or query parameter reaches SQL (api/requests.py refuses one in a JSON body first)
    return problem(request, 400, "bad_request", "the request holds a NUL character, which cannot be stored")


def on_dependency_down(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    # PostgreSQL or Redis is restarting or unreachable: the client may send the same request again shortly
    # (a push keeps its Idempotency-Key). One line, no traceback: this is an outage, not a bug.
    dependency = which_dependency(exc)
    log.warning(
        "%s %s: %s is unavailable (%s: %s)", request.method, request.url.path, dependency, type(exc).__name__, exc
    )
    return problem(
        request,
        503,
        "unavailable",
        f"{dependency} cannot be reached right now; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER)},
        dependency=dependency,
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal", "internal error; it has been logged")


EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    HTTPException: on_http_error,
    asyncpg.CharacterNotInRepertoireError: on_unstorable_text,
    asyncpg.UntranslatableCharacterError: on_unstorable_text,
    **dict.fromkeys(DEPENDENCY_DOWN, on_dependency_down),
    Exception: on_unexpected,
}
