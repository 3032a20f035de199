"""The owner's home (their households, the surveys each may answer now, the latest messages) and their inbox
(newest first, a page at a time by the inbox API's cursor; an item marked read by a plain form)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn, Cursor
from api.pages.errors import SIGN_IN, on_page_error
from api.pages.formats import when
from api.pages.lang import lang_of
from api.pages.owner import DEFAULT_ZONE, HOME, owner_page
from api.pages.render import wants_html
from api.pages.session import Owner
from core.errors import Unauthorized
from core.notifications import service as notifications
from core.notifications.models import InboxItem
from core.places.households import Household, owner_households
from surveys.owner_view import OpenSurvey, open_surveys

LATEST = 3  # messages on the home page
PAGE = 20  # messages on a page of the inbox
# where an owner reads more of what a message is about (by the table of its record)
RECORD_PAGES = {
    "survey_campaigns": f"{HOME}/surveys",
    "survey_actions": f"{HOME}/surveys",
    "owner_meetings": f"{HOME}/meetings",
}


def to_sign_in(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The home is at /owner, which the pages' error handler does not count as an owner page (/owner/...)."""
    if isinstance(exc, Unauthorized) and wants_html(request):
        return Redirect(f"{SIGN_IN}?next={HOME}", status_code=303)
    return on_page_error(request, exc)


def _messages(request: Request[Any, Any, Any], items: list[InboxItem], zones: dict[str, str]) -> list[dict[str, Any]]:
    english = lang_of(request) == "en"
    return [
        {
            "id": item.id,
            "title": item.title_en if english else item.title_zh,
            "body": item.body_en if english else item.body_zh,
            "when": when(request, item.created_at, zones.get(item.property_id or "", DEFAULT_ZONE)),
            "unread": item.read_at is None,
            "href": RECORD_PAGES.get(item.record_table or "", ""),
        }
        for item in items
    ]


def _households(
    request: Request[Any, Any, Any], households: list[Household], surveys: list[OpenSurvey]
) -> list[dict[str, Any]]:
    english = lang_of(request) == "en"
    return [
        {
            "household": household,
            "surveys": [
                {
                    "name": survey.name_en if english else survey.name_zh,
                    "href": f"/survey/{survey.token}",
                    "closes": when(request, survey.closes_at, household.timezone),
                    "answered": survey.responded_at is not None,
                }
                for survey in surveys
                if survey.unit_id == household.unit_id
            ],
        }
        for household in households
    ]


class OwnerHomePages(Controller):
    path = HOME
    include_in_schema = False

    @get("/", exception_handlers={Unauthorized: to_sign_in})
    async def home(self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices) -> Template:
        households = await owner_households(conn, owner)
        surveys: list[OpenSurvey] = []
        if services.registry.has("surveys"):
            secret = services.settings.secret_key or ""  # the services always have one (bootstrap.with_secret)
            surveys = await open_surveys(conn, owner, secret=secret, now=services.clock.now())
        latest = await notifications.list_inbox(conn, owner, unread=False, cursor=None, limit=LATEST)
        zones = {h.property_id: h.timezone for h in households}
        context = {
            "households": _households(request, households, surveys),
            "surveys_on": services.registry.has("surveys"),
            "meetings_on": services.registry.has("meetings"),
            "tickets_on": services.registry.has("servicedesk"),
            "messages": _messages(request, latest.items, zones),
            "more_messages": latest.next_cursor is not None,
        }
        return owner_page(request, services, "owner/home.html", "home", context, heading="owner.home.title")

    @get("/inbox")
    async def inbox(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices, cursor: Cursor = None
    ) -> Template:
        listed = await notifications.list_inbox(conn, owner, unread=False, cursor=cursor, limit=PAGE)
        zones = {h.property_id: h.timezone for h in await owner_households(conn, owner)}
        context = {
            "messages": _messages(request, listed.items, zones),
            "cursor": request.query_params.get("cursor") or "",
            "next": f"{HOME}/inbox?{urlencode({'cursor': listed.next_cursor})}" if listed.next_cursor else "",
        }
        return owner_page(request, services, "owner/inbox.html", "inbox", context, heading="owner.inbox.title")

    @post("/inbox/{item_id:str}/read", status_code=303)
    async def mark_read(
        self, request: Request[Any, Any, Any], item_id: FromPath[str], owner: Owner, conn: Conn, services: AppServices
    ) -> Redirect:
        await notifications.mark_read(conn, owner, item_id, services.clock.now())
        cursor = (await request.form()).get("cursor")
        back = f"{HOME}/inbox" + (f"?{urlencode({'cursor': cursor})}" if isinstance(cursor, str) and cursor else "")
        return Redirect(f"{back}#m-{item_id}", status_code=303)
