"""The property report as an A4 PDF, made from reports/figures.py PropertyReport alone: a cover, the KPI table with
the period before, the 12-month trend charts (drawn with fpdf2's lines, so their words are the document's embedded
font), the rectification ledger, satisfaction and its actions, the service desk. Chinese first, English beside.

The font is core/pdf.py's Noto Sans CJK SC, embedded as a subset: the PDF reads the same on a machine with no CJK
font. CPU work (tens of milliseconds): the job runs it in a thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF

from core.pdf import A4_WIDTH, FONT, fitted, new_a4
from reports.figures import PropertyReport, TrendMonth
from reports.words import (
    ACTION_STATES,
    CATEGORIES,
    SEVERITIES,
    change,
    number,
    percent,
    period_title,
    report_title,
    score,
    word,
)

MARGIN = 18.0
WIDTH = A4_WIDTH - 2 * MARGIN
INK = (20, 20, 20)
GREY = (100, 100, 100)
RULE = (190, 190, 190)
ACCENT = (31, 92, 153)
ROW = 7.0
TITLE_TOP = 60.0  # the cover's Chinese title's baseline region (tests look for its ink)


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _heading(pdf: FPDF, zh: str, en: str) -> float:
    """A page's heading; returns the y below it."""
    pdf.add_page()
    pdf.set_text_color(*ACCENT)
    pdf.set_font(FONT, size=16)
    pdf.text(MARGIN, MARGIN + 6, zh)
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(*GREY)
    pdf.text(MARGIN, MARGIN + 12, en)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.line(MARGIN, MARGIN + 15, MARGIN + WIDTH, MARGIN + 15)
    pdf.set_text_color(*INK)
    return MARGIN + 22


def _table(pdf: FPDF, y: float, widths: Sequence[float], header: Sequence[str], rows: Sequence[Sequence[str]]) -> float:
    """A table of text cells (the first column left, the others right aligned); returns the y below it."""
    pdf.set_line_width(0.2)
    pdf.set_draw_color(*RULE)
    for index, cells in enumerate([header, *rows]):
        pdf.set_font(FONT, size=9 if index else 8.5)
        pdf.set_text_color(*(GREY if index == 0 else INK))
        x = MARGIN
        for column, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            text = fitted(pdf, cell, width - 2)
            offset = 1 if column == 0 else width - 1 - pdf.get_string_width(text)
            pdf.text(x + offset, y + ROW - 2.2, text)
            x += width
        y += ROW
        pdf.line(MARGIN, y, MARGIN + sum(widths), y)
    pdf.set_text_color(*INK)
    return y + 4


def _cover(pdf: FPDF, report: PropertyReport) -> None:
    pdf.add_page()
    title_zh, title_en = report_title(report.period)
    when_zh, when_en = period_title(report.period)
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, A4_WIDTH, 12, style="F")
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=28)
    pdf.text(MARGIN, TITLE_TOP, title_zh)
    pdf.set_font(FONT, size=14)
    pdf.set_text_color(*GREY)
    pdf.text(MARGIN, TITLE_TOP + 10, title_en)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=20)
    pdf.text(MARGIN, TITLE_TOP + 35, report.property_name)
    pdf.set_font(FONT, size=16)
    pdf.text(MARGIN, TITLE_TOP + 50, f"{when_zh}  {when_en}")
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(*GREY)
    lines = [
        f"报告期 Period: {report.period.first.isoformat()} – {report.period.last.isoformat()} ({report.timezone})",
        f"对比上期 Compared with: {report.previous_period.label}",
        f"生成时间 Made at: {_local(report.made_at, report.timezone)}",
        "呈送：业主委员会、物业服务企业  For the owners' committee and the company",
    ]
    for i, line in enumerate(lines):
        pdf.text(MARGIN, TITLE_TOP + 70 + 7 * i, line)
    pdf.set_text_color(*INK)


def _kpi_page(pdf: FPDF, report: PropertyReport) -> None:
    y = _heading(pdf, "一、巡检关键指标", "Inspection KPIs")
    rows = [
        [f"{f.zh} {f.en}", number(f.value, f.kind), number(f.previous, f.kind), change(f.value, f.previous, f.kind)]
        for f in report.figures
    ]
    header = ["指标 Figure", f"本期 {report.period.label}", f"上期 {report.previous_period.label}", "变化 Change"]
    y = _table(pdf, y, [80, 32, 32, 30], header, rows)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*GREY)
    notes = [
        "比率的分母为零时记为“—”。A rate with nothing to count is shown as “—”.",
        "整改按时率：首次期限落在本期且已到期的整改单中，按期提交的比例。",
        "Rectification on time: orders handed in by their first deadline, of those whose first deadline fell "
        "in the period.",
    ]
    for i, note in enumerate(notes):
        pdf.text(MARGIN, y + 4 + 5 * i, note)
    pdf.set_text_color(*INK)


