//! The embedded SQLite store (rusqlite, SQLite compiled in). WAL journal, so a
//! `kill -9` loses nothing that was committed; migrations are embedded from
//! `server/migrations/`.
//!
//! **Where the statements run.** Each store call is a few statements on a
//! local file, a few microseconds for a read and tens for a write, and runs on
//! the thread that awaits it. Handing each one to another thread and back
//! (what sqlx does, one worker thread per connection) cost more CPU than the
//! SQL itself, and about as much as the root's signature (webra2-bench,
//! BENCHMARKS.md). What could take longer is kept off the request path:
//! - **waiting**: the store has one connection, taken for a whole call. Calls
//!   wait for it on an async lock, never on a blocked thread, and never in
//!   SQLite's busy handler (1, 2, 5, 10 ms… sleeps, which made the slowest
//!   issuances five times slower than the median);
//! - **fsync**: with `synchronous = NORMAL` a WAL commit only appends to the
//!   WAL. The checkpoint, which copies the WAL into the database and syncs
//!   both, is a background thread's work.
//!
//! One connection rather than a reader pool: a connection that did not make
//! the last write drops its whole page cache at its next read and reads the
//! pages again through the kernel; the one connection's cache stays valid.

use super::interface::*;
use super::recent::{DownloadCache, SessionCache};
use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use webra2_wire::{EnrollmentState, Kind};

// `?` on rusqlite's errors; the trait's error type names no backend.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

impl From<rusqlite_migration::Error> for StoreError {
    fn from(e: rusqlite_migration::Error) -> Self {
        Self::Migrate(Box::new(e))
    }
}

/// The schema, in order; `PRAGMA user_version` says how many are applied.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_init.sql")),
        M::up(include_str!("../../migrations/0002_lifecycle.sql")),
    ])
}

/// How long the connection waits for a lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the checkpointer looks for committed work to checkpoint. Under
/// full load a quarter of a second of commits is a few MiB of WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Prepared statements kept: more than the store has.
const STATEMENT_CACHE: usize = 32;

/// The connection, shared by the calls and the checkpointer.
type Shared = Arc<tokio::sync::Mutex<Connection>>;

/// A store in one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The one connection, taken for a whole call (a write: its whole
    /// transaction). SQLite allows one writer at a time anyway.
    conn: Shared,
    /// Sessions recorded or read lately.
    sessions: SessionCache,
    /// Downloads of enrollments that issued, by token (`recent.rs`).
    downloads: DownloadCache,
    /// Moves committed work from the WAL into the database file; `None` for
    /// an in-memory store. Declared last: dropped last, it closes the
    /// connection after its final checkpoint.
    checkpointer: Option<Checkpointer>,
}

/// Where a store lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Memory,
    File(PathBuf),
}

impl Location {
    /// `sqlite::memory:`, `sqlite://PATH` or `sqlite:PATH`.
    fn parse(url: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::Url(format!("{url:?}: {why}; {URL_FORMS}"));
        let rest = url
            .strip_prefix("sqlite:")
            .ok_or_else(|| bad("not a sqlite: URL"))?;
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Self::Memory);
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(bad("no file named"));
        }
        if path.contains('?') {
            return Err(bad("URL parameters are not supported"));
        }
        Ok(Self::File(PathBuf::from(path)))
    }
}

