//! Bad input gets a problem document and changes nothing: dates outside what
//! X.509 and the two-year rule can represent, JSON that is not an object,
//! paths that are not UTF-8, and the smaller cases of the hardening issue.

use crate::helpers::{assert_problem, fixture, http, TestApp};
use serde_json::json;
use time::macros::datetime;
use webra2_mock::{Application, Settings};

/// `PUT /admin/clock` with `now`, raw.
async fn put_clock(app: &TestApp, now: &str) -> reqwest::Response {
    app.http
        .put(format!("{}/admin/clock", app.admin_url))
        .json(&json!({ "now": now }))
        .send()
        .await
        .expect("admin reachable")
}

#[tokio::test]
async fn a_clock_outside_the_representable_range_is_refused_and_not_set() {
    let app = TestApp::spawn_at(datetime!(2026-12-02 09:00 +09:00)).await;
    let (_, before) = app.admin_get("/admin/clock").await;
    for now in [
        "9999-12-31T15:00:00Z",
        "0000-01-01T00:00:00+14:00",
        "1949-12-31T23:59:59Z",
        "9998-01-01T00:00:00Z",
    ] {
        assert_problem(put_clock(&app, now).await, 400, "bad-request").await;
        let (status, after) = app.admin_get("/admin/clock").await;
        assert_eq!((status.as_u16(), &after), (200, &before), "{now}");
    }
    let crl = app
        .http
        .get(format!("{}/ca/crl", app.public_url))
        .send()
        .await
        .expect("public reachable");
    assert_eq!(crl.status(), 200);
}

#[tokio::test]
async fn the_last_representable_instant_still_issues_a_crl_and_prepares() {
    let app = TestApp::spawn().await;
    assert_eq!(put_clock(&app, "9997-12-31T23:59:59Z").await.status(), 200);
    let crl = app
        .http
        .get(format!("{}/ca/crl", app.public_url))
        .send()
        .await
        .expect("public reachable");
    assert_eq!(crl.status(), 200);
    let resp = app
        .post_enrollment(&json!({
            "user_id": "LATE1", "email": "late1@example.test", "auth_password": "pw",
            "url_valid_days": 365,
        }))
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_mail_date_outside_the_representable_range_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    for at in [
        "9999-12-31T23:59:59Z",
        "9998-12-01T00:00:00Z",
        "0000-01-01T00:00:00+14:00",
    ] {
        let resp = app
            .post_enrollment(&json!({
                "user_id": "DATE1", "email": "date1@example.test", "auth_password": "pw",
                "mail_sent_at": at, "url_valid_days": 365,
            }))
            .await;
        assert_problem(resp, 400, "bad-request").await;
    }
    let (_, mails) = app.admin_get("/admin/mails").await;
    assert_eq!(mails, json!([]), "nothing reached the outbox");
}

