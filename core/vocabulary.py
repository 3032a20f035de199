"""The words every package shares, declared once: who someone is (role), what kind of work a thing is about
(category) and how bad a finding is (severity). A Literal for the types and the wire, a tuple for the checks
and the sync declaration, the one made from the other."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["admin", "supervisor", "staff", "owner"]
ROLES: tuple[Role, ...] = get_args(Role)

# the service lines of a property: what a checklist, a finding, a survey dimension or a ticket is about
Category = Literal["cleaning", "patrol", "engineering", "greening", "safety", "other"]
CATEGORIES: tuple[Category, ...] = get_args(Category)

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
