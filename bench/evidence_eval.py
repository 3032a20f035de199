"""The duplicate check measured on the labelled set of bench/evidence_set.py: precision, recall, the false-positive
rate on distinct photos, the confusion matrix by transformation, the distance distributions, threshold sweeps, a
held-out half, and the cost per photo.

    .venv/bin/python -m bench.evidence_eval [--rebuild] [--scenes 320] [--pairs 2000] [--misses] [--fit]

Every file of a pair goes through the worker's own path first: `sync.photos.images.make_derivatives` (draft
decode, EXIF orientation applied, display JPEG at 1600 px), and the display JPEG, decoded, is what is hashed: what
the worker will hash. The display JPEGs are cached beside the set (display/). Methods measured on the same pairs:
  plain     the classic DCT hash (pHash) of the whole display image, one threshold on the Hamming distance;
  pHash cut the same after cutting flat borders (the likeness hash until December 2026), one threshold;
  likeness  sync.photos.likeness.likeness (cut, 20 low frequencies evened out, 4 × 16 orthonormal projections);
  two-stage a candidate of the look-up (within CANDIDATE_BITS, some band within similar.CANDIDATE_RADII), then
            same_photo on the signatures (the method in use).
The CANDIDATE_BITS sweep shows each hash looked up exactly (near_duplicates at d) and the likeness hash through
`candidates`' radii, with the index rows a look-up reads (the share of the other photos of the set some probed
band finds: 1,000,000 photos like these cost that share × 1,000,000 index rows, where random hashes cost the
`random` column) and how often the original is not among the 8 nearest candidates of its copy (other photos of
the set, second shots of the same spot among them, nearer).
Held out: SAME_PHOTO_RESIDUAL is the residual sweep's best of min(precision, recall) on the even-numbered pairs
of each kind (and CANDIDATE_BITS was chosen on them too); the odd-numbered ones are reported apart. --fit prints
the hash's per-frequency mean and scale fitted on the images of the even-numbered pairs (likeness._MEAN, _SCALE).
Targets: precision >= 0.95, recall >= 0.95, false positives on distinct photos <= 1 % on the whole set, hashing and
signing < 10 ms per photo given its decoded display image. The exit status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from bench import evidence_set
from sync.photos import likeness as lk
from sync.photos import similar
from sync.photos.images import make_derivatives

POSITIVE = evidence_set.POSITIVE
NEGATIVE = evidence_set.NEGATIVE


def phash(grey: np.ndarray) -> int:
    """The classic DCT hash of a SIDE×SIDE grey image: its 8×8 lowest frequencies against their median."""
    dct = lk._dct_matrix(lk.SIDE)
    low = (dct @ grey @ dct.T)[:8, :8].flatten()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) does not vote on the median
    value = int("".join("1" if b else "0" for b in bits), 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def plain_hash(image: Image.Image) -> int:
    """The first version, kept as the baseline: the DCT hash of the whole image, nothing cut."""
    return phash(np.asarray(image.convert("L").resize((lk.SIDE, lk.SIDE), Image.Resampling.LANCZOS), np.float64))


def _display(job: tuple[str, str]) -> str:
    source, target = job
    if not Path(target).exists():
        Path(target).write_bytes(make_derivatives(Path(source)).display)
    return target


Features = tuple[int, int, int, bytes, list[float]]  # plain, pHash cut, likeness, signature, coefficients


def _features(path: str) -> Features:
    with Image.open(path) as image:
        image.load()
        new, sig = lk.likeness_and_signature(image)
        thumbnail = lk._thumbnail(image)
        cut = phash(lk._pool(thumbnail, lk.SIDE))
        return plain_hash(image), cut, new, sig, lk.coefficients(thumbnail).tolist()


def measure(directory: Path, pairs: list[dict[str, object]], workers: int = 2) -> dict[str, Features]:
    displays = directory / "display"
    displays.mkdir(exist_ok=True)
    names = sorted({str(p["a"]) for p in pairs} | {str(p["b"]) for p in pairs})
    jobs = [(str(directory / n), str(displays / (n + ".display.jpg"))) for n in names]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        made = list(pool.map(_display, jobs, chunksize=8))
        print(f"{len(names)} display images in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        features = list(pool.map(_features, made, chunksize=16))
    return dict(zip(names, features, strict=True))


_POP16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.int64)


def _bands(hashes: np.ndarray) -> np.ndarray:
    """n×4: each hash's four 16-bit bands (the index's)."""
    return np.stack([(hashes >> (16 * k)) & 0xFFFF for k in range(similar.BANDS)], axis=1)


class Lookup:
    """Which images a look-up for each image finds, for one hash and one way of probing (every image of the set)."""

    def __init__(self, hashes: list[int], band_radii: tuple[int, ...], max_distance: int) -> None:
        self.bands = _bands(np.array([h & ((1 << 64) - 1) for h in hashes], dtype=np.uint64).astype(np.int64))
        self.radii, self.max_distance = band_radii, max_distance

    def row(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        """For image q: every image's distance, and whether some probed band reads it."""
        per_band = _POP16[self.bands ^ self.bands[q]]
        probed = np.zeros(len(self.bands), dtype=bool)
        for k, r in enumerate(self.radii):
            if r >= 0:
                probed |= per_band[:, k] <= r
        return per_band.sum(axis=1), probed


