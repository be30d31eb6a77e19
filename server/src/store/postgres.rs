//! The shared store: PostgreSQL, for several replicas of the service on one
//! database (`--db postgres://USER@HOST:PORT/DB`).
//!
//! **Crates.** tokio-postgres (the rust-postgres project) speaks the protocol
//! natively on tokio, with prepared statements and no compile-time database;
//! deadpool-postgres pools its clients and caches their prepared statements.
//! Both are small and well kept. sqlx was this project's SQLite layer once and
//! was taken out for its per-call thread hops (see `sqlite.rs`); bringing it
//! back for PostgreSQL alone would add its macros and runtime for nothing
//! tokio-postgres lacks.
//!
//! **Every rule is the database's.** Each operation is one SQL statement:
//! the ones that change several rows are data-modifying CTEs, which PostgreSQL
//! runs as one transaction, and every conditional change is an
//! `UPDATE ... WHERE state IN (...)`. Under READ COMMITTED, of concurrent
//! updates on one row the later ones wait for the first and evaluate their
//! `WHERE` again on the row it left, so of any number of claims on a URL,
//! from any number of processes, exactly one finds it open; counting a wrong
//! password and locking is one such update. One statement is also one round
//! trip: no `BEGIN` and `COMMIT` of their own.
//!
//! **Unavailable.** The pool is bounded ([`POOL_SIZE`]) and every wait has a
//! timeout: for a pooled client, for a new connection, and on the server for a
//! statement or a lock. A database that cannot be reached or that went away
//! is [`StoreError::Unavailable`] (the service answers `503 store-unavailable`);
//! closed connections are dropped from the pool as they are found, so the store
//! recovers by itself when the database is back.
//!
//! **Migrations** are `server/migrations/postgres/*.sql`, applied at start in
//! one transaction holding an advisory lock, so replicas that start together
//! neither race nor apply one twice.

use super::interface::*;
use super::recent::{DownloadCache, SessionCache};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use webra2_wire::{EnrollmentState, Kind};

/// The migrations, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "replica_leases",
        include_str!("../../migrations/postgres/0002_replica_leases.sql"),
    ),
];

/// The advisory lock the migrations run under (any fixed number; this is
/// "webra2" in ASCII).
const MIGRATION_LOCK: i64 = 0x7765_6272_6132;

/// Connections one process keeps at most. The service's work per request is
/// CPU-bound (signatures, argon2) on a few cores; more connections would only
/// queue on the database's locks.
pub const POOL_SIZE: usize = 16;
/// How long a call waits for a pooled connection.
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a connection may take (TCP, start-up, authentication).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// What every connection sets: the server-side limits (a statement, a lock
/// wait, an idle transaction), and index lookups whatever the statistics say.
///
/// `enable_seqscan=off`: every statement of the store finds its rows through
/// an index (a primary or unique key, or the indexes of the migration), but a
/// mock's tables grow from nothing in seconds. A statement is prepared once
/// per pooled connection, and after five runs PostgreSQL keeps a generic plan
/// made on the statistics of that moment: made while `certificates` held three
/// rows, it scanned the whole table for every download ever after, until the
/// next `ANALYZE` (measured: 1.2 ms a download at 10,000 certificates, and the
/// database's CPU per issuance 2.7 times what it is with index plans). A
/// statement with no index to use still runs, as a scan.
///
/// `plan_cache_mode=force_generic_plan`: with index plans assured, the plan a
/// statement gets does not depend on its parameters (every lookup is by a key),
/// so each statement is planned once per connection instead of once per run
/// (PostgreSQL's default plans the first five runs anew, and any run whose
/// generic plan it estimates dearer). Measured with the benchmark: the
/// database's CPU per issuance 549 → 343 µs.
///
/// `jit=off`: a plan that still holds a scan `enable_seqscan=off` refuses
/// (the lease's sweep of run-out leases, a table of a few rows) is costed
/// above ten billion, far over `jit_above_cost`, and PostgreSQL compiled it
/// with LLVM at every run: 50 to 100 ms of a database core for a statement of
/// 0.2 ms, measured. No statement of this store is long enough for JIT to pay.
const SESSION_OPTIONS: &str =
    "-c statement_timeout=10000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=10000 \
     -c client_min_messages=warning -c enable_seqscan=off -c plan_cache_mode=force_generic_plan \
     -c jit=off";

// `?` on the driver's and the pool's errors; the trait's error type names no backend.
impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if unreachable(&e) {
            Self::Unavailable(e.to_string())
        } else {
            Self::Database(Box::new(e))
        }
    }
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Backend(e) => e.into(),
            other => Self::Unavailable(format!("no database connection: {other}")),
        }
    }
}

/// Whether `e` says the database cannot be reached, rather than that a
/// statement failed: a closed connection, an I/O error, a connection
/// exception (class 08), or a server shutting down or starting up.
fn unreachable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            code.code().starts_with("08")
                || [
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                    SqlState::TOO_MANY_CONNECTIONS,
                ]
                .contains(code)
        }
        // No SQLSTATE: the driver's own failure to talk to the server.
        None => {
            std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
                || e.to_string().contains("timed out")
        }
    }
}

