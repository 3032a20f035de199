-- A household's owners see the before and after photos of their tickets, whoever took them: the service desk
-- names the household on a ticket's photos (servicedesk/push.py) and the owners' scope reads it (sync/tables.py).
ALTER TABLE photos ADD COLUMN owner_unit_id text;
-- a scope column now: a deleted photo's tombstone keeps it, so the household's phones delete it too
DROP TRIGGER photos_sync_tombstone ON photos;
CREATE TRIGGER photos_sync_tombstone AFTER DELETE ON photos REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sync_tombstone('owner_unit_id', 'property_id', 'uploaded_by');
