"""The sync declaration is coherent: every table's push shape builds, and read rules name real columns."""

import msgspec
import pytest

from sync.push import changes_decoder
from sync.tables import TABLES, Visible


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_table_has_a_push_decoder_and_sane_rules(table):
    decoder = changes_decoder(table.name)
    assert decoder.decode(b'{"created": [], "updated": [], "deleted": []}') is not None
    names = {"id", *(c.name for c in table.columns)}
    for rule in table.read.values():
        assert rule == "all" or (isinstance(rule, Visible) and rule.column in names)
    if table.owner_column:
        assert table.owner_column in names
    for column in table.columns:
        assert column.name.isidentifier() and column.name == column.name.lower()


def test_a_pushed_record_with_an_unknown_column_does_not_decode():
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        changes_decoder("handover_notes").decode(b'{"created": [{"id": "a", "secret": 1}]}')
