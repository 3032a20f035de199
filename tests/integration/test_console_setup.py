"""The console's setup section over real HTTP, as a desk's browser uses it: checkpoints added through the form
(the API then lists them), a refused form (422, the reason beside the field, what was typed kept), the QR label
sheet (every code on it, read by a real decoder off the rendered page, is its checkpoint's tag code, the value
the staff app scans, beside its name; the font embedded), a route whose ordered stops are the API's, a schedule's
calendar equal to the domain's own expansion, assigning a person (the API then lists them), and refusals: a
supervisor's admin-only action (403 page, nothing changed), another property (404 page), a forged form (403)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp

from core.clock import FixedClock
from core.schedules.recurrence import occurrences
from inspections.labels import LABEL_HEIGHT, LABEL_WIDTH, label_cell
from tests.console_world import post_form, signed_in_console
from tests.inspection_world import Site, ok, set_up
from tests.pages_world import HTML, csrf_of
from tests.world import PASSWORD, build_org, login

NOW = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # Wednesday 09:00 in Asia/Shanghai
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SCALE = 3
MM = 72 / 25.4


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def site(api, db) -> Site:
    org = await build_org(db, "su")
    return await set_up(api, org)


def setup_of(site: Site) -> str:
    return f"/console/properties/{site.org.property_id}/setup"


async def test_a_checkpoint_added_through_the_form_is_the_apis(api, site):
    base = setup_of(site)
    await signed_in_console(api, site.org, "admin")
    overview = await api.get(base, headers=HTML)
    assert (
        overview.status_code == 200 and f"{base}/checkpoints" in overview.text and f"{base}/schedules" in overview.text
    )
    added = await post_form(
        api,
        f"{base}/checkpoints",
        f"{base}/checkpoints",
        name="3号楼 消防通道",
        tag_code="GL-3F-07",
        location="3号楼一层东侧",
        building_id=site.org.building_id,
        geo_lat="31.2304",
        geo_lon="121.4737",
    )
    assert added.status_code == 303 and added.headers["location"] == f"{base}/checkpoints?done=added"
    listed = await ok(await api.get(f"/properties/{site.org.property_id}/checkpoints", headers=site.headers["admin"]))
    made = next(c for c in listed["items"] if c["tag_code"] == "GL-3F-07")
    assert (made["name"], made["location"], made["building_id"], made["geo_lat"], made["geo_lon"]) == (
        "3号楼 消防通道",
        "3号楼一层东侧",
        site.org.building_id,
        31.2304,
        121.4737,
    )
    page = await api.get(added.headers["location"], headers=HTML)
    assert "GL-3F-07" in page.text and "3号楼 消防通道" in page.text and "已添加" in page.text

    # edited, then retired, through the forms
    edited = await post_form(
        api,
        f"{base}/checkpoints/{made['id']}",
        f"{base}/checkpoints/{made['id']}",
        name="3号楼 消防通道（东）",
        tag_code="GL-3F-07",
        location="",
        building_id="",
        geo_lat="",
        geo_lon="",
    )
    assert edited.status_code == 303, edited.text
    retired = await post_form(
        api, f"{base}/checkpoints/{made['id']}", f"{base}/checkpoints/{made['id']}/active", active="0"
    )
    assert retired.status_code == 303
    after = await ok(await api.get(f"/checkpoints/{made['id']}", headers=site.headers["admin"]))
    assert (after["name"], after["location"], after["geo_lat"], after["active"]) == (
        "3号楼 消防通道（东）",
        "",
        None,
        False,
    )


async def test_a_refused_checkpoint_form_keeps_what_was_typed(api, site, db):
    base = setup_of(site)
    await signed_in_console(api, site.org, "admin")
    before = await db.fetchval("SELECT count(*) FROM checkpoints")
    # a position needs both coordinates: the domain's check, beside its fields
    half = await post_form(
        api,
        f"{base}/checkpoints",
        f"{base}/checkpoints",
        name="水泵房",
        tag_code="GL-PUMP-1",
        location="地下二层",
        building_id="",
        geo_lat="31.2",
        geo_lon="",
    )
    assert half.status_code == 422
    assert re.search(r'id="e-geo_lat">两项须同时填写或同时留空<', half.text) and 'id="e-geo_lon"' in half.text
    assert 'value="水泵房"' in half.text and 'value="GL-PUMP-1"' in half.text and 'value="地下二层"' in half.text
    # a tag code in use: 409 beside the tag code
    taken = await post_form(
        api,
        f"{base}/checkpoints",
        f"{base}/checkpoints",
        name="水泵房",
        tag_code=f"QR-{site.org.tag}-1",
        location="",
        building_id="",
        geo_lat="",
        geo_lon="",
    )
    assert taken.status_code == 409 and 'id="e-tag_code">该标签编码已被其他巡更点使用<' in taken.text
    # nothing typed where a name is needed; a number that is not one
    empty = await post_form(
        api,
        f"{base}/checkpoints",
        f"{base}/checkpoints",
        name="",
        tag_code="X-1",
        location="",
        building_id="",
        geo_lat="north",
        geo_lon="",
    )
    assert empty.status_code == 422 and 'id="e-geo_lat">请输入数字<' in empty.text and 'value="north"' in empty.text
    nameless = await post_form(
        api,
        f"{base}/checkpoints",
        f"{base}/checkpoints",
        name="",
        tag_code="X-1",
        location="",
        building_id="",
        geo_lat="",
        geo_lon="",
    )
    assert nameless.status_code == 422 and 'id="e-name"' in nameless.text and 'value="X-1"' in nameless.text
    assert await db.fetchval("SELECT count(*) FROM checkpoints") == before


def read_labels(pdf: bytes, count: int) -> tuple[list[tuple[str, str]], list]:
    """(QR value, text) of each of the first `count` labels, read off the rendered pages."""
    document = pypdfium2.PdfDocument(pdf)
    pages = [document[i] for i in range(len(document))]
    images = [page.render(scale=SCALE).to_pil() for page in pages]
    found = []
    for index in range(count):
        number, x, y = label_cell(index)
        height = pages[number].get_height()
        box = [round(v * MM * SCALE) for v in (x, y, x + LABEL_WIDTH, y + LABEL_HEIGHT)]
        codes = zxingcpp.read_barcodes(images[number].crop(box))
        assert len(codes) == 1 and codes[0].format == zxingcpp.BarcodeFormat.QRCode, f"label {index}"
        text = (
            pages[number]
            .get_textpage()
            .get_text_bounded(x * MM, height - (y + LABEL_HEIGHT) * MM, (x + LABEL_WIDTH) * MM, height - y * MM)
        )
        found.append((codes[0].text, text))
    assert sum(len(zxingcpp.read_barcodes(image)) for image in images) == count
    return found, images


def poppler(tool: str, pdf: bytes) -> str:
    """What a poppler tool (pdftotext, pdffonts) says of the PDF."""
    return subprocess.run(
        [tool, "-", "-"][: 3 if tool == "pdftotext" else 2], input=pdf, capture_output=True, check=True
    ).stdout.decode()


async def test_the_label_sheet_holds_each_checkpoints_scan_value_beside_its_name(api, site):
    admin = site.headers["admin"]
    pid = site.org.property_id
    for n, name in enumerate(["1号楼 大堂", "地下车库 B2 出口", "垃圾房（北）"]):
        await ok(
            await api.post(
                f"/properties/{pid}/checkpoints",
                headers=admin,
                json={"name": name, "tag_code": f"FW:{site.org.tag}:{n}:{'x' * n * 20}"},
            ),
            201,
        )
    listed = (await ok(await api.get(f"/properties/{pid}/checkpoints", headers=admin)))["items"]
    scan = {c["tag_code"]: c["name"] for c in listed}
    await signed_in_console(api, site.org, "supervisor")  # supervisors read tag codes: they print labels too
    answer = await api.get(f"{setup_of(site)}/checkpoints/labels.pdf", headers=HTML)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-") and answer.headers["content-disposition"].startswith("inline;")
    labels, images = await asyncio.to_thread(read_labels, answer.content, len(scan))
    ARTIFACTS.mkdir(exist_ok=True)
    images[0].save(ARTIFACTS / "console-setup-labels-page1.png")
    assert {code for code, _ in labels} == set(scan), "each checkpoint's tag code, once, and nothing else"
    for code, text in labels:
        squeezed = "".join(text.split())
        assert "".join(scan[code].split()) in squeezed and f"Garden{site.org.tag}" in squeezed, text
    # pdftotext finds every name; the font is embedded (a subset of Noto Sans CJK)
    text = await asyncio.to_thread(poppler, "pdftotext", answer.content)
    assert all(name in text for name in scan.values())
    fonts = await asyncio.to_thread(poppler, "pdffonts", answer.content)
    assert "NotoSansCJK" in fonts and re.search(r"\byes\s+yes\s+(yes|no)\s+\d+\s+0\s*$", fonts, re.M), fonts

    # some of them, by id, in the order asked
    picked = [c["id"] for c in listed[:2]][::-1]
    some = await api.get(f"{setup_of(site)}/checkpoints/labels.pdf", params=[("ids", i) for i in picked], headers=HTML)
    labels, _ = await asyncio.to_thread(read_labels, some.content, 2)
    assert [code for code, _ in labels] == [next(c["tag_code"] for c in listed if c["id"] == i) for i in picked]
    # a checkpoint of another property is not one of this property's
    other = await ok(
        await api.post(
            f"/properties/{site.org.other_property_id}/checkpoints",
            headers=admin,
            json={"name": "A座", "tag_code": "TOWER-1"},
        ),
        201,
    )
    refused = await api.get(f"{setup_of(site)}/checkpoints/labels.pdf?ids={other['id']}", headers=HTML)
    assert refused.status_code == 404 and "TOWER-1" not in refused.text


async def test_a_route_with_ordered_stops_is_the_apis(api, site):
    base, admin = setup_of(site), site.headers["admin"]
    pid = site.org.property_id
    third = await ok(
        await api.post(
            f"/properties/{pid}/checkpoints",
            headers=admin,
            json={"name": "B3 楼梯间", "tag_code": f"QR-{site.org.tag}-3"},
        ),
        201,
    )
    one, two = site.checkpoints
    await signed_in_console(api, site.org, "admin")
    fields = {
        "name": "夜间巡更",
        "tolerance_minutes": "10",
        "window_start": "22:00",
        "window_end": "06:00",
        f"position.{one}": "3",
        f"minutes.{one}": "15",
        f"position.{two}": "",
        f"minutes.{two}": "",
        f"position.{third['id']}": "1",
        f"minutes.{third['id']}": "",
    }
    made = await post_form(api, f"{base}/routes/new", f"{base}/routes", **fields)
    assert made.status_code == 303, made.text
    route_id = made.headers["location"].split("#")[1]
    route = await ok(await api.get(f"/routes/{route_id}", headers=admin))
    assert route["stops"] == [{"checkpoint_id": third["id"], "minutes": 0}, {"checkpoint_id": one, "minutes": 15}]
    assert (route["tolerance_minutes"], route["window_start"], route["window_end"], route["expected_minutes"]) == (
        10,
        "22:00",
        "06:00",
        15,
    )
    page = await api.get(f"{base}/routes", headers=HTML)
    order = re.findall(r'data-checkpoint="([^"]+)"', page.text.split(f'id="{route_id}"')[1].split("</tr>")[0])
    assert order == [s["checkpoint_id"] for s in route["stops"]]

    # a window with one end: the domain's refusal beside it, the positions kept; nothing changed
    bad = await post_form(
        api,
        f"{base}/routes/{route_id}",
        f"{base}/routes/{route_id}",
        **{**fields, "window_end": "", f"position.{two}": "2"},
    )
    assert bad.status_code == 422 and 'id="e-window_start">两项须同时填写或同时留空<' in bad.text
    assert f'id="position.{two}" value="2"' in bad.text
    assert (await ok(await api.get(f"/routes/{route_id}", headers=admin)))["stops"] == route["stops"]
    # none numbered: the route needs a stop
    none = await post_form(api, f"{base}/routes/new", f"{base}/routes", name="空路线", tolerance_minutes="5")
    assert none.status_code == 422 and 'class="err" role="alert"' in none.text


async def test_a_schedules_calendar_is_the_domains_expansion(api, site):
    base, admin = setup_of(site), site.headers["admin"]
    await signed_in_console(api, site.org, "admin")
    made = await post_form(
        api,
        f"{base}/schedules/new",
        f"{base}/schedules",
        kind="inspection_round",
        name="楼道每日巡查",
        dtstart_local="2026-10-14T08:00",
        freq="daily",
        times="08:00, 14:00",
        rrule="",
        duration_minutes="90",
        template_id=site.template_id,
        route_id=site.route_id,
        assignee_ids=site.org.ids["staff"],
    )
    assert made.status_code == 303, made.text
    schedule_id = made.headers["location"].split("/")[-1].split("?")[0]
    schedule = await ok(await api.get(f"/schedules/{schedule_id}", headers=admin))
    assert schedule["rrule"] == "FREQ=DAILY;BYHOUR=8,14;BYMINUTE=0"
    assert schedule["payload"] == {
        "template_id": site.template_id,
        "route_id": site.route_id,
        "assignee_ids": [site.org.ids["staff"]],
    }
    listed = await api.get(f"{base}/schedules", headers=HTML)
    assert "每天 08:00、14:00" in listed.text
    assert "every day at 08:00, 14:00" in (await api.get(f"{base}/schedules?lang=en", headers=HTML)).text
    api.cookies.delete("lang")

    page = await api.get(f"{base}/schedules/{schedule_id}", headers=HTML)
    assert page.status_code == 200
    zone = ZoneInfo("Asia/Shanghai")
    monday = NOW.astimezone(zone).date() - timedelta(days=NOW.astimezone(zone).weekday())
    end = datetime.combine(monday + timedelta(weeks=6), time(), zone)
    expected = occurrences(
        schedule["rrule"], datetime.fromisoformat(schedule["dtstart_local"]), "Asia/Shanghai", NOW, end
    )
    shown = [
        (day, at)
        for day, cell in re.findall(r'data-date="([\d-]+)">(.*?)</td>', page.text, re.S)
        for at in re.findall(r'class="at">([\d:]+)<', cell)
    ]
    assert shown == [(f"{o.astimezone(zone).date()}", f"{o.astimezone(zone):%H:%M}") for o in expected]
    assert len(shown) == 2 * 40 - 1  # 14 Oct to 22 Nov; at 09:00 today only 14:00 is still to come
    # the API's preview agrees on what comes next
    preview = await ok(await api.get(f"/schedules/{schedule_id}/preview?count=3", headers=admin))
    assert [p["starts_at"] for p in preview] == [o.isoformat().replace("+00:00", "Z") for o in expected[:3]]

    paused = await post_form(api, f"{base}/schedules/{schedule_id}", f"{base}/schedules/{schedule_id}/pause")
    assert paused.status_code == 303 and (await ok(await api.get(f"/schedules/{schedule_id}", headers=admin)))["paused"]
    resumed = await post_form(api, f"{base}/schedules/{schedule_id}", f"{base}/schedules/{schedule_id}/resume")
    assert resumed.status_code == 303
    assert not (await ok(await api.get(f"/schedules/{schedule_id}", headers=admin)))["paused"]

    # refused: times with different minutes, and an assignee missing: each beside its field, nothing stored
    bad = await post_form(
        api,
        f"{base}/schedules/new",
        f"{base}/schedules",
        kind="inspection_round",
        name="x",
        dtstart_local="2026-10-14T08:00",
        freq="daily",
        times="08:00, 14:30",
        rrule="",
        duration_minutes="90",
        template_id=site.template_id,
        route_id="",
    )
    assert bad.status_code == 422 and 'id="e-times"' in bad.text and 'value="08:00, 14:30"' in bad.text
    nobody = await post_form(
        api,
        f"{base}/schedules/new",
        f"{base}/schedules",
        kind="inspection_round",
        name="x",
        dtstart_local="2026-10-14T08:00",
        freq="custom",
        times="",
        rrule="FREQ=WEEKLY;BYDAY=MO",
        duration_minutes="90",
        template_id=site.template_id,
        route_id="",
    )
    assert nobody.status_code == 422 and 'id="e-assignee_ids"' in nobody.text
    assert len((await ok(await api.get(f"/properties/{site.org.property_id}/schedules", headers=admin)))["items"]) == 1


async def test_assigning_a_person_shows_in_the_api_and_supervisors_may_not(api, site, db):
    org, admin = site.org, site.headers["admin"]
    people = f"{setup_of(site)}/people"
    staff = f"/properties/{org.property_id}/staff"
    newcomer = await ok(
        await api.post(
            "/users",
            headers=admin,
            json={"name": "新来的保安", "role": "staff", "phone": "13800000001", "password": PASSWORD},
        ),
        201,
    )

    # a supervisor reads the list, but assigning is an admin's: a 403 page, nothing changed
    await signed_in_console(api, org, "supervisor")
    page = await api.get(people, headers=HTML)
    assert page.status_code == 200 and "Staff" in page.text and 'id="assign"' not in page.text
    refused = await post_form(api, people, people, user_id=newcomer["id"])
    assert refused.status_code == 403 and "只有管理员可以执行此操作" in refused.text
    unassign = await post_form(api, people, f"{people}/{org.ids['staff']}/unassign")
    assert unassign.status_code == 403
    org_page = await api.get("/console/people", headers=HTML)
    assert org_page.status_code == 200 and 'id="create-person"' not in org_page.text
    create = await post_form(
        api, "/console/people", "/console/people", name="x", role="staff", phone="13800000009", password=PASSWORD
    )
    assert create.status_code == 403
    ids = {p["id"] for p in await ok(await api.get(staff, headers=admin))}
    assert newcomer["id"] not in ids and org.ids["staff"] in ids
    assert await db.fetchval("SELECT count(*) FROM users WHERE phone = '13800000009'") == 0

    await post_form(api, "/console", "/console/sign-out")
    await signed_in_console(api, org, "admin")
    assert "/console/people" in (await api.get("/console", headers=HTML)).text  # the header's link, for admins
    assigned = await post_form(api, people, people, user_id=newcomer["id"])
    assert assigned.status_code == 303
    assert newcomer["id"] in {p["id"] for p in await ok(await api.get(staff, headers=admin))}
    shown = await api.get(people, headers=HTML)
    assert "新来的保安" in shown.text and "13800000001" in shown.text
    gone = await post_form(api, people, f"{people}/{newcomer['id']}/unassign")
    assert gone.status_code == 303
    assert newcomer["id"] not in {p["id"] for p in await ok(await api.get(staff, headers=admin))}

    # the org's people: a new supervisor with a first password, who can then sign in; then disabled
    wrong = await post_form(
        api,
        "/console/people",
        "/console/people",
        name="王主管",
        role="supervisor",
        phone="",
        email="",
        password=PASSWORD,
    )
    assert wrong.status_code == 422 and 'id="e-email"' in wrong.text and 'value="王主管"' in wrong.text
    assert PASSWORD not in wrong.text
    made = await post_form(
        api,
        "/console/people",
        "/console/people",
        name="王主管",
        role="supervisor",
        phone="",
        email=org.email("wang"),
        password=PASSWORD,
    )
    assert made.status_code == 303
    wang = await login(api, org, "wang")
    assert wang
    user = next(u for u in (await ok(await api.get("/users", headers=admin)))["items"] if u["name"] == "王主管")
    disabled = await post_form(api, "/console/people", f"/console/people/{user['id']}/active", active="0")
    assert disabled.status_code == 303
    assert not (await ok(await api.get(f"/users/{user['id']}", headers=admin)))["active"]


async def test_another_property_and_a_forged_form_are_refused(api, site, db):
    org = site.org
    await signed_in_console(api, org, "supervisor")
    other = f"/console/properties/{org.other_property_id}/setup"
    for tail in ("", "/checkpoints", "/routes", "/schedules", "/people", "/checkpoints/labels.pdf"):
        answer = await api.get(other + tail, headers=HTML)
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"], tail
    # a checkpoint of this property under the other's address, and the other way round
    mine = f"{setup_of(site)}/checkpoints/{site.checkpoints[0]}"
    read = await api.get(mine, headers=HTML)
    assert read.status_code == 200 and 'id="f-name"' in read.text and "readonly" in read.text
    assert 'id="checkpoint-active"' not in read.text  # no form a supervisor could not send
    assert (await api.get(f"{other}/checkpoints/{site.checkpoints[0]}", headers=HTML)).status_code == 404

    await post_form(api, "/console", "/console/sign-out")
    await signed_in_console(api, org, "admin")
    before = await db.fetchval("SELECT count(*) FROM checkpoints")
    page = await api.get(f"{setup_of(site)}/checkpoints", headers=HTML)
    assert csrf_of(page.text)
    forged = await api.post(
        f"{setup_of(site)}/checkpoints",
        headers=HTML,
        data={"_csrf_token": "forged", "name": "x", "tag_code": "FORGED-1"},
    )
    assert forged.status_code == 403 and "页面已过期" in forged.text
    assert await db.fetchval("SELECT count(*) FROM checkpoints") == before
