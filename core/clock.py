"""An injectable clock: services ask it for the time, tests set it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at += timedelta(**delta)


class FileClock:
    """The instant written in a file (ISO 8601 with an offset), read again at every look.

    One clock for every process of an installation at once, moved by writing the file: a test running the API
    and the workers as separate processes (or a rehearsal of next week) sets it with FIELDWORK_CLOCK_FILE."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        text = self.path.read_text().strip()
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"the clock file {self.path} holds {text[:40]!r}, not an ISO 8601 instant") from None
        if at.tzinfo is None:
            raise ValueError(f"the clock file {self.path} holds {text!r}, an instant without an offset")
        return at.astimezone(UTC)


def configured_clock(clock_file: str | None) -> Clock:
    """The system's clock, or the one in `clock_file` (the setting FIELDWORK_CLOCK_FILE)."""
    return FileClock(clock_file) if clock_file else SystemClock()
