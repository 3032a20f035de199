"""What the owner meetings add to the system: their synced table, the owner_meeting schedule kind, the notices
owners and staff get, and the reminders before a meeting."""

from __future__ import annotations

from core.jobs import Periodic
from core.notifications.kinds import NotificationKind
from core.schedules.kinds import ScheduleKind
from meetings import synced
from meetings.reminders import remind_meetings
from meetings.service import make_meeting
from sync.plugins import Plugin

MEETINGS = ScheduleKind(
    name="owner_meeting",
    summary="each occurrence makes its quarter's owner meeting (planned), unless one was made by hand",
    make=make_meeting,
    # every quarter, two hours
    default_rrule="FREQ=MONTHLY;INTERVAL=3",
    default_minutes=120,
    ahead="next",
    title_zh="业主会议（{name}）：{date}",
    title_en="Owner meeting ({name}): {date}",
)

PLUGIN = Plugin(
    name="meetings",
    tables=synced.TABLES,
    schedule_kinds=(MEETINGS,),
    notification_kinds=(
        NotificationKind(name="meeting.notice", about_zh="业主会议通知", about_en="an owner meeting is noticed"),
        NotificationKind(name="meeting.updated", about_zh="业主会议变更", about_en="a noticed owner meeting changed"),
        NotificationKind(name="meeting.minutes", about_zh="业主会议纪要发布", about_en="a meeting's minutes are out"),
        NotificationKind(name="meeting.reminder", about_zh="业主会议明天举行", about_en="an owner meeting is tomorrow"),
        NotificationKind(name="meeting.cancelled", about_zh="业主会议取消", about_en="a noticed owner meeting is off"),
        NotificationKind(
            name="meeting.notice_due",
            about_zh="业主会议一周内举行但未发通知",
            about_en="an owner meeting starts within a week and its notice is not sent",
        ),
    ),
    jobs=(Periodic(name="remind_meetings", run=remind_meetings, minute=frozenset(range(4, 60, 10))),),
)
