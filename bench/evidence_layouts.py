"""How many bands: multi-index look-ups with m = 3, 4, 5 bands over 1,000,000 random hashes of one property, at
d = 8 and 12, the same queries on the same rows (why migration 0021 has four bands of 16 bits).

    .venv/bin/python -m bench.evidence_layouts

A scratch database with a bare table (org, property, id, time, hash) of 1,200,000 rows (1,000,000 in the property
looked in, all inside the window); for each m, one index per band (org, property, band, time) INCLUDE (hash, id),
as migration 0021's, VACUUM ANALYZE, then 50 timed look-ups after 10 untimed (the same UNION of index-only scans
as sync/photos/repository.py, radii sharing d + 1 as sync/photos/similar.py does), then the indexes dropped.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from itertools import combinations

from bench._support import percentile, say, scratch_database
from core.db import connect


def bands(m: int) -> list[tuple[int, int]]:
    """(shift, width) of each band: 64 bits shared out as evenly as they go."""
    base, extra = divmod(64, m)
    out, shift = [], 0
    for k in range(m):
        width = base + (k < extra)
        out.append((shift, width))
        shift += width
    return out


def radii(m: int, d: int) -> list[int]:
    share, extra = divmod(d + 1, m)
    return [share + (k < extra) - 1 for k in range(m)]


def masks(width: int, radius: int) -> list[int]:
    return [sum(1 << b for b in bits) for n in range(radius + 1) for bits in combinations(range(width), n)]


async def run() -> list[str]:
    lines = []
    async with scratch_database() as url:
        conn = await connect(url)
        try:
            await conn.execute("CREATE TABLE h (o text, p text, id text, t timestamptz, l bigint)")
            await conn.execute(
                """INSERT INTO h SELECT 'org', CASE WHEN n <= 1000000 THEN 'prop' ELSE 'other' END, 'p' || n,
                       now() - random() * interval '89 days',
                       ((random() * 4294967295)::bigint << 32) | (random() * 4294967295)::bigint
                   FROM generate_series(1, 1200000) AS n"""
            )
            rng = random.Random(3)
            queries = [rng.getrandbits(64) - (1 << 63) for _ in range(60)]
            for m in (3, 4, 5):
                layout = bands(m)
                exprs = [f"((l >> {shift}) & {(1 << width) - 1})" for shift, width in layout]
                for k, expr in enumerate(exprs):
                    await conn.execute(f"CREATE INDEX h{m}_{k} ON h (o, p, {expr}, t) INCLUDE (l, id)")
                await conn.execute("VACUUM ANALYZE h")
                sql = " UNION ".join(
                    f"""SELECT id FROM h WHERE o = 'org' AND p = 'prop' AND {expr} = ANY(${k + 3}::bigint[])
                        AND t >= now() - interval '90 days' AND bit_count((l # $1)::bit(64)) <= $2"""
                    for k, expr in enumerate(exprs)
                )
                for d in (8, 12):
                    rs = radii(m, d)
                    timings = []
                    for i, query in enumerate(queries):
                        probes = [
                            [((query >> shift) & ((1 << width) - 1)) ^ x for x in masks(width, r)] if r >= 0 else []
                            for (shift, width), r in zip(layout, rs, strict=True)
                        ]
                        started = time.perf_counter()
                        await conn.fetch(sql, query, d, *probes)
                        if i >= 10:
                            timings.append((time.perf_counter() - started) * 1000)
                    count = sum(len(masks(w, r)) for (_, w), r in zip(layout, rs, strict=True) if r >= 0)
                    line = (
                        f"m = {m} (widths {[w for _, w in layout]}), d = {d}: radii {rs}, {count} probes, "
                        f"p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms"
                    )
                    say(line)
                    lines.append(line)
                for k in range(m):
                    await conn.execute(f"DROP INDEX h{m}_{k}")
        finally:
            await conn.close()
    return lines


def main() -> int:
    print("\n".join(asyncio.run(run())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
