"""An owner files a ticket from the browser: a plain multipart form (kind, category, what happened, what they ask
for, when, photos) for one of their households. Filing is `POST /properties/{id}/tickets`'s use case
(servicedesk/tickets.py file_ticket, channel `web`) with the photos through the photo uploads' checks and storage
(servicedesk/owners.py file_with_photos). The form carries an id made when it was drawn: sent twice, it files one
ticket. A form that needs fixing comes back (422) with what was typed, files aside, and the problem beside each
field; nothing is stored. Its route has its own body limit (the app's is for JSON): `ticket_form_router`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.forms import form_text
from api.pages.lang import Lang, lang_of
from api.pages.owner import frame
from api.pages.owner_tickets import word
from api.pages.render import page
from api.pages.session import Owner
from api.pages.texts import in_lang, translator
from core.errors import Invalid
from core.ids import new_id
from core.places.households import Household
from core.vocabulary import CATEGORIES
from servicedesk import owners
from servicedesk.models import KINDS
from servicedesk.schemas import TicketCreate

MAX_PHOTOS = 4
# multipart framing around the photos and the text fields
FORM_OVERHEAD_BYTES = 256 * 1024
TEXT_LIMITS = {"description": 4000, "request": 2000}
FIELDS = ("household", "kind", "category", "description", "request", "occurred_at", "id")
# a field the domain names, as the form calls it
FORM_FIELD = {"unit_id": "household", "building_id": "household", "photos": "photos"}


def render_form(
    request: Request[Any, Any, Any],
    homes: Sequence[Household],
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
) -> Template:
    lang = lang_of(request)
    return page(
        request,
        "owner/ticket_new.html",
        {
            **frame(request.app.state.services, "tickets"),
            "homes": homes,
            "kinds": [(kind, word("kind", kind, lang)) for kind in KINDS],
            "categories": [(category, word("category", category, lang)) for category in CATEGORIES],
            "values": {"kind": "repair", **values, "id": values.get("id") or new_id()},
            "errors": errors or {},
            "max_photos": MAX_PHOTOS,
            "limits": TEXT_LIMITS,
        },
        status=status,
        lang=lang,
    )


def check_form(
    values: Mapping[str, str], homes: Sequence[Household], photos: int, now: datetime, lang: Lang
) -> tuple[dict[str, str], datetime | None]:
    """The problems of a form, by field, in the page's language; and when it happened, as an instant (the time
    typed is the wall-clock time of the household's property)."""
    t = translator(lang)
    errors: dict[str, str] = {}
    home = next((h for h in homes if h.unit_id == values.get("household")), None)
    if home is None:
        errors["household"] = t("form.need.choice")
    for field, choices in (("kind", KINDS), ("category", CATEGORIES)):
        if values.get(field) not in choices:
            errors[field] = t("form.need.choice")
    if not values.get("description"):
        errors["description"] = t("form.need.description")
    for field, limit in TEXT_LIMITS.items():
        if len(values.get(field, "")) > limit:
            errors[field] = t("form.too_long", count=limit)
    if photos > MAX_PHOTOS:
        errors["photos"] = t("form.too_many", count=MAX_PHOTOS)
    occurred = None
    if values.get("occurred_at"):
        try:
            occurred = datetime.fromisoformat(values["occurred_at"])
        except ValueError:
            errors["occurred_at"] = t("form.bad_time")
        else:
            if occurred.tzinfo is None and home is not None:
                occurred = occurred.replace(tzinfo=ZoneInfo(home.timezone))
            if occurred.tzinfo is None or occurred > now:
                errors["occurred_at"] = t("form.future") if occurred.tzinfo else t("form.bad_time")
    return errors, occurred


def _files(form: FormMultiDict) -> list[UploadFile]:
    """The photos chosen (a file input left empty sends a part without a name)."""
    return [f for f in form.getall("photos") if isinstance(f, UploadFile) and f.filename] if "photos" in form else []


class OwnerTicketForm(Controller):
    path = "/owner/tickets/new"
    include_in_schema = False

    @get("/")
    async def new(self, request: Request[Any, Any, Any], owner: Owner, conn: Conn) -> Template:
        return render_form(request, await owners.households(conn, owner), {})


class OwnerTicketFiling(Controller):
    path = "/owner/tickets"
    include_in_schema = False

    @post("/", status_code=303)
    async def file(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices
    ) -> Response[Any]:
        form = await request.form()
        lang = lang_of(request)
        now = services.clock.now()
        homes = await owners.households(conn, owner)
        values = form_text(form, FIELDS)
        files = _files(form)
        errors, occurred = check_form(values, homes, len(files), now, lang)
        if errors:
            return render_form(request, homes, values, errors, status=422)
        home = next(h for h in homes if h.unit_id == values["household"])
        given = {
            "id": values["id"] or None,
            "kind": values["kind"],
            "category": values["category"],
            "description": values["description"],
            "request": values["request"] or None,
            "unit_id": home.unit_id,
            "occurred_at": occurred,
            "channel": "web",
        }
        try:
            data = msgspec.convert(given, TicketCreate)
        except msgspec.ValidationError as wrong:  # only a tampered form: the checks above cover what people type
            return render_form(request, homes, values, {"form": str(wrong)}, status=422)
        photos = [owners.FormPhoto(data=await f.read(), filename=f.filename) for f in files]
        try:
            async with conn.transaction():  # a photo refused takes the ticket back with it
                ticket, _ = await owners.file_with_photos(
                    conn, services.uploads, owner, home.property_id, data, photos, now
                )
        except Invalid as invalid:
            refused = {FORM_FIELD.get(e.field, e.field): in_lang(e.message, lang) for e in invalid.errors}
            return render_form(request, homes, values, refused or {"form": in_lang(invalid.detail, lang)}, status=422)
        return Redirect(f"/owner/tickets/{ticket.id}?done=filed", status_code=303)


def ticket_form_router(max_photo_bytes: int) -> Router:
    """The filing form's route: its body may carry MAX_PHOTOS photos (the pages' router is for small forms)."""
    return Router(
        path="/",
        route_handlers=[OwnerTicketFiling],
        request_max_body_size=max_photo_bytes * MAX_PHOTOS + FORM_OVERHEAD_BYTES,
    )
