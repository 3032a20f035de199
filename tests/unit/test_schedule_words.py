"""A schedule's rule in words, Chinese and English, for the console's list of schedules; a rule the words do not
cover is shown as it is written."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.schedules.words import describe

START = datetime(2026, 8, 21, 7, 0)  # a Friday


@pytest.mark.parametrize(
    ("rule", "zh", "en"),
    [
        ("FREQ=DAILY", "每天 07:00", "every day at 07:00"),
        ("FREQ=DAILY;BYHOUR=8,14;BYMINUTE=0", "每天 08:00、14:00", "every day at 08:00, 14:00"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "每个工作日 07:00", "every weekday at 07:00"),
        ("FREQ=WEEKLY", "每周五 07:00", "every week on Friday at 07:00"),
        ("FREQ=WEEKLY;BYDAY=TH,MO", "每周一、周四 07:00", "every week on Monday, Thursday at 07:00"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "每2周周一 07:00", "every 2 weeks on Monday at 07:00"),
        ("FREQ=MONTHLY;INTERVAL=6", "每6个月21日 07:00", "every 6 months on the 21st at 07:00"),
        ("FREQ=YEARLY", "每年8月21日 07:00", "every year on the 21st of August at 07:00"),
        ("FREQ=DAILY;INTERVAL=2;COUNT=5", "每2天 07:00，共 5 次", "every 2 days at 07:00, 5 times"),
        ("FREQ=DAILY;UNTIL=20261231T160000Z", "每天 07:00，至 2026-12-31", "every day at 07:00, until 2026-12-31"),
        ("FREQ=MONTHLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=1MO"),
        ("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR", "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR", "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR"),
    ],
)
def test_a_rule_in_words(rule, zh, en):
    assert describe(rule, START) == (zh, en)
