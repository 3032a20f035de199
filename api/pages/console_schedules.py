"""The console's schedules of a property: each with its rule in words and a calendar of its next occurrences (six
weeks from this week's Monday, in the property's zone, as core/schedules expands them), created from a form (a
round schedule: checklist, route, who walks it; or a plain announcement) and paused or resumed. Every read and
change is core/schedules/service.py's use case, as api/routes/schedules.py calls it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.console import property_in_view
from api.pages.console_setup import LISTED, same_property, setup_home, setup_page
from api.pages.forms import Refused, attempt, converted, form_text, number
from api.pages.lang import Lang, lang_of
from api.pages.session import Manager
from api.pages.texts import translator
from bootstrap.services import Services
from core.access import Caller
from core.people import service as people
from core.places.models import Property
from core.schedules import service as schedules
from core.schedules.kinds import ScheduleKind
from core.schedules.materialise import CUSTOM
from core.schedules.models import Schedule
from core.schedules.recurrence import zone_of
from core.schedules.schemas import ScheduleBase, create_shape
from core.schedules.words import DAYS, describe
from inspections import setup, templates
from inspections.plugin import ROUNDS

WEEKS = 6
FIELDS = ("kind", "name", "dtstart_local", "freq", "times", "rrule", "duration_minutes", "template_id", "route_id")
# what the form's "repeats" choice writes as a rule (the times of day are added from `times`)
FREQS = {
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
    "custom": "",
}
# the kinds this form makes (a round schedule, with its payload; a reminder); campaigns and meetings have their own
# sections
KINDS = (ROUNDS.name, CUSTOM.name)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@cache
def _shape(kinds: tuple[tuple[str, ScheduleKind], ...]) -> type[ScheduleBase]:
    return create_shape(dict(kinds))


def words(schedule: Schedule, lang: Lang) -> str:
    zh, en = describe(schedule.rrule, schedule.dtstart_local)
    return zh if lang == "zh" else en


def compose_rule(freq: str, times: str, custom: str, lang: Lang) -> str:
    """The rule the form's choices say: a preset, with BYHOUR/BYMINUTE for the times of day typed ("08:00, 14:00",
    which share their minute: a rule's times are every hour × every minute it names); or the rule as written."""
    t = translator(lang)
    if freq not in FREQS:
        raise Refused({"freq": t("console.setup.required")})
    if freq == "custom":
        if not custom.strip():
            raise Refused({"rrule": t("console.setup.required")})
        return custom.strip()
    rule = FREQS[freq]
    given = [piece for piece in re.split(r"[,，、\s]+", times) if piece]
    if given:
        found = [_TIME.match(piece) for piece in given]
        if not all(found):
            raise Refused({"times": t("console.setup.schedule.times.bad")})
        hours = sorted({int(m.group(1)) for m in found if m})
        minutes = {int(m.group(2)) for m in found if m}
        if len(minutes) > 1:
            raise Refused({"times": t("console.setup.schedule.times.minute")})
        rule += f";BYHOUR={','.join(map(str, hours))};BYMINUTE={minutes.pop()}"
    return rule


def calendar_weeks(
    today: date, occurrences: list[tuple[date, str]], weeks: int = WEEKS
) -> list[list[tuple[date, list[str]]]]:
    """Weeks (Monday first) from today's week on, each day with the local start times falling on it."""
    monday = today - timedelta(days=today.weekday())
    by_day: dict[date, list[str]] = {}
    for day, at in occurrences:
        by_day.setdefault(day, []).append(at)
    return [
        [(day, by_day.get(day, [])) for day in (monday + timedelta(days=w * 7 + d) for d in range(7))]
        for w in range(weeks)
    ]


