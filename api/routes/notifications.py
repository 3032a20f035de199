"""Webhooks (admins) and the caller's own inbox."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.deps import AppServices, Conn, CurrentCaller, Cursor, PageLimit
from api.guards import ADMIN
from core.notifications import service
from core.notifications.kinds import NotificationKind
from core.notifications.models import InboxItem, Webhook, WebhookCreated
from core.notifications.schemas import WebhookCreate, WebhookUpdate
from core.structs import Page


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["notifications"]
    guards = [ADMIN]

    @post(
        "/",
        summary="Add a webhook (admin). Its signing secret is in this answer only; see docs/workers.md",
    )
    async def create_webhook(
        self, data: JSONBody[WebhookCreate], caller: CurrentCaller, services: AppServices, conn: Conn
    ) -> WebhookCreated:
        return await service.create_webhook(conn, caller, data, services.egress, services.registry.notification_kinds)

    @get("/", summary="The org's webhooks, without their secrets (admin)")
    async def list_webhooks(self, caller: CurrentCaller, conn: Conn) -> list[Webhook]:
        return await service.list_webhooks(conn, caller)

    @patch("/{webhook_id:str}", summary="Change a webhook's URL or kinds, or pause it (admin)")
    async def update_webhook(
        self,
        webhook_id: FromPath[str],
        data: JSONBody[WebhookUpdate],
        caller: CurrentCaller,
        services: AppServices,
        conn: Conn,
    ) -> Webhook:
        return await service.update_webhook(
            conn, caller, webhook_id, data, services.egress, services.registry.notification_kinds
        )

    @delete("/{webhook_id:str}", summary="Remove a webhook; nothing more is sent to it (admin)")
    async def delete_webhook(self, webhook_id: FromPath[str], caller: CurrentCaller, conn: Conn) -> None:
        await service.delete_webhook(conn, caller, webhook_id)


@get(
    "/notifications/kinds",
    tags=["notifications"],
    summary="Every kind of notification there is, with what it means (for webhooks' `kinds`)",
)
async def notification_kinds(services: AppServices) -> list[NotificationKind]:
    return sorted(services.registry.notification_kinds.values(), key=lambda kind: kind.name)


class InboxController(Controller):
    path = "/inbox"
    tags = ["notifications"]

    @get("/", summary="Your notifications, newest first (phones also get them through /sync/pull)")
    async def list_inbox(
        self,
        caller: CurrentCaller,
        conn: Conn,
        unread: FromQuery[bool] = False,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> Page[InboxItem]:
        return await service.list_inbox(conn, caller, unread=unread, cursor=cursor, limit=limit)

    @post("/{item_id:str}/read", summary="Mark one of your notifications read", status_code=200)
    async def mark_read(
        self, item_id: FromPath[str], caller: CurrentCaller, services: AppServices, conn: Conn
    ) -> InboxItem:
        return await service.mark_read(conn, caller, item_id, services.clock.now())
