"""Survey templates and owners' answers, without I/O: template checks, normalisation, refusals, skip logic."""

import re

import msgspec
import pytest

from core.errors import Invalid
from surveys.answers import check_answers, drop_hidden, is_shown, likert_answers, nps_answer
from surveys.models import (
    DIMENSIONS,
    Dimension,
    LikertQuestion,
    MultipleChoiceQuestion,
    Option,
    Question,
    ShowIf,
    SingleChoiceQuestion,
    SurveyTemplateIn,
    TextQuestion,
    check_template,
    require_valid_template,
)

template_decoder = msgspec.json.Decoder(SurveyTemplateIn)

YES_NO = [{"key": "yes", "label_zh": "是", "label_en": "Yes"}, {"key": "no", "label_zh": "否", "label_en": "No"}]
CHANNELS = [
    {"key": "app", "label_zh": "应用", "label_en": "App"},
    {"key": "phone", "label_zh": "电话", "label_en": "Phone"},
    {"key": "desk", "label_zh": "前台", "label_en": "Front desk"},
]


def q(key: str, kind: str, **more: object) -> dict[str, object]:
    return {"type": kind, "key": key, "text_zh": f"题目 {key}", "text_en": f"Question {key}", **more}


QUESTIONS = [
    q("service", "likert", dimension="service"),
    q("cleaning", "likert", dimension="cleaning", required=False),
    q("recommend", "nps"),
    q("repairs", "single", options=YES_NO),  # q1: did you report a repair?
    q("repair_score", "likert", dimension="facilities", show_if={"question": "repairs", "equals": "yes"}),  # q2
    q("repair_why", "text", required=True, show_if={"question": "repair_score", "less_than": 3}),  # q3
    q("channels", "multiple", options=CHANNELS, max_choices=2, required=False),
    q("desk_wait", "likert", dimension="attitude", required=False, show_if={"question": "channels", "in": ["desk"]}),
    q("remarks", "text", max_length=20),
]


def make(questions: list[dict[str, object]], **more: object) -> SurveyTemplateIn:
    return template_decoder.decode(
        msgspec.json.encode({"name_zh": "满意度调查", "name_en": "Satisfaction survey", "questions": questions, **more})
    )


TEMPLATE = make(QUESTIONS)
VALID = {"service": 4, "recommend": 8, "repairs": "no", "remarks": "  fine  "}


def refusals(template: SurveyTemplateIn, answers: dict[str, object]) -> dict[str, str]:
    with pytest.raises(Invalid) as refused:
        check_answers(template, answers)
    messages = {e.field: e.message for e in refused.value.errors}
    for message in messages.values():
        assert re.search(r"[a-z]", message) and re.search(r"[\u4e00-\u9fff]", message), message
    return messages


def problems(template: SurveyTemplateIn) -> dict[str, str]:
    found = {e.field: e.message for e in check_template(template)}
    for message in found.values():
        assert " / " in message and re.search(r"[\u4e00-\u9fff]", message), message
    return found


# Templates


def test_the_default_dimensions_are_the_six_of_the_design_in_order():
    assert [d.key for d in DIMENSIONS] == ["service", "attitude", "facilities", "security", "cleaning", "landscaping"]
    assert [d.name_zh for d in DIMENSIONS] == ["服务质量", "人员态度", "设施维护", "安全", "清洁", "绿化"]
    assert make([q("a", "nps")]).dimensions == list(DIMENSIONS)


def test_a_template_decodes_with_per_type_defaults_and_the_in_condition_renamed():
    assert check_template(TEMPLATE) == []
    require_valid_template(TEMPLATE)
    by_key = {question.key: question for question in TEMPLATE.questions}
    assert by_key["service"].required and not by_key["cleaning"].required
    assert isinstance(by_key["remarks"], TextQuestion) and not by_key["remarks"].required
    assert by_key["remarks"].max_length == 20
    assert by_key["repair_why"].required  # a text question the admin made required
    assert TEMPLATE.allow_edit is False
    wire = msgspec.json.decode(msgspec.json.encode(TEMPLATE))
    assert wire["questions"][6]["type"] == "multiple"
    assert wire["questions"][7]["show_if"]["in"] == ["desk"]
    assert msgspec.json.decode(msgspec.json.encode(TEMPLATE.questions), type=list[Question]) == TEMPLATE.questions


