"""The console's board: a property's day as it stands (its rounds by standing, its orders by deadline, the
service desk's tickets waiting when the desk is there), refreshed by static/board.js without a reload; and the
lists behind its figures (the day's rounds of a standing, the orders of a KPI figure). The figures come from the
domains' use cases; the desk and the inspections meet here, never in each other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.deps import AppServices, Conn
from api.pages.console import console_page, property_home, property_in_view
from api.pages.flag_words import asks_for_a_look
from api.pages.formats import when
from api.pages.render import page
from api.pages.session import Manager
from bootstrap.services import Services
from core.access import Caller
from inspections import board
from inspections.evidence import flags
from servicedesk import tickets

# how often the board's figures are read again in the browser (seconds); a test may ask for less
REFRESH_SECONDS = 45
REFRESH_RANGE = (1, 300)
ORDERS_SHOWN = 15
TICKETS_SHOWN = 10

Text = Annotated[str | None, QueryParameter(required=False)]
Day = Annotated[str | None, QueryParameter(name="from", required=False)]


def _refresh(value: str | None) -> int:
    low, high = REFRESH_RANGE
    return min(max(int(value), low), high) if value and value.isdigit() else REFRESH_SECONDS


async def board_figures(
    request: Request[Any, Any, Any], conn: Any, services: Services, manager: Caller, property_id: str, zone: str
) -> dict[str, Any]:
    """What the board shows: today's rounds by standing, the orders not verified by deadline, the tickets waiting
    to be accepted (None without the service desk), and when they were read."""
    now = services.clock.now()
    rounds = await board.property_rounds(conn, manager, property_id, None, None, now, shown="late", limit=20)
    orders = await board.open_orders(conn, manager, property_id, now, limit=ORDERS_SHOWN)
    waiting = None
    if services.registry.has("servicedesk"):
        waiting = await tickets.property_tickets(
            conn, manager, property_id, {"status": "received"}, None, TICKETS_SHOWN
        )
    return {
        "rounds": rounds,
        "orders": orders,
        "waiting": waiting,
        "read_at": when(request, now, zone),
        "day": rounds.period.from_.isoformat(),
        "when": lambda moment: when(request, moment, zone),
        "window": window(request, zone, today=True),
    }


def window(request: Request[Any, Any, Any], zone: str, *, today: bool = False) -> Callable[..., str]:
    """A round's window as the page writes it: its start (only the time, on the board of `today`), and its end's
    time when it ends the same local day."""
    there = ZoneInfo(zone)

    def written(start: datetime | None, end: datetime | None) -> str:
        if start is None or end is None:
            return when(request, start or end, zone)
        first = f"{start.astimezone(there):%H:%M}" if today else when(request, start, zone)
        same_day = start.astimezone(there).date() == end.astimezone(there).date()
        return f"{first}–{end.astimezone(there):%H:%M}" if same_day else f"{first} – {when(request, end, zone)}"

    return written


class ConsoleBoardPages(Controller):
    path = "/console/properties/{property_id:str}"
    include_in_schema = False

    @get("/")
    async def board(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        part: Text = None,
        refresh: Text = None,
    ) -> Template:
        """The property's home in the console; `?part=figures` answers the figures alone (what board.js swaps in)."""
        prop = await property_in_view(conn, manager, property_id)
        context = await board_figures(request, conn, services, manager, property_id, prop.timezone)
        context |= {"prop": prop, "base": property_home(prop.id), "refresh": _refresh(refresh)}
        if part == "figures":
            return page(request, "console/board_figures.html", context)
        return console_page(request, services, manager, "console/board.html", context, section="board", prop=prop)

    @get("/rounds")
    async def rounds(
        self,
        request: Request[Any, Any, Any],
        property_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        from_: Day = None,
        to: Text = None,
        status: Text = None,
    ) -> Template:
        """The rounds of a period (default: today) of one standing, or `due` (a KPI's), or all."""

        async def find(now: datetime) -> board.RoundList:
            return await board.property_rounds(conn, manager, property_id, from_, to, now, shown=status or "all")

        async def flagged(found: board.RoundList) -> dict[str, Any]:
            """Each round's open evidence flags (notes not counted), by round id."""
            shown = await flags.shown_with(conn, manager, round_ids=[r.id for r in found.rounds])
            return {"flags": Counter(f.round_id for f in shown if asks_for_a_look(f))}

        where = ("board", "console/board_rounds.html", "console.board.rounds.title")
        return await records_page(request, services, manager, conn, property_id, where, find, flagged)


async def records_page(
    request: Request[Any, Any, Any],
    services: Services,
    manager: Caller,
    conn: Any,
    property_id: str,
    where: tuple[str, str, str],
    find: Callable[[datetime], Awaitable[Any]],
    around: Callable[[Any], Awaitable[dict[str, Any]]] | None = None,
) -> Template:
    """A list of the records behind a figure: `where` is (section, template, heading); `find(now)` reads them
    (the template gets them as `found`), `around(found)` what else the template shows beside them."""
    prop = await property_in_view(conn, manager, property_id)
    found = await find(services.clock.now())
    context = {
        **(await around(found) if around else {}),
        "found": found,
        "base": property_home(prop.id),
        "when": lambda m: when(request, m, prop.timezone),
        "window": window(request, prop.timezone),
    }
    section, name, heading = where
    return console_page(request, services, manager, name, context, section=section, prop=prop, heading=heading)
