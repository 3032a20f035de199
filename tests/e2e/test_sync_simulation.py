"""Twenty reference clients on a bad network: offline spells, conflicting edits of the same records, requests
and responses lost on the way. After everyone syncs, each device equals the server for its scope, nothing
lost, nothing doubled. Seeded: a failure replays exactly with the same seed."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.access import Caller
from core.people import service as people
from core.people.schemas import UserCreate
from sync.client import SyncClient, SyncError
from tests.world import PASSWORD, build_org

SEED = 1123
ROUNDS = 25
STAFF, SUPERVISORS = 15, 5
NOW_MS = 1_795_000_000_000


class LossyNetwork(httpx.AsyncBaseTransport):
    """The real network to the real server, which sometimes loses a request before it arrives or a response
    after the server has acted on it, and which is cut entirely while the device is offline."""

    def __init__(self, rng: random.Random, loss: float) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rng, self.loss, self.offline = rng, loss, False
        self.lost_requests = self.lost_responses = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("offline (basement)")
        if self.rng.random() < self.loss:
            self.lost_requests += 1
            raise httpx.ConnectError("request lost")
        response = await self.inner.handle_async_request(request)
        if self.rng.random() < self.loss:
            await response.aread()
            await response.aclose()
            self.lost_responses += 1
            raise httpx.ReadError("response lost after the server answered")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Device:
    user_id: str
    role: str
    client: SyncClient
    network: LossyNetwork
    made: list[str] = field(default_factory=list)


async def sync_once(device: Device) -> bool:
    try:
        await device.client.sync()
        return True
    except (httpx.TransportError, SyncError):
        return False  # try again next round: the outbox keeps an unanswered push as it was


def edit(device: Device, rng: random.Random, property_id: str, created: set[str], deleted: set[str]) -> None:
    """One thing a person does on the phone, within what their role may do."""
    store = device.client.store
    notes = store.records("handover_notes")
    choice = rng.random()
    if choice < 0.35 or not notes:
        note_id = store.create(
            "handover_notes",
            {
                "property_id": property_id,
                "author_id": device.user_id,
                "body": f"{device.user_id[:4]} 巡查记录 {rng.randrange(10**6)}",
                "status": "open",
                "created_at": NOW_MS + rng.randrange(10**6),
            },
        )
        created.add(note_id)
    elif choice < 0.75:
        # shared records: many devices edit the same few notes, so conflicts are common
        target = rng.choice(sorted(notes, key=lambda n: n["id"])[:4])
        if rng.random() < 0.5:
            store.update("handover_notes", target["id"], {"body": target["body"] + f" / {rng.randrange(100)}"})
        else:
            store.update("handover_notes", target["id"], {"status": "resolved", "resolved_by": device.user_id})
    elif choice < 0.85:
        own = [n for n in notes if n["author_id"] == device.user_id or device.role == "supervisor"]
        if own:
            target = rng.choice(own)
            store.delete("handover_notes", target["id"])
            deleted.add(target["id"])
    else:
        note = rng.choice(notes)
        store.create(
            "photos",
            {
                "property_id": property_id,
                "record_table": "handover_notes",
                "record_id": note["id"],
                "uploaded_by": device.user_id,
                "taken_at": NOW_MS,
                "content_type": "image/jpeg",
                "note": "before",
            },
        )


async def test_twenty_devices_on_a_lossy_network_converge(api, db, tmp_path: Path):
    rng = random.Random(SEED)
    org = await build_org(db, "sim")
    admin = Caller(org_id=org.org_id, user_id=org.ids["admin"], role="admin", session_id="sim")
    roles = ["staff"] * STAFF + ["supervisor"] * SUPERVISORS
    devices: list[Device] = []
    for n, role in enumerate(roles):
        email = f"sim{n}@sim.test"
        person = await people.create_user(
            db, admin, UserCreate(name=f"P{n}", role=role, email=email, password=PASSWORD)
        )
        await people.assign_staff(db, admin, org.property_id, person.id)
        token = (await api.post("/auth/login", json={"login": email, "password": PASSWORD})).json()["access_token"]
        network = LossyNetwork(random.Random(rng.random()), loss=0.15)
        http = httpx.AsyncClient(base_url=str(api.base_url), transport=network, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        client = await SyncClient.from_server(api, tmp_path / f"device{n}.db", headers)
        client.http = http
        devices.append(Device(user_id=person.id, role=role, client=client, network=network))

    created: set[str] = set()
    deleted: set[str] = set()
    for _ in range(ROUNDS):
        for device in devices:
            device.network.offline = rng.random() < 0.4
            for _ in range(rng.randrange(4)):
                edit(device, rng, org.property_id, created, deleted)
        # the online ones sync at the same time, so pulls and pushes of the same records interleave
        await asyncio.gather(*(sync_once(d) for d in devices if not d.network.offline))

    # everyone comes back up on a good network and syncs until nothing moves
    for device in devices:
        device.network.offline, device.network.loss = False, 0.0
    for _ in range(4):
        for device in devices:
            assert await sync_once(device)
    assert all(not d.client.store.pending_changes() for d in devices), "a device still has unsynced changes"

    server = {
        table: {
            r["id"]: r
            for r in await db.fetch(f"SELECT id FROM {table} WHERE org_id = $1", org.org_id)
        }
        for table in ("handover_notes", "photos")
    }
    # nothing lost, nothing doubled: every note made survives unless someone deleted it
    assert set(server["handover_notes"]) == created - deleted
    # a fresh device of each role pulls the server's truth; every device holds exactly that
    for device in devices:
        fresh = SyncClient(api, type(device.client.store)(":memory:", device.client.store.schema), device.client._auth)
        await fresh.pull()
        for table in ("properties", "buildings", "units", "handover_notes", "photos"):
            assert device.client.store.records(table) == fresh.store.records(table), (device.user_id, table)
    rejected = await db.fetchval(
        "SELECT sum(jsonb_array_length(after -> 'handover_notes' -> 'rejected')) FROM audit_log "
        "WHERE org_id = $1 AND action = 'sync.push' AND after ? 'handover_notes'",
        org.org_id,
    )
    assert rejected > 10, "devices were meant to edit the same records at the same time"
    lost = sum(d.network.lost_requests + d.network.lost_responses for d in devices)
    assert lost > 50, "the network was meant to be bad"
    for device in devices:
        await device.client.http.aclose()
