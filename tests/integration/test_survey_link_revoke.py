"""Revoking a household's survey link over HTTP against the real app: the old link says it was replaced (404
survey_link_revoked, apart from an unknown one), the new one opens and answers, the lists and the slips give the
new one, the audit trail has it, an answer given stays, and only the property's admins may do it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.pages.texts import TEXTS
from core.clock import FixedClock
from surveys.campaigns import link_token
from tests.integration.test_owner_pages import sign_in
from tests.integration.test_survey_slips import NOW, read_sheet, start_campaign
from tests.pages_world import HTML
from tests.world import build_org, login

ANSWERS = {"service": 5, "clean": 4, "recommend": 9, "repairs": "no"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def site(api, db):
    org = await build_org(db, "rv")
    admin = await login(api, org, "admin")
    return org, admin, await start_campaign(api, org, admin)


async def links_of(api, admin, campaign_id) -> dict[str, str]:
    response = await api.get(f"/campaigns/{campaign_id}/links", headers=admin)
    assert response.status_code == 200, response.text
    return {link["unit_id"]: link["token"] for link in response.json()}


async def revoke(api, admin, campaign_id, unit_id):
    return await api.post(f"/campaigns/{campaign_id}/links/{unit_id}/revoke", headers=admin)


async def test_a_revoked_link_says_so_and_the_new_one_answers(api, site, settings, db):
    org, admin, campaign_id = site
    before = await links_of(api, admin, campaign_id)
    # generation 0: the links made before revoking existed are unchanged
    assert before[org.unit_id] == link_token(settings.secret_key, org.org_id, campaign_id, org.unit_id)
    old = before[org.unit_id]
    assert (await api.get(f"/survey/{old}")).status_code == 200

    revoked = await revoke(api, admin, campaign_id, org.unit_id)
    assert revoked.status_code == 200, revoked.text
    new = revoked.json()["token"]
    assert new != old and revoked.json()["unit_id"] == org.unit_id and revoked.json()["responded"] is False

    gone = await api.get(f"/survey/{old}")
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["code"] == "survey_link_revoked" and "/" in gone.json()["detail"]
    refused = await api.post(f"/survey/{old}", json={"answers": ANSWERS})
    assert refused.status_code == 404 and refused.json()["code"] == "survey_link_revoked"
    unknown = await api.get("/survey/not-a-real-token-at-all")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    # a browser gets the pages' friendly 404, worded for a replaced link
    page = await api.get(f"/survey/{old}", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert TEXTS["link.revoked"][0] in page.text

    assert (await api.get(f"/survey/{new}")).status_code == 200
    # the owner's home page links the household to its new survey link, not the revoked one
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as browser:
        assert (await sign_in(browser, org.email("owner"))).status_code == 303
        home = (await browser.get("/owner", headers=HTML)).text
    assert f'href="/survey/{new}"' in home and old not in home
    answered = await api.post(f"/survey/{new}", json={"answers": ANSWERS})
    assert answered.status_code == 201, answered.text

    after = await links_of(api, admin, campaign_id)
    assert after == {**before, org.unit_id: new}, "the household's new link; the neighbour's unchanged"

    # the slips print the new link
    pdf = await api.get(f"/campaigns/{campaign_id}/slips", headers=admin)
    cells, _ = await asyncio.to_thread(read_sheet, pdf.content, 2)
    base = str(api.base_url).rstrip("/")
    assert {cell.url for cell in cells} == {f"{base}/survey/{token}" for token in after.values()}

    entries = (await api.get("/audit", headers=admin, params={"entity_id": campaign_id})).json()["items"]
    revocation = next(e for e in entries if e["action"] == "survey_link.revoke")
    assert revocation["actor_id"] == org.ids["admin"]
    assert (revocation["before"], revocation["after"]) == (
        {"unit": org.unit_id, "generation": 0},
        {"unit": org.unit_id, "generation": 1},
    )
    assert old not in str(entries) and new not in str(entries), "no link in the audit trail"
    assert await db.fetchval("SELECT count(*) FROM survey_revoked_links") == 1


async def test_each_revocation_makes_a_new_link_and_an_answer_given_stays(api, site):
    org, admin, campaign_id = site
    first = (await links_of(api, admin, campaign_id))[org.unit_id]
    assert (await api.post(f"/survey/{first}", json={"answers": ANSWERS})).status_code == 201
    second = (await revoke(api, admin, campaign_id, org.unit_id)).json()
    assert second["responded"] is True
    third = (await revoke(api, admin, campaign_id, org.unit_id)).json()
    assert len({first, second["token"], third["token"]}) == 3
    for old in (first, second["token"]):
        assert (await api.get(f"/survey/{old}")).json()["code"] == "survey_link_revoked"
    form = (await api.get(f"/survey/{third['token']}")).json()
    assert form["answers"]["service"] == 5, "the household's answer, seen through its new link"
    again = await api.post(f"/survey/{third['token']}", json={"answers": ANSWERS})
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assert (await api.get(f"/campaigns/{campaign_id}", headers=admin)).json()["responded"] == 1


async def test_only_the_propertys_admins_revoke_links(api, site, db):
    org, admin, campaign_id = site
    before = await links_of(api, admin, campaign_id)
    for who in ("staff", "supervisor", "owner"):
        caller = await login(api, org, who)
        refused = await revoke(api, caller, campaign_id, org.unit_id)
        assert refused.status_code == 403, (who, refused.status_code)
    other = await build_org(db, "rv2")
    stranger = await login(api, other, "admin")
    assert (await revoke(api, stranger, campaign_id, org.unit_id)).status_code == 404
    assert (await revoke(api, admin, campaign_id, "no-such-unit")).status_code == 404
    assert (await revoke(api, admin, "no-such-campaign", org.unit_id)).status_code == 404
    assert await links_of(api, admin, campaign_id) == before, "nothing changed"
    assert (await api.get(f"/survey/{before[org.unit_id]}")).status_code == 200
