"""What each checklist item type means: the checks on a template's items, the verdict on an answer, the photo it
needs; and when a checkpoint was reached. Pure: no I/O."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import assert_never

import msgspec

from core.errors import FieldError, Invalid
from inspections.models import (
    ChoiceItem,
    Item,
    NumberItem,
    Outcome,
    PassFailItem,
    PhotoItem,
    Plan,
    SignatureItem,
    TextItem,
    Timing,
)


def check_items(items: list[Item]) -> None:
    """What msgspec cannot say about a checklist: keys unique, number bounds in order, choices that can pass."""
    errors: list[FieldError] = []
    keys: set[str] = set()
    for i, item in enumerate(items):
        at = f"items[{i}]"
        if item.key in keys:
            errors.append(FieldError(field=f"{at}.key", message=f"{item.key!r} is the key of an earlier item"))
        keys.add(item.key)
        match item:
            case NumberItem():
                for bound, value in (("min", item.min), ("max", item.max)):
                    if value is not None and not math.isfinite(value):
                        errors.append(FieldError(field=f"{at}.{bound}", message="must be a finite number"))
                if item.min is not None and item.max is not None and item.min > item.max:
                    errors.append(FieldError(field=f"{at}.max", message="must not be below min"))
            case ChoiceItem():
                values: set[str] = set()
                for j, option in enumerate(item.options):
                    if option.value in values:
                        errors.append(
                            FieldError(field=f"{at}.options[{j}].value", message=f"{option.value!r} is used twice")
                        )
                    values.add(option.value)
                if all(option.fails for option in item.options):
                    errors.append(FieldError(field=f"{at}.options", message="at least one option must not fail"))
            case PassFailItem() | TextItem() | PhotoItem() | SignatureItem():
                pass
            case _:
                assert_never(item)
    if errors:
        raise Invalid("the checklist items are not valid", errors)


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """What a device recorded for one item."""

    result: str | None = None
    value_number: float | None = None
    value_text: str | None = None


class BadAnswer(ValueError):
    """The answer does not fit the item; the message says why (it reaches the device)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def judge(item: Item, answer: Answer) -> Outcome | None:
    """The server's verdict on an answer: pass / fail / na, or None for items that are not judged (text,
    photo, signature). Raises BadAnswer when the answer is missing or does not fit the item."""
    if answer.result == "na":
        if item.required and not isinstance(item, PassFailItem):
            raise BadAnswer("result", f"item {item.key} is required and cannot be marked not applicable")
        return "na"
    match item:
        case PassFailItem():
            if answer.result not in ("pass", "fail"):
                raise BadAnswer("result", f"item {item.key} needs a result: pass, fail or na")
            return "pass" if answer.result == "pass" else "fail"
        case NumberItem():
            value = answer.value_number
            if value is None:
                raise BadAnswer("value_number", f"item {item.key} needs a number")
            low = item.min is not None and value < item.min
            high = item.max is not None and value > item.max
            return "fail" if low or high else "pass"
        case ChoiceItem():
            options = {option.value: option for option in item.options}
            if answer.value_text not in options:
                raise BadAnswer("value_text", f"item {item.key} needs one of: {', '.join(options)}")
            return "fail" if options[answer.value_text].fails else "pass"
        case TextItem():
            _check_written(item, answer, "some text")
        case SignatureItem():
            _check_written(item, answer, "a signature")
        case PhotoItem():
            pass
        case _:
            assert_never(item)
    return None


def _check_written(item: TextItem | SignatureItem, answer: Answer, what: str) -> None:
    if item.required and not (answer.value_text or "").strip():
        raise BadAnswer("value_text", f"item {item.key} needs {what}")


def needs_photo(item: Item, outcome: Outcome | None) -> bool:
    """A photo item answered (not marked na) needs its photo; any other item only when it failed and asks for one."""
    match item:
        case PhotoItem():
            return outcome != "na"
        case PassFailItem() | NumberItem() | ChoiceItem() | TextItem() | SignatureItem():
            return outcome == "fail" and item.photo_on_fail
        case _:
            assert_never(item)


def expected_times(plan: Plan, started_at: datetime) -> dict[str, datetime]:
    """When each stop of a route should be reached, counting from the round's start."""
    expected: dict[str, datetime] = {}
    at = started_at
    for stop in plan.stops:
        at += timedelta(minutes=stop.minutes)
        expected.setdefault(stop.checkpoint_id, at)
    return expected


def timing(expected_at: datetime, scanned_at: datetime, tolerance_minutes: int) -> Timing:
    """early / on time / late against the expected time, with the route's tolerance either side."""
    slack = timedelta(minutes=tolerance_minutes)
    if scanned_at < expected_at - slack:
        return "early"
    if scanned_at > expected_at + slack:
        return "late"
    return "on_time"
