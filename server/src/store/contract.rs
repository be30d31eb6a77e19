//! The store contract: the rules every [`Store`] keeps whatever database is
//! behind it, each a function that takes a fresh, empty store and panics,
//! saying which promise failed, when the store breaks the rule.
//!
//! A backend runs them all with [`store_contract_tests!`](crate::store_contract_tests),
//! one `#[tokio::test]` per rule; SQLite does so on a file and in memory (see
//! `store/sqlite.rs`). The race rules spawn their calls at once, so they only
//! race on a multi-threaded runtime, which the macro's tests use.

// A test suite, compiled in so that every backend (and other crates) can run
// it: its assertions are meant to panic.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::interface::*;
use std::sync::Arc;
use time::macros::datetime;
use time::Duration;
use time::OffsetDateTime;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use webra2_wire::{EnrollmentState, Kind};

/// When every rule starts.
const NOW: OffsetDateTime = datetime!(2026-11-25 00:00 UTC);
/// How long a fresh one-time URL stays open.
const URL_LIFE: Duration = Duration::days(30);
/// How many calls the race rules make at once.
const RACERS: usize = 16;

/// Makes one `#[tokio::test]` per rule of [`store::contract`](crate::store::contract),
/// named as the rule, in the module it is called in.
///
/// `$make` is called anew for every rule and returns a future of
/// `(guard, Arc<dyn Store>)`: a fresh, empty store, and whatever must live as
/// long as it (a temporary directory, a database to drop; `()` if nothing).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@each $make;
            an_enrollment_is_recorded_with_its_mail_or_not_at_all,
            the_download_read_has_the_enrollment_and_only_once_issued_its_certificate,
            a_url_issues_once_and_the_second_claim_changes_nothing,
            of_sixteen_concurrent_issues_on_one_url_exactly_one_wins,
            the_nth_wrong_password_in_a_row_locks_and_nothing_counts_after,
            a_right_password_resets_the_wrong_password_count,
            an_expired_or_issued_url_counts_no_wrong_password,
            an_expired_url_neither_issues_nor_authenticates,
            a_session_is_recorded_and_read_back_and_an_unknown_hash_is_none,
            the_step_2_read_has_the_enrollment_and_the_session_presented_whoever_it_is_for,
            a_superseding_issue_revokes_the_renewed_certificate_in_the_same_step,
            superseding_a_certificate_revoked_meanwhile_issues_and_keeps_the_first_reason,
            an_issue_that_does_not_win_revokes_nothing,
            revoking_twice_is_reported_and_keeps_the_first_time,
            crl_numbers_only_grow_and_an_older_crl_never_replaces_a_newer_one,
            certificates_are_listed_newest_first_and_by_user,
            mails_are_listed_newest_first_and_by_recipient,
            revoked_lists_certificates_in_revocation_order,
            an_expired_url_fault_closes_the_url_at_the_time_given,
            a_recorded_certificate_is_read_listed_revocable_and_its_url_never_opens,
        );
    };
    (@each $make:expr; $($rule:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $rule() {
                let (_guard, store) = ($make)().await;
                $crate::store::contract::$rule(store).await;
            }
        )+
    };
}

/// Enrollment `n` for `user`: id `e{n}`, token `tok{n}`, a new certificate,
/// prepared `n` minutes after [`NOW`] and open for [`URL_LIFE`] from [`NOW`].
fn enrollment(n: u32, user: &str) -> NewEnrollment {
    let at = NOW + Duration::minutes(n.into());
    NewEnrollment {
        id: format!("e{n}"),
        token: format!("tok{n}"),
        user_id: user.into(),
        email: format!("{}@example.test", user.to_lowercase()),
        kind: Kind::New,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        mail_sent_at: at,
        url_expires_at: NOW + URL_LIFE,
        renews_serial: None,
        revoke_previous: false,
        created_at: at,
    }
}

/// The mail announcing `e`.
fn mail_for(e: &NewEnrollment) -> MailRecord {
    MailRecord {
        id: format!("m-{}", e.id),
        enrollment_id: e.id.clone(),
        to: e.email.clone(),
        subject: format!("subject of {}", e.id),
        body: format!("body of {}", e.id),
        one_time_url: format!("http://x/issue/{}", e.token),
        sent_at: e.mail_sent_at,
    }
}

/// A certificate with `serial` for enrollment `e`.
fn cert(serial: &str, e: &NewEnrollment) -> CertificateRecord {
    CertificateRecord {
        serial: serial.into(),
        user_id: e.user_id.clone(),
        enrollment_id: e.id.clone(),
        der: serial.as_bytes().to_vec(),
        not_before: NOW,
        not_after: NOW + Duration::days(730),
        revoked_at: None,
        reason: None,
    }
}

