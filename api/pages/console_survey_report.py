"""A campaign's report as the console shows it: figures, a table of dimensions and SVG charts (core/charts.py),
every number taken from the report the API serves (surveys.scoring.Report) and only written here: scores with two
decimals, rates as percentages, changes with their sign. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.pages.lang import Lang
from core.charts import bar_chart
from surveys.models import CHANNELS, LikertQuestion, MultipleChoiceQuestion, NpsQuestion, SingleChoiceQuestion
from surveys.schemas import SurveyTemplateVersion
from surveys.scoring import Report

# a chart's width and its labels' (px): small enough that a 390 px phone shows it near its own size (readable),
# and a desk at most a little larger (console.css)
WIDTH, LABELS = 380, 140


def score(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def change(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _percent_value(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def figures(report: Report, t: Callable[..., str]) -> list[dict[str, str]]:
    """The headline figures: (key as the report names it, label, value as shown, note)."""
    nps_change = "" if report.nps_change is None else f"{report.nps_change:+d}"
    rows = [
        ("responses", t("console.surveys.fig.responses"), f"{report.responses} / {report.invited}", ""),
        ("response_rate", t("console.surveys.fig.response_rate"), percent(report.response_rate), ""),
        (
            "overall_household_score",
            t("console.surveys.fig.overall"),
            score(report.overall_household_score),
            change(report.overall_household_score_change),
        ),
        (
            "overall_satisfaction_rate",
            t("console.surveys.fig.satisfaction"),
            percent(report.overall_satisfaction_rate),
            "",
        ),
        ("nps", t("console.surveys.fig.nps"), "–" if report.nps is None else str(report.nps), nps_change),
        (
            "overall_answer_weighted_score",
            t("console.surveys.fig.weighted"),
            score(report.overall_answer_weighted_score),
            "",
        ),
    ]
    return [{"key": key, "label": label, "value": value, "note": note} for key, label, value, note in rows]


def dimensions(report: Report, lang: Lang) -> list[dict[str, Any]]:
    return [
        {
            "key": d.key,
            "name": d.name_zh if lang == "zh" else d.name_en,
            "households": d.households,
            "score": score(d.household_score),
            "change": change(d.household_score_change),
            "satisfaction": percent(d.satisfaction_rate),
            "weighted": score(d.answer_weighted_score),
            "flagged": d.flagged,
        }
        for d in report.dimensions
    ]


def charts(report: Report, template: SurveyTemplateVersion, t: Callable[..., str], lang: Lang) -> dict[str, Any]:
    """The report's SVG charts: dimension scores with their changes, NPS, channels, buildings, and each
    question's answers (likert, NPS, choices; text questions have none to draw)."""
    named = [(d.name_zh if lang == "zh" else d.name_en) for d in report.dimensions]
    return {
        "dimensions": bar_chart(
            [(name, d.household_score) for name, d in zip(named, report.dimensions, strict=True)],
            title=t("console.surveys.chart.dimensions"),
            top=5,
            width=WIDTH,
            label_width=LABELS,
            notes=[change(d.household_score_change) for d in report.dimensions],
            places=2,
        ),
        "nps": bar_chart(
            [
                (t("console.surveys.promoters"), report.promoters),
                (t("console.surveys.passives"), report.passives),
                (t("console.surveys.detractors"), report.detractors),
            ],
            title=t("console.surveys.chart.nps"),
            width=WIDTH,
            label_width=LABELS,
        ),
        "channels": bar_chart(
            [(t(f"console.surveys.channel_short.{c}"), report.channels.get(c, 0)) for c in CHANNELS],
            title=t("console.surveys.chart.channels"),
            width=WIDTH,
            label_width=LABELS,
        ),
        "buildings": bar_chart(
            [(b.building_name, _percent_value(b.rate)) for b in report.buildings],
            title=t("console.surveys.chart.buildings"),
            unit="%",
            top=100,
            width=WIDTH,
            label_width=LABELS,
        ),
        "questions": _question_charts(report, template, t, lang),
    }


def _question_charts(
    report: Report, template: SurveyTemplateVersion, t: Callable[..., str], lang: Lang
) -> list[dict[str, str]]:
    likert = {q.question_key: q.distribution for q in report.questions}
    made = []
    for number, question in enumerate(template.questions, start=1):
        title = f"{number}. {question.text_zh if lang == 'zh' else question.text_en}"
        bars: list[tuple[str, float | None]]
        if isinstance(question, LikertQuestion):
            counts = likert.get(question.key, {})
            bars = [(f"{k} {t(f'likert.{k}')}", counts.get(k, 0)) for k in range(1, 6)]
        elif isinstance(question, NpsQuestion):
            bars = [(str(k), report.nps_distribution.get(k, 0)) for k in range(11)]
        elif isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
            chosen = report.choices.get(question.key, {})
            bars = [(o.label_zh if lang == "zh" else o.label_en, chosen.get(o.key, 0)) for o in question.options]
        else:
            continue
        made.append(
            {"key": question.key, "svg": bar_chart(bars, title=title, width=WIDTH, label_width=LABELS), "title": title}
        )
    return made
