"""A domain plugs in through one object. A test-only plug-in declares a schedule kind (its payload, its check,
what an occurrence makes) and a notification kind; nothing in core/ or the adapters changes, and:
the API takes the kind (its payload checked), the worker makes its occurrences, webhooks may subscribe to its
notifications. Plug-ins that do not fit fail when the registry is built, naming every problem."""

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from api.app import create_app
from bootstrap.domains import registry
from core.clock import FixedClock
from core.deadlines import STEP_KINDS, Deadline, DeadlineKind
from core.errors import FieldError, Invalid
from core.jobs import JobContext, Periodic
from core.notifications.kinds import NotificationKind
from core.notifications.service import notify
from core.schedules.kinds import Making, ScheduleKind
from core.schedules.models import Made, Schedule
from core.settings import Settings
from core.structs import Struct
from sync.plugins import Plugin, PluginError
from tests.conftest import serve
from tests.inspection_world import ok
from tests.integration.test_worker import run_job
from tests.names import PUBLIC, Hosts
from tests.world import build_org, login
from workers.settings import create_worker

NOW = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai


class Checkup(Struct):
    """The test kind's payload: what to look at."""

    boiler: str


async def check_checkup(conn: asyncpg.Connection, org_id: str, property_id: str, payload: Checkup) -> None:
    if payload.boiler == "condemned":
        raise Invalid("the checkup is not valid", [FieldError(field="payload.boiler", message="condemned")])


async def make_checkup(conn: asyncpg.Connection, schedule: Schedule, made: Made, making: Making) -> None:
    payload = msgspec.convert(schedule.payload, Checkup)
    await notify(
        conn,
        org_id=schedule.org_id,
        dedupe_key=f"checkup:{made.key(schedule.id)}",
        kind="boiler.checkup",
        recipients=[schedule.created_by] if schedule.created_by else [],
        title_zh=f"锅炉检查：{payload.boiler}",
        title_en=f"Boiler checkup: {payload.boiler}",
        property_id=schedule.property_id,
        data={"boiler": payload.boiler, "starts_at": made.starts_at.isoformat(), "made_at": making.now.isoformat()},
    )


