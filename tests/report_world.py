"""A month of a property for the report's tests: the KPI test's rounds, results and orders (1-10 June 2025), a
survey campaign answered and closed in June with an improvement action, a service desk ticket; and running the
worker's queued jobs for real (a burst worker on the test's Redis)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.clock import FixedClock
from core.settings import Settings
from tests.desk_world import insert_ticket
from tests.integration.test_kpis import arrange
from tests.integration.test_surveys import TEMPLATE
from tests.world import Org, build_org, login
from workers.settings import create_worker

# 12:00 in Shanghai on 20 June 2025: the campaign runs 20-22 June; the report is asked for on 2 July
SURVEY_TIME = datetime(2025, 6, 20, 4, 0, tzinfo=UTC)
REPORT_TIME = datetime(2025, 7, 2, 4, 0, tzinfo=UTC)
ANSWERS = {"service": 4, "clean": 2, "recommend": 9, "repairs": "no"}


async def build_month(api, db, clock: FixedClock, tag: str) -> tuple[Org, str]:
    """The org, and the id of its survey campaign; the clock is left at REPORT_TIME."""
    clock.at = SURVEY_TIME
    org = await build_org(db, tag)
    await arrange(db, org)
    admin = await login(api, org, "admin")
    template = (await api.post("/survey-templates", headers=admin, json=TEMPLATE)).json()
    made = await api.post(
        f"/properties/{org.property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template["template_id"],
            "name_zh": "2025年夏季满意度调查",
            "name_en": "Summer 2025 satisfaction survey",
            "opens_at": (SURVEY_TIME - timedelta(hours=1)).isoformat(),
            "closes_at": (SURVEY_TIME + timedelta(days=2)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    campaign = made.json()
    links = (await api.get(f"/campaigns/{campaign['id']}/links", headers=admin)).json()
    for household in links:
        answered = await api.post(f"/survey/{household['token']}", json={"answers": ANSWERS})
        assert answered.status_code == 201, answered.text
    action = {
        "kind": "action",
        "title_zh": "增加楼道保洁频次",
        "title_en": "Clean the stairs more often",
        "due_at": (SURVEY_TIME + timedelta(days=20)).isoformat(),
        "responsible_id": org.ids["staff"],
    }
    acted = await api.post(
        f"/campaigns/{campaign['id']}/actions", headers=admin, json={"dimension": "cleaning", "actions": [action]}
    )
    assert acted.status_code == 201, acted.text
    await insert_ticket(
        db,
        org.org_id,
        org.property_id,
        "T1",
        kind="complaint",
        unit_id=org.unit_id,
        reported_by=org.ids["owner"],
        received_at="2025-06-12 09:00",
    )
    clock.at = REPORT_TIME
    return org, campaign["id"]


async def run_queued_jobs(settings: Settings, clock: FixedClock) -> int:
    """Run the jobs in the queue with a burst worker on the given clock; how many it ran."""
    worker = create_worker(settings, burst=True, handle_signals=False)
    worker.ctx["clock"] = clock
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_failed == 0
    return int(worker.jobs_complete)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def pdf_fonts(pdf: Path) -> list[str]:
    """pdffonts' lines, one a font (name, type, encoding, emb, sub, uni, object, id)."""
    listed = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    return [line for line in listed.splitlines()[2:] if line.strip()]


def pdf_page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_pages(pdf: Path, resolution: int = 50) -> list[Path]:
    """Every page rendered to PNG by poppler (pdftoppm)."""
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(resolution), "-png", str(pdf), str(prefix)], check=True)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


def has_poppler() -> bool:
    return all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfinfo"))
