"""The cursor never skips a change: writers whose transactions commit out of order while devices pull."""

import asyncio
import random

import asyncpg

from tests.integration.test_sync_protocol import pull, pull_once
from tests.world import build_org, login

RUNS = 50
WRITERS = 6
PULLERS = 3


def apply(state: dict[str, dict], answer: dict) -> None:
    for section in ("created", "updated"):
        for row in answer["changes"]["handover_notes"][section]:
            state[row["id"]] = row
    for record_id in answer["changes"]["handover_notes"]["deleted"]:
        state.pop(record_id, None)


async def write(url: str, org, run: int, writer: int, rng: random.Random, started: asyncio.Event) -> str | None:
    """Open a transaction, take an xid, write, wait a random while, then commit (or, sometimes, roll back)."""
    conn = await asyncpg.connect(url)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.fetchval("SELECT pg_current_xact_id()")  # the xid is taken now, the commit comes later
        note_id = f"r{run:02d}w{writer}{rng.randrange(10**6):06d}"
        await conn.execute(
            "INSERT INTO handover_notes (org_id, id, property_id, author_id, body, status, created_at) "
            "VALUES ($1, $2, $3, $4, $5, 'open', now())",
            org.org_id,
            note_id,
            org.property_id,
            org.ids["staff"],
            f"run {run} writer {writer}",
        )
        # edit an earlier note too, so updates race as well as inserts
        await conn.execute(
            "UPDATE handover_notes SET body = body || '+' WHERE org_id = $1 AND id = "
            "(SELECT id FROM handover_notes WHERE org_id = $1 ORDER BY random() LIMIT 1)",
            org.org_id,
        )
        started.set()
        await asyncio.sleep(rng.uniform(0, 0.05))
        if rng.random() < 0.15:
            await tx.rollback()
            return None
        await tx.commit()
        return note_id
    finally:
        await conn.close()


async def test_out_of_order_commits_reach_every_puller_50_runs(api, db, database_url):
    org = await build_org(db, "cur")
    devices = [await login(api, org, "supervisor") for _ in range(PULLERS)]  # separate sessions
    states: list[dict[str, dict]] = [{} for _ in devices]
    cursors = []
    for headers, state in zip(devices, states, strict=True):
        first = await pull_once(api, headers)
        apply(state, first)
        cursors.append(first["timestamp"])
    rng = random.Random(20261123)
    for run in range(RUNS):
        events = [asyncio.Event() for _ in range(WRITERS)]
        writers = [
            asyncio.create_task(write(database_url, org, run, n, random.Random(rng.random()), events[n]))
            for n in range(WRITERS)
        ]
        done = asyncio.Event()

        async def puller(index: int, done: asyncio.Event = done) -> None:
            while not done.is_set():
                answer = await pull_once(api, devices[index], cursors[index])
                apply(states[index], answer)
                cursors[index] = answer["timestamp"]
                await asyncio.sleep(rng.uniform(0, 0.01))

        pulling = [asyncio.create_task(puller(i)) for i in range(PULLERS)]
        await asyncio.gather(*writers)
        done.set()
        await asyncio.gather(*pulling)
        # once every writer has finished, one more pull must bring each device level with the database
        truth = {
            r["id"]: r["body"]
            for r in await db.fetch("SELECT id, body FROM handover_notes WHERE org_id = $1", org.org_id)
        }
        for index in range(PULLERS):
            answer = await pull(api, db, devices[index], cursors[index])
            apply(states[index], answer)
            cursors[index] = answer["timestamp"]
            held = {record_id: row["body"] for record_id, row in states[index].items()}
            assert held == truth, f"run {run}, device {index}: missing {set(truth) - set(held)}"
