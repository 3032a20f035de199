"""The steps of a deadline (core/deadlines.py): the latest reminder only, the flag at it, the escalations after."""

from datetime import UTC, datetime, timedelta

import msgspec

from core.deadlines import DeadlineKind, Policy, policy_of, steps_due
from core.settings import Settings

DUE = datetime(2027, 3, 1, 12, tzinfo=UTC)


def names(hours_from_due: float, policy: Policy = Policy()) -> list[str]:
    return [step.name for step in steps_due(DUE, DUE + timedelta(hours=hours_from_due), policy)]


def test_only_the_latest_reminder_is_due_before_the_deadline():
    assert names(-30) == []
    assert names(-24) == ["remind-24h"]
    assert names(-1.5) == ["remind-2h"]


def test_at_and_after_the_deadline_the_flag_and_the_escalations_that_came():
    assert names(0) == ["overdue"]
    assert names(4) == ["overdue", "escalate-supervisors"]
    assert names(72) == ["overdue", "escalate-supervisors", "escalate-admins"]


def test_a_fraction_of_an_hour_is_named_in_minutes():
    short = Policy(reminder_hours=(1, 0.5, 0.01))
    assert names(-0.75, short) == ["remind-1h"]
    assert names(-0.25, short) == ["remind-30m"]
    assert names(-0.001, short) == ["remind-36s"]


async def _nothing(conn, horizon):
    return []


def test_a_kind_s_own_reminders_override_the_settings():
    kind = DeadlineKind(name="quick", about_zh="急事", about_en="a quick thing", texts={}, due_by=_nothing)
    settings = Settings(reminders="48,3", escalate_supervisors_hours=1, escalate_admins_hours=8)
    assert policy_of(settings) == Policy(reminder_hours=(48, 3), escalation_hours=(1, 8))
    assert policy_of(settings, kind) == Policy(reminder_hours=(48, 3), escalation_hours=(1, 8))
    hurried = msgspec.structs.replace(kind, reminder_hours=(1,))
    assert policy_of(settings, hurried) == Policy(reminder_hours=(1,), escalation_hours=(1, 8))
