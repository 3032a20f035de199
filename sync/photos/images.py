"""What a photo's bytes are, and the display and thumbnail JPEGs made from them.

Pure functions of a file path: they read it and nothing else. Pillow releases the GIL while it decodes, resamples
and encodes, so callers run them in a thread (`asyncio.to_thread`), and `make_derivatives` puts a second core to work
on its own. pillow-heif's opener is registered once, here, for HEIC photos from iPhones.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import msgspec
import pillow_heif
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from sync.photos import likeness

pillow_heif.register_heif_opener()

DISPLAY_EDGE = 1600  # display derivative: long edge at most 1600 px
THUMB_EDGE = 320  # thumbnail: long edge at most 320 px
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
JPEG_QUALITY = 82
MAX_DEVICE = 200
_BAND_ROWS = 100  # output rows a thread resamples at a time

_ACCEPTED = tuple(CONTENT_TYPES)
# first bytes of the accepted types: a file that starts like one but cannot be opened is damaged, not a stranger
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1")
# what Pillow and its plug-ins raise on bytes they cannot make sense of (UnidentifiedImageError is an OSError)
_DECODE_ERRORS = (OSError, EOFError, SyntaxError, ValueError, IndexError, struct.error, RuntimeError)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


class ImageFacts(msgspec.Struct, frozen=True, kw_only=True):
    content_type: str  # the sniffed real type, from CONTENT_TYPES
    width: int  # as displayed: after the EXIF orientation
    height: int
    taken_at: datetime | None  # aware when the camera wrote its UTC offset, else the camera's local time
    latitude: float | None
    longitude: float | None
    device: str | None  # EXIF Make and Model, "Apple iPhone 15 Pro"


class Derivatives(msgspec.Struct, frozen=True, kw_only=True):
    display: bytes  # JPEG, long edge <= DISPLAY_EDGE, upright, no metadata but the colour profile
    display_width: int
    display_height: int
    thumbnail: bytes  # JPEG, long edge <= THUMB_EDGE, made from the display image
    thumbnail_width: int
    thumbnail_height: int
    likeness: int  # the perceptual hash of the upright display image (sync/photos/likeness.py)
    signature: bytes  # and its second stage's 64×64 grey thumbnail (likeness.signature)


class ImageRefused(Exception):
    """The bytes are not an image we accept. `code` is machine-readable; messages in English and Chinese.

    Codes: not_an_image, unsupported_type, too_many_pixels, truncated, corrupt.
    """

    def __init__(self, code: str, detail: str, detail_zh: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.detail_zh = detail_zh


def inspect_image(path: Path, *, max_pixels: int) -> ImageFacts:
    """Sniff the real type, refuse what we do not accept, check every byte of the image data decodes, and read the
    EXIF facts. The pixel count is checked from the header before anything is decoded."""
    with _refusing(path, max_pixels), Image.open(path, formats=_ACCEPTED) as im:
        content_type = CONTENT_TYPES[_format(im)]
        width, height = im.size
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels, (width, height))
        if _format(im) == "JPEG":
            # libjpeg decodes at 1/8 scale: it still reads and Huffman-decodes every byte of the scan, so
            # truncation and damage show, for a fraction of the time and 1/64 of the memory
            im.draft(None, (1, 1))
        im.load()
        exif = _read_exif(im)
    if _orientation(exif) >= 5:  # turned a quarter: shown the other way round
        width, height = height, width
    latitude, longitude = _position(exif)
    return ImageFacts(
        content_type=content_type,
        width=width,
        height=height,
        taken_at=_taken_at(exif),
        latitude=latitude,
        longitude=longitude,
        device=_device(exif),
    )


@contextmanager
def _refusing(path: Path, max_pixels: int | None) -> Iterator[None]:
    """Pillow's errors while opening and decoding, as the refusals they mean. A file that cannot be read at all
    (missing, not permitted) says nothing about the photo: that error goes on as it is, for the caller to retry."""
    try:
        yield
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except UnidentifiedImageError:
        raise _unidentified(path) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (Image.MAX_IMAGE_PIXELS), in case it is below ours
        raise _too_many_pixels(max_pixels, None) from None
    except _DECODE_ERRORS as exc:
        raise _undecodable(path, exc) from exc


def make_derivatives(path: Path) -> Derivatives:
    """The display JPEG (long edge at most DISPLAY_EDGE, never enlarged) and the thumbnail made from it, both
    upright and stripped of EXIF, XMP and comments. The colour profile stays: an iPhone's Display P3 photo shown
    without it looks washed out, and it costs about half a kilobyte."""
    with _refusing(path, None), Image.open(path, formats=_ACCEPTED) as im:
        size = _fit(im.size, DISPLAY_EDGE)
        # JPEG: libjpeg decodes at the smallest of 1/2, 1/4, 1/8 that is still at least `size` (a 12 MP photo
        # at 1/2): the same Huffman decoding, a quarter of the IDCT, colour conversion and memory. HEIF: an
        # embedded thumbnail at least that big, if the file has one. Other formats ignore it.
        im.draft(None, size)
        im.load()
        orientation = _orientation(_read_exif(im))  # after load: PNG's getexif() loads, and would hide errors
        source, icc_profile = _to_rgb(im)
    display = _resize(source, size)
    del source, im  # the decoded image is the largest thing held: let it go before encoding
    if orientation in _TRANSPOSE:  # after the resize, where it moves the fewest pixels
        display = display.transpose(_TRANSPOSE[orientation])
    # the thumbnail is made from the display image, and encoded, on a second thread while this one encodes the
    # display image (about 6 ms each for a 12 MP photo: run one after the other they would be 7% of the time);
    # the likeness hash, of the display image upright in memory, after it on the same thread (about 4 ms)
    with ThreadPoolExecutor(max_workers=1) as pool:
        thumbnail = pool.submit(_thumbnail, display, icc_profile)
        hashed = pool.submit(likeness.likeness_and_signature, display)
        display_jpeg = _encode(display, icc_profile)
        thumbnail_jpeg, thumbnail_size = thumbnail.result()
        display_likeness, display_signature = hashed.result()
    return Derivatives(
        display=display_jpeg,
        display_width=display.width,
        display_height=display.height,
        thumbnail=thumbnail_jpeg,
        thumbnail_width=thumbnail_size[0],
        thumbnail_height=thumbnail_size[1],
        likeness=display_likeness,
        signature=display_signature,
    )


def _thumbnail(display: Image.Image, icc_profile: bytes | None) -> tuple[bytes, tuple[int, int]]:
    thumbnail = display.resize(_fit(display.size, THUMB_EDGE), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return _encode(thumbnail, icc_profile), thumbnail.size


def _format(im: Image.Image) -> str:
    # Pillow's JPEG opener answers MPO for a JPEG with a multi-picture index (many phones write one)
    return "JPEG" if im.format == "MPO" else str(im.format)


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """`size` scaled down so that its long edge is `edge`; unchanged when it already fits."""
    width, height = size
    if max(width, height) <= edge:
        return size
    scale = edge / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(im: Image.Image) -> tuple[Image.Image, bytes | None]:
    """`im` in a mode JPEG stores (RGB, or L for grey), transparency flattened onto white; and the colour profile
    that still describes it."""
    icc_profile = im.info.get("icc_profile") or None
    if im.mode in ("RGB", "L"):
        return im, icc_profile
    if im.mode == "CMYK":  # scans and print files, not phones
        return _cmyk_to_rgb(im, icc_profile), None
    if im.mode.startswith("I") or im.mode == "F":
        # 16-bit grey (PNG): converting straight to L would clip everything above 255 to white
        return im.convert("I").point(lambda value: value / 256).convert("L"), icc_profile
    if im.has_transparency_data:
        grey = im.mode in ("LA", "La")
        flat = Image.new("L" if grey else "RGB", im.size, 255 if grey else (255, 255, 255))
        with_alpha = im.convert("LA" if grey else "RGBA")
        flat.paste(with_alpha, mask=with_alpha.getchannel("A"))
        return flat, icc_profile
    return im.convert("L" if im.mode == "1" else "RGB"), icc_profile


def _cmyk_to_rgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the plain conversion below is still a picture
        else:
            assert converted is not None  # profileToProfile returns None only with inPlace=True
            return converted
    return im.convert("RGB")


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Bicubic, band by band on two threads, into one output image. Pillow releases the GIL while it resamples
    (the JPEG decoder before this kept one core busy and the other idle), and small bands keep the resampler's
    scratch image small instead of as big as the output. A band's box is a window on the whole image, not a crop:
    each band reads the rows around its edges, so there are no seams."""
    if im.size == size:
        return im
    bicubic = Image.Resampling.BICUBIC
    if size[0] * size[1] < 250_000:  # not worth a thread
        return im.resize(size, bicubic, reducing_gap=2.0)
    out = Image.new(im.mode, size)
    bands = [(top, min(top + _BAND_ROWS, size[1])) for top in range(0, size[1], _BAND_ROWS)]

    def resample(share: list[tuple[int, int]]) -> None:
        for top, bottom in share:
            # multiplied before divided, the last band ends exactly at im.height (resize refuses a box past it)
            box = (0.0, top * im.height / size[1], float(im.width), bottom * im.height / size[1])
            out.paste(im.resize((size[0], bottom - top), bicubic, box=box, reducing_gap=2.0), (0, top))

    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(resample, bands[1::2])
        resample(bands[0::2])
        other.result()
    return out


