"""How alike two photos look, in two stages, measured on the labelled set of bench/evidence_set.py
(docs/evidence.md has the figures and how to re-run them).

1. `likeness(image)`: a 64-bit hash of the photo once flat borders are cut off (a screenshot's status bar, app
   bars and letterboxing: rows and columns nearly all of one grey), made to survive a crop of up to 10 % a side
   and to spread evenly over the look-up index's four 16-bit bands. It keeps the 20 lowest frequencies of the
   photo's 2-D DCT (a crop shifts a frequency's phase in proportion to the frequency: the higher ones say little
   about a cropped copy), evens them out (each coefficient centred and scaled by how it varies across photos, the
   higher ones weighted less), and each band's 16 bits are the signs of 16 orthonormal projections of those 20
   numbers: two photos differ in a bit about as often as the angle between their coefficients is large, and the
   bits of a band are about independent, so a band value is about as likely as any other (the index reads few
   rows per probe). `distance` counts the bits two hashes differ in; `sync.photos.similar.candidates` finds the
   earlier photos within `CANDIDATE_BITS` of which some band is within 2 bits. The hash alone cannot tell a copy
   from a second shot of the same spot (a before/after pair differs only where the mess was), so a candidate is
   only a candidate.
2. `signature(image)`: the same cut photo as a 64×64 grey thumbnail (SIGNATURE_BYTES = 4,096 bytes, row by row,
   to store beside the hash; `likeness_and_signature` gives both at the cost of one), and `same_photo(a, b)`:
   whether two signatures are one photo. It lines them up (one may be the other cropped by up to 10 % on any side,
   each side on its own), evens out brightness and contrast, and looks at what is left in each block of the
   picture: a copy differs about as much everywhere (JPEG, resampling), a second shot differs somewhere more (the
   stain gone, an object moved against the wall behind it, the light from elsewhere).

The hash changed in December 2026 (it was the 8×8 lowest DCT frequencies against their median, pHash): hashes
stored before then are of the old kind and nothing recomputes them (docs/evidence.md).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

BITS = 64
SIDE = 32  # the grey image the DCT is taken of (the signature's thumbnail, mean-pooled)
BAND_BITS = 16  # the look-up index's bands (sync/photos/similar.py): each is 16 orthonormal projections
# the DCT frequencies (vertical, horizontal) the hash is made of: the 20 with 1 <= u + v <= 5
FREQUENCIES = tuple((u, s - u) for s in range(1, 6) for u in range(s + 1))
# Each frequency's mean and standard deviation across photos, fitted on the images of the labelled set's
# even-numbered pairs of each kind (`python -m bench.evidence_eval --fit` prints them): centred and scaled, no
# coefficient dominates the angle between two photos, and a band's bits split photos about evenly
_MEAN = (
    244.4, -39.71, -119.3, 9.628, -104.7, 1.688, 27.62, -14.62, -0.9698, -45.14,
    -5.005, 18.78, -2.581, -32.88, -6.627, 7.282, 1.638, 0.03345, 4.235, -3.446,
)  # fmt: skip
_SCALE = (
    292.7, 368.5, 196.6, 120.2, 184.8, 146.7, 122.8, 94.97, 103.6, 115.7,
    103.0, 100.9, 80.31, 83.49, 106.7, 100.7, 93.86, 78.14, 56.6, 70.96,
)  # fmt: skip
_TILT = 0.5  # a frequency's weight falls as its radius to this power: the lower ones survive crops best
_SEED = 19  # of the projections: changing it (or anything above) changes every hash
SIGNATURE_SIDE = 64  # the signature: a SIGNATURE_SIDE×SIGNATURE_SIDE grey thumbnail
SIGNATURE_BYTES = SIGNATURE_SIDE * SIGNATURE_SIDE
# A candidate is within this many bits (and, found through the index, has a band within 2 bits:
# similar.CANDIDATE_RADII). Chosen on the labelled set's even-numbered pairs (docs/evidence.md, the sweep)
CANDIDATE_BITS = 16
# how much the worst of the 8×8 blocks may differ beyond the typical block (in standard deviations of the
# picture, after lining up and evening out) for two signatures to be one photo: chosen on the even-numbered
# pairs (the sweep's best of min(precision, recall) there; docs/evidence.md has both halves)
SAME_PHOTO_RESIDUAL = 0.19

_WORK_EDGE = 400  # the photo is cut and thumbnailed at this long edge: enough to find the chrome
_FLAT_SHARE = 0.97  # a row (column) whose pixels are this much within _FLAT_LEVELS of its median is chrome
_FLAT_LEVELS = 2
_CROP = 0.10  # the most a copy is cropped per side
_STEPS = 5  # window positions tried per side: 0, 2.5, 5, 7.5, 10 %
_BLOCKS = 8  # the residual is judged in BLOCKS×BLOCKS blocks
_REFINE = 3  # rounds of refining the crop found at _COARSE (3, not 2: chosen on the even half, docs/evidence.md)
_COARSE = 16  # the first search for the crop is made at this side


@cache
def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix: D @ x is the DCT of the column x."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix: np.ndarray = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    matrix[0] /= np.sqrt(2)
    return matrix


def _grey(image: Image.Image) -> Image.Image:
    """The photo in grey at about _WORK_EDGE on its long edge, flat borders cut off."""
    grey = image.convert("L")
    factor = max(1, max(grey.size) // _WORK_EDGE)
    if factor > 1:
        grey = grey.reduce(factor)
    pixels = np.asarray(grey, dtype=np.int16)
    top, bottom = _content(pixels)
    left, right = _content(pixels[top:bottom].T)
    if (top, bottom, left, right) != (0, pixels.shape[0], 0, pixels.shape[1]):
        grey = grey.crop((left, top, right, bottom))
    return grey


def _content(pixels: np.ndarray) -> tuple[int, int]:
    """The longest run of rows that are not flat, when cutting the others leaves at least a quarter of the height;
    else all rows."""
    median = np.median(pixels, axis=1, keepdims=True)
    flat = (np.abs(pixels - median) <= _FLAT_LEVELS).mean(axis=1) >= _FLAT_SHARE
    if not flat.any():
        return 0, len(flat)
    best, start, run = (0, len(flat)), 0, 0
    longest = 0
    for i, is_flat in enumerate([*flat.tolist(), True]):
        if is_flat:
            if run > longest:
                longest, best = run, (start, i)
            run = 0
            start = i + 1
        else:
            run += 1
    return best if longest >= len(flat) // 4 else (0, len(flat))


def _thumbnail(image: Image.Image) -> np.ndarray:
    """The cut photo at SIGNATURE_SIDE×SIGNATURE_SIDE, grey levels as floats."""
    grey = _grey(image).resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float64)


@cache
def _projections() -> np.ndarray:
    """BITS×len(FREQUENCIES): for each band, BAND_BITS orthonormal directions (Gram-Schmidt of seeded normal
    vectors; numpy's legacy RandomState, whose stream is frozen across numpy versions, so hashes stay comparable)."""
    rng = np.random.RandomState(_SEED)
    rows = []
    for _ in range(BITS // BAND_BITS):
        band: list[np.ndarray] = []
        for vector in rng.standard_normal((BAND_BITS, len(FREQUENCIES))):
            for done in band:
                vector = vector - (vector @ done) * done
            band.append(vector / np.linalg.norm(vector))
        rows.extend(band)
    return np.stack(rows)


@cache
def _weights() -> tuple[np.ndarray, np.ndarray]:
    radius = np.array([np.hypot(u, v) for u, v in FREQUENCIES])
    return np.array(_MEAN), radius**-_TILT / np.array(_SCALE)


def coefficients(thumbnail: np.ndarray) -> np.ndarray:
    """The DCT coefficients at FREQUENCIES of a thumbnail (SIDE×SIDE, or larger and mean-pooled down to it), as
    they come: what the hash evens out and projects (bench/evidence_eval.py fits _MEAN and _SCALE on them)."""
    if thumbnail.shape[0] != SIDE:
        thumbnail = _pool(thumbnail, SIDE)
    dct = _dct_matrix(SIDE)
    full = dct @ thumbnail @ dct.T
    picked: np.ndarray = full[tuple(np.array(FREQUENCIES).T)]
    return picked


def _hash(thumbnail: np.ndarray) -> int:
    mean, weight = _weights()
    signs = _projections() @ ((coefficients(thumbnail) - mean) * weight) > 0
    value = sum(1 << bit for bit in np.flatnonzero(signs).tolist())  # bit 16k + i: band k's i-th direction
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def likeness(image: Image.Image) -> int:
    """The image's perceptual hash, as a signed 64-bit integer (PostgreSQL's bigint); the image upright (EXIF
    orientation applied) in any mode."""
    return _hash(_thumbnail(image))


def signature(image: Image.Image) -> bytes:
    """The second stage's description of the image: SIGNATURE_SIDE×SIGNATURE_SIDE grey levels, row by row
    (SIGNATURE_BYTES bytes)."""
    return likeness_and_signature(image)[1]


def likeness_and_signature(image: Image.Image) -> tuple[int, bytes]:
    """Both at the cost of one: what the worker stores for each photo."""
    thumbnail = _thumbnail(image)
    return _hash(thumbnail), np.clip(np.rint(thumbnail), 0, 255).astype(np.uint8).tobytes()


def distance(a: int, b: int) -> int:
    """How many of the 64 bits two hashes differ in (0: alike; about 32: unrelated)."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()


def _window(lo: float, hi: float, n: int) -> np.ndarray:
    """The n×n linear interpolation matrix sampling n points evenly across [lo, hi] (shares of a line n long)."""
    centres = (lo + (np.arange(n) + 0.5) * (hi - lo) / n) * n - 0.5
    left = np.clip(np.floor(centres).astype(int), 0, n - 1)
    right = np.clip(left + 1, 0, n - 1)
    share = np.clip(centres - left, 0, 1)
    mat = np.zeros((n, n))
    mat[np.arange(n), left] += 1 - share
    mat[np.arange(n), right] += share
    return mat


@cache
def _coarse_windows() -> tuple[list[tuple[float, float]], np.ndarray]:
    cuts = np.linspace(0, _CROP, _STEPS)
    spans = [(float(lo), float(1 - hi)) for lo in cuts for hi in cuts]
    return spans, np.stack([_window(lo, hi, _COARSE) for lo, hi in spans])


def _normalised(x: np.ndarray) -> np.ndarray:
    centred: np.ndarray = x - x.mean(axis=(-2, -1), keepdims=True)
    scaled: np.ndarray = centred / (centred.std(axis=(-2, -1), keepdims=True) + 1e-6)
    return scaled


def _pool(x: np.ndarray, n: int) -> np.ndarray:
    k = x.shape[0] // n
    pooled: np.ndarray = x.reshape(n, k, n, k).mean(axis=(1, 3))
    return pooled


def _best_residual(whole: np.ndarray, part: np.ndarray) -> float:
    """`part` taken as a crop of `whole`: the window of `whole` that matches it best (searched coarsely at
    _COARSE×_COARSE, then refined by half a step at full size), and the largest block residual there."""
    spans, w = _coarse_windows()
    small = _pool(whole, _COARSE)
    resampled = np.einsum("rij,jk,clk->rcil", w, small, w, optimize=True)
    error = np.abs(_normalised(resampled) - _normalised(_pool(part, _COARSE))[None, None]).mean(axis=(2, 3))
    r, c = np.unravel_index(int(np.argmin(error)), error.shape)
    rows, cols = spans[int(r)], spans[int(c)]
    step = _CROP / (_STEPS - 1)
    target = _normalised(part)
    for _ in range(_REFINE):  # each round: half the step, the best of the 3×3×3×3 windows around the last best
        step /= 2
        rows, cols, best = _refine(whole, target, rows, cols, step)
    return _score(best, target)


def _refine(
    whole: np.ndarray, target: np.ndarray, rows: tuple[float, float], cols: tuple[float, float], step: float
) -> tuple[tuple[float, float], tuple[float, float], np.ndarray]:
    moves = (-step, 0.0, step)
    row_spans = [
        (min(max(rows[0] + a, 0.0), 2 * _CROP), min(max(rows[1] + b, 1 - 2 * _CROP), 1.0)) for a in moves for b in moves
    ]
    col_spans = [
        (min(max(cols[0] + a, 0.0), 2 * _CROP), min(max(cols[1] + b, 1 - 2 * _CROP), 1.0)) for a in moves for b in moves
    ]
    wr = np.stack([_window(lo, hi, SIGNATURE_SIDE) for lo, hi in row_spans])
    wc = np.stack([_window(lo, hi, SIGNATURE_SIDE) for lo, hi in col_spans])
    fine = np.einsum("rij,jk,clk->rcil", wr, whole, wc, optimize=True).reshape(-1, SIGNATURE_SIDE, SIGNATURE_SIDE)
    candidates = _normalised(fine)
    best = int(np.argmin(np.abs(candidates - target[None]).mean(axis=(1, 2))))
    return row_spans[best // len(col_spans)], col_spans[best % len(col_spans)], candidates[best]


def _blur(x: np.ndarray) -> np.ndarray:
    """A 3×3 box blur (edges repeated): a copy's edges, a pixel off after resampling, stop counting."""
    padded = np.pad(x, 1, mode="edge")
    rows = padded[:-2] + padded[1:-1] + padded[2:]
    blurred: np.ndarray = (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / 9
    return blurred


def _score(a: np.ndarray, b: np.ndarray) -> float:
    residual = np.abs(_blur(a) - _blur(b))
    n = SIGNATURE_SIDE // _BLOCKS
    blocks = residual.reshape(_BLOCKS, n, _BLOCKS, n).mean(axis=(1, 3))
    # a copy differs about as much everywhere (what resampling and JPEG leave); a second shot somewhere more:
    # the worst block against the typical one
    return float(blocks.max() - np.median(blocks))


def residual(a: bytes, b: bytes) -> float:
    """How far two signatures are from being one photo: the largest block's mean difference, in standard
    deviations, after lining them up (either may be the other cropped) and evening out brightness and contrast."""
    x = np.frombuffer(a, dtype=np.uint8).reshape(SIGNATURE_SIDE, SIGNATURE_SIDE).astype(np.float64)
    y = np.frombuffer(b, dtype=np.uint8).reshape(SIGNATURE_SIDE, SIGNATURE_SIDE).astype(np.float64)
    return min(_best_residual(x, y), _best_residual(y, x))


def same_photo(a: bytes, b: bytes) -> bool:
    """Whether two signatures are of one photo (a copy, however re-encoded, resized, cropped or brightened). About
    30 ms (the crop search, refined three times): call it on the candidates of the hash only, nearest first."""
    return residual(a, b) <= SAME_PHOTO_RESIDUAL
