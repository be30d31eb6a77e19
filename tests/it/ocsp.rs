//! The OCSP responder and AIA, checked from outside with `openssl ocsp` and
//! `openssl x509` against a running mock CA (real clock: openssl checks the
//! response times against its own): good, revoked with time and reason,
//! unknown for another CA's certificate, the nonce, GET and POST, malformed
//! requests, and every OCSP fault as a relying party sees it. (openssl runs
//! blocking, so the app needs worker threads of its own: multi-threaded tests.)

use crate::helpers::{fixture, fixtures, TestApp};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use webra2_wire::paths;

const PASSWORD: &str = "auth-pw-1";

/// Issues an RSA-1024 certificate through the site; returns its serial and PEM file.
async fn issue_leaf(app: &TestApp, user: &str, dir: &Path) -> (String, PathBuf) {
    let created = app.prepare(user, PASSWORD).await;
    let auth = app.auth(&created.one_time_url, PASSWORD).await;
    let issued = app
        .issue_fixture(&created.one_time_url, &auth.session, "csr/rsa1024.csr.pem")
        .await;
    let text = app
        .http
        .get(format!("{}?format=pem", issued.certificate_url))
        .bearer_auth(&auth.session)
        .send()
        .await
        .expect("certificate")
        .text()
        .await
        .expect("text");
    let leaf = ::pem::parse_many(&text).expect("PEM")[0].clone();
    let path = dir.join(format!("{user}.pem"));
    std::fs::write(&path, ::pem::encode(&leaf)).expect("write leaf");
    (issued.serial, path)
}

fn root() -> String {
    fixtures().join("root.cert.pem").display().to_string()
}

