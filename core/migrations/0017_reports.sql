-- The property reports (reports/, docs/reports.md): one row per report asked for, a month (2026-10) or a quarter
-- (2026-Q4) of a property, made by the worker's make_report job, which writes its progress here (step `progress`
-- of `total`). A repeated request reuses the newest version of (property, period) unless it failed; a
-- regeneration makes the next version. The PDF's bytes live in the app's store (services.store) under `store_key`.
CREATE TABLE reports (
    org_id        text NOT NULL,
    id            text NOT NULL,
    property_id   text NOT NULL,
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$'),
    version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress      integer NOT NULL DEFAULT 0 CHECK (progress >= 0),
    total         integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    error         text,
    store_key     text,
    size_bytes    integer,
    figures       jsonb,  -- the PropertyReport the PDF was made from (reports/figures.py): ?format=json gives it
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, property_id, period, version),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    FOREIGN KEY (org_id, requested_by) REFERENCES users (org_id, id),
    CHECK ((status = 'done') = (store_key IS NOT NULL AND figures IS NOT NULL))
);
CREATE INDEX reports_recent ON reports (org_id, property_id, requested_at DESC);
