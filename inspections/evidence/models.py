"""What the evidence checks find (docs/evidence.md): the kinds of flag, the thresholds they are judged by, and a
flag as a supervisor sees it. The checks themselves: photo_checks.py (a photo), pace.py (a round's visits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta

from core.settings import Settings
from core.structs import Frozen

Kind = Literal[
    "after_same_as_before",
    "reused_photo",
    "time_off",
    "no_capture_time",
    "outside_fence",
    "too_fast",
    "round_too_short",
    "scan_out_of_order",
]
Subject = Literal["photo", "visit", "round"]
Level = Literal["flag", "note"]  # a note is shown, never counted
FlagStatus = Literal["open", "dismissed"]

# the records whose photos the checks judge: the inspections' work (migration 0022's trigger names the same);
# an owner's ticket photo is not judged, and is not evidence in the flag rate
JUDGED_RECORDS = ("check_results", "checkpoint_visits", "rectification_orders", "rounds")

# what each kind means, for the people who read the flags; `score` is in the unit named
KINDS: dict[str, tuple[str, str, str]] = {
    "after_same_as_before": ("整改后照片与整改前照片相同", "the after-photo is the before-photo again", "residual"),
    "reused_photo": ("照片与之前另一条记录的照片相同", "the photo is an earlier photo of another record", "residual"),
    "time_off": ("照片拍摄时间与检查时间不符", "the photo was taken long before or after the check", "minutes"),
    "no_capture_time": ("照片没有拍摄时间 (EXIF)", "the photo carries no capture time (EXIF)", "none"),
    "outside_fence": ("位置在项目范围之外", "the position is outside the property's fence", "metres"),
    "too_fast": ("两个巡查点之间速度过快", "between two checkpoints faster than anyone walks", "km/h"),
    "round_too_short": (
        "巡查用时远少于路线预计时间",
        "the round took far less than its route's expected time",
        "share",
    ),
    "scan_out_of_order": ("扫码时间早于上一个点", "a scan recorded before the previous one", "minutes"),
}


class Thresholds(Frozen, frozen=True):
    """How far evidence may stray before it is flagged (docs/evidence.md says why each value)."""

    window_days: int = 90  # the duplicate look-up's days of the property's photos
    candidates: int = 8  # nearest hashes the second stage examines, at most
    time_tolerance_minutes: int = 30  # EXIF capture time against the check's
    fence_margin_m: float = 50.0  # beyond the fence's radius, before GPS is called outside (its error)
    max_walk_kmh: float = 12.0  # faster between two checkpoints is no one's walk
    leg_metres_min: float = 30.0  # checkpoints nearer than this are not judged by speed (GPS error)
    min_leg_share: float = 0.25  # without positions: a leg done in less than this share of its expected minutes
    min_leg_minutes: int = 2  # ... when it was expected to take at least this long
    min_round_share: float = 0.5  # a round done in less than this share of its route's expected minutes

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            window_days=settings.likeness_window_days,
            time_tolerance_minutes=settings.evidence_time_tolerance_minutes,
            max_walk_kmh=settings.evidence_max_walk_kmh,
            min_round_share=settings.evidence_min_round_share,
        )


class Finding(Frozen, frozen=True):
    """What a check found, before it is a flag."""

    kind: Kind
    subject: Subject
    subject_id: str
    score: float
    evidence: dict[str, Any]
    level: Level = "flag"
    round_id: str | None = None
    order_id: str | None = None
    staff_id: str | None = None


class Flag(Frozen, frozen=True):
    """A flag as the API, sync and the console show it."""

    id: str
    property_id: str
    kind: Kind
    level: Level
    about_zh: str
    about_en: str
    subject: Subject
    subject_id: str
    round_id: str | None
    order_id: str | None
    staff_id: str | None
    score: float
    unit: str
    evidence: dict[str, Any]
    status: FlagStatus
    dismissed_by: str | None
    dismissed_at: datetime | None
    dismiss_reason: str | None
    created_at: datetime


class Dismissal(Frozen, frozen=True):
    reason: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=2000,
            pattern=r"\S",
            description="why the evidence is fine after all (kept in the audit trail)",
        ),
    ]