/// The background checkpointer of a file store: one thread, with a connection
/// of its own.
///
/// A PASSIVE checkpoint beside the writer never catches up while writes go on
/// (every commit adds frames behind it), and the WAL only starts again from
/// its beginning once a checkpoint has copied all of it: under steady load it
/// grew by every commit, to hundreds of MiB. Taking the store's connection for
/// the whole checkpoint stops the growth but stalls every call for 10–20 ms
/// (webra2-bench). So each round is two checkpoints: the first, beside the
/// writer, copies the bulk; the second, holding the store's connection, copies
/// only what was committed meanwhile (about a millisecond), so the next commit
/// starts the WAL again from the beginning.
#[derive(Debug)]
struct Checkpointer {
    /// Set by every commit; the thread checkpoints when it finds it set.
    dirty: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path, store: Shared) -> Result<Self, StoreError> {
        let own = open_file(path)?;
        let dirty = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (dirty.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while !s.load(Ordering::Acquire) {
                    std::thread::park_timeout(CHECKPOINT_EVERY);
                    if !d.swap(false, Ordering::AcqRel) {
                        continue;
                    }
                    // The first may report "all copied" of the WAL as it was
                    // when it began; only the second, with no commit beside
                    // it, leaves nothing behind.
                    let done = checkpoint(&own).and_then(|_| checkpoint(&store.blocking_lock()));
                    match done {
                        Ok(true) => {}
                        Ok(false) => d.store(true, Ordering::Release),
                        Err(e) => {
                            tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                            d.store(true, Ordering::Release);
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpointer: {e}")))?;
        Ok(Self {
            dirty,
            stop,
            thread: Some(thread),
        })
    }
}

/// One PASSIVE checkpoint: copies what no reader still needs, waits for
/// nobody. `true` if it copied the whole WAL.
fn checkpoint(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        let (busy, frames, copied): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        Ok(busy == 0 && frames == copied)
    })
}

/// A connection to the database file, as every connection of the store opens it.
fn open_file(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| match e.sqlite_error_code() {
            // A missing directory or a file it may not open: nothing a retry of the
            // statement would change.
            Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied) => {
                StoreError::Unavailable(format!("{}: {e}", path.display()))
            }
            _ => e.into(),
        })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// Refuses a database this process cannot write (a file or folder of another
/// user's, a read-only mount): found at start, not as `500` on the first
/// issuance. A write that is rolled back, because only a write finds every
/// cause (the WAL's files in the folder too).
fn ensure_writable(conn: &mut Connection, location: &Location) -> Result<(), StoreError> {
    let mut probe = || -> rusqlite::Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.rollback()
    };
    probe().map_err(|e| match location {
        Location::File(path) => StoreError::Unavailable(format!(
            "{} cannot be written by this process ({e}): give it (and its folder, for the WAL files) write access, or choose another --db",
            path.display()
        )),
        Location::Memory => e.into(),
    })
}

/// Records `e` in `state` (`pending`, or `issued` with its certificate's
/// `serial` for one made without the site), no wrong passwords yet.
fn insert_enrollment(
    tx: &rusqlite::Transaction<'_>,
    e: &NewEnrollment,
    state: &str,
    serial: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO enrollments (id, token, user_id, email, kind, state, password_hash,
            failed_attempts, mail_sent_at, url_expires_at, serial, renews_serial,
            revoke_previous, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        e.id,
        e.token,
        e.user_id,
        e.email,
        e.kind.as_str(),
        state,
        e.password_hash,
        ts(e.mail_sent_at),
        ts(e.url_expires_at),
        serial,
        e.renews_serial,
        e.revoke_previous,
        ts(e.created_at)
    ])?;
    Ok(())
}

/// A database made by earlier versions of webra2-mock (sqlx) records its
/// migrations in `_sqlx_migrations`, not in `user_version`: carry the count
/// over, so the same migrations are not applied twice.
fn adopt_sqlx_migrations(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let has_sqlx: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        [],
        |r| r.get(0),
    )?;
    if version != 0 || !has_sqlx {
        return Ok(());
    }
    let applied: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        [],
        |r| r.get(0),
    )?;
    conn.pragma_update(None, "user_version", applied)?;
    Ok(())
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {secs}: {e}")))
}

// The statements are `concat!`ed from these at compile time: built with
// `format!`, every call would allocate its SQL text only for the statement
// cache to find it again.

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

/// The columns [`certificate_from_row`] reads, in its order.
macro_rules! certificate_columns {
    () => {
        "c.serial, c.user_id, c.enrollment_id, c.der, c.not_before, c.not_after, \
         c.revoked_at, c.reason"
    };
}

/// A stored site kind.
fn parse_kind(kind: &str) -> Result<Kind, StoreError> {
    Kind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))
}

/// An enrollment from `enrollment_columns!`, starting at column `at`.
fn enrollment_from_row(row: &Row<'_>, at: usize) -> Result<EnrollmentRecord, StoreError> {
    let kind: String = row.get(at + 4)?;
    let state: String = row.get(at + 5)?;
    let failed: i64 = row.get(at + 7)?;
    Ok(EnrollmentRecord {
        id: row.get(at)?,
        token: row.get(at + 1)?,
        user_id: row.get(at + 2)?,
        email: row.get(at + 3)?,
        kind: parse_kind(&kind)?,
        state: EnrollmentState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        password_hash: row.get(at + 6)?,
        failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
        mail_sent_at: from_ts(row.get(at + 8)?)?,
        url_expires_at: from_ts(row.get(at + 9)?)?,
        serial: row.get(at + 10)?,
        renews_serial: row.get(at + 11)?,
        revoke_previous: row.get::<_, i64>(at + 12)? != 0,
    })
}

