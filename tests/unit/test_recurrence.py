"""Recurrence rules in a property's time zone: month ends clamped, wall time kept across DST, bad rules refused.
Fixed times only; no clock is read."""

from datetime import UTC, datetime

import pytest

from core.errors import Invalid
from core.schedules.recurrence import check, occurrences, upcoming

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
SIX_MONTHLY = "FREQ=MONTHLY;INTERVAL=6"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_six_monthly_campaign_from_31_august_takes_the_last_day_of_february_in_shanghai():
    starts = occurrences(SIX_MONTHLY, datetime(2026, 8, 31, 9, 0), SHANGHAI, utc(2026, 1, 1), utc(2029, 8, 31))
    # 09:00 in Shanghai (UTC+8, no DST) is 01:00 UTC all year
    assert starts == [
        utc(2026, 8, 31, 1),
        utc(2027, 2, 28, 1),
        utc(2027, 8, 31, 1),
        utc(2028, 2, 29, 1),
        utc(2028, 8, 31, 1),
        utc(2029, 2, 28, 1),
    ]


def test_a_six_monthly_campaign_from_31_august_keeps_nine_oclock_local_across_dst_in_new_york():
    starts = occurrences(SIX_MONTHLY, datetime(2026, 8, 31, 9, 0), NEW_YORK, utc(2026, 1, 1), utc(2029, 9, 1))
    # 09:00 EDT (UTC-4) in August is 13:00 UTC; 09:00 EST (UTC-5) in February is 14:00 UTC
    assert starts == [
        utc(2026, 8, 31, 13),
        utc(2027, 2, 28, 14),
        utc(2027, 8, 31, 13),
        utc(2028, 2, 29, 14),
        utc(2028, 8, 31, 13),
        utc(2029, 2, 28, 14),
        utc(2029, 8, 31, 13),
    ]


def test_a_six_monthly_campaign_from_a_leap_day_keeps_the_29th_when_the_month_has_it():
    shanghai = occurrences(SIX_MONTHLY, datetime(2028, 2, 29, 9, 0), SHANGHAI, utc(2028, 1, 1), utc(2031, 2, 28))
    assert shanghai == [
        utc(2028, 2, 29, 1),
        utc(2028, 8, 29, 1),
        utc(2029, 2, 28, 1),
        utc(2029, 8, 29, 1),
        utc(2030, 2, 28, 1),
        utc(2030, 8, 29, 1),
    ]
    new_york = occurrences(SIX_MONTHLY, datetime(2028, 2, 29, 9, 0), NEW_YORK, utc(2028, 1, 1), utc(2031, 2, 28))
    assert new_york == [
        utc(2028, 2, 29, 14),
        utc(2028, 8, 29, 13),
        utc(2029, 2, 28, 14),
        utc(2029, 8, 29, 13),
        utc(2030, 2, 28, 14),
        utc(2030, 8, 29, 13),
    ]


def test_a_yearly_schedule_from_a_leap_day_falls_on_28_february_in_other_years():
    starts = occurrences("FREQ=YEARLY", datetime(2028, 2, 29, 9, 0), SHANGHAI, utc(2028, 1, 1), utc(2033, 1, 1))
    assert starts == [
        utc(2028, 2, 29, 1),
        utc(2029, 2, 28, 1),
        utc(2030, 2, 28, 1),
        utc(2031, 2, 28, 1),
        utc(2032, 2, 29, 1),
    ]


def test_month_ends_clamp_for_the_30th_and_with_several_times_a_day():
    starts = occurrences("FREQ=MONTHLY", datetime(2027, 1, 30, 8, 0), SHANGHAI, utc(2027, 1, 1), utc(2027, 5, 1))
    assert starts == [utc(2027, 1, 30, 0), utc(2027, 2, 28, 0), utc(2027, 3, 30, 0), utc(2027, 4, 30, 0)]
    twice = occurrences(
        "FREQ=MONTHLY;BYHOUR=9,17", datetime(2027, 1, 31, 9, 0), SHANGHAI, utc(2027, 1, 1), utc(2027, 3, 1)
    )
    assert twice == [utc(2027, 1, 31, 1), utc(2027, 1, 31, 9), utc(2027, 2, 28, 1), utc(2027, 2, 28, 9)]


def test_a_rule_that_names_its_days_means_what_it_says():
    # BYMONTHDAY=31 chooses the 31st: months without one are skipped, as RFC 5545 says
    starts = occurrences(
        "FREQ=MONTHLY;BYMONTHDAY=31", datetime(2027, 1, 31, 9, 0), SHANGHAI, utc(2027, 1, 1), utc(2027, 6, 1)
    )
    assert starts == [utc(2027, 1, 31, 1), utc(2027, 3, 31, 1), utc(2027, 5, 31, 1)]


def test_a_daily_0230_schedule_across_the_spring_forward_day_in_new_york():
    starts = occurrences("FREQ=DAILY", datetime(2027, 3, 1, 2, 30), NEW_YORK, utc(2027, 3, 13), utc(2027, 3, 16))
    assert starts == [
        utc(2027, 3, 13, 7, 30),  # 02:30 EST
        utc(2027, 3, 14, 7, 30),  # 02:30 does not exist that day: 03:30 EDT, one hour later in wall time
        utc(2027, 3, 15, 6, 30),  # 02:30 EDT
    ]


