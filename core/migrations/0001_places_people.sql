-- Places and people. Every tenant table leads its primary key with org_id: the tenant is the
-- distribution key when one customer outgrows a single PostgreSQL (Citus, see docs/scaling.md).
-- Ids are text: records made offline on a phone keep the id the phone gave them.

CREATE TABLE orgs (
    org_id      text PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE properties (
    org_id        text NOT NULL REFERENCES orgs (org_id),
    id            text NOT NULL,
    name          text NOT NULL,
    address       text NOT NULL DEFAULT '',
    timezone      text NOT NULL,
    geo_lat       double precision,
    geo_lon       double precision,
    geo_radius_m  integer,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE buildings (
    org_id       text NOT NULL,
    id           text NOT NULL,
    property_id  text NOT NULL,
    name         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, property_id, id),
    UNIQUE (org_id, property_id, name),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id)
);

CREATE TABLE units (
    org_id       text NOT NULL,
    id           text NOT NULL,
    property_id  text NOT NULL,
    building_id  text NOT NULL,
    number       text NOT NULL,
    floor        integer,
    area_m2      numeric(10, 2),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, building_id, number),
    -- the building must belong to the same property
    FOREIGN KEY (org_id, property_id, building_id) REFERENCES buildings (org_id, property_id, id)
);
CREATE INDEX units_property ON units (org_id, property_id, id);

CREATE TABLE users (
    org_id         text NOT NULL REFERENCES orgs (org_id),
    id             text NOT NULL,
    name           text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'supervisor', 'staff', 'owner')),
    email          text CHECK (email = lower(email)),
    phone          text,
    password_hash  text,
    active         boolean NOT NULL DEFAULT true,
    activated_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
-- People log in with a phone or an e-mail and no tenant name, so these are unique across tenants.
CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_phone ON users (phone) WHERE phone IS NOT NULL;

CREATE TABLE property_staff (
    org_id       text NOT NULL,
    property_id  text NOT NULL,
    user_id      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, property_id, user_id),
    FOREIGN KEY (org_id, property_id) REFERENCES properties (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX property_staff_user ON property_staff (org_id, user_id);

CREATE TABLE unit_owners (
    org_id      text NOT NULL,
    unit_id     text NOT NULL,
    user_id     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, unit_id, user_id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX unit_owners_user ON unit_owners (org_id, user_id);

CREATE TABLE invitations (
    org_id      text NOT NULL,
    id          text NOT NULL,
    user_id     text NOT NULL,
    code_hash   text NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- A login on one device. The refresh token is `<id>.<secret>`; only sha256(secret) is stored.
CREATE TABLE sessions (
    org_id        text NOT NULL,
    id            text NOT NULL,
    user_id       text NOT NULL,
    refresh_hash  text NOT NULL,
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX sessions_user ON sessions (org_id, user_id) WHERE revoked_at IS NULL;

-- Who changed what, written in the same transaction as the change.
CREATE TABLE audit_log (
    org_id     text NOT NULL,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   text,
    action     text NOT NULL,
    entity     text NOT NULL,
    entity_id  text NOT NULL,
    before     jsonb,
    after      jsonb,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_log_entity ON audit_log (org_id, entity, entity_id, id);
