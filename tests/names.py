"""A hosts file for tests: names of our own for the webhook egress check, everything else the system's."""

from __future__ import annotations

from collections.abc import Sequence

from core.egress import system_resolve

# a public address (example.com's): a webhook pointing here passes registration
PUBLIC = "93.184.215.14"


class Hosts:
    """A resolver (core.egress.Resolver) answering `names` as a hosts file would, and anything else (address
    literals, localhost) as the system does. Re-point a name by changing `names`: DNS rebinding."""

    def __init__(self, names: dict[str, Sequence[str]]) -> None:
        self.names = dict(names)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        if host in self.names:
            return self.names[host]
        return await system_resolve(host, port)
