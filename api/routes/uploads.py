"""tus 1.0.0 resumable uploads of photo bytes (core, creation, creation-with-upload, checksum, termination,
expiration). The protocol's headers are read here; sync.photos.uploads does the work. Every verb but OPTIONS
needs the uploader's token: anyone else's upload answers 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, head, patch, post, route
from litestar.enums import HttpMethod
from litestar.exceptions import InternalServerException
from litestar.params import FromPath, HeaderParameter

from api.auth import PUBLIC
from api.deps import AppServices, CurrentCaller
from sync.photos import tus
from sync.photos.uploads import Disconnected, Upload

TAGS = ["photos"]
_VERSION = {"Tus-Resumable": tus.VERSION}


# declared for the OpenAPI document; read (and refused with tus's own answers) by sync.photos.tus
TusResumable = Annotated[
    str | None, HeaderParameter(name="Tus-Resumable", description="the protocol version: 1.0.0 (412 otherwise)")
]
UploadLength = Annotated[str | None, HeaderParameter(name="Upload-Length", description="the photo's size in bytes")]
UploadMetadata = Annotated[
    str | None,
    HeaderParameter(
        name="Upload-Metadata", description="comma-separated `key base64(value)`: photo_id (required), filename, …"
    ),
]
UploadOffset = Annotated[
    str | None,
    HeaderParameter(name="Upload-Offset", description="where these bytes start: the offset HEAD gave (409 otherwise)"),
]
UploadChecksum = Annotated[
    str | None,
    HeaderParameter(
        name="Upload-Checksum", description="`sha1 <base64>` or `sha256 <base64>` of this request's bytes (460)"
    ),
]


async def _chunks(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The request body as it arrives, never whole in memory."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except InternalServerException as exc:
        if "disconnected" not in str(exc.detail):
            raise
        raise Disconnected from None


def _where(upload: Upload) -> dict[str, str]:
    headers = {**_VERSION, "Upload-Offset": str(upload.received), "Cache-Control": "no-store"}
    if upload.state == "receiving":
        headers["Upload-Expires"] = tus.http_date(upload.expires_at)
    return headers


def _has_body(request: Request[Any, Any, Any]) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "chunked" in request.headers.get("transfer-encoding", "")


@route("/uploads", http_method=[HttpMethod.OPTIONS], tags=TAGS, summary="What this tus server supports", opt=PUBLIC)
async def discover_uploads(services: AppServices) -> Response[None]:
    return Response(
        None,
        status_code=204,
        headers={
            **_VERSION,
            "Tus-Version": tus.VERSION,
            "Tus-Extension": tus.EXTENSIONS,
            "Tus-Max-Size": str(services.settings.max_photo_bytes),
            "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUM_ALGORITHMS),
        },
    )


@post(
    "/uploads",
    tags=TAGS,
    summary="Start uploading a photo's bytes (tus creation; a body makes it creation-with-upload)",
    description="Headers: `Tus-Resumable: 1.0.0`, `Upload-Length`, `Upload-Metadata` with `photo_id` (and optionally "
    "record_table, record_id, filename, filetype, taken_at). Answers 201 with `Location: /uploads/{id}`. The photo "
    "row comes through sync, before or after its bytes.",
    status_code=201,
)
async def create_upload(
    request: Request[Any, Any, Any],
    caller: CurrentCaller,
    services: AppServices,
    tus_resumable: TusResumable = None,
    upload_length: UploadLength = None,
    upload_metadata: UploadMetadata = None,
    upload_checksum: UploadChecksum = None,
) -> Response[bytes]:
    tus.require_version(tus_resumable)
    length = tus.parse_int(upload_length, "Upload-Length")
    raw = tus.parse_metadata(upload_metadata)
    upload = await services.uploads.create(caller, length, tus.read_metadata(raw), raw)
    if _has_body(request):
        tus.require_chunk_type(request.headers.get("content-type"))
        checksum = tus.parse_checksum(upload_checksum)
        upload = await services.uploads.append(caller, upload.id, 0, _chunks(request), checksum)
    return Response(b"", status_code=201, headers={**_where(upload), "Location": f"/uploads/{upload.id}"})


@head("/uploads/{upload_id:str}", tags=TAGS, summary="Where an upload stands (Upload-Offset)", status_code=200)
async def upload_offset(
    upload_id: FromPath[str], caller: CurrentCaller, services: AppServices, tus_resumable: TusResumable = None
) -> Response[None]:
    tus.require_version(tus_resumable)
    upload = await services.uploads.get(caller, upload_id)
    headers = {**_where(upload), "Upload-Length": str(upload.length)}
    if upload.metadata:
        headers["Upload-Metadata"] = tus.encode_metadata(upload.metadata)
    return Response(None, status_code=200, headers=headers)


@patch(
    "/uploads/{upload_id:str}",
    tags=TAGS,
    summary="Send bytes from Upload-Offset (application/offset+octet-stream; Upload-Checksum optional)",
    description="204 with the new Upload-Offset. 409 when Upload-Offset is not where the upload stands (ask with "
    "HEAD), 460 when the bytes do not match Upload-Checksum (they are discarded), 422 when the finished bytes are "
    "not a photo we accept (the photo row says why too), 410 once the upload expired.",
    status_code=204,
)
async def upload_bytes(
    request: Request[Any, Any, Any],
    upload_id: FromPath[str],
    caller: CurrentCaller,
    services: AppServices,
    tus_resumable: TusResumable = None,
    upload_offset: UploadOffset = None,
    upload_checksum: UploadChecksum = None,
) -> Response[None]:
    tus.require_version(tus_resumable)
    tus.require_chunk_type(request.headers.get("content-type"))
    offset = tus.parse_int(upload_offset, "Upload-Offset")
    checksum = tus.parse_checksum(upload_checksum)
    upload = await services.uploads.append(caller, upload_id, offset, _chunks(request), checksum)
    return Response(None, status_code=204, headers=_where(upload))


@delete("/uploads/{upload_id:str}", tags=TAGS, summary="Abandon an upload (tus termination)", status_code=204)
async def terminate_upload(
    upload_id: FromPath[str], caller: CurrentCaller, services: AppServices, tus_resumable: TusResumable = None
) -> Response[None]:
    tus.require_version(tus_resumable)
    await services.uploads.terminate(caller, upload_id)
    return Response(None, status_code=204, headers=_VERSION)


def uploads_router(max_photo_bytes: int) -> Router:
    # a PATCH body is at most a photo; the app-wide JSON limit does not apply
    return Router(
        path="/",
        route_handlers=[discover_uploads, create_upload, upload_offset, upload_bytes, terminate_upload],
        request_max_body_size=max_photo_bytes,
        response_headers={"Tus-Resumable": tus.VERSION},
    )
