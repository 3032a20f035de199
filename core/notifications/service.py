"""Use cases: notify (inside the transaction of the change that causes it), webhooks (admins), the inbox."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.access import Caller, require_role
from core.audit.service import record_change
from core.db import changes_of
from core.egress import Egress, Refused
from core.errors import FieldError, Invalid, NotFound
from core.ids import new_id
from core.notifications import repository as sql
from core.notifications.models import InboxItem, Webhook, WebhookCreated
from core.notifications.schemas import WebhookCreate, WebhookUpdate
from core.security import new_secret
from core.structs import Page, page_of

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


async def notify(
    conn: asyncpg.Connection,
    *,
    org_id: str,
    dedupe_key: str,
    kind: str,
    recipients: Sequence[str],
    title_zh: str,
    title_en: str,
    body_zh: str = "",
    body_en: str = "",
    property_id: str | None = None,
    record_table: str | None = None,
    record_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Put a notification in the outbox, in the caller's transaction: one delivery per recipient's inbox and
    one per active webhook of the org that takes `kind`. The worker sends them once the transaction commits.

    Returns False, writing nothing, when the org has a notification with this dedupe key already: a cause that
    runs twice (two workers, a retry, a restart) notifies once. Name in the key what makes the notice new
    (`order:<id>:overdue:<deadline>`)."""
    notification_id = new_id()
    fresh = await sql.insert_notification(
        conn,
        org_id=org_id,
        id=notification_id,
        dedupe_key=dedupe_key,
        kind=kind,
        property_id=property_id,
        record_table=record_table,
        record_id=record_id,
        title_zh=title_zh,
        title_en=title_en,
        body_zh=body_zh,
        body_en=body_en,
        data=data or {},
    )
    if not fresh:
        return False
    channels = [f"inbox:{user_id}" for user_id in dict.fromkeys(recipients)]
    channels += [f"webhook:{webhook_id}" for webhook_id in await sql.webhook_ids_for(conn, org_id, kind)]
    if channels:
        await sql.insert_deliveries(conn, org_id, notification_id, channels)
    return True


def inbox_id(notification_id: str, user_id: str) -> str:
    """The id of a user's inbox row for a notification: the same on every delivery attempt, so an attempt
    repeated after a crash writes nothing new. 20 base-62 characters, like every other record id."""
    number = int.from_bytes(hashlib.sha256(f"{notification_id}:{user_id}".encode()).digest()[:16], "big")
    chars = []
    for _ in range(20):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


# --- webhooks (admins) -------------------------------------------------------------------------------------


def webhook_of(row: asyncpg.Record) -> Webhook:
    return msgspec.convert(dict(row), Webhook)


async def check_url(egress: Egress, url: str) -> None:
    """Invalid (422 naming `url`) when the URL's host is, or resolves to, an address webhooks may not reach.
    The worker checks again on every connection: this only tells the admin early."""
    try:
        await egress.check_url(url)
    except Refused as exc:
        message = f"{exc}"
        raise Invalid(f"url: {message}", [FieldError(field="url", message=message)]) from None


def check_kinds(kinds: Sequence[str] | None, known: Collection[str]) -> None:
    """A webhook subscribes to kinds that exist: a misspelt kind would be sent nothing, silently."""
    unknown = [(i, kind) for i, kind in enumerate(kinds or []) if kind not in known]
    if unknown:
        raise Invalid(
            "unknown notification kinds (GET /notifications/kinds lists them)",
            [FieldError(field=f"kinds[{i}]", message=f"{kind!r} is not a notification kind") for i, kind in unknown],
        )