CHECKUP = ScheduleKind(
    name="boiler_checkup",
    summary="each occurrence tells the admin which boiler to check",
    make=make_checkup,
    payload=Checkup,
    payload_required=True,
    payload_hint="give the boiler",
    check=check_checkup,
)
BOILERS = Plugin(
    name="boilers",
    schedule_kinds=(CHECKUP,),
    notification_kinds=(NotificationKind(name="boiler.checkup", about_zh="锅炉检查", about_en="a boiler checkup"),),
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


async def test_a_plugged_in_schedule_kind_is_taken_by_the_api_and_made_by_the_worker(db, settings, clock):
    plugins = registry(extra=[BOILERS])
    org = await build_org(db, "plug")
    hosts = Hosts({"ops.example.com": [PUBLIC]})
    async with serve(create_app(settings, clock=clock, resolve=hosts, registry=plugins)) as api:
        admin = await login(api, org, "admin")
        url = f"/properties/{org.property_id}/schedules"
        body = {"kind": "boiler_checkup", "name": "daily boiler", "rrule": "FREQ=DAILY", "duration_minutes": 30}
        start = {"dtstart_local": "2027-03-01T09:00:00"}
        missing = await api.post(url, headers=admin, json={**body, **start})
        assert missing.status_code == 422, missing.text
        assert [(e["field"], e["message"]) for e in missing.json()["errors"]] == [("payload", "give the boiler")]
        condemned = await api.post(url, headers=admin, json={**body, **start, "payload": {"boiler": "condemned"}})
        assert condemned.status_code == 422 and condemned.json()["errors"][0]["field"] == "payload.boiler"
        made = await api.post(url, headers=admin, json={**body, **start, "payload": {"boiler": "B2"}})
        schedule = await ok(made, 201)
        assert (schedule["kind"], schedule["payload"]) == ("boiler_checkup", {"boiler": "B2"})
        # the OpenAPI document offers the kind and its payload's shape
        schemas = (await ok(await api.get("/schema/openapi.json")))["components"]["schemas"]
        create = schemas["ScheduleCreate"]
        assert "boiler_checkup" in create["properties"]["kind"]["enum"]
        assert "boiler" in str(create["properties"]["payload"])
        # webhooks may subscribe to its notifications; the list of kinds has them
        kinds = await ok(await api.get("/notifications/kinds", headers=admin))
        assert {"name": "boiler.checkup", "about_zh": "锅炉检查", "about_en": "a boiler checkup"} in kinds
        hook = {"url": "https://ops.example.com/hooks", "kinds": ["boiler.checkup"]}
        await ok(await api.post("/webhooks", headers=admin, json=hook), 201)

    # the worker, with the same plug-ins, makes today's occurrence an hour before it starts
    clock.at = NOW + timedelta(minutes=5)
    await run_job(settings, "materialise_schedules", clock, registry=plugins)
    rows = await db.fetch("SELECT kind, title_en, data FROM notifications WHERE kind = 'boiler.checkup'")
    assert len(rows) > 0 and {r["title_en"] for r in rows} == {"Boiler checkup: B2"}
    first = min(r["data"]["starts_at"] for r in rows)
    assert first == "2027-03-01T01:00:00+00:00"  # 09:00 in Shanghai
    # a tick run again makes nothing twice
    before = len(rows)
    await run_job(settings, "materialise_schedules", clock, registry=plugins)
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'boiler.checkup'") == before


async def test_without_the_plug_in_its_kind_is_refused_and_its_schedules_are_left_alone(db, settings, clock, api):
    org = await build_org(db, "unplug")
    admin = await login(api, org, "admin")
    url = f"/properties/{org.property_id}/schedules"
    body = {"kind": "boiler_checkup", "name": "b", "rrule": "FREQ=DAILY", "duration_minutes": 30}
    refused = await api.post(url, headers=admin, json={**body, "dtstart_local": "2027-03-01T09:00:00"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "kind", "message": "Invalid enum value 'boiler_checkup'", "source": "body"}
    ]
    unknown = await api.post("/webhooks", headers=admin, json={"url": "https://ops.example.com/h", "kinds": ["boilr"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "kinds[0]"


def test_plug_ins_that_do_not_fit_fail_when_the_registry_is_built_naming_each_problem():
    unchecked = msgspec.structs.replace(CHECKUP, name="unchecked", check=None)
    untitled = msgspec.structs.replace(CHECKUP, name="untitled", title_en="Checkup {boiler}")
    twice = Plugin(name="twice", schedule_kinds=(unchecked, untitled, CHECKUP))
    with pytest.raises(PluginError) as raised:
        registry(extra=[BOILERS, twice])
    message = str(raised.value)
    assert "'unchecked': it takes a payload but has no check" in message
    assert "'untitled': its title 'Checkup {boiler}' may use only {name} and {date}" in message
    assert "schedule kind 'boiler_checkup' is declared twice" in message
    with pytest.raises(PluginError, match="plug-in 'boilers' is registered twice"):
        registry(extra=[BOILERS, BOILERS])

    async def nothing(job: JobContext) -> None:
        return None

    kernel_named = Plugin(name="sweeper", jobs=(Periodic(name="prune_sync", run=nothing),))
    with pytest.raises(ValueError, match="plug-in jobs named as the kernel's: prune_sync"):
        create_worker(Settings(), registry=registry(extra=[kernel_named]))
    rounds = registry().catalog.by_name["rounds"]
    with pytest.raises(PluginError, match="synced table 'rounds' is declared twice"):
        registry(extra=[Plugin(name="copycat", tables=(rounds,))])


async def no_deadlines(conn: asyncpg.Connection, horizon: datetime) -> list[Deadline]:
    return []


def test_a_deadline_kind_brings_its_four_notification_kinds_and_is_checked():
    texts = {step: ("锅炉：{d}", f"Boiler {step}: {{d}}") for step in STEP_KINDS}
    boiler = DeadlineKind(name="boiler", about_zh="锅炉", about_en="a boiler", texts=texts, due_by=no_deadlines)
    plugins = registry(extra=[Plugin(name="boilers", deadlines=(boiler,))])
    assert plugins.deadline_kinds["boiler"] is boiler
    assert {f"boiler.{step}" for step in STEP_KINDS} <= set(plugins.notification_kinds)
    assert plugins.notification_kinds["rectification.overdue"].about_en == "a rectification order is overdue"
    sloppy = msgspec.structs.replace(boiler, name="sloppy", texts={**texts, "overdue": ("{x}", "{d}")})
    sloppy = msgspec.structs.replace(sloppy, texts={k: v for k, v in sloppy.texts.items() if k != "remind"})
    clash = Plugin(name="clash", notification_kinds=(NotificationKind(name="boiler.remind", about_zh="", about_en=""),))
    with pytest.raises(PluginError) as raised:
        registry(extra=[Plugin(name="boilers", deadlines=(boiler, sloppy)), clash])
    message = str(raised.value)
    assert "deadline kind 'sloppy': it has no titles for remind" in message
    assert "deadline kind 'sloppy': its title '{x}' may use only {d}" in message
    assert "notification kind 'boiler.remind' is declared twice" in message


def test_every_kind_the_code_notifies_is_declared_by_a_plug_in():
    """A kind sent but not declared could not be subscribed to. The kinds in the code: literals given to notify(),
    the tables of kinds the meetings build theirs from, and the kinds of every deadline kind."""
    import ast
    from pathlib import Path

    from meetings.service import NOTICES

    def given_to_notify(path: Path) -> set[str]:
        """The literal `kind=` of every notify(...) call in a module (a flag's or a table's kind= is not one)."""
        return {
            keyword.value.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")) == "notify"
            for keyword in node.keywords
            if keyword.arg == "kind"
            and isinstance(keyword.value, ast.Constant)
            and isinstance(keyword.value.value, str)
        }

    root = Path(__file__).resolve().parents[2]
    literals = {
        kind
        for package in ("core", "sync", "inspections", "surveys", "meetings")
        for path in (root / package).rglob("*.py")
        for kind in given_to_notify(path)
    }
    chased = {f"{kind}.{step}" for kind in registry().deadline_kinds for step in STEP_KINDS}
    sent = literals | chased | set(NOTICES)
    assert {"round.missed", "survey_reminder", "meeting.notice", "rectification.overdue"} <= sent
    assert sent - set(registry().notification_kinds) == set()


async def test_a_plug_in_s_deadlines_are_chased_by_the_kernel_on_its_own_reminders(db, settings):
    """A test-only deadline kind: the kernel's chase_deadlines asks it what is due by now + its one-hour reminder,
    and sends its steps to the person named (nobody named: the property's supervisors)."""
    org = await build_org(db, "bdl")
    due = NOW + timedelta(hours=4)
    boilers = [
        Deadline(
            org_id=org.org_id,
            property_id=org.property_id,
            record_table="boilers",
            record_id=boiler,
            key=f"boiler:{boiler}:service",
            due_at=due,
            responsible_ids=responsible,
            summary=f"锅炉 {boiler}",
        )
        for boiler, responsible in (("b1", (org.ids["staff"],)), ("b2", ()))
    ]
    horizons = []

    async def boilers_due_by(conn: asyncpg.Connection, horizon: datetime) -> list[Deadline]:
        horizons.append(horizon)
        return [b for b in boilers if b.due_at <= horizon]

    texts = {step: (f"锅炉{step}：{{d}}", f"Boiler {step}: {{d}}") for step in STEP_KINDS}
    kind = DeadlineKind(
        name="boiler", about_zh="锅炉", about_en="a boiler", texts=texts, due_by=boilers_due_by, reminder_hours=(1,)
    )
    plugins = registry(extra=[Plugin(name="boilers", deadlines=(kind,))])
    for hours in (-2, -0.5, -0.25):
        await run_job(settings, "chase_deadlines", FixedClock(due + timedelta(hours=hours)), registry=plugins)
    assert horizons[0] == due - timedelta(hours=1), "asked up to now + the kind's longest reminder"
    rows = await db.fetch(
        """SELECT n.dedupe_key, n.kind, n.title_en, array_agg(substr(d.channel, 7)) AS recipients
           FROM notifications n JOIN notification_deliveries d ON d.org_id = n.org_id AND d.notification_id = n.id
           WHERE n.kind LIKE 'boiler.%' GROUP BY n.org_id, n.id ORDER BY n.record_id"""
    )
    stamp = int(due.timestamp())
    assert [(r["dedupe_key"], r["kind"], r["title_en"], r["recipients"]) for r in rows] == [
        (f"boiler:b1:service:remind-1h:{stamp}", "boiler.remind", "Boiler remind: 锅炉 b1", [org.ids["staff"]]),
        (f"boiler:b2:service:remind-1h:{stamp}", "boiler.remind", "Boiler remind: 锅炉 b2", [org.ids["supervisor"]]),
    ]
