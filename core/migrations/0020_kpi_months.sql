-- A property's KPI counts of one settled calendar month, kept so that a 12-month trend or a year's figures do not
-- count a year of rows on every view (inspections/kept.py; docs/inspections.md, "Monthly trends"). `what`:
-- 'totals', the month's totals (the trend's point); 'results', its checklist results counted down to (person,
-- checkpoint, template version, item, outcome) -> n, the first step of the result figures. A row keeps what was
-- counted and a snapshot taken before the count (pg_current_snapshot(), as text): every write the count may not
-- have seen has a sync_xid not visible in that snapshot, and the sync_xid indexes find those.
CREATE TABLE kpi_kept_months (
    org_id       text NOT NULL,
    property_id  text NOT NULL,
    what         text NOT NULL CHECK (what IN ('totals', 'results')),
    start_at     timestamptz NOT NULL,
    end_at       timestamptz NOT NULL,
    snapshot     text NOT NULL,
    kept         jsonb NOT NULL,
    counted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, property_id, what, start_at, end_at),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id) ON DELETE CASCADE
);