def _encode(im: Image.Image, icc_profile: bytes | None) -> bytes:
    out = BytesIO()
    # Pillow copies a JPEG comment from im.info unless told otherwise; EXIF and XMP only when passed
    im.save(out, "JPEG", quality=JPEG_QUALITY, icc_profile=icc_profile, comment=b"")
    return out.getvalue()


def _read_exif(im: Image.Image) -> Image.Exif:
    """The EXIF block, or an empty one when it is malformed: broken metadata does not make a photo unusable."""
    try:
        return im.getexif()
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return Image.Exif()


def _ifd(exif: Image.Exif, tag: ExifTags.IFD) -> Mapping[int, object]:
    try:
        return exif.get_ifd(tag)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return {}


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(ExifTags.Base.Orientation)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 \t\r\n") or None


def _taken_at(exif: Image.Exif) -> datetime | None:
    details = _ifd(exif, ExifTags.IFD.Exif)
    # each time with its own offset and fraction: OffsetTime belongs to DateTime, OffsetTimeOriginal to the other
    original = (
        details.get(ExifTags.Base.DateTimeOriginal),
        details.get(ExifTags.Base.OffsetTimeOriginal),
        details.get(ExifTags.Base.SubsecTimeOriginal),
    )
    changed = (
        exif.get(ExifTags.Base.DateTime),
        details.get(ExifTags.Base.OffsetTime),
        details.get(ExifTags.Base.SubsecTime),
    )
    for stamp, offset, fraction in (original, changed):
        text = _text(stamp)
        match = _EXIF_TIME.match(text) if text else None
        if match is None:
            continue
        try:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            taken = datetime(year, month, day, hour, minute, second)
        except ValueError:  # "0000:00:00 00:00:00" from a camera whose clock was never set
            continue
        digits = _text(fraction)
        if digits and digits.isdigit():
            taken = taken.replace(microsecond=int(digits[:6].ljust(6, "0")))
        zone = _EXIF_OFFSET.fullmatch(_text(offset) or "")
        if zone:
            minutes = int(zone[2]) * 60 + int(zone[3])
            if minutes < 24 * 60:
                taken = taken.replace(tzinfo=timezone(timedelta(minutes=-minutes if zone[1] == "-" else minutes)))
        return taken
    return None


