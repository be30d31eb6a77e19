//! Protocol transcripts as snapshots: a change to a path, a status, a media type
//! or a JSON field of the protocol shows up here as a reviewable diff.

use crate::helpers::TestApp;
use time::macros::datetime;
use webra2_client::{e2e, issue, E2eOptions, IssueOptions, NoProgress, Recording};

fn e2e_options(app: &TestApp, user: &str, store: &std::path::Path) -> E2eOptions {
    let mut opts = E2eOptions::new(app.admin_url.clone(), user);
    opts.store_dir = Some(store.to_path_buf());
    opts.auth_password = Some("auth-pw-1".into());
    opts.pin = Some("Pin1234".into());
    opts
}

#[tokio::test]
async fn transcript_of_a_new_issuance() {
    let app = TestApp::spawn_at(datetime!(2026-11-25 09:00 +09:00)).await;
    let store = tempfile::tempdir().expect("tempdir");
    let recording = Recording::new(&NoProgress);
    let report = e2e(&e2e_options(&app, "U0001", store.path()), &recording).await;
    assert!(report.ok);
    let text = recording.to_json();
    for secret in [
        "auth-pw-1",
        "Pin1234",
        report.serial.as_deref().unwrap_or("-"),
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the transcript"
        );
    }
    insta::assert_json_snapshot!("transcript_new", recording.exchanges());
}

#[tokio::test]
async fn transcript_of_a_lockout() {
    let app = TestApp::spawn().await;
    let created = app.prepare("U0002", "the-right-one").await;
    let store = tempfile::tempdir().expect("tempdir");
    let recording = Recording::new(&NoProgress);
    for password in [
        "wrong-1",
        "wrong-2",
        "wrong-3",
        "wrong-4",
        "wrong-5",
        "the-right-one",
    ] {
        let opts = IssueOptions::new(
            created.one_time_url.clone(),
            password,
            "Pin1234",
            store.path(),
        );
        let report = issue(&opts, &recording).await;
        assert!(!report.ok);
    }
    let exchanges = recording.exchanges();
    let statuses: Vec<u16> = exchanges.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 423, 423]);
    insta::assert_json_snapshot!("transcript_lockout", exchanges);
}

#[tokio::test]
async fn transcript_of_a_renewal() {
    let app = TestApp::spawn_at(datetime!(2026-11-25 09:00 +09:00)).await;
    let store = tempfile::tempdir().expect("tempdir");
    let first = e2e(&e2e_options(&app, "U0003", store.path()), &NoProgress).await;
    assert!(first.ok);
    let mut opts = e2e_options(&app, "U0003", store.path());
    opts.kind = webra2_client::Kind::Renew;
    let recording = Recording::new(&NoProgress);
    let report = e2e(&opts, &recording).await;
    assert!(report.ok);
    insta::assert_json_snapshot!("transcript_renew", recording.exchanges());
}

#[tokio::test]
async fn transcript_of_the_pkcs12_path() {
    let app = TestApp::spawn_at(datetime!(2026-11-25 09:00 +09:00)).await;
    let store = tempfile::tempdir().expect("tempdir");
    let mut opts = e2e_options(&app, "U0004", store.path());
    opts.checks.pkcs12 = true;
    let recording = Recording::new(&NoProgress);
    let report = e2e(&opts, &recording).await;
    assert!(report.ok);
    let text = recording.to_json();
    assert!(
        !text.contains("Pin1234"),
        "the PIN never reaches the transcript"
    );
    insta::assert_json_snapshot!("transcript_pkcs12", recording.exchanges());
}