/// A session of enrollment `e`.
fn session(hash: &str, e: &NewEnrollment) -> SessionRecord {
    SessionRecord {
        token_hash: hash.into(),
        enrollment_id: e.id.clone(),
        created_at: NOW,
        expires_at: NOW + Duration::minutes(30),
    }
}

/// What the store should hold for `e`, freshly created.
fn recorded(e: &NewEnrollment) -> EnrollmentRecord {
    EnrollmentRecord {
        id: e.id.clone(),
        token: e.token.clone(),
        user_id: e.user_id.clone(),
        email: e.email.clone(),
        kind: e.kind,
        state: EnrollmentState::Pending,
        password_hash: e.password_hash.clone(),
        failed_attempts: 0,
        mail_sent_at: e.mail_sent_at,
        url_expires_at: e.url_expires_at,
        serial: None,
        renews_serial: e.renews_serial.clone(),
        revoke_previous: e.revoke_previous,
    }
}

/// Records enrollment `n` for `user` with its mail.
async fn enrolled(store: &dyn Store, n: u32, user: &str) -> NewEnrollment {
    let e = enrollment(n, user);
    store
        .create_enrollment(&e, &mail_for(&e))
        .await
        .expect("create_enrollment failed");
    e
}

/// Records enrollment `n`, a renewal of `serial` that revokes it once issued.
async fn renewal_of(store: &dyn Store, serial: &str, n: u32, user: &str) -> NewEnrollment {
    let e = NewEnrollment {
        kind: Kind::Renew,
        renews_serial: Some(serial.into()),
        revoke_previous: true,
        ..enrollment(n, user)
    };
    store
        .create_enrollment(&e, &mail_for(&e))
        .await
        .expect("create_enrollment (renewal) failed");
    e
}

/// The enrollment with `id`, which must exist.
async fn stored(store: &dyn Store, id: &str) -> EnrollmentRecord {
    store
        .enrollment(id)
        .await
        .expect("enrollment failed")
        .unwrap_or_else(|| panic!("enrollment {id} is not in the store"))
}

/// The certificate with `serial`, which must exist.
async fn stored_cert(store: &dyn Store, serial: &str) -> CertificateRecord {
    store
        .certificate(serial)
        .await
        .expect("certificate failed")
        .unwrap_or_else(|| panic!("certificate {serial} is not in the store"))
}

/// The serials `list` holds, in its order.
fn serials(list: Vec<CertificateRecord>) -> Vec<String> {
    list.into_iter().map(|c| c.serial).collect()
}

/// Issues `serial` on `e` at `at` with no renewal.
async fn issue(store: &dyn Store, e: &NewEnrollment, serial: &str, at: OffsetDateTime) {
    let outcome = store
        .issue(&e.id, &cert(serial, e), at, None)
        .await
        .expect("issue failed");
    assert_eq!(
        outcome,
        IssueOutcome::Issued,
        "issuing {serial} on the open URL of {} did not win",
        e.id
    );
}

/// Creating an enrollment records it and its mail, read back exactly as
/// given; when the mail cannot be recorded, neither is the enrollment.
pub async fn an_enrollment_is_recorded_with_its_mail_or_not_at_all(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrollment(1, "U0001");
    let mail = mail_for(&e);
    store
        .create_enrollment(&e, &mail)
        .await
        .expect("create_enrollment failed");
    let by_token = store
        .enrollment_by_token(&e.token)
        .await
        .expect("enrollment_by_token failed");
    assert_eq!(by_token, Some(recorded(&e)), "read back by its token");
    assert_eq!(
        Some(stored(store, &e.id).await),
        by_token,
        "read back by its id"
    );
    assert_eq!(
        store.mails(None).await.expect("mails failed"),
        std::slice::from_ref(&mail),
        "the outbox holds the enrollment's mail"
    );
    assert_eq!(
        store
            .enrollment_by_token("tok-unknown")
            .await
            .expect("the read failed"),
        None,
        "an unknown token finds an enrollment"
    );
    assert_eq!(
        store
            .enrollment("e-unknown")
            .await
            .expect("the read failed"),
        None,
        "an unknown id finds an enrollment"
    );

    // The second enrollment's mail reuses the first mail's id: it cannot be
    // recorded, so the enrollment must not be either.
    let second = enrollment(2, "U0002");
    let clash = MailRecord {
        id: mail.id.clone(),
        ..mail_for(&second)
    };
    assert!(
        store.create_enrollment(&second, &clash).await.is_err(),
        "a mail id recorded twice was accepted"
    );
    assert_eq!(
        store.enrollment(&second.id).await.expect("the read failed"),
        None,
        "the enrollment was recorded although its mail was not"
    );
    assert_eq!(
        store
            .enrollment_by_token(&second.token)
            .await
            .expect("the read failed"),
        None,
        "the enrollment was recorded although its mail was not"
    );
    assert_eq!(
        store.mails(None).await.expect("mails failed"),
        [mail],
        "the outbox changed on a failed create"
    );
}

