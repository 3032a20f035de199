"""The scores of an owner satisfaction survey campaign, from answer counts the database aggregates. Pure: no I/O.

Satisfaction is measured per household (one response per household), as the practice measures it:

- a household's mean in a dimension is the mean of its Likert answers (1-5) to that dimension's questions, and its
  overall mean the mean of all its Likert answers (so a dimension of six questions weighs six times one of one);
- a dimension's household_score is the mean of its responding households' means, Σ m_h / H over the H households
  that answered at least one of its questions: with one question per dimension, Σ k·n_k / N over the N
  respondents; the overall household score is the same over every household's overall mean;
- a household is satisfied in a dimension (or overall) when its mean there is 4 or more; the satisfaction rate
  (满意率) is satisfied households / responding households;
- beside them, labelled as such, the answer-weighted score Σ k·count_k / n over the n answers (a household that
  answered six questions weighs six times one that answered one); it equals the household score whenever every
  household answered the same number of the dimension's questions;
- NPS = % promoters (9-10) - % detractors (0-6), an integer from -100 to 100.

Every figure is computed on exact fractions and rounded once, half away from zero (4.125 -> 4.13, -12.5 -> -13):
scores to 2 decimals, rates to 4, NPS to an integer, so a report is the same on every machine. A figure with no
answers (or a rate with a zero denominator) is None: "nobody answered" is not a score of 0.
"""

from __future__ import annotations

import math
from fractions import Fraction

import msgspec

from core.structs import Frozen
from surveys.models import CHANNELS, LIKERT, NPS

LIKERT_VALUES = range(LIKERT[0], LIKERT[1] + 1)
NPS_VALUES = range(NPS[0], NPS[1] + 1)
SATISFIED = 4  # a household whose mean is 4 or more is satisfied
PROMOTER, DETRACTOR = 9, 6  # 9-10 promote, 0-6 detract, 7-8 are passive


class LikertCount(Frozen, frozen=True):
    question_key: str
    dimension: str
    value: int  # 1..5
    count: int


class HouseholdCount(Frozen, frozen=True):
    """`households` households whose Likert answers to `dimension` (None: to every dimension) number `answers`
    and sum to `total`: their mean there is total / answers."""

    dimension: str | None
    total: int
    answers: int
    households: int


class BuildingCount(Frozen, frozen=True):
    building_id: str
    building_name: str
    invited: int
    responded: int


class DimensionScore(Frozen, frozen=True):
    """households: responding households that answered any of the dimension's questions; answers: their Likert
    answers. household_score: the mean of those households' means; satisfaction_rate: satisfied_households (mean
    >= 4) / households; answer_weighted_score: Σ k·count_k / answers; distribution: answers by value.
    household_score_change: this household score minus the previous campaign's, None when either is missing.
    flagged: the exact household score is under the campaign's threshold."""

    key: str
    name_zh: str
    name_en: str
    households: int
    answers: int
    household_score: float | None
    satisfied_households: int
    satisfaction_rate: float | None
    answer_weighted_score: float | None
    distribution: dict[int, int]  # answers, 1..5, all present
    household_score_change: float | None
    flagged: bool


class QuestionDistribution(Frozen, frozen=True):
    question_key: str
    dimension: str
    distribution: dict[int, int]  # 1..5, all present
    score: float | None


class BuildingRate(BuildingCount, frozen=True):
    rate: float | None


class Report(Frozen, frozen=True):
    """rated_households: responses with any Likert answer; overall_household_score: the mean of their overall
    means; overall_satisfaction_rate: satisfied_households (overall mean >= 4) / rated_households;
    overall_answer_weighted_score: the mean of all Likert answers."""

    responses: int
    invited: int
    response_rate: float | None
    rated_households: int
    overall_household_score: float | None
    overall_household_score_change: float | None
    satisfied_households: int
    overall_satisfaction_rate: float | None
    overall_answer_weighted_score: float | None
    nps: int | None
    nps_change: int | None
    promoters: int
    passives: int
    detractors: int
    dimensions: list[DimensionScore]  # template order
    questions: list[QuestionDistribution]  # in the order of their first count
    buildings: list[BuildingRate]
    choices: dict[str, dict[str, int]]
    flagged: list[str]  # dimension keys, template order
    # NPS answers by value, 0..10 all present; responses by channel (link, app, phone, visit), all present. Results
    # published before these were counted have them empty.
    nps_distribution: dict[int, int] = {}
    channels: dict[str, int] = {}


