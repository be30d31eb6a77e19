//! The PKCS#12 path in its two forms (issue 13): `modern` (what OpenSSL 3
//! writes) and `legacy` (what `openssl pkcs12 -export -legacy` writes, for
//! Windows Server 2016 and older and the macOS Keychain), read back with openssl.

use crate::helpers::{assert_problem, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::{Command, Output};

const PIN: &str = "Pin13legacy";

/// `openssl pkcs12 -info` on `file` with the PIN (and `-legacy` when asked):
/// what openssl reports. openssl is needed: missing, the test fails.
fn pkcs12_info(file: &std::path::Path, legacy: bool) -> Output {
    let path = file.to_string_lossy();
    let pass = format!("pass:{PIN}");
    let mut args = vec!["pkcs12", "-in", &path, "-info", "-nokeys", "-passin", &pass];
    if legacy {
        args.push("-legacy");
    }
    Command::new("openssl")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed by this test (.ci/run installs it): {e}"))
}

/// Prepares, authenticates and asks for a PKCS#12 with this body: the file.
async fn pkcs12(app: &TestApp, user: &str, body: Value) -> Vec<u8> {
    let created = app.prepare(user, "pw-13").await;
    let auth = app.auth(&created.one_time_url, "pw-13").await;
    let resp = app
        .http
        .post(format!("{}/pkcs12", created.one_time_url))
        .bearer_auth(&auth.session)
        .json(&body)
        .send()
        .await
        .expect("public");
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn a_legacy_file_opens_only_with_openssls_legacy_option_and_the_modern_one_without() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let legacy = dir.path().join("legacy.p12");
    let modern = dir.path().join("modern.p12");
    std::fs::write(
        &legacy,
        pkcs12(&app, "U1310", json!({"pin": PIN, "compat": "legacy"})).await,
    )
    .expect("write");
    std::fs::write(&modern, pkcs12(&app, "U1311", json!({"pin": PIN})).await).expect("write");

    let read = pkcs12_info(&legacy, true);
    let info = String::from_utf8_lossy(&read.stderr).into_owned();
    let certs = String::from_utf8_lossy(&read.stdout).into_owned();
    assert!(read.status.success(), "openssl -legacy reads it: {info}");
    eprintln!("openssl pkcs12 -info -legacy, legacy form:\n{info}");
    assert!(info.contains("MAC: sha1"), "{info}");
    assert!(
        info.contains("pbeWithSHA1And40BitRC2-CBC"),
        "certificates under RC2-40: {info}"
    );
    assert!(
        info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"),
        "the key under 3DES: {info}"
    );
    assert!(
        certs.contains("CN = U1310") || certs.contains("CN=U1310"),
        "{certs}"
    );
    assert!(
        certs.contains("NEC Certification Authority"),
        "the root too: {certs}"
    );

    let refused = pkcs12_info(&legacy, false);
    let why = String::from_utf8_lossy(&refused.stderr).into_owned();
    eprintln!("openssl pkcs12 -info without -legacy, legacy form:\n{why}");
    assert!(
        !refused.status.success(),
        "OpenSSL 3 needs -legacy for RC2: {why}"
    );
    assert!(why.contains("RC2") || why.contains("unsupported"), "{why}");

    let read = pkcs12_info(&modern, false);
    let info = String::from_utf8_lossy(&read.stderr).into_owned();
    assert!(read.status.success(), "{info}");
    eprintln!("openssl pkcs12 -info, modern form:\n{info}");
    assert!(
        info.contains("AES-256-CBC") && info.contains("MAC: sha256"),
        "{info}"
    );
    assert!(
        !info.contains("RC2") && !info.contains("3-KeyTripleDES"),
        "{info}"
    );

    let wrong = Command::new("openssl")
        .args([
            "pkcs12",
            "-in",
            &legacy.to_string_lossy(),
            "-info",
            "-nokeys",
            "-legacy",
            "-passin",
            "pass:WrongPin",
        ])
        .output()
        .expect("openssl");
    assert!(!wrong.status.success(), "a wrong PIN does not open it");
}

#[tokio::test]
async fn the_profile_sets_the_default_form_and_an_unknown_form_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(crate::helpers::fixtures().join("profiles/webra2.toml"))
        .expect("profile");
    let text = text.replace("compat = \"modern\"", "compat = \"legacy\"");
    let profile = dir.path().join("legacy.toml");
    std::fs::write(&profile, text).expect("write");
    let settings = webra2_mock::Settings {
        profile: profile.to_string_lossy().into_owned(),
        ..webra2_mock::Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, webra2_mock::Clock::real()).await;
    let auth = {
        let created = app.prepare("U1312", "pw-13").await;
        let auth = app.auth(&created.one_time_url, "pw-13").await;
        assert_eq!(auth.pkcs12_compat, Some(webra2_wire::Pkcs12Compat::Legacy));
        (created, auth)
    };
    let post = |body: Value| {
        app.http
            .post(format!("{}/pkcs12", auth.0.one_time_url))
            .bearer_auth(&auth.1.session)
            .json(&body)
            .send()
    };
    assert_problem(
        post(json!({"pin": PIN, "compat": "old"}))
            .await
            .expect("public"),
        400,
        "bad-request",
    )
    .await;
    assert_problem(
        post(json!({"pin": "pin with spaces"}))
            .await
            .expect("public"),
        400,
        "bad-request",
    )
    .await;
    let (_, view) = app
        .admin_get(&format!("/admin/enrollments/{}", auth.0.enrollment_id))
        .await;
    assert_eq!(view["state"], "authenticated", "nothing changed");

    let resp = post(json!({"pin": PIN})).await.expect("public");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let file = dir.path().join("default.p12");
    std::fs::write(&file, resp.bytes().await.expect("body")).expect("write");
    assert!(
        !pkcs12_info(&file, false).status.success(),
        "the profile's default is legacy"
    );
    assert!(pkcs12_info(&file, true).status.success());
}

#[tokio::test]
async fn the_form_of_a_browser_without_javascript_chooses_the_legacy_file_too() {
    let app = TestApp::spawn().await;
    let created = app.prepare("U1313", "pw-13").await;
    let auth = app.auth(&created.one_time_url, "pw-13").await;
    let resp = app
        .http
        .post(format!("{}/pkcs12", created.one_time_url))
        .bearer_auth(&auth.session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("pin={PIN}&compat=legacy"))
        .send()
        .await
        .expect("public");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("form.p12");
    std::fs::write(&file, resp.bytes().await.expect("body")).expect("write");
    assert!(
        !pkcs12_info(&file, false).status.success(),
        "legacy: refused without -legacy"
    );
    assert!(pkcs12_info(&file, true).status.success());
}
