//! `webra2-client status CERT` against a running mock CA: the verdict and its
//! exit code for certificates of the factory in each state, and for one of
//! the untrusted root with the same name.

use crate::helpers::{bin, fixtures, TestApp};
use serde_json::{json, Value};
use std::process::Command;

async fn made_pem(
    app: &TestApp,
    dir: &std::path::Path,
    name: &str,
    order: Value,
) -> std::path::PathBuf {
    let resp = app
        .http
        .post(format!("{}/admin/certificates", app.admin_url))
        .header("accept", "application/json")
        .json(&order)
        .send()
        .await
        .expect("admin");
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.expect("JSON");
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, made["certificate_pem"].as_str().expect("PEM")).expect("write");
    path
}

fn status(cert: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(bin("webra2-client"))
        .arg("status")
        .arg(cert)
        .args(extra)
        .output()
        .expect("webra2-client runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_valid_revoked_unknown_or_expired_with_its_exit_code() {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let order =
        |state: &str| json!({"user_id": "ST0001", "pin": "Pin1234", "key": "p256", "state": state});

    let valid = made_pem(&app, tmp.path(), "valid", order("valid")).await;
    let (code, text) = status(&valid, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("OCSP {}/ocsp: good", app.public_url)),
        "{text}"
    );
    assert!(
        text.contains(&format!("CRL {}/ca/crl: good", app.public_url)),
        "{text}"
    );
    assert!(text.contains("status: valid"), "{text}");

    let mut revoked = order("revoked");
    revoked["reason"] = json!("keyCompromise");
    let revoked = made_pem(&app, tmp.path(), "revoked", revoked).await;
    let (code, text) = status(&revoked, &["--json"]);
    assert_eq!(code, 1, "{text}");
    let report: Value = serde_json::from_str(&text).expect("JSON report");
    assert_eq!(report["verdict"]["status"], "revoked");
    assert_eq!(report["verdict"]["reason"], "keyCompromise");
    assert_eq!(report["ocsp"]["answer"], "revoked");
    assert_eq!(report["crl"]["answer"], "revoked");
    assert_eq!(
        report["ocsp"]["at"], report["crl"]["at"],
        "one revocation time"
    );

    let expired = made_pem(&app, tmp.path(), "expired", order("expired")).await;
    let (code, text) = status(&expired, &[]);
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("status: expired"), "{text}");

    let mut untrusted = order("valid");
    untrusted["issuer"] = json!("untrusted");
    let untrusted = made_pem(&app, tmp.path(), "untrusted", untrusted).await;
    let root = fixtures().join("root.cert.pem");
    let (code, text) = status(&untrusted, &["--issuer", root.to_str().expect("utf8")]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("OCSP") && text.contains(": unknown"),
        "{text}"
    );
    assert!(text.contains("status: unknown"), "{text}");

    // A responder that answers tryLater, and no CRL: nobody vouches.
    let resp = app
        .http
        .put(format!("{}/admin/faults", app.admin_url))
        .json(&json!({"faults": [{"kind": "ocsp_try_later"}]}))
        .send()
        .await
        .expect("faults");
    assert_eq!(resp.status(), 200);
    let (code, text) = status(
        &valid,
        &["--crl-url", &format!("{}/nowhere", app.public_url)],
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("the responder answered tryLater"), "{text}");
    app.stop().await;
}
