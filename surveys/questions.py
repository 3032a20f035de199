"""What each question type does with its answers: how one is checked and kept, whether it holds several
choices, what a spreadsheet cell shows of it; surveys.models has the rest (the template checks, and scale_of: what
an answer is compared with). Each function matches the type with one case per type and ends in assert_never, so a
type added to surveys.models.Question is a type error until each says what it does. Pure: no I/O."""

from __future__ import annotations

from typing import assert_never

from surveys.models import (
    LIKERT,
    NPS,
    Answer,
    LikertQuestion,
    MultipleChoiceQuestion,
    NpsQuestion,
    Question,
    SingleChoiceQuestion,
    TextQuestion,
)

MULTIPLE_SEPARATOR = "；"  # between the options of a multiple choice in one cell


class Refused(Exception):
    """An answer that does not fit its question; `message` in English and Chinese."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.message = f"{en} / {zh}"


def normalise(question: Question, value: object) -> Answer:
    """A given (non-empty) answer as it is kept: a score as int, text stripped, a single choice as its option
    key, a multiple one as its option keys in the template's order. Refused if it does not fit the question."""
    match question:
        case LikertQuestion():
            return _score(value, *LIKERT)
        case NpsQuestion():
            return _score(value, *NPS)
        case TextQuestion():
            if not isinstance(value, str):
                raise Refused("must be text", "须为文字")
            text = value.strip()
            if len(text) > question.max_length:
                raise Refused(
                    f"is {len(text)} characters long; at most {question.max_length}",
                    f"长度为 {len(text)} 字，最多 {question.max_length} 字",
                )
            return text
        case SingleChoiceQuestion():
            keys = [option.key for option in question.options]
            if not isinstance(value, str) or value not in keys:
                listed = ", ".join(keys)
                raise Refused(
                    f"{value!r} is not an option; choose one of: {listed}", f"{value!r} 不是选项，可选：{listed}"
                )
            return value
        case MultipleChoiceQuestion():
            return _choices(question, value)
        case _:
            assert_never(question)


def chooses_many(question: Question) -> bool:
    """Whether an answer is a list of options (a skip condition on it then means "includes")."""
    match question:
        case MultipleChoiceQuestion():
            return True
        case LikertQuestion() | NpsQuestion() | SingleChoiceQuestion() | TextQuestion():
            return False
        case _:
            assert_never(question)


def cell_value(question: Question, value: object) -> int | str:
    """What a spreadsheet cell shows of a stored (normalised, non-empty) answer; text is not yet neutralised."""
    match question:
        case SingleChoiceQuestion() | MultipleChoiceQuestion():
            labels = {option.key: option.label_zh for option in question.options}
            chosen = value if isinstance(value, list) else [value]
            # stored in the template's option order (answers are normalised); an unknown key is shown as is
            return MULTIPLE_SEPARATOR.join(labels.get(str(key), str(key)) for key in chosen)
        case TextQuestion():
            return str(value)
        case LikertQuestion() | NpsQuestion():
            return int(value) if isinstance(value, int) else str(value)
        case _:
            assert_never(question)


def _score(value: object, low: int, high: int) -> int:
    # bool is a subclass of int, and true is not a score
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Refused(f"must be a whole number from {low} to {high}", f"须为 {low} 到 {high} 的整数")
    return value


def _choices(question: MultipleChoiceQuestion, value: object) -> list[str]:
    keys = [option.key for option in question.options]
    listed = ", ".join(keys)
    if not isinstance(value, list):
        raise Refused(f"must be a list of options from: {listed}", f"须为选项列表，可选：{listed}")
    unknown = [v for v in value if not isinstance(v, str) or v not in keys]
    if unknown:
        shown = ", ".join(repr(v) for v in unknown)
        raise Refused(f"not options: {shown}; choose from: {listed}", f"不是选项：{shown}，可选：{listed}")
    if len(set(value)) != len(value):
        raise Refused("lists an option more than once", "同一选项重复出现")
    if question.max_choices is not None and len(value) > question.max_choices:
        raise Refused(f"at most {question.max_choices} choices", f"最多选 {question.max_choices} 项")
    return [key for key in keys if key in value]
