"""Judging answers, timing checkpoints and the rectification lifecycle, without I/O."""

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from core.errors import Conflict, Forbidden, Invalid
from inspections.checks import Answer, BadAnswer, expected_times, judge, timing
from inspections.models import Item, Order, Plan, Stop
from inspections.rectification import Actor, action_between, deadline, decide

ITEMS = msgspec.json.decode(
    msgspec.json.encode(
        [
            {"type": "pass_fail", "key": "floor", "label_zh": "地面", "label_en": "Floor"},
            {"type": "number", "key": "temp", "label_zh": "温度", "label_en": "Temp", "min": 2, "max": 8},
            {
                "type": "choice",
                "key": "bins",
                "label_zh": "垃圾桶",
                "label_en": "Bins",
                "options": [
                    {"value": "empty", "label_zh": "空", "label_en": "empty"},
                    {"value": "full", "label_zh": "满", "label_en": "full", "fails": True},
                ],
            },
            {"type": "text", "key": "remark", "label_zh": "备注", "label_en": "Remark", "required": False},
            {"type": "signature", "key": "sign", "label_zh": "签名", "label_en": "Signature"},
        ]
    ),
    type=list[Item],
)
FLOOR, TEMP, BINS, REMARK, SIGN = ITEMS
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("item", "answer", "outcome"),
    [
        (FLOOR, Answer(result="pass"), "pass"),
        (FLOOR, Answer(result="fail"), "fail"),
        (FLOOR, Answer(result="na"), "na"),
        (TEMP, Answer(value_number=2.0), "pass"),
        (TEMP, Answer(value_number=8.0), "pass"),
        (TEMP, Answer(value_number=8.01), "fail"),
        (TEMP, Answer(value_number=-3), "fail"),
        (BINS, Answer(value_text="empty"), "pass"),
        (BINS, Answer(value_text="full"), "fail"),
        (REMARK, Answer(), None),
        (REMARK, Answer(result="na"), "na"),
        (SIGN, Answer(value_text="data:image/svg+xml;base64,AAAA"), None),
    ],
)
def test_answers_are_judged_from_the_item(item, answer, outcome):
    assert judge(item, answer) == outcome


@pytest.mark.parametrize(
    ("item", "answer", "column"),
    [
        (FLOOR, Answer(), "result"),
        (TEMP, Answer(result="pass"), "value_number"),
        (TEMP, Answer(result="na"), "result"),  # a required reading cannot be skipped
        (BINS, Answer(value_text="gone"), "value_text"),
        (SIGN, Answer(value_text="  "), "value_text"),
    ],
)
def test_an_answer_that_does_not_fit_names_its_column(item, answer, column):
    with pytest.raises(BadAnswer) as refused:
        judge(item, answer)
    assert refused.value.column == column


def test_checkpoint_timing_counts_minutes_from_the_start_with_the_tolerance_either_side():
    plan = Plan(tolerance_minutes=5, stops=[Stop(checkpoint_id="a", minutes=0), Stop(checkpoint_id="b", minutes=10)])
    expected = expected_times(plan, NOW)
    assert expected == {"a": NOW, "b": NOW + timedelta(minutes=10)}
    b = expected["b"]
    assert timing(b, b - timedelta(minutes=5), 5) == "on_time"
    assert timing(b, b - timedelta(minutes=5, seconds=1), 5) == "early"
    assert timing(b, b + timedelta(minutes=5), 5) == "on_time"
    assert timing(b, b + timedelta(minutes=6), 5) == "late"


def order(**changes):
    base = dict(
        id="o1", property_id="p", source="check", check_id=None, round_id=None, checkpoint_id=None, location=None,
        category="cleaning", description="wet floor", severity="high", responsible_id="fixer", reported_by="staff",
        status="open", due_at=NOW + timedelta(hours=24), original_due_at=NOW + timedelta(hours=24), started_at=None,
        submitted_at=None, submitted_by=None,
        verified_at=None, verified_by=None, reject_reason=None, rejections=0, resolution_note=None, created_at=NOW,
    )  # fmt: skip
    return msgspec.convert(base | changes, Order)


