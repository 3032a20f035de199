"""The domains that make up fieldwork, in the order their tables sync (a domain's after those it refers to).
A new domain package adds its plug-in here, and nowhere else."""

from __future__ import annotations

from collections.abc import Iterable

from inspections.plugin import PLUGIN as INSPECTIONS
from meetings.plugin import PLUGIN as MEETINGS
from servicedesk.plugin import PLUGIN as SERVICEDESK
from surveys.plugin import PLUGIN as SURVEYS
from sync.plugins import Plugin, Registry

PLUGINS: tuple[Plugin, ...] = (INSPECTIONS, SURVEYS, MEETINGS, SERVICEDESK)


def registry(extra: Iterable[Plugin] = ()) -> Registry:
    """The registered plug-ins, checked together (sync.plugins.PluginError names what does not fit); `extra`
    adds plug-ins, as a test does."""
    return Registry((*PLUGINS, *extra))
