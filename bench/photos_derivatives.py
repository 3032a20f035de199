"""Photo derivatives: a 1600 px display JPEG and a 320 px thumbnail of 12 MP photos, against pyvips and naive Pillow.

    .venv/bin/python -m bench.photos_derivatives [--photos N] [--rounds N]

N photo-like 12 MP JPEGs (4032×3024, quality 90, 3-6 MB: smooth colour fields, shapes, grain; EXIF Orientation 6
or 8 on some) are generated, seeded, into a temporary directory. Three implementations make the same outputs from
each: a display JPEG (long edge 1600, quality 82, upright, no EXIF) and a 320 px thumbnail made from the display.
  ours    sync.photos.images.make_derivatives;
  pyvips  pyvips.Image.thumbnail(path, 1600) (shrink-on-load, auto-rotate) into memory, jpegsave_buffer, and the
          thumbnail from those pixels (thumbnail_image); libvips' default threads, and once more on one thread;
  naive   Pillow as it is often written: open, load() at full size, exif_transpose, thumbnail(reducing_gap=None).
Wall time per photo is taken interleaved (every implementation on a photo before the next photo; the order rotates
each round) after a warm-up round. Peak RSS is ru_maxrss of a fresh process per implementation that imports only
what that implementation needs and then makes the derivatives of every photo once.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# Only the standard library at the top: `--child` processes import this module, and their RSS is the measurement.
# Pillow, pyvips, fieldwork and bench._support are imported by the functions that use them.

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 4032, 3024
DISPLAY, THUMB, QUALITY = 1600, 320, 82
TIMED = ("ours", "pyvips", "pyvips, 1 thread", "naive Pillow")
MEASURED = (*TIMED, "pyvips, cache off")  # for RSS only: libvips' operation cache is on by default
MB = 1024 * 1024

Derive = Callable[[Path], tuple[bytes, bytes]]


def implementation(name: str) -> Derive:
    """The implementation called `name`, importing only what it needs."""
    if name == "ours":
        from sync.photos.images import make_derivatives

        def ours(path: Path) -> tuple[bytes, bytes]:
            made = make_derivatives(path)
            return made.display, made.thumbnail

        return ours
    if name.startswith("pyvips"):
        import pyvips

        if name == "pyvips, cache off":
            pyvips.cache_set_max(0)
        threads = 1 if name == "pyvips, 1 thread" else pyvips.concurrency_get()

        def with_pyvips(path: Path) -> tuple[bytes, bytes]:
            default = pyvips.concurrency_get()
            pyvips.concurrency_set(threads)  # read when a pipeline starts: the other row keeps its default
            try:
                display = pyvips.Image.thumbnail(str(path), DISPLAY).copy_memory()
                thumbnail = display.thumbnail_image(THUMB)
                return (
                    display.jpegsave_buffer(Q=QUALITY, keep="icc"),
                    thumbnail.jpegsave_buffer(Q=QUALITY, keep="icc"),
                )
            finally:
                pyvips.concurrency_set(default)

        return with_pyvips
    if name == "naive Pillow":
        from PIL import Image, ImageOps

        def naive(path: Path) -> tuple[bytes, bytes]:
            with Image.open(path) as im:
                im.load()
                upright = ImageOps.exif_transpose(im)
            upright.thumbnail((DISPLAY, DISPLAY), reducing_gap=None)
            display = BytesIO()
            upright.save(display, "JPEG", quality=QUALITY)
            upright.thumbnail((THUMB, THUMB), reducing_gap=None)
            thumbnail = BytesIO()
            upright.save(thumbnail, "JPEG", quality=QUALITY)
            return display.getvalue(), thumbnail.getvalue()

        return naive
    raise ValueError(f"no implementation called {name!r}")


def make_photos(folder: Path, count: int) -> list[Path]:
    """Seeded 12 MP JPEGs that compress like photos: a smooth colour field, shapes drawn at a quarter of the size and
    enlarged (soft edges), and grain over everything. Every other photo is held upright (EXIF Orientation 6 or 8)."""
    from PIL import ExifTags, Image, ImageChops, ImageDraw

    paths = []
    for n in range(count):
        rnd = random.Random(20251123 + n)
        field = Image.new("RGB", (8, 6))
        field.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)) for _ in range(48)])
        small = (WIDTH // 4, HEIGHT // 4)
        canvas = field.resize(small, Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(canvas)
        for _ in range(80):
            x, y, r = rnd.randrange(small[0]), rnd.randrange(small[1]), rnd.randrange(10, 180)
            colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
            shape = rnd.choice(("ellipse", "rectangle", "line"))
            if shape == "ellipse":
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
            elif shape == "rectangle":
                draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
            else:
                end = (rnd.randrange(small[0]), rnd.randrange(small[1]))
                draw.line((x, y, *end), fill=colour, width=rnd.randrange(1, 8))
        picture = canvas.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
        # grain: 512 px tiles of Gaussian noise (generating 12 MP of it is slow; JPEG cannot tell the difference)
        sigma = rnd.uniform(8, 16)  # how grainy: 3-6 MB at quality 90
        tiles = [Image.merge("RGB", [Image.effect_noise((512, 512), sigma) for _ in range(3)]) for _ in range(3)]
        grain = Image.new("RGB", (WIDTH, HEIGHT))
        for top in range(0, HEIGHT, 512):
            for left in range(0, WIDTH, 512):
                grain.paste(rnd.choice(tiles), (left, top))
        picture = ImageChops.add(picture, grain, offset=-128)
        exif = Image.Exif()
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Apple", "iPhone 15 Pro"
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = f"2025:11:23 09:{n:02d}:00"
        exif[ExifTags.Base.Orientation] = (1, 6, 1, 8)[n % 4]
        path = folder / f"photo{n + 1}.jpg"
        picture.save(path, "JPEG", quality=90, exif=exif)
        paths.append(path)
    return paths


def time_all(photos: list[Path], derive: dict[str, Derive], rounds: int) -> dict[str, list[float]]:
    """Seconds per photo of each implementation, interleaved so that drift on a noisy machine hits all alike."""
    for photo in photos:  # warm-up: page cache, imports, libvips' and libjpeg's first-call costs
        for run in derive.values():
            run(photo)
    names = list(derive)
    seen: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for photo in photos:
            for name in order:
                started = time.perf_counter()
                derive[name](photo)
                seen[name].append(time.perf_counter() - started)
    return seen


def rss_now() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def high_water_mark() -> int:
    """VmHWM: the peak RSS of this process's own memory since it started, to check ru_maxrss against."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def child(name: str, folder: Path) -> None:
    """In a fresh process: import one implementation, then derive every photo once; print the RSS figures."""
    before = rss_now()
    run = implementation(name)
    after_imports = rss_now()
    for photo in sorted(folder.glob("*.jpg")):
        run(photo)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    figures = {"before_imports": before, "after_imports": after_imports, "peak": peak, "hwm": high_water_mark()}
    print(json.dumps(figures))


