"""What the console's tests share: a browser-like client signed in to the console (it asks for HTML, keeps
cookies and sends each form with the CSRF token of the page it came from)."""

from __future__ import annotations

import httpx

from tests.pages_world import HTML, csrf_of
from tests.world import PASSWORD, Org


async def console_sign_in(
    client: httpx.AsyncClient, login_name: str, password: str = PASSWORD, **more: str
) -> httpx.Response:
    """Open the console's sign-in page and send its form, as a browser does."""
    form = (await client.get("/console/sign-in", headers=HTML)).text
    data = {"login": login_name, "password": password, "_csrf_token": csrf_of(form), **more}
    return await client.post("/console/sign-in", data=data, headers=HTML)


async def signed_in_console(client: httpx.AsyncClient, org: Org, who: str = "supervisor") -> httpx.AsyncClient:
    """`client`, signed in to the console as the org's `who` (supervisor or admin)."""
    answer = await console_sign_in(client, org.email(who))
    assert answer.status_code == 303, answer.text
    return client


async def post_form(client: httpx.AsyncClient, page: str, action: str, **fields: str) -> httpx.Response:
    """Send a form of the page at `page` to `action`, with the page's own CSRF token."""
    shown = await client.get(page, headers=HTML)
    assert shown.status_code == 200, shown.text
    return await client.post(action, data={"_csrf_token": csrf_of(shown.text), **fields}, headers=HTML)