@pytest.mark.parametrize(
    "question",
    [
        q("Bad-Key", "nps"),
        q("a", "likert"),  # no dimension
        q("a", "single", options=YES_NO[:1]),
        q("a", "text", max_length=2001),
        q("a", "nps", show_if={"question": "b", "equals": True}),
        q("a", "nps", show_if={"question": "b", "in": []}),
        q("a", "rating"),
    ],
)
def test_msgspec_refuses_shapes_that_cannot_be(question):
    with pytest.raises(msgspec.ValidationError):
        make([question])


def test_a_template_needs_between_1_and_100_questions():
    with pytest.raises(msgspec.ValidationError):
        make([])
    with pytest.raises(msgspec.ValidationError):
        make([q(f"q{i}", "nps", required=False) for i in range(101)])


@pytest.mark.parametrize(
    ("questions", "field", "says"),
    [
        ([q("a", "nps"), q("a", "text")], "questions[1].key", "earlier question"),
        ([q("a", "likert", dimension="parking")], "questions[0].dimension", "dimensions"),
        ([q("a", "nps"), q("b", "nps")], "questions[1].type", "at most one NPS"),
        ([q("a", "single", options=[*YES_NO, YES_NO[0]])], "questions[0].options[2].key", "used twice"),
        ([q("a", "multiple", options=YES_NO, max_choices=3)], "questions[0].max_choices", "number of options"),
        ([q("a", "nps", show_if={"question": "zz", "equals": 1})], "questions[0].show_if.question", "not a question"),
        ([q("a", "nps", show_if={"question": "a", "equals": 1})], "questions[0].show_if.question", "itself"),
        (
            [q("a", "nps", show_if={"question": "b", "equals": 1}), q("b", "nps")],
            "questions[0].show_if.question",
            "not an earlier question",
        ),
        (
            [q("t", "text"), q("a", "nps", show_if={"question": "t", "equals": "x"})],
            "questions[1].show_if.question",
            "text",
        ),
        ([q("s", "nps"), q("a", "text", show_if={"question": "s"})], "questions[1].show_if", "exactly one"),
        (
            [q("s", "nps"), q("a", "text", show_if={"question": "s", "equals": 1, "less_than": 3})],
            "questions[1].show_if",
            "exactly one",
        ),
        (
            [q("s", "single", options=YES_NO), q("a", "text", show_if={"question": "s", "equals": "maybe"})],
            "questions[1].show_if.equals",
            "not an option",
        ),
        (
            [q("s", "multiple", options=YES_NO), q("a", "text", show_if={"question": "s", "in": ["yes", "maybe"]})],
            "questions[1].show_if.in[1]",
            "not an option",
        ),
        (
            [q("s", "single", options=YES_NO), q("a", "text", show_if={"question": "s", "less_than": 2})],
            "questions[1].show_if.less_than",
            "likert and nps",
        ),
        (
            [q("s", "likert", dimension="service"), q("a", "text", show_if={"question": "s", "equals": 6})],
            "questions[1].show_if.equals",
            "from 1 to 5",
        ),
        (
            [q("s", "likert", dimension="service"), q("a", "text", show_if={"question": "s", "equals": "yes"})],
            "questions[1].show_if.equals",
            "from 1 to 5",
        ),
        (
            [q("s", "nps"), q("a", "text", show_if={"question": "s", "in": [9, 11]})],
            "questions[1].show_if.in[1]",
            "from 0 to 10",
        ),
        (
            [q("s", "likert", dimension="service"), q("a", "text", show_if={"question": "s", "less_than": 1})],
            "questions[1].show_if.less_than",
            "from 2 to 5",
        ),
        (
            [q("s", "nps"), q("a", "text", show_if={"question": "s", "less_than": 11})],
            "questions[1].show_if.less_than",
            "from 1 to 10",
        ),
    ],
)
def test_template_problems_are_found_with_their_field(questions, field, says):
    found = problems(make(questions))
    assert field in found, found
    assert says in found[field]
    with pytest.raises(Invalid) as refused:
        require_valid_template(make(questions))
    assert field in {e.field for e in refused.value.errors}


