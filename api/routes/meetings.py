"""Owner meetings (业主会议) for staff: made by hand or by a schedule, noticed, attendance, minutes and their files.
Owners read meetings through sync; of these routes they use only an attachment's download."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Controller, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.response import Stream

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN, STAFF, in_property_scope
from core.db import transaction
from core.errors import NotFound
from core.structs import Page, Struct
from meetings import attendance as meeting_attendance
from meetings import files as meeting_files
from meetings import service as meetings
from meetings.schemas import (
    Attachment,
    Attendance,
    AttendanceIn,
    Meeting,
    MeetingCancel,
    MeetingCreate,
    MeetingUpdate,
    MinutesDraft,
)

# multipart framing around an attachment: boundaries and part headers
FORM_OVERHEAD_BYTES = 64 * 1024


class AttachmentForm(Struct):
    file: UploadFile


class PropertyMeetingController(Controller):
    path = "/properties/{property_id:str}/meetings"
    tags = ["meetings"]
    guards = [in_property_scope]

    @post("/", guards=[ADMIN], summary="Plan an owner meeting by hand (admin); one per property per quarter")
    async def create(
        self, property_id: FromPath[str], data: JSONBody[MeetingCreate], caller: CurrentCaller, conn: Conn
    ) -> Meeting:
        return await meetings.create_meeting(conn, caller, property_id, data)

    @get("/", guards=[STAFF], summary="A property's owner meetings, latest first (its staff)")
    async def list_all(
        self,
        property_id: FromPath[str],
        caller: CurrentCaller,
        conn: Conn,
        cursor: Cursor = None,
        limit: PageLimit = 100,
    ) -> Page[Meeting]:
        return await meetings.list_meetings(conn, caller, property_id, cursor, limit)


class MeetingController(Controller):
    path = "/meetings/{meeting_id:str}"
    tags = ["meetings"]

    @get("/", summary="A meeting with its draft and published minutes (the property's staff)")
    async def get_one(self, meeting_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Meeting:
        return await meetings.get_meeting(conn, caller, meeting_id)

    @patch("/", summary="Change the title, times, place or agenda (admin); once noticed, the owners are told")
    async def update(
        self, meeting_id: FromPath[str], data: JSONBody[MeetingUpdate], caller: CurrentCaller, conn: Conn
    ) -> Meeting:
        return await meetings.update_meeting(conn, caller, meeting_id, data)

    @post("/notice", status_code=200, summary="Send the notice to the property's owners (admin); once")
    async def notice(
        self, meeting_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> Meeting:
        return await meetings.notice_meeting(conn, caller, meeting_id, services.clock.now())

    @post(
        "/cancel",
        status_code=200,
        summary="Call the meeting off before it is held (supervisor, admin); owners who had the notice are told",
    )
    async def cancel(
        self,
        meeting_id: FromPath[str],
        data: JSONBody[MeetingCancel],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Meeting:
        return await meetings.cancel_meeting(conn, caller, meeting_id, data, services.clock.now())

    @get("/attendance", summary="Who came, by household, with the counts (the property's staff)")
    async def attendance(self, meeting_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> Attendance:
        return await meeting_attendance.get_attendance(conn, caller, meeting_id)

    @put("/attendance", summary="Record the whole attendance (supervisors, admins); 422 names a wrong entry")
    async def record_attendance(
        self,
        meeting_id: FromPath[str],
        data: JSONBody[AttendanceIn],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Attendance:
        return await meeting_attendance.record_attendance(conn, caller, meeting_id, data, services.clock.now())

    @put("/minutes", summary="Write the draft minutes (supervisors, admins); owners see them once published")
    async def minutes(
        self, meeting_id: FromPath[str], data: JSONBody[MinutesDraft], caller: CurrentCaller, conn: Conn
    ) -> Meeting:
        return await meetings.save_minutes(conn, caller, meeting_id, data)

    @post(
        "/minutes/publish",
        status_code=200,
        summary="Publish the minutes and their files to the owners (admin); 409 before the notice",
    )
    async def publish(
        self, meeting_id: FromPath[str], caller: CurrentCaller, conn: Conn, services: AppServices
    ) -> Meeting:
        return await meetings.publish_minutes(conn, caller, meeting_id, services.clock.now())

    @post(
        "/attachments",
        status_code=201,
        request_max_body_size=meeting_files.MAX_ATTACHMENT_BYTES + FORM_OVERHEAD_BYTES,
        summary="Add a file to the minutes (supervisors, admins): multipart/form-data, field `file`, ≤ 20 MiB",
        description="PDF, images, plain text or Office files. Owners get it with the next publication.",
    )
    async def upload(
        self,
        meeting_id: FromPath[str],
        data: MultipartBody[AttachmentForm],
        caller: CurrentCaller,
        conn: Conn,
        services: AppServices,
    ) -> Attachment:
        content = await data.file.read(meeting_files.MAX_ATTACHMENT_BYTES + 1)
        return await meeting_files.add_attachment(
            conn,
            caller,
            meeting_id,
            filename=data.file.filename,
            content_type=data.file.content_type,
            content=content,
            store=services.store,
        )

    @get(
        "/attachments/{attachment_id:str}",
        summary="Download a file of the minutes",
        description="The property's staff any time; its owners once the minutes holding it are published; "
        "anyone else 404.",
    )
    async def download(
        self, meeting_id: FromPath[str], attachment_id: FromPath[str], caller: CurrentCaller, services: AppServices
    ) -> Response[Any]:
        async with transaction(services.pool) as conn:  # not held while the bytes stream
            found = await meeting_files.open_attachment(conn, caller, meeting_id, attachment_id)
        if await services.store.head(found.store_key) is None:
            raise NotFound(f"attachment {attachment_id} is missing from storage", id=attachment_id)
        plain, named = re.sub(r"[^A-Za-z0-9._-]", "_", found.filename), quote(found.filename, safe="")
        headers = {
            # RFC 6266: an ASCII name for old clients, the real one (Chinese, say) in filename*
            "Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{named}",
            "Content-Length": str(found.size_bytes),
            "ETag": f'"{found.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        }
        chunks = services.store.read_range(found.store_key, 0, found.size_bytes)
        return Stream(chunks, media_type=found.content_type, headers=headers)
