"""Twenty reference clients on a bad network: offline spells, conflicting edits of the same records, requests
and responses lost on the way. After everyone syncs, each device equals the server for its scope, nothing
lost, nothing doubled. Seeded: a failure replays exactly with the same seed."""

from __future__ import annotations

import random
from pathlib import Path

from core.access import Caller
from core.people import service as people
from core.people.schemas import UserCreate
from sync.client import SyncClient
from sync.client_store import LocalStore
from sync.simulate import Ledger, open_device, run_shift, settled
from tests.integration.test_sync_protocol import settle
from tests.world import PASSWORD, build_org

SEED = 1123
STAFF, SUPERVISORS = 15, 5
TABLES = ("properties", "buildings", "units", "handover_notes", "photos")


async def test_twenty_devices_on_a_lossy_network_converge(api, db, tmp_path: Path):
    rng = random.Random(SEED)
    org = await build_org(db, "sim")
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="sim")
    devices = []
    for n, role in enumerate(["staff"] * STAFF + ["supervisor"] * SUPERVISORS):
        email = f"sim{n}@sim.test"
        person = await people.create_user(
            db, admin, UserCreate(name=f"P{n}", role=role, email=email, password=PASSWORD)
        )
        await people.assign_staff(db, admin, org.property_id, person.id)
        devices.append(
            await open_device(str(api.base_url), email, PASSWORD, tmp_path / f"{n}.db", rng=rng, loss=0.15, http=api)
        )
    ledger = Ledger()
    report = await run_shift(devices, rng, ledger, rounds=25)
    # Sync until a pass pushes nothing; each pass starts once everything committed before it is pullable.
    for _ in range(100):
        await settle(db)
        if not sum([(await device.client.sync()).pushed for device in devices]):
            break
    assert settled(devices), "a device still has unsynced changes"
    assert report.lost_requests + report.lost_responses > 50, "the network was meant to be bad"

    # nothing lost, nothing doubled: every note made survives unless someone deleted it
    notes = {r["id"] for r in await db.fetch("SELECT id FROM handover_notes WHERE org_id = $1", org.org_id)}
    assert notes == ledger.created - ledger.deleted
    rejected = await db.fetchval(
        "SELECT sum(jsonb_array_length(after -> 'handover_notes' -> 'rejected')) FROM audit_log "
        "WHERE org_id = $1 AND action = 'sync.push' AND after ? 'handover_notes'",
        org.org_id,
    )
    assert rejected > 10, "devices were meant to edit the same records at the same time"
    # a fresh device of the same person pulls the server's truth; every device holds exactly that
    for device in devices:
        store = device.client.store
        fresh = SyncClient(api, LocalStore(":memory:", store.schema), device.client._auth)
        await fresh.pull()
        for table in TABLES:
            assert store.records(table) == fresh.store.records(table), (device.user_id, table)
        await device.client.http.aclose()