/// A store in one PostgreSQL database, shared by every process that opens it.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// Sessions recorded or read lately, by this process: a session recorded
    /// by another replica is read from the table once.
    sessions: Arc<SessionCache>,
    /// Downloads of enrollments that issued, by token (`recent.rs`).
    downloads: Arc<DownloadCache>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("pool_size", &status.size)
            .field("pool_max", &status.max_size)
            .finish()
    }
}

/// The states in which a one-time URL still works.
macro_rules! open_states {
    () => {
        "state IN ('pending', 'authenticated')"
    };
}

/// The columns [`enrollment_from_row`] reads, in its order.
macro_rules! enrollment_columns {
    () => {
        "e.id, e.token, e.user_id, e.email, e.kind, e.state, e.password_hash, \
         e.failed_attempts, e.mail_sent_at, e.url_expires_at, e.serial, e.renews_serial, \
         e.revoke_previous"
    };
}
/// How many columns `enrollment_columns!` names.
const ENROLLMENT_WIDTH: usize = 13;

/// A replica's lease renewed (or taken) for `$3` ms, saying it shows version
/// `$2`; leases run out ten minutes ago are swept.
const RENEW_LEASE: &str = "WITH forgotten AS (
         DELETE FROM replica_leases
          WHERE until < clock_timestamp() - interval '10 minutes')
     INSERT INTO replica_leases (replica, acked, until)
     VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 millisecond')
     ON CONFLICT (replica) DO UPDATE
        SET acked = GREATEST(replica_leases.acked, excluded.acked),
            until = excluded.until";

/// The CTE `e` that inserts an enrollment in `$state` and returns its id, for
/// a statement that records something with it in the same transaction. Its
/// parameters `$1`–`$12` are [`EnrollmentParams`]; the statement's own start
/// at `$13`.
macro_rules! insert_enrollment {
    ($state:literal) => {
        concat!(
            "WITH e AS (
                INSERT INTO enrollments (id, token, user_id, email, kind, state, password_hash,
                    failed_attempts, mail_sent_at, url_expires_at, serial, renews_serial,
                    revoke_previous, created_at)
                VALUES ($1, $2, $3, $4, $5, '",
            $state,
            "', $6, 0, $7, $8, $9, $10, $11, $12)
                RETURNING id) "
        )
    };
}

/// The values of [`insert_enrollment!`]'s `$1`–`$12`, the times in whole
/// seconds as every table keeps them.
struct EnrollmentParams<'a> {
    e: &'a NewEnrollment,
    kind: &'static str,
    serial: Option<&'a str>,
    times: [OffsetDateTime; 3],
}

impl<'a> EnrollmentParams<'a> {
    fn of(e: &'a NewEnrollment, serial: Option<&'a str>) -> Self {
        Self {
            e,
            kind: e.kind.as_str(),
            serial,
            times: [
                secs(e.mail_sent_at),
                secs(e.url_expires_at),
                secs(e.created_at),
            ],
        }
    }

    /// `$1`–`$12`, then `rest` from `$13` on.
    fn with<'p>(&'p self, rest: &[&'p (dyn ToSql + Sync)]) -> Vec<&'p (dyn ToSql + Sync)> {
        let [mail_sent_at, url_expires_at, created_at] = &self.times;
        let mut params: Vec<&'p (dyn ToSql + Sync)> = vec![
            &self.e.id,
            &self.e.token,
            &self.e.user_id,
            &self.e.email,
            &self.kind,
            &self.e.password_hash,
            mail_sent_at,
            url_expires_at,
            &self.serial,
            &self.e.renews_serial,
            &self.e.revoke_previous,
            created_at,
        ];
        params.extend_from_slice(rest);
        params
    }
}

/// The columns [`certificate_from_row`] reads, in its order.
macro_rules! certificate_columns {
    () => {
        "c.serial, c.user_id, c.enrollment_id, c.der, c.not_before, c.not_after, \
         c.revoked_at, c.reason"
    };
}

/// The columns [`mail_from_row`] reads, in its order.
macro_rules! mail_columns {
    () => {
        "id, enrollment_id, recipient, subject, body, one_time_url, sent_at"
    };
}

/// The certificate with a serial (Step 4, OCSP, a renewal's signer).
const CERTIFICATE_BY_SERIAL: &str = concat!(
    "SELECT ",
    certificate_columns!(),
    " FROM certificates c WHERE c.serial = $1"
);

/// An enrollment by its token, with the certificate it issued: half of
/// every issuance (the download).
/// The enrollment with token `$1` and the session with token hash `$2`.
const ENROLLMENT_AND_SESSION: &str = concat!(
    "SELECT ",
    enrollment_columns!(),
    ", s.token_hash, s.enrollment_id, s.created_at, s.expires_at
       FROM enrollments e LEFT JOIN sessions s ON s.token_hash = $2
      WHERE e.token = $1"
);

const DOWNLOAD_BY_TOKEN: &str = "SELECT e.id, e.kind, e.user_id, e.serial, c.der
       FROM enrollments e LEFT JOIN certificates c ON c.serial = e.serial
      WHERE e.token = $1";

/// An instant as the store keeps it: whole seconds, as the SQLite store does.
fn secs(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// A stored site kind.
fn parse_kind(kind: &str) -> Result<Kind, StoreError> {
    Kind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))
}

