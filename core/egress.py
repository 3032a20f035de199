"""Where the server may send requests on a user's behalf (webhooks): public addresses only.

An org admin chooses a webhook's URL, and the worker POSTs there from inside the installation's network, so a URL
must not reach what only the server can reach: loopback (the database, Redis, the API itself), private and
link-local networks (cloud metadata at 169.254.169.254), multicast, reserved and unspecified addresses. Every
spelling of an address (`2130706433`, `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`) is left to the resolver, which
turns it into the address the socket would use, and each resolved address is judged by `ipaddress`: nothing here
parses hosts by hand.

The check runs when a URL is registered and again on every connection the worker opens (`GuardedBackend`): a
name can be re-pointed after registration (DNS rebinding), so the worker resolves once, judges every address,
and connects to a judged one, never to the name. An on-premises install names the private networks its
receivers live on in FIELDWORK_WEBHOOK_ALLOW_NETWORKS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
import httpx

from core.settings import Network, Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses a connection to it would use; raises OSError when the name does not resolve
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

RESOLVE_SECONDS = 5.0


class Refused(Exception):
    """The URL leads somewhere webhooks may not go; the message says where and why."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The operating system's resolver, as a socket connecting to `host` would use it."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _kind(ip: Address) -> str | None:
    """What makes an address internal, or None for a public one."""
    checks = [
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (not ip.is_global, "an address that is not globally reachable"),  # 100.64.0.0/10, shared by carriers
    ]
    return next((kind for hit, kind in checks if hit), None)


class Egress:
    """The rule for outgoing connections: public addresses, and the operator's allowed networks. (A plain
    class: Litestar's dependency model inspects what a dataclass holds, and cannot take a union of networks.)"""

    def __init__(self, allow: Iterable[Network] = (), resolve: Resolver = system_resolve) -> None:
        self.allow = tuple(allow)
        self.resolve = resolve

    @classmethod
    def of(cls, settings: Settings, resolve: Resolver | None = None) -> Egress:
        return cls(allow=settings.webhook_allowed_networks, resolve=resolve or system_resolve)

    def refusal(self, ip: Address) -> str | None:
        """What makes `ip` out of bounds ("a loopback address"), or None when a connection to it may go."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d on the wire
        if any(ip in network for network in self.allow):
            return None
        kind = _kind(ip)
        if kind is None and isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
            inner = _kind(ip.sixtofour)  # 2002:7f00:1:: carries 127.0.0.1
            kind = inner and f"a 6to4 address carrying {ip.sixtofour}, {inner}"
        return kind

    async def addresses(self, host: str, port: int) -> list[Address]:
        """Resolve `host` once and judge every address: Refused if any is internal (an attacker's name may
        answer a public and an internal one), OSError if it does not resolve."""
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await self.resolve(host, port)
        if not found:
            raise OSError(f"{host} has no address")
        addresses = list(dict.fromkeys(ipaddress.ip_address(a) for a in found))
        for ip in addresses:
            if kind := self.refusal(ip):
                shown = (ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else ip
                where = f"{ip} is {kind}" if str(shown) == host else f"{host} resolves to {shown}, {kind}"
                raise Refused(f"{where}; webhooks may only reach public addresses")
        return addresses

    async def check_url(self, url: str) -> None:
        """Registration's check: Refused (with the reason) unless every address of the URL's host may be
        reached. The URL is read by httpx's parser, the one delivery uses."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise Refused(f"not a URL httpx can send to: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise Refused("not an http:// or https:// URL with a host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            await self.addresses(parsed.host, port)
        except OSError as exc:  # TimeoutError too
            raise Refused(f"{parsed.host} does not resolve ({exc or 'timed out'})") from None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the egress check on every new connection: the connection pool asks for
    `host:port`, this resolves it once, judges every address and opens the socket to a judged address. TLS
    still verifies the certificate against the URL's name, and the Host header is the URL's: only the
    address lookup moves here. A refusal raises `Refused` (the delivery is given up, not retried); a name
    that does not resolve raises httpcore.ConnectError (retried, like a receiver that is down)."""

    def __init__(self, egress: Egress, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.egress = egress
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.egress.addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        failure: Exception | None = None
        for ip in addresses:  # in the resolver's order, as a plain connect would try them
            try:
                return await self.inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
