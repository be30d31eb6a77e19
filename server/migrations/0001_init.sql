-- webra2-mock store, version 1. Instants are Unix seconds (UTC).

CREATE TABLE enrollments (
    id              TEXT PRIMARY KEY,
    token           TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    email           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('new', 'renew')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'authenticated', 'issued', 'locked')),
    password_hash   TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    mail_sent_at    INTEGER NOT NULL,
    url_expires_at  INTEGER NOT NULL,
    serial          TEXT,
    renews_serial   TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX enrollments_user ON enrollments (user_id);

CREATE TABLE mails (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    enrollment_id  TEXT NOT NULL REFERENCES enrollments (id),
    recipient      TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    one_time_url   TEXT NOT NULL,
    sent_at        INTEGER NOT NULL
);
CREATE INDEX mails_recipient ON mails (recipient);

CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    enrollment_id  TEXT NOT NULL REFERENCES enrollments (id),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);

CREATE TABLE certificates (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    serial         TEXT NOT NULL UNIQUE,
    user_id        TEXT NOT NULL,
    enrollment_id  TEXT NOT NULL UNIQUE REFERENCES enrollments (id),
    der            BLOB NOT NULL,
    not_before     INTEGER NOT NULL,
    not_after      INTEGER NOT NULL,
    revoked_at     INTEGER,
    reason         TEXT
);
CREATE INDEX certificates_user ON certificates (user_id);
