"""What the likeness hash and signature add to the derivative job: sync.photos.images.make_derivatives on 12 MP
photos with them, against the same function with them left out, side by side in the same run.

    .venv/bin/python -m bench.likeness_cost [--photos N] [--rounds N]

N seeded 12 MP photo-like JPEGs (bench/photos_derivatives.py's make_photos: 4032×3024, quality 90, EXIF
orientation on half). Each round times, photo by photo and alternating which goes first, make_derivatives as the
worker runs it (the display image hashed on the second thread after the thumbnail, while this one encodes the
display JPEG) and make_derivatives with sync.photos.likeness.likeness_and_signature replaced by a function returning
(0, 4,096 zero bytes) (the job as it was). After a warm-up round. Also timed alone: likeness_and_signature() of the
1600 px display image (its cost were it not overlapped with the encoding).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import types
from io import BytesIO
from pathlib import Path
from unittest import mock

from PIL import Image

from bench._support import Result, median, percentile, print_results, say
from bench.photos_derivatives import make_photos
from sync.photos import images, likeness

TARGET_MS = 10.0
WITHOUT = types.SimpleNamespace(likeness_and_signature=lambda image: (0, bytes(likeness.SIGNATURE_BYTES)))


def timed(path: Path, *, hashed: bool) -> float:
    started = time.perf_counter()
    if hashed:
        images.make_derivatives(path)
    else:
        with mock.patch.object(images, "likeness", WITHOUT):
            images.make_derivatives(path)
    return (time.perf_counter() - started) * 1000


def run(count: int, rounds: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="fieldwork-likeness-") as folder:
        say(f"making {count} 12 MP photos")
        photos = make_photos(Path(folder), count)
        with_ms: list[float] = []
        without_ms: list[float] = []
        alone_ms: list[float] = []
        for r in range(rounds + 1):
            for n, path in enumerate(photos):
                order = (True, False) if (r + n) % 2 else (False, True)
                times = {hashed: timed(path, hashed=hashed) for hashed in order}
                if r:  # round 0 warms up
                    with_ms.append(times[True])
                    without_ms.append(times[False])
            say(f"round {r} done")
        for path in photos:
            made = images.make_derivatives(path)
            with Image.open(BytesIO(made.display)) as display:
                display.load()
                for _ in range(rounds):
                    started = time.perf_counter()
                    likeness.likeness_and_signature(display)
                    alone_ms.append((time.perf_counter() - started) * 1000)
    added50 = median(with_ms) - median(without_ms)
    # per photo and round, the two runs of the same photo side by side
    added = sorted(w - o for w, o in zip(with_ms, without_ms, strict=True))
    return [
        Result(
            metric="derivative job of a 12 MP photo, with the hash and signature vs without, median",
            fieldwork=f"{median(with_ms):.0f} ms",
            baseline=f"{median(without_ms):.0f} ms",
            ratio=f"+{added50:.1f} ms ({median(with_ms) / median(without_ms):.2f}×)",
            target=f"< {TARGET_MS:.0f} ms added",
            passed=added50 < TARGET_MS,
        ),
        Result(
            metric="time added per photo (paired, same photo, same round): median / p90",
            fieldwork=f"{median(added):.1f} / {percentile(added, 90):.1f} ms",
            baseline="—",
            ratio="—",
            target=f"median < {TARGET_MS:.0f} ms",
            passed=median(added) < TARGET_MS,
        ),
        Result(
            metric="likeness_and_signature() of the 1600 px display image alone, median",
            fieldwork=f"{median(alone_ms):.1f} ms",
            baseline="—",
            ratio="—",
            target="—",
            passed=None,
        ),
    ]


def describe(count: int, rounds: int) -> str:
    return (
        f"{count} seeded 12 MP JPEGs × {rounds} rounds after a warm-up, with and without the hash and signature "
        f"alternating; Python {platform.python_version()}, {os.cpu_count()} cores."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    return print_results(run(args.photos, args.rounds), describe(args.photos, args.rounds), "bench.likeness_cost")


if __name__ == "__main__":
    sys.exit(main())
