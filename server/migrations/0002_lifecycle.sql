-- webra2-mock store, version 2: renewals that revoke what they renew, and the CRL.

-- 1 when issuing this (renewal) enrollment revokes renews_serial as superseded.
ALTER TABLE enrollments ADD COLUMN revoke_previous INTEGER NOT NULL DEFAULT 0;

-- The CRL number counter and the current CRL: exactly one row. `number` only grows;
-- the CRL kept is the one with the highest number generated so far.
CREATE TABLE crl (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    next_number   INTEGER NOT NULL,
    number        INTEGER,
    der           BLOB,
    this_update   INTEGER,
    next_update   INTEGER,
    revoked_count INTEGER
);
INSERT INTO crl (id, next_number) VALUES (1, 1);