def test_a_template_with_its_own_dimensions_checks_likert_against_them():
    parking = [{"key": "parking", "name_zh": "停车", "name_en": "Parking"}]
    assert problems(make([q("a", "likert", dimension="parking")], dimensions=parking)) == {}
    found = problems(make([q("a", "likert", dimension="service")], dimensions=parking + parking))
    assert set(found) == {"dimensions[1].key", "questions[0].dimension"}


def test_a_dimension_without_a_likert_question_is_allowed():
    assert problems(make([q("a", "likert", dimension="service")])) == {}


def test_every_template_problem_is_reported_at_once():
    found = problems(make([q("a", "likert", dimension="x"), q("a", "nps", show_if={"question": "a", "equals": 1})]))
    assert set(found) == {"questions[0].dimension", "questions[1].key", "questions[1].show_if.question"}


def test_structs_built_in_python_are_checked_too():
    template = SurveyTemplateIn(
        name_zh="调查",
        name_en="Survey",
        questions=[
            LikertQuestion(key="a", text_zh="甲", text_en="A", dimension="service"),
            TextQuestion(key="b", text_zh="乙", text_en="B", show_if=ShowIf(question="a", equals=True)),
        ],
        dimensions=[Dimension(key="service", name_zh="服务", name_en="Service")],
    )
    assert set(problems(template)) == {"questions[1].show_if.equals"}


# Answers


def test_a_valid_response_is_normalised_in_template_order():
    answers = {
        "remarks": "  fine  ",
        "channels": ["desk", "app"],
        "desk_wait": 3,
        "cleaning": None,
        "repairs": "yes",
        "repair_score": 2,
        "repair_why": " slow plumber ",
        "recommend": 10,
        "service": 5,
    }
    assert check_answers(TEMPLATE, answers) == {
        "service": 5,
        "recommend": 10,
        "repairs": "yes",
        "repair_score": 2,
        "repair_why": "slow plumber",
        "channels": ["app", "desk"],  # the template's option order
        "desk_wait": 3,
        "remarks": "fine",
    }
    assert list(check_answers(TEMPLATE, answers)) == [
        "service",
        "recommend",
        "repairs",
        "repair_score",
        "repair_why",
        "channels",
        "desk_wait",
        "remarks",
    ]


def test_empty_answers_to_optional_or_hidden_questions_are_left_out():
    answers = {**VALID, "cleaning": "", "channels": [], "repair_score": None, "repair_why": "   "}
    assert check_answers(TEMPLATE, answers) == {"service": 4, "recommend": 8, "repairs": "no", "remarks": "fine"}


def test_a_form_without_javascript_has_its_skipped_answers_dropped_not_refused():
    # "no repairs" hides the repair questions; a browser without JavaScript showed them, and they were answered
    sent = {**VALID, "repairs": "no", "repair_score": 2, "repair_why": "slow", "parking": 3}
    kept = drop_hidden(TEMPLATE, sent)
    assert "repair_score" not in kept and "repair_why" not in kept
    assert kept["parking"] == 3  # not a question: left for the checks to refuse
    assert list(refusals(TEMPLATE, kept)) == ["answers.parking"]
    with_repairs = drop_hidden(TEMPLATE, {**sent, "repairs": "yes"})
    assert with_repairs["repair_score"] == 2 and with_repairs["repair_why"] == "slow"