/// A certificate from `certificate_columns!`, starting at column `at`.
fn certificate_from_row(row: &Row<'_>, at: usize) -> Result<CertificateRecord, StoreError> {
    let revoked_at: Option<i64> = row.get(at + 6)?;
    Ok(CertificateRecord {
        serial: row.get(at)?,
        user_id: row.get(at + 1)?,
        enrollment_id: row.get(at + 2)?,
        der: row.get(at + 3)?,
        not_before: from_ts(row.get(at + 4)?)?,
        not_after: from_ts(row.get(at + 5)?)?,
        revoked_at: revoked_at.map(from_ts).transpose()?,
        reason: row.get(at + 7)?,
    })
}

fn mail_from_row(row: &Row<'_>) -> Result<MailRecord, StoreError> {
    Ok(MailRecord {
        id: row.get(0)?,
        enrollment_id: row.get(1)?,
        to: row.get(2)?,
        subject: row.get(3)?,
        body: row.get(4)?,
        one_time_url: row.get(5)?,
        sent_at: from_ts(row.get(6)?)?,
    })
}

/// Every row `sql` yields for `params`, each made by `from_row`.
fn collect<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    from_row: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// The first row `sql` yields for `params`, made by `from_row`.
fn first<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    from_row: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    rows.next()?.map(from_row).transpose()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` — `sqlite://PATH` or
    /// `sqlite::memory:` — and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let location = Location::parse(url)?;
        let mut conn = match &location {
            Location::Memory => Connection::open_in_memory()?,
            Location::File(path) => {
                let conn = open_file(path)?;
                // The journal mode is the database's; the rest is this connection's.
                let mode: String =
                    conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(mode, "this file system does not allow a WAL journal");
                }
                conn.pragma_update(None, "synchronous", "normal")?;
                // The checkpointer does it, off the request path.
                conn.pragma_update(None, "wal_autocheckpoint", 0)?;
                conn
            }
        };
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "foreign_keys", true)?;
        adopt_sqlx_migrations(&conn)?;
        migrations().to_latest(&mut conn)?;
        ensure_writable(&mut conn, &location)?;
        let conn: Shared = Arc::new(tokio::sync::Mutex::new(conn));
        let checkpointer = match location {
            Location::Memory => None,
            Location::File(path) => Some(Checkpointer::start(&path, conn.clone())?),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                sessions: SessionCache::default(),
                downloads: DownloadCache::default(),
                checkpointer,
            }),
        })
    }

    /// The session cache.
    fn sessions(&self) -> &SessionCache {
        &self.inner.sessions
    }

    /// Runs `f` on the connection.
    async fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&*self.inner.conn.lock().await)
    }

    /// Runs `f` in one write transaction: it commits if `f` returns `Ok(true)`
    /// with a value, and rolls back otherwise (an error, or `Ok((false, _))`).
    async fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(bool, T), StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.inner.conn.lock().await;
        // IMMEDIATE: the write lock is taken at BEGIN, so a transaction never
        // has to upgrade a read lock another process may block.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (commit, value) = f(&tx)?;
        if commit {
            tx.commit()?;
            if let Some(c) = &self.inner.checkpointer {
                c.dirty.store(true, Ordering::Release);
            }
        }
        // Not committed: dropping the transaction rolls it back.
        Ok(value)
    }

    /// The one enrollment `sql` (an `enrollment_columns!` select on a unique
    /// column) finds for `value`.
    async fn enrollment_where(
        &self,
        sql: &'static str,
        value: &str,
    ) -> Result<Option<EnrollmentRecord>, StoreError> {
        self.read(|conn| first(conn, sql, [value], |row| enrollment_from_row(row, 0)))
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_enrollment(
        &self,
        e: &NewEnrollment,
        mail: &MailRecord,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            insert_enrollment(tx, e, "pending", None)?;
            tx.prepare_cached(
                "INSERT INTO mails (id, enrollment_id, recipient, subject, body, one_time_url, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                mail.id,
                mail.enrollment_id,
                mail.to,
                mail.subject,
                mail.body,
                mail.one_time_url,
                ts(mail.sent_at)
            ])?;
            Ok((true, ()))
        })
        .await
    }

    async fn enrollment_by_token(
        &self,
        token: &str,
    ) -> Result<Option<EnrollmentRecord>, StoreError> {
        self.enrollment_where(
            concat!(
                "SELECT ",
                enrollment_columns!(),
                " FROM enrollments e WHERE e.token = ?1"
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
                " FROM enrollments e WHERE e.id = ?1"
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
        self.write(|tx| {
            // One statement decides both the count and the lock, so two wrong
            // passwords at once cannot both see "one attempt left".
            let counted = first(
                tx,
                concat!(
                    "UPDATE enrollments
                        SET failed_attempts = failed_attempts + 1,
                            state = CASE WHEN failed_attempts + 1 >= ?1 THEN 'locked' ELSE state END
                      WHERE id = ?2 AND ",
                    open_states!(),
                    " AND url_expires_at > ?3
                  RETURNING failed_attempts, state"
                ),
                params![lock_after, enrollment_id, ts(now)],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
            )?;
            let outcome = match counted {
                None => AuthFailure::NotOpen,
                Some((_, state)) if state == "locked" => AuthFailure::Locked,
                Some((attempts, _)) => {
                    AuthFailure::Counted(u32::try_from(attempts).unwrap_or(u32::MAX))
                }
            };
            Ok((true, outcome))
        })
        .await
    }

    async fn record_successful_auth(
        &self,
        session: &SessionRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let recorded = self
            .write(|tx| {
                let updated = tx
                    .prepare_cached(concat!(
                        "UPDATE enrollments SET failed_attempts = 0, state = 'authenticated'
                          WHERE id = ?1 AND ",
                        open_states!(),
                        " AND url_expires_at > ?2"
                    ))?
                    .execute(params![session.enrollment_id, ts(now)])?;
                if updated != 1 {
                    return Ok((false, false));
                }
                tx.prepare_cached(
                    "INSERT INTO sessions (token_hash, enrollment_id, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    session.token_hash,
                    session.enrollment_id,
                    ts(session.created_at),
                    ts(session.expires_at)
                ])?;
                Ok((true, true))
            })
            .await?;
        if recorded {
            self.sessions().insert(session.clone());
        }
        Ok(recorded)
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        if let Some(session) = self.sessions().get(token_hash) {
            return Ok(Some(session));
        }
        let session = self
            .read(|conn| {
                first(
                    conn,
                    "SELECT token_hash, enrollment_id, created_at, expires_at
                       FROM sessions WHERE token_hash = ?1",
                    [token_hash],
                    |row| {
                        Ok(SessionRecord {
                            token_hash: row.get(0)?,
                            enrollment_id: row.get(1)?,
                            created_at: from_ts(row.get(2)?)?,
                            expires_at: from_ts(row.get(3)?)?,
                        })
                    },
                )
            })
            .await?;
        // Only what exists is kept: an unknown hash may be recorded later.
        if let Some(session) = &session {
            self.sessions().insert(session.clone());
        }
        Ok(session)
    }

    async fn issue(
        &self,
        enrollment_id: &str,
        cert: &CertificateRecord,
        now: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<IssueOutcome, StoreError> {
        let claimed = self.write(|tx| {
            // The claim comes first and is conditional on the stored state, so
            // of concurrent transactions exactly one sees an open URL.
            let claimed = tx
                .prepare_cached(concat!("UPDATE enrollments SET state = 'issued', serial = ?1
                      WHERE id = ?2 AND ", open_states!(), " AND url_expires_at > ?3
                      RETURNING token, kind"))?
                .query_row(params![cert.serial, enrollment_id, ts(now)], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .optional()?;
            let Some(claimed) = claimed else {
                return Ok((false, None));
            };
            tx.prepare_cached(
                "INSERT INTO certificates (serial, user_id, enrollment_id, der, not_before, not_after)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                cert.serial,
                cert.user_id,
                enrollment_id,
                cert.der,
                ts(cert.not_before),
                ts(cert.not_after)
            ])?;
            if let Some(old) = supersedes {
                // Already revoked (by the administrator meanwhile) keeps its first reason.
                tx.prepare_cached(
                    "UPDATE certificates SET revoked_at = ?1, reason = 'superseded'
                      WHERE serial = ?2 AND revoked_at IS NULL",
                )?
                .execute(params![ts(now), old])?;
            }
            Ok((true, Some(claimed)))
        })
        .await?;
        let Some((token, kind)) = claimed else {
            return Ok(IssueOutcome::NotOpen);
        };
        // Fetched right after: this process has it all.
        self.inner
            .downloads
            .keep_issued(token, enrollment_id, parse_kind(&kind)?, cert);
        Ok(IssueOutcome::Issued)
    }

    async fn revoked(&self) -> Result<Vec<CertificateRecord>, StoreError> {
        self.read(|conn| {
            collect(
                conn,
                concat!(
                    "SELECT ",
                    certificate_columns!(),
                    " FROM certificates c
                      WHERE c.revoked_at IS NOT NULL ORDER BY c.revoked_at, c.seq"
                ),
                [],
                |row| certificate_from_row(row, 0),
            )
        })
        .await
    }

    async fn next_crl_number(&self) -> Result<u64, StoreError> {
        let taken: i64 = self
            .write(|tx| {
                let taken = tx.query_row(
                    "UPDATE crl SET next_number = next_number + 1 WHERE id = 1
                  RETURNING next_number - 1",
                    [],
                    |row| row.get(0),
                )?;
                Ok((true, taken))
            })
            .await?;
        u64::try_from(taken).map_err(|_| StoreError::Corrupt(format!("CRL number {taken}")))
    }

    async fn save_crl(&self, crl: &CrlRecord) -> Result<(), StoreError> {
        let number = i64::try_from(crl.number)
            .map_err(|_| StoreError::Corrupt(format!("CRL number {}", crl.number)))?;
        let count = i64::try_from(crl.revoked_count).unwrap_or(i64::MAX);
        self.write(|tx| {
            // A slower generation that finishes last must not replace a newer CRL.
            tx.prepare_cached(
                "UPDATE crl SET number = ?1, der = ?2, this_update = ?3, next_update = ?4,
                        revoked_count = ?5
                  WHERE id = 1 AND (number IS NULL OR number < ?1)",
            )?
            .execute(params![
                number,
                crl.der,
                ts(crl.this_update),
                ts(crl.next_update),
                count
            ])?;
            Ok((true, ()))
        })
        .await
    }

    async fn current_crl(&self) -> Result<Option<CrlRecord>, StoreError> {
        self.read(|conn| {
            first(
                conn,
                "SELECT number, der, this_update, next_update, revoked_count FROM crl
                  WHERE id = 1 AND number IS NOT NULL",
                [],
                |row| {
                    let number: i64 = row.get(0)?;
                    let count: i64 = row.get(4)?;
                    Ok(CrlRecord {
                        number: u64::try_from(number)
                            .map_err(|_| StoreError::Corrupt(format!("CRL number {number}")))?,
                        der: row.get(1)?,
                        this_update: from_ts(row.get(2)?)?,
                        next_update: from_ts(row.get(3)?)?,
                        revoked_count: u64::try_from(count).unwrap_or(0),
                    })
                },
            )
        })
        .await
    }

    async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        self.read(|conn| {
            first(
                conn,
                concat!(
                    "SELECT ",
                    certificate_columns!(),
                    " FROM certificates c WHERE c.serial = ?1"
                ),
                [serial],
                |row| certificate_from_row(row, 0),
            )
        })
        .await
    }

    async fn download_by_token(&self, token: &str) -> Result<Option<Download>, StoreError> {
        if let Some(kept) = self.inner.downloads.get(token) {
            return Ok(Some(kept));
        }
        let download = self
            .read(|conn| {
                first(
                    conn,
                    "SELECT e.id, e.kind, e.user_id, e.serial, c.der
                       FROM enrollments e LEFT JOIN certificates c ON c.serial = e.serial
                      WHERE e.token = ?1",
                    [token],
                    |row| {
                        let kind: String = row.get(1)?;
                        Download::read(
                            row.get(0)?,
                            parse_kind(&kind)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        )
                    },
                )
            })
            .await?;
        if let Some(issued) = download.as_ref().filter(|d| d.issued.is_some()) {
            self.inner
                .downloads
                .insert(token.to_owned(), issued.clone());
        }
        Ok(download)
    }

    async fn certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        let from_row = |row: &Row<'_>| certificate_from_row(row, 0);
        self.read(|conn| match user_id {
            Some(user) => collect(
                conn,
                concat!(
                    "SELECT ",
                    certificate_columns!(),
                    " FROM certificates c
                      WHERE c.user_id = ?1 ORDER BY c.seq DESC"
                ),
                [user],
                from_row,
            ),
            None => collect(
                conn,
                concat!(
                    "SELECT ",
                    certificate_columns!(),
                    " FROM certificates c ORDER BY c.seq DESC"
                ),
                [],
                from_row,
            ),
        })
        .await
    }

    async fn revoke(
        &self,
        serial: &str,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<RevokeOutcome, StoreError> {
        self.write(|tx| {
            let updated = tx
                .prepare_cached(
                    "UPDATE certificates SET revoked_at = ?1, reason = ?2
                      WHERE serial = ?3 AND revoked_at IS NULL",
                )?
                .execute(params![ts(at), reason, serial])?;
            if updated == 1 {
                return Ok((true, RevokeOutcome::Revoked));
            }
            let exists = tx
                .prepare_cached("SELECT 1 FROM certificates WHERE serial = ?1")?
                .query_row([serial], |_| Ok(()))
                .optional()?
                .is_some();
            let outcome = if exists {
                RevokeOutcome::AlreadyRevoked
            } else {
                RevokeOutcome::NotFound
            };
            Ok((false, outcome))
        })
        .await
    }

    async fn mails(&self, to: Option<&str>) -> Result<Vec<MailRecord>, StoreError> {
        macro_rules! mail_columns {
            () => {
                "id, enrollment_id, recipient, subject, body, one_time_url, sent_at"
            };
        }
        self.read(|conn| match to {
            Some(to) => collect(
                conn,
                concat!(
                    "SELECT ",
                    mail_columns!(),
                    " FROM mails WHERE recipient = ?1 ORDER BY seq DESC"
                ),
                [to],
                mail_from_row,
            ),
            None => collect(
                conn,
                concat!("SELECT ", mail_columns!(), " FROM mails ORDER BY seq DESC"),
                [],
                mail_from_row,
            ),
        })
        .await
    }

    async fn record_certificate(
        &self,
        e: &NewEnrollment,
        cert: &CertificateRecord,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            insert_enrollment(tx, e, "issued", Some(&cert.serial))?;
            tx.prepare_cached(
                "INSERT INTO certificates (serial, user_id, enrollment_id, der, not_before,
                    not_after, revoked_at, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                cert.serial,
                cert.user_id,
                e.id,
                cert.der,
                ts(cert.not_before),
                ts(cert.not_after),
                cert.revoked_at.map(ts),
                cert.reason
            ])?;
            Ok((true, ()))
        })
        .await
    }

    async fn expire_url(
        &self,
        enrollment_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let updated = tx
                .prepare_cached("UPDATE enrollments SET url_expires_at = ?1 WHERE id = ?2")?
                .execute(params![ts(at), enrollment_id])?;
            Ok((updated == 1, updated == 1))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::recent::SESSION_CACHE_MAX;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-25 00:00 UTC);

    async fn store_with_enrollment() -> (SqliteStore, NewEnrollment) {
        let store = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("store");
        let e = NewEnrollment {
            id: "e1".into(),
            token: "tok".into(),
            user_id: "U0001".into(),
            email: "u@example.test".into(),
            kind: Kind::New,
            password_hash: "$argon2id$x".into(),
            mail_sent_at: NOW,
            url_expires_at: NOW + time::Duration::days(30),
            renews_serial: None,
            revoke_previous: false,
            created_at: NOW,
        };
        let mail = MailRecord {
            id: "m1".into(),
            enrollment_id: "e1".into(),
            to: e.email.clone(),
            subject: "s".into(),
            body: "b".into(),
            one_time_url: "http://x/issue/tok".into(),
            sent_at: NOW,
        };
        store.create_enrollment(&e, &mail).await.expect("create");
        (store, e)
    }

    fn cert(serial: &str) -> CertificateRecord {
        CertificateRecord {
            serial: serial.into(),
            user_id: "U0001".into(),
            enrollment_id: "e1".into(),
            der: vec![1, 2, 3],
            not_before: NOW,
            not_after: NOW + time::Duration::days(730),
            revoked_at: None,
            reason: None,
        }
    }

    /// A fresh store in a file of its own, with the directory that holds it.
    async fn file_store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("contract.db").display());
        let store = super::super::open(&url).await.expect("file store");
        (dir, store)
    }

    /// A fresh store in memory.
    async fn memory_store() -> ((), Arc<dyn Store>) {
        let store = super::super::open("sqlite::memory:")
            .await
            .expect("memory store");
        ((), store)
    }

    /// The contract on a database file, as the service runs it.
    mod a_sqlite_file_store {
        use super::*;
        crate::store_contract_tests!(file_store);
    }

    /// The contract on `sqlite::memory:`, as the tests run it.
    mod an_in_memory_sqlite_store {
        use super::*;
        crate::store_contract_tests!(memory_store);
    }

    fn session(n: usize) -> SessionRecord {
        SessionRecord {
            token_hash: format!("h{n}"),
            enrollment_id: "e1".into(),
            created_at: NOW,
            expires_at: NOW + time::Duration::minutes(30),
        }
    }

    #[tokio::test]
    async fn sessions_are_in_the_database_for_a_restarted_store_and_past_the_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = SqliteStore::connect(&url).await.expect("store");
        let (_, e) = store_with_enrollment().await;
        store
            .create_enrollment(
                &e,
                &MailRecord {
                    id: "m1".into(),
                    enrollment_id: "e1".into(),
                    to: e.email.clone(),
                    subject: "s".into(),
                    body: "b".into(),
                    one_time_url: "http://x/issue/tok".into(),
                    sent_at: NOW,
                },
            )
            .await
            .expect("create");
        assert!(store
            .record_successful_auth(&session(0), NOW)
            .await
            .expect("auth"));
        // Push the first session out of this store's cache.
        for n in 1..=SESSION_CACHE_MAX {
            store.sessions().insert(session(n + 1_000_000));
        }
        assert_eq!(store.sessions().get("h0"), None);
        assert_eq!(store.session("h0").await.expect("read"), Some(session(0)));
        drop(store);
        let restarted = SqliteStore::connect(&url).await.expect("reopen");
        assert_eq!(
            restarted.session("h0").await.expect("read"),
            Some(session(0))
        );
        assert_eq!(restarted.session("h1").await.expect("read"), None);
    }

    #[test]
    fn store_urls_name_a_file_or_memory_and_anything_else_is_refused() {
        assert_eq!(
            Location::parse("sqlite::memory:").ok(),
            Some(Location::Memory)
        );
        assert_eq!(
            Location::parse("sqlite:///data/ca.db").ok(),
            Some(Location::File("/data/ca.db".into()))
        );
        assert_eq!(
            Location::parse("sqlite://ca.db").ok(),
            Some(Location::File("ca.db".into()))
        );
        assert_eq!(
            Location::parse("sqlite:ca.db").ok(),
            Some(Location::File("ca.db".into()))
        );
        for bad in [
            "postgres://h/db",
            "ca.db",
            "sqlite://",
            "sqlite://ca.db?mode=ro",
        ] {
            let err = Location::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("sqlite://PATH"), "{bad}: {err}");
        }
    }

    fn file_url(dir: &tempfile::TempDir, name: &str) -> (PathBuf, String) {
        let path = dir.path().join(name);
        let url = format!("sqlite://{}", path.display());
        (path, url)
    }

    #[tokio::test]
    async fn a_file_store_answers_concurrent_reads_with_the_last_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, url) = file_url(&dir, "rw.db");
        let store = SqliteStore::connect(&url).await.expect("store");
        let (_, e) = store_with_enrollment().await;
        assert_eq!(store.enrollment_by_token("tok").await.expect("read"), None);
        store
            .create_enrollment(&e, &mail_for(&e))
            .await
            .expect("create");
        store
            .issue(&e.id, &cert("0A"), NOW, None)
            .await
            .expect("issue");
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let store = store.clone();
            reads.spawn(async move { store.enrollment_by_token("tok").await });
        }
        while let Some(read) = reads.join_next().await {
            let got = read.expect("joined").expect("read").expect("exists");
            assert_eq!(got.state, EnrollmentState::Issued);
            assert_eq!(got.serial.as_deref(), Some("0A"));
        }
    }

    #[tokio::test]
    async fn committed_work_reaches_the_database_file_itself_without_a_request_waiting_for_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = file_url(&dir, "ckpt.db");
        let store = SqliteStore::connect(&url).await.expect("store");
        let (_, e) = store_with_enrollment().await;
        store
            .create_enrollment(&e, &mail_for(&e))
            .await
            .expect("create");
        // The database file alone, without its WAL, is what a checkpoint wrote.
        let copy = dir.path().join("copy.db");
        let mut found = 0;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            std::fs::copy(&path, &copy).expect("copy");
            let conn = Connection::open(&copy).expect("open copy");
            found = conn
                .query_row(
                    "SELECT count(*) FROM enrollments WHERE token = 'tok'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap_or(0);
            if found == 1 {
                break;
            }
        }
        assert_eq!(
            found, 1,
            "the checkpointer never copied the commit into the file"
        );
        drop(store);
    }

    #[tokio::test]
    async fn a_database_made_by_the_sqlx_versions_opens_with_its_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = file_url(&dir, "old.db");
        {
            // What sqlx's migrator left: the schema, its own table, user_version 0.
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(include_str!("../../migrations/0001_init.sql"))
                .expect("v1");
            conn.execute_batch(include_str!("../../migrations/0002_lifecycle.sql"))
                .expect("v2");
            conn.execute_batch(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT,
                    installed_on TIMESTAMP, success BOOLEAN, checksum BLOB, execution_time BIGINT);
                 INSERT INTO _sqlx_migrations (version, description, success) VALUES
                    (1, 'init', TRUE), (2, 'lifecycle', TRUE);
                 INSERT INTO enrollments (id, token, user_id, email, kind, state, password_hash,
                    failed_attempts, mail_sent_at, url_expires_at, created_at)
                 VALUES ('old', 'oldtok', 'U9', 'u9@example.test', 'new', 'pending', 'x', 0,
                    0, 4102444800, 0);",
            )
            .expect("old records");
        }
        let store = SqliteStore::connect(&url).await.expect("opens");
        let got = store.enrollment("old").await.expect("read").expect("kept");
        assert_eq!(got.user_id, "U9");
        assert!(!got.revoke_previous);
        let (_, e) = store_with_enrollment().await;
        store
            .create_enrollment(&e, &mail_for(&e))
            .await
            .expect("writes");
        assert_eq!(store.next_crl_number().await.expect("crl"), 1);
    }

    #[tokio::test]
    async fn a_store_url_that_is_not_sqlite_is_refused_with_the_forms_it_takes() {
        let err = SqliteStore::connect("postgres://db/ca")
            .await
            .expect_err("refused")
            .to_string();
        assert!(err.contains("sqlite::memory:"), "{err}");
    }

    fn mail_for(e: &NewEnrollment) -> MailRecord {
        MailRecord {
            id: format!("m-{}", e.id),
            enrollment_id: e.id.clone(),
            to: e.email.clone(),
            subject: "s".into(),
            body: "b".into(),
            one_time_url: format!("http://x/issue/{}", e.token),
            sent_at: NOW,
        }
    }

    /// The checkpoint sequence number in the WAL's header: it grows each time
    /// the WAL starts over from its beginning.
    fn wal_restarts(db: &std::path::Path) -> u32 {
        use std::io::Read;
        let mut header = [0u8; 16];
        match std::fs::File::open(format!("{}-wal", db.display()))
            .and_then(|mut wal| wal.read_exact(&mut header))
        {
            Ok(()) => u32::from_be_bytes([header[12], header[13], header[14], header[15]]),
            Err(_) => 0,
        }
    }

    #[tokio::test]
    async fn under_writes_that_never_pause_the_wal_still_starts_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, url) = file_url(&dir, "busy.db");
        let store = SqliteStore::connect(&url).await.expect("store");
        let (_, e) = store_with_enrollment().await;
        let started = std::time::Instant::now();
        let mut commits = 0u32;
        while wal_restarts(&path) == 0 && started.elapsed() < Duration::from_secs(5) {
            commits += 1;
            let next = NewEnrollment {
                id: format!("e{commits}"),
                token: format!("tok{commits}"),
                ..e.clone()
            };
            store
                .create_enrollment(&next, &mail_for(&next))
                .await
                .expect("create");
        }
        assert!(
            wal_restarts(&path) > 0,
            "{commits} commits in {:?} and the WAL never started over",
            started.elapsed()
        );
    }
}
