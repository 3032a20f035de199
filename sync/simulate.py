"""Reference devices doing a shift's field work over a bad network: the demo, the load generator and the
simulation tests drive the server with these. Seeded: the same seed makes the same edits.

Two kinds of edit: `edit` works on what the phone has pulled (the shared notes of the moment), so what it does
depends on timing; `planned_edit` draws only on the seed and the phone's own past, so two runs of one seed mean
the same end state (the last writer of a contested field aside) against any number of API replicas.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec

from sync.client import SyncClient, SyncError

# created_at of generated notes: device clocks, in epoch milliseconds
BASE_MS = 1_795_000_000_000


class LossyNetwork(httpx.AsyncBaseTransport):
    """The real network to the real server, which sometimes loses a request before it arrives or a response
    after the server has acted on it, and which is cut entirely while the device is offline. With several
    `replicas` (base URLs of API processes) each request goes to the next one in turn, as behind a load
    balancer: a retry seldom reaches the process that saw the first attempt."""

    def __init__(self, rng: random.Random, loss: float, replicas: Sequence[str] = ()) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rng, self.loss, self.offline = rng, loss, False
        self.lost_requests = self.lost_responses = 0
        self.replicas = [httpx.URL(url) for url in replicas]
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("offline (basement)")
        if self.replicas:
            target = self.replicas[self.sent % len(self.replicas)]
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["Host"] = request.url.netloc.decode("ascii")
        self.sent += 1
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
    property_id: str
    client: SyncClient
    network: LossyNetwork
    syncs: int = 0
    failures: int = 0
    own: list[str] = field(default_factory=list)  # notes this phone made and has not deleted (planned_edit)
    pictured: set[str] = field(default_factory=set)  # of those, the ones with a photo: they are kept


@dataclass
class Ledger:
    """What the devices meant to happen, to check the server against."""

    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    # planned_edit: the notes every phone edits (made before the shift), what was written to them, photo rows
    shared: list[str] = field(default_factory=list)
    bodies: dict[str, set[str]] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)
    photos: dict[str, str] = field(default_factory=dict)  # photo id -> its device's user id


class Report(msgspec.Struct, kw_only=True):
    devices: int
    rounds: int
    syncs: int
    failed_syncs: int
    lost_requests: int
    lost_responses: int
    seconds: float


async def open_device(
    base_url: str | Sequence[str],
    login: str,
    password: str,
    path: Path | str,
    *,
    rng: random.Random,
    loss: float,
    http: httpx.AsyncClient | None = None,
) -> Device:
    """Log in as a person, build their store from the server's schema, and learn who they are. Several base
    URLs: API replicas the phone's requests go to in turn (the first ones, on the office Wi-Fi, to the first)."""
    replicas = [base_url] if isinstance(base_url, str) else list(base_url)
    base_url = replicas[0]
    plain = http or httpx.AsyncClient(base_url=base_url, timeout=60)
    token = await plain.post("/auth/login", json={"login": login, "password": password})
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = (await plain.get("/me", headers=headers)).json()["user"]
    client = await SyncClient.from_server(plain, path, headers)
    await client.pull()  # the first pull happens on the office Wi-Fi
    network = LossyNetwork(random.Random(rng.random()), loss, replicas if len(replicas) > 1 else ())
    client.http = httpx.AsyncClient(base_url=base_url, transport=network, timeout=60)
    if http is None:
        await plain.aclose()
    properties = client.store.records("properties")
    return Device(me["id"], me["role"], properties[0]["id"] if properties else "", client, network)


async def sync_once(device: Device) -> bool:
    device.syncs += 1
    try:
        await device.client.sync()
        return True
    except (httpx.TransportError, SyncError):
        device.failures += 1
        return False  # try again later: the outbox keeps an unanswered push as it was


def edit(device: Device, rng: random.Random, ledger: Ledger) -> None:
    """One thing a person does on the phone, within what their role may do."""
    store = device.client.store
    notes = store.records("handover_notes")
    choice = rng.random()
    if choice < 0.35 or not notes:
        note_id = store.create(
            "handover_notes",
            {
                "property_id": device.property_id,
                "author_id": device.user_id,
                "body": f"巡查记录 patrol note {rng.randrange(10**6)}",
                "status": "open",
                "created_at": BASE_MS + rng.randrange(10**9),
            },
        )
        ledger.created.add(note_id)
    elif choice < 0.75:
        # a few shared records that many devices edit, so conflicts are common
        target = rng.choice(sorted(notes, key=lambda n: n["id"])[:4])
        if rng.random() < 0.5:
            store.update("handover_notes", target["id"], {"body": f"{target['body']} / {rng.randrange(100)}"})
        else:
            store.update("handover_notes", target["id"], {"status": "resolved", "resolved_by": device.user_id})
    elif choice < 0.85:
        own = [n for n in notes if n["author_id"] == device.user_id or device.role == "supervisor"]
        if own:
            target = rng.choice(own)
            store.delete("handover_notes", target["id"])
            ledger.deleted.add(target["id"])
    else:
        take_photo(device, rng.choice(notes)["id"], rng)


