-- Each replica's lease on the controls (the clock and the faults): while a
-- replica's lease has not run out (`until`, the database's clock), it serves
-- with the controls it holds without reading them per request, and a change of
-- the controls waits until the replica says it took it (`acked`, the version
-- it shows). A replica that stops gives its lease up; one that dies leaves it
-- to run out, and long run-out leases are forgotten at the next renewal.
CREATE TABLE replica_leases (
    replica  TEXT PRIMARY KEY,
    acked    BIGINT NOT NULL,
    until    TIMESTAMPTZ NOT NULL
);
