"""The real WatermelonDB client syncs with us unchanged.

`tests/e2e/watermelon/device.mjs` runs `@nozbe/watermelondb` (npm, pinned by its package-lock.json) in node with
the LokiJS adapter, the app schema declared from `sync/tables.py`, and the `pullChanges` / `pushChanges` of
WatermelonDB's docs. One node process is one phone for the whole scenario (its database is in memory); the test
drives it a command at a time over stdin/stdout and plays the supervisor through our own helpers in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_sync_protocol import changes, note, pull, push, settle
from tests.world import build_org, login

HERE = Path(__file__).resolve().parent / "watermelon"
NOW_MS = 1_795_000_000_000
BODY = "电梯2号异响 lift 2 rattles"
STEP_TIMEOUT = 60


@pytest.fixture(scope="module")
def watermelon() -> Path:
    """The node project, installed from its lock file the first time (before any server runs)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run the real WatermelonDB client")
    if not (HERE / "node_modules" / "@nozbe" / "watermelondb").is_dir():
        subprocess.run([npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"], check=True, timeout=600, cwd=HERE)
    return HERE / "device.mjs"


class Device:
    """One phone: a node process holding a WatermelonDB database, answering one JSON line per command."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, script: Path, base_url: str, token: str, log: Path):
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                shutil.which("node") or "node",
                str(script),
                base_url,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                cwd=script.parent,
                env={**os.environ, "FIELDWORK_TOKEN": token},
                limit=1 << 24,
            )
            try:
                yield cls(process, log)
            finally:
                if process.returncode is None and process.stdin:
                    with contextlib.suppress(Exception):
                        process.stdin.write(b'{"op": "exit"}\n')
                        await process.stdin.drain()
                        await asyncio.wait_for(process.wait(), 10)
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    async def send(self, op: str, **args) -> None:
        assert self.process.stdin
        self.process.stdin.write((json.dumps({"op": op, **args}) + "\n").encode())
        await self.process.stdin.drain()

    async def answer(self) -> dict:
        assert self.process.stdout
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), STEP_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"the device did not answer within {STEP_TIMEOUT}s\n{self.stderr()}") from None
        assert line, f"the device exited ({self.process.returncode})\n{self.stderr()}"
        return json.loads(line)

    async def ask(self, op: str, **args) -> dict:
        await self.send(op, **args)
        return await self.answer()

    async def sync(self, db, **args) -> dict:
        await settle(db)
        return await self.ask("sync", **args)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def synced(result: dict, device: Device) -> dict:
    """A synchronize() that finished, and that WatermelonDB had nothing to warn about."""
    assert result.get("ok"), f"{result.get('error')}\n{device.stderr()}"
    assert result["console"] == [], result["console"]
    assert result["log"]["phase"] == "done"
    return result


def by_id(records: list[dict]) -> dict[str, dict]:
    return {record["id"]: record for record in records}


async def server_note(api, db, headers, note_id: str) -> dict:
    answer = await pull(api, db, headers)
    return by_id(answer["changes"]["handover_notes"]["created"])[note_id]


async def test_the_watermelondb_client_syncs_unchanged(watermelon, api, db, tmp_path: Path):
    org = await build_org(db, "wmdb")
    staff = await login(api, org, "staff")
    supervisor = await login(api, org, "supervisor")
    token = staff["Authorization"].removeprefix("Bearer ")

    async with Device.start(watermelon, str(api.base_url), token, tmp_path / "device.log") as phone:
        # 1. The first synchronize(): the staff member's property, its building and units, nothing to push.
        first = synced(await phone.sync(db), phone)
        [request] = first["requests"]
        assert request["method"] == "GET"
        assert request["path"].startswith("/sync/pull?last_pulled_at=null&schema_version=1&migration=null")
        local = await phone.ask("dump")
        assert local["lastPulledAt"] == first["log"]["newLastPulledAt"] == request["answer"]["timestamp"]
        assert local["lastPulledSchemaVersion"] == 1
        assert [p["id"] for p in local["tables"]["properties"]] == [org.property_id]
        assert local["tables"]["properties"][0]["timezone"] == "Asia/Shanghai"
        assert [b["id"] for b in local["tables"]["buildings"]] == [org.building_id]
        assert {u["id"]: u["number"] for u in local["tables"]["units"]} == {
            org.unit_id: "101",
            org.other_unit_id: "102",
        }
        assert all(r["_status"] == "synced" for t in local["tables"].values() for r in t)
        assert local["tables"]["handover_notes"] == [] and local["unsynced"] is False

        # 2. A note written offline is pushed by the next synchronize() and lands on the server as written.
        fields = {"property_id": org.property_id, "author_id": org.ids["staff"], "body": BODY, "status": "open"}
        note_id = (await phone.ask("create", table="handover_notes", raw={**fields, "created_at": NOW_MS}))["id"]
        second = synced(await phone.sync(db), phone)
        pulled, pushed = second["requests"]
        assert (
            pushed["method"] == "POST"
            and pushed["path"] == f"/sync/push?last_pulled_at={pulled['answer']['timestamp']}"
        )
        [sent] = pushed["body"]["handover_notes"]["created"]
        assert sent["id"] == note_id and sent["_status"] == "created"
        assert pushed["answer"]["experimentalRejectedIds"] == {}
        assert pushed["answer"]["applied"]["handover_notes"]["created"] == 1
        assert second["log"]["localChangeCount"] == 1 and not second["log"].get("rejectedIds")
        on_server = await server_note(api, db, supervisor, note_id)
        assert on_server == {
            "id": note_id,
            **fields,
            "resolved_by": None,
            "resolved_at": None,
            "created_at": NOW_MS,
        }
        local = await phone.ask("dump")
        assert by_id(local["tables"]["handover_notes"])[note_id]["_status"] == "synced"
        assert local["unsynced"] is False

        # 3. The supervisor resolves it; the phone's next synchronize() brings that in (and pushes nothing).
        t_sup = (await pull(api, db, supervisor))["timestamp"]
        resolved = {"status": "resolved", "resolved_by": org.ids["supervisor"], "resolved_at": NOW_MS + 60_000}
        answer = await push(
            api,
            supervisor,
            t_sup,
            changes("handover_notes", updated=[note(org, note_id, org.ids["staff"], **resolved)]),
        )
        assert answer.status_code == 200 and answer.json()["applied"]["handover_notes"]["updated"] == 1, answer.text
        third = synced(await phone.sync(db), phone)
        assert [r["method"] for r in third["requests"]] == ["GET"]
        assert third["log"]["remoteChangeCount"] == 1
        assert third["requests"][0]["answer"]["changes"]["handover_notes"]["updated"][0]["id"] == note_id
        mine = by_id((await phone.ask("dump"))["tables"]["handover_notes"])[note_id]
        assert {k: mine[k] for k in resolved} == resolved and mine["_status"] == "synced"
        assert mine["body"] == BODY

        # 4. A conflict: the phone edits the body; after its pull, before its push, the supervisor reopens the
        # note. The push is refused for that record alone, the phone keeps its edit unsynced, and the next
        # synchronize() merges column by column (local changes win) and pushes the merge.
        edited = f"{BODY}; engineer called"
        await phone.ask("update", table="handover_notes", id=note_id, raw={"body": edited})
        await settle(db)
        await phone.send("sync", pauseBeforePush=True)
        paused = await phone.answer()
        assert paused.get("paused") == "push", paused
        [outgoing] = paused["changes"]["handover_notes"]["updated"]
        assert outgoing["id"] == note_id and outgoing["body"] == edited and outgoing["_changed"] == "body"
        t_sup = (await pull(api, db, supervisor))["timestamp"]
        reopened = {"status": "open", "resolved_by": None, "resolved_at": None}
        answer = await push(
            api,
            supervisor,
            t_sup,
            changes("handover_notes", updated=[note(org, note_id, org.ids["staff"], **reopened)]),
        )
        assert answer.status_code == 200 and answer.json()["applied"]["handover_notes"]["updated"] == 1, answer.text
        await phone.send("resume")
        fourth = synced(await phone.answer(), phone)
        assert fourth["requests"][-1]["answer"]["experimentalRejectedIds"] == {"handover_notes": [note_id]}
        assert fourth["log"]["rejectedIds"] == {"handover_notes": [note_id]}
        local = await phone.ask("dump")
        mine = by_id(local["tables"]["handover_notes"])[note_id]
        assert mine["_status"] == "updated" and mine["_changed"] == "body" and mine["body"] == edited
        assert local["unsynced"] is True
        assert (await server_note(api, db, supervisor, note_id))["body"] == BODY

        fifth = synced(await phone.sync(db), phone)
        pulled, pushed = fifth["requests"]
        assert [r["id"] for r in pulled["answer"]["changes"]["handover_notes"]["updated"]] == [note_id]
        [conflict] = fifth["log"]["resolvedConflicts"]
        assert conflict["remote"]["status"] == "open" and conflict["resolved"]["body"] == edited
        [merged] = pushed["body"]["handover_notes"]["updated"]
        assert {k: merged[k] for k in ("body", *reopened)} == {"body": edited, **reopened}
        assert pushed["answer"]["experimentalRejectedIds"] == {}
        assert pushed["answer"]["applied"]["handover_notes"]["updated"] == 1
        local = await phone.ask("dump")
        mine = by_id(local["tables"]["handover_notes"])[note_id]
        assert mine["_status"] == "synced" and local["unsynced"] is False
        on_server = await server_note(api, db, supervisor, note_id)
        assert on_server == {"id": note_id, **fields, "body": edited, **reopened, "created_at": NOW_MS}
        assert {k: mine[k] for k in on_server} == on_server

        # 5. Quiet: nothing comes back to the phone (no echo of its own push), nothing is left to push.
        sixth = synced(await phone.sync(db), phone)
        assert [r["method"] for r in sixth["requests"]] == ["GET"]
        assert sixth["log"]["remoteChangeCount"] == 0
