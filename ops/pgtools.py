"""pg_dump and pg_restore: finding ones that can talk to the server, and running them.

pg_dump must be at least the server's major version (an older one refuses), and pg_restore at least the
version of the pg_dump that wrote the archive. The embedded default's server is pgserver's, which ships its own
binaries; an external server is matched with the client tools installed on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
import re
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

log = logging.getLogger("fieldwork.backup")

# where distributions put versioned client tools (Debian/Ubuntu, RHEL, Homebrew, Postgres.app)
_VERSIONED_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class ToolMissing(Exception):
    """No pg_dump / pg_restore of a usable version was found; the message says what to install."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int
    version: str


def _embedded_bin() -> Path | None:
    with contextlib.suppress(ImportError), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from pgserver._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)
    return None


def _version_of(path: Path) -> Tool | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    if match is None:
        return None
    return Tool(path=path, major=int(match[1]), version=match[0].split()[-1])


def candidates(name: str) -> list[Tool]:
    """Every `name` binary found (embedded, on PATH, in the usual versioned directories), with its version."""
    paths: list[Path] = []
    if (embedded := _embedded_bin()) is not None:
        paths.append(embedded / name)
    if found := shutil.which(name):
        paths.append(Path(found))
    for pattern in _VERSIONED_DIRS:
        paths.extend(Path(d) / name for d in sorted(glob.glob(pattern)))
    tools: dict[Path, Tool] = {}
    for path in paths:
        if path.is_file() and os.access(path, os.X_OK) and path.resolve() not in tools:
            if (tool := _version_of(path)) is not None:
                tools[path.resolve()] = tool
    return list(tools.values())


def choose(name: str, *, at_least: int, prefer: int) -> Tool:
    """The `name` of major version `prefer` or the nearest above it; failing that the newest >= `at_least`."""
    found = candidates(name)
    usable = [t for t in found if t.major >= at_least]
    if not usable:
        seen = ", ".join(f"{t.version} at {t.path}" for t in found) or "none"
        raise ToolMissing(
            f"{name} of PostgreSQL {at_least} or newer is needed (found: {seen}). Install the PostgreSQL "
            f"{at_least} client tools (Debian/Ubuntu: apt install postgresql-client-{at_least}) or put their bin "
            "directory first on PATH"
        )
    tool = min(usable, key=lambda t: (0, t.major) if t.major >= prefer else (1, -t.major))
    log.info("using %s %s (%s)", name, tool.version, tool.path)
    return tool


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL for --dbname without its password, and the environment that carries the password instead
    (a password in argv is visible to everyone on the machine)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        netloc = (parts.username or "") + "@" + host + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme)), env


# what --verbose says as each table's data goes (pg_dump, pg_restore): shown as progress
_TABLE_DATA = re.compile(r'(?:dumping contents of|processing data for) table "?([^"]+)"?')
_EVERY = 2.0  # seconds between progress lines
_TROUBLE = re.compile(r"error|fatal|warning|could not", re.IGNORECASE)


async def run(tool: Tool, args: list[str], url: str, step: str) -> None:
    """Run `tool` against the database at `url`, each table's data logged under `step` as it goes; what the
    tool said of errors becomes the exception's message."""
    target, env = libpq_target(url)
    proc = await asyncio.create_subprocess_exec(
        str(tool.path),
        "--verbose",
        *args,
        f"--dbname={target}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    said: list[str] = []
    tables, last = 0, time.monotonic()
    try:
        while raw := await proc.stderr.readline():
            line = raw.decode(errors="replace").rstrip()
            if match := _TABLE_DATA.search(line):
                tables += 1
                shown = time.monotonic() - last >= _EVERY  # a line every few seconds, not one per table
                last = time.monotonic() if shown else last
                log.log(logging.INFO if shown else logging.DEBUG, "%s: table %d, %s", step, tables, match[1])
            elif _TROUBLE.search(line):
                said.append(line)
        await proc.wait()
    except BaseException:  # cancelled (Ctrl-C, a failure beside it): the child must not outlive us
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"{tool.path.name} failed (exit {proc.returncode}): {' / '.join(said) or 'no message'}")
    for line in said:
        log.warning("%s", line)
