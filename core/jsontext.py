"""Decoding JSON that a client sent. Every decoder of client JSON outside the request body goes through here.

msgspec (like the json module) decodes nested arrays and objects recursively and gives up with RecursionError
near Python's recursion limit: about 1,000 levels, fewer the deeper the caller's own stack. RecursionError is
not a DecodeError, so a caller that refuses malformed JSON by catching DecodeError let it through as a 500.
Here it becomes the DecodeError it is to the client: JSON we will not read. (Request bodies decoded by
Litestar are handled the same way in api/requests.py.)
"""

from __future__ import annotations

from typing import Any

import msgspec

TOO_DEEP = "JSON nested too deeply"

_any = msgspec.json.Decoder()


def decode(data: bytes | str, decoder: msgspec.json.Decoder[Any] = _any) -> Any:
    """`decoder.decode(data)`, with too deep a nesting raised as msgspec.DecodeError."""
    try:
        return decoder.decode(data)
    except RecursionError:
        raise msgspec.DecodeError(TOO_DEEP) from None
