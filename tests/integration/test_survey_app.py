"""Owners answering in the app: campaigns, survey templates and their household's invitations reach the phone
through sync; answers come back through push and end in the same response table as a link's. (Campaigns made by
the workers from a survey_campaign schedule: tests/integration/test_materialise.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.ids import new_id
from tests.integration.test_surveys import TEMPLATE, campaign, links
from tests.integration.test_sync_protocol import changes, pull, push
from tests.world import build_org, login

GOOD = {"service": 4, "clean": 2, "recommend": 9, "repairs": "no"}


def submission(org, campaign_id, answers, *, unit=None, owner=None, record_id=None):
    return {
        "id": record_id or new_id(),
        "campaign_id": campaign_id,
        "unit_id": unit or org.unit_id,
        "submitted_by": owner or org.ids["owner"],
        "answers": json.dumps(answers, ensure_ascii=False),
        "answered_at": int(datetime.now(UTC).timestamp() * 1000),
    }


def rows(pulled, table):
    return {r["id"]: r for r in pulled["changes"][table]["created"] + pulled["changes"][table]["updated"]}


async def test_an_owner_answers_in_the_app_and_hears_back_through_pull(api, db):
    org = await build_org(db, "sa")
    admin, owner = await login(api, org, "admin"), await login(api, org, "owner")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"])

    first = await pull(api, db, owner)
    campaigns = rows(first, "survey_campaigns")
    assert list(campaigns) == [made["id"]] and campaigns[made["id"]]["results"] is None
    assert made["template_version_id"] in rows(first, "survey_template_versions")
    version = rows(first, "survey_template_versions")[made["template_version_id"]]
    assert json.loads(version["questions"])[0]["key"] == "service"
    invitations = list(rows(first, "survey_invitations").values())
    assert [(i["campaign_id"], i["unit_id"], i["responded_at"]) for i in invitations] == [
        (made["id"], org.unit_id, None)
    ], "an owner's phone holds its own household's invitation only"

    mine = submission(org, made["id"], GOOD)
    answer = await push(api, owner, first["timestamp"], changes("survey_submissions", [mine]))
    assert answer.status_code == 200, answer.text
    response = await db.fetchrow("SELECT unit_id, channel, submitted_by, answers FROM survey_responses")
    assert (response["unit_id"], response["channel"], response["submitted_by"]) == (
        org.unit_id,
        "app",
        org.ids["owner"],
    )
    assert response["answers"] == GOOD
    after = await pull(api, db, owner, first["timestamp"])
    assert rows(after, "survey_submissions")[mine["id"]]["status"] == "accepted"
    assert rows(after, "survey_invitations")[invitations[0]["id"]]["responded_at"] is not None
    report = (await api.get(f"/campaigns/{made['id']}/report", headers=admin)).json()
    scores = {d["key"]: d["household_score"] for d in report["dimensions"]}
    assert report["responses"] == 1 and scores["cleaning"] == 2.0

    # the household answered: a second answer (another phone, or the link) is refused on the record
    again = submission(org, made["id"], {**GOOD, "clean": 5})
    assert (await push(api, owner, after["timestamp"], changes("survey_submissions", [again]))).status_code == 200
    token = next(h["token"] for h in await links(api, admin, made["id"]) if h["unit_id"] == org.unit_id)
    by_link = await api.post(f"/survey/{token}", json={"answers": GOOD})
    assert by_link.status_code == 409 and by_link.json()["code"] == "already_answered"
    refused = rows(await pull(api, db, owner, after["timestamp"]), "survey_submissions")[again["id"]]
    assert (refused["status"], refused["refusal"]) == ("refused", "already_answered")
    assert refused["refusal_zh"] == "本户已提交过此问卷。" and "already" in refused["refusal_en"]
    assert await db.fetchval("SELECT count(*) FROM survey_responses") == 1


async def test_refusals_of_app_answers(api, db):
    org = await build_org(db, "sr")
    admin, owner = await login(api, org, "admin"), await login(api, org, "owner")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"])
    closed = await campaign(api, org, admin, template["template_id"], opens=-48, closes=-1)
    since = (await pull(api, db, owner))["timestamp"]

    # the neighbour's household is not the owner's to answer for: the whole push is refused
    theirs = submission(org, made["id"], GOOD, unit=org.other_unit_id)
    forbidden = await push(api, owner, since, changes("survey_submissions", [theirs]))
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == "application/problem+json"
    # someone else's name on the record
    impostor = submission(org, made["id"], GOOD, owner=org.ids["admin"])
    assert (await push(api, owner, since, changes("survey_submissions", [impostor]))).status_code == 403

    skipped = submission(org, made["id"], {"service": 4})
    late = submission(org, closed["id"], GOOD)
    garbage = {**submission(org, made["id"], GOOD), "answers": "[1, 2]"}
    pushed = await push(api, owner, since, changes("survey_submissions", [skipped, late, garbage]))
    assert pushed.status_code == 200, pushed.text
    pulled = await pull(api, db, owner, since)
    got = rows(pulled, "survey_submissions")
    assert got[skipped["id"]]["refusal"] == "invalid_answers" and "answers.clean" in got[skipped["id"]]["refusal_en"]
    assert (got[late["id"]]["status"], got[late["id"]]["refusal"]) == ("refused", "survey_closed")
    assert got[garbage["id"]]["refusal"] == "invalid_answers"
    assert await db.fetchval("SELECT count(*) FROM survey_responses") == 0

    # the phone, having pulled the refusal, corrects the answers and pushes the record again: taken
    fixed = {**skipped, "answers": json.dumps(GOOD)}
    again = await push(api, owner, pulled["timestamp"], changes("survey_submissions", updated=[fixed]))
    assert again.status_code == 200 and again.json()["rejected"] == []
    assert await db.fetchval("SELECT status FROM survey_submissions WHERE id = $1", skipped["id"]) == "accepted"
    assert await db.fetchval("SELECT count(*) FROM survey_responses WHERE channel = 'app'") == 1

    staff = await login(api, org, "staff")
    by_staff = await push(api, staff, since, changes("survey_submissions", [submission(org, made["id"], GOOD)]))
    assert by_staff.status_code == 403


async def test_an_anonymous_app_answer_keeps_nothing_that_ties_it_to_the_household(api, db):
    org = await build_org(db, "sn")
    admin, owner = await login(api, org, "admin"), await login(api, org, "owner")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"], anonymous=True)
    since = (await pull(api, db, owner))["timestamp"]
    mine = submission(org, made["id"], GOOD)
    assert (await push(api, owner, since, changes("survey_submissions", [mine]))).status_code == 200
    response = await db.fetchrow("SELECT unit_id, submitted_by, channel FROM survey_responses")
    assert (response["unit_id"], response["submitted_by"], response["channel"]) == (None, None, "app")
    stored = await db.fetchrow("SELECT status, answers FROM survey_submissions WHERE id = $1", mine["id"])
    assert (stored["status"], stored["answers"]) == ("accepted", None)
    assert rows(await pull(api, db, owner, since), "survey_submissions")[mine["id"]]["answers"] is None
    audit = await db.fetchrow("SELECT actor_id, after FROM audit_log WHERE action = 'survey_response.create'")
    assert audit["actor_id"] is None and org.unit_id not in json.dumps(audit["after"]), "the audit names nobody"
    again = submission(org, made["id"], GOOD)
    assert (await push(api, owner, since, changes("survey_submissions", [again]))).status_code == 200
    assert await db.fetchval("SELECT refusal FROM survey_submissions WHERE id = $1", again["id"]) == (
        "already_answered"
    )
