"""A survey campaign's responses and scores as a file: CSV (the responses) or XLSX (the responses, the scores and
each building's response rate). No access checks: the caller makes them.

- One row per response, numbered 1..n in submission order (never its id), then building and unit (never for an
  anonymous campaign: those columns are left out, and the SQL gives NULL there anyway), channel, the time it was
  submitted in the property's zone (an anonymous campaign: the day, in an order within the day that tells
  nothing), and one column per question in template order.
- What a household wrote cannot become a formula (core/tabular.py `neutralised`), in both formats.
- The responses and the report are read in one REPEATABLE READ READ ONLY transaction, so they agree; the
  responses through a server-side cursor, a batch at a time. The CSV is written as the batches arrive; the XLSX
  is written with XlsxWriter, off the event loop (it is CPU work), and answered whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from core.db import acquire
from core.errors import NotFound
from core.tabular import BOM, Book, Cell, attachment, csv_lines, neutralised
from surveys import scoring
from surveys.models import Question
from surveys.questions import cell_value
from surveys.report import campaign_report
from surveys.repository import export as sql

BATCH = 500


class ExportedCampaign(msgspec.Struct, frozen=True):
    """What shaping a campaign's rows needs to know about it."""

    anonymous: bool
    zone: ZoneInfo
    questions: list[Question]


def content_disposition(campaign_id: str, name_zh: str, extension: str) -> str:
    """An attachment named survey-<id>.<ext>, and (RFC 5987/6266) the campaign's Chinese name for clients that
    read filename*."""
    return attachment(f"survey-{campaign_id}.{extension}", f"{name_zh}.{extension}")


def response_header(export: ExportedCampaign) -> list[str]:
    zone = export.zone.key
    named = [] if export.anonymous else ["楼栋 Building", "房屋 ID Unit id", "房号 Unit"]
    return [
        "序号 No.",
        *named,
        "渠道 Channel",
        # an anonymous campaign gives the day only (see surveys/repository/export.py)
        f"提交日期 Submitted on ({zone})" if export.anonymous else f"提交时间 Submitted at ({zone})",
        *(neutralised(f"{q.key}: {q.text_zh} / {q.text_en}") for q in export.questions),
    ]


def response_cells(export: ExportedCampaign, number: int, row: asyncpg.Record) -> list[Cell]:
    """One response's cells, as response_header names them; an unanswered (or hidden) question is None."""
    answers: dict[str, Any] = row["answers"] or {}
    local = row["submitted_at"].astimezone(export.zone)
    submitted: Cell = local.date() if export.anonymous else local.replace(tzinfo=None, microsecond=0)
    named: list[Cell] = []
    if not export.anonymous:
        building = row["building_name"] or ""
        unit = f"{building} {row['unit_number']}".strip() if row["unit_number"] else None
        named = [neutralised(building) or None, row["unit_id"], neutralised(unit) if unit else None]
    return [number, *named, row["channel"], submitted, *(_answer(q, answers.get(q.key)) for q in export.questions)]


def _answer(question: Question, value: Any) -> Cell:
    if value is None or value == "" or value == []:
        return None
    shown = cell_value(question, value)
    return neutralised(shown) if isinstance(shown, str) else shown