def in_child(*argv: str) -> str:
    """Runs this module with `argv` in a fresh process; its stdout.

    Linux carries a process's ru_maxrss over fork and exec: a child started by a parent that once held 400 MB of
    generated photos would report 400 MB. So the photos are generated in a child too, and every child is started
    before this process imports anything but the standard library.
    """
    command = [sys.executable, "-m", "bench.photos_derivatives", *argv]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout


def progress(message: str) -> None:
    """bench._support.say, before this process may import bench._support (asyncpg, httpx: 24 MB)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def psnr(made: bytes, reference: Image.Image) -> float:
    """Against `reference`: Lanczos from the full-size decode, the best this size can look."""
    from PIL import Image, ImageChops

    with Image.open(BytesIO(made)) as im:
        histogram = ImageChops.difference(im.convert("RGB"), reference).histogram()
    squares = sum(count * (value % 256) ** 2 for value, count in enumerate(histogram))
    mse = squares / (reference.width * reference.height * 3)
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def check_outputs(photos: list[Path], derive: dict[str, Derive]) -> list[str]:
    """The implementations agree on every output's size, ours carries no EXIF; and how close each display is to a
    Lanczos resize of the full-size decode."""
    from PIL import Image, ImageOps

    notes = []
    quality: dict[str, list[float]] = {name: [] for name in derive}
    sizes: dict[str, list[int]] = {name: [] for name in derive}
    for photo in photos:
        with Image.open(photo) as im:
            im.load()
            upright = ImageOps.exif_transpose(im)
        scale = DISPLAY / max(upright.size)
        size = (round(upright.width * scale), round(upright.height * scale))
        reference = upright.resize(size, Image.Resampling.LANCZOS)
        shapes = {}
        for name, run in derive.items():
            display, thumbnail = run(photo)
            with Image.open(BytesIO(display)) as d, Image.open(BytesIO(thumbnail)) as t:
                shapes[name] = (d.size, t.size)
                if name == "ours" and (d.getexif() or "exif" in d.info):
                    raise RuntimeError(f"{photo.name}: our display JPEG carries EXIF")
            quality[name].append(psnr(display, reference) if shapes[name][0] == reference.size else float("nan"))
            sizes[name].append(len(display))
        if len(set(shapes.values())) != 1:
            raise RuntimeError(f"{photo.name}: the implementations made different sizes: {shapes}")
        notes.append(f"{photo.name}: {photo.stat().st_size / MB:.1f} MB → {shapes['ours'][0]}, {shapes['ours'][1]}")
    summary = ", ".join(
        f"{name} {sum(quality[name]) / len(photos):.1f} dB ({sum(sizes[name]) / len(photos) / 1024:.0f} KB)"
        for name in derive
    )
    return [
        "outputs: " + "; ".join(notes),
        f"display PSNR against Lanczos from the full decode, and mean display size: {summary}",
    ]


def describe() -> str:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return commit.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.photos_derivatives", description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=5, help="12 MP photos to generate (default 5)")
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds over all photos (default 6)")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.child[0] == "generate":
        make_photos(Path(args.child[1]), args.photos)
        return 0
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    with tempfile.TemporaryDirectory(prefix="fieldwork-bench-photos-") as tmp:
        folder = Path(tmp)
        progress(f"generating {args.photos} photos of {WIDTH}×{HEIGHT}")
        in_child("--photos", str(args.photos), "--child", "generate", str(folder))
        photos = sorted(folder.glob("*.jpg"))
        rss = {}
        for name in MEASURED:
            progress(f"peak RSS: {name}, in a fresh process")
            rss[name] = json.loads(in_child("--child", name, str(folder)).splitlines()[-1])

        import pyvips
        from PIL import __version__ as pillow_version
        from PIL import features

        from bench._support import Result, median, percentile, print_results, say

        derive = {name: implementation(name) for name in TIMED}
        say("checking that the outputs agree")
        output_notes = check_outputs(photos, derive)
        say(f"timing {len(TIMED)} implementations × {args.photos} photos × {args.rounds} rounds, interleaved")
        seen = time_all(photos, derive, args.rounds)
        photo_mb = [photo.stat().st_size / MB for photo in photos]

    def ms(name: str) -> str:
        return f"{median(seen[name]) * 1000:.1f} ms (p95 {percentile(seen[name], 95) * 1000:.1f})"

    def mb(name: str, key: str = "peak") -> str:
        figures = rss[name]
        if key == "growth":
            return f"{(figures['peak'] - figures['after_imports']) / MB:.1f} MB"
        return f"{figures['peak'] / MB:.1f} MB"

    ours_t, vips_t = median(seen["ours"]), median(seen["pyvips"])
    vips1_t, naive_t = median(seen["pyvips, 1 thread"]), median(seen["naive Pillow"])
    growth = {name: rss[name]["peak"] - rss[name]["after_imports"] for name in MEASURED}
    peak = {name: rss[name]["peak"] for name in MEASURED}
    cores = os.cpu_count()
    results = [
        Result(
            "time per photo",
            ms("ours"),
            f"{ms('pyvips')} pyvips",
            f"{ours_t / vips_t:.2f}×",
            "≤ 1.1×",
            ours_t / vips_t <= 1.1,
        ),
        Result(
            "time per photo",
            ms("ours"),
            f"{ms('pyvips, 1 thread')} pyvips on 1 thread",
            f"{ours_t / vips1_t:.2f}×",
            "—",
            None,
        ),
        Result(
            "time per photo",
            ms("ours"),
            f"{ms('naive Pillow')} naive Pillow",
            f"{naive_t / ours_t:.2f}× faster",
            "≥ 1.8× faster",
            naive_t / ours_t >= 1.8,
        ),
        Result(
            "peak RSS",
            mb("ours"),
            f"{mb('pyvips')} pyvips",
            f"{peak['ours'] / peak['pyvips']:.2f}×",
            "≤ 0.5×",
            peak["ours"] / peak["pyvips"] <= 0.5,
        ),
        Result(
            "peak RSS",
            mb("ours"),
            f"{mb('pyvips, cache off')} pyvips, operation cache off",
            f"{peak['ours'] / peak['pyvips, cache off']:.2f}×",
            "—",
            None,
        ),
        Result(
            "peak RSS growth over imports",
            mb("ours", "growth"),
            f"{mb('pyvips', 'growth')} pyvips",
            f"{growth['ours'] / growth['pyvips']:.2f}×",
            "—",
            None,
        ),
        Result(
            "peak RSS growth over imports",
            mb("ours", "growth"),
            f"{mb('pyvips, cache off', 'growth')} pyvips, operation cache off",
            f"{growth['ours'] / growth['pyvips, cache off']:.2f}×",
            "—",
            None,
        ),
        Result(
            "peak RSS",
            mb("ours"),
            f"{mb('naive Pillow')} naive Pillow",
            f"{peak['ours'] / peak['naive Pillow']:.2f}×",
            "—",
            None,
        ),
    ]
    after_imports = ", ".join(f"{name} {rss[name]['after_imports'] / MB:.1f} MB" for name in MEASURED)
    # ru_maxrss should be the child's own VmHWM; if not, something inherited a high-water mark after all
    disagree = [name for name in MEASURED if abs(rss[name]["peak"] - rss[name]["hwm"]) > MB]
    notes = [
        f"fieldwork {describe()}, Python {platform.python_version()}, Pillow {pillow_version} (libjpeg-turbo "
        f"{features.version('jpg')}), pyvips {pyvips.__version__} on libvips {pyvips.version(0)}."
        f"{pyvips.version(1)}.{pyvips.version(2)} ({pyvips.concurrency_get()} threads by default), {cores} CPUs",
        f"{len(photo_mb)} photos of {WIDTH}×{HEIGHT} at quality 90, {min(photo_mb):.1f}-{max(photo_mb):.1f} MB; "
        f"median and p95 (nearest rank) of {args.rounds} interleaved rounds over all of them, after a warm-up round",
        *output_notes,
        f"RSS after imports, in each fresh process: {after_imports}; peak RSS is ru_maxrss"
        + (f" (it differs from VmHWM for {', '.join(disagree)})" if disagree else " (the same as VmHWM in each)"),
    ]
    body = "\n".join(f"- {note}" for note in notes)
    return print_results(results, body, "bench.photos_derivatives")


if __name__ == "__main__":
    sys.exit(main())
