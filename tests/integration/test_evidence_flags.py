"""Evidence flags end to end: rounds walked and photos taken on phones (the reference sync client), bytes over
tus, the worker's real make_derivatives and check_evidence jobs, and the flags read back through the API and a
supervisor's sync. Each kind is flagged once; a clean round flags nothing; a dismissed flag stays dismissed."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageFilter

from core.clock import FixedClock
from tests.inspection_world import Site, assign_round, device, ms, ok, set_up, tag
from tests.integration.test_photo_likeness_store import scene
from tests.integration.test_sync_protocol import settle
from tests.integration.test_worker import run_job
from tests.photo_world import Phone, make_derivatives
from tests.world import build_org

ZONE = ZoneInfo("Asia/Shanghai")  # the test properties' zone (tests/world.py)
CENTRE = (31.2304, 121.4737)  # the property's fence: 300 m around this
NEAR = (31.2314, 121.4737)  # about 110 m north: inside
FAR = (31.2754, 121.4737)  # about 5 km north: outside


def with_exif(image: Image.Image, captured: datetime | None, position: tuple[float, float] | None = None) -> bytes:
    """A camera JPEG: DateTimeOriginal in the property's wall time (no offset, as most cameras write it), and a
    GPS position when given."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi Note 12"
    if captured is not None:
        ifd = exif.get_ifd(0x8769)
        ifd[0x9003] = captured.astimezone(ZONE).strftime("%Y:%m:%d %H:%M:%S")
    if position is not None:
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", _dms(position[0])
        gps[3], gps[4] = "E", _dms(position[1])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _dms(degrees: float) -> tuple[float, float, float]:
    whole = int(degrees)
    minutes = (degrees - whole) * 60
    return (float(whole), float(int(minutes)), round((minutes - int(minutes)) * 60, 4))


