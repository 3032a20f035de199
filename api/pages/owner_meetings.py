"""The owner meetings of the owner's properties: those coming up (time, place, agenda; a cancelled one says so
and why) and the published minutes with their attachments, downloaded here with the session cookie under the
same rule as the API's download (meetings.files.open_attachment: once published, of their property; else 404).
The rows are meetings.owner_view's (the read rule of meetings/synced.py)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream, Template

from api.deps import AppServices, Conn
from api.pages.formats import when
from api.pages.lang import lang_of
from api.pages.owner import HOME, owner_page
from api.pages.session import Owner, provide_owner
from core.db import transaction
from core.errors import NotFound
from meetings.files import open_attachment
from meetings.owner_view import OwnerMeeting, owner_meetings


def _end(request: Request[Any, Any, Any], meeting: OwnerMeeting) -> str:
    """When the meeting ends: its time alone on the day it starts."""
    zone = meeting.timezone
    end = when(request, meeting.ends_at, zone)
    same_day = when(request, meeting.ends_at, zone, with_time=False) == when(
        request, meeting.starts_at, zone, with_time=False
    )
    return end.rpartition(" ")[2] if same_day else end


def _view(request: Request[Any, Any, Any], meeting: OwnerMeeting) -> dict[str, Any]:
    english = lang_of(request) == "en"
    zone = meeting.timezone
    return {
        "id": meeting.id,
        "title": meeting.title_en if english else meeting.title_zh,
        "property": meeting.property_name,
        "start": when(request, meeting.starts_at, zone),
        "end": _end(request, meeting),
        "location": meeting.location or "",
        "agenda": [
            {"title": item.title_en if english else item.title_zh, "note": item.note or ""} for item in meeting.agenda
        ],
        "noticed": when(request, meeting.noticed_at, zone, with_time=False),
        "cancelled": meeting.status == "cancelled",
        "reason": meeting.cancel_reason or "",
        "minutes": (meeting.minutes_en if english else meeting.minutes_zh) or "",
        "published": when(request, meeting.minutes_published_at, zone),
        "attachments": [
            {
                "name": a.filename,
                "href": f"{HOME}/meetings/{meeting.id}/attachments/{a.id}",
                "size": max(1, round(a.size_bytes / 1024)),
            }
            for a in meeting.attachments or []
        ],
    }


class OwnerMeetingPages(Controller):
    path = f"{HOME}/meetings"
    include_in_schema = False

    @get("/")
    async def meetings(
        self, request: Request[Any, Any, Any], owner: Owner, conn: Conn, services: AppServices
    ) -> Template:
        found = await owner_meetings(conn, owner, services.clock.now())
        context = {
            "upcoming": [_view(request, m) for m in found.upcoming],
            "minutes": [_view(request, m) for m in found.minutes],
        }
        return owner_page(request, services, "owner/meetings.html", "meetings", context, heading="owner.meetings.title")

    @get("/{meeting_id:str}/attachments/{attachment_id:str}")
    async def attachment(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[str],
        attachment_id: FromPath[str],
        services: AppServices,
    ) -> Response[Any]:
        async with transaction(services.pool) as conn:  # signed in and allowed; not held while the bytes stream
            owner = await provide_owner(request, conn, services)
            found = await open_attachment(conn, owner, meeting_id, attachment_id)
        if await services.store.head(found.store_key) is None:
            raise NotFound(f"attachment {attachment_id} is missing from storage", id=attachment_id)
        ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", found.filename)
        return Stream(
            services.store.read_range(found.store_key, 0, found.size_bytes),
            media_type=found.content_type,
            headers={
                # RFC 6266: an ASCII name for old browsers, the real one (Chinese, say) in filename*
                "Content-Disposition": f'attachment; filename="{ascii_name}"; '
                f"filename*=UTF-8''{quote(found.filename, safe='')}",
                "Content-Length": str(found.size_bytes),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )
