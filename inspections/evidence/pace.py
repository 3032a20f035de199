"""The checks of a completed round's checkpoint visits (docs/evidence.md, "Pace" and "Place"): a leg between two
scans faster than anyone walks, a round done in far less than its route's expected time, a scan recorded before
the previous one, a visit's device position outside the property's fence. Pure: the facts in, the findings out."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

from core.structs import Frozen
from inspections.evidence.geo import Fence, beyond, metres
from inspections.evidence.models import Finding, Thresholds
from inspections.models import Plan


class VisitFacts(Frozen, frozen=True):
    id: str
    checkpoint_id: str
    checked_by: str | None
    scanned_at: datetime | None
    lat: float | None = None  # the device's position at the scan
    lon: float | None = None
    accuracy_m: float | None = None
    checkpoint_lat: float | None = None  # where the checkpoint is
    checkpoint_lon: float | None = None


class RoundFacts(Frozen, frozen=True):
    id: str
    property_id: str
    assignee_id: str
    started_at: datetime | None
    completed_at: datetime | None
    plan: Plan | None
    visits: list[VisitFacts]
    fence: Fence | None = None


def check_round(facts: RoundFacts, limits: Thresholds) -> list[Finding]:
    scanned = sorted((v for v in facts.visits if v.scanned_at is not None), key=_when)
    return [
        *_legs(facts, scanned, limits),
        *_short(facts, scanned, limits),
        *_out_of_order(facts, limits),
        *_outside(facts, limits),
    ]


def _when(visit: VisitFacts) -> datetime:
    assert visit.scanned_at is not None
    return visit.scanned_at


def _finding(facts: RoundFacts, visit: VisitFacts, **kw: Any) -> Finding:
    return Finding(
        subject="visit", subject_id=visit.id, round_id=facts.id, staff_id=visit.checked_by or facts.assignee_id, **kw
    )


def _legs(facts: RoundFacts, scanned: list[VisitFacts], limits: Thresholds) -> list[Finding]:
    """Consecutive scans (in time): the speed between the checkpoints' positions, or, where a checkpoint has none,
    the leg's time against its expected minutes on the route."""
    leg_minutes = {s.checkpoint_id: s.minutes for s in facts.plan.stops} if facts.plan else {}
    found = []
    for a, b in pairwise(scanned):
        seconds = (_when(b) - _when(a)).total_seconds()
        here = (a.checkpoint_lat, a.checkpoint_lon, b.checkpoint_lat, b.checkpoint_lon)
        if all(x is not None for x in here):
            distance = metres(*here)  # type: ignore[arg-type]
            if distance < limits.leg_metres_min:
                continue
            kmh = distance / max(seconds, 1.0) * 3.6
            if kmh > limits.max_walk_kmh:
                evidence = {
                    "from_visit": a.id,
                    "metres": round(distance),
                    "seconds": round(seconds),
                    "kmh": round(kmh, 1),
                }
                found.append(_finding(facts, b, kind="too_fast", score=round(kmh, 1), evidence=evidence))
            continue
        expected = leg_minutes.get(b.checkpoint_id)
        if expected is None or expected < limits.min_leg_minutes:
            continue
        if seconds < limits.min_leg_share * expected * 60:
            minutes = round(seconds / 60, 1)
            evidence = {"from_visit": a.id, "minutes": minutes, "expected_minutes": expected}
            found.append(
                _finding(facts, b, kind="too_fast", score=round(seconds / 60 / expected, 2), evidence=evidence)
            )
    return found


def _short(facts: RoundFacts, scanned: list[VisitFacts], limits: Thresholds) -> list[Finding]:
    """The whole round against its route: from its start (or first scan) to its completion (or last scan)."""
    if facts.plan is None or not scanned:
        return []
    expected = sum(s.minutes for s in facts.plan.stops)
    start = facts.started_at or _when(scanned[0])
    end = facts.completed_at or _when(scanned[-1])
    took = max(0.0, (end - start).total_seconds() / 60)
    if expected <= 0 or took >= limits.min_round_share * expected:
        return []
    share = round(took / expected, 2)
    return [
        Finding(
            kind="round_too_short",
            subject="round",
            subject_id=facts.id,
            round_id=facts.id,
            staff_id=facts.assignee_id,
            score=share,
            evidence={"minutes": round(took, 1), "expected_minutes": expected, "share": share},
        )
    ]


def _out_of_order(facts: RoundFacts, limits: Thresholds) -> list[Finding]:
    """A scan earlier than the round's start, or than the scan of the stop before it on the route: the clock went
    back, or the route was not walked in its order."""
    del limits
    found = []
    by_checkpoint = {v.checkpoint_id: v for v in facts.visits if v.scanned_at is not None}
    previous: VisitFacts | None = None
    for stop in facts.plan.stops if facts.plan else []:
        visit = by_checkpoint.get(stop.checkpoint_id)
        if visit is None:
            continue
        before = previous.scanned_at if previous else facts.started_at
        if before is not None and _when(visit) < before:
            minutes = round((before - _when(visit)).total_seconds() / 60, 1)
            evidence = {"scanned_at": _when(visit).isoformat(), "after": before.isoformat(), "minutes_back": minutes}
            if previous is not None:
                evidence["previous_visit"] = previous.id
            found.append(_finding(facts, visit, kind="scan_out_of_order", score=minutes, evidence=evidence))
        previous = visit
    return found


def _outside(facts: RoundFacts, limits: Thresholds) -> list[Finding]:
    """A visit whose device position, less its accuracy, is beyond the property's fence."""
    if facts.fence is None:
        return []
    found = []
    for visit in facts.visits:
        if visit.lat is None or visit.lon is None:
            continue
        out = beyond(facts.fence, visit.lat, visit.lon, margin_m=limits.fence_margin_m, accuracy_m=visit.accuracy_m)
        if out > 0:
            evidence = {"lat": visit.lat, "lon": visit.lon, "accuracy_m": visit.accuracy_m, "source": "device"}
            found.append(_finding(facts, visit, kind="outside_fence", score=round(out), evidence=evidence))
    return found
