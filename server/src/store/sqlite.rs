//! The embedded SQLite store (sqlx). WAL journal, so a `kill -9` loses nothing
//! that was committed; migrations are embedded from `server/migrations/`.

use super::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A store in one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Taken by every write for its whole transaction. SQLite allows one writer
    /// at a time, and a second one is told "busy" and sleeps in SQLite's busy
    /// handler (1, 2, 5, 10 ms…) before it tries again: under load that made
    /// the slowest issuances five times slower than the median (webra2-bench,
    /// BENCHMARKS.md). Queued here, writers take turns at once, in order.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Sessions recorded or read lately. Every request after Step 1 checks its
    /// session, and a read is a round trip to the connection's worker thread,
    /// the overhead webra2-bench measured (BENCHMARKS.md). A session is never
    /// updated or deleted once recorded, so a copy answers exactly as the
    /// table would; expiry is the caller's, by the service clock.
    sessions: Arc<Mutex<SessionCache>>,
}

/// How many sessions [`SessionCache`] keeps: far more than are in use at once
/// (a session is used within minutes of Step 1), and a few hundred KiB.
const SESSION_CACHE_MAX: usize = 4096;

/// A bounded copy of sessions, by token hash. Full, it forgets the half it
/// learned first; a forgotten session is read from the table again.
#[derive(Debug, Default)]
struct SessionCache {
    by_hash: HashMap<String, (u64, SessionRecord)>,
    next: u64,
}

impl SessionCache {
    fn get(&self, token_hash: &str) -> Option<SessionRecord> {
        self.by_hash.get(token_hash).map(|(_, s)| s.clone())
    }

    fn insert(&mut self, session: SessionRecord) {
        if self.by_hash.len() >= SESSION_CACHE_MAX {
            let keep_from = self.next.saturating_sub(SESSION_CACHE_MAX as u64 / 2);
            self.by_hash.retain(|_, (n, _)| *n >= keep_from);
        }
        self.next += 1;
        self.by_hash
            .insert(session.token_hash.clone(), (self.next, session));
    }
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {secs}: {e}")))
}