def _position(exif: Image.Exif) -> tuple[float | None, float | None]:
    gps = _ifd(exif, ExifTags.IFD.GPSInfo)
    latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S", 90)
    longitude = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W", 180)
    if latitude is None or longitude is None:  # half a position is none
        return None, None
    return latitude, longitude


def _degrees(value: object, ref: object, negative: str, limit: float) -> float | None:
    """EXIF (degrees, minutes, seconds) rationals and N/S or E/W as signed decimal degrees."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    try:
        degrees = sum(float(part) / 60.0**i for i, part in enumerate(value))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(degrees) or abs(degrees) > limit:  # a 0/0 rational is NaN
        return None
    return -abs(degrees) if (_text(ref) or "").upper().startswith(negative) else degrees


def _device(exif: Image.Exif) -> str | None:
    make, model = _text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))
    # "Canon" + "Canon EOS R5", "NIKON CORPORATION" + "NIKON D850": the model already names the maker
    if make and model and model.casefold().startswith(make.split()[0].casefold()):
        make = None
    device = " ".join(part for part in (make, model) if part)
    return " ".join(device.split())[:MAX_DEVICE] or None


def _unidentified(path: Path) -> ImageRefused:
    """Pillow opened none of the accepted types: an image of another type, a damaged one of ours, or no image."""
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (head[:4], head[8:12]) == (b"RIFF", b"WEBP"):
        return _corrupt()
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return _corrupt()
    try:
        with Image.open(path) as other:  # every format Pillow knows, headers only
            found = str(other.format)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, *_DECODE_ERRORS):
        return ImageRefused("not_an_image", "The file is not an image.", "该文件不是图片。")
    return ImageRefused(
        "unsupported_type",
        f"{found} images are not accepted: send a JPEG, PNG, WebP or HEIC photo.",
        f"不支持 {found} 格式的图片，请上传 JPEG、PNG、WebP 或 HEIC 照片。",
    )


def _too_many_pixels(max_pixels: int | None, size: tuple[int, int] | None) -> ImageRefused:
    limits = [n for n in (max_pixels, Image.MAX_IMAGE_PIXELS if size is None else None) if n]
    limit = min(limits, default=0) / 1e6
    if size is None:  # Pillow's own limit spoke first (Image.MAX_IMAGE_PIXELS)
        return ImageRefused(
            "too_many_pixels",
            f"The image has too many pixels: the limit is {limit:.0f} megapixels.",
            f"图片像素过多，上限为 {limit:.0f} 百万像素。",
        )
    megapixels = size[0] * size[1] / 1e6
    return ImageRefused(
        "too_many_pixels",
        f"The image is {size[0]}×{size[1]} pixels ({megapixels:.0f} megapixels): the limit is {limit:.0f} megapixels.",
        f"图片为 {size[0]}×{size[1]} 像素（{megapixels:.0f} 百万像素），上限为 {limit:.0f} 百万像素。",
    )


def _undecodable(path: Path, exc: BaseException) -> ImageRefused:
    """Pillow says "image file is truncated" (JPEG, PNG) or "Truncated File Read", libheif "Unexpected end of
    file"; WebP's decoder only fails, so its RIFF header's length is compared with the file's."""
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text or "end of file" in text or _riff_cut_short(path):
        return ImageRefused(
            "truncated",
            "The image file is incomplete: it ends before the image data does. Upload it again.",
            "图片文件不完整：数据在图像结束前中断，请重新上传。",
        )
    return _corrupt()


def _riff_cut_short(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return False
    return path.stat().st_size < 8 + int.from_bytes(head[4:8], "little")


def _corrupt() -> ImageRefused:
    return ImageRefused("corrupt", "The image data is damaged and cannot be decoded.", "图片数据已损坏，无法解码。")
