"""Printable survey slips over HTTP against the real app: every QR code on the sheet, read by a real decoder
(zxing-cpp) off the page as pdfium renders it, is its household's link, in the slip that names that household;
the slips run by building then unit as people read the numbers; the Chinese shows with the font the PDF embeds
(the test machine has no CJK font of its own); the reminder round, one building, and who may print."""

from __future__ import annotations

import asyncio
import importlib.util
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import msgspec
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from api.app import create_app
from core.clock import FixedClock
from core.pdf import FontMissing, cjk_font_path
from core.settings import SettingsError, from_env
from surveys.slips import INSTRUCTIONS_EN, INSTRUCTIONS_ZH, PAD, QR_SIZE, QR_TOP, SLIP_HEIGHT, SLIP_WIDTH, slip_cell
from tests.conftest import serve
from tests.integration.test_surveys import TEMPLATE
from tests.world import build_org, login

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, the property's zone
CLOSES = NOW + timedelta(days=14, hours=8)  # 2026-06-15 18:00 there
NAME_ZH, NAME_EN = "2026上半年物业服务满意度调查", "H1 2026 satisfaction survey"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SCALE = 3  # pixels per PDF point when rendering: 216 dpi
MM = 72 / 25.4  # PDF points per millimetre


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def site(api, db):
    """The org of tests/world (1号楼: 101, 102) with two more buildings whose names and numbers sort wrongly as
    plain text: 10号楼 (10-101, 2-102, 2-101) and 2号楼 (1001, 201)."""
    org = await build_org(db, "sl")
    admin = await login(api, org, "admin")
    units = {org.unit_id: ("1号楼", "101"), org.other_unit_id: ("1号楼", "102")}
    buildings = {"1号楼": org.building_id}
    for building, numbers in (("10号楼", ["10-101", "2-102", "2-101"]), ("2号楼", ["1001", "201"])):
        made = await api.post(f"/properties/{org.property_id}/buildings", headers=admin, json={"name": building})
        assert made.status_code == 201, made.text
        buildings[building] = made.json()["id"]
        for number in numbers:
            unit = await api.post(
                f"/properties/{org.property_id}/units",
                headers=admin,
                json={"building_id": buildings[building], "number": number},
            )
            assert unit.status_code == 201, unit.text
            units[unit.json()["id"]] = (building, number)
    return org, admin, await start_campaign(api, org, admin), units, buildings


async def start_campaign(api, org, admin) -> str:
    """A campaign of the property on the template of test_surveys, open from an hour before NOW; its id."""
    template = await api.post("/survey-templates", headers=admin, json=TEMPLATE)
    assert template.status_code == 201, template.text
    campaign = await api.post(
        f"/properties/{org.property_id}/campaigns",
        headers=admin,
        json={
            "template_id": template.json()["template_id"],
            "name_zh": NAME_ZH,
            "name_en": NAME_EN,
            "opens_at": (NOW - timedelta(hours=1)).isoformat(),
            "closes_at": CLOSES.isoformat(),
        },
    )
    assert campaign.status_code == 201, campaign.text
    return campaign.json()["id"]


# the print order: buildings 1, 2, 10; in each, units by the numbers in them
ORDER = [
    ("1号楼", "101"),
    ("1号楼", "102"),
    ("2号楼", "201"),
    ("2号楼", "1001"),
    ("10号楼", "2-101"),
    ("10号楼", "2-102"),
    ("10号楼", "10-101"),
]


async def links_of(api, admin, campaign_id, base) -> dict[str, str]:
    """Each household's link as a full URL -> its unit id, from GET /campaigns/{id}/links."""
    response = await api.get(f"/campaigns/{campaign_id}/links", headers=admin)
    assert response.status_code == 200, response.text
    return {f"{base}/survey/{link['token']}": link["unit_id"] for link in response.json()}


class Cell(msgspec.Struct):
    page: int
    url: str
    text: str


def read_sheet(pdf: bytes, count: int) -> tuple[list[Cell], list[Image.Image]]:
    """The first `count` slips of a sheet, as read off the rendered pages: in each slip's cell, the QR codes a
    real decoder finds (exactly one) and the text of the cell."""
    document = pypdfium2.PdfDocument(pdf)
    pages = [document[i] for i in range(len(document))]
    images = [page.render(scale=SCALE).to_pil() for page in pages]
    cells = []
    for index in range(count):
        number, x, y = slip_cell(index)
        height = pages[number].get_height()
        box = [round(v * MM * SCALE) for v in (x, y, x + SLIP_WIDTH, y + SLIP_HEIGHT)]
        found = zxingcpp.read_barcodes(images[number].crop(box))
        assert len(found) == 1, f"slip {index}: {len(found)} codes"
        assert found[0].format == zxingcpp.BarcodeFormat.QRCode
        text = (
            pages[number]
            .get_textpage()
            .get_text_bounded(x * MM, height - (y + SLIP_HEIGHT) * MM, (x + SLIP_WIDTH) * MM, height - y * MM)
        )
        cells.append(Cell(page=number, url=found[0].text, text=text))
    # and no code anywhere else: the whole pages hold exactly the codes of the slips
    assert sum(len(zxingcpp.read_barcodes(image)) for image in images) == count
    return cells, images