/// The download read finds the enrollment by token, with no certificate
/// before it issued and with the issued one after, and answers the same once
/// the certificate is revoked (nothing of an issued download changes, so a
/// store may keep it); an unknown token finds nothing.
pub async fn the_download_read_has_the_enrollment_and_only_once_issued_its_certificate(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    let download = |issued: Option<(String, Vec<u8>)>| Download {
        enrollment_id: e.id.clone(),
        kind: e.kind,
        user_id: e.user_id.clone(),
        issued,
    };
    let read = |token: String| async move {
        store
            .download_by_token(&token)
            .await
            .expect("download_by_token failed")
    };
    assert_eq!(
        read(e.token.clone()).await,
        Some(download(None)),
        "the download before issuing"
    );
    issue(store, &e, "0A", NOW).await;
    let issued = Some(download(Some(("0A".into(), cert("0A", &e).der))));
    assert_eq!(
        read(e.token.clone()).await,
        issued,
        "the download once issued"
    );
    store
        .revoke("0A", NOW, "keyCompromise")
        .await
        .expect("revoke");
    assert_eq!(
        read(e.token.clone()).await,
        issued,
        "the download once revoked"
    );
    assert_eq!(
        read("tok-unknown".into()).await,
        None,
        "an unknown token finds an enrollment"
    );
}

/// The first issue on an open URL wins and records the certificate as given;
/// a second one is `NotOpen` and records nothing.
pub async fn a_url_issues_once_and_the_second_claim_changes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    assert_eq!(
        store
            .issue(&e.id, &cert("0A", &e), NOW, None)
            .await
            .expect("issue failed"),
        IssueOutcome::Issued,
        "the first issue on an open URL"
    );
    assert_eq!(
        store
            .issue(&e.id, &cert("0B", &e), NOW, None)
            .await
            .expect("issue failed"),
        IssueOutcome::NotOpen,
        "the second issue on the same URL"
    );
    assert_eq!(
        store.certificates(None).await.expect("certificates failed"),
        [cert("0A", &e)],
        "the certificates stored"
    );
    assert_eq!(
        store.certificate("0B").await.expect("the read failed"),
        None,
        "the losing certificate was stored"
    );
    let got = stored(store, &e.id).await;
    assert_eq!(got.serial.as_deref(), Some("0A"), "the enrollment's serial");
    assert_eq!(got.state, EnrollmentState::Issued, "the enrollment's state");
}

/// Of sixteen issues on one URL started at once, exactly one wins, the rest
/// are `NotOpen` (not errors), and one certificate is stored: the winner's.
pub async fn of_sixteen_concurrent_issues_on_one_url_exactly_one_wins(store: Arc<dyn Store>) {
    let e = enrolled(&*store, 1, "U0001").await;
    let start = Arc::new(Barrier::new(RACERS));
    let mut calls = JoinSet::new();
    for n in 0..RACERS {
        let (store, start, id) = (store.clone(), start.clone(), e.id.clone());
        let c = cert(&format!("{n:02X}"), &e);
        calls.spawn(async move {
            start.wait().await;
            let outcome = store.issue(&id, &c, NOW, None).await;
            (c.serial, outcome)
        });
    }
    let (mut won, mut lost) = (Vec::new(), 0);
    while let Some(joined) = calls.join_next().await {
        let (serial, outcome) = joined.expect("an issue call panicked");
        match outcome {
            Ok(IssueOutcome::Issued) => won.push(serial),
            Ok(IssueOutcome::NotOpen) => lost += 1,
            Err(err) => panic!("a concurrent issue of {serial} failed: {err}"),
        }
    }
    assert_eq!(won.len(), 1, "winners of {RACERS} racing issues: {won:?}");
    assert_eq!(lost, RACERS - 1, "NotOpen of {RACERS} racing issues");
    assert_eq!(
        serials(store.certificates(None).await.expect("certificates failed")),
        won,
        "the certificates stored after the race"
    );
    let got = stored(&*store, &e.id).await;
    assert_eq!(got.serial, won.pop(), "the enrollment's serial");
    assert_eq!(got.state, EnrollmentState::Issued, "the enrollment's state");
}

