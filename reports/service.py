"""Property reports: asking for one (the API and the console), reading its state, its figures and its PDF, and
making it (the worker's make_report job). The PDF's bytes live in the app's store (services.store) beside the
photos and the meetings' files, under `<org>/reports/<report id>.pdf`; the reports table holds the state, the
progress and the figures the PDF was made from."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import datetime

import asyncpg
import msgspec

from core.access import Caller, supervised_zone
from core.clock import Clock
from core.db import acquire
from core.errors import DomainError, NotFound
from core.ids import new_id
from core.outages import outage_in
from core.places import repository as places_sql
from core.structs import Frozen
from reports import repository as sql
from reports.figures import PropertyReport, gather_report, step_count
from reports.pdf import render_pdf
from reports.periods import ReportPeriod, parse_period, recent_periods, require_started
from sync.photos.storage import BlobStore

log = logging.getLogger("fieldwork.reports")

JOB = "make_report"  # the worker's job (workers/jobs/reports.py)
MEDIA_TYPE = "application/pdf"
# the worker's own steps after the figures: drawing the PDF, storing it
OWN_STEPS = 2


def job_id(org_id: str, report_id: str) -> str:
    return f"report:{org_id}:{report_id}"


class ReportStatus(Frozen, frozen=True):
    """A report's state: queued, running (step `progress` of `total`), done (the PDF is there) or failed
    (`error` says why; ask again to make a new one)."""

    id: str
    property_id: str
    period: str
    version: int
    status: str
    progress: int
    total: int
    error: str | None
    size_bytes: int | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Asked(Frozen, frozen=True):
    """What a request found or made; `queue` says the caller should put the job in the queue (a new report, or
    one still waiting: the queue drops a job id it holds already)."""

    report: ReportStatus
    queue: bool


def status_of(row: asyncpg.Record) -> ReportStatus:
    return msgspec.convert({name: row[name] for name in ReportStatus.__struct_fields__}, ReportStatus)


async def _period_of(
    conn: asyncpg.Connection, caller: Caller, property_id: str, label: str, now: datetime
) -> ReportPeriod:
    """The period, once the caller is found to supervise the property: a bad label is refused (Invalid), and so is
    a period that has not begun in the property's zone."""
    zone = await supervised_zone(conn, caller, property_id)
    period = parse_period(label)
    require_started(period, zone, now)
    return period


async def ask(
    conn: asyncpg.Connection,
    caller: Caller,
    property_id: str,
    label: str,
    now: datetime,
    domains: Collection[str],
    *,
    again: bool = False,
) -> Asked:
    """The report of `label` (a month 2026-10 or a quarter 2026-Q4): the newest one asked for, unless it failed
    or `again` (regenerate), when a new version is queued. For the property's supervisors and admins."""
    period = await _period_of(conn, caller, property_id, label, now)
    found = await sql.latest(conn, caller.org_id, property_id, period.label)
    if found is not None and found["status"] != "failed" and not again:
        return Asked(report=status_of(found), queue=found["status"] == "queued")
    if found is not None and again and found["status"] in ("queued", "running"):
        return Asked(report=status_of(found), queue=found["status"] == "queued")  # one is on its way already
    row = await sql.insert(
        conn, caller.org_id, new_id(), property_id, period.label, step_count(domains) + OWN_STEPS, caller.user_id, now
    )
    return Asked(report=status_of(row), queue=True)


async def look(
    conn: asyncpg.Connection, caller: Caller, property_id: str, label: str, now: datetime
) -> ReportStatus | None:
    """The newest report of `label` asked for, None if none was."""
    period = await _period_of(conn, caller, property_id, label, now)
    found = await sql.latest(conn, caller.org_id, property_id, period.label)
    return None if found is None else status_of(found)