/// A column read, its failure a corrupt record.
fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    at: usize,
) -> Result<T, StoreError> {
    row.try_get(at)
        .map_err(|e| StoreError::Corrupt(format!("column {at}: {e}")))
}

/// An enrollment from `enrollment_columns!`, starting at column `at`.
fn enrollment_from_row(row: &Row, at: usize) -> Result<EnrollmentRecord, StoreError> {
    let kind: String = get(row, at + 4)?;
    let state: String = get(row, at + 5)?;
    let failed: i32 = get(row, at + 7)?;
    Ok(EnrollmentRecord {
        id: get(row, at)?,
        token: get(row, at + 1)?,
        user_id: get(row, at + 2)?,
        email: get(row, at + 3)?,
        kind: parse_kind(&kind)?,
        state: EnrollmentState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        password_hash: get(row, at + 6)?,
        failed_attempts: u32::try_from(failed).unwrap_or(0),
        mail_sent_at: get(row, at + 8)?,
        url_expires_at: get(row, at + 9)?,
        serial: get(row, at + 10)?,
        renews_serial: get(row, at + 11)?,
        revoke_previous: get(row, at + 12)?,
    })
}

/// A certificate from `certificate_columns!`, starting at column `at`.
fn certificate_from_row(row: &Row, at: usize) -> Result<CertificateRecord, StoreError> {
    Ok(CertificateRecord {
        serial: get(row, at)?,
        user_id: get(row, at + 1)?,
        enrollment_id: get(row, at + 2)?,
        der: get(row, at + 3)?,
        not_before: get(row, at + 4)?,
        not_after: get(row, at + 5)?,
        revoked_at: get(row, at + 6)?,
        reason: get(row, at + 7)?,
    })
}

fn mail_from_row(row: &Row) -> Result<MailRecord, StoreError> {
    Ok(MailRecord {
        id: get(row, 0)?,
        enrollment_id: get(row, 1)?,
        to: get(row, 2)?,
        subject: get(row, 3)?,
        body: get(row, 4)?,
        one_time_url: get(row, 5)?,
        sent_at: get(row, 6)?,
    })
}