class Inputs(Frozen, frozen=True):
    likert: list[LikertCount]  # zero counts may be absent
    households: list[HouseholdCount]  # by dimension, and overall (dimension None)
    nps: dict[int, int]  # value 0..10 -> count
    buildings: list[BuildingCount]
    choices: dict[str, dict[str, int]]  # question_key -> option key -> count
    responses: int
    dimensions: list[tuple[str, str, str]]  # (key, name_zh, name_en), template order
    flag_below: float
    previous: Report | None = None
    channels: dict[str, int] = {}  # responses by channel; absent ones are 0


def _rounded(x: Fraction, places: int) -> Fraction:
    """Half away from zero, on the exact value (float round() rounds half to even on the binary value)."""
    unit = 10**places
    whole = math.floor(abs(x) * unit + Fraction(1, 2))
    return Fraction(whole if x >= 0 else -whole, unit)


def _exact(value: float) -> Fraction:
    # the decimal a float was written as (3.8), not its binary value (3.79999…): previous scores and thresholds
    # are decimals; taken in binary, a dimension at exactly 4.2 would sit under a threshold of 4.2
    return Fraction(repr(value))


def _mean(distribution: dict[int, int]) -> Fraction | None:
    n = sum(distribution.values())
    return Fraction(sum(k * c for k, c in distribution.items()), n) if n else None


def _household_mean(counts: list[HouseholdCount]) -> tuple[int, Fraction | None, int]:
    """(households, the mean of their means, those whose mean is SATISFIED or more)."""
    households = sum(c.households for c in counts)
    if not households:
        return 0, None, 0
    total = sum((c.households * Fraction(c.total, c.answers) for c in counts), Fraction(0))
    satisfied = sum(c.households for c in counts if c.total >= SATISFIED * c.answers)
    return households, total / households, satisfied


def _score(mean: Fraction | None) -> float | None:
    return None if mean is None else float(_rounded(mean, 2))


def _rate(part: int, whole: int) -> float | None:
    return float(_rounded(Fraction(part, whole), 4)) if whole else None


def response_rate(responded: int, invited: int) -> float | None:
    """Responses / invited households, rounded as every rate of the report is."""
    return _rate(responded, invited)


def _change(now: float | None, before: float | None) -> float | None:
    # the difference of the scores as shown, so 3.83 after 3.80 reads +0.03 whatever the unrounded values were
    return None if now is None or before is None else float(_rounded(_exact(now) - _exact(before), 2))


def _check(inputs: Inputs) -> None:
    keys = [key for key, _, _ in inputs.dimensions]
    if len(set(keys)) != len(keys):
        raise ValueError(f"dimension keys repeat: {keys}")
    for row in inputs.likert:
        if row.value not in LIKERT_VALUES or row.count < 0 or row.dimension not in keys:
            raise ValueError(f"bad Likert count {row!r} (value 1-5, count >= 0, a dimension of the template)")
    if any(value not in NPS_VALUES or count < 0 for value, count in inputs.nps.items()):
        raise ValueError(f"bad NPS counts {inputs.nps!r} (values 0-10, counts >= 0)")
    if any(channel not in CHANNELS or count < 0 for channel, count in inputs.channels.items()):
        raise ValueError(f"bad channel counts {inputs.channels!r} (channels {CHANNELS}, counts >= 0)")
    if inputs.responses < 0 or any(b.invited < 0 or b.responded < 0 for b in inputs.buildings):
        raise ValueError("negative response or invitation counts")
    for h in inputs.households:
        if (
            (h.dimension is not None and h.dimension not in keys)
            or h.answers < 1
            or h.households < 0
            or not h.answers * LIKERT[0] <= h.total <= h.answers * LIKERT[1]
        ):
            raise ValueError(
                f"bad household count {h!r} (a dimension of the template or None, answers >= 1, "
                "a total those answers can make)"
            )