def screenshot(data: bytes) -> bytes:
    """The photo as someone's screenshot of it: in a phone screen with bars, as PNG, no EXIF."""
    with Image.open(io.BytesIO(data)) as photo:
        shown = photo.convert("RGB").resize((1170, 1170 * photo.height // photo.width))
    screen = Image.new("RGB", (1170, 2532), (250, 250, 250))
    screen.paste(shown, (0, (2532 - shown.height) // 2))
    out = io.BytesIO()
    screen.save(out, "PNG")
    return out.getvalue()


class Walk:
    """One property with a fence, two checkpoints 500 m apart on a route (10 minutes from the first to the second),
    and a staff member's phone."""

    def __init__(self, api, db, settings, site: Site, staff, phone: Phone):
        self.api, self.db, self.settings, self.site, self.staff, self.phone = api, db, settings, site, staff, phone
        self.org = site.org

    @classmethod
    async def make(cls, api, db, settings, *, positions: bool = True) -> Walk:
        org = await build_org(db, "ev")
        site = await set_up(api, org)
        admin = site.headers["admin"]
        fence = {"geo_lat": CENTRE[0], "geo_lon": CENTRE[1], "geo_radius_m": 300}
        await ok(await api.patch(f"/properties/{org.property_id}", headers=admin, json=fence))
        if positions:
            for checkpoint, lat in zip(site.checkpoints, (31.2290, 31.2335), strict=True):  # 500 m apart
                body = {"geo_lat": lat, "geo_lon": CENTRE[1]}
                await ok(await api.patch(f"/checkpoints/{checkpoint}", headers=admin, json=body))
        staff = await device(api, site, "staff")
        phone = Phone(api, org, "staff", site.headers["staff"], staff, db)
        return cls(api, db, settings, site, staff, phone)

    async def round(
        self, start: datetime, scans: list[tuple[int, float]], done: float, *, where=None, fail_first: bool = False
    ) -> tuple[str, list[str], list[str]]:
        """A round walked offline: scans (checkpoint 1 or 2, minutes after the start), completed `done` minutes
        after it, one item answered per visit (passed, or the first failed); returns its id, visit ids and result
        ids (not synced yet)."""
        planned = await assign_round(self.api, self.site)
        await settle(self.db)
        await self.staff.sync()
        store, staff_id = self.staff.store, self.org.ids["staff"]
        store.update("rounds", planned["id"], {"status": "in_progress", "started_at": ms(start)})
        visits, answers = [], []
        for n, minutes in scans:
            visit = {
                "property_id": self.org.property_id,
                "round_id": planned["id"],
                "checkpoint_id": self.site.checkpoints[n - 1],
                "checked_by": staff_id,
                "scanned_tag": tag(self.site, n),
                "scanned_at": ms(start + timedelta(minutes=minutes)),
            }
            if where is not None:
                visit |= {"geo_lat": where[0], "geo_lon": where[1], "geo_accuracy_m": 15.0}
            visits.append(store.create("checkpoint_visits", visit))
            result = "fail" if fail_first and not answers else "pass"
            answers.append(
                store.create(
                    "check_results",
                    {
                        "property_id": self.org.property_id,
                        "round_id": planned["id"],
                        "visit_id": visits[-1],
                        "item_key": "floor",
                        "checked_by": staff_id,
                        "checked_at": ms(start + timedelta(minutes=minutes)),
                        "result": result,
                    },
                )
            )
        store.update(
            "rounds", planned["id"], {"status": "completed", "completed_at": ms(start + timedelta(minutes=done))}
        )
        return planned["id"], visits, answers

    async def photo(self, record_table: str, record_id: str, data: bytes, taken_at: datetime, purpose="evidence"):
        """A photo on a record, its row pushed and its bytes uploaded."""
        photo_id = self.staff.store.create(
            "photos",
            {
                "property_id": self.org.property_id,
                "record_table": record_table,
                "record_id": record_id,
                "uploaded_by": self.org.ids["staff"],
                "purpose": purpose,
                "taken_at": ms(taken_at),
            },
        )
        assert (await self.staff.sync()).rejected == 0
        assert (await self.phone.upload(photo_id, data)).status_code == 204
        return photo_id

    async def check(self, now: datetime | None = None) -> None:
        """What the worker does: derivatives (and hashes) of the new photos, then the evidence checks."""
        await make_derivatives(self.settings)
        await run_job(self.settings, "check_evidence", FixedClock(now or datetime.now(UTC)))

    async def flags(self, **query) -> list[dict]:
        page = await ok(
            await self.api.get(
                f"/properties/{self.org.property_id}/evidence-flags",
                headers=self.site.headers["supervisor"],
                params=query,
            )
        )
        return page["items"]


@pytest.fixture
async def walk(api, db, settings) -> Walk:
    return await Walk.make(api, db, settings)


def kinds(flags: list[dict]) -> list[tuple[str, str]]:
    return sorted((f["kind"], f["subject_id"]) for f in flags if f["level"] == "flag")


async def test_a_clean_round_flags_nothing(walk):
    start = datetime.now(UTC) - timedelta(minutes=40)
    round_id, _visits, answers = await walk.round(start, [(1, 1), (2, 12)], 15, where=NEAR)
    assert (await walk.staff.sync()).rejected == 0
    for n, answer in enumerate(answers):
        at = start + timedelta(minutes=(1, 12)[n])
        await walk.photo("check_results", answer, with_exif(scene(10 + n), at, NEAR), at)
    await walk.check()
    assert await walk.flags() == []
    detail = await ok(await walk.api.get(f"/rounds/{round_id}", headers=walk.site.headers["supervisor"]))
    assert detail["flags"] == []
    todo = await walk.db.fetchval("SELECT count(*) FROM evidence_todo WHERE org_id = $1", walk.org.org_id)
    assert todo == 0, "the round and both photos were looked at"


async def test_a_patrol_walked_at_30_kmh_is_flagged_once_and_shown_with_its_round(walk):
    start = datetime.now(UTC) - timedelta(minutes=40)
    # 500 m in one minute; the round itself lasts 6 of its 10 expected minutes (not too short)
    round_id, visits, _ = await walk.round(start, [(1, 4), (2, 5)], 6)
    assert (await walk.staff.sync()).rejected == 0
    await walk.check()
    await walk.check()  # a second run finds nothing new
    flags = await walk.flags()
    assert kinds(flags) == [("too_fast", visits[1])]
    flag = flags[0]
    assert flag["round_id"] == round_id and flag["staff_id"] == walk.org.ids["staff"] and flag["status"] == "open"
    assert 28 <= flag["score"] <= 32 and flag["unit"] == "km/h" and flag["evidence"]["from_visit"] == visits[0]
    assert flag["about_zh"] and flag["about_en"]
    detail = await ok(await walk.api.get(f"/rounds/{round_id}", headers=walk.site.headers["supervisor"]))
    assert [f["id"] for f in detail["flags"]] == [flag["id"]]
    mine = await ok(await walk.api.get(f"/rounds/{round_id}", headers=walk.site.headers["staff"]))
    assert mine["flags"] == [], "the flags inform whoever judges the work"

    # synced to the property's supervisors, not to the staff member
    supervisor = await device(walk.api, walk.site, "supervisor")
    await settle(walk.db)
    await supervisor.sync()
    assert [r["id"] for r in supervisor.store.records("evidence_flags")] == [flag["id"]]
    await walk.staff.sync()
    assert walk.staff.store.records("evidence_flags") == []


async def test_a_round_far_shorter_than_its_route_and_a_scan_before_the_previous_one(api, db, settings):
    walk = await Walk.make(api, db, settings, positions=False)
    start = datetime.now(UTC) - timedelta(minutes=40)
    # the second stop scanned 30 s after the round started, the first a minute later: 2 of 10 minutes in all
    round_id, visits, _ = await walk.round(start, [(2, 0.5), (1, 1.5)], 2)
    assert (await walk.staff.sync()).rejected == 0
    await walk.check()
    found = kinds(await walk.flags())
    assert ("round_too_short", round_id) in found
    assert ("scan_out_of_order", visits[0]) in found, "the route's second stop was scanned before its first"
    short = next(f for f in await walk.flags(kind="round_too_short"))
    assert short["score"] == 0.2 and short["evidence"]["expected_minutes"] == 10


async def test_a_visit_and_a_photo_outside_the_fence(walk):
    start = datetime.now(UTC) - timedelta(minutes=40)
    _round_id, visits, answers = await walk.round(start, [(1, 1), (2, 12)], 15, where=FAR)
    assert (await walk.staff.sync()).rejected == 0
    at = start + timedelta(minutes=1)
    photo = await walk.photo("check_results", answers[0], with_exif(scene(20), at, FAR), at)
    await walk.check()
    found = kinds(await walk.flags(kind="outside_fence"))
    assert found == sorted([("outside_fence", photo), ("outside_fence", visits[0]), ("outside_fence", visits[1])])
    by_subject = {f["subject_id"]: f for f in await walk.flags()}
    assert by_subject[photo]["evidence"]["source"] == "exif" and by_subject[visits[0]]["evidence"]["source"] == "device"
    assert 4500 <= by_subject[photo]["score"] <= 5000  # metres beyond the fence and its margin


async def test_exif_time_two_hours_off_is_flagged_and_no_exif_time_is_only_noted(walk):
    start = datetime.now(UTC) - timedelta(minutes=40)
    round_id, _visits, answers = await walk.round(start, [(1, 1), (2, 12)], 15)
    assert (await walk.staff.sync()).rejected == 0
    at = start + timedelta(minutes=1)
    off = await walk.photo("check_results", answers[0], with_exif(scene(30), at - timedelta(hours=2)), at)
    bare = await walk.photo("check_results", answers[1], with_exif(scene(31), None), at + timedelta(minutes=11))
    await walk.check()
    flags = await walk.flags()
    assert kinds(flags) == [("time_off", off)]
    late = next(f for f in flags if f["kind"] == "time_off")
    assert late["score"] == 120 and late["evidence"]["minutes_off"] == 120 and late["round_id"] == round_id
    notes = [(f["kind"], f["subject_id"], f["level"]) for f in flags if f["level"] == "note"]
    assert notes == [("no_capture_time", bare, "note")]


async def test_yesterdays_photo_sent_again_for_todays_check(walk):
    today = datetime.now(UTC) - timedelta(minutes=40)
    yesterday = today - timedelta(days=1)
    _, _, first = await walk.round(yesterday, [(1, 1), (2, 12)], 15)
    assert (await walk.staff.sync()).rejected == 0
    at = yesterday + timedelta(minutes=1)
    original = with_exif(scene(40), at)
    old = await walk.photo("check_results", first[0], original, at)
    await walk.check()
    assert kinds(await walk.flags()) == []

    round_id, _, second = await walk.round(today, [(1, 1), (2, 12)], 15)
    assert (await walk.staff.sync()).rejected == 0
    # today: a screenshot of yesterday's photo (no EXIF: the time check cannot see it), and a fresh photo
    at = today + timedelta(minutes=1)
    reused = await walk.photo("check_results", second[0], screenshot(original), at)
    fresh = await walk.photo("check_results", second[1], with_exif(scene(41), at), at)
    await walk.check()
    flags = await walk.flags()
    assert kinds(flags) == [("reused_photo", reused)]
    flag = next(f for f in flags if f["kind"] == "reused_photo")
    assert flag["evidence"]["photo_id"] == old and flag["evidence"]["record_id"] == first[0]
    assert flag["round_id"] == round_id and fresh not in {f["subject_id"] for f in flags}


async def test_a_copy_whose_bytes_arrive_before_the_originals_is_still_the_one_flagged(walk):
    start = datetime.now(UTC) - timedelta(minutes=40)
    _, _, answers = await walk.round(start, [(1, 1), (2, 12)], 15)
    assert (await walk.staff.sync()).rejected == 0
    at = start + timedelta(minutes=1)
    original = with_exif(scene(60), at)
    first = walk.staff.store.create(
        "photos",
        {
            "property_id": walk.org.property_id,
            "record_table": "check_results",
            "record_id": answers[0],
            "uploaded_by": walk.org.ids["staff"],
            "purpose": "evidence",
            "taken_at": ms(at),
        },
    )
    assert (await walk.staff.sync()).rejected == 0  # its row first; its bytes later
    copy = await walk.photo("check_results", answers[1], screenshot(original), at + timedelta(minutes=11))
    await walk.check()
    assert kinds(await walk.flags()) == []
    assert (await walk.phone.upload(first, original)).status_code == 204
    await walk.check()
    flags = await walk.flags()
    assert kinds(flags) == [("reused_photo", copy)]
    assert next(f for f in flags if f["level"] == "flag")["evidence"]["photo_id"] == first


async def test_an_after_photo_equal_to_the_before_photo_and_its_dismissal(walk):
    api, db, site, org = walk.api, walk.db, walk.site, walk.org
    start = datetime.now(UTC) - timedelta(minutes=40)
    _round_id, _, answers = await walk.round(start, [(1, 1), (2, 12)], 15, fail_first=True)
    failed = answers[0]
    at = start + timedelta(minutes=1)
    wet = scene(50)
    before = walk.staff.store.create(  # the failed item needs its photo in the same push
        "photos",
        {
            "property_id": org.property_id,
            "record_table": "check_results",
            "record_id": failed,
            "uploaded_by": org.ids["staff"],
            "purpose": "before",
            "taken_at": ms(at),
        },
    )
    assert (await walk.staff.sync()).rejected == 0  # the before-photo's bytes stay on the phone for now
    await settle(db)
    await walk.staff.sync()
    order_id = walk.staff.store.records("rectification_orders")[0]["id"]

    # the fixer sends the same picture back, a little smaller and softer, as the after-photo
    fixer = await device(api, site, "fixer")
    await fixer.sync()
    fixer_phone = Phone(api, org, "fixer", site.headers["fixer"], fixer, db)
    now = datetime.now(UTC)
    after = fixer.store.create(
        "photos",
        {
            "property_id": org.property_id,
            "record_table": "rectification_orders",
            "record_id": order_id,
            "uploaded_by": site.fixer,
            "purpose": "after",
            "taken_at": ms(now),
        },
    )
    fixer.store.update("rectification_orders", order_id, {"status": "submitted", "resolution_note": "已拖干 mopped"})
    assert (await fixer.sync()).rejected == 0
    copy = wet.resize((wet.width * 3 // 4, wet.height * 3 // 4)).filter(ImageFilter.SMOOTH)
    assert (await fixer_phone.upload(after, with_exif(copy, now))).status_code == 204
    await walk.check()
    assert kinds(await walk.flags()) == [], "the after-photo waits for its before-photo's bytes"
    waiting = await db.fetchval("SELECT not_before FROM evidence_todo WHERE id = $1", after)
    assert waiting is not None
    assert (await walk.phone.upload(before, with_exif(wet, at))).status_code == 204
    await walk.check(now=waiting)  # when the after-photo's turn comes again
    await walk.check(now=waiting)
    flags = await walk.flags()
    assert kinds(flags) == [("after_same_as_before", after)], "flagged once, not also as a reused photo"
    flag = flags[0]
    assert flag["order_id"] == order_id and flag["evidence"]["photo_id"] == before and flag["staff_id"] == site.fixer

    supervisor = site.headers["supervisor"]
    order = await ok(await api.get(f"/orders/{order_id}", headers=supervisor))
    assert [f["id"] for f in order["flags"]] == [flag["id"]]
    assert (await ok(await api.get(f"/orders/{order_id}", headers=site.headers["fixer"])))["flags"] == []
    queue = await ok(await api.get(f"/properties/{org.property_id}/review-queue", headers=supervisor))
    assert [f["id"] for f in queue["items"][0]["order"]["flags"]] == [flag["id"]]

    # dismissed by a supervisor with a reason: audited, kept dismissed through retries and re-checks
    for blank in ("", "   "):
        refused = await api.post(f"/evidence-flags/{flag['id']}/dismiss", headers=supervisor, json={"reason": blank})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason", refused.text
    staff_try = await api.post(
        f"/evidence-flags/{flag['id']}/dismiss", headers=site.headers["fixer"], json={"reason": "mine"}
    )
    assert staff_try.status_code == 403
    reason = "同一角度复拍，地面已干 same angle on purpose, the floor is dry"
    dismissed = await ok(
        await api.post(f"/evidence-flags/{flag['id']}/dismiss", headers=supervisor, json={"reason": reason})
    )
    assert dismissed["status"] == "dismissed" and dismissed["dismiss_reason"] == reason
    assert dismissed["dismissed_by"] == org.ids["supervisor"]
    again = await ok(
        await api.post(f"/evidence-flags/{flag['id']}/dismiss", headers=supervisor, json={"reason": "other"})
    )
    assert again["dismiss_reason"] == reason and again["dismissed_at"] == dismissed["dismissed_at"]
    await db.execute(  # every check runs again
        """INSERT INTO evidence_todo (org_id, subject, id) SELECT org_id, 'photo', id FROM photos WHERE org_id = $1
           UNION ALL SELECT org_id, 'round', id FROM rounds WHERE org_id = $1""",
        org.org_id,
    )
    await walk.check()
    flags = await walk.flags()
    assert [(f["id"], f["status"]) for f in flags if f["level"] == "flag"] == [(flag["id"], "dismissed")]
    assert [f["id"] for f in await walk.flags(status="open") if f["level"] == "flag"] == []
    trail = await ok(
        await api.get(
            "/audit", headers=site.headers["admin"], params={"entity": "evidence_flag", "entity_id": flag["id"]}
        )
    )
    assert [(e["action"], e["actor_id"], e["after"]["reason"]) for e in trail["items"]] == [
        ("evidence_flag.dismiss", org.ids["supervisor"], reason)
    ]


async def test_another_propertys_flag_is_not_found(walk):
    start = datetime.now(UTC) - timedelta(minutes=40)
    await walk.round(start, [(1, 4), (2, 5)], 6)
    assert (await walk.staff.sync()).rejected == 0
    await walk.check()
    flag = (await walk.flags())[0]
    other = await build_org(walk.db, "ev2")
    other_site = await set_up(walk.api, other)
    headers = other_site.headers["supervisor"]
    answer = await walk.api.post(f"/evidence-flags/{flag['id']}/dismiss", headers=headers, json={"reason": "x"})
    assert answer.status_code == 404 and answer.json()["code"]
    listed = await walk.api.get(f"/properties/{walk.org.property_id}/evidence-flags", headers=headers)
    assert listed.status_code == 404
    supervisor = walk.site.headers["supervisor"]
    for query in ({"kind": "x"}, {"status": "gone"}, {"since": "yesterday"}, {"cursor": "garbage"}, {"limit": "0"}):
        bad = await walk.api.get(f"/properties/{walk.org.property_id}/evidence-flags", headers=supervisor, params=query)
        assert bad.status_code == 400 and bad.json()["code"], (query, bad.text)
    unknown = await walk.api.post("/evidence-flags/nope/dismiss", headers=supervisor, json={"reason": "x"})
    assert unknown.status_code == 404
    too_long = await walk.api.post(
        f"/evidence-flags/{flag['id']}/dismiss", headers=supervisor, json={"reason": "x" * 2001}
    )
    assert too_long.status_code == 422
    not_json = await walk.api.post(
        f"/evidence-flags/{flag['id']}/dismiss",
        headers={**supervisor, "Content-Type": "application/json"},
        content=b"{",
    )
    assert not_json.status_code == 400
    assert (await walk.flags())[0]["status"] == "open", "nothing changed"
