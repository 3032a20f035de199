"""The labelled set the duplicate check is measured on: photo pairs, half the same photo transformed, half not.

    .venv/bin/python -m bench.evidence_set [--scenes 320] [--pairs 2000] [--rebuild]

Nothing is downloaded. Scenes of property work (walls, floors, corridors, stairwells, doors, windows, pipes, bins,
lawns) are generated with numpy and Pillow, seeded: a textured background (bricks, tiles, concrete, grass, wood,
paint) and 4-9 objects, each at its own depth, so that moving the camera moves near things more than far ones
(parallax); then light (a directional gradient, a cast shadow, white balance), vignetting, sensor noise and a
little blur, saved as a camera JPEG (quality 92) at 1600×1200, 2016×1512 or, for one scene in 16, 4000×3000.

Pairs (a `kind` each, half positive):
  positive  jpeg (re-encoded, quality 30-95), resize (25 %-200 %), crop (0-10 % per side, each side drawn on its
            own), brighten / darken (±10-30 %), contrast (×0.7-1.3), exif (pixels turned, Orientation 6/3/8 written:
            the pipeline turns it upright), screenshot (scaled into a 1170×2532 phone screen with a status bar, an
            app bar with a title and a bottom bar, saved as PNG), combo (crop + resize + brightness + JPEG, or
            EXIF turn + screenshot).
  negative  distinct (two different scenes; a quarter of them of the same kind and palette), viewpoint (the same scene,
            the camera moved 1-4 % sideways and 0.5-3 % up, zoomed 3-8 %, turned 0.5-2°: the objects move against the
            background by their depth), light (the same scene and camera, the light from elsewhere, the shadow
            elsewhere, another white balance, fresh sensor noise), before_after (the same scene and camera, a stain,
            a puddle or rubbish there in one shot and gone in the other: the legitimate after-photo).

The hard negatives are rendered from the same scene description, not edited from the photo: a second shot is a new
exposure (fresh sensor noise, its own JPEG), which is what a phone gives. They are fair in the sense that a
supervisor would call each pair two photos, and the checks must not call them one.

Files and `pairs.json` go to .fieldwork-bench/evidence-set/ (git-ignored); a second run reuses them unless
--rebuild. bench/evidence_eval.py measures the duplicate check on them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
SET_DIR = ROOT / ".fieldwork-bench" / "evidence-set"
SEED = 19
KINDS = ("wall", "floor", "corridor", "stairwell", "door", "window", "pipes", "bins", "lawn", "facade")
TEXTURES = ("bricks", "tiles", "concrete", "grass", "wood", "paint")
POSITIVE = ("jpeg", "resize", "crop", "brightness", "contrast", "exif", "screenshot", "combo")
NEGATIVE = ("distinct", "viewpoint", "light", "before_after")
VERSION = 1  # bump when the generator changes: a cached set of another version is rebuilt


@dataclass(frozen=True)
class Shape:
    kind: str  # rect, ellipse, line, poly
    points: tuple[float, ...]  # in world units (0..1 of the width), as ImageDraw takes them
    colour: tuple[int, int, int]
    depth: float  # 1 near .. 4 the background
    width: int = 0  # line width, in world thousandths
    alpha: int = 255
    removable: bool = False  # a stain, a puddle, rubbish: gone in the after-photo


@dataclass(frozen=True)
class Scene:
    seed: int
    kind: str
    texture: str
    palette: tuple[tuple[int, int, int], ...]
    size: tuple[int, int]
    shapes: tuple[Shape, ...]
    light: tuple[float, float, float]  # direction (radians), strength, warmth
    shadow: tuple[float, float, float]  # centre x, width, darkness
    camera: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.0)  # shift x, shift y, zoom, turn (degrees)
    noise_seed: int = 0
    mess: bool = True  # whether removable shapes are drawn
    extra: dict[str, float] = field(default_factory=dict)


def _palette(rng: random.Random) -> tuple[tuple[int, int, int], ...]:
    hue = rng.random()
    colours = []
    for i in range(5):
        h = (hue + rng.uniform(-0.12, 0.12) + (0.5 if i == 4 else 0)) % 1
        s, v = rng.uniform(0.05, 0.6), rng.uniform(0.25, 0.9)
        colours.append(_hsv(h, s, v))
    return tuple(colours)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (int(r * 255), int(g * 255), int(b * 255))


def make_scene(seed: int, kind: str | None = None, palette: tuple[tuple[int, int, int], ...] | None = None) -> Scene:
    rng = random.Random(seed)
    kind = kind or rng.choice(KINDS)
    texture = {"lawn": "grass", "floor": rng.choice(("tiles", "wood", "concrete"))}.get(kind, rng.choice(TEXTURES))
    palette = palette or _palette(rng)
    size = (4000, 3000) if seed % 16 == 5 else rng.choice(((1600, 1200), (2016, 1512), (1600, 1200)))
    shapes: list[Shape] = []
    c = lambda: rng.choice(palette)  # noqa: E731
    ar = 0.75  # world height per unit of width
    if kind in ("corridor", "stairwell"):
        vx, vy = rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.5) * ar
        shapes.append(Shape("poly", (0, ar, 1, ar, vx + 0.1, vy + 0.1, vx - 0.1, vy + 0.1), c(), 3.0))
        shapes.append(
            Shape("poly", (vx - 0.1, vy - 0.12, vx + 0.1, vy - 0.12, vx + 0.1, vy + 0.1, vx - 0.1, vy + 0.1), c(), 3.5)
        )
        steps = 7 if kind == "stairwell" else 0
        for i in range(steps):
            y = vy + 0.1 + (ar - vy - 0.1) * (i + 1) / (steps + 1)
            shapes.append(Shape("line", (0.05, y, 0.95, y), (40, 40, 40), 2.5, width=rng.randint(3, 8)))
    if kind in ("floor", "lawn"):
        shapes.append(
            Shape("poly", (0, ar * rng.uniform(0.2, 0.45), 1, ar * rng.uniform(0.2, 0.45), 1, 0, 0, 0), c(), 3.8)
        )
    for _ in range(rng.randint(3, 7)):
        what = rng.choice(("door", "window", "pipe", "bin", "panel", "sign", "box", "pipe"))
        if kind in ("door", "window", "pipes", "bins"):
            what = rng.choice((kind.rstrip("s"), what))
        x, y = rng.uniform(0.02, 0.85), rng.uniform(0.02, 0.6) * ar / 0.75
        w, h = rng.uniform(0.06, 0.25), rng.uniform(0.08, 0.35)
        depth = rng.uniform(1.2, 3.2)
        if what == "door":
            shapes.append(Shape("rect", (x, y, x + w, min(ar, y + 2 * h)), c(), depth))
            shapes.append(
                Shape("rect", (x + 0.01, y + 0.01, x + w - 0.01, min(ar, y + 2 * h) - 0.01), c(), depth - 0.01)
            )
            shapes.append(
                Shape(
                    "ellipse", (x + w * 0.8, y + h, x + w * 0.8 + 0.015, y + h + 0.015), (200, 190, 120), depth - 0.02
                )
            )
        elif what == "window":
            shapes.append(
                Shape("rect", (x, y, x + w, y + h), (min(255, c()[0] + 90), min(255, c()[1] + 100), 235), depth)
            )
            shapes.append(Shape("line", (x + w / 2, y, x + w / 2, y + h), (245, 245, 245), depth - 0.01, width=6))
            shapes.append(Shape("line", (x, y + h / 2, x + w, y + h / 2), (245, 245, 245), depth - 0.01, width=6))
        elif what == "pipe":
            if rng.random() < 0.5:
                shapes.append(Shape("line", (x, 0, x, ar), c(), depth, width=rng.randint(12, 40)))
            else:
                shapes.append(
                    Shape("line", (0, y, 1, y + rng.uniform(-0.05, 0.05)), c(), depth, width=rng.randint(12, 40))
                )
        elif what == "bin":
            by = ar - rng.uniform(0.02, 0.1)
            shapes.append(Shape("rect", (x, by - h, x + w * 0.6, by), c(), depth * 0.6))
            shapes.append(Shape("rect", (x - 0.01, by - h - 0.03, x + w * 0.6 + 0.01, by - h), c(), depth * 0.6 - 0.01))
        elif what == "sign":
            shapes.append(Shape("rect", (x, y, x + w * 0.6, y + h * 0.4), (230, 200, 40), depth))
            shapes.append(
                Shape("line", (x + 0.02, y + h * 0.2, x + w * 0.5, y + h * 0.2), (20, 20, 20), depth - 0.01, width=8)
            )
        elif what == "box":
            shapes.append(
                Shape("poly", (x, y + h, x + w, y + h, x + w * 1.2, y + h * 0.7, x + w * 0.2, y + h * 0.7), c(), depth)
            )
            shapes.append(Shape("rect", (x, y + h, x + w, y + 1.8 * h), c(), depth))
        else:
            shapes.append(Shape("rect", (x, y, x + w, y + h), c(), depth))
    # the mess: what an after-photo has removed
    for _ in range(rng.randint(1, 2)):
        mess = rng.choice(("stain", "puddle", "rubbish"))
        x, y = rng.uniform(0.1, 0.75), rng.uniform(0.25, 0.6)
        r = rng.uniform(0.06, 0.13)
        if mess == "stain":
            shapes.append(
                Shape(
                    "ellipse",
                    (x, y, x + r * 1.3, y + r),
                    (60, 45, 30),
                    1.5,
                    alpha=rng.randint(110, 190),
                    removable=True,
                )
            )
        elif mess == "puddle":
            shapes.append(
                Shape(
                    "ellipse",
                    (x, y, x + r * 2, y + r * 0.6),
                    (150, 160, 175),
                    1.4,
                    alpha=rng.randint(120, 200),
                    removable=True,
                )
            )
        else:
            for _ in range(rng.randint(3, 6)):
                dx, dy = rng.uniform(0, r), rng.uniform(0, r * 0.6)
                col = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
                s = rng.uniform(0.02, 0.05)
                shapes.append(Shape("rect", (x + dx, y + dy, x + dx + s, y + dy + s * 0.8), col, 1.3, removable=True))
    light = (rng.uniform(0, 2 * math.pi), rng.uniform(0.15, 0.45), rng.uniform(-0.1, 0.1))
    shadow = (rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.35))
    return Scene(seed, kind, texture, palette, size, tuple(shapes), light, shadow, noise_seed=seed)


def _texture(scene: Scene, h: int, w: int) -> np.ndarray:
    """The background, h×w×3 floats 0..255, in the background's own coordinates."""
    rng = np.random.default_rng(scene.seed)
    base = np.array(scene.palette[0], dtype=np.float32)
    mortar = np.array(scene.palette[1], dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    unit = w / 1000
    small = rng.normal(0, 1, (h // 16 + 2, w // 16 + 2)).astype(np.float32)
    blotch = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)
    if scene.texture in ("bricks", "tiles"):
        bw, bh = (
            (rng.uniform(50, 90) * unit, rng.uniform(20, 35) * unit)
            if scene.texture == "bricks"
            else (rng.uniform(40, 120) * unit,) * 2
        )
        row = (yy // bh).astype(int)
        off = (row % 2) * bw / 2 if scene.texture == "bricks" else 0
        gap = max(2.0, 4 * unit)
        joint = ((xx + off) % bw < gap) | (yy % bh < gap)
        cell = (((xx + off) // bw).astype(int) * 7 + row * 13) % 11 / 11.0
        img = base[None, None] * (0.85 + 0.3 * cell[..., None]) + 8 * blotch[..., None]
        img = np.where(joint[..., None], mortar[None, None], img)
    elif scene.texture == "grass":
        blades = rng.normal(0, 1, (h, w)).astype(np.float32)
        blades = (blades + np.roll(blades, 1, 0) + np.roll(blades, 2, 0)) / 1.7  # blades: streaks upward
        green = np.array([60, 120, 40], dtype=np.float32) * (0.7 + 0.6 * base / 255)
        img = green[None, None] * (1 + 0.25 * blades[..., None] + 0.15 * blotch[..., None])
    elif scene.texture == "wood":
        grain = np.sin((yy + 25 * blotch) / (rng.uniform(6, 14) * unit)) * 0.5 + 0.5
        brown = np.array([150, 100, 60], dtype=np.float32) * (0.6 + 0.6 * base / 255)
        img = brown[None, None] * (0.75 + 0.35 * grain[..., None])
    elif scene.texture == "concrete":
        speck = rng.normal(0, 1, (h, w)).astype(np.float32)
        grey = np.full(3, float(base.mean()), dtype=np.float32) * 0.6 + base * 0.4
        img = grey[None, None] * (1 + 0.06 * speck[..., None] + 0.12 * blotch[..., None])
    else:  # paint
        img = base[None, None] * (1 + 0.05 * blotch[..., None]) + np.zeros((h, w, 3), np.float32)
    return img


def render(scene: Scene) -> Image.Image:
    """One exposure of the scene from its camera, as a camera would save it (before JPEG)."""
    width, height = scene.size
    # drawn at most 1024 px wide and scaled up (a phone's lens and demosaicing are soft too); the sensor noise is
    # added at full size
    dw = min(width, 1024)
    dh = dw * height // width
    sx, sy, zoom, turn = scene.camera
    margin = 1.25
    bg = _texture(scene, int(dw * 0.75 * margin) + 2, int(dw * margin) + 2)
    bz = 4.0

    def place(px: float, py: float, depth: float) -> tuple[float, float]:
        # world (0..1 wide, 0..0.75 high) to pixels for a camera shifted by (sx, sy) and zoomed: near things
        # (small depth) move and grow more
        z = 1 + (zoom - 1) * bz / depth
        u = 0.5 + (px - 0.5) * z - sx * bz / depth
        v = 0.375 + (py - 0.375) * z - sy * bz / depth
        return u * dw, v * dw

    # the background texture covers world x -0.125..1.125 (and y as much): the window the camera sees of it
    def world(u: float, v: float) -> tuple[float, float]:
        return (0.5 + (u / dw - 0.5 + sx) / zoom, 0.375 + (v / dw - 0.375 + sy) / zoom)

    (wx0, wy0), (wx1, wy1) = world(0, 0), world(dw, dh)
    box = ((wx0 + 0.125) * dw, (wy0 + 0.125) * dw, (wx1 + 0.125) * dw, (wy1 + 0.125) * dw)
    canvas = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8)).resize((dw, dh), Image.Resampling.BILINEAR, box=box)
    canvas = canvas.convert("RGBA")
    for shape in sorted(scene.shapes, key=lambda s: -s.depth):
        if shape.removable and not scene.mess:
            continue
        layer = Image.new("RGBA", (dw, dh), (0, 0, 0, 0)) if shape.alpha < 255 else canvas
        draw = ImageDraw.Draw(layer)
        pts = [place(shape.points[i], shape.points[i + 1], shape.depth) for i in range(0, len(shape.points), 2)]
        flat = [c for p in pts for c in p]
        fill = (*shape.colour, shape.alpha)
        if shape.kind == "rect":
            draw.rectangle(
                (min(flat[0], flat[2]), min(flat[1], flat[3]), max(flat[0], flat[2]), max(flat[1], flat[3])), fill=fill
            )
        elif shape.kind == "ellipse":
            draw.ellipse(
                (min(flat[0], flat[2]), min(flat[1], flat[3]), max(flat[0], flat[2]), max(flat[1], flat[3])), fill=fill
            )
        elif shape.kind == "line":
            draw.line(flat, fill=fill, width=max(1, int(shape.width * dw / 1600 * 4 / shape.depth)))
        else:
            draw.polygon(flat, fill=fill)
        if layer is not canvas:
            canvas.alpha_composite(layer)
    image = np.asarray(canvas.convert("RGB"), dtype=np.float32)
    # light: a directional gradient, a soft cast shadow, white balance, vignetting
    angle, strength, warmth = scene.light
    yy, xx = np.mgrid[0:dh, 0:dw].astype(np.float32)
    gx, gy = (xx / dw - 0.5), (yy / dh - 0.5)
    gain = 1 + strength * (gx * math.cos(angle) + gy * math.sin(angle))
    cx, sw, dark = scene.shadow
    gain *= 1 - dark / (1 + np.exp(-(gx + 0.5 - cx - 0.3 * gy) / (sw * 0.15)))
    gain *= 1 - 0.35 * (gx**2 + gy**2)
    wb = np.array([1 + warmth, 1.0, 1 - warmth], dtype=np.float32)
    image = image * gain[..., None] * wb[None, None]
    out = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    if turn:
        turned = out.rotate(turn, Image.Resampling.BILINEAR, expand=False)
        f = 1 / (abs(math.cos(math.radians(turn))) - abs(math.sin(math.radians(turn))) * dh / dw) * 1.0
        cw, ch = dw / f, dh / f
        out = turned.resize(
            (dw, dh), Image.Resampling.BILINEAR, box=((dw - cw) / 2, (dh - ch) / 2, (dw + cw) / 2, (dh + ch) / 2)
        )
    out = out.filter(ImageFilter.GaussianBlur(random.Random(scene.noise_seed).uniform(0.3, 0.8)))
    if (dw, dh) != (width, height):
        out = out.resize((width, height), Image.Resampling.BICUBIC)
    noise = (
        np.random.default_rng(scene.noise_seed + 7)
        .normal(0, random.Random(scene.noise_seed).uniform(2, 6), (height, width, 1))
        .astype(np.float32)
    )
    pixels = np.asarray(out, dtype=np.float32) + noise.astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def save_jpeg(image: Image.Image, path: Path, quality: int, exif: Image.Exif | None = None) -> None:
    image.save(path, "JPEG", quality=quality, exif=exif.tobytes() if exif is not None else b"")


# --- the transformations of a positive pair ---------------------------------------------------------------------


def transform(photo: Image.Image, kind: str, rng: random.Random, out: Path) -> tuple[Path, str]:
    """Write the transformed copy of `photo`; return its path and what was done."""
    what: list[str] = []
    image = photo
    steps = {
        "combo": rng.choice(
            (["crop", "resize", "brightness", "jpeg"], ["exif", "screenshot"], ["contrast", "crop", "jpeg"])
        ),
    }.get(kind, [kind])
    exif_tag = None
    for step in steps:
        if step == "jpeg":
            q = rng.randint(30, 95)
            buf = BytesIO()
            image.save(buf, "JPEG", quality=q)
            image = Image.open(BytesIO(buf.getvalue()))
            image.load()
            what.append(f"jpeg q{q}")
        elif step == "resize":
            f = rng.choice((rng.uniform(0.25, 0.9), rng.uniform(1.1, 2.0)))
            image = image.resize(
                (max(8, round(image.width * f)), max(8, round(image.height * f))), Image.Resampling.BICUBIC
            )
            what.append(f"resize {f:.2f}")
        elif step == "crop":
            left, t, r, b = (rng.uniform(0, 0.10) for _ in range(4))
            image = image.crop(
                (
                    round(image.width * left),
                    round(image.height * t),
                    round(image.width * (1 - r)),
                    round(image.height * (1 - b)),
                )
            )
            what.append(f"crop {left:.2f},{t:.2f},{r:.2f},{b:.2f}")
        elif step == "brightness":
            f = rng.choice((rng.uniform(0.7, 0.9), rng.uniform(1.1, 1.3)))
            image = Image.fromarray(np.clip(np.asarray(image, np.float32) * f, 0, 255).astype(np.uint8))
            what.append(f"brightness {f:.2f}")
        elif step == "contrast":
            f = rng.choice((rng.uniform(0.7, 0.9), rng.uniform(1.1, 1.3)))
            a = np.asarray(image, np.float32)
            image = Image.fromarray(np.clip((a - a.mean()) * f + a.mean(), 0, 255).astype(np.uint8))
            what.append(f"contrast {f:.2f}")
        elif step == "exif":
            tag = rng.choice((6, 3, 8))
            # the pixels as the camera wrote them: turned so that applying `tag` makes them upright again
            undo = {6: Image.Transpose.ROTATE_90, 3: Image.Transpose.ROTATE_180, 8: Image.Transpose.ROTATE_270}[tag]
            image = image.transpose(undo)
            exif_tag = Image.Exif()
            exif_tag[0x0112] = tag
            what.append(f"exif {tag}")
        elif step == "screenshot":
            if exif_tag is not None:  # the phone shows it upright, and the screenshot has no orientation of its own
                image = image.transpose(
                    {6: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180, 8: Image.Transpose.ROTATE_90}[
                        exif_tag[0x0112]
                    ]
                )
                exif_tag = None
            image = screenshot(image, rng)
            what.append("screenshot")
    if kind == "screenshot" or (steps[-1] == "screenshot"):
        path = out.with_suffix(".png")
        image.save(path, "PNG")
    else:
        path = out.with_suffix(".jpg")
        save_jpeg(image.convert("RGB"), path, 90 if "jpeg" not in steps else 95, exif_tag)
    return path, ", ".join(what)


def screenshot(photo: Image.Image, rng: random.Random) -> Image.Image:
    """The photo shown in a phone app, and the screen saved: 1170×2532, a status bar, an app bar with a title and
    buttons, the photo fitted to the width (or, turned sideways, to the screen), a bottom bar."""
    landscape = rng.random() < 0.25
    sw, sh = (2532, 1170) if landscape else (1170, 2532)
    dark = rng.random() < 0.5
    bg = (0, 0, 0) if dark else (rng.randint(235, 255),) * 3
    fg = (255, 255, 255) if dark else (20, 20, 20)
    screen = Image.new("RGB", (sw, sh), bg)
    draw = ImageDraw.Draw(screen)
    font = ImageFont.load_default(size=44)
    status, appbar, bottom = 110, rng.randint(120, 180), rng.randint(140, 220)
    draw.text((60, 30), f"{rng.randint(7, 22)}:{rng.randint(0, 59):02d}", fill=fg, font=font)
    for i in range(3):
        draw.rectangle((sw - 100 - i * 70, 40, sw - 60 - i * 70, 80), fill=fg)
    bar = tuple(rng.randint(0, 255) for _ in range(3)) if rng.random() < 0.4 else bg
    draw.rectangle((0, status, sw, status + appbar), fill=bar)
    draw.text(
        (140, status + appbar // 3),
        rng.choice(("Photos", "WeChat", "相册", "Order 1842", "Gallery")),
        fill=fg,
        font=font,
    )
    draw.polygon(
        ((50, status + appbar // 2), (90, status + appbar // 2 - 25), (90, status + appbar // 2 + 25)), fill=fg
    )
    draw.rectangle((0, sh - bottom, sw, sh), fill=bar)
    for i in range(4):
        x = sw * (i + 0.5) / 4
        draw.ellipse((x - 25, sh - bottom + 35, x + 25, sh - bottom + 85), outline=fg, width=5)
    room = (sw, sh - status - appbar - bottom)
    f = min(room[0] / photo.width, room[1] / photo.height)
    shown = photo.resize((round(photo.width * f), round(photo.height * f)), Image.Resampling.BICUBIC)
    screen.paste(shown.convert("RGB"), ((sw - shown.width) // 2, status + appbar + (room[1] - shown.height) // 2))
    return screen


# --- the set ---------------------------------------------------------------------------------------------------


def _plan(scenes: int, pairs: int) -> list[dict[str, object]]:
    rng = random.Random(SEED)
    plan: list[dict[str, object]] = []
    half = pairs // 2
    for i in range(half):
        kind = POSITIVE[i % len(POSITIVE)]
        plan.append(
            {
                "id": f"p{i:04d}",
                "label": 1,
                "kind": kind,
                "scene": rng.randrange(scenes),
                "seed": rng.randrange(1 << 30),
            }
        )
    # negatives: 40 % distinct, 20 % each hard kind
    for i in range(pairs - half):
        r = i % 5
        kind = ("distinct", "distinct", "viewpoint", "light", "before_after")[r]
        a = rng.randrange(scenes)
        item: dict[str, object] = {
            "id": f"n{i:04d}",
            "label": 0,
            "kind": kind,
            "scene": a,
            "seed": rng.randrange(1 << 30),
        }
        if kind == "distinct":
            b = (a + 1 + rng.randrange(scenes - 1)) % scenes
            item["other"] = b
            item["same_kind"] = i % 10 == 0  # a quarter of the distinct: another scene of the same kind and palette
        plan.append(item)
    return plan


def _make_pair(job: tuple[dict[str, object], int, str]) -> dict[str, object]:
    item, _scenes, directory = job
    out = Path(directory)
    rng = random.Random(int(item["seed"]))  # type: ignore[arg-type]
    a_scene = make_scene(int(item["scene"]) * 7919 + 1)  # type: ignore[arg-type]
    a_path = out / f"scene{int(item['scene']):04d}.jpg"  # type: ignore[arg-type]
    if not a_path.exists():
        save_jpeg(render(a_scene), a_path, 92)
    kind = str(item["kind"])
    b_base = out / str(item["id"])
    note = ""
    if item["label"] == 1:
        with Image.open(a_path) as photo:
            photo.load()
            b_path, note = transform(photo, kind, rng, b_base)
    else:
        if kind == "distinct":
            other = int(item["other"])  # type: ignore[arg-type]
            if item.get("same_kind"):
                b_scene = make_scene(other * 7919 + 3, kind=a_scene.kind, palette=a_scene.palette)
                b_scene = replace(b_scene, texture=a_scene.texture)
                note = f"another {a_scene.kind}, same palette"
            else:
                b_scene = make_scene(other * 7919 + 1)
                note = f"{a_scene.kind} / {b_scene.kind}"
        elif kind == "viewpoint":
            sign = lambda: rng.choice((-1, 1))  # noqa: E731
            cam = (
                sign() * rng.uniform(0.01, 0.04),
                sign() * rng.uniform(0.005, 0.03),
                1 + sign() * rng.uniform(0.03, 0.08),
                sign() * rng.uniform(0.5, 2.0),
            )
            b_scene = replace(a_scene, camera=cam, noise_seed=a_scene.noise_seed + 1000 + rng.randrange(1000))
            note = "camera shift {:+.3f},{:+.3f} zoom {:.3f} turn {:+.1f}°".format(*cam)
        elif kind == "light":
            angle = a_scene.light[0] + rng.uniform(1.5, 4.7)
            light = (angle, rng.uniform(0.2, 0.5), rng.uniform(-0.12, 0.12))
            shadow = ((a_scene.shadow[0] + rng.uniform(0.25, 0.6)) % 1, rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.35))
            b_scene = replace(
                a_scene, light=light, shadow=shadow, noise_seed=a_scene.noise_seed + 2000 + rng.randrange(1000)
            )
            note = f"light from {math.degrees(angle) % 360:.0f}°, shadow at {shadow[0]:.2f}"
        else:
            b_scene = replace(a_scene, mess=False, noise_seed=a_scene.noise_seed + 3000 + rng.randrange(1000))
            note = "the mess removed"
        b_path = b_base.with_suffix(".jpg")
        save_jpeg(render(b_scene), b_path, 92)
    return {**item, "a": a_path.name, "b": b_path.name, "note": note}


def build(directory: Path, scenes: int, pairs: int, workers: int = 2) -> list[dict[str, object]]:
    directory.mkdir(parents=True, exist_ok=True)
    plan = _plan(scenes, pairs)
    started = time.perf_counter()
    # every scene's photo first, one process each, so that pairs never race to write the same file
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_render_scene, [(s, str(directory)) for s in range(scenes)], chunksize=4))
        print(f"{scenes} scenes in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        made = list(pool.map(_make_pair, [(item, scenes, str(directory)) for item in plan], chunksize=8))
    print(f"{len(made)} pairs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    manifest = {"version": VERSION, "seed": SEED, "scenes": scenes, "pairs": made}
    (directory / "pairs.json").write_text(json.dumps(manifest, indent=1))
    return made


def _render_scene(job: tuple[int, str]) -> None:
    index, directory = job
    path = Path(directory) / f"scene{index:04d}.jpg"
    if not path.exists():
        save_jpeg(render(make_scene(index * 7919 + 1)), path, 92)


def load(
    directory: Path = SET_DIR, scenes: int = 320, pairs: int = 2000, rebuild: bool = False
) -> list[dict[str, object]]:
    """The set's pairs, built first when missing, of another version or size, or when asked."""
    manifest = directory / "pairs.json"
    if not rebuild and manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("version") == VERSION and data.get("scenes") == scenes and len(data["pairs"]) == pairs:
            return list(data["pairs"])
    if directory.exists():
        shutil.rmtree(directory)
    return build(directory, scenes, pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=320)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=SET_DIR)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    made = load(args.dir, args.scenes, args.pairs, args.rebuild)
    counts: dict[str, int] = {}
    for item in made:
        counts[str(item["kind"])] = counts.get(str(item["kind"]), 0) + 1
    print(f"{len(made)} pairs in {args.dir}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
