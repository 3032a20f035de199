"""Answers from owners' phones: each synced submission becomes its household's response, through the same rules
as a link's answer (surveys.campaigns), and says on itself whether it was taken.

A refusal here does not refuse the push: the phone may have answered offline before a campaign closed, or the
household's other owner may have answered first. The phone hears of it at its next pull (`status`, `refusal`
and the texts), the way a rejected photo does, and the rest of its push is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import asyncpg
import msgspec

from core import jsontext
from core.access import Caller
from core.clock import Clock
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from core.settings import Settings
from surveys import campaigns
from surveys.repository import submissions as sql
from sync.push import PushRule, Written
from sync.scope import Grants

TABLE = "survey_submissions"

# a refusal's code -> (en, zh) as the owner reads it
REFUSALS: dict[str, tuple[str, str]] = {
    "already_answered": ("Your household has answered this survey already.", "本户已提交过此问卷。"),
    "survey_closed": ("This survey has closed.", "调查已结束。"),
    "survey_scheduled": ("This survey has not started yet.", "调查尚未开始。"),
    "not_invited": ("Your household is not invited to this survey.", "本户不在此次调查范围内。"),
    "invalid_answers": ("Some answers are not valid:", "部分答案有误："),
}


def rules(clock: Clock, settings: Settings) -> PushRule:
    async def take(conn: asyncpg.Connection, caller: Caller, grants: Grants, written: Mapping[str, Written]) -> None:
        pushed = written.get(TABLE)
        if pushed is None or not (pushed.created or pushed.updated):
            return
        now = clock.now()
        for row in await sql.submissions(conn, caller.org_id, [*pushed.created, *pushed.updated]):
            await _take(conn, caller, grants, row, now)

    return take


async def _take(conn: asyncpg.Connection, caller: Caller, grants: Grants, row: asyncpg.Record, now: datetime) -> None:
    if row["unit_id"] not in grants.units:
        raise Forbidden(
            f"{TABLE}.{row['id']}: you may answer only for your own household",
            table=TABLE,
            id=row["id"],
        )
    try:
        try:
            answers = jsontext.decode(row["answers"]) if isinstance(row["answers"], str) else row["answers"]
        except msgspec.DecodeError:  # stored JSON that is too deep for us to read back
            answers = None
        if not isinstance(answers, dict):
            raise Invalid("the answers must be a JSON object of question key -> answer / 答案格式有误")
        async with conn.transaction():  # a savepoint: a refused answer leaves the rest of the push standing
            await campaigns.submit_in_app(conn, caller, row["campaign_id"], row["unit_id"], answers, now)
    except (Conflict, NotFound, Invalid) as refused:
        await sql.refuse(conn, caller.org_id, row["id"], *_refusal(refused))
        return
    await sql.accept(conn, caller.org_id, row["id"])


def _refusal(error: DomainError) -> tuple[str, str, str]:
    code = "not_invited" if isinstance(error, NotFound) else error.code
    if isinstance(error, Invalid):
        code = "invalid_answers"
    en, zh = REFUSALS.get(code, (error.detail, error.detail))
    if isinstance(error, Invalid) and error.errors:
        details = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
        en, zh = f"{en} {details}", f"{zh}{details}"
    return code, en, zh
