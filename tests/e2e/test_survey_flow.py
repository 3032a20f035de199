"""The survey story end to end, over HTTP and sync against the real app: a campaign opens, fifty households
answer (half in the app through sync, half through their links), the report's scores equal a computation made
here from the answers given, a flagged dimension gets improvement actions, the results are published, and the
owners' phones pull them — owners of another property do not."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from core.clock import FixedClock
from surveys.models import DIMENSIONS
from tests.integration.test_survey_app import rows, submission
from tests.integration.test_sync_protocol import changes, pull, push
from tests.integration.test_worker import run_job
from tests.world import add_households, build_org, login

START = datetime.now(UTC).replace(microsecond=0)

QUESTIONS = [
    *(
        {"type": "likert", "key": d.key, "dimension": d.key, "text_zh": d.name_zh, "text_en": d.name_en}
        for d in DIMENSIONS
    ),
    {"type": "nps", "key": "recommend", "text_zh": "您会向亲友推荐我们吗", "text_en": "Would you recommend us?"},
    {"type": "text", "key": "comment", "required": False, "text_zh": "意见建议", "text_en": "Comments"},
]


@pytest.fixture
def clock():
    return FixedClock(START)


def answers_of(rng: random.Random) -> dict[str, object]:
    given: dict[str, object] = {d.key: rng.randint(3, 5) for d in DIMENSIONS}
    given["cleaning"] = rng.choice([1, 2, 3, 3, 4, 5])  # the stairwells are dirty
    given["recommend"] = rng.randint(4, 10)
    return given


def half_up(value: Fraction, places: str = "0.01") -> float:
    return float((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(places), ROUND_HALF_UP))


def expected_scores(given: list[dict[str, object]]) -> tuple[dict[str, float], int]:
    """Σ k·count_k / responses per dimension (one question each, all answered), and NPS, computed here."""
    scores = {}
    for d in DIMENSIONS:
        counts = {k: sum(1 for a in given if a[d.key] == k) for k in range(1, 6)}
        scores[d.key] = half_up(Fraction(sum(k * c for k, c in counts.items()), len(given)))
    promoters = sum(1 for a in given if int(a["recommend"]) >= 9)  # type: ignore[call-overload]
    detractors = sum(1 for a in given if int(a["recommend"]) <= 6)  # type: ignore[call-overload]
    nps = int(half_up(Fraction(100 * (promoters - detractors), len(given)), "1"))
    return scores, nps


async def open_campaign(api, org, admin, name_zh, name_en):
    """A template of QUESTIONS and a campaign of it on the org's property, open for two weeks from START."""
    template = (
        await api.post(
            "/survey-templates", headers=admin, json={"name_zh": name_zh, "name_en": name_en, "questions": QUESTIONS}
        )
    ).json()
    made = await api.post(
        f"/properties/{org.property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template["template_id"],
            "name_zh": name_zh,
            "name_en": name_en,
            "opens_at": START.isoformat(),
            "closes_at": (START + timedelta(days=14)).isoformat(),
            "flag_below": 4.0,
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_fifty_households_answer_and_owners_pull_the_published_results(api, db, clock, settings):
    org = await build_org(db, "flow")
    households = await add_households(db, org, 48)  # with build_org's two: fifty
    units = [org.unit_id, org.other_unit_id, *households]
    owner_of = {org.unit_id: "owner", **{u: f"owner{i}" for i, u in enumerate(households)}}
    admin = await login(api, org, "admin")
    made = await open_campaign(api, org, admin, "2026年下半年满意度调查", "H2 2026 satisfaction survey")
    assert made["invited"] == 50 and made["state"] == "open"
    tokens = {h["unit_id"]: h["token"] for h in (await api.get(f"/campaigns/{made['id']}/links", headers=admin)).json()}

    rng = random.Random(20261123)
    given = {unit: answers_of(rng) for unit in units}
    in_app = [u for u in units if u in owner_of][:25]
    by_link = [u for u in units if u not in in_app]
    assert len(in_app) == 25 and len(by_link) == 25
    for unit in in_app:
        phone = await login(api, org, owner_of[unit])
        pulled = await pull(api, db, phone)
        invitation = next(iter(rows(pulled, "survey_invitations").values()))
        assert (invitation["campaign_id"], invitation["unit_id"]) == (made["id"], unit)
        record = submission(org, made["id"], given[unit], unit=unit, owner=org.ids[owner_of[unit]])
        answered = await push(api, phone, pulled["timestamp"], changes("survey_submissions", [record]))
        assert answered.status_code == 200 and answered.json()["rejected"] == []
    for unit in by_link:
        answered = await api.post(f"/survey/{tokens[unit]}", json={"answers": given[unit]})
        assert answered.status_code == 201, answered.text
    channels = dict(await db.fetch("SELECT channel, count(*) FROM survey_responses GROUP BY 1"))
    assert channels == {"app": 25, "link": 25}
    assert await db.fetchval("SELECT count(*) FROM survey_submissions WHERE status = 'accepted'") == 25

    # the refusals an owner meets, each a problem+json naming its reason
    again = await api.post(f"/survey/{tokens[by_link[0]]}", json={"answers": given[by_link[0]]})
    assert (again.status_code, again.json()["code"]) == (409, "already_answered")
    assert again.headers["content-type"] == "application/problem+json"
    elsewhere = await build_org(db, "flow2")
    other_admin = await login(api, elsewhere, "admin")
    theirs = await open_campaign(api, elsewhere, other_admin, "调查", "Survey")
    their_token = (await api.get(f"/campaigns/{theirs['id']}/links", headers=other_admin)).json()[0]["token"]
    skipped = await api.post(f"/survey/{their_token}", json={"answers": {"service": 5}})
    assert skipped.status_code == 422 and skipped.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in skipped.json()["errors"]} >= {"answers.cleaning", "answers.recommend"}
    # another property's token opens that property's survey only: the campaign here is untouched by it
    assert (await api.get(f"/survey/{their_token}")).json()["campaign_id"] == theirs["id"]
    assert (await api.get(f"/campaigns/{theirs['id']}", headers=admin)).status_code == 404

    # the report equals the computation made here from the answers given
    report = (await api.get(f"/campaigns/{made['id']}/report", headers=admin)).json()
    scores, nps = expected_scores(list(given.values()))
    assert {d["key"]: d["household_score"] for d in report["dimensions"]} == scores
    assert (report["responses"], report["response_rate"], report["nps"]) == (50, 1.0, nps)
    flagged = [key for key, score in scores.items() if score < 4.0]
    assert report["flagged"] == flagged and "cleaning" in flagged

    # improvement actions for the flagged dimension: a rectification order and a plain action, in one call
    due = (START + timedelta(days=30)).isoformat()
    body = {
        "dimension": "cleaning",
        "actions": [
            {
                "id": "act-stairs",
                "kind": "order",
                "title_zh": "楼道每日清扫两次",
                "title_en": "Sweep stairwells twice a day",
                "due_at": due,
                "responsible_id": org.ids["staff"],
            },
            {
                "id": "act-talk",
                "kind": "action",
                "title_zh": "与保洁外包方约谈",
                "title_en": "Meet the cleaning contractor",
                "due_at": due,
                "responsible_id": org.ids["supervisor"],
            },
        ],
    }
    actions = await api.post(f"/campaigns/{made['id']}/actions", headers=admin, json=body)
    assert actions.status_code == 201, actions.text
    assert [(a["kind"], a["status"], a["published"]) for a in actions.json()] == [
        ("order", "open", False),
        ("action", "open", False),
    ]
    retried = await api.post(f"/campaigns/{made['id']}/actions", headers=admin, json=body)
    assert retried.status_code == 201 and await db.fetchval("SELECT count(*) FROM survey_actions") == 2
    order = await db.fetchrow("SELECT source, category, responsible_id FROM rectification_orders")
    assert dict(order) == {"source": "survey", "category": "cleaning", "responsible_id": org.ids["staff"]}
    unflagged = next(key for key, score in scores.items() if score >= 4.0)
    refused = await api.post(f"/campaigns/{made['id']}/actions", headers=admin, json={**body, "dimension": unflagged})
    assert (refused.status_code, refused.json()["code"]) == (409, "dimension_not_flagged")

    early = await api.post(f"/campaigns/{made['id']}/publish", headers=admin)
    assert (early.status_code, early.json()["code"]) == (409, "survey_not_closed")
    owner = await login(api, org, "owner")
    before = await pull(api, db, owner)
    assert rows(before, "survey_actions") == {}, "owners see no action before the results are published"

    clock.advance(days=15)  # the campaign has closed
    admin, owner = await login(api, org, "admin"), await login(api, org, "owner")  # new tokens, days later
    published = await api.post(f"/campaigns/{made['id']}/publish", headers=admin)
    assert published.status_code == 200, published.text
    assert [a["id"] for a in published.json()["actions"]] == ["act-stairs", "act-talk"]

    # the owner's phone pulls the results and the actions; the owner is told
    after = await pull(api, db, owner, before["timestamp"])
    results = json.loads(rows(after, "survey_campaigns")[made["id"]]["results"])
    assert {d["key"]: d["household_score"] for d in results["report"]["dimensions"]} == scores
    assert results["report"]["flagged"] == flagged
    assert {a["id"]: a["status"] for a in rows(after, "survey_actions").values()} == {
        "act-stairs": "open",
        "act-talk": "open",
    }
    await run_job(settings, "deliver_notifications", clock)
    inbox = [r["kind"] for r in rows(await pull(api, db, owner, before["timestamp"]), "inbox").values()]
    assert "survey_results" in inbox
    # an owner of another property sees none of it
    stranger = await login(api, elsewhere, "owner")
    theirs_pulled = await pull(api, db, stranger)
    assert made["id"] not in rows(theirs_pulled, "survey_campaigns")
    assert rows(theirs_pulled, "survey_actions") == {}

    # the plain action is done by its person; the owner's phone hears of it
    done = await api.post(
        "/survey-actions/act-talk/done",
        headers=await login(api, org, "supervisor"),
        json={"note": "已约谈，合同增加楼道保洁频次"},
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert (await api.post("/survey-actions/act-stairs/done", headers=admin, json={})).status_code == 409
    later = await pull(api, db, owner, after["timestamp"])
    assert rows(later, "survey_actions")["act-talk"]["status"] == "done"
