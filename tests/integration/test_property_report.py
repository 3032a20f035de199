"""The property report end to end: asked for through the API (202 and its state), made by the worker's job on a
real Redis (a burst worker), then the PDF: poppler finds the figures the KPI route gives for the same month, renders
every page, and the Chinese title has ink on this machine's fonts (none of them CJK: the PDF's own font is drawn);
the figures as JSON; bad periods, another property and staff refused, never a 500."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from core.clock import FixedClock
from reports import pdf as report_pdf
from reports.words import percent, score
from tests.report_world import (
    REPORT_TIME,
    build_month,
    has_poppler,
    pdf_fonts,
    pdf_page_count,
    pdf_pages,
    pdf_text,
    run_queued_jobs,
)
from tests.world import login

pytestmark = pytest.mark.skipif(not has_poppler(), reason="poppler-utils (pdftotext, pdftoppm) is not installed")

PERIOD = "2025-06"
MONTH = {"from": "2025-06-01", "to": "2025-06-30"}
# 1 step for the period's KPIs, 1 for the previous period's, 12 trend months, the ledger, satisfaction, the service
# desk, drawing the PDF and storing it
STEPS = 2 + 12 + 1 + 1 + 1 + 2


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(REPORT_TIME)


def cjk_fonts_installed() -> bool:
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return bool(listed.stdout.strip())


def ink(page: Path, box_mm: tuple[float, float, float, float], resolution: int = 50, under: int = 110) -> int:
    """Pixels darker than `under` (0-255 grey) in a box (left, top, right, bottom; millimetres) of a rendered
    page."""
    scale = resolution / 25.4
    image = Image.open(page).convert("L")
    left, top, right, bottom = (round(v * scale) for v in box_mm)
    region = image.crop((left, top, right, bottom))
    return sum(region.histogram()[:under])


async def test_a_months_report_is_made_by_the_worker_and_shows_the_apis_figures(api, db, settings, clock, tmp_path):
    org, campaign_id = await build_month(api, db, clock, "rp")
    supervisor = await login(api, org, "supervisor")
    url = f"/properties/{org.property_id}/reports/{PERIOD}"

    asked = await api.get(url, headers=supervisor)
    assert asked.status_code == 202, asked.text
    state = asked.json()
    assert (state["status"], state["progress"], state["total"]) == ("queued", 0, STEPS)
    again = await api.get(url, headers=supervisor)  # asked twice: the same report, still queued
    assert again.status_code == 202 and again.json()["id"] == state["id"]

    assert await run_queued_jobs(settings, clock) == 1  # queued twice, made once
    row = await db.fetchrow("SELECT status, progress, total, started_at, finished_at, error FROM reports")
    assert dict(row) | {"started_at": None, "finished_at": None} == {
        "status": "done",
        "progress": STEPS,
        "total": STEPS,
        "started_at": None,
        "finished_at": None,
        "error": None,
    }
    assert row["started_at"] == row["finished_at"] == REPORT_TIME  # the worker's clock

    made = await api.get(url, headers=supervisor)
    assert made.status_code == 200, made.text
    assert made.headers["content-type"] == "application/pdf"
    assert f'filename="{org.property_id}-{PERIOD}-report.pdf"' in made.headers["content-disposition"]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(made.content)

    # the text layer: the KPI route's figures for the same local month, as the PDF writes them
    kpis = (await api.get(f"/properties/{org.property_id}/kpis", headers=supervisor, params=MONTH)).json()["totals"]
    survey = (await api.get(f"/campaigns/{campaign_id}/report", headers=await login(api, org, "admin"))).json()
    text = pdf_text(pdf)
    expected = {
        "巡检完成率 Round completion": percent(kpis["rounds"]["completion_rate"]),
        "点位准时率 Visits on time": percent(kpis["visits"]["on_time_rate"]),
        "检查合格率 Item pass rate": percent(kpis["items"]["pass_rate"]),
        "整改按时率 Rectification on time": percent(kpis["rectification"]["on_time_rate"]),
        "新开整改单 Orders opened": str(kpis["rectification"]["opened"]),
        "综合得分（1-5） Overall score": score(survey["overall_household_score"]),
        "满意率 Satisfaction rate": percent(survey["overall_satisfaction_rate"]),
        "净推荐值 NPS": str(survey["nps"]),
    }
    lines = text.splitlines()
    for label, figure in expected.items():
        line = next((line for line in lines if label in line), None)
        assert line is not None, label
        assert line.split(label, 1)[1].split()[0] == figure, (label, line)
    assert all(v != "—" for v in list(expected.values())[:5]), expected  # the month has each figure
    assert "增加楼道保洁频次" in text and "Clean the stairs more often" in text  # the improvement action
    assert "受理工单 Tickets received" in text  # the service desk's page

    # the font is embedded (a subset), and every page renders with the Chinese drawn
    fonts = pdf_fonts(pdf)
    assert fonts and all("NotoSansCJK" in line and line.split()[-5:-3] == ["yes", "yes"] for line in fonts)
    pages = pdf_pages(pdf)
    assert len(pages) == pdf_page_count(pdf) == 6
    # this machine has no CJK font of its own (say so if that changes: the check would prove less)
    assert not cjk_fonts_installed(), "a CJK font is installed: the pixel check no longer proves the embedding"
    m, top = report_pdf.MARGIN, report_pdf.TITLE_TOP
    title = ink(pages[0], (m, top - 10, m + 90, top + 1.5))  # 物业服务月度报告, 28 pt
    blank = ink(pages[0], (m, top + 15, m + 90, top + 25))  # between the English title and the property
    assert title > 400 and blank == 0, (title, blank)
    for page in pages[1:]:  # each page's Chinese heading (一、巡检关键指标 …), in blue: inked, not white
        assert ink(page, (m, m, m + 60, m + 7), under=200) > 200

    # the same figures as JSON
    figures = (await api.get(url, headers=supervisor, params={"format": "json"})).json()
    assert figures["kpis"] == kpis and figures["period"]["label"] == PERIOD
    assert [t["month"] for t in figures["trend"]][-1] == PERIOD and len(figures["trend"]) == 12
    accept = await api.get(url, headers={**supervisor, "Accept": "application/json"})
    assert accept.json() == figures
    assert figures["satisfaction"]["campaign_id"] == campaign_id
    assert figures["service_desk"]["totals"]["intake"]["received"] == 1


async def test_regenerating_makes_a_new_version(api, db, settings, clock):
    org, _ = await build_month(api, db, clock, "rg")
    supervisor = await login(api, org, "supervisor")
    url = f"/properties/{org.property_id}/reports/2025-Q2"
    first = (await api.get(url, headers=supervisor)).json()
    assert (await api.post(url, headers=supervisor)).json()["id"] == first["id"]  # still queued: not twice
    await run_queued_jobs(settings, clock)
    made = await api.get(url, headers=supervisor)
    assert made.status_code == 200 and made.content.startswith(b"%PDF")
    redo = await api.post(url, headers=supervisor)
    assert redo.status_code == 202 and redo.json()["version"] == 2 and redo.json()["status"] == "queued"
    assert (await api.get(url, headers=supervisor)).status_code == 202  # the newest version is on its way
    await run_queued_jobs(settings, clock)
    assert (await api.get(url, headers=supervisor)).status_code == 200
    assert await db.fetchval("SELECT array_agg(version ORDER BY version) FROM reports") == [1, 2]


@pytest.mark.parametrize(
    ("period", "status", "says"),
    [
        ("2025-13", 422, "the month must be 01-12"),
        ("2025-Q5", 422, "the quarter must be Q1-Q4"),
        ("garbage", 422, "a month YYYY-MM"),
        ("2025-7", 422, "a month YYYY-MM"),
        ("0000-01", 422, "the year must be"),
        ("2025-08", 422, "has not begun"),
        ("2025-Q4", 422, "has not begun"),
    ],
)
async def test_a_bad_or_future_period_is_refused_clearly(api, db, period, status, says):
    from tests.world import build_org

    org = await build_org(db, "bp")
    supervisor = await login(api, org, "supervisor")
    for method in (api.get, api.post):
        answer = await method(f"/properties/{org.property_id}/reports/{period}", headers=supervisor)
        assert answer.status_code == status, answer.text
        assert says in answer.text
    assert await db.fetchval("SELECT count(*) FROM reports") == 0


async def test_another_property_and_staff_are_refused(api, db):
    from tests.world import build_org

    org = await build_org(db, "bq")
    supervisor, staff = await login(api, org, "supervisor"), await login(api, org, "staff")
    other = await api.get(f"/properties/{org.other_property_id}/reports/2025-06", headers=supervisor)
    assert other.status_code == 404
    assert (await api.get("/properties/nope/reports/2025-06", headers=supervisor)).status_code == 404
    assert (await api.get(f"/properties/{org.property_id}/reports/2025-06", headers=staff)).status_code == 403
    assert (await api.post(f"/properties/{org.property_id}/reports/2025-06", headers=staff)).status_code == 403
    assert (await api.get(f"/properties/{org.property_id}/reports/2025-06")).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM reports") == 0
