"""The kernel and the adapters name no domain's kind: what a domain adds reaches them through its plug-in only."""

from pathlib import Path

import pytest

from bootstrap.domains import PLUGINS
from core.deadlines import notification_kinds

ROOT = Path(__file__).resolve().parents[2]
# the kernel, the sync engine and the adapters (bootstrap/domains.py lists the plug-ins, by design)
KERNEL_AND_ADAPTERS = ["core", "sync", "api", "workers", "ops", "bootstrap/services.py", "cli.py"]


def sources() -> dict[Path, str]:
    files: list[Path] = []
    for part in KERNEL_AND_ADAPTERS:
        path = ROOT / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return {path: path.read_text() for path in files}


def declared_names() -> list[str]:
    """Every schedule kind, notification kind, deadline kind (and the notification kinds it sends) and periodic job a
    domain declares."""
    names = []
    for plugin in PLUGINS:
        names += [kind.name for kind in plugin.schedule_kinds]
        names += [kind.name for kind in plugin.notification_kinds]
        names += [job.name for job in plugin.jobs]
        names += [kind.name for kind in plugin.deadlines]
        names += [notice.name for kind in plugin.deadlines for notice in notification_kinds(kind)]
    return names


@pytest.mark.parametrize("name", declared_names())
def test_no_kernel_or_adapter_module_names_a_domain_s_kind(name):
    named = [str(path.relative_to(ROOT)) for path, text in sources().items() if f'"{name}"' in text]
    assert named == [], f"{name!r} is a domain's; it is named in {named}"


def test_the_check_reads_the_domains_declarations():
    assert {
        "inspection_round",
        "survey_campaign",
        "owner_meeting",
        "mark_missed_rounds",
        "rectification.overdue",
    } <= set(declared_names())
