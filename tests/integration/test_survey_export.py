"""Exports of a survey campaign (CSV, XLSX) over HTTP against the real app: the rows read back, the scores equal
to the report's, anonymity kept, formulas neutralised, access checked."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import openpyxl
import pytest

from core.clock import FixedClock
from tests.integration.test_surveys import QUESTIONS as SURVEY_QUESTIONS
from tests.world import build_org, login

NOW = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, the property's zone
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# the questions of test_surveys, with a multiple-choice question before the comment
QUESTIONS = [
    *SURVEY_QUESTIONS[:-1],
    {
        "type": "multiple",
        "key": "concerns",
        "required": False,
        "text_zh": "最关心的问题",
        "text_en": "Your concerns",
        "options": [
            {"key": "parking", "label_zh": "停车", "label_en": "Parking"},
            {"key": "noise", "label_zh": "噪音", "label_en": "Noise"},
            {"key": "pets", "label_zh": "宠物", "label_en": "Pets"},
        ],
    },
    SURVEY_QUESTIONS[-1],
]
TEMPLATE = {"name_zh": "半年满意度调查", "name_en": "Half-year satisfaction survey", "questions": QUESTIONS}
NAME_ZH = "2025上半年满意度调查"
QUESTION_HEADER = [f"{q['key']}: {q['text_zh']} / {q['text_en']}" for q in QUESTIONS]
HEADER = ["序号 No.", "渠道 Channel", "提交日期 Submitted on (Asia/Shanghai)", *QUESTION_HEADER]  # anonymous
NAMED_HEADER = [
    HEADER[0],
    "楼栋 Building",
    "房屋 ID Unit id",
    "房号 Unit",
    HEADER[1],
    "提交时间 Submitted at (Asia/Shanghai)",
]
NAMED_HEADER += QUESTION_HEADER
DIMENSION_COLUMNS = (
    "key",
    "name_zh",
    "name_en",
    "households",
    "answers",
    "household_score",
    "satisfied_households",
    "satisfaction_rate",
    "answer_weighted_score",
    "household_score_change",
    "flagged",
)


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock (tests/conftest.py serves the app with it), fixed at NOW."""
    return FixedClock(NOW)


@pytest.fixture
async def site(api, db):
    """The org of tests/world (1号楼: 101, 102) with a second building (2号楼: 201), and a survey template."""
    org = await build_org(db, "sx")
    admin = await login(api, org, "admin")
    building = await api.post(f"/properties/{org.property_id}/buildings", headers=admin, json={"name": "2号楼"})
    assert building.status_code == 201, building.text
    unit = await api.post(
        f"/properties/{org.property_id}/units",
        headers=admin,
        json={"building_id": building.json()["id"], "number": "201"},
    )
    assert unit.status_code == 201, unit.text
    template = await api.post("/survey-templates", headers=admin, json=TEMPLATE)
    assert template.status_code == 201, template.text
    return org, admin, template.json()["template_id"], unit.json()["id"]