/// For `lock_after` of 1, 3 and 5: wrong passwords count 1, 2, …, the
/// `lock_after`-th locks, and nothing counts or authenticates after.
pub async fn the_nth_wrong_password_in_a_row_locks_and_nothing_counts_after(store: Arc<dyn Store>) {
    let store = &*store;
    for (n, lock_after) in (1..).zip([1, 3, 5]) {
        let e = enrolled(store, n, "U0001").await;
        for count in 1..lock_after {
            assert_eq!(
                store
                    .record_failed_auth(&e.id, lock_after, NOW)
                    .await
                    .expect("record_failed_auth failed"),
                AuthFailure::Counted(count),
                "wrong password {count} of {lock_after}"
            );
        }
        assert_eq!(
            store
                .record_failed_auth(&e.id, lock_after, NOW)
                .await
                .expect("record_failed_auth failed"),
            AuthFailure::Locked,
            "wrong password {lock_after} of {lock_after}"
        );
        assert_eq!(
            store
                .record_failed_auth(&e.id, lock_after, NOW)
                .await
                .expect("record_failed_auth failed"),
            AuthFailure::NotOpen,
            "a wrong password after the lock (lock_after {lock_after})"
        );
        let got = stored(store, &e.id).await;
        assert_eq!(got.state, EnrollmentState::Locked, "the state once locked");
        assert_eq!(
            got.failed_attempts, lock_after,
            "wrong passwords counted (lock_after {lock_after})"
        );
        let s = session(&format!("h{n}"), &e);
        assert!(
            !store
                .record_successful_auth(&s, NOW)
                .await
                .expect("record_successful_auth failed"),
            "a right password authenticated a locked URL"
        );
        assert_eq!(
            store.session(&s.token_hash).await.expect("the read failed"),
            None,
            "a session was recorded on a locked URL"
        );
    }
}

/// A right password sets the count back to nought, so the wrong passwords
/// after it count from one again and lock only at the `lock_after`-th.
pub async fn a_right_password_resets_the_wrong_password_count(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    for count in 1..=4 {
        assert_eq!(
            store
                .record_failed_auth(&e.id, 5, NOW)
                .await
                .expect("record_failed_auth failed"),
            AuthFailure::Counted(count),
            "wrong password {count} before the right one"
        );
    }
    assert!(
        store
            .record_successful_auth(&session("h1", &e), NOW)
            .await
            .expect("record_successful_auth failed"),
        "the right password on an open URL"
    );
    let got = stored(store, &e.id).await;
    assert_eq!(got.failed_attempts, 0, "the count after a right password");
    assert_eq!(got.state, EnrollmentState::Authenticated, "the state");
    for count in 1..=4 {
        assert_eq!(
            store
                .record_failed_auth(&e.id, 5, NOW)
                .await
                .expect("record_failed_auth failed"),
            AuthFailure::Counted(count),
            "wrong password {count} after the right one"
        );
    }
    assert_eq!(
        store
            .record_failed_auth(&e.id, 5, NOW)
            .await
            .expect("record_failed_auth failed"),
        AuthFailure::Locked,
        "the fifth wrong password after the right one"
    );
}

/// A wrong password on an expired or an issued URL is `NotOpen` and counts nothing.
pub async fn an_expired_or_issued_url_counts_no_wrong_password(store: Arc<dyn Store>) {
    let store = &*store;
    let expired = enrolled(store, 1, "U0001").await;
    let at_expiry = expired.url_expires_at;
    assert_eq!(
        store
            .record_failed_auth(&expired.id, 5, at_expiry)
            .await
            .expect("record_failed_auth failed"),
        AuthFailure::NotOpen,
        "a wrong password at the URL's expiry"
    );
    let got = stored(store, &expired.id).await;
    assert_eq!(got.failed_attempts, 0, "counted on an expired URL");
    assert_eq!(got.state_at(at_expiry), EnrollmentState::Expired);

    let issued = enrolled(store, 2, "U0002").await;
    issue(store, &issued, "0A", NOW).await;
    assert_eq!(
        store
            .record_failed_auth(&issued.id, 5, NOW)
            .await
            .expect("record_failed_auth failed"),
        AuthFailure::NotOpen,
        "a wrong password on an issued URL"
    );
    let got = stored(store, &issued.id).await;
    assert_eq!(got.failed_attempts, 0, "counted on an issued URL");
    assert_eq!(got.state, EnrollmentState::Issued, "the state");
}

/// Past its expiry a URL issues nothing and records no session.
pub async fn an_expired_url_neither_issues_nor_authenticates(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    let late = NOW + URL_LIFE + Duration::days(1);
    assert_eq!(
        store
            .issue(&e.id, &cert("0A", &e), late, None)
            .await
            .expect("issue failed"),
        IssueOutcome::NotOpen,
        "an issue past the URL's expiry"
    );
    assert_eq!(
        store.certificate("0A").await.expect("the read failed"),
        None,
        "a certificate was stored past the URL's expiry"
    );
    let s = SessionRecord {
        created_at: late,
        expires_at: late,
        ..session("h", &e)
    };
    assert!(
        !store
            .record_successful_auth(&s, late)
            .await
            .expect("record_successful_auth failed"),
        "a right password past the URL's expiry"
    );
    assert_eq!(
        store.session("h").await.expect("the read failed"),
        None,
        "a session was recorded past the URL's expiry"
    );
    let got = stored(store, &e.id).await;
    assert_eq!(got.state_at(late), EnrollmentState::Expired);
    assert_eq!(got.serial, None, "the serial of an expired URL");
}

