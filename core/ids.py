"""Record ids: 20 random base-62 characters (~119 bits), the same alphabet WatermelonDB uses."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(20))