async def campaign(api, org, admin, template_id, **more):
    response = await api.post(
        f"/properties/{org.property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template_id,
            "name_zh": NAME_ZH,
            "name_en": "H1 2025 satisfaction survey",
            "opens_at": (NOW - timedelta(hours=1)).isoformat(),
            "closes_at": (NOW + timedelta(days=14)).isoformat(),
            **more,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def answer(api, clock, admin, campaign_id, answers_by_unit):
    """Each unit's answers, a minute apart (the access tokens last a quarter of an hour), in order."""
    tokens = {
        link["unit_id"]: link["token"]
        for link in (await api.get(f"/campaigns/{campaign_id}/links", headers=admin)).json()
    }
    for unit_id, answers in answers_by_unit:
        response = await api.post(f"/survey/{tokens[unit_id]}", json={"answers": answers})
        assert response.status_code == 201, response.text
        clock.advance(minutes=1)


async def export(api, headers, campaign_id, format=None):
    params = {"format": format} if format else {}
    response = await api.get(f"/campaigns/{campaign_id}/export", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response


def csv_rows(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "a BOM, for Excel to read UTF-8"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def sheet_rows(book, name):
    """The sheet's rows, trailing empty cells dropped and empty rows skipped."""
    rows = []
    for row in book[name].iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        if values:
            rows.append(values)
    return rows


def trimmed(row):
    """The row without its trailing empty cells (a sheet has none)."""
    row = list(row)
    while row and row[-1] in ("", None):
        row.pop()
    return row


def as_text(value):
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


async def test_a_named_campaign_exports_its_responses_and_scores(api, site, clock):
    org, admin, template_id, unit_201 = site
    made = await campaign(api, org, admin, template_id)
    await answer(
        api,
        clock,
        admin,
        made["id"],
        [
            (
                org.unit_id,
                {
                    "service": 5,
                    "clean": 4,
                    "recommend": 10,
                    "repairs": "yes",
                    "repair_speed": 3,
                    "concerns": ["noise", "parking"],
                    "comment": "电梯很干净，谢谢！",
                },
            ),
            (unit_201, {"service": 2, "clean": 3, "recommend": 6, "repairs": "no"}),
            (
                org.other_unit_id,
                {
                    "service": 4,
                    "clean": 4,
                    "recommend": 8,
                    "repairs": "yes",
                    "repair_speed": 4,
                    "concerns": ["pets"],
                    "comment": '=HYPERLINK("http://x.test","点我")',
                },
            ),
        ],
    )
    first = ["1", "1号楼", org.unit_id, "1号楼 101", "link", "2025-03-01T10:00:00"]
    second = ["2", "2号楼", unit_201, "2号楼 201", "link", "2025-03-01T10:01:00"]
    third = ["3", "1号楼", org.other_unit_id, "1号楼 102", "link", "2025-03-01T10:02:00"]
    expected = [
        NAMED_HEADER,
        [*first, "5", "4", "10", "是", "3", "停车；噪音", "电梯很干净，谢谢！"],
        [*second, "2", "3", "6", "否", "", "", ""],
        [*third, "4", "4", "8", "是", "4", "宠物", '\'=HYPERLINK("http://x.test","点我")'],
    ]

    exported = await export(api, admin, made["id"], "csv")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="survey-{made["id"]}.csv"')
    assert f"filename*=UTF-8''{quote(NAME_ZH + '.csv')}" in disposition
    assert csv_rows(exported) == expected

    supervisor = await login(api, org, "supervisor")
    workbook = await export(api, supervisor, made["id"])  # xlsx by default
    assert workbook.headers["content-type"] == XLSX
    assert f'filename="survey-{made["id"]}.xlsx"' in workbook.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["Responses", "Scores", "Buildings"]
    responses = sheet_rows(book, "Responses")
    assert [[as_text(value) for value in row] for row in responses] == [trimmed(row) for row in expected]
    assert isinstance(responses[1][6], int) and isinstance(responses[1][5], datetime), "numbers and times, not text"

    report = (await api.get(f"/campaigns/{made['id']}/report", headers=admin)).json()
    scores = sheet_rows(book, "Scores")
    dimensions = len(report["dimensions"])
    assert scores[1 : 1 + dimensions] == [trimmed([d[k] for k in DIMENSION_COLUMNS]) for d in report["dimensions"]]
    figures = {row[0]: (row[1] if len(row) > 1 else None) for row in scores[1 + dimensions :]}
    assert figures == {
        "评分户数 Rated households": report["rated_households"],
        "总体户均得分 Overall household score": report["overall_household_score"],
        "总体户均得分变化 Overall household score change": report["overall_household_score_change"],
        "总体满意户数 Satisfied households": report["satisfied_households"],
        "总体满意率 Overall satisfaction rate (households)": report["overall_satisfaction_rate"],
        "按答题加权总体得分 Overall answer-weighted score": report["overall_answer_weighted_score"],
        "净推荐值 NPS": report["nps"],
        "净推荐值变化 NPS change": report["nps_change"],
        "推荐者 Promoters": report["promoters"],
        "中立者 Passives": report["passives"],
        "贬损者 Detractors": report["detractors"],
        "答卷数 Responses": report["responses"],
        "邀请户数 Invited": report["invited"],
        "回复率 Response rate": report["response_rate"],
    }
    assert (report["responses"], report["nps"]) == (3, 0)
    assert sheet_rows(book, "Buildings")[1:] == [
        [b["building_name"], b["invited"], b["responded"], b["rate"]] for b in report["buildings"]
    ]
    assert [b["building_name"] for b in report["buildings"]] == ["1号楼", "2号楼"]


async def test_an_anonymous_campaign_exports_nothing_that_names_a_household(api, site, clock, db):
    org, admin, template_id, unit_201 = site
    made = await campaign(api, org, admin, template_id, anonymous=True)
    await answer(
        api,
        clock,
        admin,
        made["id"],
        [
            (org.unit_id, {"service": 5, "clean": 5, "recommend": 9, "repairs": "no", "comment": "+1 同意"}),
            (
                unit_201,
                {"service": 3, "clean": 2, "recommend": 4, "repairs": "yes", "repair_speed": 1, "comment": "-2"},
            ),
            (org.other_unit_id, {"service": 4, "clean": 4, "recommend": 7, "repairs": "no", "comment": "@SUM(A1:A2)"}),
        ],
    )
    units = await db.fetch("SELECT id, number FROM units WHERE org_id = $1", org.org_id)
    secrets = [u["id"] for u in units] + list(org.ids.values())
    numbers = [u["number"] for u in units]
    assert {"101", "102", "201"} <= set(numbers)
    buildings = ["1号楼", "2号楼"]

    exported = await export(api, admin, made["id"], "csv")
    raw = exported.content.decode("utf-8")
    assert not [word for word in secrets + numbers + buildings if word in raw]
    header, *rows = csv_rows(exported)
    assert header == HEADER
    # the day only, and within it an order that says nothing of who answered when
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert sorted(row[1:] for row in rows) == [
        ["link", "2025-03-01", "3", "2", "4", "是", "1", "", "'-2"],
        ["link", "2025-03-01", "4", "4", "7", "否", "", "", "'@SUM(A1:A2)"],
        ["link", "2025-03-01", "5", "5", "9", "否", "", "", "'+1 同意"],
    ]

    workbook = await export(api, admin, made["id"], "xlsx")
    with zipfile.ZipFile(io.BytesIO(workbook.content)) as archive:
        for part in archive.namelist():
            text = archive.read(part).decode("utf-8", "replace")
            assert not [word for word in secrets if word in text], part
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    for name in book.sheetnames:
        for row in book[name].iter_rows(values_only=True):
            for value in row:
                text = as_text(value)
                assert not [word for word in secrets if word in text], (name, value)
                assert text not in numbers and not any(text.endswith(f" {n}") for n in numbers), (name, value)
                if name != "Buildings":  # response rates per building are counts, not households
                    assert text not in buildings, (name, value)
    responses = sheet_rows(book, "Responses")
    days = [
        [value.date().isoformat() if isinstance(value, datetime) else as_text(value) for value in row]
        for row in responses
    ]
    assert days == [trimmed(row) for row in [header, *rows]], "the same rows in the same order as the CSV"
    assert [row[0] for row in sheet_rows(book, "Buildings")[1:]] == buildings


async def test_only_supervisors_and_admins_export_and_only_csv_or_xlsx(api, site):
    org, admin, template_id, _ = site
    made = await campaign(api, org, admin, template_id)
    staff = await login(api, org, "staff")
    for format in ("csv", "xlsx"):
        refused = await api.get(f"/campaigns/{made['id']}/export", headers=staff, params={"format": format})
        assert refused.status_code == 403, refused.text
    elsewhere = await login(api, org, "elsewhere")
    assert (await api.get(f"/campaigns/{made['id']}/export", headers=elsewhere)).status_code in (403, 404)
    assert (await api.get("/campaigns/nope/export", headers=admin)).status_code == 404
    bad = await api.get(f"/campaigns/{made['id']}/export", headers=admin, params={"format": "pdf"})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    empty = await export(api, admin, made["id"], "csv")
    assert csv_rows(empty) == [NAMED_HEADER]
