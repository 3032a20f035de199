-- A property's KPI totals of one settled calendar month, kept so that a 12-month trend does not count a year of
-- rows on every view (inspections/kpi_months.py; docs/inspections.md, "Monthly trends"). A row is what the KPI
-- statement counted, and a snapshot taken before it (pg_current_snapshot(), as text): every write the count may
-- not have seen has a sync_xid not visible in that snapshot, and the sync_xid indexes find those.
CREATE TABLE kpi_months (
    org_id       text NOT NULL,
    property_id  text NOT NULL,
    start_at     timestamptz NOT NULL,
    end_at       timestamptz NOT NULL,
    snapshot     text NOT NULL,
    figures      jsonb NOT NULL,
    counted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, property_id, start_at, end_at),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id) ON DELETE CASCADE
);