TRENDS: list[tuple[str, str, Callable[[TrendMonth], float | None]]] = [
    ("巡检完成率", "Round completion", lambda t: t.completion_rate),
    ("点位准时率", "Visits on time", lambda t: t.visit_on_time_rate),
    ("检查合格率", "Item pass rate", lambda t: t.pass_rate),
    ("整改按时率", "Rectification on time", lambda t: t.rectification_on_time_rate),
]


def _chart(
    pdf: FPDF,
    x: float,
    y: float,
    w: float,
    h: float,
    title: str,
    months: list[TrendMonth],
    get: Callable[[TrendMonth], float | None],
) -> None:
    """A line chart of a rate over the months, 0-100 %, drawn with lines; a month with nothing counted leaves a
    gap."""
    pdf.set_font(FONT, size=9.5)
    pdf.set_text_color(*INK)
    pdf.text(x, y + 4, title)
    top, left = y + 9, x + 10
    plot_w, plot_h = w - 12, h - 18
    pdf.set_font(FONT, size=6.5)
    pdf.set_text_color(*GREY)
    pdf.set_line_width(0.15)
    pdf.set_draw_color(*RULE)
    for share in (0, 0.5, 1):
        line_y = top + plot_h * (1 - share)
        pdf.line(left, line_y, left + plot_w, line_y)
        pdf.text(x, line_y + 1, f"{share * 100:.0f}%")
    step = plot_w / max(len(months) - 1, 1)
    for i, month in enumerate(months):
        if (len(months) - 1 - i) % 3 == 0:  # every third month, ending with the period's
            label = month.month[2:]
            pdf.text(left + i * step - pdf.get_string_width(label) / 2, top + plot_h + 4, label)
    pdf.set_draw_color(*ACCENT)
    pdf.set_fill_color(*ACCENT)
    pdf.set_line_width(0.6)
    run: list[tuple[float, float]] = []
    points = [(left + i * step, get(m)) for i, m in enumerate(months)]
    for px, value in [*points, (0.0, None)]:
        if value is None:
            if len(run) > 1:
                pdf.polyline(run)
            run = []
            continue
        py = top + plot_h * (1 - max(0.0, min(1.0, value)))
        run.append((px, py))
        pdf.ellipse(px - 0.8, py - 0.8, 1.6, 1.6, style="F")
    last = months[-1] if months else None
    if last is not None:
        pdf.set_font(FONT, size=8)
        pdf.set_text_color(*INK)
        pdf.text(x + w - 22, y + 4, f"{last.month}: {percent(get(last))}")
    pdf.set_text_color(*INK)


def _trend_page(pdf: FPDF, report: PropertyReport) -> None:
    y = _heading(pdf, "二、近12个月趋势", "Trend over the last 12 months")
    w, h = (WIDTH - 8) / 2, 60.0
    for i, (zh, en, get) in enumerate(TRENDS):
        row, column = divmod(i, 2)
        _chart(pdf, MARGIN + column * (w + 8), y + row * (h + 8), w, h, f"{zh} {en}", report.trend, get)
    rows = [
        [
            t.month,
            percent(t.completion_rate),
            percent(t.visit_on_time_rate),
            percent(t.pass_rate),
            percent(t.rectification_on_time_rate),
        ]
        for t in report.trend
    ]
    header = ["月份 Month", "完成率 Completion", "准时率 On time", "合格率 Pass", "整改按时 Fix on time"]
    _table(pdf, y + 2 * (h + 8) + 2, [30, 36, 36, 36, 36], header, rows)


def _ledger_page(pdf: FPDF, report: PropertyReport) -> None:
    y = _heading(pdf, "三、整改台账汇总", "Rectification ledger")
    ledger = report.ledger
    rows = [
        ["本期新开 Opened", str(ledger.opened)],
        ["本期完成（已提交） Fixed (handed in)", str(ledger.fixed)],
        ["本期到期 Due", str(ledger.due)],
        ["按期完成 On time", str(ledger.due_on_time)],
        ["逾期未完成 Overdue", str(ledger.overdue)],
        ["期末未完成 Still open", str(ledger.open)],
        ["整改按时率 On-time rate", percent(ledger.on_time_rate)],
    ]
    y = _table(pdf, y, [110, 40], ["项目 Item", "数量 Count"], rows)
    pdf.set_font(FONT, size=11)
    pdf.text(MARGIN, y + 4, "按类别与严重程度 By category and severity")
    lines = [
        [
            word(CATEGORIES, line.category),
            word(SEVERITIES, line.severity),
            str(line.opened),
            str(line.fixed),
            str(line.open),
            str(line.overdue),
        ]
        for line in ledger.lines
    ] or [["本期无整改单 No orders", "", "", "", "", ""]]
    header = ["类别 Category", "严重程度 Severity", "新开 Opened", "完成 Fixed", "未完成 Open", "逾期 Overdue"]
    _table(pdf, y + 8, [42, 34, 24, 24, 25, 25], header, lines[:28])