/// The Step 2 read finds the enrollment by token with the session of the
/// hash given, as `session` reads it, whichever enrollment it is for (the
/// caller checks that); none for no hash or an unknown one; nothing for an
/// unknown token. Read twice, as a store may keep copies.
pub async fn the_step_2_read_has_the_enrollment_and_the_session_presented_whoever_it_is_for(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let (e, other) = (
        enrolled(store, 1, "U0001").await,
        enrolled(store, 2, "U0002").await,
    );
    let (mine, theirs) = (session("h1", &e), session("h2", &other));
    for s in [&mine, &theirs] {
        assert!(store
            .record_successful_auth(s, NOW)
            .await
            .expect("record_successful_auth failed"));
    }
    let read = |token: &'static str, hash: Option<&'static str>| async move {
        store
            .enrollment_and_session(token, hash)
            .await
            .expect("enrollment_and_session failed")
    };
    let authenticated = stored(store, &e.id).await;
    for _ in 0..2 {
        assert_eq!(
            read("tok1", Some("h1")).await,
            Some((authenticated.clone(), Some(mine.clone()))),
            "its own session"
        );
        assert_eq!(
            read("tok1", Some("h2")).await,
            Some((authenticated.clone(), Some(theirs.clone()))),
            "another enrollment's session, as it is"
        );
        assert_eq!(
            read("tok1", Some("h-unknown")).await,
            Some((authenticated.clone(), None)),
            "an unknown session"
        );
        assert_eq!(
            read("tok1", None).await,
            Some((authenticated.clone(), None)),
            "no session presented"
        );
        assert_eq!(
            read("tok-unknown", Some("h1")).await,
            None,
            "an unknown token"
        );
    }
}

/// A right password records its session, read back as given (again and
/// again: a store may keep copies); an unknown hash, or a session of an
/// unknown enrollment, is no session.
pub async fn a_session_is_recorded_and_read_back_and_an_unknown_hash_is_none(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    let (first, second) = (session("h1", &e), session("h2", &e));
    for s in [&first, &second] {
        assert!(
            store
                .record_successful_auth(s, NOW)
                .await
                .expect("record_successful_auth failed"),
            "a right password on an open URL ({})",
            s.token_hash
        );
    }
    for _ in 0..2 {
        for s in [&first, &second] {
            assert_eq!(
                store.session(&s.token_hash).await.expect("session failed"),
                Some(s.clone()),
                "the session read back"
            );
        }
    }
    assert_eq!(
        store.session("h-unknown").await.expect("session failed"),
        None,
        "an unknown hash found a session"
    );
    let stray = SessionRecord {
        enrollment_id: "e-unknown".into(),
        ..session("h3", &e)
    };
    assert!(
        !store
            .record_successful_auth(&stray, NOW)
            .await
            .expect("record_successful_auth failed"),
        "a session of an unknown enrollment was accepted"
    );
    assert_eq!(
        store.session("h3").await.expect("session failed"),
        None,
        "a session of an unknown enrollment was recorded"
    );
    assert_eq!(
        stored(store, &e.id).await.state,
        EnrollmentState::Authenticated,
        "the state after a right password"
    );
}

/// A renewal is recorded as one, and issuing it with `supersedes` revokes the
/// renewed certificate as `superseded` at the issue's time, in the same call.
pub async fn a_superseding_issue_revokes_the_renewed_certificate_in_the_same_step(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    issue(store, &e, "0A", NOW).await;
    let renewal = renewal_of(store, "0A", 2, "U0001").await;
    let got = stored(store, &renewal.id).await;
    assert_eq!(got, recorded(&renewal), "the renewal read back");
    assert!(got.revoke_previous, "the renewal revokes the previous");
    assert_eq!(got.kind, Kind::Renew, "the renewal's kind");
    let later = NOW + Duration::hours(2);
    assert_eq!(
        store
            .issue(&renewal.id, &cert("0B", &renewal), later, Some("0A"))
            .await
            .expect("issue failed"),
        IssueOutcome::Issued,
        "the superseding issue"
    );
    let old = stored_cert(store, "0A").await;
    assert_eq!(
        old.revoked_at,
        Some(later),
        "the superseded revocation time"
    );
    assert_eq!(old.reason.as_deref(), Some("superseded"), "its reason");
    assert_eq!(
        stored_cert(store, "0B").await,
        cert("0B", &renewal),
        "the new certificate, unrevoked"
    );
    assert_eq!(
        serials(store.revoked().await.expect("revoked failed")),
        ["0A"],
        "the revoked certificates"
    );
}

