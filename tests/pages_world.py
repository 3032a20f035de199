"""What the page tests share: a survey with every question type and skip logic, a campaign on the test's clock,
and a browser-like client (it asks for HTML, keeps cookies and reads the CSRF token from a page's form)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from tests.world import Org

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
QUESTIONS = [
    {"type": "likert", "key": "service", "dimension": "service", "text_zh": "服务质量", "text_en": "Service quality"},
    {
        "type": "likert",
        "key": "cleaning",
        "dimension": "cleaning",
        "text_zh": "楼道清洁",
        "text_en": "Stairwell cleaning",
    },
    {
        "type": "multiple",
        "key": "dirty",
        "text_zh": "哪里不干净",
        "text_en": "Where is it not clean?",
        "show_if": {"question": "cleaning", "less_than": 3},
        "options": [
            {"key": "stairs", "label_zh": "楼梯", "label_en": "Stairs"},
            {"key": "lift", "label_zh": "电梯", "label_en": "Lift"},
            {"key": "bins", "label_zh": "垃圾桶", "label_en": "Bins"},
        ],
    },
    {
        "type": "single",
        "key": "repairs",
        "text_zh": "半年内是否报修过",
        "text_en": "Did you ask for a repair in the last six months?",
        "options": [
            {"key": "yes", "label_zh": "是", "label_en": "Yes"},
            {"key": "no", "label_zh": "否", "label_en": "No"},
        ],
    },
    {"type": "nps", "key": "recommend", "text_zh": "您会向亲友推荐我们吗", "text_en": "Would you recommend us?"},
    {"type": "text", "key": "comment", "text_zh": "意见建议", "text_en": "Comments", "max_length": 200},
]


async def survey_link(
    api: httpx.AsyncClient,
    org: Org,
    admin: dict[str, str],
    now: datetime,
    *,
    opens: float = -1,
    closes: float = 24 * 14,
    allow_edit: bool = True,
    anonymous: bool = False,
) -> str:
    """A campaign of the property on the test's clock (hours from `now`); the path of unit 101's link."""
    template = await api.post(
        "/survey-templates",
        headers=admin,
        json={"name_zh": "满意度调查", "name_en": "Satisfaction", "questions": QUESTIONS, "allow_edit": allow_edit},
    )
    assert template.status_code == 201, template.text
    campaign = await api.post(
        f"/properties/{org.property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template.json()["template_id"],
            "name_zh": "2026下半年满意度调查",
            "name_en": "H2 2026 satisfaction survey",
            "opens_at": (now + timedelta(hours=opens)).isoformat(),
            "closes_at": (now + timedelta(hours=closes)).isoformat(),
            "anonymous": anonymous,
        },
    )
    assert campaign.status_code == 201, campaign.text
    links = await api.get(f"/campaigns/{campaign.json()['id']}/links", headers=admin)
    assert links.status_code == 200, links.text
    token = next(link["token"] for link in links.json() if link["unit_id"] == org.unit_id)
    return f"/survey/{token}"


def csrf_of(page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def seen_of(page: str) -> str:
    found = re.search(r'name="seen" value="([^"]*)"', page)
    assert found, "the form has no `seen` field"
    return found.group(1)


def csrf_of_cookie(client: httpx.AsyncClient) -> str:
    """The CSRF token a page left in the browser's cookie (what a form of that browser would carry)."""
    token = client.cookies.get("csrftoken")
    assert token, "no page has given this client a CSRF cookie yet"
    return token
