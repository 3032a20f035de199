-- The service desk (工单, docs/service-desk.md): owners' repairs, complaints, suggestions, praise and enquiries,
-- from intake to the return visit. A ticket's row holds where it stands; every step is also a ticket event (the
-- timeline owners read, the internal notes they do not) and an audit entry.

-- The app's clock inside the database: what a push set (sync/repository.py start_push), else now(). A column
-- defaulting to it records when a row reached the server by the same clock as everything the app stamps (a test's
-- injected clock included).
CREATE FUNCTION fieldwork_now() RETURNS timestamptz LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('fieldwork.now', true), '')::timestamptz, now()) $$;

CREATE TABLE tickets (
    org_id                text NOT NULL,
    id                    text NOT NULL,
    property_id           text NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('repair', 'complaint', 'suggestion', 'praise', 'enquiry')),
    category              text NOT NULL,
    -- how it came in: the owner app (sync), the household's web page, the front desk, the hotline, staff on a round
    channel               text NOT NULL DEFAULT 'app' CHECK (channel IN ('app', 'web', 'front_desk', 'hotline', 'round')),
    -- where: a unit (and its building), a building, or a common area (location text, optional GPS)
    unit_id               text,
    building_id           text,
    location              text,
    gps_lat               double precision,
    gps_lon               double precision,
    -- who: the person who filed it (the owner, or the staff member who typed it in) and a named caller
    reported_by           text NOT NULL,
    caller_name           text,
    caller_phone          text,
    -- what, and when it happened
    occurred_at           timestamptz,
    description           text NOT NULL,
    request               text,
    status                text NOT NULL DEFAULT 'received'
                          CHECK (status IN ('received', 'accepted', 'declined', 'assigned', 'responded', 'resolved',
                                            'confirmed', 'closed')),
    decline_reason        text,
    duplicate_of          text,
    accepted_at           timestamptz,
    accepted_by           text,
    responsible_id        text,
    assigned_at           timestamptz,
    -- the promises, made on acceptance: the deadlines in force, and the first ones (lateness is judged on those)
    respond_due_at        timestamptz,
    respond_due_original  timestamptz,
    resolve_due_at        timestamptz,
    resolve_due_original  timestamptz,
    responded_at          timestamptz,
    responded_by          text,
    resolved_at           timestamptz,
    resolved_by           text,
    resolution_note       text,
    -- resolved -> confirmed by the owner, by staff who asked them, or by the worker after the owner kept silent
    confirmed_at          timestamptz,
    confirmed_via         text CHECK (confirmed_via IN ('owner', 'staff', 'auto')),
    -- disputes and poor return visits send it back to work
    reopens               integer NOT NULL DEFAULT 0,
    -- the return visit (回访): due a few days after resolution; the latest one's rating and comment
    visit_due_at          timestamptz,
    visited_at            timestamptz,
    visited_by            text,
    visit_channel         text CHECK (visit_channel IN ('app', 'web', 'phone', 'in_person')),
    visit_rating          integer CHECK (visit_rating BETWEEN 1 AND 5),
    visit_comment         text,
    closed_at             timestamptz,
    created_at            timestamptz NOT NULL,
    received_at           timestamptz NOT NULL DEFAULT fieldwork_now(),
    PRIMARY KEY (org_id, id),
    -- no key to units: a phone names the unit, and a unit that is not the property's refuses the push with a
    -- message (servicedesk/push.py), where a foreign key would fail the whole COPY without saying which record
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    FOREIGN KEY (org_id, duplicate_of) REFERENCES tickets (org_id, id)
);
CREATE INDEX tickets_property ON tickets (org_id, property_id, created_at DESC, id DESC);
CREATE INDEX tickets_unit ON tickets (org_id, unit_id, category, created_at) WHERE unit_id IS NOT NULL;
-- (a new ticket, unassigned, costs this index nothing: a push of hundreds writes only what it must)
CREATE INDEX tickets_responsible ON tickets (org_id, responsible_id, status) WHERE responsible_id IS NOT NULL;
-- the worker's scans, across orgs: what is still open, what waits for its confirmation or return visit
CREATE INDEX tickets_open ON tickets (status, resolve_due_at) WHERE status IN ('accepted', 'assigned', 'responded');
CREATE INDEX tickets_settling ON tickets (status, resolved_at) WHERE status IN ('resolved', 'confirmed');
SELECT sync_track('tickets', ARRAY['property_id', 'reported_by', 'unit_id']);

-- A ticket's timeline: each step of its lifecycle after its filing (the ticket's own row tells that) and each note. Owners of the ticket see the public ones
-- (owner_unit_id / owner_user_id are set only on those); internal notes stay with staff. A phone pushes an event
-- to ask for a step (an owner confirming offline, an engineer arriving in a basement): the server applies it
-- through the same rules as the API and says here whether it took it (`outcome`, and why not).
CREATE SEQUENCE ticket_event_order;
CREATE TABLE ticket_events (
    org_id          text NOT NULL,
    id              text NOT NULL,
    ticket_id       text NOT NULL,
    property_id     text NOT NULL,
    action          text NOT NULL,
    body            text,
    -- as a phone asked (checked when applied: a rating outside 1-5 is refused on the event)
    rating          integer,
    -- NULL (a phone that said nothing) is public; staff notes may be false
    public          boolean,
    actor_id        text,
    status_before   text,
    status_after    text,
    -- pending (a phone's request, just pushed) -> applied | refused (refusal_en / refusal_zh say why)
    outcome         text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'applied', 'refused')),
    refusal_en      text,
    refusal_zh      text,
    owner_unit_id   text,
    owner_user_id   text,
    data            jsonb,
    created_at      timestamptz NOT NULL,
    -- the order the server took them in (steps in one instant, a phone's clock behind the server's): drawn again
    -- when a phone's request is applied, so the timeline is the order of the steps, not of their arrival
    seq             bigint NOT NULL DEFAULT nextval('ticket_event_order'),
    -- no key to tickets: a phone may ask about a ticket that is not (or no longer) its to see; the request is
    -- refused on the event itself, not by a failed COPY
    PRIMARY KEY (org_id, id)
);
CREATE INDEX ticket_events_ticket ON ticket_events (org_id, ticket_id, seq);
CREATE INDEX ticket_events_visits ON ticket_events (org_id, property_id, created_at) WHERE action = 'visit';
SELECT sync_track('ticket_events', ARRAY['actor_id', 'owner_unit_id', 'owner_user_id', 'property_id']);

-- The promises of a property by kind and category: minutes to respond and to resolve. A row with category '*'
-- holds for every category of the kind; without a row the practice's defaults hold (servicedesk/promises.py).
CREATE TABLE ticket_promises (
    org_id           text NOT NULL,
    property_id      text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('repair', 'complaint', 'suggestion', 'praise', 'enquiry')),
    category         text NOT NULL,
    respond_minutes  integer NOT NULL CHECK (respond_minutes > 0),
    resolve_minutes  integer NOT NULL CHECK (resolve_minutes > 0),
    updated_by       text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, property_id, kind, category),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);

-- Who a property's tickets of a category go to when nobody is named (as rectification_defaults do for orders).
CREATE TABLE ticket_assignees (
    org_id       text NOT NULL,
    property_id  text NOT NULL,
    category     text NOT NULL,
    user_id      text NOT NULL,
    PRIMARY KEY (org_id, property_id, category),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