/// A renewed certificate revoked by other means before the renewal issued
/// keeps its first time and reason; the renewal still issues, once.
pub async fn superseding_a_certificate_revoked_meanwhile_issues_and_keeps_the_first_reason(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    issue(store, &e, "0A", NOW).await;
    assert_eq!(
        store
            .revoke("0A", NOW, "keyCompromise")
            .await
            .expect("revoke failed"),
        RevokeOutcome::Revoked
    );
    let renewal = renewal_of(store, "0A", 2, "U0001").await;
    let later = NOW + Duration::hours(2);
    assert_eq!(
        store
            .issue(&renewal.id, &cert("0B", &renewal), later, Some("0A"))
            .await
            .expect("issue failed"),
        IssueOutcome::Issued,
        "the superseding issue of a revoked certificate"
    );
    assert_eq!(
        store
            .issue(&renewal.id, &cert("0C", &renewal), later, Some("0A"))
            .await
            .expect("issue failed"),
        IssueOutcome::NotOpen,
        "a second superseding issue on the same URL"
    );
    let old = stored_cert(store, "0A").await;
    assert_eq!(old.revoked_at, Some(NOW), "the first revocation time");
    assert_eq!(
        old.reason.as_deref(),
        Some("keyCompromise"),
        "the first reason"
    );
    assert!(
        store.certificate("0B").await.expect("read").is_some(),
        "the renewal's certificate is not stored"
    );
    assert_eq!(
        store.certificate("0C").await.expect("the read failed"),
        None,
        "the second claim's certificate was stored"
    );
}

/// A superseding issue that finds its URL closed revokes nothing and stores nothing.
pub async fn an_issue_that_does_not_win_revokes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    issue(store, &e, "0A", NOW).await;
    let renewal = renewal_of(store, "0A", 2, "U0001").await;
    let late = renewal.url_expires_at;
    assert_eq!(
        store
            .issue(&renewal.id, &cert("0B", &renewal), late, Some("0A"))
            .await
            .expect("issue failed"),
        IssueOutcome::NotOpen,
        "a superseding issue at the URL's expiry"
    );
    assert_eq!(
        stored_cert(store, "0A").await,
        cert("0A", &e),
        "the renewed certificate after a superseding issue that lost"
    );
    let revoked = store.revoked().await.expect("revoked failed");
    assert!(
        revoked.is_empty(),
        "revoked after a superseding issue that lost: {revoked:?}"
    );
    assert_eq!(
        store.certificate("0B").await.expect("the read failed"),
        None,
        "the losing certificate was stored"
    );
}

/// Revoking records time and reason; revoking again is `AlreadyRevoked` and
/// keeps the first; an unknown serial is `NotFound`.
pub async fn revoking_twice_is_reported_and_keeps_the_first_time(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    issue(store, &e, "0A", NOW).await;
    assert_eq!(
        store
            .revoke("0A", NOW, "keyCompromise")
            .await
            .expect("revoke failed"),
        RevokeOutcome::Revoked,
        "the first revocation"
    );
    let later = NOW + Duration::hours(1);
    assert_eq!(
        store
            .revoke("0A", later, "superseded")
            .await
            .expect("revoke failed"),
        RevokeOutcome::AlreadyRevoked,
        "the second revocation"
    );
    assert_eq!(
        store.revoke("FF", NOW, "x").await.expect("revoke failed"),
        RevokeOutcome::NotFound,
        "revoking an unknown serial"
    );
    let c = stored_cert(store, "0A").await;
    assert_eq!(c.revoked_at, Some(NOW), "the first revocation time");
    assert_eq!(
        c.reason.as_deref(),
        Some("keyCompromise"),
        "the first reason"
    );
}

/// CRL numbers are 1, 2, 3, … with none taken twice, even at once; a saved
/// CRL is read back as given, a newer one replaces it, an older one never does.
pub async fn crl_numbers_only_grow_and_an_older_crl_never_replaces_a_newer_one(
    store: Arc<dyn Store>,
) {
    assert_eq!(
        store.current_crl().await.expect("current_crl failed"),
        None,
        "a CRL before any was saved"
    );
    let first = store
        .next_crl_number()
        .await
        .expect("next_crl_number failed");
    let second = store
        .next_crl_number()
        .await
        .expect("next_crl_number failed");
    assert_eq!((first, second), (1, 2), "the first two CRL numbers");

    let start = Arc::new(Barrier::new(RACERS));
    let mut calls = JoinSet::new();
    for _ in 0..RACERS {
        let (store, start) = (store.clone(), start.clone());
        calls.spawn(async move {
            start.wait().await;
            store.next_crl_number().await
        });
    }
    let mut taken = Vec::new();
    while let Some(joined) = calls.join_next().await {
        match joined.expect("a next_crl_number call panicked") {
            Ok(number) => taken.push(number),
            Err(err) => panic!("a concurrent next_crl_number failed: {err}"),
        }
    }
    taken.sort_unstable();
    let expected: Vec<u64> = (3..).take(RACERS).collect();
    assert_eq!(taken, expected, "CRL numbers taken at once");
    assert_eq!(
        store
            .next_crl_number()
            .await
            .expect("next_crl_number failed"),
        3 + RACERS as u64,
        "the CRL number after the race"
    );

    let crl = |number: u64| CrlRecord {
        number,
        der: number.to_be_bytes().to_vec(),
        this_update: NOW + Duration::minutes(i64::try_from(number).unwrap_or(0)),
        next_update: NOW + Duration::days(7),
        revoked_count: number * 10,
    };
    store.save_crl(&crl(2)).await.expect("save_crl failed");
    assert_eq!(
        store.current_crl().await.expect("current_crl failed"),
        Some(crl(2)),
        "the CRL read back"
    );
    store.save_crl(&crl(1)).await.expect("save_crl failed");
    assert_eq!(
        store.current_crl().await.expect("current_crl failed"),
        Some(crl(2)),
        "an older CRL replaced a newer one"
    );
    store.save_crl(&crl(3)).await.expect("save_crl failed");
    assert_eq!(
        store.current_crl().await.expect("current_crl failed"),
        Some(crl(3)),
        "a newer CRL did not replace an older one"
    );
}

