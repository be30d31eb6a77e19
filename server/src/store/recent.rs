//! What both stores keep in memory of records that never change once written,
//! so that a request needs not read them again: sessions by token hash
//! ([`SessionCache`]), and what the certificate download of an enrollment
//! that issued needs, by its one-time URL token ([`DownloadCache`]).
//!
//! A session is never updated or deleted once recorded (it only expires, which
//! the caller decides by the service clock). An enrollment that issued keeps
//! its id, site, user id, serial and certificate for good (the certificate's
//! revocation is kept elsewhere, and the download does not read it). So a copy
//! answers exactly as the tables would, on any replica: a record written
//! elsewhere is read once, then answered from here. Only what exists is kept,
//! and a download only once it issued: what is not there yet may be written
//! later, by this process or another.

use super::interface::{CertificateRecord, Download, SessionRecord};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;
use webra2_wire::Kind;

/// How many sessions a cache keeps: far more than are in use at once (a
/// session is used within minutes of Step 1), and about 1.5 MiB when full. A
/// load that opens more before it uses them reads the forgotten ones again,
/// on PostgreSQL together with the enrollment (one statement either way).
pub(super) const SESSION_CACHE_MAX: usize = 4_096;

/// How many downloads a cache keeps: a certificate is fetched right after it
/// is issued, and 1,024 of them are about 1 MiB.
pub(super) const DOWNLOAD_CACHE_MAX: usize = 1_024;

/// Records by key, written or read lately, at most `max`. Full, it forgets
/// the half it learned first; a forgotten record is read from the table again.
#[derive(Debug)]
pub struct Recent<V> {
    inner: Mutex<Entries<V>>,
    max: usize,
}

#[derive(Debug)]
struct Entries<V> {
    by_key: HashMap<String, (u64, V)>,
    next: u64,
}

impl<V: Clone> Recent<V> {
    /// An empty cache of at most `max` records.
    pub fn new(max: usize) -> Self {
        Self {
            inner: Mutex::new(Entries {
                by_key: HashMap::new(),
                next: 0,
            }),
            max,
        }
    }

    /// The record kept under `key`, if any.
    pub fn get(&self, key: &str) -> Option<V> {
        self.entries().by_key.get(key).map(|(_, v)| v.clone())
    }

    /// Keeps `value` under `key`.
    pub fn insert(&self, key: String, value: V) {
        let mut entries = self.entries();
        if entries.by_key.len() >= self.max {
            let keep_from = entries.next.saturating_sub(self.max as u64 / 2);
            entries.by_key.retain(|_, (n, _)| *n >= keep_from);
        }
        entries.next += 1;
        let n = entries.next;
        entries.by_key.insert(key, (n, value));
    }

    /// A panic elsewhere while the lock was held cannot have left the map
    /// half-changed (each change is one `HashMap` call), so poison is ignored.
    fn entries(&self) -> MutexGuard<'_, Entries<V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sessions recorded or read lately, by token hash.
#[derive(Debug)]
pub struct SessionCache(Recent<SessionRecord>);

impl Default for SessionCache {
    fn default() -> Self {
        Self(Recent::new(SESSION_CACHE_MAX))
    }
}

impl SessionCache {
    /// The session with this token hash, if it is kept.
    pub fn get(&self, token_hash: &str) -> Option<SessionRecord> {
        self.0.get(token_hash)
    }

    /// Keeps `session`, a session the store recorded or read, with its
    /// instants in whole seconds as both stores keep them: a copy answers
    /// exactly what the table would.
    pub fn insert(&self, mut session: SessionRecord) {
        session.created_at = whole_seconds(session.created_at);
        session.expires_at = whole_seconds(session.expires_at);
        self.0.insert(session.token_hash.clone(), session);
    }
}

/// What the download needs of enrollments that issued, by one-time URL token.
pub type DownloadCache = Recent<Download>;

impl Default for DownloadCache {
    fn default() -> Self {
        Self::new(DOWNLOAD_CACHE_MAX)
    }
}

impl DownloadCache {
    /// Keeps the download of `certificate`, just issued by the enrollment
    /// `enrollment_id` of one-time URL `token` for the site `kind`: the store
    /// that recorded it has all the download needs, and it is fetched right
    /// after.
    pub fn keep_issued(
        &self,
        token: String,
        enrollment_id: &str,
        kind: Kind,
        certificate: &CertificateRecord,
    ) {
        self.insert(
            token,
            Download {
                enrollment_id: enrollment_id.to_owned(),
                kind,
                user_id: certificate.user_id.clone(),
                issued: Some((certificate.serial.clone(), certificate.der.clone())),
            },
        );
    }
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(n: usize) -> SessionRecord {
        SessionRecord {
            token_hash: format!("hash-{n}"),
            enrollment_id: format!("e-{n}"),
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_the_newest() {
        let cache = SessionCache::default();
        let total = SESSION_CACHE_MAX * 3 + 7;
        for n in 0..total {
            cache.insert(session(n));
            assert!(cache.0.entries().by_key.len() <= SESSION_CACHE_MAX);
        }
        assert_eq!(
            cache.get(&format!("hash-{}", total - 1)),
            Some(session(total - 1))
        );
        assert_eq!(cache.get("hash-0"), None);
    }

    #[test]
    fn a_kept_session_reads_in_whole_seconds_as_the_tables_keep_it() {
        let cache = SessionCache::default();
        let mut given = session(1);
        given.created_at += time::Duration::milliseconds(1_500);
        given.expires_at += time::Duration::milliseconds(2_999);
        cache.insert(given);
        let kept = cache.get("hash-1").expect("kept");
        assert_eq!(kept.created_at.unix_timestamp(), 1);
        assert_eq!(kept.created_at.nanosecond(), 0);
        assert_eq!(kept.expires_at.unix_timestamp(), 2);
        assert_eq!(kept.expires_at.nanosecond(), 0);
    }
}