#[tokio::test]
async fn json_arrays_are_not_taken_for_objects_anywhere() {
    let app = TestApp::spawn().await;
    let resp = app
        .post_enrollment(&json!(["SHAPE1", "shape1@example.test", "pw-shape"]))
        .await;
    assert_problem(resp, 400, "bad-request").await;
    let (_, mails) = app.admin_get("/admin/mails").await;
    assert_eq!(mails, json!([]));

    let url = app.prepare("U0900", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    let issued = app
        .issue_fixture(&url, &session, "csr/rsa1024.csr.pem")
        .await;
    let revoke = format!(
        "{}/admin/certificates/{}/revoke",
        app.admin_url, issued.serial
    );
    let resp = app
        .http
        .post(&revoke)
        .json(&json!([]))
        .send()
        .await
        .expect("admin reachable");
    assert_problem(resp, 400, "bad-request").await;
    let (_, cert) = app
        .admin_get(&format!("/admin/certificates/{}", issued.serial))
        .await;
    assert_eq!(cert["status"], "valid", "{cert}");

    let url = app.prepare("U0901", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    let resp = app
        .http
        .post(format!("{url}/pkcs12"))
        .bearer_auth(&session)
        .json(&json!(["1234abcd"]))
        .send()
        .await
        .expect("public reachable");
    assert_problem(resp, 400, "bad-request").await;
    let again = app.csr_raw(
        &url,
        &session,
        "application/x-pem-file",
        fixture("csr/rsa1024.csr.pem"),
    );
    assert_eq!(again.await.status(), 201, "the URL is still usable");
}

#[tokio::test]
async fn a_path_that_is_not_utf8_gets_a_problem_document() {
    let app = TestApp::spawn().await;
    for (path, status, slug) in [
        ("/issue/%c0%af", 404, "unknown-url"),
        ("/issue/%c0%af/certificate", 404, "unknown-url"),
        ("/static/%ff", 404, "not-found"),
    ] {
        let resp = app
            .http
            .get(format!("{}{path}", app.public_url))
            .header("accept", "application/json")
            .send()
            .await
            .expect("public reachable");
        assert_problem(resp, status, slug).await;
    }
    let (status, body) = app.admin_get("/admin/enrollments/%ff").await;
    assert_eq!(status.as_u16(), 404, "{body}");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_on_the_admin_api() {
    let settings = Settings {
        admin_token: Some("0123456789abcdef-admin".into()),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, webra2_mock::Clock::real()).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let resp = http()
            .get(format!("{}/admin/clock", app.admin_url))
            .header("authorization", format!("{scheme} 0123456789abcdef-admin"))
            .send()
            .await
            .expect("admin reachable");
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    let resp = http()
        .get(format!("{}/admin/clock", app.admin_url))
        .header("authorization", "Bearer wrong-token-wrong-token")
        .send()
        .await
        .expect("admin reachable");
    assert_problem(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_session_token_nobody_was_given_is_session_required() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0902", "pw").await.one_time_url;
    let resp = app
        .csr_raw(
            &url,
            "never-issued-session-token",
            "application/x-pem-file",
            fixture("csr/rsa1024.csr.pem"),
        )
        .await;
    assert_problem(resp, 401, "session-required").await;
}

#[tokio::test]
async fn an_empty_admin_token_is_refused_at_start() {
    let settings = Settings {
        admin_token: Some(String::new()),
        ..Settings::for_tests()
    };
    let err = Application::build(settings)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("admin token is empty"), "{err}");
}

#[tokio::test]
async fn a_bad_profile_is_refused_before_the_store_file_is_made() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("never.db");
    let settings = Settings {
        db: format!("sqlite://{}", db.display()),
        profile: dir
            .path()
            .join("missing-profile.toml")
            .display()
            .to_string(),
        ..Settings::for_tests()
    };
    assert!(Application::build(settings).await.is_err());
    assert!(
        !db.exists(),
        "the store was created before the profile was checked"
    );
}

/// The hardening report's case: a user without write access to an existing
/// database got `ready`, a healthy `/healthz`, and `500` on every write. As
/// root (CI) the server runs as `nobody`, for whom the file is another user's;
/// otherwise the file is made read-only.
#[tokio::test]
async fn a_store_this_user_cannot_write_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("theirs.db");
    let url = format!("sqlite://{}", db.display());
    drop(
        webra2_mock::store::open(&url)
            .await
            .expect("the database is made"),
    );
    // The folder stays writable (the WAL files could be made); the file is not.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id -u");
    let as_root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let mut cmd = std::process::Command::new("timeout");
    cmd.arg("20");
    if as_root {
        cmd.args(["runuser", "-u", "nobody", "--"]);
    }
    let out = cmd
        .arg(crate::helpers::bin("webra2-mock"))
        .args(crate::subprocess::Server::args(&url))
        .output()
        .expect("webra2-mock runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stdout.contains("ready"), "{stdout}");
    assert!(
        stderr.contains("cannot be written by this process"),
        "{stderr}"
    );
}

/// Found by the property test (`random_input.rs`): a PIN with a character
/// beyond U+FFFF made the PKCS#12 writer fail, `500 internal`.
#[tokio::test]
async fn a_pin_a_pkcs12_cannot_hold_is_bad_request_and_issues_nothing() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0902", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    for pin in ["𐤟໐ ®", "abcd\u{7}efg"] {
        let resp = app
            .http
            .post(format!("{url}/pkcs12"))
            .bearer_auth(&session)
            .json(&json!({ "pin": pin }))
            .send()
            .await
            .expect("public reachable");
        assert_problem(resp, 400, "bad-request").await;
    }
    let (_, certificates) = app.admin_get("/admin/certificates").await;
    assert_eq!(certificates, json!([]));
}