const OPEN_STATES: &str = "state IN ('pending', 'authenticated')";

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` — `sqlite://PATH` or
    /// `sqlite::memory:` — and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let (opts, pool) = if memory {
            // Each connection to :memory: is its own database: keep exactly one, forever.
            (
                opts,
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None),
            )
        } else {
            (
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal),
                SqlitePoolOptions::new().max_connections(8),
            )
        };
        // sqlx pings a connection before lending it by default: a round trip to
        // the connection's worker thread per query, for a file that cannot hang
        // up like a network peer (webra2-bench measured it; BENCHMARKS.md).
        let pool = pool.test_before_acquire(false).connect_with(opts).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            writer: Arc::default(),
            sessions: Arc::default(),
        })
    }

    /// The session cache; a panic elsewhere while it was held cannot have left
    /// it half-changed (each change is one `HashMap` call), so poison is ignored.
    fn sessions(&self) -> std::sync::MutexGuard<'_, SessionCache> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn enrollment_from_row(row: &SqliteRow) -> Result<EnrollmentRecord, StoreError> {
        let kind: String = row.try_get("kind")?;
        let state: String = row.try_get("state")?;
        let failed: i64 = row.try_get("failed_attempts")?;
        Ok(EnrollmentRecord {
            id: row.try_get("id")?,
            token: row.try_get("token")?,
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
            kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?,
            state: EnrollmentState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
            password_hash: row.try_get("password_hash")?,
            failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
            mail_sent_at: from_ts(row.try_get("mail_sent_at")?)?,
            url_expires_at: from_ts(row.try_get("url_expires_at")?)?,
            serial: row.try_get("serial")?,
            renews_serial: row.try_get("renews_serial")?,
            revoke_previous: row.try_get::<i64, _>("revoke_previous")? != 0,
        })
    }

    fn certificate_from_row(row: &SqliteRow) -> Result<CertificateRecord, StoreError> {
        Self::certificate_from_columns(row, "")
    }

    /// A certificate from the columns named `{prefix}serial`, `{prefix}der`, ...
    fn certificate_from_columns(
        row: &SqliteRow,
        prefix: &str,
    ) -> Result<CertificateRecord, StoreError> {
        let col = |name: &str| format!("{prefix}{name}");
        let revoked_at: Option<i64> = row.try_get(col("revoked_at").as_str())?;
        Ok(CertificateRecord {
            serial: row.try_get(col("serial").as_str())?,
            user_id: row.try_get(col("user_id").as_str())?,
            enrollment_id: row.try_get(col("enrollment_id").as_str())?,
            der: row.try_get(col("der").as_str())?,
            not_before: from_ts(row.try_get(col("not_before").as_str())?)?,
            not_after: from_ts(row.try_get(col("not_after").as_str())?)?,
            revoked_at: revoked_at.map(from_ts).transpose()?,
            reason: row.try_get(col("reason").as_str())?,
        })
    }

    /// Consumes the URL, records the certificate and, for a renewal that says so,
    /// revokes the renewed one: one transaction.
    async fn issue_tx(
        &self,
        enrollment_id: &str,
        cert: &CertificateRecord,
        now: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<IssueOutcome, StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        // One statement list, so one round trip to the connection's thread
        // (webra2-bench, BENCHMARKS.md). The claim is the first statement, a
        // write: SQLite takes the write lock here, so of concurrent transactions
        // exactly one sees an open URL. Each later statement runs only if the
        // one before it changed a row (`changes()`), so nothing is recorded
        // unless the claim succeeded; all of it commits or rolls back together.
        let mut sql = format!(
            "UPDATE enrollments SET state = 'issued', serial = ?1
              WHERE id = ?2 AND {OPEN_STATES} AND url_expires_at > ?3;
             INSERT INTO certificates (serial, user_id, enrollment_id, der, not_before, not_after)
             SELECT ?1, ?4, ?2, ?5, ?6, ?7 WHERE changes() = 1;"
        );
        if supersedes.is_some() {
            // Already revoked (by the administrator meanwhile) keeps its first reason.
            sql.push_str(
                "UPDATE certificates SET revoked_at = ?3, reason = 'superseded'
                  WHERE serial = ?8 AND revoked_at IS NULL AND changes() = 1;",
            );
        }
        let changed = sqlx::query(&sql)
            .bind(&cert.serial)
            .bind(enrollment_id)
            .bind(ts(now))
            .bind(&cert.user_id)
            .bind(&cert.der)
            .bind(ts(cert.not_before))
            .bind(ts(cert.not_after))
            .bind(supersedes)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        match changed {
            // Claimed and recorded (and the renewed one revoked, or revoked before).
            2 | 3 => {
                tx.commit().await?;
                Ok(IssueOutcome::Issued)
            }
            0 => {
                tx.rollback().await?;
                Ok(IssueOutcome::NotOpen)
            }
            // Dropping the transaction rolls it back.
            n => Err(StoreError::Corrupt(format!(
                "issuing changed {n} rows, expected 2 or 3"
            ))),
        }
    }

    fn mail_from_row(row: &SqliteRow) -> Result<MailRecord, StoreError> {
        Ok(MailRecord {
            id: row.try_get("id")?,
            enrollment_id: row.try_get("enrollment_id")?,
            to: row.try_get("recipient")?,
            subject: row.try_get("subject")?,
            body: row.try_get("body")?,
            one_time_url: row.try_get("one_time_url")?,
            sent_at: from_ts(row.try_get("sent_at")?)?,
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_enrollment(
        &self,
        e: &NewEnrollment,
        mail: &MailRecord,
    ) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO enrollments (id, token, user_id, email, kind, state, password_hash,
                failed_attempts, mail_sent_at, url_expires_at, renews_serial, revoke_previous,
                created_at)
             VALUES (?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?, ?, ?, ?)",
        )
        .bind(&e.id)
        .bind(&e.token)
        .bind(&e.user_id)
        .bind(&e.email)
        .bind(e.kind.as_str())
        .bind(&e.password_hash)
        .bind(ts(e.mail_sent_at))
        .bind(ts(e.url_expires_at))
        .bind(&e.renews_serial)
        .bind(i64::from(e.revoke_previous))
        .bind(ts(e.created_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO mails (id, enrollment_id, recipient, subject, body, one_time_url, sent_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&mail.id)
        .bind(&mail.enrollment_id)
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(&mail.one_time_url)
        .bind(ts(mail.sent_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enrollment_by_token(
        &self,
        token: &str,
    ) -> Result<Option<EnrollmentRecord>, StoreError> {
        sqlx::query("SELECT * FROM enrollments WHERE token = ?")
            .bind(token)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(Self::enrollment_from_row)
            .transpose()
    }

    async fn enrollment(&self, id: &str) -> Result<Option<EnrollmentRecord>, StoreError> {
        sqlx::query("SELECT * FROM enrollments WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(Self::enrollment_from_row)
            .transpose()
    }

    async fn record_failed_auth(
        &self,
        enrollment_id: &str,
        lock_after: u32,
        now: OffsetDateTime,
    ) -> Result<AuthFailure, StoreError> {
        let _writer = self.writer.lock().await;
        // One statement decides both the count and the lock, so two wrong
        // passwords at once cannot both see "one attempt left".
        let row = sqlx::query(&format!(
            "UPDATE enrollments
                SET failed_attempts = failed_attempts + 1,
                    state = CASE WHEN failed_attempts + 1 >= ?1 THEN 'locked' ELSE state END
              WHERE id = ?2 AND {OPEN_STATES} AND url_expires_at > ?3
          RETURNING failed_attempts, state"
        ))
        .bind(i64::from(lock_after))
        .bind(enrollment_id)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(AuthFailure::NotOpen);
        };
        let state: String = row.try_get("state")?;
        let attempts: i64 = row.try_get("failed_attempts")?;
        Ok(if state == "locked" {
            AuthFailure::Locked
        } else {
            AuthFailure::Counted(u32::try_from(attempts).unwrap_or(u32::MAX))
        })
    }

    async fn record_successful_auth(
        &self,
        session: &SessionRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(&format!(
            "UPDATE enrollments SET failed_attempts = 0, state = 'authenticated'
              WHERE id = ? AND {OPEN_STATES} AND url_expires_at > ?"
        ))
        .bind(&session.enrollment_id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO sessions (token_hash, enrollment_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&session.token_hash)
        .bind(&session.enrollment_id)
        .bind(ts(session.created_at))
        .bind(ts(session.expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.sessions().insert(session.clone());
        Ok(true)
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        if let Some(session) = self.sessions().get(token_hash) {
            return Ok(Some(session));
        }
        let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let session = row
            .map(|row| {
                Ok::<_, StoreError>(SessionRecord {
                    token_hash: row.try_get("token_hash")?,
                    enrollment_id: row.try_get("enrollment_id")?,
                    created_at: from_ts(row.try_get("created_at")?)?,
                    expires_at: from_ts(row.try_get("expires_at")?)?,
                })
            })
            .transpose()?;
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
    ) -> Result<IssueOutcome, StoreError> {
        self.issue_tx(enrollment_id, cert, now, None).await
    }

    async fn issue_superseding(
        &self,
        enrollment_id: &str,
        cert: &CertificateRecord,
        now: OffsetDateTime,
        supersedes: &str,
    ) -> Result<IssueOutcome, StoreError> {
        self.issue_tx(enrollment_id, cert, now, Some(supersedes))
            .await
    }

    async fn revoked(&self) -> Result<Vec<CertificateRecord>, StoreError> {
        sqlx::query(
            "SELECT * FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at, seq",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Self::certificate_from_row)
        .collect()
    }

    async fn next_crl_number(&self) -> Result<u64, StoreError> {
        let _writer = self.writer.lock().await;
        let row = sqlx::query(
            "UPDATE crl SET next_number = next_number + 1 WHERE id = 1
          RETURNING next_number - 1 AS taken",
        )
        .fetch_one(&self.pool)
        .await?;
        let taken: i64 = row.try_get("taken")?;
        u64::try_from(taken).map_err(|_| StoreError::Corrupt(format!("CRL number {taken}")))
    }

    async fn save_crl(&self, crl: &CrlRecord) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let number = i64::try_from(crl.number)
            .map_err(|_| StoreError::Corrupt(format!("CRL number {}", crl.number)))?;
        let count = i64::try_from(crl.revoked_count).unwrap_or(i64::MAX);
        // A slower generation that finishes last must not replace a newer CRL.
        sqlx::query(
            "UPDATE crl SET number = ?, der = ?, this_update = ?, next_update = ?, revoked_count = ?
              WHERE id = 1 AND (number IS NULL OR number < ?)",
        )
        .bind(number)
        .bind(&crl.der)
        .bind(ts(crl.this_update))
        .bind(ts(crl.next_update))
        .bind(count)
        .bind(number)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn current_crl(&self) -> Result<Option<CrlRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT number, der, this_update, next_update, revoked_count FROM crl
              WHERE id = 1 AND number IS NOT NULL",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let number: i64 = row.try_get("number")?;
            let count: i64 = row.try_get("revoked_count")?;
            Ok(CrlRecord {
                number: u64::try_from(number)
                    .map_err(|_| StoreError::Corrupt(format!("CRL number {number}")))?,
                der: row.try_get("der")?,
                this_update: from_ts(row.try_get("this_update")?)?,
                next_update: from_ts(row.try_get("next_update")?)?,
                revoked_count: u64::try_from(count).unwrap_or(0),
            })
        })
        .transpose()
    }

    async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        sqlx::query("SELECT * FROM certificates WHERE serial = ?")
            .bind(serial)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(Self::certificate_from_row)
            .transpose()
    }

    async fn enrollment_and_certificate_by_token(
        &self,
        token: &str,
    ) -> Result<Option<(EnrollmentRecord, Option<CertificateRecord>)>, StoreError> {
        // One statement, one round trip to the connection's thread, where the
        // two reads in turn were two.
        let row = sqlx::query(
            "SELECT e.*, c.serial AS c_serial, c.user_id AS c_user_id,
                    c.enrollment_id AS c_enrollment_id, c.der AS c_der,
                    c.not_before AS c_not_before, c.not_after AS c_not_after,
                    c.revoked_at AS c_revoked_at, c.reason AS c_reason
               FROM enrollments e LEFT JOIN certificates c ON c.serial = e.serial
              WHERE e.token = ?",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let enrollment = Self::enrollment_from_row(&row)?;
        let issued: Option<String> = row.try_get("c_serial")?;
        let certificate = match issued {
            Some(_) => Some(Self::certificate_from_columns(&row, "c_")?),
            None => None,
        };
        Ok(Some((enrollment, certificate)))
    }

    async fn certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        let rows = match user_id {
            Some(u) => {
                sqlx::query("SELECT * FROM certificates WHERE user_id = ? ORDER BY seq DESC")
                    .bind(u)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM certificates ORDER BY seq DESC")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(Self::certificate_from_row).collect()
    }

    async fn revoke(
        &self,
        serial: &str,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<RevokeOutcome, StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE certificates SET revoked_at = ?, reason = ? WHERE serial = ? AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(reason)
        .bind(serial)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if updated == 1 {
            RevokeOutcome::Revoked
        } else {
            let exists = sqlx::query("SELECT 1 FROM certificates WHERE serial = ?")
                .bind(serial)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if exists {
                RevokeOutcome::AlreadyRevoked
            } else {
                RevokeOutcome::NotFound
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn mails(&self, to: Option<&str>) -> Result<Vec<MailRecord>, StoreError> {
        let rows = match to {
            Some(to) => {
                sqlx::query("SELECT * FROM mails WHERE recipient = ? ORDER BY seq DESC")
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM mails ORDER BY seq DESC")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(Self::mail_from_row).collect()
    }

    async fn expire_url(
        &self,
        enrollment_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _writer = self.writer.lock().await;
        let done = sqlx::query("UPDATE enrollments SET url_expires_at = ? WHERE id = ?")
            .bind(ts(at))
            .bind(enrollment_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[tokio::test]
    async fn the_fifth_wrong_password_locks_and_nothing_counts_after() {
        let (store, e) = store_with_enrollment().await;
        for n in 1..=4 {
            assert_eq!(
                store
                    .record_failed_auth(&e.id, 5, NOW)
                    .await
                    .expect("count"),
                AuthFailure::Counted(n)
            );
        }
        assert_eq!(
            store.record_failed_auth(&e.id, 5, NOW).await.expect("lock"),
            AuthFailure::Locked
        );
        assert_eq!(
            store
                .record_failed_auth(&e.id, 5, NOW)
                .await
                .expect("after"),
            AuthFailure::NotOpen
        );
        let got = store
            .enrollment(&e.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(got.state, EnrollmentState::Locked);
    }

    #[tokio::test]
    async fn a_url_issues_once_and_the_second_claim_changes_nothing() {
        let (store, e) = store_with_enrollment().await;
        assert_eq!(
            store.issue(&e.id, &cert("0A"), NOW).await.expect("first"),
            IssueOutcome::Issued
        );
        assert_eq!(
            store.issue(&e.id, &cert("0B"), NOW).await.expect("second"),
            IssueOutcome::NotOpen
        );
        let certs = store.certificates(None).await.expect("list");
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].serial, "0A");
        let got = store
            .enrollment(&e.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(got.serial.as_deref(), Some("0A"));
        assert_eq!(got.state, EnrollmentState::Issued);
    }

    #[tokio::test]
    async fn an_expired_url_neither_issues_nor_authenticates() {
        let (store, e) = store_with_enrollment().await;
        let late = NOW + time::Duration::days(31);
        assert_eq!(
            store.issue(&e.id, &cert("0A"), late).await.expect("issue"),
            IssueOutcome::NotOpen
        );
        let session = SessionRecord {
            token_hash: "h".into(),
            enrollment_id: e.id.clone(),
            created_at: late,
            expires_at: late,
        };
        assert!(!store
            .record_successful_auth(&session, late)
            .await
            .expect("auth"));
        assert!(store.session("h").await.expect("read").is_none());
    }

    /// Records enrollment `e2`, a renewal of certificate `0A` that revokes it.
    async fn create_renewal_of_0a(store: &SqliteStore, e: &NewEnrollment) {
        let renewal = NewEnrollment {
            id: "e2".into(),
            token: "tok2".into(),
            kind: Kind::Renew,
            renews_serial: Some("0A".into()),
            revoke_previous: true,
            ..e.clone()
        };
        let mail = MailRecord {
            id: "m2".into(),
            enrollment_id: "e2".into(),
            to: e.email.clone(),
            subject: "s".into(),
            body: "b".into(),
            one_time_url: "http://x/issue/tok2".into(),
            sent_at: NOW,
        };
        store
            .create_enrollment(&renewal, &mail)
            .await
            .expect("create");
    }

    #[tokio::test]
    async fn a_superseding_issue_revokes_the_renewed_certificate_in_the_same_step() {
        let (store, e) = store_with_enrollment().await;
        store.issue(&e.id, &cert("0A"), NOW).await.expect("first");
        create_renewal_of_0a(&store, &e).await;
        let got = store.enrollment("e2").await.expect("read").expect("exists");
        assert!(got.revoke_previous);
        let mut new_cert = cert("0B");
        new_cert.enrollment_id = "e2".into();
        let later = NOW + time::Duration::hours(2);
        assert_eq!(
            store
                .issue_superseding("e2", &new_cert, later, "0A")
                .await
                .expect("renew"),
            IssueOutcome::Issued
        );
        let old = store
            .certificate("0A")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(old.revoked_at, Some(later));
        assert_eq!(old.reason.as_deref(), Some("superseded"));
        let revoked: Vec<String> = store
            .revoked()
            .await
            .expect("list")
            .into_iter()
            .map(|c| c.serial)
            .collect();
        assert_eq!(revoked, ["0A"]);
    }

    #[tokio::test]
    async fn the_download_read_has_the_enrollment_and_only_once_issued_its_certificate() {
        let (store, e) = store_with_enrollment().await;
        let (before, none) = store
            .enrollment_and_certificate_by_token("tok")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(before.id, e.id);
        assert_eq!(none, None);
        store.issue(&e.id, &cert("0A"), NOW).await.expect("issue");
        let (after, issued) = store
            .enrollment_and_certificate_by_token("tok")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(Some(after), store.enrollment(&e.id).await.expect("read"));
        assert_eq!(issued, store.certificate("0A").await.expect("read"));
        assert!(issued.is_some());
        assert!(store
            .enrollment_and_certificate_by_token("nope")
            .await
            .expect("read")
            .is_none());
    }

    #[tokio::test]
    async fn superseding_a_certificate_revoked_meanwhile_issues_and_keeps_the_first_reason() {
        let (store, e) = store_with_enrollment().await;
        store.issue(&e.id, &cert("0A"), NOW).await.expect("first");
        store
            .revoke("0A", NOW, "keyCompromise")
            .await
            .expect("revoke");
        create_renewal_of_0a(&store, &e).await;
        let mut new_cert = cert("0B");
        new_cert.enrollment_id = "e2".into();
        let later = NOW + time::Duration::hours(2);
        assert_eq!(
            store
                .issue_superseding("e2", &new_cert, later, "0A")
                .await
                .expect("renew"),
            IssueOutcome::Issued
        );
        assert_eq!(
            store
                .issue_superseding("e2", &cert("0C"), later, "0A")
                .await
                .expect("again"),
            IssueOutcome::NotOpen
        );
        let old = store.certificate("0A").await.expect("read").expect("0A");
        assert_eq!(old.revoked_at, Some(NOW));
        assert_eq!(old.reason.as_deref(), Some("keyCompromise"));
        assert!(store.certificate("0B").await.expect("read").is_some());
        assert!(store.certificate("0C").await.expect("read").is_none());
    }

    fn session(n: usize) -> SessionRecord {
        SessionRecord {
            token_hash: format!("h{n}"),
            enrollment_id: "e1".into(),
            created_at: NOW,
            expires_at: NOW + time::Duration::minutes(30),
        }
    }

    #[test]
    fn the_session_cache_stays_bounded_and_keeps_the_newest() {
        let mut cache = SessionCache::default();
        let total = SESSION_CACHE_MAX * 3 + 7;
        for n in 0..total {
            cache.insert(session(n));
            assert!(cache.by_hash.len() <= SESSION_CACHE_MAX);
        }
        assert_eq!(
            cache.get(&format!("h{}", total - 1)),
            Some(session(total - 1))
        );
        assert_eq!(cache.get("h0"), None);
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

    #[tokio::test]
    async fn crl_numbers_only_grow_and_an_older_crl_never_replaces_a_newer_one() {
        let store = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("store");
        assert_eq!(store.current_crl().await.expect("read"), None);
        let (a, b) = (
            store.next_crl_number().await.expect("a"),
            store.next_crl_number().await.expect("b"),
        );
        assert_eq!((a, b), (1, 2));
        let crl = |number: u64| CrlRecord {
            number,
            der: vec![u8::try_from(number).unwrap_or(0)],
            this_update: NOW,
            next_update: NOW + time::Duration::days(7),
            revoked_count: 0,
        };
        store.save_crl(&crl(2)).await.expect("save 2");
        store.save_crl(&crl(1)).await.expect("save 1");
        assert_eq!(store.current_crl().await.expect("read"), Some(crl(2)));
    }

    #[tokio::test]
    async fn revoking_twice_is_reported_and_keeps_the_first_time() {
        let (store, e) = store_with_enrollment().await;
        store.issue(&e.id, &cert("0A"), NOW).await.expect("issue");
        assert_eq!(
            store.revoke("0A", NOW, "keyCompromise").await.expect("r1"),
            RevokeOutcome::Revoked
        );
        let later = NOW + time::Duration::hours(1);
        assert_eq!(
            store.revoke("0A", later, "superseded").await.expect("r2"),
            RevokeOutcome::AlreadyRevoked
        );
        assert_eq!(
            store.revoke("FF", NOW, "x").await.expect("r3"),
            RevokeOutcome::NotFound
        );
        let c = store
            .certificate("0A")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(c.revoked_at, Some(NOW));
        assert_eq!(c.reason.as_deref(), Some("keyCompromise"));
    }
}
