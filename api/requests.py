"""The request class: a JSON body that is not JSON, or holds what PostgreSQL cannot store, is refused here.

Litestar decodes the body with msgspec before the handler's types are checked. msgspec raises UnicodeDecodeError
for invalid UTF-8 and RecursionError for very deep nesting, which Litestar does not turn into a 400; and a NUL
(\\u0000) decodes fine but fails in PostgreSQL, whose text cannot hold it. Both would answer 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, ValidationException


class JSONRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        media_type, _ = self.content_type
        if media_type and media_type != "application/json" and not media_type.endswith("+json"):
            raise ClientException(f"send the body as application/json, not {media_type}", status_code=415)
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
