"""A campaign's report from the database: campaigns, invitations, responses and their Likert rows arranged with
plain SQL from seeded random answers, and the report checked against one computed here from those answers
(fractions.Fraction, Decimal half-up rounding), field by field through Report equality.

The property has three buildings (320 units). Its campaigns, by opening date: `old` (everyone unhappy), `before`
(template v1, the previous campaign of `now`), `now` (template v2, about 290 responses), `next` (everyone happy,
opening later). A campaign of the org's other property opens between `before` and `now`; another org has a
campaign `now` of its own. None of those may leak into the report of `now`.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import msgspec
import pytest

from core.errors import NotFound
from surveys import scoring
from surveys.models import (
    DIMENSIONS,
    LikertQuestion,
    MultipleChoiceQuestion,
    NpsQuestion,
    Option,
    Question,
    SingleChoiceQuestion,
    TextQuestion,
)
from surveys.report import SETTLED, campaign_report, keep_final_counts
from surveys.repository import campaigns as campaigns_sql
from surveys.repository import report as sql
from tests.world import Org, build_org

NOW = datetime(2025, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def likert(key: str, dimension: str, required: bool = True) -> LikertQuestion:
    return LikertQuestion(key=key, text_zh=key, text_en=key, dimension=dimension, required=required)


def options(*keys: str) -> list[Option]:
    return [Option(key=key, label_zh=key, label_en=key) for key in keys]


# Template order is not the alphabetical order the counts come back in. v1 scores landscaping, v2 does not.
V1: list[Question] = [
    likert("staff_manner", "attitude"),
    likert("repairs", "facilities"),
    likert("guards", "security"),
    likert("cleanliness", "cleaning"),
    likert("answer_speed", "service"),
    likert("garden", "landscaping"),
    NpsQuestion(key="recommend", text_zh="推荐", text_en="Recommend"),
    SingleChoiceQuestion(key="channel", text_zh="渠道", text_en="Channel", options=options("app", "phone", "desk")),
]
V2: list[Question] = [
    likert("staff_manner", "attitude"),
    likert("repairs", "facilities"),
    likert("lifts", "facilities", required=False),
    likert("guards", "security"),
    likert("cleanliness", "cleaning"),
    likert("answer_speed", "service"),
    NpsQuestion(key="recommend", text_zh="推荐", text_en="Recommend", required=False),
    SingleChoiceQuestion(key="channel", text_zh="渠道", text_en="Channel", options=options("app", "phone", "desk")),
    MultipleChoiceQuestion(
        key="improve",
        text_zh="改进",
        text_en="Improve",
        options=options("parking", "lifts", "noise", "green"),
        required=False,
        max_choices=3,
    ),
    TextQuestion(key="comments", text_zh="意见", text_en="Comments"),
]
TEMPLATES = {"tv1": V1, "tv2": V2}

# weights of the Likert answers 1..5 (and NPS 0..10) by dimension
MIXED = {
    "service": (1, 2, 4, 6, 4),
    "attitude": (0, 1, 2, 6, 8),
    "facilities": (3, 4, 5, 4, 2),
    "security": (1, 1, 3, 7, 6),
    "cleaning": (2, 3, 6, 5, 3),
    "landscaping": (1, 2, 3, 4, 5),
    "nps": (1, 1, 1, 1, 2, 2, 3, 5, 6, 6, 5),
}
EARLIER = {**{key: tuple(reversed(w)) for key, w in MIXED.items()}, "nps": (3, 2, 2, 2, 3, 3, 3, 4, 3, 2, 1)}
UNHAPPY = {**{key: (1, 0, 0, 0, 0) for key in MIXED}, "nps": (1,) + (0,) * 10}
HAPPY = {**{key: (0, 0, 0, 0, 1) for key in MIXED}, "nps": (0,) * 10 + (1,)}


@dataclass
class Arranged:
    """What was stored for one campaign, to compute its report from."""

    questions: list[Question]
    flag_below: str
    names: dict[str, str]  # building id -> name
    invitations: list[tuple[str, bool]]  # (building id, responded)
    responses: list[dict[str, object]]  # the answers of each
    channels: list[str] = field(default_factory=list)  # the channel of each response


def answer(questions: list[Question], mood: dict[str, tuple[int, ...]], rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {}
    for question in questions:
        if not question.required and rng.random() < 0.2:
            continue
        if isinstance(question, LikertQuestion):
            answers[question.key] = rng.choices(range(1, 6), mood[question.dimension])[0]
        elif isinstance(question, NpsQuestion):
            answers[question.key] = rng.choices(range(11), mood["nps"])[0]
        elif isinstance(question, SingleChoiceQuestion):
            answers[question.key] = rng.choice(question.options).key
        elif isinstance(question, MultipleChoiceQuestion):
            chosen = rng.sample([o.key for o in question.options], rng.randint(1, 3))
            answers[question.key] = [o.key for o in question.options if o.key in chosen]
        elif isinstance(question, TextQuestion):
            answers[question.key] = rng.choice(["电梯太慢", "Thank you", "停车位不够 / not enough parking"])
    return answers


async def add_templates(db, org: Org) -> None:
    await db.execute("INSERT INTO survey_templates (org_id, id, current_version) VALUES ($1, 't', 2)", org.org_id)
    await db.executemany(
        """INSERT INTO survey_template_versions (org_id, id, template_id, version, name_zh, name_en, dimensions,
                                                 questions)
           VALUES ($1, $2, 't', $3, '满意度调查', 'Satisfaction', $4, $5)""",
        [
            (org.org_id, id, n, msgspec.to_builtins(DIMENSIONS), msgspec.to_builtins(TEMPLATES[id]))
            for n, id in enumerate(TEMPLATES, start=1)
        ],
    )


async def add_units(db, org: Org) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Two more buildings, and units up to 100, 100 and 120 a building: [(unit id, building id)], names."""
    o, p = org.org_id, org.property_id
    await db.executemany(
        "INSERT INTO buildings (org_id, id, property_id, name) VALUES ($1, $2, $3, $4)",
        [(o, "b-west", p, "3号楼"), (o, "b-east", p, "2号楼")],
    )
    await db.executemany(
        "INSERT INTO units (org_id, id, property_id, building_id, number) VALUES ($1, $2, $3, $4, $5)",
        [(o, f"u-{org.building_id}-{n}", p, org.building_id, str(n)) for n in range(103, 201)]
        + [(o, f"u-{b}-{n}", p, b, str(n)) for b, count in (("b-west", 120), ("b-east", 100)) for n in range(count)],
    )
    rows = await db.fetch(
        """SELECT u.id, u.building_id FROM units u JOIN buildings b ON b.org_id = u.org_id AND b.id = u.building_id
            WHERE u.org_id = $1 AND u.property_id = $2
            ORDER BY b.name, u.number""",  # not by id: the world's ids are random, the answers must not be
        o,
        p,
    )
    names = await db.fetch("SELECT id, name FROM buildings WHERE org_id = $1", o)
    return [(r["id"], r["building_id"]) for r in rows], {r["id"]: r["name"] for r in names}


