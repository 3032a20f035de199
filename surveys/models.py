"""The shapes of owner satisfaction surveys: dimensions, questions (a tagged union by `type`) with skip logic,
and the template an admin sends, with the checks msgspec cannot express. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, assert_never

import msgspec
from msgspec import Meta

from core.errors import FieldError, Invalid
from core.structs import Frozen, Name

SafeKey = Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,40}$", description="a-z 0-9 _, stable within a template")]
QuestionText = Annotated[str, Meta(min_length=1, max_length=500)]
ConditionValue = int | str  # a value a skip condition compares with: a score, or an option key
Answer = int | str | list[str]  # a normalised answer (surveys.answers): a score, an option key, keys, or text
AddError = Callable[[str, str, str], None]  # (field, English, 中文)

LIKERT = (1, 5)
NPS = (0, 10)
# how a response came in: the household's own (its link, the owners' app), or taken by telephone or on a home
# visit and entered by a supervisor or admin (docs/surveys.md); the report counts them in this order
OWN_CHANNELS = ("link", "app")
STAFF_CHANNELS = ("phone", "visit")
CHANNELS = (*OWN_CHANNELS, *STAFF_CHANNELS)


class Dimension(Frozen, frozen=True):
    """What owners rate (服务质量 / service quality); likert questions score one dimension each."""

    key: SafeKey
    name_zh: Name
    name_en: Name


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(key="service", name_zh="服务质量", name_en="Service quality"),
    Dimension(key="attitude", name_zh="人员态度", name_en="Staff attitude"),
    Dimension(key="facilities", name_zh="设施维护", name_en="Facility maintenance"),
    Dimension(key="security", name_zh="安全", name_en="Security"),
    Dimension(key="cleaning", name_zh="清洁", name_en="Cleaning"),
    Dimension(key="landscaping", name_zh="绿化", name_en="Landscaping"),
)


class Option(Frozen, frozen=True):
    key: SafeKey
    label_zh: Name
    label_en: Name


class ShowIf(Frozen, frozen=True):
    """Skip logic: the question is shown when the answer to an earlier `question` equals `equals` (for a
    multiple choice: includes it), is in `in` (multiple: includes any of them) or is below `less_than`
    (likert, nps). Exactly one condition is set. An unanswered or hidden controlling question hides this one."""

    question: SafeKey
    equals: ConditionValue | None = None
    in_: Annotated[list[ConditionValue], Meta(min_length=1, max_length=50)] | None = msgspec.field(
        default=None, name="in"
    )
    less_than: int | None = None


class QuestionBase(Frozen, frozen=True, tag_field="type"):
    """What every question has. A question hidden by `show_if` is never required and must not be answered."""

    key: SafeKey
    text_zh: QuestionText
    text_en: QuestionText
    required: bool = True
    show_if: ShowIf | None = None


class LikertQuestion(QuestionBase, frozen=True, kw_only=True, tag="likert"):
    """1 (very dissatisfied / 非常不满意) to 5 (very satisfied / 非常满意), scoring one dimension."""

    dimension: SafeKey


class NpsQuestion(QuestionBase, frozen=True, tag="nps"):
    """0 to 10: how likely the owner is to recommend the property management."""


class SingleChoiceQuestion(QuestionBase, frozen=True, kw_only=True, tag="single"):
    options: Annotated[list[Option], Meta(min_length=2, max_length=50)]


class MultipleChoiceQuestion(QuestionBase, frozen=True, kw_only=True, tag="multiple"):
    options: Annotated[list[Option], Meta(min_length=2, max_length=50)]
    max_choices: Annotated[int, Meta(ge=1)] | None = None


class TextQuestion(QuestionBase, frozen=True, tag="text"):
    """A written answer, optional unless the admin says otherwise."""

    required: bool = False
    max_length: Annotated[int, Meta(ge=1, le=2000)] = 2000


Question = LikertQuestion | NpsQuestion | SingleChoiceQuestion | MultipleChoiceQuestion | TextQuestion


class SurveyTemplateIn(Frozen, frozen=True):
    """A survey template as an admin writes it. `allow_edit`: owners may change their response while the
    campaign is open."""

    name_zh: Name
    name_en: Name
    questions: Annotated[list[Question], Meta(min_length=1, max_length=100)]
    dimensions: Annotated[list[Dimension], Meta(min_length=1, max_length=30)] = msgspec.field(
        default_factory=lambda: list(DIMENSIONS)
    )
    allow_edit: bool = False


def scale_of(question: Question) -> tuple[int, int] | list[str] | None:
    """What an answer to `question` is compared with (by skip logic; the report counts option keys): a whole
    number from low to high, one of its option keys, or nothing (a text answer cannot decide what is shown)."""
    match question:
        case LikertQuestion():
            return LIKERT
        case NpsQuestion():
            return NPS
        case SingleChoiceQuestion() | MultipleChoiceQuestion():
            return [option.key for option in question.options]
        case TextQuestion():
            return None
        case _:
            assert_never(question)


def check_template(template: SurveyTemplateIn) -> list[FieldError]:
    """What msgspec cannot say about a template: keys unique, likert dimensions known, at most one NPS question,
    choices coherent, skip logic pointing at an earlier question with values that question can answer.
    A dimension with no likert question is allowed (it simply gets no score)."""
    errors: list[FieldError] = []

    def error(field: str, en: str, zh: str) -> None:
        errors.append(FieldError(field=field, message=f"{en} / {zh}"))

    dimensions: set[str] = set()
    for i, dimension in enumerate(template.dimensions):
        if dimension.key in dimensions:
            error(f"dimensions[{i}].key", f"{dimension.key!r} is used twice", f"维度 {dimension.key!r} 重复")
        dimensions.add(dimension.key)

    earlier: dict[str, Question] = {}
    question_keys = {q.key for q in template.questions}
    nps_seen = False
    for i, question in enumerate(template.questions):
        at = f"questions[{i}]"
        if question.key in earlier:
            error(f"{at}.key", f"{question.key!r} is the key of an earlier question", f"题目编号 {question.key!r} 重复")
        match question:
            case LikertQuestion():
                if question.dimension not in dimensions:
                    error(
                        f"{at}.dimension",
                        f"{question.dimension!r} is not one of this template's dimensions",
                        f"{question.dimension!r} 不是本模板的维度",
                    )
            case NpsQuestion():
                if nps_seen:
                    error(f"{at}.type", "a survey has at most one NPS question", "一份问卷最多一道净推荐值（NPS）题")
                nps_seen = True
            case SingleChoiceQuestion():
                _check_options(question.options, at, error)
            case MultipleChoiceQuestion():
                _check_options(question.options, at, error)
                if (question.max_choices or 0) > len(question.options):
                    error(f"{at}.max_choices", "is more than the number of options", "超过了选项数量")
            case TextQuestion():
                pass
            case _:
                assert_never(question)
        if question.show_if is not None:
            _check_show_if(question, question.show_if, earlier, question_keys, f"{at}.show_if", error)
        earlier.setdefault(question.key, question)
    return errors


def require_valid_template(template: SurveyTemplateIn) -> None:
    """Raise Invalid with every problem check_template finds."""
    if errors := check_template(template):
        raise Invalid("the survey template is not valid / 问卷模板有误", errors)


def _check_options(options: list[Option], at: str, error: AddError) -> None:
    keys: set[str] = set()
    for j, option in enumerate(options):
        if option.key in keys:
            error(f"{at}.options[{j}].key", f"{option.key!r} is used twice", f"选项 {option.key!r} 重复")
        keys.add(option.key)


def _check_show_if(
    question: Question,
    show_if: ShowIf,
    earlier: dict[str, Question],
    question_keys: set[str],
    at: str,
    error: AddError,
) -> None:
    target = earlier.get(show_if.question)
    scale = None if target is None else scale_of(target)
    if show_if.question == question.key:
        error(f"{at}.question", "a question cannot depend on itself", "题目不能以自身为显示条件")
    elif target is None and show_if.question in question_keys:
        error(
            f"{at}.question", f"{show_if.question!r} is not an earlier question", f"{show_if.question!r} 不在本题之前"
        )
    elif target is None:
        error(f"{at}.question", f"{show_if.question!r} is not a question of this template", "没有这道题")
    elif scale is None:
        error(f"{at}.question", "a text answer cannot decide what is shown", "文字题不能作为显示条件")

    conditions = [name for name in ("equals", "in_", "less_than") if getattr(show_if, name) is not None]
    if len(conditions) != 1:
        error(at, "set exactly one of equals, in, less_than", "equals、in、less_than 须且仅须设置一项")
    if target is None or scale is None:
        return
    if show_if.equals is not None:
        _check_value(target.key, scale, show_if.equals, f"{at}.equals", error)
    for j, value in enumerate(show_if.in_ or []):
        _check_value(target.key, scale, value, f"{at}.in[{j}]", error)
    if show_if.less_than is None:
        return
    if isinstance(scale, list):
        error(f"{at}.less_than", "applies to likert and nps questions only", "仅适用于量表题和 NPS 题")
        return
    low, high = scale
    if isinstance(show_if.less_than, bool) or not low < show_if.less_than <= high:
        error(
            f"{at}.less_than",
            f"must be from {low + 1} to {high} for a {target.__struct_config__.tag} question",
            f"应为 {low + 1} 到 {high} 之间的整数",
        )


def _check_value(
    target: str, scale: tuple[int, int] | list[str], value: ConditionValue, at: str, error: AddError
) -> None:
    """Can question `target`, answered on this scale, be answered with `value`?"""
    if isinstance(scale, list):
        if value not in scale or not isinstance(value, str):
            error(at, f"{value!r} is not an option of {target!r}: {', '.join(scale)}", f"{value!r} 不是该题的选项")
        return
    low, high = scale
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        error(at, f"{value!r} is not a whole number from {low} to {high}", f"{value!r} 不是 {low} 到 {high} 的整数")
