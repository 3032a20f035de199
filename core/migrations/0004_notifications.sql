-- Notifications: an outbox written in the same transaction as the change that causes it, so a change and its
-- notice commit or vanish together. Its dedupe key makes a cause that runs twice (two workers, a retry, a
-- restart) notify once. The worker delivers each notification once per channel: a recipient's inbox (a synced
-- table: phones get it on their next pull) or an org webhook (a signed HTTP POST).
CREATE TABLE notifications (
    org_id        text NOT NULL REFERENCES orgs (org_id),
    id            text NOT NULL,
    dedupe_key    text NOT NULL,
    kind          text NOT NULL,
    property_id   text,
    record_table  text,
    record_id     text,
    title_zh      text NOT NULL,
    title_en      text NOT NULL,
    body_zh       text NOT NULL DEFAULT '',
    body_en       text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, dedupe_key)
);
CREATE INDEX notifications_record ON notifications (org_id, record_table, record_id);

-- One row per notification and channel ('inbox:<user id>' or 'webhook:<webhook id>'). A worker takes a due
-- pending row FOR UPDATE SKIP LOCKED, delivers it and marks it in the same transaction: a worker that dies
-- mid-delivery releases the row with its connection, and the next one sends it again (at most that one twice;
-- webhook receivers dedupe on X-Fieldwork-Delivery, inbox rows have stable ids).
CREATE TABLE notification_deliveries (
    org_id           text NOT NULL,
    notification_id  text NOT NULL,
    channel          text NOT NULL CHECK (channel ~ '^(inbox|webhook):.+$'),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    delivered_at     timestamptz,
    PRIMARY KEY (org_id, notification_id, channel),
    FOREIGN KEY (org_id, notification_id) REFERENCES notifications (org_id, id) ON DELETE CASCADE
);
-- the worker's scan, across orgs: pending deliveries by when they are due
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending';

-- An org's webhook endpoints. The secret signs every POST (HMAC-SHA256); it must be kept in the clear to sign
-- with, and is shown to the admin once, when the webhook is made. kinds NULL: every kind.
CREATE TABLE webhooks (
    org_id      text NOT NULL REFERENCES orgs (org_id),
    id          text NOT NULL,
    url         text NOT NULL,
    secret      text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    kinds       text[],
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);

-- A person's in-app notifications (synced: each user pulls their own). The id is derived from the notification
-- and the user, so a delivery that runs twice writes one row.
CREATE TABLE inbox (
    org_id           text NOT NULL,
    id               text NOT NULL,
    user_id          text NOT NULL,
    notification_id  text NOT NULL,
    kind             text NOT NULL,
    title_zh         text NOT NULL,
    title_en         text NOT NULL,
    body_zh          text NOT NULL DEFAULT '',
    body_en          text NOT NULL DEFAULT '',
    property_id      text,
    record_table     text,
    record_id        text,
    created_at       timestamptz NOT NULL,
    read_at          timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, notification_id) REFERENCES notifications (org_id, id)
);
CREATE INDEX inbox_user ON inbox (org_id, user_id, created_at DESC, id DESC);

SELECT sync_track('inbox', ARRAY['user_id']);
