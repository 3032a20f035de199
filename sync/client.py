"""The Python reference client of the sync protocol (docs/sync.md): WatermelonDB's `synchronize()` over httpx.

A sync pulls, then pushes the local changes. A push is written to the store's outbox before it is sent and
stays there until the server answers it, so a retry after a lost response is the identical request (same body,
same Idempotency-Key, same last_pulled_at) and the server applies it once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import msgspec

from sync.client_store import LocalStore, PullAnswer, Pulled, Schema, SyncError

__all__ = [
    "LocalStore",
    "Pulled",
    "PushAnswer",
    "Rejection",
    "SyncClient",
    "SyncError",
    "SyncRefused",
    "SyncSummary",
    "SyncUnavailable",
]

log = logging.getLogger("fieldwork.sync.client")

Auth = Mapping[str, str] | Callable[[], Awaitable[Mapping[str, str]]]
# Client errors that say "not now" rather than "never": the identical request is still the one to retry.
_TRANSIENT = frozenset({408, 425, 429})


class SyncRefused(SyncError):
    """A 4xx answer: the request will never succeed as it is (a refused push is dropped from the outbox)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sync refused ({status}): {body}")
        self.status = status
        self.body = body


class SyncUnavailable(SyncError):
    """A 5xx (or 408/425/429) answer: try again later; a push stays in the outbox to be resent as it is."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sync failed ({status}): {body}")
        self.status = status
        self.body = body


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    id: str
    reason: str = ""


class PushAnswer(msgspec.Struct, frozen=True, kw_only=True, rename={"rejected_ids": "experimentalRejectedIds"}):
    rejected_ids: dict[str, list[str]] = {}
    rejected: list[Rejection] = []
    applied: dict[str, dict[str, int]] = {}

    @property
    def rejected_count(self) -> int:
        return sum(len(ids) for ids in self.rejected_ids.values())


class SyncSummary(msgspec.Struct, frozen=True, kw_only=True):
    pulled: int = 0  # records received (created, updated and deleted)
    pushed: int = 0  # records the server took
    rejected: int = 0  # records the last push left rejected (they stay dirty locally)


def _decode(kind: type[Any], response: httpx.Response, what: str) -> Any:
    try:
        return msgspec.json.decode(response.content or b"{}", type=kind)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError
        raise SyncError(f"invalid {what} from the server: {error}") from error


def _problem(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _count(changes: Mapping[str, Mapping[str, list[Any]]], skip: Mapping[str, list[str]]) -> int:
    return sum(
        len([item for item in items if (item if kind == "deleted" else item["id"]) not in skip.get(table, ())])
        for table, by_kind in changes.items()
        for kind, items in by_kind.items()
    )


async def _headers(auth: Auth) -> dict[str, str]:
    return dict(await auth()) if callable(auth) else dict(auth)


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if response.is_success:
        return
    if 400 <= status < 500 and status not in _TRANSIENT:
        raise SyncRefused(status, _problem(response))
    raise SyncUnavailable(status, _problem(response))


class SyncClient:
    """Syncs `store` with the server `http` points at (`base_url` set). `auth`: headers, or a coroutine giving them."""

    def __init__(self, http: httpx.AsyncClient, store: LocalStore, auth: Auth) -> None:
        self.http = http
        self.store = store
        self._auth = auth
        # one sync at a time: a second would apply a pull against a cursor the first has moved
        self._lock = asyncio.Lock()

    @classmethod
    async def from_server(cls, http: httpx.AsyncClient, path: str | os.PathLike[str], auth: Auth) -> SyncClient:
        """A client whose store (at `path`, or ":memory:") is built from the server's `GET /sync/schema`."""
        response = await http.get("/sync/schema", headers=await _headers(auth))
        _raise_for_status(response)
        return cls(http, LocalStore(path, _decode(Schema, response, "schema")), auth)

    async def pull(self) -> Pulled:
        async with self._lock:
            return await self._pull()

    async def push(self) -> PushAnswer | None:
        """Send the unanswered push again, or push the local changes; None when there was nothing to push."""
        async with self._lock:
            pushed = await self._push()
            return pushed[0] if pushed else None

    async def sync(self) -> SyncSummary:
        """Resend an unanswered push, pull, push; once more if the server rejected records (changed there)."""
        async with self._lock:
            pulled = pushed = rejected = 0
            if self.store.outbox() is not None:
                resent = await self._push()
                pushed += resent[1] if resent else 0
            for _ in range(2):
                pulled += (await self._pull()).total
                outcome = await self._push()
                if outcome is None:
                    rejected = 0
                    break
                answer, count = outcome
                pushed += count
                rejected = answer.rejected_count
                if not rejected:
                    break
                log.info("push rejected %d records; pulling and pushing once more", rejected)
            return SyncSummary(pulled=pulled, pushed=pushed, rejected=rejected)

    async def _pull(self) -> Pulled:
        since = self.store.last_pulled_at
        migration = self.store.migration()
        params = {
            # the literal `null` is what WatermelonDB apps send for a first pull and no migration
            "last_pulled_at": "null" if since is None else str(since),
            "schema_version": str(self.store.schema_version),
            "migration": msgspec.json.encode(migration).decode(),
        }
        response = await self.http.get("/sync/pull", params=params, headers=await _headers(self._auth))
        _raise_for_status(response)
        answer: PullAnswer = _decode(PullAnswer, response, "pull answer")
        pulled = self.store.apply_pull(answer, expect_last_pulled_at=since)
        log.info(
            "pulled %d created, %d updated, %d deleted%s; last_pulled_at %s -> %d",
            pulled.created,
            pulled.updated,
            pulled.deleted,
            " (replacement)" if pulled.replacement else "",
            since,
            pulled.timestamp,
        )
        return pulled

    async def _push(self) -> tuple[PushAnswer, int] | None:
        outbox = self.store.begin_push()
        if outbox is None:
            return None
        headers = {**await _headers(self._auth), "Content-Type": "application/json", "Idempotency-Key": outbox.key}
        # A transport error leaves the outbox in place: whether the server applied the push is unknown.
        response = await self.http.post(
            "/sync/push", params={"last_pulled_at": str(outbox.last_pulled_at)}, content=outbox.body, headers=headers
        )
        try:
            _raise_for_status(response)
        except SyncRefused:
            # nothing was applied and resending cannot help; the records stay dirty for the next push
            log.warning("push (key %s) refused with %d; dropping it from the outbox", outbox.key, response.status_code)
            self.store.clear_outbox()
            raise
        answer: PushAnswer = _decode(PushAnswer, response, "push answer")
        self.store.finish_push(outbox, answer.rejected_ids)
        count = _count(outbox.changes(), answer.rejected_ids)
        log.info("pushed %d records (key %s), %d rejected", count, outbox.key, answer.rejected_count)
        return answer, count
