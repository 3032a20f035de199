"""The scores of an owner satisfaction survey campaign, from answer counts the database aggregates. Pure: no I/O.

- a dimension's score is the mean of the Likert answers (1-5) to its questions, Σ k·count_k / n, n = those answers;
  its satisfaction rate is the share of answers 4 or 5;
- the overall score is the mean of all Likert answers of all dimensions, so each answer weighs the same: a mean of
  dimension scores would let a dimension of one question count as much as one of six, and an answer to it six
  times as much;
- NPS = % promoters (9-10) - % detractors (0-6), an integer from -100 to 100.

Every figure is computed on exact fractions and rounded once, half away from zero (4.125 -> 4.13, -12.5 -> -13):
scores to 2 decimals, rates to 4, NPS to an integer, so a report is the same on every machine. A figure with no
answers (or a rate with a zero denominator) is None: "nobody answered" is not a score of 0.
"""

from __future__ import annotations

import math
from fractions import Fraction

from core.structs import Struct

LIKERT = range(1, 6)
NPS_VALUES = range(11)
SATISFIED = 4  # answers of 4 and 5 count as satisfied
PROMOTER, DETRACTOR = 9, 6  # 9-10 promote, 0-6 detract, 7-8 are passive


class LikertCount(Struct, frozen=True):
    question_key: str
    dimension: str
    value: int  # 1..5
    count: int


class BuildingCount(Struct, frozen=True):
    building_id: str
    building_name: str
    invited: int
    responded: int


class DimensionScore(Struct, frozen=True):
    """change: this score minus the previous campaign's score of the same key, None when either is missing."""

    key: str
    name_zh: str
    name_en: str
    answers: int
    score: float | None
    satisfaction: float | None
    distribution: dict[int, int]  # 1..5, all present
    change: float | None
    flagged: bool


class QuestionDistribution(Struct, frozen=True):
    question_key: str
    dimension: str
    distribution: dict[int, int]  # 1..5, all present
    score: float | None


class BuildingRate(Struct, frozen=True):
    building_id: str
    building_name: str
    invited: int
    responded: int
    rate: float | None


class Report(Struct, frozen=True):
    responses: int
    invited: int
    response_rate: float | None
    overall: float | None
    overall_change: float | None
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


class Inputs(Struct, frozen=True):
    likert: list[LikertCount]  # zero counts may be absent
    nps: dict[int, int]  # value 0..10 -> count
    buildings: list[BuildingCount]
    choices: dict[str, dict[str, int]]  # question_key -> option key -> count
    responses: int
    dimensions: list[tuple[str, str, str]]  # (key, name_zh, name_en), template order
    flag_below: float
    previous: Report | None = None


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


def _score(mean: Fraction | None) -> float | None:
    return None if mean is None else float(_rounded(mean, 2))


def _rate(part: int, whole: int) -> float | None:
    return float(_rounded(Fraction(part, whole), 4)) if whole else None


def _change(now: float | None, before: float | None) -> float | None:
    # the difference of the scores as shown, so 3.83 after 3.80 reads +0.03 whatever the unrounded values were
    return None if now is None or before is None else float(_rounded(_exact(now) - _exact(before), 2))


def _check(inputs: Inputs) -> None:
    keys = [key for key, _, _ in inputs.dimensions]
    if len(set(keys)) != len(keys):
        raise ValueError(f"dimension keys repeat: {keys}")
    for row in inputs.likert:
        if row.value not in LIKERT or row.count < 0 or row.dimension not in keys:
            raise ValueError(f"bad Likert count {row!r} (value 1-5, count >= 0, a dimension of the template)")
    if any(value not in NPS_VALUES or count < 0 for value, count in inputs.nps.items()):
        raise ValueError(f"bad NPS counts {inputs.nps!r} (values 0-10, counts >= 0)")
    if inputs.responses < 0 or any(b.invited < 0 or b.responded < 0 for b in inputs.buildings):
        raise ValueError("negative response or invitation counts")


def score(inputs: Inputs) -> Report:
    """The report of one campaign; with `previous`, the changes since the property's previous campaign."""
    _check(inputs)
    questions: dict[str, tuple[str, dict[int, int]]] = {}
    by_dimension: dict[str, dict[int, int]] = {key: dict.fromkeys(LIKERT, 0) for key, _, _ in inputs.dimensions}
    for row in inputs.likert:
        dimension, counts = questions.setdefault(row.question_key, (row.dimension, dict.fromkeys(LIKERT, 0)))
        if dimension != row.dimension:
            raise ValueError(f"question {row.question_key} is counted under {dimension} and {row.dimension}")
        counts[row.value] += row.count
        by_dimension[row.dimension][row.value] += row.count

    before = {d.key: d.score for d in inputs.previous.dimensions} if inputs.previous else {}
    threshold = _exact(inputs.flag_below)
    dimensions = []
    for key, name_zh, name_en in inputs.dimensions:
        counts = by_dimension[key]
        answers, mean = sum(counts.values()), _mean(counts)
        shown = _score(mean)
        dimensions.append(
            DimensionScore(
                key=key,
                name_zh=name_zh,
                name_en=name_en,
                answers=answers,
                score=shown,
                satisfaction=_rate(sum(counts[k] for k in LIKERT if k >= SATISFIED), answers),
                distribution=counts,
                change=_change(shown, before.get(key)),
                # the exact mean, not the shown one: 3.7975 shows as 3.80 but is under a threshold of 3.8
                flagged=mean is not None and mean < threshold,
            )
        )

    overall = _score(_mean({k: sum(d.distribution[k] for d in dimensions) for k in LIKERT}))
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
        overall=overall,
        overall_change=_change(overall, inputs.previous.overall if inputs.previous else None),
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
            BuildingRate(
                building_id=b.building_id,
                building_name=b.building_name,
                invited=b.invited,
                responded=b.responded,
                rate=_rate(b.responded, b.invited),
            )
            for b in inputs.buildings
        ],
        choices=inputs.choices,
        flagged=[d.key for d in dimensions if d.flagged],
    )
