"""Who sees which rows: a caller's grants at a cursor, and the read rules of sync/tables.py turned into SQL
predicates (for pulls) and Python checks (for pushes) from the same declaration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
import msgspec

from sync.tables import AnyOf, GrantKind, ReadRule, Table, Visible, read_parts


class Grants(msgspec.Struct, frozen=True, kw_only=True):
    """What one user may see at one moment. `role` None: the user did not exist then."""

    user_id: str
    role: str | None
    properties: frozenset[str] = frozenset()
    buildings: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()

    def values(self, dimension: GrantKind) -> frozenset[str]:
        if dimension == "self":
            return frozenset({self.user_id})
        grants: frozenset[str] = getattr(self, dimension)
        return grants

    def read_rule(self, table: Table) -> ReadRule | None:
        return table.read.get(self.role) if self.role else None

    def sees(self, table: Table, row: Mapping[str, Any] | asyncpg.Record) -> bool:
        rule = self.read_rule(table)
        if rule is None:
            return False
        if not isinstance(rule, Visible | AnyOf):
            return True
        return any(row.get(part.column) in self.values(part.dimension) for part in read_parts(rule))

    def same_view(self, other: Grants, table: Table) -> bool:
        """True when both grant sets make the same rows of `table` visible."""
        mine, theirs = self.read_rule(table), other.read_rule(table)
        if mine != theirs:
            return False
        if mine is None:
            return True
        return all(self.values(p.dimension) == other.values(p.dimension) for p in read_parts(mine))


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
    rule = grants.read_rule(table)
    if rule is None:
        return "false"
    if not isinstance(rule, Visible | AnyOf):
        return "true"
    terms = []
    for part in read_parts(rule):
        values = grants.values(part.dimension)
        if values:
            terms.append(f"{ref(part.column)} = ANY({params.add(sorted(values))}::text[])")
    return "(" + " OR ".join(terms) + ")" if terms else "false"


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
