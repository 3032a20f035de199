"""Choosing pg_dump / pg_restore for a server, and handing them a URL without its password."""

from pathlib import Path

import pytest

from ops import pgtools
from ops.pgtools import Tool, ToolMissing, choose, libpq_target


def tools(*majors: int) -> list[Tool]:
    return [Tool(path=Path(f"/pg{m}/bin/pg_dump"), major=m, version=f"{m}.3") for m in majors]


@pytest.mark.parametrize(
    ("found", "at_least", "prefer", "chosen"),
    [
        ((17, 15, 16), 15, 15, 15),  # the server's own major version
        ((17, 16), 15, 15, 16),  # else the nearest newer one
        ((14, 16), 16, 15, 16),  # an archive of 16 into a 15 server: at least the archive's
        ((13, 14), 13, 15, 14),  # restore: nothing of the server's version, the newest that reads the archive
    ],
)
def test_the_tool_nearest_the_server_is_chosen(monkeypatch, found, at_least, prefer, chosen):
    monkeypatch.setattr(pgtools, "candidates", lambda name: tools(*found))
    assert choose("pg_dump", at_least=at_least, prefer=prefer).major == chosen


def test_too_old_a_tool_stops_with_what_to_install(monkeypatch):
    monkeypatch.setattr(pgtools, "candidates", lambda name: tools(14))
    with pytest.raises(ToolMissing) as refused:
        choose("pg_dump", at_least=16, prefer=16)
    assert "pg_dump of PostgreSQL 16 or newer is needed (found: 14.3 at /pg14/bin/pg_dump)" in str(refused.value)
    assert "postgresql-client-16" in str(refused.value)


def test_the_password_goes_in_the_environment_not_the_command_line():
    url, env = libpq_target("postgres://fw%40ops:p%40ss%3Aword@[::1]:5433/fieldwork?sslmode=require")
    assert url == "postgresql://fw%40ops@[::1]:5433/fieldwork?sslmode=require"
    assert env["PGPASSWORD"] == "p@ss:word"
    url, _ = libpq_target("postgresql://postgres:@/fieldwork?host=/tmp/fw/pg")  # the embedded server's socket
    assert url == "postgresql://postgres@/fieldwork?host=/tmp/fw/pg"
