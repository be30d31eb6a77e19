//! The store's promises seen from outside: one certificate per URL under
//! concurrency, state across restarts, and validity anchored at the mail.

use crate::helpers::{fixture, TestApp};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;
use webra2_mock::{Clock, Settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_concurrent_submissions_on_one_url_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0100", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    let csr = fixture("csr/rsa1024.csr.pem");
    let tries = (0..24).map(|_| app.csr_raw(&url, &session, "application/x-pem-file", csr.clone()));
    let statuses: Vec<StatusCode> = join_all(tries).await.iter().map(|r| r.status()).collect();
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let gone = statuses.iter().filter(|s| **s == StatusCode::GONE).count();
    assert_eq!((won, gone), (1, 23), "{statuses:?}");
    let (_, certs) = app.admin_get("/admin/certificates").await;
    assert_eq!(certs.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn issued_certificates_and_pending_urls_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("state.db").display());
    let settings = || Settings {
        db: db.clone(),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings(), Clock::real()).await;
    let pending = app.prepare("U0200", "pw-a").await.one_time_url;
    let used = app.prepare("U0201", "pw-b").await.one_time_url;
    let session = app.auth(&used, "pw-b").await.session;
    let issued = app
        .issue_fixture(&used, &session, "csr/rsa1024.csr.pem")
        .await;
    let root_before = app
        .http
        .get(format!("{}/ca/root/fingerprint", app.public_url))
        .send()
        .await
        .expect("fp")
        .text()
        .await
        .expect("text");
    app.stop().await;

    let app = TestApp::spawn_with(settings(), Clock::real()).await;
    // The one-time URLs name the old port; the token is what matters.
    let pending = format!(
        "{}/issue/{}",
        app.public_url,
        pending.rsplit('/').next().expect("token")
    );
    let used = format!(
        "{}/issue/{}",
        app.public_url,
        used.rsplit('/').next().expect("token")
    );
    let (_, certs) = app.admin_get("/admin/certificates").await;
    assert_eq!(certs[0]["serial"], issued.serial);
    assert_eq!(app.auth_raw(&used, "pw-b").await.status(), StatusCode::GONE);
    let auth = app.auth(&pending, "pw-a").await;
    app.issue_fixture(&pending, &auth.session, "csr/rsa1024-sha1.csr.pem")
        .await;
    let root_after = app
        .http
        .get(format!("{}/ca/root/fingerprint", app.public_url))
        .send()
        .await
        .expect("fp")
        .text()
        .await
        .expect("text");
    assert_eq!(root_before, root_after);
}

async fn issue_with_mail_date(
    mail_sent_at: &str,
    now: time::OffsetDateTime,
) -> webra2_wire::Issued {
    let app = TestApp::spawn_at(now).await;
    let resp = app
        .post_enrollment(&json!({
            "user_id": "U0300", "email": "u0300@example.test", "auth_password": "pw",
            "mail_sent_at": mail_sent_at, "url_valid_days": 60
        }))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let url = resp
        .json::<webra2_wire::EnrollmentCreated>()
        .await
        .expect("json")
        .one_time_url;
    let auth = app.auth(&url, "pw").await;
    app.issue_fixture(&url, &auth.session, "csr/rsa1024.csr.pem")
        .await
}

#[tokio::test]
async fn a_mail_sent_on_29_february_gives_a_certificate_until_28_february() {
    let issued = issue_with_mail_date(
        "2024-02-29T10:00:00+09:00",
        datetime!(2024-03-10 12:00 +09:00),
    )
    .await;
    assert_eq!(issued.not_after, datetime!(2026-02-28 10:00 +09:00));
    assert_eq!(issued.not_before, datetime!(2024-03-10 12:00 +09:00));
}

#[tokio::test]
async fn validity_follows_the_japanese_date_of_the_mail_not_the_utc_one() {
    // 1 March 00:30 in Japan is still 29 February in UTC.
    let issued =
        issue_with_mail_date("2024-02-29T15:30:00Z", datetime!(2024-03-02 12:00 +09:00)).await;
    assert_eq!(issued.not_after, datetime!(2026-03-01 00:30 +09:00));
}

#[tokio::test]
async fn an_enrollment_used_a_month_after_its_mail_still_expires_two_years_after_the_mail() {
    let issued = issue_with_mail_date(
        "2026-11-25T09:00:00+09:00",
        datetime!(2026-12-24 17:00 +09:00),
    )
    .await;
    assert_eq!(issued.not_after, datetime!(2028-11-25 09:00 +09:00));
    assert_eq!(issued.not_before, datetime!(2026-12-24 17:00 +09:00));
}