def take_photo(device: Device, note_id: str, rng: random.Random, photo_id: str | None = None) -> str:
    """A photo row of a note (its bytes travel apart, over tus); a new id unless `photo_id` is given."""
    return device.client.store.create(
        "photos",
        {
            **({"id": photo_id} if photo_id else {}),
            "property_id": device.property_id,
            "record_table": "handover_notes",
            "record_id": note_id,
            "uploaded_by": device.user_id,
            "taken_at": BASE_MS + rng.randrange(10**9),
            "content_type": "image/jpeg",
            "note": "before",
        },
    )


def planned_edit(device: Device, rng: random.Random, ledger: Ledger) -> None:
    """One thing a person does on the phone, drawn from the seed and this phone's own past only: a note of
    their own, a photo of one, deleting one without a photo, or an edit of a shared note (a contested field)."""
    store, choice = device.client.store, rng.random()
    if choice < 0.35 or not device.own:
        note_id = store.create(
            "handover_notes",
            {
                "id": f"note-{rng.getrandbits(64):016x}",
                "property_id": device.property_id,
                "author_id": device.user_id,
                "body": f"巡查记录 patrol note {rng.randrange(10**6)}",
                "status": "open",
                "created_at": BASE_MS + rng.randrange(10**9),
            },
        )
        ledger.created.add(note_id)
        device.own.append(note_id)
    elif choice < 0.7 and ledger.shared:
        target = rng.choice(ledger.shared)
        if rng.random() < 0.7:
            body = f"交接 shared note, {device.user_id} wrote {rng.randrange(10**6)}"
            store.update("handover_notes", target, {"body": body})
            ledger.bodies.setdefault(target, set()).add(body)
        else:
            store.update("handover_notes", target, {"status": "resolved", "resolved_by": device.user_id})
            ledger.resolved.add(target)
    elif choice < 0.8:
        if unpictured := [n for n in device.own if n not in device.pictured]:
            target = rng.choice(unpictured)
            store.delete("handover_notes", target)
            device.own.remove(target)
            ledger.deleted.add(target)
    else:
        note_id = rng.choice(device.own)
        photo_id = take_photo(device, note_id, rng, f"photo-{rng.getrandbits(64):016x}")
        device.pictured.add(note_id)
        ledger.photos[photo_id] = device.user_id


Edit = Callable[[Device, random.Random, Ledger], None]


async def run_shift(
    devices: list[Device],
    rng: random.Random,
    ledger: Ledger,
    *,
    rounds: int,
    offline: float = 0.4,
    edit_with: Edit = edit,
) -> Report:
    """Rounds of edits; each round a random share of devices is offline and the rest sync at once, so pulls
    and pushes of the same records interleave. Then everyone syncs on a good network until settled."""
    started = time.perf_counter()
    for _ in range(rounds):
        for device in devices:
            device.network.offline = rng.random() < offline
            if device.property_id:
                for _ in range(rng.randrange(4)):
                    edit_with(device, rng, ledger)
        await asyncio.gather(*(sync_once(d) for d in devices if not d.network.offline))
    losses = [(d.network.lost_requests, d.network.lost_responses) for d in devices]
    for device in devices:
        device.network.offline, device.network.loss = False, 0.0
    # one at a time now: with nobody writing between a device's pull and push, two passes settle everyone
    for _ in range(2):
        for device in devices:
            await sync_once(device)
    return Report(
        devices=len(devices),
        rounds=rounds,
        syncs=sum(d.syncs for d in devices),
        failed_syncs=sum(d.failures for d in devices),
        lost_requests=sum(r for r, _ in losses),
        lost_responses=sum(r for _, r in losses),
        seconds=round(time.perf_counter() - started, 2),
    )


def settled(devices: list[Device]) -> bool:
    return all(not d.client.store.pending_changes() and d.client.store.outbox() is None for d in devices)
