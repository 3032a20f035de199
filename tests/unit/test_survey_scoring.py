"""Survey campaign scoring: random campaigns checked against a computation over the individual households and
their answers, and hand-checked cases.

The weighted mean of a dimension, worked by hand: answers 5 ×10, 4 ×20, 3 ×5, 2 ×3, 1 ×2 are 40 answers summing to
5·10 + 4·20 + 3·5 + 2·3 + 1·2 = 50 + 80 + 15 + 6 + 2 = 153, so the score is 153 / 40 = 3.825, shown as 3.83
(half up; float round(3.825, 2) gives 3.83 only by luck of the binary value, and round(4.125, 2) gives 4.12).
"""

import random
import statistics
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import msgspec
import pytest

from surveys.scoring import BuildingCount, HouseholdCount, Inputs, LikertCount, Report, score

DIMENSIONS = [
    ("service", "服务质量", "Service quality"),
    ("attitude", "人员态度", "Staff attitude"),
    ("facilities", "设施维护", "Facility upkeep"),
    ("security", "安全", "Security"),
    ("cleaning", "清洁", "Cleaning"),
    ("greenery", "绿化", "Greenery"),
]


def campaign(counts: dict[str, dict[int, int]] | None = None, **fields) -> Inputs:
    """Inputs with one question per dimension counted, {dimension: {value: count}}, unless likert rows are given;
    unless households are given, each answer is a household of its own (so household and answer figures agree)."""
    rows = fields.pop("likert", None) or [
        LikertCount(question_key=f"{dim}_q1", dimension=dim, value=v, count=c)
        for dim, by_value in (counts or {}).items()
        for v, c in by_value.items()
    ]
    alone = [
        HouseholdCount(dimension=dimension, total=r.value, answers=1, households=r.count)
        for r in rows
        if r.count
        for dimension in (r.dimension, None)
    ]
    defaults = {"nps": {}, "buildings": [], "choices": {}, "responses": 0, "dimensions": DIMENSIONS, "flag_below": 3.5}
    return Inputs(**{"likert": rows, "households": alone, **defaults, **fields})


def tally(households: list[dict[str, tuple[str, int]]]) -> tuple[list[LikertCount], list[HouseholdCount]]:
    """What the database counts from households' answers ({question: (dimension, value)} each): answers by
    question and value, and households by dimension (None: all) and the total and number of their answers."""
    likert: dict[tuple[str, str, int], int] = {}
    by_total: dict[tuple[str | None, int, int], int] = {}
    for answers in households:
        sums: dict[str | None, list[int]] = {}
        for question, (dim, value) in answers.items():
            likert[(question, dim, value)] = likert.get((question, dim, value), 0) + 1
            for key in (dim, None):
                sums.setdefault(key, []).append(value)
        for key, values in sums.items():
            by_total[(key, sum(values), len(values))] = by_total.get((key, sum(values), len(values)), 0) + 1
    return (
        [LikertCount(question_key=q, dimension=d, value=v, count=c) for (q, d, v), c in likert.items()],
        [HouseholdCount(dimension=d, total=t, answers=n, households=c) for (d, t, n), c in by_total.items()],
    )


def dimension(report: Report, key: str):
    return next(d for d in report.dimensions if d.key == key)


# The independent computation: individual answers, Decimal rounding


