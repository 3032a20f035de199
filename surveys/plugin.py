"""What the owner surveys add to the system: their synced tables and the taking of answers pushed from the app,
the survey_campaign schedule kind, their notifications, the hourly reminders and the improvement actions'
deadlines."""

from __future__ import annotations

from core.jobs import Periodic
from core.notifications.kinds import NotificationKind
from core.schedules.kinds import ScheduleKind
from surveys import app_answers, synced
from surveys.actions import ACTION_DEADLINES
from surveys.jobs import remind_surveys
from surveys.schedules import SurveyPayload, check_survey_payload, make_campaign
from sync.plugins import Plugin

CAMPAIGNS = ScheduleKind(
    name="survey_campaign",
    summary="each occurrence makes the survey's campaign with a link per household (without `survey`: announced)",
    make=make_campaign,
    payload=SurveyPayload,
    payload_field="survey",
    check=check_survey_payload,
    # every six months, open for two weeks
    default_rrule="FREQ=MONTHLY;INTERVAL=6",
    default_minutes=14 * 24 * 60,
    ahead="next",
    title_zh="满意度调查（{name}）：{date} 开始",
    title_en="Satisfaction survey ({name}) starts {date}",
)

PLUGIN = Plugin(
    name="surveys",
    tables=synced.TABLES,
    push_rules=(app_answers.rules,),
    schedule_kinds=(CAMPAIGNS,),
    notification_kinds=(
        NotificationKind(name="survey_reminder", about_zh="问卷即将截止", about_en="a survey closes soon, unanswered"),
        NotificationKind(name="survey_action", about_zh="满意度改进事项", about_en="a survey improvement action"),
        NotificationKind(name="survey_results", about_zh="调查结果已发布", about_en="a survey's results are published"),
    ),
    deadlines=(ACTION_DEADLINES,),
    jobs=(Periodic(name="remind_surveys", run=remind_surveys, minute=frozenset({23})),),
)
