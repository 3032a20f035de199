"""sync.photos.images: what a photo's bytes are, and its display and thumbnail JPEGs. Every sample is made here."""

from __future__ import annotations

import io
import random
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFile
from PIL.TiffImagePlugin import IFDRational

from sync.photos.images import (
    CONTENT_TYPES,
    DISPLAY_EDGE,
    THUMB_EDGE,
    Derivatives,
    ImageRefused,
    inspect_image,
    make_derivatives,
)

MAX_PIXELS = 50_000_000
RED, BLUE = (220, 30, 30), (30, 60, 200)


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def marked(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Blue with a red top-left quadrant (to see where a rotation put it) and seeded specks (so it compresses
    like a picture, not a flat fill)."""
    rnd = random.Random(seed)
    im = Image.new("RGB", size, BLUE)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, size[0] // 2 - 1, size[1] // 2 - 1), fill=RED)
    for _ in range(200):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        draw.ellipse((x, y, x + size[0] // 50, y + size[1] // 50), fill=(rnd.randrange(256), 120, 120))
    return im


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15 Pro"
    exif[ExifTags.Base.DateTime] = "2025:06:02 08:00:00"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2025:05:31 09:15:42"
    details[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    details[ExifTags.Base.SubsecTimeOriginal] = "25"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (IFDRational(33), IFDRational(51), IFDRational(5436, 100))
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (IFDRational(151), IFDRational(12), IFDRational(30))
    return exif


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming width×height RGB, then a few bytes of pixel data: nothing to decode
    that size from."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def sizes(made: Derivatives) -> tuple[tuple[int, int], tuple[int, int]]:
    """The display and thumbnail sizes, checked against the JPEGs themselves."""
    display, thumbnail = opened(made.display), opened(made.thumbnail)
    assert display.size == (made.display_width, made.display_height)
    assert thumbnail.size == (made.thumbnail_width, made.thumbnail_height)
    return display.size, thumbnail.size


def rgb(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = im.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def assert_no_metadata(data: bytes) -> None:
    im = opened(data)
    assert im.format == "JPEG"
    assert not im.getexif()
    assert not {"exif", "xmp", "comment"} & set(im.info)
    assert b"Exif\x00\x00" not in data and b"http://ns.adobe.com/xap/1.0/" not in data


@pytest.fixture(scope="module")
def twelve_mp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same 4032×3024 JPEG twice: upright, and with the EXIF Orientation 6 of a phone held upright."""
    folder = tmp_path_factory.mktemp("twelve_mp")
    im = marked((4032, 3024))
    upright = write(folder, "upright.jpg", encode(im, "JPEG", quality=90))
    turned = write(folder, "turned.jpg", encode(im, "JPEG", quality=90, exif=camera_exif(6)))
    return upright, turned


# --- inspecting ---


def test_jpeg_facts_come_from_exif(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.jpg", encode(marked((400, 300)), "JPEG", exif=camera_exif(6)))
    facts = inspect_image(path, max_pixels=MAX_PIXELS)
    assert facts.content_type == "image/jpeg"
    assert (facts.width, facts.height) == (300, 400)  # orientation 6: stored landscape, shown portrait
    assert facts.taken_at == datetime(2025, 5, 31, 9, 15, 42, 250_000, tzinfo=timezone(timedelta(hours=8)))
    assert facts.latitude == pytest.approx(-(33 + 51 / 60 + 54.36 / 3600))
    assert facts.longitude == pytest.approx(-(151 + 12 / 60 + 30 / 3600))
    assert facts.device == "Apple iPhone 15 Pro"


def test_taken_at_without_offset_is_camera_local_time_and_falls_back_to_datetime(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.DateTime] = "2024:12:24 23:59:58\x00"
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R5 "
    path = write(tmp_path, "photo.jpg", encode(marked((64, 48)), "JPEG", exif=exif))
    facts = inspect_image(path, max_pixels=MAX_PIXELS)
    assert facts.taken_at == datetime(2024, 12, 24, 23, 59, 58)
    assert facts.taken_at.tzinfo is None
    assert facts.device == "Canon EOS R5"  # the model already names the maker
    assert (facts.latitude, facts.longitude) == (None, None)


def test_photo_without_exif_has_no_facts_beyond_its_size(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.DateTimeOriginal] = "0000:00:00 00:00:00"  # a camera whose clock was never set
    path = write(tmp_path, "photo.jpg", encode(marked((64, 48)), "JPEG", exif=exif))
    facts = inspect_image(path, max_pixels=MAX_PIXELS)
    assert (facts.width, facts.height, facts.taken_at, facts.latitude, facts.device) == (64, 48, None, None, None)


def test_heic_is_inspected_and_made_into_jpegs(tmp_path: Path) -> None:
    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_0001.heic"
    marked((640, 480)).save(path, format="HEIF", quality=60, exif=camera_exif(1))
    facts = inspect_image(path, max_pixels=MAX_PIXELS)
    assert (facts.content_type, facts.width, facts.height) == ("image/heic", 640, 480)
    assert facts.device == "Apple iPhone 15 Pro"
    assert facts.taken_at == datetime(2025, 5, 31, 9, 15, 42, 250_000, tzinfo=timezone(timedelta(hours=8)))
    made = make_derivatives(path)
    assert sizes(made) == ((640, 480), (320, 240))
    assert_no_metadata(made.display)
    assert rgb(opened(made.display), (10, 10))[0] > 150  # still red top-left


def test_png_with_alpha_is_flattened_on_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((100, 0, 199, 99), fill=(255, 0, 0, 255))
    path = write(tmp_path, "screenshot.png", encode(im, "PNG"))
    assert inspect_image(path, max_pixels=MAX_PIXELS).content_type == "image/png"
    display = opened(make_derivatives(path).display)
    assert display.mode == "RGB"
    assert all(channel > 245 for channel in rgb(display, (20, 50)))  # transparent: white, not black
    red = rgb(display, (180, 50))
    assert red[0] > 230 and red[1] < 20


def test_palette_and_16_bit_grey_pngs_keep_their_tones(tmp_path: Path) -> None:
    palette = write(tmp_path, "p.png", encode(marked((120, 90)).convert("P"), "PNG"))
    assert rgb(opened(make_derivatives(palette).display), (10, 10))[0] > 150
    grey = Image.frombytes("I;16", (40, 30), struct.pack("<H", 40_000) * 40 * 30)
    made = make_derivatives(write(tmp_path, "grey16.png", encode(grey, "PNG")))
    assert opened(made.display).getpixel((5, 5)) == pytest.approx(40_000 / 256, abs=2)  # scaled, not clipped


def test_webp_is_inspected_and_made_into_jpegs(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.webp", encode(marked((2000, 1000)), "WEBP", quality=80))
    facts = inspect_image(path, max_pixels=MAX_PIXELS)
    assert (facts.content_type, facts.width, facts.height) == ("image/webp", 2000, 1000)
    made = make_derivatives(path)
    assert sizes(made) == ((1600, 800), (320, 160))


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.jpg", encode(marked((200, 150)).convert("CMYK"), "JPEG"))
    display = opened(make_derivatives(path).display)
    assert display.mode == "RGB"
    assert rgb(display, (10, 10))[0] > 150


def test_content_types_cover_what_is_accepted() -> None:
    assert set(CONTENT_TYPES.values()) == {"image/jpeg", "image/png", "image/webp", "image/heic"}


# --- refusing ---


def refusal(call: Callable[[], object]) -> ImageRefused:
    with pytest.raises(ImageRefused) as caught:
        call()
    refused = caught.value
    assert refused.detail and refused.detail_zh and refused.detail != refused.detail_zh
    return refused


def test_pixel_bomb_is_refused_from_its_header_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 8000×8000 is under Pillow's own limit, so it is our check that refuses it; had anything been decoded, a
    # PNG with 64 bytes of pixel data would have been refused as truncated
    path = write(tmp_path, "bomb.png", png_header_only(8000, 8000))

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        refused = refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.code == "too_many_pixels"
    assert "8000×8000" in refused.detail and "50" in refused.detail_zh
    assert elapsed < 0.5
    assert peak < 2 * 1024 * 1024


def test_pixel_bomb_past_pillows_own_limit_is_refused_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.png", png_header_only(60_000, 60_000))
    started = time.perf_counter()
    assert refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS)).code == "too_many_pixels"
    assert refusal(lambda: make_derivatives(path)).code == "too_many_pixels"
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_file_cut_in_half_is_truncated(tmp_path: Path, fmt: str) -> None:
    pillow_heif.register_heif_opener()
    whole = encode(marked((800, 600)), fmt, quality=90)
    path = write(tmp_path, f"cut.{fmt.lower()}", whole[: len(whole) // 2])
    assert refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS)).code == "truncated"
    assert refusal(lambda: make_derivatives(path)).code == "truncated"


def test_twelve_megapixel_jpeg_cut_in_half_is_truncated(tmp_path: Path, twelve_mp: tuple[Path, Path]) -> None:
    # decoded at 1/8 scale, every byte of the scan is still read: the missing half shows
    whole = twelve_mp[0].read_bytes()
    path = write(tmp_path, "cut.jpg", whole[: len(whole) // 2])
    assert refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS)).code == "truncated"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_text_file_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.jpg", "这不是照片 — this is a note, not a photo.\n".encode() * 20)
    assert refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS)).code == "not_an_image"
    empty = write(tmp_path, "empty.jpg", b"")
    assert refusal(lambda: inspect_image(empty, max_pixels=MAX_PIXELS)).code == "not_an_image"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_types_are_unsupported(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, "photo.jpg", encode(marked((64, 48)), fmt))
    refused = refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS))
    assert refused.code == "unsupported_type"
    assert fmt in refused.detail


