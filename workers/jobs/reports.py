"""The property report's job: queued by the API or the console when a report is asked for (reports/service.py
`ask`), keyed by the report's id, so a report asked for twice is made once."""

from __future__ import annotations

from typing import Any

from reports import service


async def make_report(ctx: dict[str, Any], org_id: str, report_id: str) -> str:
    domains = {plugin.name for plugin in ctx["registry"].plugins}
    return await service.make(ctx["pool"], ctx["store"], ctx["clock"], domains, org_id, report_id)