def score_rows(report: scoring.Report) -> list[list[Cell]]:
    """The Scores sheet: a row per dimension, then the campaign's figures, one per row."""
    rows: list[list[Cell]] = [
        [
            "维度 Dimension",
            "中文名 Name (zh)",
            "英文名 Name (en)",
            "答题户数 Households",
            "答题数 Answers",
            "户均得分 Household score",
            "满意户数 Satisfied households",
            "满意率 Satisfaction rate (households)",
            "按答题加权得分 Answer-weighted score",
            "户均得分变化 Household score change",
            "需改进 Flagged",
        ]
    ]
    rows += [
        [
            d.key,
            neutralised(d.name_zh),
            neutralised(d.name_en),
            d.households,
            d.answers,
            d.household_score,
            d.satisfied_households,
            d.satisfaction_rate,
            d.answer_weighted_score,
            d.household_score_change,
            d.flagged,
        ]
        for d in report.dimensions
    ]
    rows.append([])
    rows += [
        ["评分户数 Rated households", report.rated_households],
        ["总体户均得分 Overall household score", report.overall_household_score],
        ["总体户均得分变化 Overall household score change", report.overall_household_score_change],
        ["总体满意户数 Satisfied households", report.satisfied_households],
        ["总体满意率 Overall satisfaction rate (households)", report.overall_satisfaction_rate],
        ["按答题加权总体得分 Overall answer-weighted score", report.overall_answer_weighted_score],
        ["净推荐值 NPS", report.nps],
        ["净推荐值变化 NPS change", report.nps_change],
        ["推荐者 Promoters", report.promoters],
        ["中立者 Passives", report.passives],
        ["贬损者 Detractors", report.detractors],
        ["答卷数 Responses", report.responses],
        ["邀请户数 Invited", report.invited],
        ["回复率 Response rate", report.response_rate],
    ]
    return rows


def building_rows(report: scoring.Report) -> list[list[Cell]]:
    """The Buildings sheet: counts per building, which name no household even in an anonymous campaign."""
    header: list[Cell] = ["楼栋 Building", "邀请户数 Invited", "已答户数 Responded", "回复率 Response rate"]
    return [header] + [[neutralised(b.building_name), b.invited, b.responded, b.rate] for b in report.buildings]


# --- reading ----------------------------------------------------------------------------------------------


async def _export_of(conn: asyncpg.Connection, org_id: str, campaign_id: str) -> ExportedCampaign:
    row = await sql.export_campaign(conn, org_id, campaign_id)
    if row is None:
        raise NotFound(f"campaign {campaign_id} not found", entity="campaign", id=campaign_id)
    return ExportedCampaign(
        anonymous=row["anonymous"],
        zone=ZoneInfo(row["timezone"]),
        questions=msgspec.convert(row["questions"], list[Question]),
    )


async def _numbered_batches(
    conn: asyncpg.Connection, export: ExportedCampaign, org_id: str, campaign_id: str
) -> AsyncIterator[list[list[Cell]]]:
    number = 0
    async for batch in sql.response_batches(conn, org_id, campaign_id, BATCH):
        cells = []
        for row in batch:
            number += 1
            cells.append(response_cells(export, number, row))
        yield cells


# --- CSV ----------------------------------------------------------------------------------------------------


async def csv_chunks(pool: asyncpg.Pool, org_id: str, campaign_id: str) -> AsyncIterator[bytes]:
    """The campaign's responses as UTF-8 CSV (with a BOM), a batch of rows per chunk."""
    async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        export = await _export_of(conn, org_id, campaign_id)
        yield BOM.encode() + csv_lines([response_header(export)])
        async for rows in _numbered_batches(conn, export, org_id, campaign_id):
            yield csv_lines(rows)


# --- XLSX ---------------------------------------------------------------------------------------------------


async def xlsx_bytes(pool: asyncpg.Pool, org_id: str, campaign_id: str) -> bytes:
    """The workbook: sheets Responses, Scores (the report) and Buildings (response rates)."""
    book = Book()
    responses, scores, buildings = (book.sheet(name, frozen_rows=1) for name in ("Responses", "Scores", "Buildings"))
    async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        export = await _export_of(conn, org_id, campaign_id)
        report = await campaign_report(conn, org_id, campaign_id)
        await asyncio.to_thread(responses.append, [response_header(export)])
        async for rows in _numbered_batches(conn, export, org_id, campaign_id):
            await asyncio.to_thread(responses.append, rows)
    await asyncio.to_thread(scores.append, score_rows(report))
    await asyncio.to_thread(buildings.append, building_rows(report))
    return await asyncio.to_thread(book.to_bytes)
