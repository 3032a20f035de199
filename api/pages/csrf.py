"""Forms are protected by Litestar's CSRF middleware (a signed token in a cookie and in every form). Its secret is
the server's, which only the lifespan knows (it may be kept in the data directory): the middleware is made on the
first request, from the running services. Its cookie is Secure when FIELDWORK_PUBLIC_URL is an https address."""

from __future__ import annotations

import hashlib
import hmac

from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

COOKIE = "csrftoken"


class PageCSRF:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.checked: CSRFMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.checked is None:
            settings = scope["litestar_app"].state.services.settings
            derived = hmac.new(settings.secret_key.encode(), b"fieldwork pages csrf", hashlib.sha256).hexdigest()
            # the cookie is made once for every request, so Secure follows the address owners are given
            secure = (settings.public_url or "").startswith("https://")
            config = CSRFConfig(
                secret=derived, cookie_name=COOKIE, cookie_httponly=True, cookie_samesite="lax", cookie_secure=secure
            )
            self.checked = CSRFMiddleware(self.app, config)
        await self.checked(scope, receive, send)
