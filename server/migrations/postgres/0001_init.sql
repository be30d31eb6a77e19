-- webra2-mock store on PostgreSQL, version 1: the records of the SQLite store
-- (server/migrations/0001_init.sql, 0002_lifecycle.sql), with instants as
-- timestamptz (whole seconds, as the SQLite store keeps them), plus what every
-- replica of one deployment shares: the clock, the faults and the root.
-- Applied by server/src/store/postgres.rs under an advisory lock.

CREATE TABLE enrollments (
    id              TEXT PRIMARY KEY,
    token           TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    email           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('new', 'renew')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'authenticated', 'issued', 'locked')),
    password_hash   TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    mail_sent_at    TIMESTAMPTZ NOT NULL,
    url_expires_at  TIMESTAMPTZ NOT NULL,
    serial          TEXT,
    renews_serial   TEXT,
    -- Issuing this (renewal) enrollment revokes renews_serial as superseded.
    revoke_previous BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX enrollments_user ON enrollments (user_id);

-- seq: insertion order, which "newest first" follows.
CREATE TABLE mails (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    enrollment_id  TEXT NOT NULL REFERENCES enrollments (id),
    recipient      TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    one_time_url   TEXT NOT NULL,
    sent_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX mails_recipient ON mails (recipient, seq);

CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    enrollment_id  TEXT NOT NULL REFERENCES enrollments (id),
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE certificates (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial         TEXT NOT NULL UNIQUE,
    user_id        TEXT NOT NULL,
    enrollment_id  TEXT NOT NULL UNIQUE REFERENCES enrollments (id),
    der            BYTEA NOT NULL,
    not_before     TIMESTAMPTZ NOT NULL,
    not_after      TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    reason         TEXT
);
CREATE INDEX certificates_user ON certificates (user_id, seq);
CREATE INDEX certificates_revoked ON certificates (revoked_at, seq) WHERE revoked_at IS NOT NULL;

-- The CRL number counter and the current CRL: exactly one row. `number` only
-- grows; the CRL kept is the one with the highest number generated so far.
CREATE TABLE crl (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    next_number   BIGINT NOT NULL,
    number        BIGINT,
    der           BYTEA,
    this_update   TIMESTAMPTZ,
    next_update   TIMESTAMPTZ,
    revoked_count BIGINT
);
INSERT INTO crl (id, next_number) VALUES (1, 1);

-- The deployment's clock and faults, one row: each a JSON document the service
-- writes and reads whole, so fields added to either later need no migration.
-- `version` grows with every change: a replica reads the documents only when
-- it differs from the one it holds.
CREATE TABLE controls (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL,
    clock    JSONB NOT NULL,
    faults   JSONB NOT NULL
);
INSERT INTO controls (id, version, clock, faults)
VALUES (1, 0, '{"mode": "real"}', '{"faults": []}');

-- The root of a deployment started with --root ephemeral: the first replica
-- stores the one it generated, every later one uses it.
CREATE TABLE root (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    cert_pem    TEXT NOT NULL,
    key_pem     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
