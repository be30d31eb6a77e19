//! Profiles as protocol versions: a profile file alone simulates a CA that
//! changed (key length, validity rule, subject template), and the client
//! notices, through a failed check or a changed transcript.

use crate::helpers::{fixtures, TestApp};
use time::macros::datetime;
use webra2_client::{e2e, E2eOptions, Exchange, KeySpec, NoProgress, Recording, Report, Status};
use webra2_mock::{Clock, Settings};

/// The built-in `webra2` profile with one line replaced, written to `dir`.
fn changed_profile(dir: &std::path::Path, from: &str, to: &str) -> String {
    let base = std::fs::read_to_string(fixtures().join("profiles/webra2.toml")).expect("profile");
    let changed = base.replace(from, to);
    assert_ne!(base, changed, "{from:?} is in the fixture profile");
    let path = dir.join("changed.toml");
    std::fs::write(&path, changed).expect("write profile");
    path.display().to_string()
}

async fn run(profile: &str, opts: impl FnOnce(&mut E2eOptions)) -> (Report, Vec<Exchange>) {
    let settings = Settings {
        profile: profile.to_owned(),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, Clock::fixed(datetime!(2026-11-25 09:00 +09:00))).await;
    let store = tempfile::tempdir().expect("tempdir");
    let mut options = E2eOptions::new(app.admin_url.clone(), "U0001");
    options.store_dir = Some(store.path().to_path_buf());
    options.auth_password = Some("auth-pw".into());
    options.pin = Some("Pin1234".into());
    opts(&mut options);
    let recording = Recording::new(&NoProgress);
    let report = e2e(&options, &recording).await;
    (report, recording.exchanges())
}

fn auth_answer(exchanges: &[Exchange]) -> serde_json::Value {
    exchanges
        .iter()
        .find(|e| e.path == "/issue/{token}/auth")
        .map(|e| e.response.clone())
        .expect("an auth exchange")
}

#[tokio::test]
async fn a_new_key_length_changes_the_transcript_and_fails_a_client_pinned_to_the_old_one() {
    let (before, old) = run("webra2", |_| {}).await;
    assert!(before.ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = changed_profile(
        dir.path(),
        "key_length = 1024\n\n[keys]\nrsa_min_bits = 1024\nrsa_max_bits = 1024",
        "key_length = 2048\n\n[keys]\nrsa_min_bits = 2048\nrsa_max_bits = 2048",
    );
    // A client that follows the site adapts, and the transcript shows the change.
    let (after, new) = run(&profile, |_| {}).await;
    assert!(after.ok, "{:#?}", after.steps);
    assert_eq!(auth_answer(&old)["key_length"], 1024);
    assert_eq!(auth_answer(&new)["key_length"], 2048);
    assert_eq!(
        auth_answer(&new)["accepted_keys"],
        serde_json::json!(["rsa-2048"])
    );
    assert_ne!(old, new, "the transcripts differ");
    // A client hard-wired to RSA-1024 is refused with the contract's key-policy.
    let (pinned, _) = run(&profile, |o| o.checks.key_type = Some(KeySpec::Rsa(1024))).await;
    assert!(!pinned.ok);
    let step = pinned.step("2-1").expect("the CSR step");
    assert_eq!(step.status, Status::Fail);
    assert!(step.detail.contains("key-policy"), "{}", step.detail);
}

#[tokio::test]
async fn a_validity_of_three_years_instead_of_two_fails_check_d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = changed_profile(dir.path(), "years = 2", "years = 3");
    let (report, _) = run(&profile, |_| {}).await;
    assert!(!report.ok);
    let d = report.step("3-D").expect("3-D");
    assert_eq!(d.status, Status::Fail, "{}", d.line());
    assert!(d.detail.contains("2029/11/25"), "{}", d.detail);
}

#[tokio::test]
async fn another_subject_template_fails_check_a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = changed_profile(
        dir.path(),
        "template = \"CN={user_id}\"",
        "template = \"CN={email}\"",
    );
    let (report, exchanges) = run(&profile, |_| {}).await;
    assert!(!report.ok);
    let a = report.step("3-A").expect("3-A");
    assert_eq!(a.status, Status::Fail, "{}", a.line());
    assert!(a.detail.contains("u0001@example.test"), "{}", a.detail);
    let confirm = exchanges.iter().find(|e| e.path == "/confirm");
    if let Some(confirm) = confirm {
        assert_eq!(confirm.response["subject"], "CN=u0001@example.test");
    }
}
