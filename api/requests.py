"""The request class: a JSON body that is not JSON, or holds what PostgreSQL cannot store, is refused here.

A body (of any route that reads JSON: Litestar's `data`, or the raw bytes through `json_body`) must say it is
JSON: `application/json` or a `+json` type; a body with another content type, or none, is 415.

Litestar decodes the body with msgspec before the handler's types are checked. msgspec raises UnicodeDecodeError
for invalid UTF-8 and RecursionError for very deep nesting, which Litestar does not turn into a 400; and a NUL
(\\u0000) decodes fine but fails in PostgreSQL, whose text cannot hold it. Both would answer 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, ValidationException


class JSONRequest(Request[Any, Any, Any]):
    async def json_body(self) -> bytes:
        """The raw body of a JSON request (415 unless the content type says JSON; an empty body may say nothing)."""
        body = await self.body()
        media_type, _ = self.content_type
        if media_type != "application/json" and not media_type.endswith("+json") and (body or media_type):
            said = f"not {media_type}" if media_type else "and say so in a Content-Type header"
            raise ClientException(f"send the body as application/json, {said}", status_code=415)
        return body

    async def json(self) -> Any:
        await self.json_body()
        try:
            value = await super().json()
        except (UnicodeDecodeError, RecursionError):
            raise ClientException("the body is not valid JSON: invalid UTF-8 or nested too deeply") from None
        if b"\\u0000" in await self.body() and (where := nul_at(value)) is not None:
            raise ValidationException(
                "the body holds a NUL character",
                extra=[{"key": where, "message": "NUL (\\u0000) characters are not allowed", "source": "body"}],
            )
        return value


def nul_at(value: Any) -> str | None:
    """The dotted path of the first key or string holding a NUL ("data" for the body itself), or None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "data"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return child_path
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(item))
    return None
