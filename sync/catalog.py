"""The catalog: every synced table — the kernel's (sync/tables.py), then each plug-in's — and the rules a push
runs once it is written, checked once when the registry is built. Pull, push and the schema document read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.clock import Clock
from core.settings import Settings
from sync.push import PushRule, PushRuleFactory
from sync.tables import Table, read_parts


class BadDeclaration(Exception):
    """A synced table or push rule declared so that sync would fail on it later."""


def problems_of(table: Table) -> list[str]:
    names = {"id", *(c.name for c in table.columns)}
    read = [part.column for rule in table.read.values() for part in read_parts(rule)]
    problems = [f"a read rule names {column!r}, not a column" for column in read if column not in names]
    if not set(table.movable) <= set(table.scope_columns):
        problems.append("a movable column is not one its read rules name")
    if table.owner_column and table.owner_column not in names:
        problems.append(f"owner_column {table.owner_column!r} is not a column")
    for column in table.columns:
        if not column.name.isidentifier() or column.name != column.name.lower():
            problems.append(f"column {column.name!r} is not a lower-case identifier")
    if len(names) != len(table.columns) + 1:
        problems.append("a column is declared twice (or named id)")
    return problems


class Catalog:
    def __init__(self, tables: Iterable[Table], rules: Sequence[PushRuleFactory] = ()) -> None:
        self.tables: tuple[Table, ...] = tuple(tables)
        self.by_name: dict[str, Table] = {}  # in catalog order
        problems = []
        for table in self.tables:
            if table.name in self.by_name:
                problems.append(f"synced table {table.name!r} is declared twice")
            self.by_name[table.name] = table
            problems += [f"synced table {table.name!r}: {p}" for p in problems_of(table)]
        if problems:
            raise BadDeclaration("; ".join(problems))
        self.rule_factories = tuple(rules)
        # the client schema version: the newest table or column's `since` (a new one raises it)
        self.version = max([1, *(t.since for t in self.tables), *(c.since for t in self.tables for c in t.columns)])

    def tables_for(self, version: int) -> tuple[Table, ...]:
        """The tables a client on this schema version knows."""
        return tuple(table for table in self.tables if table.since <= version)

    def rules(self, clock: Clock, settings: Settings) -> tuple[PushRule, ...]:
        return tuple(factory(clock, settings) for factory in self.rule_factories)
