"""What a push of inspection work must satisfy beyond sync/tables.py, and what the server adds to it.

Runs once a push is written (sync.push.PushRule), in its transaction, so it sees the push whole: a round
started, walked and completed offline arrives with its visits, results and photos together. A refusal
raises and nothing of the push stays. What the server adds (timing verdicts, outcomes, orders opened by
failed items, missed checkpoints, deadlines) is written as the server's, so it reaches the pushing phone too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import msgspec

from core.access import Caller
from core.clock import Clock
from core.errors import Conflict, FieldError, Forbidden, Invalid
from core.settings import Settings
from inspections import rectification, setup, templates
from inspections.checks import Answer, BadAnswer, expected_times, judge, needs_photo, timing
from inspections.models import Item, Order, Round, TemplateVersion
from inspections.repository import work as sql
from inspections.rounds import missed_visit_id, round_of, unvisited_stops, window_for
from sync.photos import repository as photos_sql
from sync.push import PushRule, Written
from sync.scope import Grants

WORK_TABLES = ("rounds", "checkpoint_visits", "check_results", "rectification_orders")
NOTHING = Written()
T = TypeVar("T")


def _bad(table: str, record_id: str, column: str, message: str) -> Invalid:
    where = f"{table}.{record_id}.{column}"
    return Invalid(f"{where}: {message}", table=table, id=record_id, errors=[FieldError(field=where, message=message)])


async def _named(table: str, record_id: str, rule: Awaitable[T]) -> T:
    """A rule of inspections.setup, its refusal named after the pushed record it is about."""
    try:
        return await rule
    except setup.Refused as refused:
        raise _bad(table, record_id, refused.field, refused.message) from None


def rules(clock: Clock, settings: Settings) -> PushRule:
    async def settle(conn: asyncpg.Connection, caller: Caller, grants: Grants, written: Mapping[str, Written]) -> None:
        if any(written.get(t, NOTHING).created or written.get(t, NOTHING).updated for t in WORK_TABLES):
            await Settlement(conn, caller, written, clock.now()).run()

    return settle


class Settlement:
    """One push's inspection work, checked and completed by the server."""

    def __init__(self, conn: asyncpg.Connection, caller: Caller, written: Mapping[str, Written], now: datetime):
        self.conn, self.caller, self.written, self.now = conn, caller, written, now
        self.org = caller.org_id
        self.rounds: dict[str, Round] = {}
        self.versions: dict[str, TemplateVersion | None] = {}
        self.completed: set[str] = set()

    def _ids(self, table: str) -> list[str]:
        w = self.written.get(table, NOTHING)
        return [*w.created, *w.updated]

    async def run(self) -> None:
        visits = await sql.visits_by_ids(self.conn, self.org, self._ids("checkpoint_visits"))
        results = await sql.results_by_ids(self.conn, self.org, self._ids("check_results"))
        round_ids = {*self._ids("rounds"), *(v["round_id"] for v in visits.values())}
        round_ids |= {r["round_id"] for r in results.values()}
        self.rounds = {
            i: round_of(r) for i, r in (await sql.rounds_by_ids(self.conn, self.org, list(round_ids))).items()
        }
        await self._rounds()
        await self._visits(visits)
        await self._results(results)
        for round_id in sorted(self.completed):
            await self._complete(self.rounds[round_id])
        counted = {v["round_id"] for v in visits.values()} | self.completed
        if counted:
            await sql.count_visits(self.conn, self.org, sorted(counted))
        await self._orders()

    async def _version(self, version_id: str) -> TemplateVersion | None:
        if version_id not in self.versions:
            self.versions[version_id] = await templates.template_version(self.conn, self.org, version_id)
        return self.versions[version_id]

    async def _update_round(self, found: Round, changes: dict[str, Any]) -> None:
        if changes:
            await sql.set_columns(self.conn, "rounds", self.org, found.id, changes)
            values = msgspec.structs.asdict(found) | changes
            self.rounds[found.id] = msgspec.convert(values, Round)

    # --- rounds ---

    async def _rounds(self) -> None:
        w = self.written.get("rounds", NOTHING)
        for round_id in w.created:
            found = self.rounds[round_id]
            if await self._version(found.template_version_id) is None:
                raise _bad("rounds", round_id, "template_version_id", "no such checklist version")
            plan = None
            if found.route_id is not None:
                plan = await _named(
                    "rounds", round_id, setup.route_of_property(self.conn, self.org, found.property_id, found.route_id)
                )
            if found.status == "missed":
                raise _bad("rounds", round_id, "status", "only the server marks a round missed")
            start, end = window_for(plan, found.started_at or self.now)
            changes: dict[str, Any] = {"window_start": start, "window_end": end, "created_by": self.caller.user_id}
            changes["plan"] = None if plan is None else msgspec.to_builtins(plan)
            await self._update_round(found, changes | self._progress(found, moved=True))
        for round_id, before in w.updated.items():
            found = self.rounds[round_id]
            was = before["status"]
            if was != found.status:
                self._check_step(found, was)
            await self._update_round(found, self._progress(found, moved=was != found.status))

    def _progress(self, found: Round, *, moved: bool) -> dict[str, Any]:
        """Times a round that started or finished must have (a device that did not say gets the server's). A
        round that `moved` to completed in this push is checked for completeness once all of it is written."""
        changes: dict[str, Any] = {}
        if found.status in ("in_progress", "completed") and found.started_at is None:
            changes["started_at"] = self.now
        if found.status == "completed":
            if moved:
                self.completed.add(found.id)
            if found.completed_at is None:
                changes["completed_at"] = self.now
        return changes

    def _check_step(self, found: Round, was: str) -> None:
        allowed = {"planned": ("in_progress", "completed"), "in_progress": ("completed",)}
        if found.status in allowed.get(was, ()):
            return
        # a phone that walked the round in time but synced after the worker marked it missed keeps its work
        late_sync = (
            was == "missed"
            and found.status in ("in_progress", "completed")
            and found.started_at is not None
            and found.window_end is not None
            and found.started_at <= found.window_end
        )
        if not late_sync:
            raise Conflict(
                f"rounds.{found.id}: a round cannot go from {was} to {found.status}",
                table="rounds",
                id=found.id,
                state=was,
                wanted=found.status,
            )

    def _my_round(self, table: str, record_id: str, round_id: str, property_id: str) -> Round:
        found = self.rounds.get(round_id)
        if found is None:
            raise _bad(table, record_id, "round_id", "no such round")
        if found.assignee_id != self.caller.user_id:
            raise Forbidden(f"{table}.{record_id}: round {round_id} is not assigned to you", table=table, id=record_id)
        if property_id != found.property_id:
            raise _bad(table, record_id, "property_id", "not the round's property")
        if found.status not in ("in_progress", "completed"):
            raise Conflict(
                f"{table}.{record_id}: round {round_id} is {found.status}; start it first",
                table=table,
                id=record_id,
                state=found.status,
            )
        return found

    # --- visits ---

    async def _visits(self, visits: Mapping[str, asyncpg.Record]) -> None:
        if not visits:
            return
        siblings = await sql.visits_of_rounds(self.conn, self.org, sorted({v["round_id"] for v in visits.values()}))
        for visit in visits.values():
            found = self._my_round("checkpoint_visits", visit["id"], visit["round_id"], visit["property_id"])
            checkpoint = await _named(
                "checkpoint_visits",
                visit["id"],
                setup.checkpoint_of_property(self.conn, self.org, found.property_id, visit["checkpoint_id"]),
            )
            stops = {s.checkpoint_id for s in found.plan.stops} if found.plan else None
            if stops is not None and visit["checkpoint_id"] not in stops:
                raise _bad("checkpoint_visits", visit["id"], "checkpoint_id", "not on this round's route")
            if visit["scanned_tag"] != checkpoint["tag_code"]:
                raise _bad(
                    "checkpoint_visits",
                    visit["id"],
                    "scanned_tag",
                    f"wrong tag: this is not the tag of checkpoint {checkpoint['name']!r} / 扫描的不是该巡更点的标签",
                )
            for other in siblings:
                if other["checkpoint_id"] == visit["checkpoint_id"] and other["round_id"] == found.id:
                    if other["id"] != visit["id"]:
                        raise Conflict(
                            f"checkpoint_visits.{visit['id']}: checkpoint {visit['checkpoint_id']} was already "
                            f"recorded on this round ({other['id']})",
                            table="checkpoint_visits",
                            id=visit["id"],
                        )
            if found.plan is not None and found.started_at is not None:
                expected = expected_times(found.plan, found.started_at)[visit["checkpoint_id"]]
                verdict = timing(expected, visit["scanned_at"], found.plan.tolerance_minutes)
                await sql.set_columns(
                    self.conn, "checkpoint_visits", self.org, visit["id"], {"expected_at": expected, "timing": verdict}
                )

    # --- results ---

    async def _results(self, results: Mapping[str, asyncpg.Record]) -> None:
        if not results:
            return
        round_ids = sorted({r["round_id"] for r in results.values()})
        visits = {v["id"]: v for v in await sql.visits_of_rounds(self.conn, self.org, round_ids)}
        siblings = await sql.results_of_rounds(self.conn, self.org, round_ids)
        photos = await photos_sql.photo_counts(self.conn, self.org, "check_results", list(results))
        for result in results.values():
            rid = result["id"]
            found = self._my_round("check_results", rid, result["round_id"], result["property_id"])
            version = await self._version(found.template_version_id)
            assert version is not None  # checked when the round was made
            item = next((i for i in version.items if i.key == result["item_key"]), None)
            if item is None:
                raise _bad("check_results", rid, "item_key", f"no item {result['item_key']!r} on this checklist")
            checkpoint_id = None
            if found.plan is not None:
                visit = visits.get(result["visit_id"] or "")
                if visit is None or visit["round_id"] != found.id or visit["timing"] == "missed":
                    raise _bad(
                        "check_results", rid, "visit_id", "answer the items at a checkpoint visited on this round"
                    )
                checkpoint_id = visit["checkpoint_id"]
            elif result["visit_id"] is not None:
                raise _bad("check_results", rid, "visit_id", "this round walks no route")
            for other in siblings:
                same = (other["visit_id"], other["item_key"]) == (result["visit_id"], result["item_key"])
                if same and other["round_id"] == found.id and other["id"] != rid:
                    raise Conflict(
                        f"check_results.{rid}: item {item.key} was already answered here ({other['id']})",
                        table="check_results",
                        id=rid,
                    )
            answer = Answer(
                result=result["result"], value_number=result["value_number"], value_text=result["value_text"]
            )
            try:
                outcome = judge(item, answer)
            except BadAnswer as exc:
                raise _bad("check_results", rid, exc.column, str(exc)) from None
            if needs_photo(item, outcome) and not photos.get(rid):
                raise _bad("check_results", rid, "photos", f"item {item.key} needs a photo / 需要拍照")
            await sql.set_columns(
                self.conn,
                "check_results",
                self.org,
                rid,
                {"outcome": outcome, "checkpoint_id": checkpoint_id, "template_version_id": found.template_version_id},
            )
            if outcome == "fail":
                await self._open_finding(found, version, item, result, checkpoint_id)

    async def _open_finding(
        self, found: Round, version: TemplateVersion, item: Item, result: asyncpg.Record, checkpoint_id: str | None
    ) -> None:
        checkpoint = await setup.checkpoint(self.conn, self.org, checkpoint_id) if checkpoint_id else None
        said = [f"{item.label_zh} / {item.label_en}"]
        if result["value_number"] is not None:
            said.append(f"= {result['value_number']:g}")
        elif result["value_text"]:
            said.append(f"= {result['value_text']}")
        if item.standard_zh or item.standard_en:
            said.append(f"({item.standard_zh} / {item.standard_en})")
        if result["note"]:
            said.append(f"— {result['note']}")
        location = f"{checkpoint['name']} {checkpoint['location']}".strip() if checkpoint else version.name_zh
        await rectification.open_order(
            self.conn,
            self.caller,
            {
                "id": rectification.check_order_id(self.org, result["id"]),
                "property_id": found.property_id,
                "source": "check",
                "check_id": result["id"],
                "round_id": found.id,
                "checkpoint_id": checkpoint_id,
                "location": location,
                "category": version.category,
                "description": " ".join(said),
                "severity": item.severity,
                "reported_by": result["checked_by"],
                "status": "open",
                "created_at": result["checked_at"],
            },
            rectify_hours=item.rectify_hours,
        )

    # --- completion ---

    async def _complete(self, found: Round) -> None:
        version = await self._version(found.template_version_id)
        assert version is not None
        visits = await sql.visits_of_rounds(self.conn, self.org, [found.id])
        results = await sql.results_of_rounds(self.conn, self.org, [found.id])
        answered = {(r["visit_id"], r["item_key"]) for r in results}
        required = [i.key for i in version.items if i.required]
        places = [v["id"] for v in visits if v["timing"] != "missed"] if found.plan else [None]
        missing = [(place, key) for place in places for key in required if (place, key) not in answered]
        if missing:
            listed = ", ".join(key if place is None else f"{key}@{place}" for place, key in missing[:20])
            raise _bad("rounds", found.id, "status", f"required items are unanswered: {listed}")
        stops = unvisited_stops(found, {v["checkpoint_id"] for v in visits})
        await sql.insert_missed_visits(
            self.conn,
            self.org,
            [
                (missed_visit_id(found.id, cp), found.property_id, found.id, cp, found.assignee_id, expected)
                for cp, expected in stops
            ],
        )

    # --- orders ---

    async def _orders(self) -> None:
        w = self.written.get("rectification_orders", NOTHING)
        if not (w.created or w.updated):
            return
        rows = await sql.orders_by_ids(self.conn, self.org, [*w.created, *w.updated])
        photos = await photos_sql.photo_counts(self.conn, self.org, "rectification_orders", w.created)
        for order_id in w.created:
            order = rectification.order_of(rows[order_id])
            if order.source != "report":
                raise _bad("rectification_orders", order_id, "source", "a phone reports problems (source 'report')")
            if order.status != "open":
                raise _bad("rectification_orders", order_id, "status", "a reported problem starts open")
            if not photos.get(order_id):
                raise _bad("rectification_orders", order_id, "photos", "report a problem with a photo of it / 请拍照")
            if order.checkpoint_id is not None:
                await _named(
                    "rectification_orders",
                    order_id,
                    setup.checkpoint_of_property(self.conn, self.org, order.property_id, order.checkpoint_id),
                )
            await rectification.open_reported(self.conn, self.caller, order)
        for order_id, before in w.updated.items():
            await self._order_update(rectification.order_of(rows[order_id]), before)

    async def _order_update(self, order: Order, before: dict[str, Any]) -> None:
        actor = await rectification.actor_for(self.conn, self.caller, order.property_id)
        mine = order.responsible_id == self.caller.user_id
        if not (mine or actor.supervises or (order.responsible_id is None and actor.on_site)):
            raise Forbidden(
                f"rectification_orders.{order.id}: this order is not yours to change",
                table="rectification_orders",
                id=order.id,
            )
        if before["status"] == order.status:
            if before["reject_reason"] != order.reject_reason:
                raise _bad("rectification_orders", order.id, "reject_reason", "set only when sending an order back")
            return
        # started and submitted offline: both steps, each checked and audited
        if (before["status"], order.status) == ("open", "submitted"):
            steps: list[rectification.Action] = ["start", "submit"]
        else:
            steps = [rectification.action_between(order.id, before["status"], order.status)]
        was = msgspec.structs.replace(order, status=before["status"], reject_reason=before["reject_reason"])
        for action in steps:
            changes = await rectification.apply_transition(
                self.conn, self.caller, was, action, self.now, reason=order.reject_reason, actor=actor
            )
            was = msgspec.structs.replace(was, **changes)