def _index_share(lookup: Lookup, group: np.ndarray) -> float:
    """Of the other scenes' images, the share the probes read from the index (per look-up, on average)."""
    read = total = 0
    for q in range(len(group)):
        _, probed = lookup.row(q)
        other = group != group[q]
        read += int((probed & other).sum())
        total += int(other.sum())
    return read / total


def _crowded(lookup: Lookup, a: np.ndarray, b: np.ndarray, positive: np.ndarray, source: np.ndarray) -> int:
    """Copies whose original the look-up finds but not among the 8 nearest candidates (ties counted nearer):
    other images of the set, not copies of the same photo, come first."""
    crowded = 0
    for i in np.flatnonzero(positive):
        dist, probed = lookup.row(int(b[i]))
        found = probed & (dist <= lookup.max_distance)
        if not found[a[i]]:
            continue
        others = found & (source != source[a[i]])
        crowded += int((others & (dist <= dist[a[i]])).sum() >= 8)
    return crowded


def _rates(labels: np.ndarray, flagged: np.ndarray, distinct: np.ndarray) -> tuple[float, float, float]:
    tp = int((flagged & (labels == 1)).sum())
    fp = int((flagged & (labels == 0)).sum())
    fn = int((~flagged & (labels == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    fpr = float(flagged[distinct].mean()) if distinct.any() else 0.0
    return precision, recall, fpr


def _confusion(kinds: list[str], labels: np.ndarray, flagged: np.ndarray) -> list[str]:
    lines = ["| pair kind | label | pairs | flagged | clean | rate |", "| --- | --- | --- | --- | --- | --- |"]
    for kind in (*POSITIVE, *NEGATIVE):
        mask = np.array([k == kind for k in kinds])
        if not mask.any():
            continue
        hit = int(flagged[mask].sum())
        positive = bool(labels[mask][0])
        rate = f"caught {hit / mask.sum():.1%}" if positive else f"flagged {hit / mask.sum():.1%}"
        lines.append(
            f"| {kind} | {'same photo' if positive else 'different'} | {mask.sum()} | {hit} | {mask.sum() - hit} "
            f"| {rate} |"
        )
    return lines


def _distribution(kinds: list[str], values: np.ndarray, unit: str) -> list[str]:
    lines = [f"| pair kind | min | p5 | median | p95 | max ({unit}) |", "| --- | --- | --- | --- | --- | --- |"]
    for kind in (*POSITIVE, *NEGATIVE):
        v = values[np.array([k == kind for k in kinds])]
        if len(v):
            q = np.percentile(v, [0, 5, 50, 95, 100])
            lines.append(f"| {kind} | " + " | ".join(f"{x:.2f}".rstrip("0").rstrip(".") for x in q) + " |")
    return lines


def _sweep(name: str, values: np.ndarray, thresholds: list[float], labels: np.ndarray, distinct: np.ndarray) -> float:
    print(f"\n{name}: threshold sweep (flag when <= threshold)\n")
    print("| threshold | precision | recall | FPR distinct | ")
    print("| --- | --- | --- | --- |")
    best, best_score = thresholds[0], -1.0
    for t in thresholds:
        p, r, f = _rates(labels, values <= t, distinct)
        print(f"| {t:g} | {p:.3f} | {r:.3f} | {f:.2%} |")
        if min(p, r) > best_score:
            best, best_score = t, min(p, r)
    return best


def _cost(directory: Path, names: list[str], rounds: int = 3) -> tuple[float, float]:
    """ms per photo: likeness_and_signature of a decoded display image of a 12 MP photo, against decoding that
    display JPEG (what it is measured against), interleaved."""
    big = [n for n in names if n.startswith("scene")][:40]
    images = []
    for n in big:
        data = (directory / "display" / (n + ".display.jpg")).read_bytes()
        images.append(data)
    ours, decode = [], []
    for _ in range(rounds):
        for data in images:
            t0 = time.perf_counter()
            with Image.open(BytesIO(data)) as im:
                im.load()
                t1 = time.perf_counter()
                lk.likeness_and_signature(im)
                t2 = time.perf_counter()
            decode.append(t1 - t0)
            ours.append(t2 - t1)
    return float(np.median(ours) * 1000), float(np.median(decode) * 1000)


def _fit(features: dict[str, Features], pairs: list[dict[str, object]]) -> None:
    names = sorted({str(p[side]) for p, even in zip(pairs, _even(pairs), strict=True) if even for side in ("a", "b")})
    coefficients = np.array([features[n][4] for n in names])
    for name, values in (("_MEAN", coefficients.mean(axis=0)), ("_SCALE", coefficients.std(axis=0))):
        print(f"{name} = (" + ", ".join(f"{float(f'{v:.4g}')!r}" for v in values) + ")")
    print(f"fitted on the {len(names)} images of the even-numbered pairs")


def _even(pairs: list[dict[str, object]]) -> list[bool]:
    """Whether each pair is even-numbered among the pairs of its kind (the half thresholds are chosen on). Not the
    pair's own number: the set deals kinds out in turn, so the even ids would hold only some kinds of copy."""
    seen: dict[str, int] = {}
    even = []
    for p in pairs:
        n = seen[str(p["kind"])] = seen.get(str(p["kind"]), -1) + 1
        even.append(n % 2 == 0)
    return even


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=320)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=evidence_set.SET_DIR)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the pairs the two-stage method gets wrong")
    parser.add_argument("--fit", action="store_true", help="print the hash's per-frequency mean and scale")
    args = parser.parse_args()
    pairs = evidence_set.load(args.dir, args.scenes, args.pairs, args.rebuild)
    features = measure(args.dir, pairs)
    if args.fit:
        _fit(features, pairs)
        return 0
    names = sorted(features)
    at = {n: i for i, n in enumerate(names)}
    a = np.array([at[str(p["a"])] for p in pairs])
    b = np.array([at[str(p["b"])] for p in pairs])
    labels = np.array([int(p["label"]) for p in pairs])  # type: ignore[call-overload]
    positive = labels == 1
    kinds = [str(p["kind"]) for p in pairs]
    distinct = np.array([k == "distinct" for k in kinds])
    even = np.array(_even(pairs))
    # the scene an image shows (second shots included: the index share counts other scenes only), and the photo
    # it is a copy of (the crowding counts other photos only)
    group = np.zeros(len(names), dtype=int)
    source = np.arange(len(names))
    for p, i, j in zip(pairs, a, b, strict=True):
        group[i] = int(p["scene"])  # type: ignore[call-overload]
        group[j] = int(p.get("other", p["scene"]))  # type: ignore[call-overload]
        if p["label"] == 1:
            source[j] = i
    hashes = {name: [features[n][k] for n in names] for k, name in enumerate(("plain", "pHash cut", "likeness"))}
    dist = {name: np.array([lk.distance(h[i], h[j]) for i, j in zip(a, b, strict=True)]) for name, h in hashes.items()}
    radii_found = np.array(
        [similar.probed(hashes["likeness"][i], hashes["likeness"][j]) for i, j in zip(a, b, strict=True)]
    )
    wide = (dist["pHash cut"] <= 22) | (dist["likeness"] <= 22)
    started = time.perf_counter()  # in this process: numpy's threads are the machine's
    residual = np.full(len(pairs), 99.0)
    for n in np.flatnonzero(wide):
        residual[n] = lk.residual(features[names[a[n]]][3], features[names[b[n]]][3])
    per_candidate = (time.perf_counter() - started) / max(1, int(wide.sum())) * 1000
    print(
        f"{len(pairs)} pairs ({int(positive.sum())} same photo, {int((~positive).sum())} different; "
        f"{int(distinct.sum())} distinct scenes); even-numbered {int(even.sum())}, odd {int((~even).sum())}"
    )
    for name, values in dist.items():
        print(f"\n## Distances (Hamming bits), {name}\n")
        print("\n".join(_distribution(kinds, values, "bits")))
    print("\n## Second stage residual of pairs within 22 bits of either hash (99: not)\n")
    print("\n".join(_distribution(kinds, residual, "sd")))

    t_plain = _sweep("plain", dist["plain"], list(range(4, 25, 2)), labels, distinct)
    t_cut = _sweep("pHash cut", dist["pHash cut"], list(range(4, 25, 2)), labels, distinct)
    t_new = _sweep("likeness", dist["likeness"], list(range(4, 25, 2)), labels, distinct)
    stage1 = radii_found & (dist["likeness"] <= lk.CANDIDATE_BITS)
    candidates = np.where(stage1, residual, 99.0)
    thresholds = [0.1, 0.13, 0.15, 0.17, 0.19, 0.21, 0.23, 0.25, 0.3, 0.4]
    t_even = _sweep("two-stage on the even-numbered pairs", candidates[even], thresholds, labels[even], distinct[even])
    _sweep("two-stage on the odd-numbered pairs", candidates[~even], thresholds, labels[~even], distinct[~even])
    _sweep("two-stage on all pairs", candidates, thresholds, labels, distinct)

    print("\n## CANDIDATE_BITS sweep (two stages, residual <= SAME_PHOTO_RESIDUAL)\n")
    print(
        "| bits | hash, look-up | probes | index rows read (these photos; random hashes) | stage 1 recall "
        "| precision | recall | FPR distinct | recall even / odd | original not in 8 nearest |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for d in (10, 12, 14, 16, 18, 22):
        for name, band_radii in (
            ("pHash cut, exact", similar.radii(d)),
            ("likeness, exact", similar.radii(d)),
            (f"likeness, radii {similar.CANDIDATE_RADII}", similar.CANDIDATE_RADII),
        ):
            hashed = "pHash cut" if name.startswith("pHash") else "likeness"
            lookup = Lookup(hashes[hashed], band_radii, d)
            found = (dist[hashed] <= d) & (radii_found if "radii" in name else True)
            flagged = found & (residual <= lk.SAME_PHOTO_RESIDUAL)
            p, r, f = _rates(labels, flagged, distinct)
            r_even, r_odd = (_rates(labels[m], flagged[m], distinct[m])[1] for m in (even, ~even))
            share = _index_share(lookup, group)
            probes = similar.probe_count(d, band_radii)
            print(
                f"| {d} | {name} | {probes} | {share:.2%}; {probes / 65536:.2%} | {found[positive].mean():.3f} "
                f"| {p:.3f} | {r:.3f} | {f:.2%} | {r_even:.3f} / {r_odd:.3f} "
                f"| {_crowded(lookup, a, b, positive, source)} |"
            )

    flagged = stage1 & (residual <= lk.SAME_PHOTO_RESIDUAL)
    results = [
        (f"plain DCT hash, best threshold {t_plain:g} bits", dist["plain"] <= t_plain),
        (f"pHash after the cut, best threshold {t_cut:g} bits", dist["pHash cut"] <= t_cut),
        (f"likeness hash, best threshold {t_new:g} bits", dist["likeness"] <= t_new),
        (f"stage 1 alone: candidates (<= {lk.CANDIDATE_BITS} bits, a band within 2)", stage1),
        (f"two stages: candidates, residual <= {lk.SAME_PHOTO_RESIDUAL}", flagged),
    ]
    print("\n## Methods\n")
    print("| method | precision | recall | FPR distinct |")
    print("| --- | --- | --- | --- |")
    for name, values in results:
        p, r, f = _rates(labels, values, distinct)
        print(f"| {name} | {p:.3f} | {r:.3f} | {f:.2%} |")
    print("\n## Held out: two stages by half\n")
    print("| pairs | precision | recall | FPR distinct |")
    print("| --- | --- | --- | --- |")
    for name, mask in (("even-numbered (chosen on)", even), ("odd-numbered (held out)", ~even)):
        p, r, f = _rates(labels[mask], flagged[mask], distinct[mask])
        print(f"| {name} | {p:.3f} | {r:.3f} | {f:.2%} |")
    print("\n## Confusion by pair kind: two stages\n")
    print("\n".join(_confusion(kinds, labels, flagged)))
    if args.misses:
        print("\n## Two-stage mistakes\n")
        for p, c, res, flag in zip(pairs, dist["likeness"], residual, flagged, strict=True):
            if bool(flag) != bool(p["label"]):
                print(f"{p['id']} {p['kind']} {p['a']} {p['b']} bits {c} residual {res:.2f} {p.get('note', '')}")
    ms, decode_ms = _cost(args.dir, names)
    print(
        f"\n## Cost\n\nlikeness_and_signature of a decoded 1600×1200 display image: {ms:.2f} ms median, decoding that "
        f"display JPEG {decode_ms:.2f} ms (ratio {ms / decode_ms:.2f}); same_photo per candidate {per_candidate:.2f} ms"
    )
    print(
        f"\nchosen: CANDIDATE_BITS = {lk.CANDIDATE_BITS}, radii {similar.CANDIDATE_RADII}, SAME_PHOTO_RESIDUAL = "
        f"{lk.SAME_PHOTO_RESIDUAL} (the even half's best residual threshold: {t_even:g})"
    )
    p, r, f = _rates(labels, flagged, distinct)
    ok = p >= 0.95 and r >= 0.95 and f <= 0.01 and ms < 10
    print(f"precision {p:.3f} recall {r:.3f} FPR distinct {f:.2%} ms/photo {ms:.2f}: {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
