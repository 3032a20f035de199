"""Survey templates, campaigns and answering through a household's link, over HTTP against the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.world import build_org, login

QUESTIONS = [
    {"type": "likert", "key": "service", "dimension": "service", "text_zh": "服务质量", "text_en": "Service quality"},
    {"type": "likert", "key": "clean", "dimension": "cleaning", "text_zh": "清洁", "text_en": "Cleaning"},
    {"type": "nps", "key": "recommend", "text_zh": "推荐意愿", "text_en": "Would you recommend us?"},
    {
        "type": "single",
        "key": "repairs",
        "text_zh": "是否报修过",
        "text_en": "Did you ask for a repair?",
        "options": [
            {"key": "yes", "label_zh": "是", "label_en": "Yes"},
            {"key": "no", "label_zh": "否", "label_en": "No"},
        ],
    },
    {
        "type": "likert",
        "key": "repair_speed",
        "dimension": "facilities",
        "text_zh": "维修及时",
        "text_en": "Repairs on time",
        "show_if": {"question": "repairs", "equals": "yes"},
    },
    {"type": "text", "key": "comment", "text_zh": "意见", "text_en": "Comments"},
]
TEMPLATE = {"name_zh": "半年满意度调查", "name_en": "Half-year satisfaction survey", "questions": QUESTIONS}


@pytest.fixture
async def site(api, db):
    org = await build_org(db, "sv")
    return org, await login(api, org, "admin")


async def campaign(api, org, admin, template_id, *, opens=-1, closes=24 * 14, **more):
    now = datetime.now(UTC)
    response = await api.post(
        f"/properties/{org.property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template_id,
            "name_zh": "2026下半年满意度调查",
            "name_en": "H2 2026 satisfaction survey",
            "opens_at": (now + timedelta(hours=opens)).isoformat(),
            "closes_at": (now + timedelta(hours=closes)).isoformat(),
            **more,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def links(api, admin, campaign_id):
    response = await api.get(f"/campaigns/{campaign_id}/links", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def test_templates_are_checked_and_versioned(api, site):
    org, admin = site
    bad = {**TEMPLATE, "questions": [*QUESTIONS, {**QUESTIONS[0]}]}
    refused = await api.post("/survey-templates", headers=admin, json=bad)
    assert refused.status_code == 422 and any(e["field"].endswith(".key") for e in refused.json()["errors"])
    created = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    assert created["id"].endswith("-v1") and created["dimensions"][0]["key"] == "service"
    same = await api.put(f"/survey-templates/{created['template_id']}", headers=admin, json=TEMPLATE)
    assert same.json()["version"] == 1, "a retried edit makes no version"
    first = await campaign(api, org, admin, created["template_id"])
    edited = await api.put(
        f"/survey-templates/{created['template_id']}", headers=admin, json={**TEMPLATE, "name_en": "Survey"}
    )
    assert edited.json()["version"] == 2
    assert (await api.get(f"/campaigns/{first['id']}", headers=admin)).json()["template_version_id"] == created["id"]
    staff = await login(api, org, "staff")
    assert (await api.post("/survey-templates", headers=staff, json=TEMPLATE)).status_code == 403


async def test_a_household_answers_once_through_its_link(api, site, db):
    org, admin = site
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await campaign(api, org, admin, template["template_id"])
    assert (made["state"], made["invited"], made["responded"]) == ("open", 2, 0)
    households = await links(api, admin, made["id"])
    token = households[0]["token"]
    form = (await api.get(f"/survey/{token}")).json()
    assert form["can_edit"] and form["answers"] is None and form["template"]["questions"][0]["key"] == "service"

    missing = await api.post(f"/survey/{token}", json={"answers": {"service": 5}})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"answers.clean", "answers.recommend", "answers.repairs"}
    hidden = await api.post(
        f"/survey/{token}",
        json={"answers": {"service": 5, "clean": 4, "recommend": 9, "repairs": "no", "repair_speed": 2}},
    )
    assert hidden.status_code == 422 and hidden.json()["errors"][0]["field"] == "answers.repair_speed"

    given = {"service": 5, "clean": 3, "recommend": 10, "repairs": "yes", "repair_speed": 2, "comment": " 很好 "}
    answered = await api.post(f"/survey/{token}", json={"answers": given})
    assert answered.status_code == 201 and answered.json()["updated"] is False
    again = await api.post(f"/survey/{token}", json={"answers": given})
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assert again.headers["content-type"] == "application/problem+json"
    assert (await api.get(f"/survey/{token}")).json()["answers"]["comment"] == "很好"
    assert (await api.get(f"/campaigns/{made['id']}", headers=admin)).json()["responded"] == 1
    assert (await api.get("/survey/not-a-real-token-at-all")).status_code == 404

    report = (await api.get(f"/campaigns/{made['id']}/report", headers=admin)).json()
    scores = {d["key"]: d["household_score"] for d in report["dimensions"]}
    assert (scores["service"], scores["cleaning"], scores["facilities"], scores["security"]) == (5.0, 3.0, 2.0, None)
    assert report["nps"] == 100 and report["responses"] == 1 and report["response_rate"] == 0.5
    staff = await login(api, org, "staff")
    assert (await api.get(f"/campaigns/{made['id']}/report", headers=staff)).status_code == 403


async def test_a_closed_or_unopened_campaign_refuses_answers(api, site):
    org, admin = site
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    answers = {"answers": {"service": 4, "clean": 4, "recommend": 8, "repairs": "no"}}
    closed = await campaign(api, org, admin, template["template_id"], opens=-48, closes=-1)
    token = (await links(api, admin, closed["id"]))[0]["token"]
    refused = await api.post(f"/survey/{token}", json=answers)
    assert refused.status_code == 409 and refused.json()["code"] == "survey_closed"
    later = await campaign(api, org, admin, template["template_id"], opens=24, closes=48)
    token = (await links(api, admin, later["id"]))[0]["token"]
    refused = await api.post(f"/survey/{token}", json=answers)
    assert refused.status_code == 409 and refused.json()["code"] == "survey_scheduled"


async def test_edits_while_open_when_the_template_allows_and_never_when_anonymous(api, site, db):
    org, admin = site
    editable = (await api.post("/survey-templates", headers=admin, json={**TEMPLATE, "allow_edit": True})).json()
    answers = {"service": 2, "clean": 4, "recommend": 3, "repairs": "no"}
    made = await campaign(api, org, admin, editable["template_id"])
    token = (await links(api, admin, made["id"]))[0]["token"]
    assert (await api.post(f"/survey/{token}", json={"answers": answers})).status_code == 201
    changed = await api.post(f"/survey/{token}", json={"answers": {**answers, "service": 4}})
    assert changed.status_code == 201 and changed.json()["updated"] is True
    report = (await api.get(f"/campaigns/{made['id']}/report", headers=admin)).json()
    assert {d["key"]: d["household_score"] for d in report["dimensions"]}["service"] == 4.0

    secret = await campaign(api, org, admin, editable["template_id"], anonymous=True)
    token = (await links(api, admin, secret["id"]))[0]["token"]
    assert (await api.post(f"/survey/{token}", json={"answers": answers})).status_code == 201
    again = await api.post(f"/survey/{token}", json={"answers": answers})
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    stored = await db.fetch("SELECT unit_id FROM survey_responses WHERE campaign_id = $1", secret["id"])
    assert [r["unit_id"] for r in stored] == [None]
    assert (await api.get(f"/survey/{token}")).json()["answers"] is None


async def test_households_that_have_not_answered_are_reminded_once(api, site, db, settings):
    from tests.integration.test_worker import run_job

    org, admin = site
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    soon = await campaign(api, org, admin, template["template_id"], opens=-24, closes=48)
    later = await campaign(api, org, admin, template["template_id"], opens=-24, closes=24 * 10)
    tokens = {link["unit_id"]: link["token"] for link in await links(api, admin, soon["id"])}
    # the neighbour (no owner in this world) answers; unit 101, whose owner has not, is reminded
    answers = {"answers": {"service": 4, "clean": 4, "recommend": 8, "repairs": "no"}}
    assert (await api.post(f"/survey/{tokens[org.other_unit_id]}", json=answers)).status_code == 201
    await db.execute(
        "INSERT INTO unit_owners (org_id, unit_id, user_id) VALUES ($1, $2, $3)",
        org.org_id,
        org.other_unit_id,
        org.ids["owner"],
    )
    await run_job(settings, "remind_surveys")
    await run_job(settings, "remind_surveys")
    sent = await db.fetch("SELECT dedupe_key, record_id, title_zh FROM notifications WHERE kind = 'survey_reminder'")
    assert [(r["dedupe_key"], r["record_id"]) for r in sent] == [
        (f"survey-reminder:{soon['id']}:{org.unit_id}", soon["id"])
    ], "once, for the household that has not answered, of the campaign closing soon"
    assert later["id"] not in sent[0]["dedupe_key"] and "请填写" in sent[0]["title_zh"]
    reminded = await db.fetch(
        "SELECT unit_id FROM survey_invitations WHERE campaign_id = $1 AND reminded_at IS NOT NULL", soon["id"]
    )
    assert [r["unit_id"] for r in reminded] == [org.unit_id]
    await run_job(settings, "deliver_notifications")  # to the owner's inbox, which their phone syncs
    inbox = await api.get("/inbox", headers=await login(api, org, "owner"))
    assert [item["kind"] for item in inbox.json()["items"]] == ["survey_reminder"]


async def test_households_added_after_a_campaign_was_made_are_invited_while_it_is_open(api, site, db, settings):
    from tests.integration.test_worker import run_job

    org, admin = site
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    open_now = await campaign(api, org, admin, template["template_id"])
    closed = await campaign(api, org, admin, template["template_id"], opens=-48, closes=-1)
    added = await api.post(
        f"/properties/{org.property_id}/units", headers=admin, json={"building_id": org.building_id, "number": "103"}
    )
    assert added.status_code == 201, added.text
    await run_job(settings, "remind_surveys")
    await run_job(settings, "remind_surveys")  # nothing twice
    households = await links(api, admin, open_now["id"])
    assert len(households) == 3 and added.json()["id"] in {h["unit_id"] for h in households}
    token = next(h["token"] for h in households if h["unit_id"] == added.json()["id"])
    assert (await api.get(f"/survey/{token}")).json()["state"] == "open"
    assert len(await links(api, admin, closed["id"])) == 2, "a closed campaign invites nobody new"