FIXER = Actor(user_id="fixer", supervises=False, on_site=True)
STAFF = Actor(user_id="staff", supervises=False, on_site=True)
BOSS = Actor(user_id="boss", supervises=True, on_site=True)


def test_the_lifecycle_runs_open_to_verified_with_one_send_back():
    o = order()
    o = msgspec.structs.replace(o, **decide(o, "start", FIXER, NOW))
    assert o.status == "in_progress" and o.started_at == NOW
    o = msgspec.structs.replace(o, **decide(o, "submit", FIXER, NOW, after_photos=1))
    assert o.status == "submitted" and o.submitted_by == "fixer"
    later = NOW + timedelta(hours=48)
    o = msgspec.structs.replace(o, **decide(o, "reject", BOSS, NOW, reason="still wet", due_at=later))
    assert (o.status, o.rejections, o.due_at, o.reject_reason) == ("in_progress", 1, later, "still wet")
    o = msgspec.structs.replace(o, **decide(o, "submit", FIXER, NOW, after_photos=2))
    o = msgspec.structs.replace(o, **decide(o, "verify", BOSS, NOW))
    assert o.status == "verified" and o.verified_by == "boss"


def test_refusals_say_who_and_what():
    with pytest.raises(Conflict):
        decide(order(), "submit", FIXER, NOW, after_photos=1)  # skips in progress
    with pytest.raises(Forbidden):
        decide(order(), "start", STAFF, NOW)  # not theirs
    with pytest.raises(Invalid):
        decide(order(status="in_progress"), "submit", FIXER, NOW, after_photos=0)
    with pytest.raises(Forbidden, match="only a supervisor"):
        decide(order(status="submitted", submitted_by="fixer"), "verify", FIXER, NOW)
    with pytest.raises(Forbidden, match="another supervisor"):
        decide(order(status="submitted", submitted_by="boss"), "verify", BOSS, NOW)
    with pytest.raises(Invalid):
        decide(order(status="submitted", submitted_by="fixer"), "reject", BOSS, NOW, reason=" ")
    with pytest.raises(Invalid):
        decide(order(status="submitted", submitted_by="fixer"), "reject", BOSS, NOW, reason="no", due_at=NOW)
    with pytest.raises(Conflict) as skipped:
        action_between("o1", "open", "verified")
    assert skipped.value.extra["allowed"] == ["in_progress"]


def test_a_verdict_on_a_submission_that_is_no_more_is_stale():
    shown = NOW - timedelta(hours=2)
    waiting = order(status="submitted", submitted_by="fixer", submitted_at=shown)
    assert decide(waiting, "verify", BOSS, NOW, seen=shown)["status"] == "verified"
    again = msgspec.structs.replace(waiting, submitted_at=NOW - timedelta(minutes=5), rejections=1)
    decided = msgspec.structs.replace(waiting, status="verified", verified_by="other")
    for changed, action in ((again, "verify"), (decided, "verify"), (again, "reject")):
        with pytest.raises(Conflict) as stale:
            decide(changed, action, BOSS, NOW, reason="still wet", seen=shown)
        assert stale.value.code == "stale_order" and "已被他人处理或重新提交" in stale.value.detail
    with pytest.raises(Forbidden):  # who comes first: a staff member is refused as such, stale or not
        decide(again, "verify", FIXER, NOW, seen=shown)


def test_an_unassigned_order_is_taken_by_whoever_starts_it():
    assert decide(order(responsible_id=None), "start", STAFF, NOW)["responsible_id"] == "staff"


def test_deadlines_come_from_the_item_or_the_severity_policy():
    assert deadline(NOW, "critical") == NOW + timedelta(hours=4)
    assert deadline(NOW, "low") == NOW + timedelta(days=7)
    assert deadline(NOW, "low", 2) == NOW + timedelta(hours=2)
