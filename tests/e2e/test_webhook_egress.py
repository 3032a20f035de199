"""The worker checks a webhook's address again on every connection it opens, on the address it really connects
to: a name re-pointed inside after registration (DNS rebinding) or a URL stored before the check existed is
refused at delivery, recorded dead with its reason and logged, and nothing reaches the receiver. An operator's
allow-list lets a named private network through, and nothing else."""

from __future__ import annotations

import logging

import msgspec
import pytest

from core.egress import Egress
from core.errors import Invalid
from tests.e2e.test_webhook_delivery import Receiver, add_webhook, delivery, notice
from tests.integration.test_worker import run_job
from tests.names import PUBLIC, Hosts
from tests.world import build_org


async def test_a_name_re_pointed_at_loopback_after_registration_is_refused_at_delivery(db, settings, caplog):
    org = await build_org(db, "eg3")
    hosts = Hosts({"hooks.partner.test": [PUBLIC]})
    with Receiver() as receiver:  # on 127.0.0.1, where the name will point
        url = f"http://hooks.partner.test:{receiver.port}/hooks"
        receiver.secret = await add_webhook(db, org, url, Egress.of(settings, hosts))  # public: accepted
        hosts.names["hooks.partner.test"] = ["127.0.0.1"]
        hosts.asked.clear()
        async with db.transaction():
            await notice(db, org, "order-1")
        with caplog.at_level(logging.WARNING, logger="fieldwork.notifications"):
            await run_job(settings, "deliver_notifications", resolve=hosts)
    assert receiver.posts == []
    assert hosts.asked == ["hooks.partner.test"]  # resolved once, at the connection
    refused = await delivery(db)
    reason = (
        "refused: hooks.partner.test resolves to 127.0.0.1, a loopback address; webhooks may only reach public"
        " addresses"
    )
    assert (refused["status"], refused["attempts"], refused["last_error"]) == ("dead", 1, reason)
    assert any(reason in r.getMessage() and "giving up" in r.getMessage() for r in caplog.records), caplog.text


@pytest.mark.parametrize("spelling", ["127.0.0.1", "[::ffff:127.0.0.1]", "127.1"])
async def test_a_url_stored_before_the_check_existed_is_refused_at_delivery(db, settings, spelling):
    org = await build_org(db, "eg4")
    with Receiver() as receiver:
        await db.execute(  # as a webhook registered by an older version, never checked
            "INSERT INTO webhooks (org_id, id, url, secret, kinds, created_by) VALUES ($1, 'old', $2, 's', NULL, $3)",
            org.org_id,
            f"http://{spelling}:{receiver.port}/hooks",
            org.ids["admin"],
        )
        async with db.transaction():
            await notice(db, org, "order-2")
        await run_job(settings, "deliver_notifications")
    assert receiver.posts == []
    refused = await delivery(db)
    assert (refused["status"], refused["attempts"]) == ("dead", 1)
    assert (
        "127.0.0.1, a loopback address" in refused["last_error"] or "127.0.0.1 is a loopback" in refused["last_error"]
    )


async def test_the_allow_list_lets_its_network_through_and_nothing_else(db, settings):
    """127.0.0.2 stands for the on-premises receiver's network (a loopback address a test can listen on); the
    operator allows exactly it. The name is connected to at the address the resolver gave, with its own Host."""
    settings = msgspec.structs.replace(settings, webhook_allow_networks="127.0.0.2/32")
    org = await build_org(db, "eg5")
    with Receiver(host="127.0.0.2") as inside, Receiver(host="127.0.0.3") as beside:
        hosts = Hosts({"hooks.onprem.test": ["127.0.0.2"], "beside.onprem.test": ["127.0.0.3"]})
        egress = Egress.of(settings, hosts)
        for url in (
            f"http://beside.onprem.test:{beside.port}/hooks",
            f"http://127.0.0.3:{beside.port}/hooks",
            f"http://127.0.0.1:{beside.port}/hooks",
            "http://10.0.0.1/hooks",
            "http://169.254.169.254/latest",
        ):
            with pytest.raises(Invalid) as refused:
                await add_webhook(db, org, url, egress)
            assert refused.value.errors[0].field == "url"
        inside.secret = await add_webhook(db, org, f"http://hooks.onprem.test:{inside.port}/hooks", egress)

        async with db.transaction():
            await notice(db, org, "order-3")
        await run_job(settings, "deliver_notifications", resolve=hosts)
        assert [(p["status"], p["host"]) for p in inside.posts] == [(200, f"hooks.onprem.test:{inside.port}")]
        assert (await delivery(db))["status"] == "delivered"

        # the name moves beside the allowed network, onto a port where something listens: refused there
        hosts.names["hooks.onprem.test"] = ["127.0.0.3"]
        beside.secret = inside.secret
        await db.execute("UPDATE webhooks SET url = $1", f"http://hooks.onprem.test:{beside.port}/hooks")
        async with db.transaction():
            await notice(db, org, "order-4")
        await run_job(settings, "deliver_notifications", resolve=hosts)
    assert beside.posts == [] and len(inside.posts) == 1
    last = await db.fetchrow(
        "SELECT d.status, d.last_error FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id"
        " WHERE n.record_id = 'order-4'"
    )
    assert last["status"] == "dead"
    assert last["last_error"].startswith("refused: hooks.onprem.test resolves to 127.0.0.3, a loopback address")


async def test_a_name_that_does_not_resolve_at_delivery_is_an_attempt_retried_later(db, settings):
    org = await build_org(db, "eg6")
    hosts = Hosts({"hooks.gone.test": [PUBLIC]})
    await add_webhook(db, org, "https://hooks.gone.test/hooks", Egress.of(settings, hosts))
    del hosts.names["hooks.gone.test"]  # its DNS record is removed (or the resolver is down)
    async with db.transaction():
        await notice(db, org, "order-5")
    await run_job(settings, "deliver_notifications", resolve=hosts)
    failed = await delivery(db)
    assert (failed["status"], failed["attempts"]) == ("pending", 1)
    assert failed["last_error"].startswith("ConnectError: hooks.gone.test does not resolve"), failed["last_error"]


async def test_a_redirect_is_not_followed_inside_or_anywhere(db, settings):
    settings = msgspec.structs.replace(settings, webhook_allow_networks="127.0.0.2/32")
    org = await build_org(db, "eg7")
    with Receiver(answers=[307], host="127.0.0.2") as redirecting, Receiver() as target:
        redirecting.location = target.url  # 127.0.0.1: refused were it followed, but it is not even followed
        redirecting.secret = await add_webhook(db, org, redirecting.url, Egress.of(settings))
        async with db.transaction():
            await notice(db, org, "order-6")
        await run_job(settings, "deliver_notifications")
    assert [p["status"] for p in redirecting.posts] == [307] and target.posts == []
    failed = await delivery(db)
    assert (failed["status"], failed["last_error"]) == ("pending", "HTTP 307: no")