/// `openssl ocsp` asking the running responder about `leaf` issued by `issuer`.
fn openssl_ocsp(app: &TestApp, issuer: &str, leaf: &Path, extra: &[&str]) -> (bool, String) {
    let url = format!("{}{}", app.public_url, paths::OCSP);
    let leaf = leaf.display().to_string();
    let mut args = vec![
        "ocsp",
        "-issuer",
        issuer,
        "-cert",
        &leaf,
        "-url",
        &url,
        "-CAfile",
        issuer,
        "-resp_text",
    ];
    args.extend_from_slice(extra);
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl is needed for these tests (apt-get install openssl)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn put_faults(app: &TestApp, faults: serde_json::Value) {
    let resp = app
        .http
        .put(format!("{}/admin/faults", app.admin_url))
        .json(&json!({ "faults": faults }))
        .send()
        .await
        .expect("admin");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ocsp_says_good_then_revoked_with_time_and_reason() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let (serial, leaf) = issue_leaf(&app, "U0001", dir.path()).await;

    let (ok, text) = openssl_ocsp(&app, &root(), &leaf, &["-nonce"]);
    assert!(ok, "{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(
        text.contains(&format!("{}: good", leaf.display())),
        "{text}"
    );
    assert!(text.contains(&format!("Serial Number: {serial}")), "{text}");
    assert!(text.contains("OCSP Nonce"), "the nonce is echoed: {text}");
    assert!(!text.contains("WARNING"), "{text}");

    let resp = app
        .http
        .post(format!(
            "{}/admin/certificates/{serial}/revoke",
            app.admin_url
        ))
        .json(&json!({"reason": "keyCompromise"}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), 200);
    let view: serde_json::Value = resp.json().await.expect("view");
    let revoked_at = time::OffsetDateTime::parse(
        view["revoked_at"].as_str().expect("revoked_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let openssl_time = revoked_at
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
        ))
        .expect("format");

    let (ok, text) = openssl_ocsp(&app, &root(), &leaf, &[]);
    assert!(ok, "{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(
        text.contains(&format!("{}: revoked", leaf.display())),
        "{text}"
    );
    assert!(text.contains("Reason: keyCompromise"), "{text}");
    assert!(
        text.contains(&format!("Revocation Time: {openssl_time}")),
        "{openssl_time} in {text}"
    );

    let metrics = app.metrics().await;
    for line in [
        "webra2_ocsp_answers_total{answer=\"good\"} 1",
        "webra2_ocsp_answers_total{answer=\"revoked\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_cas_certificate_is_unknown_and_the_ocsp_uri_is_in_every_certificate() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let (_, leaf) = issue_leaf(&app, "U0002", dir.path()).await;

    let out = Command::new("openssl")
        .args(["x509", "-noout", "-ocsp_uri", "-in"])
        .arg(&leaf)
        .output()
        .expect("openssl");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{}/ocsp", app.public_url)
    );
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "authorityInfoAccess", "-in"])
        .arg(&leaf)
        .output()
        .expect("openssl");
    let aia = String::from_utf8_lossy(&out.stdout);
    assert!(
        aia.contains(&format!("CA Issuers - URI:{}/ca/root.crt", app.public_url)),
        "{aia}"
    );

    // Another CA (same subject name as ours, its own key) and a certificate of it.
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "NEC Certification Authority");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_key = rcgen::KeyPair::generate().expect("key");
    let other = params.self_signed(&other_key).expect("other root");
    let other_issuer = rcgen::Issuer::new(params, other_key);
    let mut leaf_params = rcgen::CertificateParams::new(vec!["other.test".into()]).expect("params");
    leaf_params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x42; 16]));
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let other_leaf = leaf_params
        .signed_by(&leaf_key, &other_issuer)
        .expect("other leaf");
    let other_root_path = dir.path().join("other-root.pem");
    std::fs::write(&other_root_path, other.pem()).expect("write");
    let other_leaf_path = dir.path().join("other-leaf.pem");
    std::fs::write(&other_leaf_path, other_leaf.pem()).expect("write");

    // Asked about with the other CA as issuer: unknown. openssl would not take
    // our responder as authorised for the other CA (rightly), so its chain
    // checks are off here; the signature is still verified.
    let url = format!("{}/ocsp", app.public_url);
    let out = Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(&other_root_path)
        .arg("-cert")
        .arg(&other_leaf_path)
        .args([
            "-url",
            &url,
            "-CAfile",
            &root(),
            "-no_cert_checks",
            "-resp_text",
        ])
        .output()
        .expect("openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(
        text.contains(&format!("{}: unknown", other_leaf_path.display())),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_post_answer_alike_and_malformed_requests_are_an_ocsp_status() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let (serial, leaf) = issue_leaf(&app, "U0003", dir.path()).await;
    let req = dir.path().join("req.der");
    let out = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer", &root(), "-cert"])
        .arg(&leaf)
        .arg("-reqout")
        .arg(&req)
        .output()
        .expect("openssl");
    assert!(out.status.success());
    let der = std::fs::read(&req).expect("request");

    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    for url in [
        format!("{}{}", app.public_url, paths::fill(paths::OCSP_GET, &b64)),
        // As some clients send it: the '/' of the base64 left unescaped.
        format!("{}/ocsp/{}", app.public_url, b64.replace('+', "%2B")),
    ] {
        let resp = app.http.get(&url).send().await.expect("GET");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/ocsp-response");
        let body = resp.bytes().await.expect("body");
        let path = dir.path().join("get.der");
        std::fs::write(&path, &body).expect("write");
        let out = Command::new("openssl")
            .args(["ocsp", "-respin"])
            .arg(&path)
            .args(["-CAfile", &root(), "-resp_text"])
            .output()
            .expect("openssl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("Response verify OK"), "{url}: {text}");
        assert!(text.contains(&format!("Serial Number: {serial}")), "{text}");
        assert!(text.contains("Cert Status: good"), "{text}");
    }

    // malformedRequest: OCSPResponse { responseStatus 1 }, with HTTP 200.
    let malformed = [0x30, 0x03, 0x0A, 0x01, 0x01];
    for body in [
        b"garbage".to_vec(),
        Vec::new(),
        fixture("root.cert.pem"),
        der[..der.len() / 2].to_vec(),
    ] {
        let resp = app
            .http
            .post(format!("{}/ocsp", app.public_url))
            .header("content-type", "application/ocsp-request")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.bytes().await.expect("body").as_ref(), malformed);
    }
    for junk in ["!!!", "AAAA", "%FF%FE"] {
        let resp = app
            .http
            .get(format!("{}/ocsp/{junk}", app.public_url))
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status(), 200, "{junk}");
        assert_eq!(
            resp.bytes().await.expect("body").as_ref(),
            malformed,
            "{junk}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ocsp_fault_is_seen_by_openssl() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let (_, leaf) = issue_leaf(&app, "U0004", dir.path()).await;

    // (openssl only warns of a stale answer, and exits 0: the message is what counts.)
    for (fault, expect, fails) in [
        (
            json!({"kind": "ocsp_try_later"}),
            "Responder Error: trylater (3)",
            true,
        ),
        (
            json!({"kind": "ocsp_internal_error"}),
            "Responder Error: internalerror (2)",
            true,
        ),
        (
            json!({"kind": "ocsp_unauthorized"}),
            "Responder Error: unauthorized (6)",
            true,
        ),
        (
            json!({"kind": "ocsp_stale"}),
            "WARNING: Status times invalid.",
            false,
        ),
        (
            json!({"kind": "ocsp_wrong_key"}),
            "Response Verify Failure",
            true,
        ),
        (
            json!({"kind": "ocsp_wrong_nonce"}),
            "Nonce Verify error",
            true,
        ),
        (
            json!({"route": "/ocsp", "truncate_body": 40}),
            "Error querying OCSP responder",
            true,
        ),
    ] {
        put_faults(&app, json!([fault.clone()])).await;
        let (ok, text) = openssl_ocsp(&app, &root(), &leaf, &["-nonce"]);
        assert_eq!(ok, !fails, "{fault}: {text}");
        assert!(text.contains(expect), "{fault}: {expect:?} not in {text}");
        if fault["kind"] == "ocsp_stale" {
            assert!(text.contains("status expired"), "{text}");
        }
        // Once cleared, the same question is answered truly again.
        put_faults(&app, json!([])).await;
        let (ok, text) = openssl_ocsp(&app, &root(), &leaf, &["-nonce"]);
        assert!(ok && text.contains(": good"), "{fault}, cleared: {text}");
    }

    // Added latency: longer than the relying party waits.
    put_faults(&app, json!([{"route": "/ocsp", "latency_ms": 3000}])).await;
    let started = std::time::Instant::now();
    let (ok, text) = openssl_ocsp(&app, &root(), &leaf, &["-timeout", "1"]);
    assert!(!ok, "{text}");
    assert!(text.contains("transfer timeout"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_millis(2900));
    put_faults(&app, json!([])).await;
    app.stop().await;
}