/// A count or number the database keeps as `BIGINT`, as the trait's `u64`.
fn unsigned(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}")))
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`,
    /// or any connection string tokio-postgres takes) and runs the migrations.
    /// The password, if any, is never repeated in an error.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Url(format!(
                "not a PostgreSQL connection URL ({e}); use postgres://USER@HOST:PORT/DB"
            ))
        })?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("webra2-mock");
        let options = match config.get_options() {
            Some(given) => format!("{given} {SESSION_OPTIONS}"),
            None => SESSION_OPTIONS.to_owned(),
        };
        config.options(&options);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Unavailable(format!("cannot build the pool: {e}")))?;
        let store = Self {
            pool,
            sessions: Arc::default(),
            downloads: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this database lacks, in one transaction that
    /// holds [`MIGRATION_LOCK`]: a replica starting meanwhile waits, then finds
    /// them applied. A database migrated by a newer build is refused.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let migrate_err = |e: tokio_postgres::Error| -> StoreError {
            if unreachable(&e) {
                StoreError::Unavailable(e.to_string())
            } else {
                StoreError::Migrate(Box::new(e))
            }
        };
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(migrate_err)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS webra2_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(migrate_err)?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM webra2_migrations",
                &[],
            )
            .await
            .map_err(migrate_err)?
            .get(0);
        let latest = MIGRATIONS.last().map_or(0, |(v, _, _)| *v);
        if applied > latest {
            return Err(StoreError::Migrate(
                format!(
                    "the database is at schema version {applied}, newer than this build's {latest}"
                )
                .into(),
            ));
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > applied) {
            tx.batch_execute(sql).await.map_err(migrate_err)?;
            tx.execute(
                "INSERT INTO webra2_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await
            .map_err(migrate_err)?;
            tracing::info!(version, name, "PostgreSQL migration applied");
        }
        tx.commit().await.map_err(migrate_err)?;
        Ok(())
    }

    /// The rows `sql` yields for `params`, on a pooled connection with the
    /// statement prepared once per connection.
    async fn rows(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query(&statement, params).await?)
    }

    /// The one row `sql` yields, if any.
    async fn row(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&statement, params).await?)
    }

    /// The session in `row` from column `at` on (token hash, enrollment,
    /// created, expires; a NULL hash: none), kept in the session cache.
    fn session_from_row(&self, row: &Row, at: usize) -> Result<Option<SessionRecord>, StoreError> {
        let Some(token_hash) = get::<Option<String>>(row, at)? else {
            return Ok(None);
        };
        let session = SessionRecord {
            token_hash,
            enrollment_id: get(row, at + 1)?,
            created_at: get(row, at + 2)?,
            expires_at: get(row, at + 3)?,
        };
        self.sessions.insert(session.clone());
        Ok(Some(session))
    }

    /// The one row `sql` always yields.
    async fn one(&self, sql: &str, params: &Params<'_>) -> Result<Row, StoreError> {
        self.row(sql, params)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {sql}")))
    }

    /// The enrollment `sql` (an `enrollment_columns!` select on a unique
    /// column) finds for `value`.
    async fn enrollment_where(
        &self,
        sql: &str,
        value: &str,
    ) -> Result<Option<EnrollmentRecord>, StoreError> {
        self.row(sql, &[&value])
            .await?
            .map(|row| enrollment_from_row(&row, 0))
            .transpose()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_enrollment(
        &self,
        e: &NewEnrollment,
        mail: &MailRecord,
    ) -> Result<(), StoreError> {
        // One statement: when the mail cannot be recorded, neither is the enrollment.
        let params = EnrollmentParams::of(e, None);
        let sent_at = secs(mail.sent_at);
        self.rows(
            concat!(
                insert_enrollment!("pending"),
                "INSERT INTO mails (id, enrollment_id, recipient, subject, body, one_time_url, sent_at)
                 SELECT $13, e.id, $14, $15, $16, $17, $18 FROM e"
            ),
            &params.with(&[
                &mail.id,
                &mail.to,
                &mail.subject,
                &mail.body,
                &mail.one_time_url,
                &sent_at,
            ]),
        )
        .await?;
        Ok(())
    }

    async fn record_certificate(
        &self,
        e: &NewEnrollment,
        cert: &CertificateRecord,
    ) -> Result<(), StoreError> {
        // One statement: the enrollment that stands for the certificate (already
        // issued, no mail) and the certificate, or neither.
        let params = EnrollmentParams::of(e, Some(&cert.serial));
        let (not_before, not_after) = (secs(cert.not_before), secs(cert.not_after));
        let revoked_at = cert.revoked_at.map(secs);
        self.rows(
            concat!(
                insert_enrollment!("issued"),
                "INSERT INTO certificates
                    (serial, user_id, enrollment_id, der, not_before, not_after, revoked_at, reason)
                 SELECT $9, $13, e.id, $14, $15, $16, $17, $18 FROM e"
            ),
            &params.with(&[
                &cert.user_id,
                &cert.der,
                &not_before,
                &not_after,
                &revoked_at,
                &cert.reason,
            ]),
        )
        .await?;
        Ok(())
    }

    async fn enrollment_by_token(
        &self,
        token: &str,
    ) -> Result<Option<EnrollmentRecord>, StoreError> {
        self.enrollment_where(
            concat!(
                "SELECT ",
                enrollment_columns!(),
                " FROM enrollments e WHERE e.token = $1"
            ),
            token,
        )
        .await
    }

    async fn enrollment(&self, id: &str) -> Result<Option<EnrollmentRecord>, StoreError> {
        self.enrollment_where(
            concat!(
                "SELECT ",
                enrollment_columns!(),
                " FROM enrollments e WHERE e.id = $1"
            ),
            id,
        )
        .await
    }

    async fn record_failed_auth(
        &self,
        enrollment_id: &str,
        lock_after: u32,
        now: OffsetDateTime,
    ) -> Result<AuthFailure, StoreError> {
        let lock_after = i32::try_from(lock_after).unwrap_or(i32::MAX);
        // One statement decides both the count and the lock: concurrent wrong
        // passwords, on any replica, queue on the row and each sees the count
        // the one before left.
        let counted = self
            .row(
                concat!(
                    "UPDATE enrollments
                        SET failed_attempts = failed_attempts + 1,
                            state = CASE WHEN failed_attempts + 1 >= $1 THEN 'locked' ELSE state END
                      WHERE id = $2 AND ",
                    open_states!(),
                    " AND url_expires_at > $3
                  RETURNING failed_attempts, state"
                ),
                &[&lock_after, &enrollment_id, &now],
            )
            .await?;
        Ok(match counted {
            None => AuthFailure::NotOpen,
            Some(row) => {
                let (attempts, state): (i32, String) = (get(&row, 0)?, get(&row, 1)?);
                if state == "locked" {
                    AuthFailure::Locked
                } else {
                    AuthFailure::Counted(u32::try_from(attempts).unwrap_or(u32::MAX))
                }
            }
        })
    }

    async fn record_successful_auth(
        &self,
        session: &SessionRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let recorded = self
            .rows(
                concat!(
                    "WITH opened AS (
                        UPDATE enrollments SET failed_attempts = 0, state = 'authenticated'
                         WHERE id = $1 AND ",
                    open_states!(),
                    " AND url_expires_at > $2 RETURNING id)
                     INSERT INTO sessions (token_hash, enrollment_id, created_at, expires_at)
                     SELECT $3, opened.id, $4, $5 FROM opened RETURNING 1"
                ),
                &[
                    &session.enrollment_id,
                    &now,
                    &session.token_hash,
                    &secs(session.created_at),
                    &secs(session.expires_at),
                ],
            )
            .await?;
        if recorded.len() == 1 {
            self.sessions.insert(session.clone());
        }
        Ok(recorded.len() == 1)
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        if let Some(session) = self.sessions.get(token_hash) {
            return Ok(Some(session));
        }
        let Some(row) = self
            .row(
                "SELECT token_hash, enrollment_id, created_at, expires_at
                   FROM sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?
        else {
            return Ok(None);
        };
        self.session_from_row(&row, 0)
    }

    async fn enrollment_and_session(
        &self,
        token: &str,
        session_hash: Option<&str>,
    ) -> Result<Option<(EnrollmentRecord, Option<SessionRecord>)>, StoreError> {
        let kept = session_hash.and_then(|hash| self.sessions.get(hash));
        if session_hash.is_none() || kept.is_some() {
            let enrollment = self.enrollment_by_token(token).await?;
            return Ok(enrollment.map(|e| (e, kept)));
        }
        // A session this replica has not seen: read with the enrollment.
        let Some(row) = self
            .row(ENROLLMENT_AND_SESSION, &[&token, &session_hash])
            .await?
        else {
            return Ok(None);
        };
        let session = self.session_from_row(&row, ENROLLMENT_WIDTH)?;
        Ok(Some((enrollment_from_row(&row, 0)?, session)))
    }

    async fn issue(
        &self,
        enrollment_id: &str,
        cert: &CertificateRecord,
        now: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<IssueOutcome, StoreError> {
        // The claim is conditional on the stored state: of concurrent claims
        // exactly one finds the URL open; the certificate and the superseding
        // revocation follow only from a claim, in the same statement.
        let issued = self
            .rows(
                concat!(
                    "WITH claimed AS (
                        UPDATE enrollments SET state = 'issued', serial = $1
                         WHERE id = $2 AND ",
                    open_states!(),
                    " AND url_expires_at > $3 RETURNING id, token, kind),
                     recorded AS (
                        INSERT INTO certificates
                            (serial, user_id, enrollment_id, der, not_before, not_after)
                        SELECT $1, $4, claimed.id, $5, $6, $7 FROM claimed RETURNING serial),
                     superseded AS (
                        UPDATE certificates SET revoked_at = $8, reason = 'superseded'
                         WHERE serial = $9 AND revoked_at IS NULL
                           AND EXISTS (SELECT 1 FROM recorded) RETURNING 1)
                     SELECT claimed.token, claimed.kind FROM claimed, recorded"
                ),
                &[
                    &cert.serial,
                    &enrollment_id,
                    &now,
                    &cert.user_id,
                    &cert.der,
                    &secs(cert.not_before),
                    &secs(cert.not_after),
                    &secs(now),
                    &supersedes,
                ],
            )
            .await?;
        let Some(claimed) = issued.first() else {
            return Ok(IssueOutcome::NotOpen);
        };
        // Fetched right after: this replica has it all.
        let kind: String = get(claimed, 1)?;
        self.downloads
            .keep_issued(get(claimed, 0)?, enrollment_id, parse_kind(&kind)?, cert);
        Ok(IssueOutcome::Issued)
    }

    async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        self.row(CERTIFICATE_BY_SERIAL, &[&serial])
            .await?
            .map(|row| certificate_from_row(&row, 0))
            .transpose()
    }

    async fn download_by_token(&self, token: &str) -> Result<Option<Download>, StoreError> {
        if let Some(kept) = self.downloads.get(token) {
            return Ok(Some(kept));
        }
        let Some(row) = self.row(DOWNLOAD_BY_TOKEN, &[&token]).await? else {
            return Ok(None);
        };
        let kind: String = get(&row, 1)?;
        let download = Download::read(
            get(&row, 0)?,
            parse_kind(&kind)?,
            get(&row, 2)?,
            get(&row, 3)?,
            get(&row, 4)?,
        )?;
        if download.issued.is_some() {
            self.downloads.insert(token.to_owned(), download.clone());
        }
        Ok(Some(download))
    }

    async fn revoked(&self) -> Result<Vec<CertificateRecord>, StoreError> {
        self.rows(
            concat!(
                "SELECT ",
                certificate_columns!(),
                " FROM certificates c
                  WHERE c.revoked_at IS NOT NULL ORDER BY c.revoked_at, c.seq"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|row| certificate_from_row(row, 0))
        .collect()
    }

    async fn next_crl_number(&self) -> Result<u64, StoreError> {
        let row = self
            .one(
                "UPDATE crl SET next_number = next_number + 1 WHERE id = 1
                 RETURNING next_number - 1",
                &[],
            )
            .await?;
        unsigned(get(&row, 0)?, "CRL number")
    }

    async fn save_crl(&self, crl: &CrlRecord) -> Result<(), StoreError> {
        let number = i64::try_from(crl.number)
            .map_err(|_| StoreError::Corrupt(format!("CRL number {}", crl.number)))?;
        let count = i64::try_from(crl.revoked_count).unwrap_or(i64::MAX);
        // A slower generation, on any replica, that finishes last must not
        // replace a newer CRL: the row lock orders them, the WHERE decides.
        self.rows(
            "UPDATE crl SET number = $1, der = $2, this_update = $3, next_update = $4,
                    revoked_count = $5
              WHERE id = 1 AND (number IS NULL OR number < $1)",
            &[
                &number,
                &crl.der,
                &secs(crl.this_update),
                &secs(crl.next_update),
                &count,
            ],
        )
        .await?;
        Ok(())
    }

    async fn current_crl(&self) -> Result<Option<CrlRecord>, StoreError> {
        self.row(
            "SELECT number, der, this_update, next_update, revoked_count FROM crl
              WHERE id = 1 AND number IS NOT NULL",
            &[],
        )
        .await?
        .map(|row| {
            Ok(CrlRecord {
                number: unsigned(get(&row, 0)?, "CRL number")?,
                der: get(&row, 1)?,
                this_update: get(&row, 2)?,
                next_update: get(&row, 3)?,
                revoked_count: unsigned(get(&row, 4)?, "revoked count")?,
            })
        })
        .transpose()
    }

    async fn certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        let rows = match user_id {
            Some(user) => {
                self.rows(
                    concat!(
                        "SELECT ",
                        certificate_columns!(),
                        " FROM certificates c WHERE c.user_id = $1 ORDER BY c.seq DESC"
                    ),
                    &[&user],
                )
                .await?
            }
            None => {
                self.rows(
                    concat!(
                        "SELECT ",
                        certificate_columns!(),
                        " FROM certificates c ORDER BY c.seq DESC"
                    ),
                    &[],
                )
                .await?
            }
        };
        rows.iter()
            .map(|row| certificate_from_row(row, 0))
            .collect()
    }

    async fn revoke(
        &self,
        serial: &str,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<RevokeOutcome, StoreError> {
        let row = self
            .one(
                "WITH revoked AS (
                    UPDATE certificates SET revoked_at = $1, reason = $2
                     WHERE serial = $3 AND revoked_at IS NULL RETURNING 1)
                 SELECT EXISTS (SELECT 1 FROM revoked),
                        EXISTS (SELECT 1 FROM certificates WHERE serial = $3)",
                &[&secs(at), &reason, &serial],
            )
            .await?;
        let (revoked, exists): (bool, bool) = (get(&row, 0)?, get(&row, 1)?);
        Ok(match (revoked, exists) {
            (true, _) => RevokeOutcome::Revoked,
            (false, true) => RevokeOutcome::AlreadyRevoked,
            (false, false) => RevokeOutcome::NotFound,
        })
    }

    async fn mails(&self, to: Option<&str>) -> Result<Vec<MailRecord>, StoreError> {
        let rows = match to {
            Some(to) => {
                self.rows(
                    concat!(
                        "SELECT ",
                        mail_columns!(),
                        " FROM mails WHERE recipient = $1 ORDER BY seq DESC"
                    ),
                    &[&to],
                )
                .await?
            }
            None => {
                self.rows(
                    concat!("SELECT ", mail_columns!(), " FROM mails ORDER BY seq DESC"),
                    &[],
                )
                .await?
            }
        };
        rows.iter().map(mail_from_row).collect()
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn controls(&self, known: Option<u64>) -> Result<Option<ControlsRecord>, StoreError> {
        let known = known.and_then(|v| i64::try_from(v).ok());
        // Unchanged, the answer is no row: one index lookup, nothing sent back.
        self.row(
            "SELECT version, clock::text, faults::text FROM controls
              WHERE id = 1 AND version IS DISTINCT FROM $1",
            &[&known],
        )
        .await?
        .map(|row| {
            Ok(ControlsRecord {
                version: unsigned(get(&row, 0)?, "controls version")?,
                clock: get(&row, 1)?,
                faults: get(&row, 2)?,
            })
        })
        .transpose()
    }

    async fn save_controls(
        &self,
        clock: Option<&str>,
        faults: Option<&str>,
        expect: Option<u64>,
    ) -> Result<Option<u64>, StoreError> {
        let expect = expect.and_then(|v| i64::try_from(v).ok());
        self.row(
            "UPDATE controls SET version = version + 1,
                    clock = COALESCE($1::text::jsonb, clock),
                    faults = COALESCE($2::text::jsonb, faults)
              WHERE id = 1 AND ($3::bigint IS NULL OR version = $3)
              RETURNING version",
            &[&clock, &faults, &expect],
        )
        .await?
        .map(|row| unsigned(get(&row, 0)?, "controls version"))
        .transpose()
    }

    async fn renew_lease(
        &self,
        replica: &str,
        acked: u64,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let acked = i64::try_from(acked).unwrap_or(i64::MAX);
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        // What is acknowledged never goes back: a replica that dropped the
        // version it held (to read it whole again) still shows the older ones.
        self.rows(RENEW_LEASE, &[&replica, &acked, &lease_ms])
            .await?;
        Ok(())
    }

    async fn replicas_behind(&self, replica: &str, version: u64) -> Result<u64, StoreError> {
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        let row = self
            .one(
                "SELECT count(*) FROM replica_leases
                  WHERE replica <> $1 AND acked < $2 AND until > clock_timestamp()",
                &[&replica, &version],
            )
            .await?;
        unsigned(get(&row, 0)?, "replicas behind")
    }

    async fn release_lease(&self, replica: &str) -> Result<(), StoreError> {
        self.rows("DELETE FROM replica_leases WHERE replica = $1", &[&replica])
            .await?;
        Ok(())
    }

    async fn adopt_root(
        &self,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<(String, String), StoreError> {
        // Two statements: the read must see a root another replica stored
        // while this insert waited for it.
        self.rows(
            "INSERT INTO root (id, cert_pem, key_pem) VALUES (1, $1, $2)
             ON CONFLICT (id) DO NOTHING",
            &[&cert_pem, &key_pem],
        )
        .await?;
        let row = self
            .one("SELECT cert_pem, key_pem FROM root WHERE id = 1", &[])
            .await?;
        Ok((get(&row, 0)?, get(&row, 1)?))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.one("SELECT 1", &[]).await.map(|_| ())
    }

    async fn expire_url(
        &self,
        enrollment_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = self
            .rows(
                "UPDATE enrollments SET url_expires_at = $1 WHERE id = $2 RETURNING 1",
                &[&secs(at), &enrollment_id],
            )
            .await?;
        Ok(updated.len() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::ScratchDatabase;
    use std::sync::Arc;

    /// A fresh store in a scratch database of its own.
    async fn postgres_store() -> (ScratchDatabase, Arc<dyn Store>) {
        let db = ScratchDatabase::create().await;
        let store = crate::store::open(db.url()).await.expect("postgres store");
        (db, store)
    }

    /// The contract on PostgreSQL (the server `WEBRA2_TEST_PG` names).
    mod a_postgres_store {
        use super::*;
        crate::store_contract_tests!(postgres_store);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_starting_together_migrate_once_and_share_the_records() {
        let db = ScratchDatabase::create().await;
        let mut starts = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let url = db.url().to_owned();
            starts.spawn(async move { PostgresStore::connect(&url).await });
        }
        let mut stores = Vec::new();
        while let Some(started) = starts.join_next().await {
            stores.push(started.expect("joined").expect("a replica failed to start"));
        }
        let applied = stores[0]
            .one("SELECT count(*) FROM webra2_migrations", &[])
            .await
            .expect("read");
        assert_eq!(applied.get::<_, i64>(0), MIGRATIONS.len() as i64);
        // A number one replica takes, the next replica does not take again.
        let mut taken = Vec::new();
        for store in &stores {
            taken.push(store.next_crl_number().await.expect("crl number"));
        }
        assert_eq!(taken, (1..=6).collect::<Vec<u64>>());
    }

    /// The bench's case (BENCHMARKS.md, "On PostgreSQL"): statements prepared
    /// and planned while the tables held three rows, run again once they hold
    /// thousands, still look rows up by index, not by scanning every row.
    /// The plan an `EXPLAIN …` statement prints, as one text.
    async fn explained(client: &deadpool_postgres::Client, explain: &str) -> String {
        let lines: Vec<String> = client
            .simple_query(explain)
            .await
            .expect("explain")
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .collect();
        lines.join("\n")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lookups_planned_on_tiny_tables_use_the_indexes_once_the_tables_are_large() {
        let db = ScratchDatabase::create().await;
        let store = PostgresStore::connect(db.url()).await.expect("store");
        let client = store.pool.get().await.expect("a connection");
        let rows = |from: u32, to: u32| {
            format!(
                "INSERT INTO enrollments (id, token, user_id, email, kind, state, password_hash,
                                          mail_sent_at, url_expires_at, serial, created_at)
                 SELECT 'e' || n, 't' || n, 'U' || n, 'u@example.jp', 'new', 'issued', 'h',
                        now(), now(), 's' || n, now() FROM generate_series({from}, {to}) n;
                 INSERT INTO certificates (serial, user_id, enrollment_id, der, not_before, not_after)
                 SELECT 's' || n, 'U' || n, 'e' || n, '\\x30', now(), now()
                   FROM generate_series({from}, {to}) n;"
            )
        };
        // Each its own transaction: ANALYZE's statistics are in force from
        // its commit, and a plan made before then would be made again.
        for step in [
            format!("{} ANALYZE enrollments, certificates", rows(1, 3)),
            format!(
                "SET plan_cache_mode = force_generic_plan;
                 PREPARE download(text) AS {DOWNLOAD_BY_TOKEN};
                 PREPARE certificate(text) AS {CERTIFICATE_BY_SERIAL};
                 PREPARE step2(text, text) AS {ENROLLMENT_AND_SESSION};
                 EXECUTE download('t1'); EXECUTE certificate('s1'); EXECUTE step2('t1', 'h')"
            ),
            rows(4, 5000),
        ] {
            client.batch_execute(&step).await.expect("setup");
        }
        for (name, args) in [
            ("download", "'t4000'"),
            ("certificate", "'s4000'"),
            ("step2", "'t4000', 'h'"),
        ] {
            let plan = explained(&client, &format!("EXPLAIN EXECUTE {name}({args})")).await;
            assert!(plan.contains("Index"), "{name}: no index used:\n{plan}");
            assert!(!plan.contains("Seq Scan"), "{name} scans a table:\n{plan}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_statement_is_compiled_by_jit_even_when_its_plan_costs_billions() {
        let db = ScratchDatabase::create().await;
        let store = PostgresStore::connect(db.url()).await.expect("store");
        let client = store.pool.get().await.expect("a connection");
        // The sweep of run-out leases is a scan enable_seqscan=off refuses,
        // so its plan costs over ten billion: JIT would compile it every run.
        client
            .batch_execute(&format!(
                "SET plan_cache_mode = force_generic_plan;
                 PREPARE renew(text, bigint, bigint) AS {RENEW_LEASE}"
            ))
            .await
            .expect("prepare");
        let plan = explained(
            &client,
            "EXPLAIN (ANALYZE, COSTS) EXECUTE renew('r', 0, 1000)",
        )
        .await;
        assert!(
            plan.contains("cost=1000000"),
            "the plan is not the costly one:\n{plan}"
        );
        assert!(!plan.contains("JIT"), "compiled by JIT:\n{plan}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_waits_for_replicas_whose_lease_holds_and_have_not_taken_it() {
        let (_db, store) = postgres_store().await;
        let long = Duration::from_secs(60);
        assert_eq!(store.replicas_behind("a", 1).await.expect("count"), 0);
        store.renew_lease("a", 0, long).await.expect("renew a");
        store.renew_lease("b", 0, long).await.expect("renew b");
        // A's own lease never holds up A's change; B's does until B takes it.
        assert_eq!(store.replicas_behind("a", 1).await.expect("count"), 1);
        assert_eq!(store.replicas_behind("b", 1).await.expect("count"), 1);
        store.renew_lease("b", 1, long).await.expect("ack");
        assert_eq!(store.replicas_behind("a", 1).await.expect("count"), 0);
        assert_eq!(store.replicas_behind("a", 2).await.expect("count"), 1);
        // What was acknowledged never goes back (a replica that dropped the
        // version it held says 0).
        store.renew_lease("b", 0, long).await.expect("renew");
        assert_eq!(store.replicas_behind("a", 1).await.expect("count"), 0);
        // A lease that ran out holds nothing up.
        store
            .renew_lease("c", 0, Duration::from_millis(50))
            .await
            .expect("renew c");
        assert_eq!(store.replicas_behind("a", 1).await.expect("count"), 1);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(store.replicas_behind("a", 1).await.expect("count"), 0);
        // Given up, it is gone.
        store.release_lease("b").await.expect("release");
        assert_eq!(store.replicas_behind("a", 2).await.expect("count"), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn controls_are_read_only_when_changed_and_saved_only_on_the_version_expected() {
        let (_db, store) = postgres_store().await;
        assert!(store.is_shared());
        let first = store.controls(None).await.expect("read").expect("a row");
        assert_eq!(first.version, 0);
        assert_eq!(
            store.controls(Some(first.version)).await.expect("read"),
            None,
            "unchanged controls were sent again"
        );
        let saved = store
            .save_controls(
                Some(r#"{"mode":"real"}"#),
                Some(r#"{"faults":[1]}"#),
                Some(0),
            )
            .await
            .expect("save");
        assert_eq!(saved, Some(1));
        assert_eq!(
            store
                .save_controls(None, Some(r#"{"faults":[]}"#), Some(0))
                .await
                .expect("save"),
            None,
            "a save on a stale version went through"
        );
        let now = store
            .controls(Some(0))
            .await
            .expect("read")
            .expect("changed");
        assert_eq!(now.version, 1);
        assert_eq!(now.faults, r#"{"faults": [1]}"#);
        // Saves at once from many callers: each raises the version once.
        let mut saves = tokio::task::JoinSet::new();
        for n in 0..8 {
            let store = store.clone();
            saves.spawn(async move {
                store
                    .save_controls(Some(&format!(r#"{{"n":{n}}}"#)), None, None)
                    .await
            });
        }
        let mut versions = Vec::new();
        while let Some(saved) = saves.join_next().await {
            versions.push(saved.expect("joined").expect("saved").expect("a version"));
        }
        versions.sort_unstable();
        assert_eq!(versions, (2..=9).collect::<Vec<u64>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_roots_offered_at_once_every_caller_gets_the_first_stored() {
        let db = ScratchDatabase::create().await;
        let mut offers = tokio::task::JoinSet::new();
        for n in 0..6 {
            let url = db.url().to_owned();
            offers.spawn(async move {
                let store = PostgresStore::connect(&url).await.expect("store");
                store
                    .adopt_root(&format!("cert {n}"), &format!("key {n}"))
                    .await
            });
        }
        let mut kept = std::collections::BTreeSet::new();
        while let Some(offered) = offers.join_next().await {
            kept.insert(offered.expect("joined").expect("adopted"));
        }
        assert_eq!(kept.len(), 1, "{kept:?}");
        let (cert, key) = kept.into_iter().next().expect("one");
        assert_eq!(
            cert.replace("cert", "key"),
            key,
            "a certificate with another's key"
        );
    }

    #[tokio::test]
    async fn a_database_migrated_by_a_newer_build_is_refused() {
        let db = ScratchDatabase::create().await;
        PostgresStore::connect(db.url()).await.expect("first start");
        db.execute("INSERT INTO webra2_migrations (version, name) VALUES (999, 'future')")
            .await
            .expect("insert");
        let err = PostgresStore::connect(db.url())
            .await
            .expect_err("refused")
            .to_string();
        assert!(err.contains("999") && err.contains("newer"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_unavailable_without_repeating_the_password() {
        // A port nothing listens on: bind one and let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("postgres://ca:s3cret@127.0.0.1:{port}/ca");
        let started = std::time::Instant::now();
        let Err(err) = crate::store::open(&url).await else {
            panic!("a store opened with no server");
        };
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(
            started.elapsed() < WAIT_TIMEOUT + CONNECT_TIMEOUT,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_url_that_is_not_a_connection_string_is_refused_with_the_form() {
        let err = PostgresStore::connect("postgres://ca@db:notaport/ca")
            .await
            .expect_err("refused")
            .to_string();
        assert!(err.contains("postgres://USER@HOST:PORT/DB"), "{err}");
    }
}