def half_up(x: Fraction, places: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(x.numerator) / Decimal(x.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def expand(counts, rng: random.Random) -> list[int]:
    answers = [value for value, count in counts for _ in range(count)]
    rng.shuffle(answers)
    return answers


def random_households(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[dict[str, tuple[str, int]]]]:
    """Dimensions and households, each answering a random part of the questions (skip logic, optional ones)."""
    dims = DIMENSIONS[: rng.randint(1, len(DIMENSIONS))]
    # some dimensions have no questions, hence no answers
    questions = [(f"{key}_{q}", key) for key, _, _ in dims for q in range(rng.choice([0, 1, 1, 2, 3, 4]))]
    households = []
    for _ in range(rng.choice([0, rng.randint(1, 60)])):
        share, mood = rng.random(), rng.randint(1, 5)
        households.append(
            {
                question: (dim, min(5, max(1, mood + rng.randint(-1, 1))))
                for question, dim in questions
                if rng.random() < share
            }
        )
    return dims, households


def random_inputs(rng: random.Random) -> tuple[Inputs, list[dict[str, tuple[str, int]]]]:
    dims, households = random_households(rng)
    likert, counted = tally(households)
    # zero counts may be absent or present
    likert += [
        LikertCount(question_key=r.question_key, dimension=r.dimension, value=v, count=0)
        for r in likert[:3]
        for v in range(1, 6)
        if rng.random() < 0.3 and v != r.value
    ]
    rng.shuffle(likert)
    rng.shuffle(counted)
    nps = {v: rng.randint(0, 30) for v in rng.sample(range(11), rng.randint(0, 11))}
    buildings = []
    for i in range(rng.randint(0, 5)):
        invited = rng.choice([0, rng.randint(1, 90)])
        responded = rng.randint(0, invited)
        buildings.append(BuildingCount(building_id=f"b{i}", building_name=str(i), invited=invited, responded=responded))
    inputs = Inputs(
        likert=likert,
        households=counted,
        nps=nps,
        buildings=buildings,
        choices={"channel": {"app": rng.randint(0, 9), "link": rng.randint(0, 9)}},
        responses=sum(b.responded for b in buildings),
        dimensions=dims,
        flag_below=rng.choice([3.0, 3.5, 3.8, 4.2]),
    )
    return inputs, households


def shown(x: Fraction | None, places: str = "0.01") -> float | None:
    return None if x is None else float(half_up(x, places))


def household_figures(means: list[Fraction]) -> tuple[Fraction | None, int]:
    """The mean of the households' means, and how many are satisfied (a mean of 4 or more)."""
    return (sum(means, Fraction(0)) / len(means) if means else None), sum(m >= 4 for m in means)


@pytest.mark.parametrize("seed", range(40))
def test_random_campaigns_agree_with_a_computation_over_individual_households(seed):
    rng = random.Random(seed)
    inputs, households = random_inputs(rng)
    report = score(inputs)

    everyone: list[int] = []
    for (key, name_zh, name_en), got in zip(inputs.dimensions, report.dimensions, strict=True):
        theirs = [[v for d, v in h.values() if d == key] for h in households]
        theirs = [values for values in theirs if values]
        answers = [v for values in theirs for v in values]
        everyone += answers
        assert (got.key, got.name_zh, got.name_en) == (key, name_zh, name_en)
        assert (got.households, got.answers) == (len(theirs), len(answers))
        assert got.distribution == {v: answers.count(v) for v in range(1, 6)}
        assert got.household_score_change is None
        if not answers:
            assert (got.household_score, got.satisfaction_rate, got.answer_weighted_score, got.flagged) == (
                None,
                None,
                None,
                False,
            )
            continue
        mean, satisfied = household_figures([Fraction(sum(values), len(values)) for values in theirs])
        assert mean is not None
        assert got.household_score == shown(mean)
        assert abs(got.household_score - statistics.fmean(statistics.fmean(v) for v in theirs)) <= 0.005 + 1e-9
        assert got.satisfied_households == satisfied
        assert got.satisfaction_rate == shown(Fraction(satisfied, len(theirs)), "0.0001")
        assert got.answer_weighted_score == shown(Fraction(sum(answers), len(answers)))
        assert got.flagged == (mean < Fraction(Decimal(str(inputs.flag_below))))
    assert report.flagged == [d.key for d in report.dimensions if d.flagged]

    rated = [[v for _, v in h.values()] for h in households if h]
    overall, satisfied = household_figures([Fraction(sum(values), len(values)) for values in rated])
    assert (report.rated_households, report.satisfied_households) == (len(rated), satisfied)
    assert report.overall_household_score == shown(overall)
    assert report.overall_satisfaction_rate == (shown(Fraction(satisfied, len(rated)), "0.0001") if rated else None)
    assert report.overall_answer_weighted_score == (shown(Fraction(sum(everyone), len(everyone))) if everyone else None)

    for q in report.questions:
        answers = [h[q.question_key][1] for h in households if q.question_key in h]
        assert q.distribution == {v: answers.count(v) for v in range(1, 6)}
        assert q.score == (shown(Fraction(sum(answers), len(answers))) if answers else None)
    assert [q.question_key for q in report.questions] == list(dict.fromkeys(r.question_key for r in inputs.likert))

    nps_answers = expand(inputs.nps.items(), rng)
    promoters, detractors = sum(a >= 9 for a in nps_answers), sum(a <= 6 for a in nps_answers)
    assert (report.promoters, report.passives, report.detractors) == (
        promoters,
        len(nps_answers) - promoters - detractors,
        detractors,
    )
    expected_nps = (
        int(half_up(Fraction(100 * (promoters - detractors), len(nps_answers)), "1")) if nps_answers else None
    )
    assert report.nps == expected_nps

    assert report.invited == sum(b.invited for b in inputs.buildings)
    expected_rate = float(half_up(Fraction(report.responses, report.invited), "0.0001")) if report.invited else None
    assert report.response_rate == expected_rate
    assert report.choices == inputs.choices


# Hand-checked cases


def test_the_worked_example_scores_3_83_with_three_quarters_satisfied():
    report = score(campaign({"service": {5: 10, 4: 20, 3: 5, 2: 3, 1: 2}}))  # 40 households, one answer each
    service = dimension(report, "service")
    assert (service.households, service.answers, service.household_score, service.satisfaction_rate) == (
        40,
        40,
        3.83,
        0.75,
    )
    assert (service.satisfied_households, service.answer_weighted_score) == (30, 3.83)
    assert service.distribution == {1: 2, 2: 3, 3: 5, 4: 20, 5: 10}
    assert (report.overall_household_score, report.overall_answer_weighted_score) == (3.83, 3.83)
    assert report.questions[0].score == 3.83


def test_households_that_answered_more_questions_do_not_weigh_more():
    # two questions on security: one household answered both with 5, another only one, with 1
    likert, households = tally(
        [{"gate": ("security", 5), "night": ("security", 5)}, {"gate": ("security", 1)}],
    )
    report = score(campaign(likert=likert, households=households))
    security = dimension(report, "security")
    # per household: (5 + 1) / 2 = 3.0; per answer it would be (5 + 5 + 1) / 3 = 3.67
    assert (security.households, security.answers) == (2, 3)
    assert (security.household_score, security.answer_weighted_score) == (3.0, 3.67)
    # one household of two is satisfied; two answers of three are 4 or 5
    assert (security.satisfied_households, security.satisfaction_rate) == (1, 0.5)
    assert (report.rated_households, report.overall_household_score, report.overall_satisfaction_rate) == (2, 3.0, 0.5)
    assert report.overall_answer_weighted_score == 3.67
    assert security.flagged  # 3.0 is under 3.5, though 3.67 is not


def test_a_household_is_satisfied_when_its_mean_is_4_or_more():
    likert, households = tally(
        [
            {"lift": ("facilities", 5), "lights": ("facilities", 3)},  # 4.0: satisfied, one answer of two is not
            {"lift": ("facilities", 4), "lights": ("facilities", 3)},  # 3.5: not, one answer of two is
            {"lift": ("facilities", 2), "service": ("service", 5)},  # overall 3.5
        ]
    )
    report = score(campaign(likert=likert, households=households))
    facilities = dimension(report, "facilities")
    assert (facilities.households, facilities.satisfied_households, facilities.satisfaction_rate) == (3, 1, 0.3333)
    assert facilities.household_score == 3.17  # (4 + 3.5 + 2) / 3 = 3.1666…
    assert (report.satisfied_households, report.overall_satisfaction_rate) == (1, 0.3333)
    assert report.overall_household_score == 3.67  # (4 + 3.5 + 3.5) / 3


def test_a_mean_exactly_half_way_rounds_up_where_float_round_would_not():
    report = score(campaign({"cleaning": {5: 2, 4: 5, 3: 1}}))  # 33 / 8 = 4.125
    assert round(4.125, 2) == 4.12
    assert dimension(report, "cleaning").household_score == 4.13


def test_overall_is_the_mean_of_the_households_not_of_the_dimension_scores():
    report = score(campaign({"service": {5: 30}, "security": {1: 10}}))  # 40 households, one answer each
    score_of = {d.key: d.household_score for d in report.dimensions}
    assert (score_of["service"], score_of["security"]) == (5.0, 1.0)
    assert report.overall_household_score == 4.0  # (30 × 5 + 10 × 1) / 40, where the mean of the two would be 3.0


def test_a_dimension_counts_the_answers_of_all_its_questions_and_zero_counts_change_nothing():
    rows = [
        LikertCount(question_key="lift", dimension="facilities", value=5, count=3),
        LikertCount(question_key="lift", dimension="facilities", value=2, count=0),
        LikertCount(question_key="lights", dimension="facilities", value=2, count=1),
    ]
    report = score(campaign(likert=rows))  # (15 + 2) / 4 = 4.25
    facilities = dimension(report, "facilities")
    assert (facilities.answers, facilities.answer_weighted_score, facilities.household_score) == (4, 4.25, 4.25)
    assert [(q.question_key, q.score) for q in report.questions] == [("lift", 5.0), ("lights", 2.0)]


@pytest.mark.parametrize(
    ("nps", "expected"),
    [
        ({9: 4, 10: 6}, (100, 10, 0, 0)),
        ({0: 1, 3: 2, 6: 7}, (-100, 0, 0, 10)),
        ({7: 3, 8: 1}, (0, 0, 4, 0)),
        ({10: 1, 7: 7}, (13, 1, 7, 0)),  # 12.5 rounds away from zero
        ({0: 1, 7: 7}, (-13, 0, 7, 1)),  # and so does -12.5: mirrored campaigns get mirrored scores
        ({10: 2, 8: 3, 6: 1}, (17, 2, 3, 1)),  # 16.67
        ({}, (None, 0, 0, 0)),
        ({9: 0, 2: 0}, (None, 0, 0, 0)),
    ],
)
def test_nps_is_promoters_minus_detractors_in_whole_percent(nps, expected):
    report = score(campaign(nps=nps))
    assert (report.nps, report.promoters, report.passives, report.detractors) == expected


@pytest.mark.parametrize(
    ("counts", "threshold", "flagged"),
    [
        ({4: 4, 3: 1}, 3.8, False),  # exactly 3.8
        ({4: 4, 5: 1}, 4.2, False),  # exactly 4.2, though the float 4.2 is a little above 4.2
        ({4: 159, 3: 41}, 3.8, True),  # 3.795, shown as 3.80, is under 3.8
        ({4: 1}, 4, False),
        ({3: 1, 4: 1}, 3.51, True),
    ],
)
def test_a_dimension_is_flagged_only_when_its_exact_household_score_is_under_the_threshold(counts, threshold, flagged):
    report = score(campaign({"security": counts}, flag_below=threshold))
    assert dimension(report, "security").flagged is flagged
    assert report.flagged == (["security"] if flagged else [])


def test_flags_follow_template_order_and_skip_dimensions_without_answers():
    report = score(campaign({"greenery": {1: 1}, "service": {2: 1}, "cleaning": {5: 1}}, flag_below=3.0))
    assert report.flagged == ["service", "greenery"]
    assert dimension(report, "attitude").flagged is False


def test_changes_are_against_the_previous_report_of_the_same_dimension():
    before = score(
        campaign(
            {"service": {4: 4, 3: 1}, "security": {5: 1}, "cleaning": {1: 1}},  # 3.80, 5.00, 1.00
            dimensions=[*DIMENSIONS[:3], ("security", "安全", "Security"), ("cleaning", "清洁", "Cleaning")],
            nps={10: 3, 5: 1},
        )
    )
    stored = msgspec.json.decode(msgspec.json.encode(before), type=Report)  # as kept between campaigns
    dims = [*DIMENSIONS, ("parking", "停车", "Parking")]
    report = score(
        campaign(
            {"service": {5: 10, 4: 20, 3: 5, 2: 3, 1: 2}, "security": {4: 1}, "parking": {5: 1}},
            dimensions=dims,
            nps={10: 1, 8: 1},
            previous=stored,
        )
    )
    change = {d.key: d.household_score_change for d in report.dimensions}
    assert change["service"] == 0.03  # 3.83 - 3.80, not 0.030000000000000027
    assert change["security"] == -1.0
    assert change["cleaning"] is None  # no answers this time
    assert change["attitude"] is None  # no answers either time
    assert change["parking"] is None  # not in the previous template
    assert report.overall_household_score is not None and before.overall_household_score is not None
    assert report.overall_household_score_change == round(
        report.overall_household_score - before.overall_household_score, 2
    )
    assert (before.nps, report.nps, report.nps_change) == (50, 50, 0)


def test_no_previous_nps_or_no_nps_now_gives_no_nps_change():
    before = score(campaign(nps={}))
    assert score(campaign(nps={9: 1}, previous=before)).nps_change is None
    assert score(campaign(nps={}, previous=score(campaign(nps={9: 1})))).nps_change is None


def test_a_campaign_without_responses_has_no_scores():
    buildings = [BuildingCount(building_id="b1", building_name="1栋", invited=24, responded=0)]
    report = score(campaign(buildings=buildings, previous=score(campaign({"service": {5: 1}}, nps={9: 1}))))
    assert (report.responses, report.invited, report.response_rate) == (0, 24, 0.0)
    assert (report.overall_household_score, report.overall_household_score_change) == (None, None)
    assert (report.rated_households, report.overall_satisfaction_rate, report.overall_answer_weighted_score) == (
        0,
        None,
        None,
    )
    assert (report.nps, report.nps_change) == (None, None)
    assert [d.key for d in report.dimensions] == [key for key, _, _ in DIMENSIONS]
    for d in report.dimensions:
        assert (d.households, d.answers, d.household_score, d.satisfaction_rate, d.household_score_change) == (
            0,
            0,
            None,
            None,
            None,
        )
        assert (d.answer_weighted_score, d.flagged) == (None, False)
        assert d.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert (report.questions, report.flagged) == ([], [])
    assert report.buildings[0].rate == 0.0


def test_building_rates_and_the_response_rate():
    buildings = [
        BuildingCount(building_id="b1", building_name="1栋", invited=120, responded=37),  # 0.308333…
        BuildingCount(building_id="b2", building_name="2栋", invited=3, responded=2),  # 0.666…
        BuildingCount(building_id="b3", building_name="商铺", invited=0, responded=0),
    ]
    report = score(campaign(buildings=buildings, responses=39))
    assert [(b.building_id, b.rate) for b in report.buildings] == [("b1", 0.3083), ("b2", 0.6667), ("b3", None)]
    assert (report.invited, report.response_rate) == (123, 0.3171)  # 39 / 123 = 0.31707…
    assert score(campaign(responses=0)).response_rate is None  # nobody invited


@pytest.mark.parametrize(
    "fields",
    [
        {"likert": [LikertCount(question_key="q", dimension="service", value=6, count=1)]},
        {"likert": [LikertCount(question_key="q", dimension="service", value=3, count=-1)]},
        {"likert": [LikertCount(question_key="q", dimension="unknown", value=3, count=1)]},
        {
            "likert": [
                LikertCount(question_key="q", dimension="service", value=3, count=1),
                LikertCount(question_key="q", dimension="security", value=3, count=1),
            ]
        },
        {"nps": {11: 1}},
        {"households": [HouseholdCount(dimension="unknown", total=3, answers=1, households=1)]},
        {"households": [HouseholdCount(dimension="service", total=11, answers=2, households=1)]},
        {"households": [HouseholdCount(dimension=None, total=0, answers=0, households=1)]},
        {"dimensions": [*DIMENSIONS, DIMENSIONS[0]]},
    ],
)
def test_inconsistent_counts_are_refused(fields):
    with pytest.raises(ValueError):
        score(campaign(**fields))