async def add_campaign(
    db,
    org: Org,
    campaign_id: str,
    *,
    version: str,
    opens_at: datetime,
    units: list[tuple[str, str]],
    names: dict[str, str],
    respond: float | dict[str, float],
    mood: dict[str, tuple[int, ...]],
    rng: random.Random,
    anonymous: bool = False,
    flag_below: str = "3.80",
    property_id: str | None = None,
) -> Arranged:
    """The campaign, an invitation per unit, and a response (with its Likert rows) from each unit that answers
    (each building answering at its own rate)."""
    o = org.org_id
    await db.execute(
        """INSERT INTO survey_campaigns (org_id, id, property_id, template_version_id, name_zh, name_en, opens_at,
                                         closes_at, anonymous, flag_below)
           VALUES ($1, $2, $3, $4, '满意度调查', 'Satisfaction', $5, $6, $7, $8)""",
        o,
        campaign_id,
        property_id or org.property_id,
        version,
        opens_at,
        opens_at + 14 * DAY,
        anonymous,
        Decimal(flag_below),
    )
    arranged = Arranged(questions=TEMPLATES[version], flag_below=flag_below, names=names, invitations=[], responses=[])
    invitations, responses, likert_rows = [], [], []
    for n, (unit_id, building_id) in enumerate(units):
        rate = respond if isinstance(respond, float) else respond[building_id]
        at = opens_at + timedelta(minutes=n)
        responded = rng.random() < rate
        invitations.append(
            (o, campaign_id, unit_id, building_id, f"{o}/{campaign_id}/{unit_id}", at if responded else None)
        )
        arranged.invitations.append((building_id, responded))
        if not responded:
            continue
        answers = answer(arranged.questions, mood, rng)
        arranged.responses.append(answers)
        # a household's own channels (a staff one needs who entered it: test_console_surveys.py)
        arranged.channels.append("app" if n % 3 == 0 else "link")
        response_id = f"{campaign_id}-{n}"
        responses.append(
            (
                o,
                response_id,
                campaign_id,
                property_id or org.property_id,
                building_id,
                None if anonymous else unit_id,
                answers,
                answers.get("recommend"),
                arranged.channels[-1],
                at,
                at,
            )
        )
        likert_rows += [
            (o, campaign_id, response_id, q.key, q.dimension, answers[q.key])
            for q in arranged.questions
            if isinstance(q, LikertQuestion) and q.key in answers
        ]
    await db.executemany(
        """INSERT INTO survey_invitations (org_id, campaign_id, unit_id, building_id, token_sha256, responded_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        invitations,
    )
    await db.executemany(
        """INSERT INTO survey_responses (org_id, id, campaign_id, property_id, building_id, unit_id, answers, nps,
                                         channel, submitted_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        responses,
    )
    # each response's Likert rows as a submission writes them (with the household's totals beside them)
    for response_id, rows in itertools.groupby(likert_rows, key=lambda row: row[2]):
        await campaigns_sql.replace_likert(db, o, campaign_id, response_id, [row[3:] for row in rows])
    return arranged


@dataclass
class Site:
    org: Org
    units: list[tuple[str, str]]
    names: dict[str, str]
    rng: random.Random


@pytest.fixture
async def site(db) -> Site:
    org = await build_org(db, "a")
    await add_templates(db, org)
    units, names = await add_units(db, org)
    return Site(org=org, units=units, names=names, rng=random.Random(20250301))


async def arrange_history(db, site: Site, anonymous: bool = False) -> tuple[Arranged, Arranged]:
    """old, before, elsewhere, now and next (see the module's docstring), and another org's `now`;
    returns (before, now)."""
    common = {"units": site.units, "names": site.names, "rng": site.rng}
    await add_campaign(
        db, site.org, "old", version="tv1", opens_at=NOW - 360 * DAY, respond=0.5, mood=UNHAPPY, **common
    )
    before = await add_campaign(
        db, site.org, "before", version="tv1", opens_at=NOW - 180 * DAY, respond=0.6, mood=EARLIER, **common
    )
    await add_campaign(
        db,
        site.org,
        "elsewhere",
        version="tv1",
        opens_at=NOW - 30 * DAY,
        respond=0.0,
        mood=HAPPY,
        property_id=site.org.other_property_id,
        units=[],
        names={},
        rng=site.rng,
    )
    by_name = {"1号楼": 0.97, "2号楼": 0.93, "3号楼": 0.85}
    rates = {building_id: by_name[name] for building_id, name in site.names.items()}
    now = await add_campaign(
        db, site.org, "now", version="tv2", opens_at=NOW, respond=rates, mood=MIXED, anonymous=anonymous, **common
    )
    await add_campaign(db, site.org, "next", version="tv2", opens_at=NOW + 180 * DAY, respond=0.5, mood=HAPPY, **common)

    other = await build_org(db, "b")
    await add_templates(db, other)
    other_units = [(other.unit_id, other.building_id), (other.other_unit_id, other.building_id)]
    for campaign_id, opens_at in (("before", NOW - 180 * DAY), ("now", NOW)):
        await add_campaign(
            db,
            other,
            campaign_id,
            version="tv2",
            opens_at=opens_at,
            units=other_units,
            names={other.building_id: "1号楼"},
            respond=1.0,
            mood=HAPPY,
            rng=site.rng,
        )
    return before, now


# The independent computation: individual answers, Decimal half-up rounding


def half_up(x: Fraction, places: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(x.numerator) / Decimal(x.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def mean(values: list[int]) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


def shown(values: list[int]) -> float | None:
    m = mean(values)
    return None if m is None else float(half_up(m, 2))


def rate(part: int, whole: int) -> float | None:
    return float(half_up(Fraction(part, whole), 4)) if whole else None


def difference(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else float(Decimal(repr(now)) - Decimal(repr(before)))


def households(values: list[list[int]]) -> tuple[int, float | None, int, float | None]:
    """Of households' Likert answers (one list each; those with none left out): how many, the mean of their
    means, how many are satisfied (a mean of 4 or more), and that share."""
    rated = [v for v in values if v]
    means = [Fraction(sum(v), len(v)) for v in rated]
    satisfied = sum(m >= 4 for m in means)
    average = sum(means, Fraction(0)) / len(means) if means else None
    return len(rated), None if average is None else float(half_up(average, 2)), satisfied, rate(satisfied, len(rated))


def expected_report(a: Arranged, previous: scoring.Report | None = None) -> scoring.Report:
    likert_questions = [q for q in a.questions if isinstance(q, LikertQuestion)]
    answered = {q.key: [r[q.key] for r in a.responses if q.key in r] for q in likert_questions}
    before = {d.key: d.household_score for d in previous.dimensions} if previous else {}
    dimensions = []
    for d in DIMENSIONS:
        values = [v for q in likert_questions if q.dimension == d.key for v in answered[q.key]]
        mine = [q.key for q in likert_questions if q.dimension == d.key]
        rated, score, satisfied, satisfaction = households([[r[k] for k in mine if k in r] for r in a.responses])
        exact = [Fraction(sum(v), len(v)) for r in a.responses if (v := [r[k] for k in mine if k in r])]
        dimensions.append(
            scoring.DimensionScore(
                key=d.key,
                name_zh=d.name_zh,
                name_en=d.name_en,
                households=rated,
                answers=len(values),
                household_score=score,
                satisfied_households=satisfied,
                satisfaction_rate=satisfaction,
                answer_weighted_score=shown(values),
                distribution={k: values.count(k) for k in range(1, 6)},
                household_score_change=difference(score, before.get(d.key)),
                flagged=bool(exact) and sum(exact, Fraction(0)) / len(exact) < Fraction(Decimal(a.flag_below)),
            )
        )
    every = [v for values in answered.values() for v in values]
    keys = [q.key for q in likert_questions]
    rated, overall, satisfied, satisfaction = households([[r[k] for k in keys if k in r] for r in a.responses])
    nps_answers = [r["recommend"] for r in a.responses if "recommend" in r]
    promoters, detractors = sum(v >= 9 for v in nps_answers), sum(v <= 6 for v in nps_answers)
    nps = int(half_up(Fraction(100 * (promoters - detractors), len(nps_answers)), 0)) if nps_answers else None
    buildings = []
    for building_id in sorted({b for b, _ in a.invitations}, key=lambda b: (a.names[b], b)):
        invited = [responded for b, responded in a.invitations if b == building_id]
        buildings.append(
            scoring.BuildingRate(
                building_id=building_id,
                building_name=a.names[building_id],
                invited=len(invited),
                responded=sum(invited),
                rate=rate(sum(invited), len(invited)),
            )
        )
    chosen = {
        q.key: [x for r in a.responses if q.key in r for x in (r[q.key] if isinstance(r[q.key], list) else [r[q.key]])]
        for q in a.questions
        if isinstance(q, SingleChoiceQuestion | MultipleChoiceQuestion)
    }
    choice_questions = [q for q in a.questions if isinstance(q, SingleChoiceQuestion | MultipleChoiceQuestion)]
    return scoring.Report(
        responses=len(a.responses),
        invited=len(a.invitations),
        response_rate=rate(len(a.responses), len(a.invitations)),
        rated_households=rated,
        overall_household_score=overall,
        overall_household_score_change=difference(overall, previous.overall_household_score if previous else None),
        satisfied_households=satisfied,
        overall_satisfaction_rate=satisfaction,
        overall_answer_weighted_score=shown(every),
        nps=nps,
        nps_change=None if nps is None or previous is None or previous.nps is None else nps - previous.nps,
        promoters=promoters,
        passives=len(nps_answers) - promoters - detractors,
        detractors=detractors,
        dimensions=dimensions,
        questions=[
            scoring.QuestionDistribution(
                question_key=q.key,
                dimension=q.dimension,
                distribution={k: answered[q.key].count(k) for k in range(1, 6)},
                score=shown(answered[q.key]),
            )
            for q in likert_questions
            if answered[q.key]
        ],
        buildings=buildings,
        choices={q.key: {o.key: chosen[q.key].count(o.key) for o in q.options} for q in choice_questions},
        flagged=[d.key for d in dimensions if d.flagged],
        nps_distribution={v: nps_answers.count(v) for v in range(11)},
        channels={c: a.channels.count(c) for c in ("link", "app", "phone", "visit")},
    )


# The tests


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
async def test_report_matches_the_answers(db, site: Site, anonymous: bool) -> None:
    before, now = await arrange_history(db, site, anonymous=anonymous)
    assert 260 <= len(now.responses) <= 320 and len(before.responses) > 150

    report = await campaign_report(db, site.org.org_id, "now")

    assert report == expected_report(now, previous=expected_report(before))
    # what the arrangement was meant to exercise
    assert [q.question_key for q in report.questions] == [q.key for q in V2 if isinstance(q, LikertQuestion)]
    changed = {d.key for d in report.dimensions if d.household_score_change is not None}
    assert changed == {d.key for d in DIMENSIONS} - {"landscaping"}
    landscaping = next(d for d in report.dimensions if d.key == "landscaping")
    assert landscaping.household_score is None and landscaping.household_score_change is None
    assert not landscaping.flagged
    assert report.flagged and len(report.flagged) < 5
    assert report.nps_change is not None and report.overall_household_score_change is not None
    # the optional lift question: households answered one or two facilities questions, so the figures differ
    facilities = next(d for d in report.dimensions if d.key == "facilities")
    assert facilities.answers > facilities.households
    answers_satisfied = rate(facilities.distribution[4] + facilities.distribution[5], facilities.answers)
    assert facilities.satisfaction_rate != answers_satisfied
    assert len({b.rate for b in report.buildings}) == 3


async def test_the_first_campaign_of_a_property_has_no_changes(db, site: Site) -> None:
    await arrange_history(db, site)
    old = await add_campaign(
        db,
        site.org,
        "first",
        version="tv1",
        opens_at=NOW - 720 * DAY,
        units=site.units,
        names=site.names,
        respond=0.3,
        mood=MIXED,
        rng=site.rng,
        flag_below="4.50",
    )

    report = await campaign_report(db, site.org.org_id, "first")

    assert report == expected_report(old)
    assert report.overall_household_score_change is None and report.nps_change is None
    assert all(d.household_score_change is None for d in report.dimensions)
    assert "landscaping" in report.flagged


async def test_a_campaign_nobody_answered_has_no_scores(db, site: Site) -> None:
    await arrange_history(db, site)
    quiet = await add_campaign(
        db,
        site.org,
        "quiet",
        version="tv2",
        opens_at=NOW + 30 * DAY,
        units=site.units,
        names=site.names,
        respond=0.0,
        mood=MIXED,
        rng=site.rng,
    )

    report = await campaign_report(db, site.org.org_id, "quiet")

    assert report == expected_report(quiet, previous=await campaign_report(db, site.org.org_id, "now"))
    assert report.responses == 0 and report.invited == len(site.units) and report.response_rate == 0.0
    assert report.overall_household_score is None and report.nps is None
    assert report.questions == [] and report.flagged == [] and report.rated_households == 0
    assert all(
        d.household_score is None and d.satisfaction_rate is None and d.household_score_change is None
        for d in report.dimensions
    )
    assert report.choices == {
        "channel": dict.fromkeys(["app", "phone", "desk"], 0),
        "improve": {"parking": 0, "lifts": 0, "noise": 0, "green": 0},
    }


async def test_an_unknown_campaign_is_not_found(db, site: Site) -> None:
    await arrange_history(db, site)
    other = await build_org(db, "c")
    await add_templates(db, other)
    await add_campaign(
        db, other, "theirs", version="tv2", opens_at=NOW, units=[], names={}, respond=0.0, mood=HAPPY, rng=site.rng
    )
    for campaign_id in ("nope", "theirs"):  # another org's campaign is as unknown as none
        with pytest.raises(NotFound):
            await campaign_report(db, site.org.org_id, campaign_id)


async def test_the_single_purpose_statements_count_what_the_report_counts(db, site: Site) -> None:
    await arrange_history(db, site)
    o = site.org.org_id
    report = await campaign_report(db, o, "now")

    rows = await sql.report_figures(db, o, "now")
    assert [(r["id"], r["previous"]) for r in rows] == [("now", False), ("before", True)]
    # what no figure reads is not counted for the previous campaign
    assert rows[1]["buildings"] is None and rows[1]["choices"] is None and rows[1]["likert"] and rows[1]["nps"]
    assert rows[1]["households"]

    row = await sql.campaign_row(db, o, "now")
    assert row is not None and row["flag_below"] == 3.8 and row["questions"] == msgspec.to_builtins(V2)
    assert await sql.campaign_row(db, o, "nope") is None
    assert await sql.previous_campaign(db, o, site.org.property_id, row["opens_at"]) == "before"
    assert await sql.previous_campaign(db, o, site.org.property_id, NOW - 360 * DAY) is None
    likert = await sql.likert_counts(db, o, "now")
    assert sum(r["count"] for r in likert) == sum(d.answers for d in report.dimensions)
    assert {(r["question_key"], r["value"]): r["count"] for r in likert} == {
        (q.question_key, value): count for q in report.questions for value, count in q.distribution.items() if count
    }
    counted = await sql.household_counts(db, o, "now")
    assert sum(r["households"] for r in counted if r["dimension"] is None) == report.rated_households
    assert {d.key: d.households for d in report.dimensions if d.households} == {
        dimension: sum(r["households"] for r in counted if r["dimension"] == dimension)
        for dimension in {r["dimension"] for r in counted} - {None}
    }
    nps = await sql.nps_counts(db, o, "now")
    assert all(0 <= value <= 10 for value in nps) and sum(nps.values()) == report.promoters + report.passives + (
        report.detractors
    )
    assert [tuple(r) for r in await sql.building_counts(db, o, "now")] == [
        (b.building_id, b.building_name, b.invited, b.responded) for b in report.buildings
    ]
    choices = await sql.choice_counts(db, o, "now", ["channel"], ["improve"])
    assert choices == report.choices


async def test_a_closed_campaigns_kept_counts_serve_the_next_report(db, site: Site) -> None:
    before, now = await arrange_history(db, site)
    expected = expected_report(now, previous=expected_report(before))
    closes = await db.fetchval("SELECT closes_at FROM survey_campaigns WHERE id = 'before'")

    assert "before" not in await keep_final_counts(db, closes + SETTLED / 2), "an answer may still be committing"
    assert "before" in await keep_final_counts(db, closes + SETTLED * 2)
    assert await keep_final_counts(db, closes + SETTLED * 3) == [], "kept once"
    assert await campaign_report(db, site.org.org_id, "now") == expected

    # the kept counts are what the report reads: Likert rows slipped in behind them change nothing
    await db.execute(
        """INSERT INTO survey_likert (org_id, campaign_id, response_id, question_key, dimension, value)
           SELECT DISTINCT ON (response_id) org_id, campaign_id, response_id, 'extra', 'service', 1
             FROM survey_likert WHERE campaign_id = 'before'"""
    )
    await db.execute(
        """UPDATE survey_household_likert SET total = total + 1, answers = answers + 1
            WHERE campaign_id = 'before' AND (dimension IS NULL OR dimension = 'service')"""
    )
    assert await campaign_report(db, site.org.org_id, "now") == expected
    await db.execute("DELETE FROM survey_final_counts")
    assert await campaign_report(db, site.org.org_id, "now") != expected, "counted again, the extra row shows"
