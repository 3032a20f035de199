-- Inspections: checklist templates with immutable versions, checkpoints and routes, rounds with their
-- checkpoint visits and item results, and rectification orders (see docs/inspections.md).
--
-- Rows a phone writes offline (rounds, visits, results, orders, photos) reference each other without foreign
-- keys beyond the property: a push is checked whole by inspections/push_rules.py, which answers a bad
-- reference with a problem+json naming the record, where a constraint violation could only be a 500.

CREATE TABLE checklist_templates (
    org_id           text NOT NULL REFERENCES orgs (org_id),
    id               text NOT NULL,
    current_version  integer NOT NULL DEFAULT 1,
    archived         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);

-- An edit of a template makes a new version; a version never changes (a round keeps the one it started with).
CREATE TABLE template_versions (
    org_id       text NOT NULL,
    id           text NOT NULL,
    template_id  text NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    category     text NOT NULL,
    items        jsonb NOT NULL,
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, template_id, version),
    FOREIGN KEY (org_id, template_id) REFERENCES checklist_templates (org_id, id)
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows never change; write a new one', TG_TABLE_NAME;
END $$;
CREATE TRIGGER template_versions_immutable BEFORE UPDATE ON template_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Immutable in practice: convert_to is only stable because of the encoding argument, which is fixed here.
CREATE FUNCTION tag_digest(code text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT encode(sha256(convert_to(code, 'UTF8')), 'hex') $$;

-- A place on a property with a QR code or NFC tag. Devices get the tag's sha256, never the code itself, so a
-- phone can recognise a scan offline without the codes leaking from it.
CREATE TABLE checkpoints (
    org_id       text NOT NULL,
    id           text NOT NULL,
    property_id  text NOT NULL,
    name         text NOT NULL,
    tag_code     text NOT NULL,
    tag_digest   text GENERATED ALWAYS AS (tag_digest(tag_code)) STORED,
    building_id  text,
    location     text NOT NULL DEFAULT '',
    geo_lat      double precision,
    geo_lon      double precision,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, tag_code),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX checkpoints_property ON checkpoints (org_id, property_id);

-- 巡更路线: ordered checkpoints, `stops` = [{"checkpoint_id", "minutes"}] (minutes after the previous stop),
-- a tolerance either side of each expected time, and the local time of day rounds of it should run.
CREATE TABLE routes (
    org_id             text NOT NULL,
    id                 text NOT NULL,
    property_id        text NOT NULL,
    name               text NOT NULL,
    stops              jsonb NOT NULL,
    tolerance_minutes  integer NOT NULL DEFAULT 5 CHECK (tolerance_minutes >= 0),
    window_start       text,
    window_end         text,
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX routes_property ON routes (org_id, property_id);

-- Who answers for a property's findings of one category unless someone is named.
CREATE TABLE rectification_defaults (
    org_id       text NOT NULL,
    property_id  text NOT NULL,
    category     text NOT NULL,
    user_id      text NOT NULL,
    PRIMARY KEY (org_id, property_id, category),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- A round: one walk of a checklist (and, for patrols, a route) by one person. `plan` is the route as it was
-- when the round was made: {"tolerance_minutes", "stops": [{"checkpoint_id", "minutes"}]}.
CREATE TABLE rounds (
    org_id               text NOT NULL,
    id                   text NOT NULL,
    property_id          text NOT NULL,
    template_version_id  text NOT NULL,
    route_id             text,
    assignee_id          text NOT NULL,
    status               text NOT NULL CHECK (status IN ('planned', 'in_progress', 'completed', 'missed')),
    window_start         timestamptz,
    window_end           timestamptz,
    started_at           timestamptz,
    completed_at         timestamptz,
    plan                 jsonb,
    occurrence_key       text,
    created_by           text,
    -- its checkpoint visits by timing, kept by the server (the KPIs sum these instead of reading every visit)
    visits_early         integer NOT NULL DEFAULT 0,
    visits_on_time       integer NOT NULL DEFAULT 0,
    visits_late          integer NOT NULL DEFAULT 0,
    visits_missed        integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX rounds_property_window ON rounds (org_id, property_id, window_start);
CREATE INDEX rounds_assignee ON rounds (org_id, assignee_id, status);
-- the worker's scan for rounds whose window closed unstarted
CREATE INDEX rounds_planned_window ON rounds (window_end) WHERE status = 'planned';
CREATE UNIQUE INDEX rounds_occurrence ON rounds (org_id, occurrence_key) WHERE occurrence_key IS NOT NULL;

-- A checkpoint reached on a round (or, timing 'missed', not reached by the time the round was completed).
CREATE TABLE checkpoint_visits (
    org_id          text NOT NULL,
    id              text NOT NULL,
    property_id     text NOT NULL,
    round_id        text NOT NULL,
    checkpoint_id   text NOT NULL,
    checked_by      text,
    scanned_tag     text,
    scanned_at      timestamptz,
    geo_lat         double precision,
    geo_lon         double precision,
    geo_accuracy_m  double precision,
    expected_at     timestamptz,
    timing          text CHECK (timing IN ('early', 'on_time', 'late', 'missed')),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX checkpoint_visits_round ON checkpoint_visits (org_id, round_id);
CREATE INDEX checkpoint_visits_property ON checkpoint_visits (org_id, property_id, scanned_at);

-- One checklist item answered on a round (at a checkpoint when the round walks a route). `result` is what the
-- device said; `outcome` is the server's verdict from the template version (a number outside min/max fails).
CREATE TABLE check_results (
    org_id         text NOT NULL,
    id             text NOT NULL,
    property_id    text NOT NULL,
    round_id       text NOT NULL,
    visit_id       text,
    checkpoint_id  text,
    item_key       text NOT NULL,
    -- the round's, copied by the server: the KPIs count results by item without joining their rounds
    template_version_id  text,
    result         text CHECK (result IN ('pass', 'fail', 'na')),
    value_number   double precision,
    value_text     text,
    note           text,
    checked_by     text NOT NULL,
    checked_at     timestamptz NOT NULL,
    outcome        text CHECK (outcome IN ('pass', 'fail', 'na')),
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE INDEX check_results_round ON check_results (org_id, round_id);
-- covering: the KPIs of a period read only this index (bench/kpi.py: a year's results statement 133 -> 73 ms)
CREATE INDEX check_results_property ON check_results (org_id, property_id, checked_at)
    INCLUDE (checked_by, checkpoint_id, template_version_id, item_key, outcome);

-- 整改单: a finding to put right, by someone, by a deadline, verified by a supervisor from photos.
CREATE TABLE rectification_orders (
    org_id           text NOT NULL,
    id               text NOT NULL,
    property_id      text NOT NULL,
    source           text NOT NULL CHECK (source IN ('check', 'report', 'manual', 'survey', 'complaint')),
    check_id         text,
    round_id         text,
    checkpoint_id    text,
    location         text,
    category         text NOT NULL,
    description      text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    responsible_id   text,
    reported_by      text NOT NULL,
    status           text NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'in_progress', 'submitted', 'verified')),
    due_at           timestamptz,
    started_at       timestamptz,
    submitted_at     timestamptz,
    submitted_by     text,
    verified_at      timestamptz,
    verified_by      text,
    reject_reason    text,
    rejections       integer NOT NULL DEFAULT 0,
    resolution_note  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);
CREATE UNIQUE INDEX rectification_orders_check ON rectification_orders (org_id, check_id) WHERE check_id IS NOT NULL;
CREATE INDEX rectification_orders_property ON rectification_orders (org_id, property_id, created_at);
CREATE INDEX rectification_orders_status ON rectification_orders (org_id, property_id, status, submitted_at);
CREATE INDEX rectification_orders_responsible ON rectification_orders (org_id, responsible_id, status);
-- the worker's deadline scan, across orgs: unverified orders by deadline
CREATE INDEX rectification_orders_deadline ON rectification_orders (due_at) WHERE status <> 'verified';

-- Photos now belong to inspection records too, as before / after / evidence.
ALTER TABLE photos ADD COLUMN purpose text CHECK (purpose IN ('before', 'after', 'evidence', 'signature'));

-- A change of a scope column moves a row out of some devices' view: it leaves a tombstone holding the old
-- values, so those devices delete it (a device that still sees the row ignores the tombstone). TG_ARGV: the
-- table's scope columns. The tombstone names no session: the device that caused the move must hear of it too.
CREATE FUNCTION sync_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_tombstones (org_id, table_name, id, keys, session)
    SELECT OLD.org_id, TG_TABLE_NAME, OLD.id,
           coalesce((SELECT jsonb_object_agg(k, to_jsonb(OLD) -> k) FROM unnest(TG_ARGV) AS k), '{}'::jsonb),
           NULL;
    RETURN NULL;
END $$;

-- Change tracking for a synced table (the same as 0002 did for its tables): stamp columns, their index, the
-- touch trigger and the tombstone trigger keeping `keys` (the table's scope columns in sync/tables.py).
CREATE FUNCTION sync_track(tbl text, keys text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
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
    $f$, tbl, tbl || '_sync_xid', tbl || '_sync_touch', tbl || '_sync_tombstone',
       (SELECT coalesce(string_agg(quote_literal(k), ', '), '') FROM unnest(keys) AS k));
END $$;

SELECT sync_track('template_versions', ARRAY[]::text[]);
SELECT sync_track('checkpoints', ARRAY['property_id']);
SELECT sync_track('routes', ARRAY['property_id']);
SELECT sync_track('rounds', ARRAY['assignee_id', 'property_id']);
SELECT sync_track('checkpoint_visits', ARRAY['checked_by', 'property_id']);
SELECT sync_track('check_results', ARRAY['checked_by', 'property_id']);
SELECT sync_track('rectification_orders', ARRAY['property_id', 'reported_by', 'responsible_id']);

CREATE TRIGGER rounds_sync_moved AFTER UPDATE OF assignee_id ON rounds
    FOR EACH ROW WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
    EXECUTE FUNCTION sync_moved('assignee_id', 'property_id');
CREATE TRIGGER rectification_orders_sync_moved AFTER UPDATE OF responsible_id ON rectification_orders
    FOR EACH ROW WHEN (OLD.responsible_id IS DISTINCT FROM NEW.responsible_id)
    EXECUTE FUNCTION sync_moved('property_id', 'reported_by', 'responsible_id');
