"""Scope over time: what a device receives when its user's grants grow or shrink, and full re-syncs."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bootstrap.domains import registry
from sync import repository as sync_sql
from tests.integration.test_sync_protocol import changes, note, pull, push
from tests.world import build_org, login

CATALOG = registry().catalog
SCHEMA_VERSION, TABLES = CATALOG.version, CATALOG.tables


def ids(answer, table, section):
    return sorted(r if isinstance(r, str) else r["id"] for r in answer["changes"][table][section])


async def test_a_staff_member_moved_between_properties_gets_creates_then_deletes(api, db):
    org = await build_org(db, "sg1")
    admin = await login(api, org, "admin")
    staff = await login(api, org, "staff")
    loner = await login(api, org, "elsewhere")
    since = (await pull(api, db, staff))["timestamp"]
    written = await push(
        api, staff, since, changes("handover_notes", created=[note(org, "scope00000000001", org.ids["staff"])])
    )
    assert written.status_code == 200
    first = await pull(api, db, loner)
    assert ids(first, "properties", "created") == [org.other_property_id]
    assert ids(first, "handover_notes", "created") == []

    assigned = await api.put(f"/properties/{org.property_id}/staff/{org.ids['elsewhere']}", headers=admin)
    assert assigned.status_code == 200, assigned.text
    grown = await pull(api, db, loner, first["timestamp"])
    assert ids(grown, "properties", "created") == [org.property_id]
    assert ids(grown, "units", "created") == sorted([org.unit_id, org.other_unit_id])
    assert ids(grown, "buildings", "created") == [org.building_id]
    assert ids(grown, "handover_notes", "created") == ["scope00000000001"]
    assert all(not grown["changes"][t]["updated"] and not grown["changes"][t]["deleted"] for t in grown["changes"])

    gone = await api.delete(f"/properties/{org.property_id}/staff/{org.ids['elsewhere']}", headers=admin)
    assert gone.status_code == 204
    shrunk = await pull(api, db, loner, grown["timestamp"])
    assert ids(shrunk, "properties", "deleted") == [org.property_id]
    assert ids(shrunk, "units", "deleted") == sorted([org.unit_id, org.other_unit_id])
    assert ids(shrunk, "handover_notes", "deleted") == ["scope00000000001"]
    assert ids(shrunk, "properties", "created") == [] and ids(shrunk, "properties", "updated") == []
    # and nothing more after that
    quiet = await pull(api, db, loner, shrunk["timestamp"])
    assert all(quiet["changes"][t] == {"created": [], "updated": [], "deleted": []} for t in quiet["changes"])


async def test_a_note_deleted_while_its_property_left_scope_still_arrives_deleted(api, db):
    org = await build_org(db, "sg2")
    admin = await login(api, org, "admin")
    staff = await login(api, org, "staff")
    supervisor = await login(api, org, "supervisor")
    since = (await pull(api, db, staff))["timestamp"]
    await push(api, staff, since, changes("handover_notes", created=[note(org, "scope00000000002", org.ids["staff"])]))
    t_staff = (await pull(api, db, staff, since))["timestamp"]
    t_sup = (await pull(api, db, supervisor))["timestamp"]
    await push(api, supervisor, t_sup, changes("handover_notes", deleted=["scope00000000002"]))
    await api.delete(f"/properties/{org.property_id}/staff/{org.ids['staff']}", headers=admin)
    after = await pull(api, db, staff, t_staff)
    assert "scope00000000002" in ids(after, "handover_notes", "deleted")


async def test_an_owner_linked_to_a_second_unit_gets_only_that_unit(api, db):
    org = await build_org(db, "sg3")
    admin = await login(api, org, "admin")
    owner = await login(api, org, "owner")
    first = await pull(api, db, owner)
    linked = await api.put(f"/units/{org.other_unit_id}/owners/{org.ids['owner']}", headers=admin)
    assert linked.status_code == 200, linked.text
    grown = await pull(api, db, owner, first["timestamp"])
    assert ids(grown, "units", "created") == [org.other_unit_id]
    assert ids(grown, "buildings", "created") == [] and ids(grown, "properties", "created") == []
    await api.delete(f"/units/{org.unit_id}/owners/{org.ids['owner']}", headers=admin)
    shrunk = await pull(api, db, owner, grown["timestamp"])
    assert ids(shrunk, "units", "deleted") == [org.unit_id]
    assert ids(shrunk, "buildings", "deleted") == []  # still theirs through the other unit


async def test_a_cursor_below_the_retention_horizon_gets_a_full_replacement(api, db):
    org = await build_org(db, "sg4")
    staff = await login(api, org, "staff")
    supervisor = await login(api, org, "supervisor")
    since = (await pull(api, db, staff))["timestamp"]
    await push(api, staff, since, changes("handover_notes", created=[note(org, "scope00000000004", org.ids["staff"])]))
    t_sup = (await pull(api, db, supervisor))["timestamp"]
    await push(api, staff, since, changes("handover_notes", deleted=["scope00000000004"]))
    # time passes beyond the retention: the tombstone is forgotten and the horizon moves past it
    pruned = await sync_sql.prune(db, before=datetime.now(UTC) + timedelta(seconds=1), answers_before=datetime.now(UTC))
    assert pruned["tombstones"] >= 1 and pruned["horizon_moved"] == 1
    answer = await pull(api, db, supervisor, t_sup)
    assert answer["experimentalStrategy"] == "replacement"
    assert ids(answer, "properties", "created") == [org.property_id]
    assert ids(answer, "handover_notes", "created") == []


async def test_a_migration_pull_sends_what_a_new_client_table_and_column_need(api, db):
    org = await build_org(db, "sg5")
    staff = await login(api, org, "staff")
    first = await pull(api, db, staff)
    await db.execute("UPDATE units SET floor = 3 WHERE org_id = $1 AND id = $2", org.org_id, org.unit_id)
    mid = await pull(api, db, staff, first["timestamp"])
    assert ids(mid, "units", "updated") == [org.unit_id]
    migration = json.dumps(
        {
            "from": 1,
            "tables": ["handover_notes"],
            "columns": [{"table": "units", "columns": ["floor"]}, {"table": "units", "columns": ["secret"]}],
            "x": 1,
        }
    )
    since = (await pull(api, db, staff, mid["timestamp"]))["timestamp"]
    pushed = changes("handover_notes", created=[note(org, "scope00000000005", org.ids["staff"])])
    assert (await push(api, staff, since, pushed)).status_code == 200
    answer = await pull(api, db, staff, since, schema_version=1, migration=migration)
    # the table the client just added comes whole, the column's non-default rows come as updated
    assert ids(answer, "handover_notes", "created") == ["scope00000000005"]
    assert ids(answer, "units", "updated") == [org.unit_id]


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
async def test_a_migration_pull_sends_every_value_an_added_optional_column_holds(api, db, old_version):
    """WatermelonDB fills a column added by a migration with null when the app declares it optional (every column
    that is not `required`), so a migrated phone needs each non-null value, 0, '' and false included; a fresh phone
    got them whole. A migration from each earlier client version, as WatermelonDB's synchronize() sends it."""
    org = await build_org(db, f"mg{old_version}")
    staff = await login(api, org, "staff")
    await db.execute(
        """INSERT INTO photos (org_id, id, property_id, record_table, record_id, uploaded_by, purpose, status,
                               size_bytes, gps_lat, gps_lon, device_model, rejection)
           VALUES ($1, 'zeros', $2, 'handover_notes', 'n1', $3, 'evidence', 'ready', 0, 0, 0, '', NULL)""",
        org.org_id,
        org.property_id,
        org.ids["staff"],
    )
    since = (await pull(api, db, staff, schema_version=old_version))["timestamp"]
    photos = next(t for t in TABLES if t.name == "photos")
    added = [c.name for c in photos.columns if c.since > old_version]
    migration = {
        "from": old_version,
        "tables": [t.name for t in TABLES if t.since > old_version],
        "columns": [
            {"table": t.name, "columns": [c.name for c in t.columns if c.since > old_version]}
            for t in TABLES
            if t.since <= old_version and any(c.since > old_version for c in t.columns)
        ],
    }
    answer = await pull(api, db, staff, since, schema_version=SCHEMA_VERSION, migration=json.dumps(migration))
    updated = {r["id"]: r for r in answer["changes"]["photos"]["updated"]}
    expected = {
        "purpose": "evidence",
        "size_bytes": 0,
        "gps_lat": 0,
        "gps_lon": 0,
        "device_model": "",
        "rejection": None,
    }
    if not any(k in added and v is not None for k, v in expected.items()):
        # nothing the phone lacks: the added columns hold only nulls (owner_unit_id, since 6) or none were added
        assert updated == {}
        return
    row = updated["zeros"]
    assert {k: row[k] for k in expected if k in added} == {k: v for k, v in expected.items() if k in added}