async def recent(
    conn: asyncpg.Connection, caller: Caller, property_id: str, now: datetime
) -> list[tuple[str, ReportStatus | None]]:
    """The periods a console offers (this month so far, the months and quarters before) and any other asked for
    lately, each with its newest report if one was asked for; newest period first."""
    zone = await supervised_zone(conn, caller, property_id)
    offered = recent_periods(zone, now)
    rows = {r["period"]: status_of(r) for r in await sql.recent(conn, caller.org_id, property_id, offered, now)}
    labels = list(dict.fromkeys([*offered, *sorted(rows, reverse=True)]))
    return [(label, rows.get(label)) for label in labels]


def _not_made(label: str) -> NotFound:
    return NotFound(f"the report of {label} is not made yet", entity="report", id=label)


async def figures(conn: asyncpg.Connection, caller: Caller, report: ReportStatus) -> PropertyReport:
    """The figures a finished report was made from."""
    text = await sql.figures_json(conn, caller.org_id, report.id) if report.status == "done" else None
    if text is None:
        raise _not_made(report.period)
    return msgspec.json.decode(text, type=PropertyReport)


async def pdf_bytes(conn: asyncpg.Connection, caller: Caller, store: BlobStore, report: ReportStatus) -> bytes:
    row = await sql.by_id(conn, caller.org_id, report.id)
    if row is None or row["store_key"] is None:
        raise _not_made(report.period)
    return await store.read(row["store_key"])


def filename(property_name: str, label: str) -> str:
    return f"{property_name}-{label}-report.pdf"


async def property_name(conn: asyncpg.Connection, org_id: str, property_id: str) -> str:
    prop = await places_sql.get_property(conn, org_id, property_id)
    return str(prop["name"]) if prop else property_id


# The job


async def _caller(conn: asyncpg.Connection, org_id: str, user_id: str) -> Caller:
    """The report is made as the person who asked for it sees the property now (a supervisor taken off it since
    gets a failed report, not another property's figures)."""
    role = await sql.requester_role(conn, org_id, user_id)
    if role is None:
        raise NotFound("the person who asked for the report is no longer active", entity="user", id=user_id)
    return Caller(org_id=org_id, user_id=user_id, role=role, session_id="report-job")


async def make(
    pool: asyncpg.Pool, store: BlobStore, clock: Clock, domains: Collection[str], org_id: str, report_id: str
) -> str:
    """Make a queued report: its figures in one snapshot (a read-only repeatable-read transaction), the progress
    written after each step on another connection (so the console sees it), the PDF drawn in a thread and stored.
    A refusal (the period or the property gone, the person's access withdrawn) fails the report with its reason;
    any other error too, then goes up to the worker (which may try again)."""
    async with acquire(pool) as conn:
        row = await sql.start(conn, org_id, report_id, clock.now())
    if row is None:
        return "skipped"  # done or failed meanwhile (a regeneration makes a new row)
    done = 0

    async def step(_: str) -> None:
        nonlocal done
        done += 1
        async with acquire(pool) as progress:
            await sql.advance(progress, org_id, report_id, done)

    try:
        async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            caller = await _caller(conn, org_id, row["requested_by"])
            report = await gather_report(
                conn, caller, row["property_id"], parse_period(row["period"]), clock.now(), domains, step
            )
        pdf = await asyncio.to_thread(render_pdf, report)
        await step("pdf")
        key = f"{org_id}/reports/{report_id}.pdf"
        await store.put_bytes(key, pdf, MEDIA_TYPE)
        async with acquire(pool) as conn:
            await sql.finish(conn, org_id, report_id, key, len(pdf), msgspec.json.encode(report).decode(), clock.now())
    except DomainError as exc:
        log.info("report %s of %s failed: %s", report_id, row["period"], exc.detail)
        async with acquire(pool) as conn:
            await sql.fail(conn, org_id, report_id, exc.detail, clock.now())
        return "failed"
    except Exception as exc:
        if outage_in(exc) is None:  # an outage leaves it running: the worker tries the job again
            async with acquire(pool) as conn:
                await sql.fail(conn, org_id, report_id, f"{type(exc).__name__}: {exc}"[:500], clock.now())
        raise
    return "done"
