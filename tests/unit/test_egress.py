"""The egress rule on addresses (no resolver, no network): what webhooks may reach, and what an operator's
allow-list opens."""

from ipaddress import ip_address

import pytest

from core.egress import Egress, Refused
from core.settings import from_env

PUBLIC = Egress()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: the v4 address on the wire
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.10", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated)
        ("fec0::1", "site-local"),
        ("100.64.0.1", "not globally reachable"),  # carrier-grade NAT
        ("2002:7f00:1::", "6to4 address carrying 127.0.0.1, a loopback"),
    ],
)
def test_an_internal_address_is_refused_with_what_it_is(address, kind):
    refusal = PUBLIC.refusal(ip_address(address))
    assert refusal is not None and kind in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_a_public_address_may_be_reached(address):
    assert PUBLIC.refusal(ip_address(address)) is None


def test_the_allow_list_opens_the_named_networks_and_nothing_else():
    settings = from_env({"FIELDWORK_WEBHOOK_ALLOW_NETWORKS": " 10.20.0.0/16, fd00::/8 ,"})
    egress = Egress.of(settings)
    for inside in ("10.20.0.1", "10.20.255.254", "::ffff:10.20.3.4", "fd00::1", "fdff:ffff::1", "93.184.215.14"):
        assert egress.refusal(ip_address(inside)) is None, inside
    for outside in ("10.21.0.1", "10.0.0.1", "127.0.0.1", "::1", "fc00::1", "169.254.169.254", "192.168.0.1"):
        assert egress.refusal(ip_address(outside)) is not None, outside


async def test_every_address_of_a_name_is_judged_and_one_internal_address_refuses_it():
    async def answers(host: str, port: int) -> list[str]:
        return {"mixed.example.test": ["93.184.215.14", "127.0.0.1"], "fine.example.test": ["93.184.215.14"]}[host]

    egress = Egress(resolve=answers)
    assert [str(a) for a in await egress.addresses("fine.example.test", 443)] == ["93.184.215.14"]
    with pytest.raises(Refused, match=r"^mixed\.example\.test resolves to 127\.0\.0\.1, a loopback address; "):
        await egress.addresses("mixed.example.test", 443)
    with pytest.raises(Refused, match="not an http:// or https:// URL"):
        await egress.check_url("gopher://fine.example.test/")
