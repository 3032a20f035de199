"""A webhook URL that reaches inside the installation is refused when an admin registers it (422 naming `url`):
loopback, private, link-local, multicast, reserved and unspecified addresses, however they are spelt, and names
that resolve to one. The worker checks again at delivery (tests/e2e/test_webhook_egress.py)."""

from __future__ import annotations

import pytest

from tests.names import PUBLIC, Hosts
from tests.world import build_org, login

HOSTS = {
    "ops.example.com": [PUBLIC],
    "intranet.example.test": ["10.1.2.3"],
    "mixed.example.test": [PUBLIC, "127.0.0.1"],  # one internal answer is enough to refuse
    "metadata.example.test": ["169.254.169.254"],
}


@pytest.fixture
def resolver() -> Hosts:
    return Hosts(HOSTS)


HOSTILE = [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://127.0.0.1:5432/", "127.0.0.1 is a loopback address"),
    ("http://localhost:6379/", "localhost resolves to 127.0.0.1, a loopback address"),
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("http://[::1]:8000/", "::1 is a loopback address"),
    ("http://2130706433/", "2130706433 resolves to 127.0.0.1, a loopback address"),
    ("http://0x7f.1/", "0x7f.1 resolves to 127.0.0.1, a loopback address"),
    ("http://127.1/", "127.1 resolves to 127.0.0.1, a loopback address"),
    ("http://017700000001/", "017700000001 resolves to 127.0.0.1, a loopback address"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 resolves to 127.0.0.1, a loopback address"),
    ("https://0.0.0.0/", "0.0.0.0 is an unspecified address"),
    ("http://0/", "0 resolves to 0.0.0.0, an unspecified address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("http://192.168.1.10/", "192.168.1.10 is a private address"),
    ("http://172.16.0.1/", "172.16.0.1 is a private address"),
    ("http://[fd12:3456::1]/", "fd12:3456::1 is a private address"),
    ("http://224.0.0.251/", "224.0.0.251 is a multicast address"),
    ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
    ("http://100.64.0.1/", "100.64.0.1 is an address that is not globally reachable"),
    ("https://intranet.example.test/hooks", "intranet.example.test resolves to 10.1.2.3, a private address"),
    ("https://mixed.example.test/hooks", "mixed.example.test resolves to 127.0.0.1, a loopback address"),
    ("https://metadata.example.test/", "metadata.example.test resolves to 169.254.169.254, a link-local address"),
    ("https://nowhere.invalid/hooks", "nowhere.invalid does not resolve"),
]


async def test_each_url_that_reaches_inside_is_refused_at_registration_naming_the_field(api, db):
    org = await build_org(db, "eg1")
    admin = await login(api, org, "admin")
    itself = f"{api.base_url}/auth/login"  # the API's own address
    for url, why in [*HOSTILE, (itself, "127.0.0.1 is a loopback address")]:
        answer = await api.post("/webhooks", headers=admin, json={"url": url})
        assert answer.status_code == 422, (url, answer.text)
        problem = answer.json()
        assert [e["field"] for e in problem["errors"]] == ["url"], problem
        assert problem["errors"][0]["message"].startswith(why), (url, problem)
        assert "public addresses" in problem["detail"] or "does not resolve" in problem["detail"]
    assert await db.fetchval("SELECT count(*) FROM webhooks") == 0


async def test_a_webhook_cannot_be_moved_inside_and_a_public_one_is_taken(api, db):
    org = await build_org(db, "eg2")
    admin = await login(api, org, "admin")
    created = await api.post("/webhooks", headers=admin, json={"url": "https://ops.example.com/hooks"})
    assert created.status_code == 201, created.text
    hook = created.json()
    moved = await api.patch(f"/webhooks/{hook['id']}", headers=admin, json={"url": "http://127.1:6379/"})
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "url", moved.text
    assert await db.fetchval("SELECT url FROM webhooks") == "https://ops.example.com/hooks"
    paused = await api.patch(f"/webhooks/{hook['id']}", headers=admin, json={"active": False})
    assert paused.status_code == 200, paused.text  # a change that keeps the URL is not checked again
