-- Offline sync: change tracking with a snapshot-safe cursor (see docs/sync.md).
--
-- Every synced row records the transaction id (xid8) of its last write and of its creation, and the device
-- session that wrote it (set by a push with set_config('fieldwork.session', ...); null for every other
-- writer). A pull returns the rows whose xid lies in [previous cursor, pg_snapshot_xmin of its snapshot):
-- every transaction below that horizon has finished, so no commit can later appear behind a cursor.

CREATE FUNCTION sync_session() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('fieldwork.session', true), '') $$;

-- BEFORE UPDATE on every synced table: the row's change stamp moves with every write.
CREATE FUNCTION sync_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id();
    NEW.sync_session := sync_session();
    NEW.sync_created_xid := OLD.sync_created_xid;
    NEW.sync_created_session := OLD.sync_created_session;
    RETURN NEW;
END $$;

-- Deleted rows leave a tombstone holding the columns that decided who could see them.
CREATE TABLE sync_tombstones (
    org_id      text NOT NULL,
    table_name  text NOT NULL,
    id          text NOT NULL,
    keys        jsonb NOT NULL,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    session     text DEFAULT sync_session(),
    deleted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_tombstones_window ON sync_tombstones (org_id, table_name, xid);
CREATE INDEX sync_tombstones_id ON sync_tombstones (org_id, table_name, id);
CREATE INDEX sync_tombstones_age ON sync_tombstones (deleted_at);

-- AFTER DELETE, per statement (a bulk delete writes its tombstones in one insert).
-- TG_ARGV: the scope columns to keep.
CREATE FUNCTION sync_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_tombstones (org_id, table_name, id, keys)
    SELECT o.org_id, TG_TABLE_NAME, o.id,
           coalesce((SELECT jsonb_object_agg(k, to_jsonb(o) -> k) FROM unnest(TG_ARGV) AS k), '{}'::jsonb)
    FROM old_rows AS o;
    RETURN NULL;
END $$;

-- Who may see what, over time: grants added and removed, stamped with the transaction that did it, so a
-- pull can tell what a device held at its cursor and what it holds now.
CREATE TABLE sync_scope_events (
    org_id   text NOT NULL,
    user_id  text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('role', 'property', 'unit')),
    value    text NOT NULL,
    added    boolean NOT NULL,
    xid      xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id, seq)
);
CREATE INDEX sync_scope_events_window ON sync_scope_events (org_id, user_id, xid);

CREATE FUNCTION sync_scope_membership() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := TG_ARGV[0];
    col  text := TG_ARGV[1];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sync_scope_events (org_id, user_id, kind, value, added)
        VALUES (NEW.org_id, NEW.user_id, kind, to_jsonb(NEW) ->> col, true);
    ELSE
        INSERT INTO sync_scope_events (org_id, user_id, kind, value, added)
        VALUES (OLD.org_id, OLD.user_id, kind, to_jsonb(OLD) ->> col, false);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION sync_scope_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO sync_scope_events (org_id, user_id, kind, value, added) VALUES (OLD.org_id, OLD.id, 'role', OLD.role, false);
    END IF;
    INSERT INTO sync_scope_events (org_id, user_id, kind, value, added) VALUES (NEW.org_id, NEW.id, 'role', NEW.role, true);
    RETURN NULL;
END $$;

CREATE TRIGGER property_staff_scope AFTER INSERT OR DELETE ON property_staff
    FOR EACH ROW EXECUTE FUNCTION sync_scope_membership('property', 'property_id');
CREATE TRIGGER unit_owners_scope AFTER INSERT OR DELETE ON unit_owners
    FOR EACH ROW EXECUTE FUNCTION sync_scope_membership('unit', 'unit_id');
CREATE TRIGGER users_scope_insert AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION sync_scope_role();
CREATE TRIGGER users_scope_role AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION sync_scope_role();

INSERT INTO sync_scope_events (org_id, user_id, kind, value, added)
SELECT org_id, id, 'role', role, true FROM users;
INSERT INTO sync_scope_events (org_id, user_id, kind, value, added)
SELECT org_id, user_id, 'property', property_id, true FROM property_staff;
INSERT INTO sync_scope_events (org_id, user_id, kind, value, added)
SELECT org_id, user_id, 'unit', unit_id, true FROM unit_owners;

-- A cursor below the horizon may have missed pruned tombstones: such a device gets a full re-sync.
CREATE TABLE sync_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    horizon    xid8 NOT NULL DEFAULT '0'
);
INSERT INTO sync_state DEFAULT VALUES;

-- What a push answered, under its Idempotency-Key, so a retry after a lost response gets the same answer.
CREATE TABLE sync_pushes (
    org_id      text NOT NULL,
    session_id  text NOT NULL,
    key         text NOT NULL,
    body_hash   text NOT NULL,
    answer      jsonb NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, session_id, key)
);
CREATE INDEX sync_pushes_age ON sync_pushes (at);

-- Records written on phones.
CREATE TABLE handover_notes (
    org_id       text NOT NULL,
    id           text NOT NULL,
    property_id  text NOT NULL,
    author_id    text NOT NULL,
    body         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'resolved')),
    resolved_by  text,
    resolved_at  timestamptz,
    created_at   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX handover_notes_property ON handover_notes (org_id, property_id, created_at);

CREATE TABLE photos (
    org_id        text NOT NULL,
    id            text NOT NULL,
    property_id   text NOT NULL,
    record_table  text NOT NULL,
    record_id     text NOT NULL,
    uploaded_by   text NOT NULL,
    taken_at      timestamptz,
    content_type  text,
    note          text,
    status        text NOT NULL DEFAULT 'pending',
    width         integer,
    height        integer,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX photos_record ON photos (org_id, record_table, record_id);
CREATE INDEX photos_property ON photos (org_id, property_id);

-- The change-tracking columns, index and triggers of every synced table.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('properties', ARRAY[]::text[]),
        ('buildings', ARRAY['property_id']),
        ('units', ARRAY['property_id']),
        ('handover_notes', ARRAY['property_id']),
        ('photos', ARRAY['property_id', 'uploaded_by'])
    ) AS v(name, keys)
    LOOP
        EXECUTE format($f$
            ALTER TABLE %1$I
                ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                ADD COLUMN sync_created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                ADD COLUMN sync_session text DEFAULT sync_session(),
                ADD COLUMN sync_created_session text DEFAULT sync_session();
            CREATE INDEX %2$I ON %1$I (org_id, sync_xid);
            CREATE TRIGGER %3$I BEFORE UPDATE ON %1$I FOR EACH ROW EXECUTE FUNCTION sync_touch();
            CREATE TRIGGER %4$I AFTER DELETE ON %1$I REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION sync_tombstone(%5$s);
        $f$, t.name, t.name || '_sync_xid', t.name || '_sync_touch', t.name || '_sync_tombstone',
           (SELECT coalesce(string_agg(quote_literal(k), ', '), '') FROM unnest(t.keys) AS k));
    END LOOP;
END $$;