async def create_webhook(
    conn: asyncpg.Connection, caller: Caller, data: WebhookCreate, egress: Egress, known: Collection[str]
) -> WebhookCreated:
    """`known`: the notification kinds there are."""
    require_role(caller, "admin")
    check_kinds(data.kinds, known)
    await check_url(egress, data.url)
    secret = new_secret()
    kinds = sorted(set(data.kinds)) if data.kinds is not None else None
    row = await sql.insert_webhook(conn, caller.org_id, new_id(), data.url, secret, kinds, caller.user_id)
    webhook = webhook_of(row)
    await record_change(conn, caller, "create", "webhook", webhook.id, after=webhook)
    return WebhookCreated(**msgspec.structs.asdict(webhook), secret=secret)


async def list_webhooks(conn: asyncpg.Connection, caller: Caller) -> list[Webhook]:
    require_role(caller, "admin")
    return [webhook_of(r) for r in await sql.list_webhooks(conn, caller.org_id)]


async def get_webhook(conn: asyncpg.Connection, caller: Caller, webhook_id: str) -> Webhook:
    require_role(caller, "admin")
    row = await sql.get_webhook(conn, caller.org_id, webhook_id)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found", entity="webhook", id=webhook_id)
    return webhook_of(row)


async def update_webhook(
    conn: asyncpg.Connection,
    caller: Caller,
    webhook_id: str,
    data: WebhookUpdate,
    egress: Egress,
    known: Collection[str],
) -> Webhook:
    """Change the URL or kinds, or pause (active false): a paused webhook gets nothing, not even later."""
    before = await get_webhook(conn, caller, webhook_id)
    if isinstance(data.kinds, list):
        check_kinds(data.kinds, known)
    if isinstance(data.url, str):
        await check_url(egress, data.url)
    changes = changes_of(data)
    if isinstance(changes.get("kinds"), list):
        changes["kinds"] = sorted(set(data.kinds or []))
    if not changes:
        return before
    after = webhook_of(await sql.update_webhook(conn, caller.org_id, webhook_id, changes))
    if not after.active:
        await sql.abandon_deliveries(conn, caller.org_id, f"webhook:{webhook_id}", "the webhook was paused")
    await record_change(conn, caller, "update", "webhook", webhook_id, before=before, after=after)
    return after


async def delete_webhook(conn: asyncpg.Connection, caller: Caller, webhook_id: str) -> None:
    """Remove a webhook; what was still to be sent to it is not sent (its deliveries are marked dead)."""
    before = await get_webhook(conn, caller, webhook_id)
    await sql.delete_webhook(conn, caller.org_id, webhook_id)
    await sql.abandon_deliveries(conn, caller.org_id, f"webhook:{webhook_id}", "the webhook was deleted")
    await record_change(conn, caller, "delete", "webhook", webhook_id, before=before)


# --- the inbox ---------------------------------------------------------------------------------------------


def inbox_item_of(row: asyncpg.Record) -> InboxItem:
    return msgspec.convert(dict(row), InboxItem)


async def list_inbox(
    conn: asyncpg.Connection, caller: Caller, *, unread: bool, cursor: str | None, limit: int
) -> Page[InboxItem]:
    """The caller's own notifications, newest first."""
    rows = await sql.list_inbox(conn, caller.org_id, caller.user_id, unread=unread, after=cursor, limit=limit + 1)
    return page_of([inbox_item_of(r) for r in rows], limit)


async def mark_read(conn: asyncpg.Connection, caller: Caller, item_id: str, now: datetime) -> InboxItem:
    """Mark one of the caller's notifications read (once: marking it again keeps the first time)."""
    row = await sql.mark_read(conn, caller.org_id, caller.user_id, item_id, now)
    if row is None:
        raise NotFound(f"notification {item_id} not found in your inbox", entity="inbox", id=item_id)
    return inbox_item_of(row)


async def backlog(conn: asyncpg.Connection, now: datetime) -> dict[str, int]:
    """For `fieldwork jobs`: deliveries pending (and the oldest one's age in seconds) and dead-lettered."""
    row = await sql.backlog(conn, now)
    return {"pending": int(row["pending"]), "dead": int(row["dead"]), "oldest_pending_s": int(row["oldest_pending_s"])}
