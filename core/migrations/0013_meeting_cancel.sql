-- Owner meetings can be cancelled (docs/meetings.md): when and why, synced to the owners who were told of it.
ALTER TABLE owner_meetings ADD COLUMN cancelled_at timestamptz;
ALTER TABLE owner_meetings ADD COLUMN cancel_reason text;

-- The meetings' reminders (meetings/reminders.py) look across orgs for meetings starting within a week that are
-- still to be held; the other meetings are most of the table and never read by them.
CREATE INDEX owner_meetings_upcoming ON owner_meetings (starts_at) WHERE status IN ('planned', 'noticed');

-- A cancelled meeting no longer holds its quarter: the property may plan another one in it.
ALTER TABLE owner_meetings DROP CONSTRAINT owner_meetings_org_id_property_id_quarter_key;
CREATE UNIQUE INDEX owner_meetings_quarter ON owner_meetings (org_id, property_id, quarter) WHERE status <> 'cancelled';
