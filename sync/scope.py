"""Who sees which rows: a caller's grants at a cursor, and the read rules of sync/tables.py turned into SQL
predicates (for pulls) and Python checks (for pushes) from the same declaration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from sync.tables import Dimension, Table, Visible


class Grants(msgspec.Struct, frozen=True, kw_only=True):
    """What one user may see at one moment. `role` None: the user did not exist then."""

    user_id: str
    role: str | None
    properties: frozenset[str] = frozenset()
    buildings: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()

    def values(self, dimension: Dimension) -> frozenset[str]:
        if dimension == "self":
            return frozenset({self.user_id})
        grants: frozenset[str] = getattr(self, dimension)
        return grants

    def rule(self, table: Table) -> Visible | str | None:
        return table.read.get(self.role) if self.role else None

    def sees(self, table: Table, row: Mapping[str, Any]) -> bool:
        rule = self.rule(table)
        if rule is None:
            return False
        if not isinstance(rule, Visible):
            return True
        return row.get(rule.column) in self.values(rule.dimension)

    def same_view(self, other: Grants, table: Table) -> bool:
        """True when both grant sets make the same rows of `table` visible."""
        mine, theirs = self.rule(table), other.rule(table)
        if mine != theirs:
            return False
        if not isinstance(mine, Visible):
            return True
        return self.values(mine.dimension) == other.values(mine.dimension)


class Params:
    """Positional parameters for one SQL statement: `add` returns the placeholder of a value."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def live_column(column: str) -> str:
    return f"t.{column}"


def tombstone_column(column: str) -> str:
    return "tb.id" if column == "id" else f"(tb.keys ->> '{column}')"


def predicate(grants: Grants, table: Table, params: Params, ref: Callable[[str], str] = live_column) -> str:
    """SQL that is true for the rows of `table` the grants make visible (`ref` names a column)."""
    rule = grants.rule(table)
    if rule is None:
        return "false"
    if not isinstance(rule, Visible):
        return "true"
    values = grants.values(rule.dimension)
    if not values:
        return "false"
    return f"{ref(rule.column)} = ANY({params.add(sorted(values))}::text[])"


def grants_from(user_id: str, rows: list[tuple[str, str]], unit_places: list[tuple[str, str, str]]) -> Grants:
    """Grants from the (kind, value) grant rows in force and the (unit, building, property) of owned units."""
    role = next((value for kind, value in rows if kind == "role"), None)
    units = frozenset(value for kind, value in rows if kind == "unit")
    properties = {value for kind, value in rows if kind == "property"}
    buildings: set[str] = set()
    for unit_id, building_id, property_id in unit_places:
        if unit_id in units:
            buildings.add(building_id)
            properties.add(property_id)
    return Grants(
        user_id=user_id, role=role, properties=frozenset(properties), buildings=frozenset(buildings), units=units
    )