@pytest.mark.parametrize(
    ("answers", "field", "says"),
    [
        ({"parking": 3}, "answers.parking", "not a question"),
        ({"service": True}, "answers.service", "from 1 to 5"),
        ({"service": 6}, "answers.service", "from 1 to 5"),
        ({"service": 0}, "answers.service", "from 1 to 5"),
        ({"service": 4.0}, "answers.service", "whole number"),
        ({"service": "4"}, "answers.service", "whole number"),
        ({"repairs": "maybe"}, "answers.repairs", "not an option"),
        ({"repairs": ["yes"]}, "answers.repairs", "not an option"),
        ({"channels": ["app", "app"]}, "answers.channels", "more than once"),
        ({"channels": ["app", "fax"]}, "answers.channels", "not options: 'fax'"),
        ({"channels": "app"}, "answers.channels", "list of options"),
        ({"channels": ["app", "phone", "desk"]}, "answers.channels", "at most 2"),
        ({"remarks": "x" * 21}, "answers.remarks", "at most 20"),
        ({"remarks": 5}, "answers.remarks", "must be text"),
        ({"service": None}, "answers.service", "required"),
        ({"repairs": ""}, "answers.repairs", "required"),
    ],
)
def test_each_refused_answer_names_its_question(answers, field, says):
    found = refusals(TEMPLATE, {**VALID, **answers})
    assert list(found) == [field]
    assert says in found[field]


def test_nps_answers_are_whole_numbers_from_0_to_10():
    for bad in (11, -1, True, 9.5, "9"):
        assert list(refusals(TEMPLATE, {**VALID, "recommend": bad})) == ["answers.recommend"]
    assert check_answers(TEMPLATE, {**VALID, "recommend": 0})["recommend"] == 0
    assert check_answers(TEMPLATE, {**VALID, "recommend": 10})["recommend"] == 10
    assert "required" in refusals(TEMPLATE, {**VALID, "recommend": None})["answers.recommend"]


def test_a_required_text_needs_more_than_blanks():
    found = refusals(TEMPLATE, {**VALID, "repairs": "yes", "repair_score": 1, "repair_why": "  "})
    assert list(found) == ["answers.repair_why"]
    assert "required" in found["answers.repair_why"] and "必答" in found["answers.repair_why"]


def test_every_problem_is_reported_at_once():
    found = refusals(TEMPLATE, {"service": 9, "repairs": None, "remarks": 1, "parking": 1})
    assert list(found) == [
        "answers.parking",
        "answers.service",
        "answers.recommend",
        "answers.repairs",
        "answers.remarks",
    ]


# Skip logic: repair_score (q2) is shown when repairs (q1) is "yes"; repair_why (q3) when repair_score < 3.


def test_a_chain_shows_each_question_only_when_the_one_before_allows():
    assert check_answers(TEMPLATE, {**VALID, "repairs": "yes", "repair_score": 4}) == {
        "service": 4,
        "recommend": 8,
        "repairs": "yes",
        "repair_score": 4,
        "remarks": "fine",
    }
    found = refusals(TEMPLATE, {**VALID, "repairs": "yes"})
    assert list(found) == ["answers.repair_score"]  # shown and required; repair_why hangs on it, so not reported
    found = refusals(TEMPLATE, {**VALID, "repairs": "yes", "repair_score": 2})
    assert list(found) == ["answers.repair_why"]


