"""POST a CSV or XLSX of buildings, units and owners to a property."""

from __future__ import annotations

from litestar import post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody

from api.deps import AppServices, Conn, CurrentCaller
from api.guards import ADMIN, in_property_scope
from core.errors import TooLarge
from core.places.imports import ImportReport
from core.places.imports import import_places as run_import
from core.structs import Struct


class ImportForm(Struct):
    file: UploadFile


@post(
    "/properties/{property_id:str}/imports",
    tags=["places"],
    guards=[in_property_scope, ADMIN],  # scope first: another org's property is 404
    status_code=200,
    summary="Import buildings, units and owners from a CSV or XLSX file (admin); all or nothing",
    description="Columns (English or Chinese headings): building/楼栋, unit/房号, floor/楼层, area_m2/面积, "
    "owner_name/业主姓名, owner_phone/联系电话, owner_email/邮箱. One bad row means nothing is imported and the "
    "422 problem lists every bad row. `dry_run=true` checks without writing.",
)
async def import_places(
    property_id: FromPath[str],
    data: MultipartBody[ImportForm],
    caller: CurrentCaller,
    services: AppServices,
    conn: Conn,
    dry_run: FromQuery[bool] = False,
) -> ImportReport:
    # the app bounds this route's body at the limit plus multipart framing; the file itself is checked here
    limit = services.settings.max_import_bytes
    content = await data.file.read(limit + 1)
    if len(content) > limit:
        raise TooLarge(f"the file is larger than {limit} bytes (FIELDWORK_MAX_IMPORT_BYTES)")
    return await run_import(conn, caller, property_id, content, dry_run=dry_run)