/// Certificates are listed newest first (issue order, not serial order), all
/// of them or one user's.
pub async fn certificates_are_listed_newest_first_and_by_user(store: Arc<dyn Store>) {
    let store = &*store;
    let (a, b, c) = (
        enrolled(store, 1, "U0001").await,
        enrolled(store, 2, "U0002").await,
        enrolled(store, 3, "U0001").await,
    );
    issue(store, &a, "0B", NOW).await;
    issue(store, &b, "0C", NOW + Duration::hours(1)).await;
    issue(store, &c, "0A", NOW + Duration::hours(2)).await;
    let all = store.certificates(None).await.expect("certificates failed");
    assert_eq!(
        all,
        [cert("0A", &c), cert("0C", &b), cert("0B", &a)],
        "all certificates, newest first"
    );
    assert_eq!(
        serials(
            store
                .certificates(Some("U0001"))
                .await
                .expect("certificates failed")
        ),
        ["0A", "0B"],
        "U0001's certificates, newest first"
    );
    assert_eq!(
        serials(
            store
                .certificates(Some("U0002"))
                .await
                .expect("certificates failed")
        ),
        ["0C"],
        "U0002's certificates"
    );
    let unknown = store
        .certificates(Some("U9999"))
        .await
        .expect("certificates failed");
    assert!(
        unknown.is_empty(),
        "an unknown user's certificates: {unknown:?}"
    );
}

/// The outbox is listed newest first, all of it or one recipient's.
pub async fn mails_are_listed_newest_first_and_by_recipient(store: Arc<dyn Store>) {
    let store = &*store;
    let (a, b, c) = (
        enrolled(store, 1, "U0001").await,
        enrolled(store, 2, "U0002").await,
        enrolled(store, 3, "U0001").await,
    );
    let (ma, mb, mc) = (mail_for(&a), mail_for(&b), mail_for(&c));
    assert_eq!(
        store.mails(None).await.expect("mails failed"),
        [mc.clone(), mb.clone(), ma.clone()],
        "the outbox, newest first"
    );
    assert_eq!(
        store.mails(Some(&a.email)).await.expect("mails failed"),
        [mc, ma],
        "one recipient's mails, newest first"
    );
    assert_eq!(
        store.mails(Some(&b.email)).await.expect("mails failed"),
        [mb],
        "the other recipient's mails"
    );
    let unknown = store
        .mails(Some("nobody@example.test"))
        .await
        .expect("mails failed");
    assert!(
        unknown.is_empty(),
        "an unknown recipient's mails: {unknown:?}"
    );
}

/// `revoked` lists the revoked certificates only, in the order they were
/// revoked (not the order they were issued).
pub async fn revoked_lists_certificates_in_revocation_order(store: Arc<dyn Store>) {
    let store = &*store;
    let mut issued = Vec::new();
    for (n, serial) in (1..).zip(["0A", "0B", "0C"]) {
        let e = enrolled(store, n, "U0001").await;
        issue(store, &e, serial, NOW).await;
        issued.push(e);
    }
    let none = store.revoked().await.expect("revoked failed");
    assert!(none.is_empty(), "revoked before any revocation: {none:?}");
    let (first, second) = (NOW + Duration::hours(1), NOW + Duration::hours(2));
    for (serial, at) in [("0C", first), ("0A", second)] {
        assert_eq!(
            store
                .revoke(serial, at, "keyCompromise")
                .await
                .expect("revoke failed"),
            RevokeOutcome::Revoked,
            "revoking {serial}"
        );
    }
    let revoked = store.revoked().await.expect("revoked failed");
    assert_eq!(
        serials(revoked.clone()),
        ["0C", "0A"],
        "the revoked, in order"
    );
    let when: Vec<_> = revoked
        .iter()
        .map(|c| (c.revoked_at, c.reason.clone()))
        .collect();
    assert_eq!(
        when,
        [
            (Some(first), Some("keyCompromise".to_owned())),
            (Some(second), Some("keyCompromise".to_owned()))
        ],
        "the revocation times and reasons"
    );
}

