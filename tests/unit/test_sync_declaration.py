"""The sync declaration is coherent: every table's push shape builds, and read rules name real columns."""

import msgspec
import pytest

from bootstrap.domains import registry
from core.vocabulary import CATEGORIES, SEVERITIES
from inspections.synced import RECTIFICATION_ORDERS
from sync.push import changes_decoder
from sync.tables import HANDOVER_NOTES, read_parts

TABLES = registry().catalog.tables


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_table_has_a_push_decoder_and_sane_rules(table):
    decoder = changes_decoder(table)
    assert decoder.decode(b'{"created": [], "updated": [], "deleted": []}') is not None
    names = {"id", *(c.name for c in table.columns)}
    for rule in table.read.values():
        assert rule == "all" or all(part.column in names for part in read_parts(rule))
    assert set(table.movable) <= set(table.scope_columns)
    if table.owner_column:
        assert table.owner_column in names
    for column in table.columns:
        assert column.name.isidentifier() and column.name == column.name.lower()


def test_a_pushed_record_with_an_unknown_column_does_not_decode():
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        changes_decoder(HANDOVER_NOTES).decode(b'{"created": [{"id": "a", "secret": 1}]}')


def test_the_declaration_offers_the_domain_s_categories_and_severities():
    assert RECTIFICATION_ORDERS.column("category").choices == CATEGORIES
    assert RECTIFICATION_ORDERS.column("severity").choices == SEVERITIES