def test_a_daily_0230_schedule_across_the_fall_back_day_in_new_york():
    starts = occurrences("FREQ=DAILY", datetime(2027, 11, 1, 2, 30), NEW_YORK, utc(2027, 11, 6), utc(2027, 11, 9))
    assert starts == [
        utc(2027, 11, 6, 6, 30),  # 02:30 EDT
        utc(2027, 11, 7, 7, 30),  # 02:30 EST: after the clocks went back, so it happens once
        utc(2027, 11, 8, 7, 30),  # 02:30 EST
    ]
    # 01:30 happens twice on the fall-back day: the first one (EDT) is taken
    early = occurrences("FREQ=DAILY", datetime(2027, 11, 1, 1, 30), NEW_YORK, utc(2027, 11, 6), utc(2027, 11, 9))
    assert early == [utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)]


def test_the_window_is_half_open_and_in_utc():
    start = datetime(2027, 3, 1, 9, 0)  # 01:00 UTC in Shanghai
    assert occurrences("FREQ=DAILY", start, SHANGHAI, utc(2027, 3, 2, 1), utc(2027, 3, 4, 1)) == [
        utc(2027, 3, 2, 1),
        utc(2027, 3, 3, 1),
    ]
    # before dtstart there is nothing
    assert occurrences("FREQ=DAILY", start, SHANGHAI, utc(2027, 1, 1), utc(2027, 3, 1, 1)) == []


def test_two_local_times_that_are_one_instant_count_once():
    # on the spring-forward day 02:30 (which does not exist) and 03:30 are both 07:30 UTC
    starts = occurrences(
        "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30", datetime(2027, 3, 13, 2, 30), NEW_YORK, utc(2027, 3, 14), utc(2027, 3, 15)
    )
    assert starts == [utc(2027, 3, 14, 7, 30)]


def test_a_quarterly_owner_meeting():
    starts = occurrences(
        "FREQ=MONTHLY;INTERVAL=3", datetime(2026, 1, 15, 19, 0), SHANGHAI, utc(2026, 1, 1), utc(2027, 1, 16)
    )
    assert starts == [
        utc(2026, 1, 15, 11),
        utc(2026, 4, 15, 11),
        utc(2026, 7, 15, 11),
        utc(2026, 10, 15, 11),
        utc(2027, 1, 15, 11),
    ]
    # from the last day of January: the last day of April, July and October
    from_end = occurrences(
        "FREQ=MONTHLY;INTERVAL=3", datetime(2026, 1, 31, 19, 0), SHANGHAI, utc(2026, 1, 1), utc(2027, 1, 1)
    )
    assert from_end == [utc(2026, 1, 31, 11), utc(2026, 4, 30, 11), utc(2026, 7, 31, 11), utc(2026, 10, 31, 11)]


def test_upcoming_gives_the_next_ones_from_a_moment():
    after = utc(2027, 3, 13, 12)
    assert upcoming("FREQ=DAILY", datetime(2027, 3, 1, 2, 30), NEW_YORK, after, 3) == [
        utc(2027, 3, 14, 7, 30),
        utc(2027, 3, 15, 6, 30),
        utc(2027, 3, 16, 6, 30),
    ]
    assert upcoming(SIX_MONTHLY, datetime(2026, 8, 31, 9, 0), SHANGHAI, utc(2026, 9, 1), 2) == [
        utc(2027, 2, 28, 1),
        utc(2027, 8, 31, 1),
    ]
    # a rule that ends gives what it has
    assert upcoming("FREQ=WEEKLY;COUNT=2", datetime(2027, 1, 4, 8, 0), SHANGHAI, utc(2027, 1, 1), 5) == [
        utc(2027, 1, 4, 0),
        utc(2027, 1, 11, 0),
    ]


def test_count_and_until_end_a_rule():
    start = datetime(2027, 1, 1, 9, 0)
    assert occurrences("FREQ=DAILY;COUNT=2", start, SHANGHAI, utc(2027, 1, 1), utc(2028, 1, 1)) == [
        utc(2027, 1, 1, 1),
        utc(2027, 1, 2, 1),
    ]
    # an UNTIL in UTC is an instant: 01:00 UTC on 3 January is 09:00 that day in Shanghai, included
    assert occurrences("FREQ=DAILY;UNTIL=20270103T010000Z", start, SHANGHAI, utc(2027, 1, 1), utc(2028, 1, 1)) == [
        utc(2027, 1, 1, 1),
        utc(2027, 1, 2, 1),
        utc(2027, 1, 3, 1),
    ]


def test_check_normalises_a_good_rule():
    assert check(" rrule:freq=monthly; interval=6 ", datetime(2026, 8, 31, 9), SHANGHAI) == "FREQ=MONTHLY;INTERVAL=6"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=30",
        "FREQ=SECONDLY",
        "INTERVAL=2",  # no FREQ
        "FREQ=FORTNIGHTLY",
        "FREQ=MONTHLY;INTERVAL=six",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=MONTHLY;COLOUR=RED",
        "FREQ=MONTHLY;FREQ=YEARLY",
        "FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z",
        "FREQ=MONTHLY\nRDATE:20270101T090000",  # a second line
        "not a rule",
        "",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",  # never happens
    ],
)
def test_bad_rules_are_refused_naming_the_rrule_field(rule):
    with pytest.raises(Invalid) as refused:
        check(rule, datetime(2027, 1, 1, 9), SHANGHAI)
    assert [e.field for e in refused.value.errors] == ["rrule"]


def test_a_start_with_an_offset_is_refused():
    with pytest.raises(Invalid) as refused:
        check("FREQ=DAILY", datetime(2027, 1, 1, 9, tzinfo=UTC), SHANGHAI)
    assert [e.field for e in refused.value.errors] == ["dtstart_local"]