def score(inputs: Inputs) -> Report:
    """The report of one campaign; with `previous`, the changes since the property's previous campaign."""
    _check(inputs)
    questions: dict[str, tuple[str, dict[int, int]]] = {}
    by_dimension: dict[str, dict[int, int]] = {key: dict.fromkeys(LIKERT_VALUES, 0) for key, _, _ in inputs.dimensions}
    for row in inputs.likert:
        dimension, counts = questions.setdefault(row.question_key, (row.dimension, dict.fromkeys(LIKERT_VALUES, 0)))
        if dimension != row.dimension:
            raise ValueError(f"question {row.question_key} is counted under {dimension} and {row.dimension}")
        counts[row.value] += row.count
        by_dimension[row.dimension][row.value] += row.count

    before = {d.key: d.household_score for d in inputs.previous.dimensions} if inputs.previous else {}
    threshold = _exact(inputs.flag_below)
    by_household: dict[str | None, list[HouseholdCount]] = {}
    for h in inputs.households:
        by_household.setdefault(h.dimension, []).append(h)
    dimensions = []
    for key, name_zh, name_en in inputs.dimensions:
        counts = by_dimension[key]
        households, mean, satisfied = _household_mean(by_household.get(key, []))
        shown = _score(mean)
        dimensions.append(
            DimensionScore(
                key=key,
                name_zh=name_zh,
                name_en=name_en,
                households=households,
                answers=sum(counts.values()),
                household_score=shown,
                satisfied_households=satisfied,
                satisfaction_rate=_rate(satisfied, households),
                answer_weighted_score=_score(_mean(counts)),
                distribution=counts,
                household_score_change=_change(shown, before.get(key)),
                # the exact mean, not the shown one: 3.7975 shows as 3.80 but is under a threshold of 3.8
                flagged=mean is not None and mean < threshold,
            )
        )

    rated, overall_mean, satisfied = _household_mean(by_household.get(None, []))
    overall = _score(overall_mean)
    promoters = sum(c for v, c in inputs.nps.items() if v >= PROMOTER)
    detractors = sum(c for v, c in inputs.nps.items() if v <= DETRACTOR)
    nps_answers = sum(inputs.nps.values())
    nps = int(_rounded(Fraction(100 * (promoters - detractors), nps_answers), 0)) if nps_answers else None
    previous_nps = inputs.previous.nps if inputs.previous else None
    invited = sum(b.invited for b in inputs.buildings)
    return Report(
        responses=inputs.responses,
        invited=invited,
        response_rate=_rate(inputs.responses, invited),
        rated_households=rated,
        overall_household_score=overall,
        overall_household_score_change=_change(
            overall, inputs.previous.overall_household_score if inputs.previous else None
        ),
        satisfied_households=satisfied,
        overall_satisfaction_rate=_rate(satisfied, rated),
        overall_answer_weighted_score=_score(
            _mean({k: sum(d.distribution[k] for d in dimensions) for k in LIKERT_VALUES})
        ),
        nps=nps,
        nps_change=None if nps is None or previous_nps is None else nps - previous_nps,
        promoters=promoters,
        passives=nps_answers - promoters - detractors,
        detractors=detractors,
        dimensions=dimensions,
        questions=[
            QuestionDistribution(question_key=key, dimension=dim, distribution=counts, score=_score(_mean(counts)))
            for key, (dim, counts) in questions.items()
        ],
        buildings=[
            BuildingRate(**msgspec.structs.asdict(b), rate=_rate(b.responded, b.invited)) for b in inputs.buildings
        ],
        choices=inputs.choices,
        flagged=[d.key for d in dimensions if d.flagged],
        nps_distribution={value: inputs.nps.get(value, 0) for value in NPS_VALUES},
        channels={channel: inputs.channels.get(channel, 0) for channel in CHANNELS},
    )
