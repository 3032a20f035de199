"""What the service desk adds to the system: its synced tables and what a push of them does, its notifications,
the chasing of its deadlines (response, resolution, return visit) and the auto-confirmation of silent owners."""

from __future__ import annotations

from core.jobs import Periodic
from core.notifications.kinds import NotificationKind
from servicedesk import push, synced
from servicedesk.deadlines import DEADLINES
from servicedesk.demo import load_desk_demo
from servicedesk.jobs import confirm_silent_tickets
from sync.plugins import Plugin

PLUGIN = Plugin(
    name="servicedesk",
    tables=synced.TABLES,
    push_rules=(push.rules,),
    notification_kinds=(
        NotificationKind(name="ticket.filed", about_zh="新工单", about_en="new tickets reached the desk"),
        NotificationKind(
            name="ticket.progress",
            about_zh="工单进展（业主）",
            about_en="a step of a household's ticket, for its owners",
        ),
        NotificationKind(name="ticket.assigned", about_zh="工单派给您", about_en="a ticket is assigned to you"),
        NotificationKind(
            name="ticket.reopened",
            about_zh="工单被业主退回或回访不满意",
            about_en="an owner disputed a resolution or rated its return visit 2 or less",
        ),
        NotificationKind(name="ticket.owner-note", about_zh="业主留言", about_en="an owner wrote on a ticket"),
    ),
    jobs=(Periodic(name="confirm_silent_tickets", run=confirm_silent_tickets, minute=frozenset({7, 37})),),
    deadlines=DEADLINES,
    demo=load_desk_demo,
)
