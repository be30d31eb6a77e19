//! A bounded copy of sessions, by token hash, that both backends keep.
//!
//! Every request after Step 1 checks its session. A session is never updated
//! or deleted once recorded (it only expires, which the caller decides by the
//! service clock), so a copy answers exactly as the table would, on any
//! replica: a session recorded elsewhere is read once, then answered from
//! here. Only sessions that exist are kept: an unknown hash may be recorded
//! later, by this process or another.

use super::interface::SessionRecord;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;

/// How many sessions a cache keeps: about 5 MiB when full. A load test opens
/// many sessions before it submits with them: `webra2-bench` opens 10,200,
/// and with 4,096 kept, most of its submissions read their session from the
/// table again (one more statement each on PostgreSQL, seen in
/// `pg_stat_statements`).
pub(super) const SESSION_CACHE_MAX: usize = 16_384;

/// The sessions recorded or read lately. Full, it forgets the half it
/// learned first; a forgotten session is read from the table again.
#[derive(Debug, Default)]
pub struct SessionCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_hash: HashMap<String, (u64, SessionRecord)>,
    next: u64,
}

impl SessionCache {
    /// The session with this token hash, if it is kept.
    pub fn get(&self, token_hash: &str) -> Option<SessionRecord> {
        self.entries()
            .by_hash
            .get(token_hash)
            .map(|(_, s)| s.clone())
    }

    /// Keeps `session`, a session the store recorded or read, with its
    /// instants in whole seconds as both stores keep them: a copy answers
    /// exactly what the table would.
    pub fn insert(&self, mut session: SessionRecord) {
        session.created_at = whole_seconds(session.created_at);
        session.expires_at = whole_seconds(session.expires_at);
        let mut entries = self.entries();
        if entries.by_hash.len() >= SESSION_CACHE_MAX {
            let keep_from = entries.next.saturating_sub(SESSION_CACHE_MAX as u64 / 2);
            entries.by_hash.retain(|_, (n, _)| *n >= keep_from);
        }
        entries.next += 1;
        let n = entries.next;
        entries
            .by_hash
            .insert(session.token_hash.clone(), (n, session));
    }

    /// A panic elsewhere while the lock was held cannot have left the map
    /// half-changed (each change is one `HashMap` call), so poison is ignored.
    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
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
            assert!(cache.entries().by_hash.len() <= SESSION_CACHE_MAX);
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