def _satisfaction_page(pdf: FPDF, report: PropertyReport) -> None:
    y = _heading(pdf, "四、业主满意度与改进措施", "Owner satisfaction and improvement actions")
    found = report.satisfaction
    if found is None:
        pdf.set_font(FONT, size=11)
        pdf.text(MARGIN, y + 4, "截至本期末尚无已结束的满意度调查。No survey campaign had closed by the period's end.")
        return
    pdf.set_font(FONT, size=11)
    pdf.text(MARGIN, y + 2, fitted(pdf, f"{found.name_zh}  {found.name_en}", WIDTH))
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*GREY)
    pdf.text(MARGIN, y + 8, f"截止 Closed: {_local(found.closes_at, report.timezone)}")
    pdf.set_text_color(*INK)
    nps = "—" if found.nps is None else str(found.nps)
    nps_change = "—" if found.nps_change is None else f"{found.nps_change:+d}"
    score_change = "—" if found.score_change is None else f"{found.score_change:+.2f}"
    rows = [
        ["综合得分（1-5） Overall score", score(found.score), score_change],
        ["满意率 Satisfaction rate", percent(found.satisfaction_rate), ""],
        ["净推荐值 NPS", nps, nps_change],
        ["回收 Responses", f"{found.responses} / {found.invited}", percent(found.response_rate)],
    ]
    y = _table(pdf, y + 12, [90, 40, 44], ["指标 Figure", "结果 Result", "较上次 Change"], rows)
    dims = [
        [
            f"{d.name_zh} {d.name_en}",
            score(d.score),
            "—" if d.change is None else f"{d.change:+.2f}",
            percent(d.satisfaction_rate),
        ]
        for d in found.dimensions
    ]
    header = ["维度 Dimension", "得分 Score", "较上次 Change", "满意率 Satisfied"]
    y = _table(pdf, y, [80, 30, 34, 30], header, dims[:12])
    pdf.set_font(FONT, size=11)
    pdf.text(MARGIN, y + 2, "改进措施 Improvement actions")
    actions = [
        [
            f"{a.title_zh} {a.title_en}",
            a.dimension_zh,
            a.due_at.astimezone(ZoneInfo(report.timezone)).date().isoformat(),
            word(ACTION_STATES, a.status),
        ]
        for a in found.actions
    ] or [["暂无 None", "", "", ""]]
    _table(pdf, y + 6, [92, 26, 26, 30], ["措施 Action", "维度 Dimension", "期限 Due", "状态 State"], actions[:14])


def _desk_page(pdf: FPDF, report: PropertyReport) -> None:
    desk = report.service_desk
    if desk is None:
        return
    y = _heading(pdf, "五、客服报事报修", "Service desk")
    t = desk.totals
    rows = [
        ["受理工单 Tickets received", str(t.intake.received)],
        ["其中投诉 Complaints", str(t.intake.complaints)],
        ["投诉率（每百户） Complaints per 100 households", number(desk.complaints_per_100_households, "decimal")],
        ["重复报事率 Repeat rate", percent(t.intake.repeat_rate)],
        ["响应及时率 Response on time", percent(t.response.on_time_rate)],
        ["平均响应时长 Mean time to respond", number(t.response.mean_hours_to_respond, "hours")],
        ["处理及时率 Resolution on time", percent(t.resolution.on_time_rate)],
        ["已处理 Resolved", str(t.resolution.resolved)],
        ["一次解决率 First-time fix rate", percent(t.resolution.first_time_fix_rate)],
        ["回访率 Return-visit coverage", percent(t.visits.visit_coverage)],
        ["回访平均评分 Mean visit rating", score(t.visits.mean_rating)],
    ]
    _table(pdf, y, [120, 40], ["指标 Figure", f"本期 {report.period.label}"], rows)


def render_pdf(report: PropertyReport) -> bytes:
    """The report's PDF (call it in a thread)."""
    title_zh, title_en = report_title(report.period)
    pdf = new_a4(f"{report.property_name} {title_zh} {title_en} {report.period.label}")
    _cover(pdf, report)
    _kpi_page(pdf, report)
    _trend_page(pdf, report)
    _ledger_page(pdf, report)
    _satisfaction_page(pdf, report)
    _desk_page(pdf, report)
    for page in range(1, pdf.pages_count + 1):
        pdf.page = page
        pdf.set_font(FONT, size=7.5)
        pdf.set_text_color(*GREY)
        pdf.text(MARGIN, 290, f"{report.property_name} · {report.period.label} · 第 {page} / {pdf.pages_count} 页")
    return bytes(pdf.output())
