"""Survey slips: the PDF of 1,000 households' slips, against the same 1,000 links as the JSON of /links.

    .venv/bin/python -m bench.slips [--households N] [--repeats N]

One campaign of a property of 10 buildings × 100 units (`--households` in all). Measured, alternating, `--repeats`
times each, median: the slips as `GET /campaigns/{id}/slips` makes them once the rows are read (each household's
link token, the `SlipSheet`, and `surveys.slips.render`: the PDF with the font subset embedded), against the
links as `GET /campaigns/{id}/links` makes them from the same rows (the same tokens, `InvitationLink`s encoded
to JSON by msgspec). The rows themselves come from one query in both cases and are left out. No database: both
sides are CPU work in this process.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable

import msgspec

from bench._support import Result, median, print_results, say
from surveys.campaigns import link_token
from surveys.schemas import InvitationLink
from surveys.slips import PER_PAGE, Slip, SlipSheet, render

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
ORG, CAMPAIGN, BASE = "bench-org", "bench-campaign", "https://wy.example.com"
BUILDINGS = 10


def households(count: int) -> list[tuple[str, str, str, str]]:
    """(unit id, building id, building name, unit number), as the slips' query gives them, in print order."""
    per = -(-count // BUILDINGS)
    return [
        (f"u{i:05d}", f"b{i // per}", f"{i // per + 1}号楼", f"{1 + (i % per) // 4}-{(i % per) // 4 + 1}0{1 + i % 4}")
        for i in range(count)
    ]


def slips_pdf(rows: list[tuple[str, str, str, str]]) -> bytes:
    sheet = SlipSheet(
        campaign_id=CAMPAIGN,
        property_name="阳光花园 Sunshine Garden",
        name_zh="2026下半年物业服务满意度调查",
        name_en="H2 2026 satisfaction survey",
        closes_local="2026-12-15 18:00",
        slips=[
            Slip(
                unit_id=unit,
                building_id=building,
                building_name=name,
                unit_number=number,
                url=f"{BASE}/survey/{link_token(SECRET, ORG, CAMPAIGN, unit)}",
            )
            for unit, building, name, number in rows
        ],
    )
    return render(sheet)


def links_json(rows: list[tuple[str, str, str, str]]) -> bytes:
    return msgspec.json.encode(
        [
            InvitationLink(
                unit_id=unit, building_id=building, token=link_token(SECRET, ORG, CAMPAIGN, unit), responded=False
            )
            for unit, building, _, _ in rows
        ]
    )


def timed(make: Callable[[], bytes]) -> tuple[float, int]:
    start = time.perf_counter()
    size = len(make())
    return time.perf_counter() - start, size


def run(count: int, repeats: int) -> tuple[list[Result], str]:
    rows = households(count)
    slips_s: list[float] = []
    links_s: list[float] = []
    pdf_bytes = json_bytes = 0
    for n in range(repeats):
        seconds, pdf_bytes = timed(lambda: slips_pdf(rows))
        slips_s.append(seconds)
        seconds, json_bytes = timed(lambda: links_json(rows))
        links_s.append(seconds)
        say(f"round {n + 1}/{repeats}: slips {slips_s[-1]:.2f} s, links {links_s[-1] * 1000:.1f} ms")
    slips, links = median(slips_s), median(links_s)
    pages = -(-count // PER_PAGE)
    results = [
        Result(
            metric=f"slips for {count:,} households ({pages} A4 pages)",
            fieldwork=f"{slips:.2f} s ({slips / count * 1000:.2f} ms a slip; {pdf_bytes / 1024:,.0f} KiB)",
            baseline=f"{links * 1000:.1f} ms (the links' JSON; {json_bytes / 1024:,.0f} KiB)",
            ratio=f"{slips / links:,.0f}×",
            target="—",
            passed=None,
        )
    ]
    notes = (
        f"Median of {repeats} runs each, alternating; {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.machine()}."
    )
    return results, notes


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slips", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results, notes = run(args.households, args.repeats)
    return print_results(results, notes, "bench.slips")


if __name__ == "__main__":
    sys.exit(main())
