"""Checking one owner's answers against a survey template, and what scoring reads from them. Pure: no I/O.

Answers are a JSON object keyed by question key. Null, an empty (or blank) string and an empty list all mean
"not answered". Normalised answers hold only real answers, in the template's question order, each as
surveys.questions.normalise keeps it (a score as int, option keys in the template's order, text stripped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from core.errors import FieldError, Invalid
from surveys.models import Answer, LikertQuestion, NpsQuestion, Question, ShowIf
from surveys.questions import Refused, chooses_many, normalise


class HasQuestions(Protocol):
    """A template as an admin sent it, or a stored version of one."""

    @property
    def questions(self) -> Sequence[Question]: ...


def is_shown(show_if: ShowIf | None, answers: Mapping[str, object]) -> bool:
    """Whether a question with this skip logic is shown, given the normalised answers to the questions before
    it. An unanswered (or hidden) controlling question hides it."""
    if show_if is None:
        return True
    answer = answers.get(show_if.question)
    if answer is None:
        return False
    if isinstance(answer, list):  # a multiple choice: the condition holds for any option chosen
        chosen = answer
    else:
        chosen = [answer]
    if show_if.equals is not None:
        return show_if.equals in chosen
    if show_if.in_ is not None:
        return any(value in show_if.in_ for value in chosen)
    if show_if.less_than is not None:
        return isinstance(answer, int) and answer < show_if.less_than
    return False


def drop_hidden(template: HasQuestions, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers without those to questions that skip logic hides, given the answers before them. A form
    without JavaScript shows every question, so a person may answer one their other answers skip: it is
    dropped, not refused. Values are compared as check_answers would keep them (a score as a number)."""
    kept: dict[str, object] = {}
    for question in template.questions:
        if question.key in answers and is_shown(question.show_if, kept):
            kept[question.key] = answers[question.key]
    asked = {question.key for question in template.questions}
    # a key naming no question stays, for check_answers to refuse like any wrong answer
    kept.update({key: value for key, value in answers.items() if key not in asked})
    return kept


def check_answers(template: HasQuestions, answers: Mapping[str, object]) -> dict[str, Answer]:
    """The normalised answers, or Invalid with one FieldError ("answers.<key>") per refused answer: a key that
    is not a question, a value that does not fit its question, a required visible question left unanswered,
    an answer to a question that skip logic hides."""
    questions = {question.key: question for question in template.questions}
    errors: list[FieldError] = []

    def error(key: str, en: str, zh: str) -> None:
        errors.append(FieldError(field=f"answers.{key}", message=f"{en} / {zh}"))

    for key in answers:
        if key not in questions:
            error(key, "not a question of this survey", "问卷中没有这道题")

    normalised: dict[str, Answer] = {}
    hidden: set[str] = set()
    # questions whose visibility hangs on a refused answer: neither "missing" nor "hidden" can be said of them
    unsure: set[str] = set()
    for question in template.questions:
        key, show_if = question.key, question.show_if
        given = answers.get(key)
        if show_if is not None and show_if.question in unsure:
            visible: bool | None = None
            unsure.add(key)
        else:
            visible = is_shown(show_if, normalised)
            if not visible:
                hidden.add(key)
        if _is_empty(given):
            if visible and question.required:
                error(key, "is required", "此题必答")
            continue
        if visible is False:
            assert show_if is not None
            error(key, *_why_hidden(show_if, questions, normalised, hidden))
            continue
        try:
            value = normalise(question, given)
        except Refused as refused:
            errors.append(FieldError(field=f"answers.{key}", message=refused.message))
            unsure.add(key)
            continue
        if visible:
            normalised[key] = value
    if errors:
        raise Invalid("the answers are not valid / 答卷有误", errors)
    return normalised


def likert_answers(template: HasQuestions, answers: Mapping[str, object]) -> list[tuple[str, str, int]]:
    """(question key, dimension key, 1-5) for each answered likert question of normalised answers."""
    return [
        (question.key, question.dimension, value)
        for question in template.questions
        if isinstance(question, LikertQuestion) and isinstance(value := answers.get(question.key), int)
    ]


def nps_answer(template: HasQuestions, answers: Mapping[str, object]) -> int | None:
    """The 0-10 answer to the template's NPS question (a template has at most one), if answered."""
    for question in template.questions:
        if isinstance(question, NpsQuestion):
            value = answers.get(question.key)
            return value if isinstance(value, int) else None
    return None


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _why_hidden(
    show_if: ShowIf, questions: Mapping[str, Question], answers: Mapping[str, Answer], hidden: set[str]
) -> tuple[str, str]:
    """Why a question is hidden, naming the earlier answer that hides it."""
    control = show_if.question
    controlling = questions.get(control)
    includes = controlling is not None and chooses_many(controlling)
    if show_if.equals is not None:
        when_en = f"{'includes' if includes else 'is'} {show_if.equals!r}"
        when_zh = f"{'包含' if includes else '为'} {show_if.equals!r}"
    elif show_if.in_ is not None:
        values = ", ".join(repr(v) for v in show_if.in_)
        when_en = f"{'includes any of' if includes else 'is one of'} {values}"
        when_zh = f"{'包含' if includes else '为'} {values} {'中任一项' if includes else '之一'}"
    else:
        when_en, when_zh = f"is below {show_if.less_than}", f"小于 {show_if.less_than}"
    if control in hidden:
        now_en, now_zh = f"{control!r} is hidden itself", f"{control} 本身未显示"
    elif control not in answers:
        now_en, now_zh = f"{control!r} is not answered", f"{control} 未作答"
    else:
        now_en, now_zh = (
            f"the answer to {control!r} is {answers[control]!r}",
            f"{control} 的回答是 {answers[control]!r}",
        )
    return (
        f"must not be answered: it is shown only when {control!r} {when_en}, and {now_en}",
        f"本题不应作答：仅当 {control} {when_zh} 时显示，而 {now_zh}",
    )