class ConsoleSchedulePages(Controller):
    path = "/console/properties/{property_id:str}/setup/schedules"
    include_in_schema = False

    @get("/")
    async def schedules(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        lang = lang_of(request)
        found = (await schedules.list_schedules(conn, manager, property_id, None, LISTED)).items
        now = services.clock.now()
        rows = []
        for s in found:
            upcoming = await schedules.preview(conn, manager, s.id, 1, now)
            rows.append((s, words(s, lang), upcoming[0].local_start[:16].replace("T", " ") if upcoming else ""))
        context = {"rows": rows, "done": request.query_params.get("done", "")}
        return setup_page(request, services, manager, prop, "setup_schedules.html", context, "console.setup.schedules")

    async def _schedule(
        self, conn: asyncpg.Connection, manager: Caller, property_id: str, schedule_id: str
    ) -> Property:
        prop = await property_in_view(conn, manager, property_id)
        same_property(await schedules.get_schedule(conn, manager, schedule_id), property_id, "schedule")
        return prop

    @get("/{schedule_id:str}")
    async def schedule(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        schedule_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await self._schedule(conn, manager, property_id, schedule_id)
        now = services.clock.now()
        zone = zone_of(prop.timezone)
        today = now.astimezone(zone).date()
        first = today - timedelta(days=today.weekday())
        end = datetime.combine(first + timedelta(weeks=WEEKS), time(), zone)
        schedule, found = await schedules.calendar(conn, manager, schedule_id, now, end)
        local = [o.starts_at.astimezone(zone) for o in found]
        context = {
            "schedule": schedule,
            "rule": words(schedule, lang_of(request)),
            "weeks": calendar_weeks(today, [(at.date(), f"{at:%H:%M}") for at in local]),
            "today": today,
            "count": len(found),
            "until": (end - timedelta(days=1)).date(),
            "payload": schedule.payload,
            "done": request.query_params.get("done", ""),
        }
        return setup_page(request, services, manager, prop, "setup_schedule.html", context, "console.setup.schedule")

    @post("/{schedule_id:str}/pause", status_code=303)
    async def pause(
        self, property_id: FromPath[str], schedule_id: FromPath[str], manager: Manager, conn: Conn
    ) -> Redirect:
        await self._schedule(conn, manager, property_id, schedule_id)
        await schedules.pause(conn, manager, schedule_id)
        return Redirect(f"{setup_home(property_id)}/schedules/{schedule_id}?done=paused", status_code=303)

    @post("/{schedule_id:str}/resume", status_code=303)
    async def resume(
        self,
        property_id: FromPath[str],
        schedule_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Redirect:
        await self._schedule(conn, manager, property_id, schedule_id)
        await schedules.resume(conn, manager, schedule_id, services.clock.now())
        return Redirect(f"{setup_home(property_id)}/schedules/{schedule_id}?done=resumed", status_code=303)

    async def _form(
        self,
        request: Request[Any, Any, Any],
        conn: asyncpg.Connection,
        services: Services,
        manager: Caller,
        prop: Property,
        values: Mapping[str, Any],
        errors: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        found = await templates.list_templates(conn, manager, False, None, LISTED)
        routes = (await setup.list_routes(conn, manager, prop.id, True, None, LISTED)).items
        staff = [p for p in await people.property_staff(conn, manager, prop.id) if p.active]
        context = {
            "kinds": [k for k in KINDS if k in services.registry.schedule_kinds],
            "templates": found.items,
            "routes": routes,
            "staff": staff,
            "values": values,
            "errors": errors or {},
            "days": DAYS,
        }
        return setup_page(
            request, services, manager, prop, "setup_schedule_new.html", context, "console.setup.schedule.new", status
        )

    @get("/new")
    async def new(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        prop = await property_in_view(conn, manager, property_id)
        tomorrow = services.clock.now().astimezone(zone_of(prop.timezone)).date() + timedelta(days=1)
        values: dict[str, Any] = {**dict.fromkeys(FIELDS, ""), "assignee_ids": []}
        values.update(kind=ROUNDS.name, freq="daily", dtstart_local=f"{tomorrow}T08:00", duration_minutes="60")
        return await self._form(request, conn, services, manager, prop, values)

    @post("/", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        prop = await property_in_view(conn, manager, property_id)
        lang = lang_of(request)
        form = await request.form()
        values: dict[str, Any] = form_text(form, FIELDS)
        values["assignee_ids"] = [str(v) for v in form.getall("assignee_ids", [])] if "assignee_ids" in form else []
        kinds = services.registry.schedule_kinds
        try:
            if values["kind"] not in KINDS or values["kind"] not in kinds:
                raise Refused({"kind": translator(lang)("console.setup.required")})
            given: dict[str, Any] = {
                "kind": values["kind"],
                "name": values["name"],
                # a datetime-local input gives no seconds
                "dtstart_local": values["dtstart_local"] + (":00" if len(values["dtstart_local"]) == 16 else ""),
                "rrule": compose_rule(values["freq"], values["times"], values["rrule"], lang),
                "duration_minutes": number(values["duration_minutes"], "duration_minutes", lang),
            }
            if values["kind"] == ROUNDS.name:
                payload = {"template_id": values["template_id"], "assignee_ids": values["assignee_ids"]}
                given["payload"] = {**payload, **({"route_id": values["route_id"]} if values["route_id"] else {})}
            shape = _shape(tuple(sorted(kinds.items())))
            data = converted({k: v for k, v in given.items() if v not in (None, "")}, shape, lang)
            made = await attempt(
                conn,
                lang,
                lambda: schedules.create_schedule(conn, manager, property_id, data, services.clock.now(), kinds=kinds),
            )
        except Refused as refused:
            errors = {_form_field(k): v for k, v in refused.errors.items()}
            return await self._form(request, conn, services, manager, prop, values, errors, refused.status)
        return Redirect(f"{setup_home(property_id)}/schedules/{made.id}?done=added", status_code=303)


def _form_field(field: str) -> str:
    """A payload's field (payload.assignee_ids[0]) as the form's (assignee_ids)."""
    name = field.removeprefix("payload.")
    return name.split("[")[0] if name != "payload" else "assignee_ids"
