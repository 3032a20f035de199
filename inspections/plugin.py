"""What the inspections add to the system: their synced tables and push settlement, the inspection_round schedule
kind, their notifications, their rectification orders' deadlines, the jobs marking rounds missed and checking the
evidence, and the demo data."""

from __future__ import annotations

from core.jobs import Periodic
from core.notifications.kinds import NotificationKind
from core.schedules.kinds import ScheduleKind
from inspections import push_settlement, synced
from inspections.deadlines import RECTIFICATION
from inspections.demo import load_inspection_demo
from inspections.evidence.job import check_evidence
from inspections.jobs import mark_missed_rounds
from inspections.schedule_payload import check_round_payload
from inspections.schedules import RoundPayload, make_rounds
from sync.plugins import Plugin

ROUNDS = ScheduleKind(
    name="inspection_round",
    summary="each occurrence makes a round of the checklist (and route) for each assignee",
    make=make_rounds,
    payload=RoundPayload,
    payload_required=True,
    payload_hint="give template_id and assignee_ids (route_id optional)",
    check=check_round_payload,
)

PLUGIN = Plugin(
    name="inspections",
    tables=synced.TABLES,
    push_rules=(push_settlement.rules,),
    schedule_kinds=(ROUNDS,),
    notification_kinds=(
        NotificationKind(
            name="round.missed", about_zh="巡检未开始即过期", about_en="a round's window closed unstarted"
        ),
    ),
    deadlines=(RECTIFICATION,),
    jobs=(
        Periodic(name="mark_missed_rounds", run=mark_missed_rounds, second=frozenset({30})),
        # every minute: the photos hashed and the rounds completed since the last run (docs/evidence.md)
        Periodic(name="check_evidence", run=check_evidence, second=frozenset({45})),
    ),
    demo=load_inspection_demo,
)