/// `expire_url` moves the URL's expiry to the time given, after which the URL
/// neither issues nor counts nor authenticates; an unknown enrollment is `false`.
pub async fn an_expired_url_fault_closes_the_url_at_the_time_given(store: Arc<dyn Store>) {
    let store = &*store;
    let e = enrolled(store, 1, "U0001").await;
    let at = NOW + Duration::hours(1);
    assert!(
        store
            .expire_url(&e.id, at)
            .await
            .expect("expire_url failed"),
        "expire_url of a recorded enrollment"
    );
    let got = stored(store, &e.id).await;
    assert_eq!(got.url_expires_at, at, "the URL's expiry once moved");
    assert_eq!(
        got.state_at(at - Duration::seconds(1)),
        EnrollmentState::Pending
    );
    assert_eq!(got.state_at(at), EnrollmentState::Expired);
    assert_eq!(
        store
            .record_failed_auth(&e.id, 5, at)
            .await
            .expect("record_failed_auth failed"),
        AuthFailure::NotOpen,
        "a wrong password once expired"
    );
    assert!(
        !store
            .record_successful_auth(&session("h", &e), at)
            .await
            .expect("record_successful_auth failed"),
        "a right password once expired"
    );
    assert_eq!(
        store
            .issue(&e.id, &cert("0A", &e), at, None)
            .await
            .expect("issue failed"),
        IssueOutcome::NotOpen,
        "an issue once expired"
    );
    assert!(
        !store
            .expire_url("e-unknown", at)
            .await
            .expect("expire_url failed"),
        "expire_url of an unknown enrollment"
    );
}

/// `record_certificate` keeps a certificate made without the site: read back
/// as given, listed (newest first with the rest), in `revoked` when made
/// revoked, revocable when not; its enrollment is `issued` with its serial
/// and opens for nothing; no mail is sent; a second record of the serial fails
/// and changes nothing.
pub async fn a_recorded_certificate_is_read_listed_revocable_and_its_url_never_opens(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let site = enrolled(store, 1, "U0001").await;
    issue(store, &site, "0A", NOW).await;

    let made = enrollment(2, "U0001");
    let good = cert("0B", &made);
    store
        .record_certificate(&made, &good)
        .await
        .expect("record_certificate failed");
    let revoked_e = enrollment(3, "U0002");
    let revoked = CertificateRecord {
        revoked_at: Some(NOW + Duration::minutes(5)),
        reason: Some("keyCompromise".into()),
        ..cert("0C", &revoked_e)
    };
    store
        .record_certificate(&revoked_e, &revoked)
        .await
        .expect("record_certificate of a revoked one failed");

    assert_eq!(
        store.certificate("0B").await.expect("certificate failed"),
        Some(good.clone()),
        "the recorded certificate, read back"
    );
    assert_eq!(
        store.certificate("0C").await.expect("certificate failed"),
        Some(revoked.clone()),
        "a certificate recorded revoked keeps its time and reason"
    );
    let all = store.certificates(None).await.expect("certificates failed");
    assert_eq!(serials(all), ["0C", "0B", "0A"], "listed, newest first");
    let mine = store
        .certificates(Some("U0001"))
        .await
        .expect("certificates failed");
    assert_eq!(serials(mine), ["0B", "0A"], "listed by user");
    let listed = store.revoked().await.expect("revoked failed");
    assert_eq!(
        serials(listed),
        ["0C"],
        "the one made revoked is in revoked()"
    );

    let got = stored(store, &made.id).await;
    assert_eq!(
        got.state,
        EnrollmentState::Issued,
        "its enrollment is issued"
    );
    assert_eq!(got.serial.as_deref(), Some("0B"));
    assert_eq!(
        store
            .record_failed_auth(&made.id, 5, NOW)
            .await
            .expect("record_failed_auth failed"),
        AuthFailure::NotOpen,
        "its URL takes no password"
    );
    assert_eq!(
        store
            .issue(&made.id, &cert("0D", &made), NOW, None)
            .await
            .expect("issue failed"),
        IssueOutcome::NotOpen,
        "its URL issues nothing"
    );
    assert_eq!(
        store.mails(None).await.expect("mails failed").len(),
        1,
        "only the site's enrollment sent a mail"
    );

    assert_eq!(
        store
            .revoke("0B", NOW + Duration::hours(1), "superseded")
            .await
            .expect("revoke failed"),
        RevokeOutcome::Revoked,
        "a recorded certificate is revocable"
    );
    let again = enrollment(4, "U0003");
    assert!(
        store
            .record_certificate(&again, &cert("0B", &again))
            .await
            .is_err(),
        "a second record of one serial"
    );
    assert!(
        store
            .enrollment(&again.id)
            .await
            .expect("enrollment failed")
            .is_none(),
        "the refused record left no enrollment behind"
    );
}
