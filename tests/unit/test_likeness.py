"""The duplicate check on a small generated set: every kind of copy is caught, second shots and other photos are not.

The scenes come from bench/evidence_set.py (the labelled set the thresholds were measured on), drawn small, and go
through the worker's own path: make_derivatives' display image, decoded, is what is hashed."""

from __future__ import annotations

import random
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import evidence_set as es
from sync.photos import likeness as lk
from sync.photos import similar
from sync.photos.images import make_derivatives

SCENES = 10


def _features(path: Path) -> tuple[int, bytes]:
    with Image.open(BytesIO(make_derivatives(path).display)) as display:
        display.load()
        return lk.likeness_and_signature(display)


def _same(a: tuple[int, bytes], b: tuple[int, bytes]) -> bool:
    """What the duplicate check decides: a candidate of the look-up (similar.candidates), and the same photo."""
    candidate = lk.distance(a[0], b[0]) <= lk.CANDIDATE_BITS and similar.probed(a[0], b[0])
    return candidate and lk.same_photo(a[1], b[1])


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[es.Scene, Path]]:
    folder = tmp_path_factory.mktemp("likeness")
    made = []
    for i in range(SCENES):
        scene = replace(es.make_scene(9000 + i * 31), size=(1024, 768))
        path = folder / f"scene{i}.jpg"
        es.save_jpeg(es.render(scene), path, 92)
        made.append((scene, path))
    return made


@pytest.mark.parametrize("kind", es.POSITIVE)
def test_a_copy_is_the_same_photo(scenes: list[tuple[es.Scene, Path]], kind: str, tmp_path: Path) -> None:
    rng = random.Random(kind)
    missed = []
    for i, (_, path) in enumerate(scenes[:4]):
        with Image.open(path) as photo:
            photo.load()
            copy, what = es.transform(photo, kind, rng, tmp_path / f"{kind}{i}")
        if not _same(_features(path), _features(copy)):
            missed.append(what)
    # measured recall is 0.97 over all kinds (0.92-1.00 by kind, docs/evidence.md): one miss in four is allowed
    assert len(missed) <= 1, missed


@pytest.mark.parametrize("kind", ["viewpoint", "light", "before_after"])
def test_a_second_shot_of_the_same_spot_is_another_photo(
    scenes: list[tuple[es.Scene, Path]], kind: str, tmp_path: Path
) -> None:
    rng = random.Random(kind)
    flagged = []
    for i, (scene, path) in enumerate(scenes[:4]):
        if kind == "viewpoint":
            second = replace(scene, camera=(0.03 * (-1) ** i, 0.015, 1.05, 1.0), noise_seed=scene.noise_seed + 1)
        elif kind == "light":
            second = replace(
                scene,
                light=(scene.light[0] + 3.1, 0.4, -0.1),
                shadow=((scene.shadow[0] + 0.45) % 1, 0.2, 0.3),
                noise_seed=scene.noise_seed + 2,
            )
        else:
            second = replace(scene, mess=False, noise_seed=scene.noise_seed + 3)
        other = tmp_path / f"{kind}{i}.jpg"
        es.save_jpeg(es.render(second), other, rng.randint(85, 95))
        if _same(_features(path), _features(other)):
            flagged.append(i)
    assert not flagged


def test_different_photos_are_not_the_same(scenes: list[tuple[es.Scene, Path]]) -> None:
    features = [_features(path) for _, path in scenes]
    flagged = [
        (i, j) for i in range(len(features)) for j in range(i + 1, len(features)) if _same(features[i], features[j])
    ]
    assert not flagged


def test_a_screenshots_chrome_is_cut_off(scenes: list[tuple[es.Scene, Path]]) -> None:
    _, path = scenes[0]
    with Image.open(path) as photo:
        photo.load()
        shot = es.screenshot(photo, random.Random(1))
        assert lk.distance(lk.likeness(photo), lk.likeness(shot)) <= 8


def test_a_signature_has_a_fixed_size_and_matches_itself(scenes: list[tuple[es.Scene, Path]]) -> None:
    _, path = scenes[1]
    with Image.open(path) as photo:
        hashed, signature = lk.likeness_and_signature(photo)
        assert signature == lk.signature(photo) and hashed == lk.likeness(photo)
    assert len(signature) == lk.SIGNATURE_BYTES
    assert -(1 << 63) <= hashed < 1 << 63
    assert lk.same_photo(signature, signature) and lk.residual(signature, signature) == pytest.approx(0, abs=1e-6)


def _fixed_picture() -> Image.Image:
    """A picture drawn the same way on any machine: a lit gradient and a few shapes."""
    image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 50, 260, 300), fill=(200, 40, 40))
    draw.ellipse((320, 200, 600, 440), fill=(30, 90, 200))
    draw.line((0, 470, 640, 10), fill=(250, 250, 250), width=24)
    return image


def test_the_hash_is_what_it_was():
    # stored hashes are compared with new ones: the hash of a fixed picture must not move (a changed constant,
    # seed or numpy stream would); a bit may tip where a projection is within rounding of zero
    assert lk.distance(lk.likeness(_fixed_picture()), PINNED) <= 2


PINNED = -5750417582875868432  # lk.likeness(_fixed_picture()) when the hash was made (December 2026)


def test_a_bands_projections_are_orthonormal():
    projections = lk._projections()
    assert projections.shape == (lk.BITS, len(lk.FREQUENCIES))
    for k in range(lk.BITS // lk.BAND_BITS):
        band = projections[k * lk.BAND_BITS : (k + 1) * lk.BAND_BITS]
        assert np.allclose(band @ band.T, np.eye(lk.BAND_BITS))
