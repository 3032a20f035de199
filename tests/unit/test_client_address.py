"""How attempt limits name a client address."""

from core.ratelimit import address_key


def test_an_ipv6_client_is_counted_by_its_64():
    """One subscriber holds a whole /64 and could try from a new address every time."""
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")


def test_ipv4_clients_are_themselves_also_when_mapped_into_ipv6():
    assert address_key("203.0.113.9") == address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key("203.0.113.10") != "203.0.113.9"


def test_a_name_that_is_no_address_is_kept_as_it_is():
    assert address_key("testclient") == "testclient"
