-- A schedule's kind is one a plug-in declares (core/schedules/kinds.py), checked when the schedule is made and
-- when the registry is built at start-up; the database no longer lists them, so a new domain's kind needs no
-- migration of the kernel's table. It keeps the shape of a kind's name.
ALTER TABLE schedules DROP CONSTRAINT schedules_kind_check;
ALTER TABLE schedules ADD CONSTRAINT schedules_kind_name CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$');