async def slips_of(api, admin, campaign_id, **params) -> bytes:
    response = await api.get(f"/campaigns/{campaign_id}/slips", headers=admin, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


async def test_every_qr_code_is_its_households_link_beside_its_unit_in_print_order(api, site):
    org, admin, campaign_id, units, _ = site
    base = str(api.base_url).rstrip("/")
    links = await links_of(api, admin, campaign_id, base)
    response = await api.get(f"/campaigns/{campaign_id}/slips", headers=admin)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="survey-slips-{campaign_id}.pdf"')
    assert quote(NAME_ZH) in disposition

    cells, images = await asyncio.to_thread(read_sheet, response.content, len(units))
    ARTIFACTS.mkdir(exist_ok=True)
    images[0].save(ARTIFACTS / "survey-slips-page1.png")
    assert len(images) == 1  # 7 slips, 8 a page

    assert {cell.url for cell in cells} == set(links), "each household's link, once, and nothing else"
    assert [units[links[cell.url]] for cell in cells] == ORDER
    for cell in cells:
        building, number = units[links[cell.url]]
        assert f"{building} · {number}\r\n" in cell.text, cell.text
        # the rest, its lines joined again where they wrapped
        text = squeezed(cell.text)
        assert squeezed(f"Garden {org.tag}") in text and squeezed(NAME_ZH) in text and squeezed(NAME_EN) in text
        assert squeezed("截止日期 / Closes 2026-06-15 18:00") in text
        assert squeezed(INSTRUCTIONS_ZH) in text and squeezed(INSTRUCTIONS_EN) in text


def squeezed(text: str) -> str:
    return "".join(text.split())


def test_the_chinese_shows_with_the_font_the_pdf_embeds(pdf_of_site):
    pdf = pdf_of_site
    # the font is Noto Sans CJK, a subset of it (a six-letter tag), and its program is in the PDF
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansCJKSC", pdf)
    program = re.search(rb"/FontFile[23] (\d+) 0 R", pdf)
    assert program, "no font program embedded"
    length = re.search(rb"\n" + program.group(1) + rb" 0 obj\s*<<[^>]*/Length (\d+)", pdf)
    assert length and 5_000 < int(length.group(1)) < 200_000, "glyphs for the sheet's text, not all 16 MB"
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    image = page.render(scale=SCALE).to_pil().convert("L")
    # the campaign's Chinese name, beside the first slip's code: ink there, and the text layer reads it
    _, x, y = slip_cell(0)
    left, top = x + PAD + QR_SIZE + 5, y + QR_TOP
    right, bottom = x + SLIP_WIDTH - PAD, top + 10  # its two lines (it wraps in the column)
    box = [round(v * MM * SCALE) for v in (left, top, right, bottom)]
    title = image.crop(box)
    dark = sum(1 for value in title.tobytes() if value < 128)
    assert dark > 0.03 * title.width * title.height, f"{dark} dark pixels: the title is not drawn"
    # glyphs, not one repeated box: the ink's columns differ from character to character
    assert len({title.crop((i, 0, i + 1, title.height)).tobytes() for i in range(title.width)}) > 50
    height = page.get_height()
    text = page.get_textpage().get_text_bounded(left * MM, height - bottom * MM, right * MM, height - top * MM)
    assert text.replace("\r", "").replace("\n", "") == NAME_ZH


@pytest.fixture
async def pdf_of_site(api, site):
    _, admin, campaign_id, _, _ = site
    return await slips_of(api, admin, campaign_id)


async def test_the_reminder_round_and_one_buildings_slips(api, site):
    org, admin, campaign_id, units, buildings = site
    base = str(api.base_url).rstrip("/")
    links = await links_of(api, admin, campaign_id, base)
    answered = next(url for url, unit in links.items() if units[unit] == ("10号楼", "2-101"))
    given = {"service": 5, "clean": 4, "recommend": 9, "repairs": "no"}
    assert (await api.post(answered.removeprefix(base), json={"answers": given})).status_code == 201

    pdf = await slips_of(api, admin, campaign_id, unanswered="true")
    cells, _ = await asyncio.to_thread(read_sheet, pdf, len(units) - 1)
    assert {cell.url for cell in cells} == set(links) - {answered}
    assert [units[links[cell.url]] for cell in cells] == [u for u in ORDER if u != ("10号楼", "2-101")]

    pdf = await slips_of(api, admin, campaign_id, building_id=buildings["10号楼"])
    cells, _ = await asyncio.to_thread(read_sheet, pdf, 3)
    assert [units[links[cell.url]] for cell in cells] == [u for u in ORDER if u[0] == "10号楼"]

    pdf = await slips_of(api, admin, campaign_id, building_id=buildings["10号楼"], unanswered="true")
    cells, _ = await asyncio.to_thread(read_sheet, pdf, 2)
    assert [units[links[cell.url]][1] for cell in cells] == ["2-102", "10-101"]

    # a building of another property is not one of the campaign's
    other = await api.post(f"/properties/{org.other_property_id}/buildings", headers=admin, json={"name": "A座"})
    refused = await api.get(
        f"/campaigns/{campaign_id}/slips", headers=admin, params={"building_id": other.json()["id"]}
    )
    assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"


async def test_a_sheet_with_no_household_left_says_so(api, site):
    _, admin, campaign_id, _, buildings = site
    base = str(api.base_url).rstrip("/")
    pdf = await slips_of(api, admin, campaign_id, building_id=buildings["1号楼"])
    cells, _ = await asyncio.to_thread(read_sheet, pdf, 2)
    for cell in cells:
        given = {"service": 5, "clean": 4, "recommend": 9, "repairs": "no"}
        answered = await api.post(cell.url.removeprefix(base), json={"answers": given})
        assert answered.status_code == 201, answered.text
    pdf = await slips_of(api, admin, campaign_id, building_id=buildings["1号楼"], unanswered="true")
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1
    assert "No households to print" in document[0].get_textpage().get_text_range()
    assert zxingcpp.read_barcodes(document[0].render(scale=SCALE).to_pil()) == []


async def test_only_the_propertys_admins_print_slips(api, site, db):
    org, _, campaign_id, _, _ = site
    for who in ("staff", "supervisor", "owner"):
        caller = await login(api, org, who)
        refused = await api.get(f"/campaigns/{campaign_id}/slips", headers=caller)
        assert refused.status_code == 403, (who, refused.status_code)
    other = await build_org(db, "sl2")
    stranger = await login(api, other, "admin")
    assert (await api.get(f"/campaigns/{campaign_id}/slips", headers=stranger)).status_code == 404


async def test_the_links_start_with_the_public_url_when_it_is_set(site, settings, clock):
    _, _, campaign_id, _, _ = site
    public = msgspec.structs.replace(settings, public_url="https://wy.example.com/")
    async with serve(create_app(public, clock=clock)) as client:
        admin = await login(client, site[0], "admin")
        links = await links_of(client, admin, campaign_id, "https://wy.example.com")
        pdf = await slips_of(client, admin, campaign_id)
    cells, _ = await asyncio.to_thread(read_sheet, pdf, 7)
    assert {cell.url for cell in cells} == set(links)
    assert all(cell.url.startswith("https://wy.example.com/survey/") for cell in cells)


@pytest.mark.parametrize("value", ["wy.example.com", "ftp://wy.example.com", "https://wy.example.com/fw", "https://"])
def test_a_public_url_with_a_path_or_another_scheme_is_refused(value):
    with pytest.raises(SettingsError) as caught:
        from_env({"FIELDWORK_PUBLIC_URL": value})
    assert "FIELDWORK_PUBLIC_URL" in str(caught.value) and "no path" in str(caught.value)


async def test_the_openapi_document_describes_the_pdf(api):
    document = (await api.get("/schema/openapi.json")).json()
    operation = document["paths"]["/campaigns/{campaign_id}/slips"]["get"]
    ok = operation["responses"]["200"]
    assert ok["content"] == {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}
    assert "Content-Disposition" in ok["headers"]
    assert {p["name"] for p in operation["parameters"]} >= {"campaign_id", "building_id", "unanswered"}


def test_a_missing_font_is_named_with_what_to_install(monkeypatch):
    cjk_font_path.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(FontMissing) as caught:
            cjk_font_path()
    finally:
        monkeypatch.undo()
        cjk_font_path.cache_clear()
    assert "NotoSansCJKsc-Regular.otf" in str(caught.value) and "pip install 'mplfonts" in str(caught.value)
    assert cjk_font_path().is_file()
