"""How alike two photos look: a 64-bit perceptual hash of an upright image, and the number of bits two hashes
differ in. Near-duplicate photos (the same photo re-encoded, resized, cropped a little, brightened, or a
screenshot of it) have hashes a few bits apart; different photos about half the bits apart.

This first version is the classic DCT hash (pHash): the image in grey at 32×32, its 2-D DCT, the 8×8
lowest-frequency coefficients each compared with their median. The method and the threshold are measured on the
labelled set of bench/evidence_set.py (docs/evidence.md)."""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

BITS = 64
SIDE = 32  # the grey image the DCT is taken of
KEPT = 8  # the KEPT×KEPT lowest frequencies make the hash


@cache
def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix: D @ x is the DCT of the column x."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix: np.ndarray = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    matrix[0] /= np.sqrt(2)
    return matrix


def likeness(image: Image.Image) -> int:
    """The image's perceptual hash, as a signed 64-bit integer (PostgreSQL's bigint); the image upright (EXIF
    orientation applied) in any mode."""
    grey = np.asarray(image.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS), dtype=np.float64)
    dct = _dct_matrix(SIDE)
    low = (dct @ grey @ dct.T)[:KEPT, :KEPT].flatten()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) does not vote on the median
    value = int("".join("1" if b else "0" for b in bits), 2)
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def distance(a: int, b: int) -> int:
    """How many of the 64 bits two hashes differ in (0: alike; about 32: unrelated)."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()
