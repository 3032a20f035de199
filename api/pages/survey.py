"""The survey page at a household's link: the same address answers a browser with this page and an API client
with JSON (api/routes/surveys.py). Without JavaScript the form is a plain POST: every question is shown, skip logic
is applied on the server (answers to skipped questions are dropped, surveys.answers.drop_hidden), errors come back
beside each question with what was typed kept. A form sent from a page that is no longer true (sent twice, or
changed meanwhile from another phone) is refused with nothing stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, assert_never

import asyncpg
import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.edge import client_address
from api.pages.formats import local_time
from api.pages.lang import Lang, lang_of
from api.pages.render import page
from api.pages.texts import in_lang, translator
from core import throttle
from core.errors import Conflict, Invalid
from surveys import campaigns
from surveys.answers import drop_hidden
from surveys.models import (
    LikertQuestion,
    MultipleChoiceQuestion,
    NpsQuestion,
    Question,
    ShowIf,
    SingleChoiceQuestion,
    TextQuestion,
)
from surveys.schemas import SurveyForm

FIELD = "a."  # a question's form field: "a.<question key>"
NEVER = datetime.min.replace(tzinfo=UTC)  # what a garbled `seen` stands for: no stored answer matches it


def answers_from_form(questions: list[Question], form: FormMultiDict) -> dict[str, object]:
    """The answers a form holds, typed as the survey's checks read them (a score as a number); fields naming no
    question are kept, to be refused by the checks like any other wrong answer."""
    given: dict[str, list[str]] = {}
    for name in form:
        if not name.startswith(FIELD):
            continue
        values = [value.strip() for value in form.getall(name) if isinstance(value, str) and value.strip()]
        if values:
            given[name.removeprefix(FIELD)] = values
    kinds = {question.key: question for question in questions}
    typed: dict[str, object] = {}
    for key, values in given.items():
        question = kinds.get(key)
        if isinstance(question, MultipleChoiceQuestion):
            typed[key] = values
        elif isinstance(question, LikertQuestion | NpsQuestion) and values[0].lstrip("-").isdigit():
            typed[key] = int(values[0])
        else:
            typed[key] = values[0]
    return typed


def seen_from_form(form: FormMultiDict) -> datetime | None:
    given = form.get("seen")
    if not given:
        return None
    try:
        return datetime.fromisoformat(str(given))
    except ValueError:
        return NEVER


def _label(question: Question, value: object, t: Callable[..., str], lang: Lang) -> str:
    match question:
        case LikertQuestion():
            return f"{value} · {t(f'likert.{value}')}" if value in range(1, 6) else str(value)
        case NpsQuestion() | TextQuestion():
            return str(value)
        case SingleChoiceQuestion() | MultipleChoiceQuestion():
            labels = {o.key: o.label_zh if lang == "zh" else o.label_en for o in question.options}
            chosen = value if isinstance(value, list) else [value]
            return "、".join(labels.get(str(key), str(key)) for key in chosen)
        case _:
            assert_never(question)


def _when(show_if: ShowIf | None, questions: list[Question], t: Callable[..., str], lang: Lang) -> str:
    """Which earlier answer shows this question, in words (a form without JavaScript shows them all)."""
    if show_if is None:
        return ""
    number, control = next(
        ((n, q) for n, q in enumerate(questions, start=1) if q.key == show_if.question), (0, questions[0])
    )
    if show_if.equals is not None:
        return t("survey.when_equals", number=number, value=_label(control, show_if.equals, t, lang))
    if show_if.in_ is not None:
        value = " / ".join(_label(control, v, t, lang) for v in show_if.in_)
        return t("survey.when_in", number=number, value=value)
    return t("survey.when_below", number=number, value=show_if.less_than)


def question_views(
    form: SurveyForm, values: Mapping[str, object], errors: Mapping[str, str], lang: Lang
) -> list[dict[str, Any]]:
    t = translator(lang)
    questions = form.template.questions
    views = []
    for number, question in enumerate(questions, start=1):
        value = values.get(question.key)
        options: list[tuple[str, str]] = []
        if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
            options = [(o.key, o.label_zh if lang == "zh" else o.label_en) for o in question.options]
        views.append(
            {
                "number": number,
                "key": question.key,
                "field": FIELD + question.key,
                "type": question.__struct_config__.tag,
                "text": question.text_zh if lang == "zh" else question.text_en,
                "required": question.required,
                "when": _when(question.show_if, questions, t, lang),
                "show_if": _show_if_json(question.show_if),
                "options": options,
                "value": value,
                "chosen": value if isinstance(value, list) else [value],
                "error": errors.get(question.key, ""),
                "max_choices": getattr(question, "max_choices", None),
                "max_length": getattr(question, "max_length", None),
                "answer": _label(question, value, t, lang) if value not in (None, "", []) else "",
            }
        )
    return views


def _show_if_json(show_if: ShowIf | None) -> str:
    return msgspec.json.encode(show_if).decode() if show_if else ""


def render(
    request: Request[Any, Any, Any],
    token: str,
    form: SurveyForm,
    *,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    lang = lang_of(request)
    zone = form.time_zone
    editing = form.can_edit and (form.answered_at is None or request.query_params.get("edit") == "1" or bool(errors))
    return page(
        request,
        "survey.html",
        {
            "form": form,
            "token": token,
            "title": form.name_zh if lang == "zh" else form.name_en,
            "opens": local_time(form.opens_at, zone, lang),
            "closes": local_time(form.closes_at, zone, lang),
            "answered": local_time(form.answered_at, zone, lang) if form.answered_at else "",
            "seen": form.answered_at.isoformat() if form.answered_at else "",
            "questions": question_views(form, form.answers or {} if values is None else values, errors or {}, lang),
            "errors": errors or {},
            "editing": editing,
            "notice": notice,
        },
        status=status,
        lang=lang,
    )


async def show(request: Request[Any, Any, Any], conn: asyncpg.Connection, token: str, now: datetime) -> Template:
    form = await campaigns.survey_form(conn, token, now)
    return render(request, token, form, notice="thanks" if request.query_params.get("sent") == "1" else "")


class SurveyAnswerPage(Controller):
    """The form's POST (a browser's; API clients POST JSON to /survey/{token})."""

    path = "/survey/{token:str}/answer"
    include_in_schema = False

    @post("/", status_code=303)
    async def answer(
        self, request: Request[Any, Any, Any], token: FromPath[str], conn: Conn, services: AppServices
    ) -> Response[Any]:
        sent = await request.form()
        now = services.clock.now()
        lang = lang_of(request)
        async with throttle.survey_links(services.limiter, client_address(request)):
            form = await campaigns.survey_form(conn, token, now)
        given = answers_from_form(form.template.questions, sent)
        try:
            await campaigns.submit(conn, token, drop_hidden(form.template, given), now, seen=seen_from_form(sent))
        except Invalid as invalid:
            errors = {e.field.removeprefix("answers."): in_lang(e.message, lang) for e in invalid.errors}
            return render(request, token, form, values=given, errors=errors, status=422)
        except Conflict as conflict:
            fresh = await campaigns.survey_form(conn, token, now)
            return render(request, token, fresh, notice=conflict.code, status=409)
        return Redirect(f"/survey/{token}?sent=1", status_code=303)
