"""The clock read from a file (FIELDWORK_CLOCK_FILE): every process of an installation reads the same instant,
and moving it is writing the file."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.clock import FileClock, SystemClock, configured_clock


def test_the_file_clock_reads_the_instant_again_at_each_look(tmp_path):
    path = tmp_path / "clock"
    shanghai = timezone(timedelta(hours=8))
    path.write_text("2030-01-02T09:00:00+08:00\n")
    clock = configured_clock(str(path))
    assert clock.now() == datetime(2030, 1, 2, 1, tzinfo=UTC) and clock.now().tzinfo == UTC
    path.write_text(datetime(2030, 1, 5, 9, tzinfo=shanghai).isoformat())
    assert clock.now() == datetime(2030, 1, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(("text", "complaint"), [("2030-01-02T09:00:00", "without an offset"), ("soon", "ISO 8601")])
def test_the_file_clock_refuses_an_instant_it_cannot_place(tmp_path, text, complaint):
    path = tmp_path / "clock"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint):
        FileClock(path).now()


def test_without_a_file_the_clock_is_the_systems():
    assert isinstance(configured_clock(None), SystemClock)