def test_damaged_header_of_an_accepted_type_is_corrupt(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.jpg", b"\xff\xd8\xff\xe0" + bytes(200))
    assert refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS)).code == "corrupt"


def test_damaged_pixel_data_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(encode(marked((300, 200)), "PNG"))
    middle = len(data) // 2
    data[middle : middle + 100] = bytes(100)
    path = write(tmp_path, "photo.png", bytes(data))
    assert refusal(lambda: inspect_image(path, max_pixels=MAX_PIXELS)).code == "corrupt"
    assert refusal(lambda: make_derivatives(path)).code == "corrupt"


# --- derivatives ---


def test_twelve_megapixel_photo_makes_1600_display_and_320_thumbnail(twelve_mp: tuple[Path, Path]) -> None:
    made = make_derivatives(twelve_mp[0])
    assert sizes(made) == ((DISPLAY_EDGE, 1200), (THUMB_EDGE, 240))
    display = opened(made.display)
    assert rgb(display, (100, 100))[0] > 150 and rgb(display, (1500, 100))[0] < 100  # red stays top-left


def test_derivatives_are_turned_upright(twelve_mp: tuple[Path, Path]) -> None:
    made = make_derivatives(twelve_mp[1])
    assert sizes(made) == ((1200, DISPLAY_EDGE), (240, THUMB_EDGE))
    display, thumbnail = opened(made.display), opened(made.thumbnail)
    # orientation 6: the stored top-left corner is shown top-right
    assert rgb(display, (1100, 100))[0] > 150 and rgb(display, (100, 100))[0] < 100
    assert rgb(thumbnail, (220, 20))[0] > 150 and rgb(thumbnail, (20, 20))[0] < 100