def test_answering_a_hidden_question_is_refused_naming_the_answer_that_hides_it():
    found = refusals(TEMPLATE, {**VALID, "repair_score": 2})
    message = found["answers.repair_score"]
    assert "shown only when 'repairs' is 'yes'" in message and "the answer to 'repairs' is 'no'" in message
    assert "repairs 的回答是 'no'" in message

    found = refusals(TEMPLATE, {**VALID, "repairs": "yes", "repair_score": 3, "repair_why": "why not"})
    assert "'repair_score' is below 3" in found["answers.repair_why"]
    assert "小于 3" in found["answers.repair_why"]

    found = refusals(TEMPLATE, {**VALID, "repair_score": 1, "repair_why": "leaks"})
    assert list(found) == ["answers.repair_score", "answers.repair_why"]
    assert "'repair_score' is hidden itself" in found["answers.repair_why"]

    found = refusals(TEMPLATE, {**VALID, "desk_wait": 3})
    assert "'channels' includes any of 'desk'" in found["answers.desk_wait"]
    assert "'channels' is not answered" in found["answers.desk_wait"]


def test_a_refused_controlling_answer_leaves_its_dependants_unjudged():
    found = refusals(TEMPLATE, {**VALID, "repairs": "perhaps", "repair_score": 2})
    assert list(found) == ["answers.repairs"]
    found = refusals(TEMPLATE, {**VALID, "repairs": "yes", "repair_score": 9, "repair_why": 5})
    assert list(found) == ["answers.repair_score", "answers.repair_why"]  # repair_why: a wrong kind still


def test_a_hidden_required_question_is_not_required():
    assert "repair_score" not in check_answers(TEMPLATE, {**VALID, "repairs": "no"})


def test_a_multiple_choice_controls_by_inclusion():
    assert check_answers(TEMPLATE, {**VALID, "channels": ["desk"], "desk_wait": 2})["desk_wait"] == 2
    assert "answers.desk_wait" in refusals(TEMPLATE, {**VALID, "channels": ["app"], "desk_wait": 2})
    show_if = ShowIf(question="c", equals="desk")
    assert is_shown(show_if, {"c": ["app", "desk"]}) and not is_shown(show_if, {"c": ["app"]})


def test_is_shown_compares_without_mixing_kinds():
    assert is_shown(None, {})
    assert is_shown(ShowIf(question="a", in_=[1, 2]), {"a": 2})
    assert not is_shown(ShowIf(question="a", equals=1), {"a": "1"})
    assert not is_shown(ShowIf(question="a", less_than=3), {"a": 3})
    assert not is_shown(ShowIf(question="a", less_than=3), {})


# Scoring inputs


def test_likert_and_nps_answers_are_read_from_normalised_answers():
    answers = check_answers(
        TEMPLATE, {**VALID, "cleaning": 3, "repairs": "yes", "repair_score": 4, "channels": ["desk"], "desk_wait": 2}
    )
    assert likert_answers(TEMPLATE, answers) == [
        ("service", "service", 4),
        ("cleaning", "cleaning", 3),
        ("repair_score", "facilities", 4),
        ("desk_wait", "attitude", 2),
    ]
    assert nps_answer(TEMPLATE, answers) == 8
    assert nps_answer(TEMPLATE, {}) is None
    assert nps_answer(make([q("a", "likert", dimension="service")]), answers) is None


class Version(msgspec.Struct, frozen=True):
    """A stored template version: anything with `questions` will do."""

    id: str
    questions: list[Question]


def test_any_struct_with_questions_serves_as_the_template():
    options = [Option(key="x", label_zh="甲", label_en="X"), Option(key="y", label_zh="乙", label_en="Y")]
    version = Version(
        id="v1",
        questions=[
            SingleChoiceQuestion(key="a", text_zh="甲", text_en="A", options=options),
            MultipleChoiceQuestion(key="b", text_zh="乙", text_en="B", required=False, options=options),
        ],
    )
    assert check_answers(version, {"a": "x", "b": ["y", "x"]}) == {"a": "x", "b": ["x", "y"]}


def test_a_later_question_is_told_apart_from_an_unknown_one_after_a_choice_question():
    found = problems(
        make([q("s", "single", options=YES_NO), q("a", "nps", show_if={"question": "b", "equals": 1}), q("b", "nps")])
    )
    assert "not an earlier question" in found["questions[1].show_if.question"]
