"""The round checks on their own (inspections/evidence/pace.py): legs against a walk, the round against its
route, scans out of order, positions against the fence. Through the API and sync:
tests/integration/test_evidence_flags.py."""

from datetime import UTC, datetime, timedelta

from inspections.evidence.geo import Fence, beyond, metres
from inspections.evidence.models import Thresholds
from inspections.evidence.pace import RoundFacts, VisitFacts, check_round
from inspections.models import Plan, Stop

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LIMITS = Thresholds()
PLAN = Plan(tolerance_minutes=5, stops=[Stop(checkpoint_id="a", minutes=0), Stop(checkpoint_id="b", minutes=10)])


def visit(checkpoint: str, minutes: float, lat: float | None = None, **kw) -> VisitFacts:
    return VisitFacts(
        id=f"v-{checkpoint}",
        checkpoint_id=checkpoint,
        checked_by="s1",
        scanned_at=T0 + timedelta(minutes=minutes),
        checkpoint_lat=lat,
        checkpoint_lon=None if lat is None else 121.0,
        **kw,
    )


def facts(visits, done: float = 15, plan=PLAN, fence=None) -> RoundFacts:
    return RoundFacts(
        id="r1",
        property_id="p1",
        assignee_id="s1",
        started_at=T0,
        completed_at=T0 + timedelta(minutes=done),
        plan=plan,
        visits=visits,
        fence=fence,
    )


def kinds(found) -> list[tuple[str, str]]:
    return [(f.kind, f.subject_id) for f in found]


def test_metres_on_the_ground():
    assert abs(metres(31.0, 121.0, 31.001, 121.0) - 111.2) < 0.5  # a thousandth of a degree of latitude
    assert metres(31.0, 121.0, 31.0, 121.0) == 0
    fence = Fence(lat=31.0, lon=121.0, radius_m=300)
    assert beyond(fence, 31.002, 121.0, margin_m=50) < 0  # 222 m: inside
    assert 50 < beyond(fence, 31.004, 121.0, margin_m=50) < 100  # 445 m: 95 m beyond radius and margin
    assert beyond(fence, 31.004, 121.0, margin_m=50, accuracy_m=200) < 0  # a position that vague is not called out


def test_a_walk_is_clean_and_a_drive_is_flagged():
    walked = [visit("a", 1, 31.0), visit("b", 12, 31.0045)]  # 500 m in 11 minutes: 2.7 km/h
    assert check_round(facts(walked), LIMITS) == []
    driven = [visit("a", 4, 31.0), visit("b", 5, 31.0045)]  # 500 m in a minute
    (found,) = check_round(facts(driven, done=6), LIMITS)
    assert (found.kind, found.subject_id, found.round_id) == ("too_fast", "v-b", "r1")
    assert 29 < found.score < 31 and found.evidence["metres"] == 500


def test_near_checkpoints_are_not_judged_by_speed():
    close = [visit("a", 5, 31.0), visit("b", 5.05, 31.0001)]  # 11 m in 3 s: two tags on one landing
    assert kinds(check_round(facts(close, done=6), LIMITS)) == []


def test_without_positions_a_leg_is_judged_by_its_expected_minutes():
    hurried = [visit("a", 5), visit("b", 7)]  # 2 of 10 expected minutes
    assert kinds(check_round(facts(hurried, done=8), LIMITS)) == [("too_fast", "v-b")]
    fine = [visit("a", 5), visit("b", 9)]  # 4 of 10: brisk, not impossible
    assert kinds(check_round(facts(fine, done=10), LIMITS)) == []


def test_a_round_far_shorter_than_its_route():
    found = check_round(facts([visit("a", 0), visit("b", 3)], done=4), LIMITS)
    assert ("round_too_short", "r1") in kinds(found)
    assert next(f for f in found if f.kind == "round_too_short").score == 0.4
    assert ("round_too_short", "r1") not in kinds(check_round(facts([visit("a", 0), visit("b", 5)], done=6), LIMITS))
    assert check_round(facts([visit("a", 0)], done=1, plan=None), LIMITS) == []  # a checklist without a route


def test_a_scan_before_the_previous_one_or_before_the_start():
    backwards = [visit("a", 8), visit("b", 6)]
    assert ("scan_out_of_order", "v-b") in kinds(check_round(facts(backwards), LIMITS))
    early = [visit("a", -3), visit("b", 10)]
    assert ("scan_out_of_order", "v-a") in kinds(check_round(facts(early), LIMITS))


def test_a_visit_outside_the_fence():
    fence = Fence(lat=31.0, lon=121.0, radius_m=300)
    here = [
        VisitFacts(id="v-a", checkpoint_id="a", checked_by="s1", scanned_at=T0, lat=31.001, lon=121.0, accuracy_m=10),
        VisitFacts(
            id="v-b", checkpoint_id="b", checked_by="s1", scanned_at=T0 + timedelta(minutes=10), lat=31.05, lon=121.0
        ),
    ]
    found = check_round(facts(here, fence=fence), LIMITS)
    assert kinds(found) == [("outside_fence", "v-b")]
    assert found[0].evidence["source"] == "device"