def test_derivatives_carry_no_exif_gps_xmp_or_comment(tmp_path: Path, twelve_mp: tuple[Path, Path]) -> None:
    made = make_derivatives(twelve_mp[1])
    assert_no_metadata(made.display)
    assert_no_metadata(made.thumbnail)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    small = encode(marked((300, 200)), "JPEG", exif=camera_exif(1), comment=b"serial 1234", xmp=xmp)
    made = make_derivatives(write(tmp_path, "small.jpg", small))
    assert_no_metadata(made.display)
    assert b"serial 1234" not in made.display + made.thumbnail


def test_colour_profile_is_kept(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    made = make_derivatives(write(tmp_path, "p3.jpg", encode(marked((300, 200)), "JPEG", icc_profile=profile)))
    assert opened(made.display).info.get("icc_profile") == profile
    assert opened(made.thumbnail).info.get("icc_profile") == profile


def test_small_images_are_never_enlarged(tmp_path: Path) -> None:
    made = make_derivatives(write(tmp_path, "small.jpg", encode(marked((200, 120)), "JPEG", exif=camera_exif(8))))
    assert sizes(made) == ((120, 200), (120, 200))
    mid = make_derivatives(write(tmp_path, "mid.png", encode(marked((1000, 700)), "PNG")))
    assert sizes(mid) == ((1000, 700), (THUMB_EDGE, 224))


def test_a_file_that_cannot_be_read_is_not_a_refused_photo(tmp_path: Path) -> None:
    """A missing original (a store gone wrong) must fail the job for a retry, not mark the photo rejected."""
    with pytest.raises(FileNotFoundError):
        make_derivatives(tmp_path / "gone.jpg")
    with pytest.raises(FileNotFoundError):
        inspect_image(tmp_path / "gone.jpg", max_pixels=50_000_000)
