//! The certificate's life after the first issuance, server in-process and the
//! client library against it: renewal, revocation and the CRL, re-issue after a
//! lost PIN, the PKCS#12 path, the no-root path and the certificate formats.
//! Each path's report is a snapshot, redacted by [`crate::redact::Redactor`].

use crate::helpers::{assert_problem, fixtures, TestApp};
use crate::redact::Redactor;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use webra2_client::{
    e2e, reissue, CertFormat, ClientKey, E2eOptions, Kind, NoProgress, ReissueOptions, Report,
    Status,
};

const PIN: &str = "Pin1234";

fn options(app: &TestApp, user: &str, store: &Path) -> E2eOptions {
    let mut opts = E2eOptions::new(app.admin_url.clone(), user);
    opts.store_dir = Some(store.to_path_buf());
    opts.auth_password = Some("auth-pw-1".into());
    opts.pin = Some(PIN.into());
    opts
}

fn failed(report: &Report) -> Vec<String> {
    report
        .steps
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| s.line())
        .collect()
}

async fn issued(opts: &E2eOptions) -> Report {
    let report = e2e(opts, &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
    report
}

fn status(report: &Report, id: &str) -> Status {
    report
        .step(id)
        .unwrap_or_else(|| panic!("step {id} in {:#?}", report.steps))
        .status
}

/// The report's step lines and serials, with everything that changes redacted.
fn snapshot(report: &Report, app: &TestApp, stores: &[&Path]) -> Value {
    let mut r = Redactor::new()
        .known(app.public_url.clone(), "[public]")
        .known(app.admin_url.clone(), "[admin]")
        .known(app.confirm_url.clone(), "[confirm]");
    for (i, store) in stores.iter().enumerate() {
        r = r.known(store.display().to_string(), format!("[store{i}]"));
    }
    let lines: Vec<String> = report.steps.iter().map(|s| s.line()).collect();
    r.json(&json!({
        "ok": report.ok,
        "steps": lines,
        "serial": report.serial,
        "previous_serial": report.previous_serial,
    }))
}

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

pub(crate) async fn get_crl(app: &TestApp) -> Vec<u8> {
    let resp = app
        .http
        .get(format!("{}/ca/crl", app.public_url))
        .send()
        .await
        .expect("public reachable");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pkix-crl")
    );
    resp.bytes().await.expect("body").to_vec()
}

pub(crate) fn crl_number_and_serials(der: &[u8]) -> (u64, Vec<String>) {
    use x509_parser::prelude::FromDer;
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(der)
        .expect("the CRL parses");
    let number = crl
        .crl_number()
        .and_then(|n| u64::try_from(n.clone()).ok())
        .expect("a CRL number");
    let serials = crl
        .iter_revoked_certificates()
        .map(|r| webra2_wire::serial_hex(r.raw_serial()))
        .collect();
    (number, serials)
}

/// openssl verifies the CRL with the root and lists `serial` in its text.
fn openssl_checks_crl(der: &[u8], serial: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let crl = dir.path().join("root.crl");
    std::fs::write(&crl, der).expect("write CRL");
    let root = fixtures().join("root.cert.pem");
    let verify = openssl(&[
        "crl",
        "-CAfile",
        path_str(&root),
        "-inform",
        "DER",
        "-in",
        path_str(&crl),
        "-noout",
    ]);
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && said.contains("verify OK"),
        "{said}"
    );
    let text = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        path_str(&crl),
        "-noout",
        "-text",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(serial), "{serial} in {text}");
}

/// `GET /confirm` presenting the certificate installed in `store` under `serial`.
async fn confirm_with(app: &TestApp, store: &Path, serial: &str) -> reqwest::Response {
    let root = pem::parse(std::fs::read(fixtures().join("root.cert.pem")).expect("root"))
        .expect("root PEM")
        .into_contents();
    let leaf =
        pem::parse(std::fs::read(store.join(format!("personal/{serial}.crt.pem"))).expect("cert"))
            .expect("cert PEM")
            .into_contents();
    let key_pem =
        std::fs::read_to_string(store.join(format!("personal/{serial}.key.pem"))).expect("key");
    let key = ClientKey::decrypt_pem(&key_pem, PIN).expect("the PIN opens the key");
    let chain = vec![leaf.into(), root.clone().into()];
    let config = webra2_client::tls::client_config(&root, chain, &key).expect("TLS config");
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .expect("client")
        .get(&app.confirm_url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("the handshake completes: revocation is an HTTP answer")
}

#[tokio::test]
async fn a_renewal_issues_a_new_certificate_and_the_report_names_both_serials() {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = issued(&options(&app, "U0101", tmp.path())).await;
    let old = first.serial.clone().expect("serial");

    let mut opts = options(&app, "U0101", tmp.path());
    opts.kind = Kind::Renew;
    let renewed = issued(&opts).await;
    assert_eq!(renewed.previous_serial.as_deref(), Some(old.as_str()));
    let new = renewed.serial.clone().expect("serial");
    assert_ne!(new, old);
    assert!(renewed
        .step("0-3")
        .expect("site")
        .detail
        .contains("証明書更新サイト"));

    // By default the renewed certificate stays valid, and the enrollment names it.
    let (_, view) = app.admin_get(&format!("/admin/certificates/{old}")).await;
    assert_eq!(view["status"], "valid");
    let (_, view) = app.admin_get(&format!("/admin/certificates/{new}")).await;
    let id = view["enrollment_id"]
        .as_str()
        .expect("enrollment id")
        .to_owned();
    let (_, enrollment) = app.admin_get(&format!("/admin/enrollments/{id}")).await;
    assert_eq!(enrollment["renews_serial"], old.as_str());
    assert_eq!(enrollment["kind"], "renew");
    insta::assert_json_snapshot!("renewal_report", snapshot(&renewed, &app, &[tmp.path()]));
}

#[tokio::test]
async fn a_renewal_prepared_to_revoke_the_previous_revokes_it_as_superseded_and_the_crl_lists_it() {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = issued(&options(&app, "U0102", tmp.path()))
        .await
        .serial
        .expect("serial");
    let mut opts = options(&app, "U0102", tmp.path());
    opts.kind = Kind::Renew;
    opts.revoke_previous = true;
    let renewed = issued(&opts).await;

    let (_, view) = app.admin_get(&format!("/admin/certificates/{old}")).await;
    assert_eq!(view["status"], "revoked");
    assert_eq!(view["reason"], "superseded");
    let new = renewed.serial.expect("serial");
    let (_, view) = app.admin_get(&format!("/admin/certificates/{new}")).await;
    assert_eq!(view["status"], "valid");
    let (_, serials) = crl_number_and_serials(&get_crl(&app).await);
    assert_eq!(serials, vec![old.clone()]);
    openssl_checks_crl(&get_crl(&app).await, &old);
}

#[tokio::test]
async fn revoke_previous_on_a_first_issuance_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let resp = app
        .post_enrollment(&json!({"user_id": "U0103", "email": "u@example.test",
            "auth_password": "pw", "revoke_previous": true}))
        .await;
    assert_problem(resp, 400, "bad-request").await;
}

#[tokio::test]
async fn the_crl_is_signed_by_the_root_named_in_every_certificate_and_its_number_grows_with_each_revocation(
) {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (n0, listed) = crl_number_and_serials(&get_crl(&app).await);
    assert!(listed.is_empty());
    let (again, _) = crl_number_and_serials(&get_crl(&app).await);
    assert_eq!(again, n0, "an unchanged CRL keeps its number");

    let report = issued(&options(&app, "U0104", tmp.path())).await;
    let serial = report.serial.expect("serial");
    let leaf = std::fs::read(tmp.path().join(format!("personal/{serial}.crt.pem"))).expect("cert");
    let leaf = pem::parse(leaf).expect("PEM").into_contents();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).expect("cert");
    let cdp = format!("{:?}", cert.extensions());
    assert!(cdp.contains(&format!("{}/ca/crl", app.public_url)), "{cdp}");

    let revoke = |reason: &'static str| {
        app.http
            .post(format!(
                "{}/admin/certificates/{serial}/revoke",
                app.admin_url
            ))
            .json(&json!({ "reason": reason }))
            .send()
    };
    assert_eq!(
        revoke("keyCompromise").await.expect("admin").status(),
        StatusCode::OK
    );
    let crl = get_crl(&app).await;
    let (n1, listed) = crl_number_and_serials(&crl);
    assert!(n1 > n0, "{n1} > {n0}");
    assert_eq!(listed, vec![serial.clone()]);
    openssl_checks_crl(&crl, &serial);

    assert_problem(
        revoke("superseded").await.expect("admin"),
        409,
        "already-revoked",
    )
    .await;
    let (n2, _) = crl_number_and_serials(&get_crl(&app).await);
    assert_eq!(n2, n1, "a refused revocation changes nothing");
    let (_, view) = app
        .admin_get(&format!("/admin/certificates/{serial}"))
        .await;
    assert_eq!(view["reason"], "keyCompromise");
}

#[tokio::test]
async fn after_a_lost_pin_the_reissue_revokes_the_old_certificate_which_the_confirmation_page_refuses_while_the_new_one_passes(
) {
    let app = TestApp::spawn().await;
    let (old_store, new_store) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let old = issued(&options(&app, "U0105", old_store.path()))
        .await
        .serial
        .expect("serial");
    let ok = confirm_with(&app, old_store.path(), &old).await;
    assert_eq!(
        ok.status(),
        StatusCode::OK,
        "before the revocation the old one passes"
    );

    let mut opts = ReissueOptions::new(app.admin_url.clone(), "U0105");
    opts.e2e = options(&app, "U0105", new_store.path());
    opts.reason = "keyCompromise".into();
    let report = reissue(&opts, &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
    assert_eq!(report.previous_serial.as_deref(), Some(old.as_str()));
    let new = report.serial.clone().expect("serial");
    assert_ne!(new, old);
    assert_eq!(status(&report, "R-1"), Status::Pass);
    assert_eq!(status(&report, "R-2"), Status::Pass);

    let refused = confirm_with(&app, old_store.path(), &old).await;
    assert_problem(refused, 403, "certificate-revoked").await;
    let passes = confirm_with(&app, new_store.path(), &new).await;
    assert_eq!(passes.status(), StatusCode::OK);
    let body: Value = passes.json().await.expect("JSON");
    assert_eq!(body["serial"], new.as_str());
    insta::assert_json_snapshot!(
        "reissue_report",
        snapshot(&report, &app, &[old_store.path(), new_store.path()])
    );
}

#[tokio::test]
async fn the_pkcs12_path_gives_a_file_openssl_opens_with_the_pin_only_and_the_client_confirms_with_it(
) {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&app, "U0106", tmp.path());
    opts.checks.pkcs12 = true;
    let report = issued(&opts).await;
    assert_eq!(status(&report, "4"), Status::Pass);
    let serial = report.serial.clone().expect("serial");
    let p12 = tmp.path().join(format!("personal/{serial}.p12"));
    assert!(p12.exists());
    let info = openssl(&[
        "pkcs12",
        "-in",
        path_str(&p12),
        "-info",
        "-nokeys",
        "-passin",
        &format!("pass:{PIN}"),
    ]);
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let certs = String::from_utf8_lossy(&info.stdout);
    assert_eq!(
        certs.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf and root: {certs}"
    );
    let said = String::from_utf8_lossy(&info.stderr);
    assert!(
        said.contains("AES-256-CBC") && said.contains("sha256"),
        "{said}"
    );
    let wrong = openssl(&[
        "pkcs12",
        "-in",
        path_str(&p12),
        "-info",
        "-nokeys",
        "-passin",
        "pass:wrong-pin",
    ]);
    assert!(!wrong.status.success());
    insta::assert_json_snapshot!("pkcs12_report", snapshot(&report, &app, &[tmp.path()]));
}

#[tokio::test]
async fn a_pin_outside_the_manuals_rule_is_refused_in_its_words_and_leaves_the_url_usable() {
    let app = TestApp::spawn().await;
    let created = app.prepare("U0107", "pw-7").await;
    let url = created.one_time_url;
    let auth = app.auth(&url, "pw-7").await;
    let post = |pin: &'static str| {
        app.http
            .post(format!("{url}/pkcs12"))
            .bearer_auth(&auth.session)
            .json(&json!({ "pin": pin }))
            .send()
    };
    // The manual: half-width alphanumerics, case-sensitive, no length set (webra2: 1 to 1024).
    let words = webra2_wire::PinRule {
        min_chars: 1,
        max_chars: 1024,
    }
    .describe();
    for bad in ["", "12 3", "pin-1234", "ピン"] {
        let problem = assert_problem(post(bad).await.expect("public"), 400, "bad-request").await;
        assert_eq!(problem["detail"], words.as_str(), "{bad:?}");
    }
    let (_, view) = app
        .admin_get(&format!("/admin/enrollments/{}", created.enrollment_id))
        .await;
    assert_eq!(view["state"], "authenticated", "nothing changed");

    let resp = post("7").await.expect("public");
    assert_eq!(resp.status(), StatusCode::CREATED, "one character is a PIN");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-pkcs12")
    );
    let serial = resp
        .headers()
        .get("x-webra2-serial")
        .and_then(|v| v.to_str().ok())
        .expect("serial")
        .to_owned();
    let (_, view) = app
        .admin_get(&format!("/admin/enrollments/{}", created.enrollment_id))
        .await;
    assert_eq!(view["state"], "issued");
    assert_eq!(view["serial"], serial.as_str());
    assert_problem(post("7").await.expect("public"), 410, "url-already-used").await;
}

#[tokio::test]
async fn without_the_root_the_path_check_is_skipped_and_the_confirmation_needs_a_site_anchor() {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&app, "U0108", &tmp.path().join("a"));
    opts.checks.install_root = false;
    let report = issued(&opts).await;
    for id in ["3-1", "3-2", "3-E", "4"] {
        assert_eq!(status(&report, id), Status::Skip, "{id}");
    }
    assert!(report
        .step("3-E")
        .expect("3-E")
        .detail
        .contains("cannot be validated"));
    assert!(
        !tmp.path().join("a/trusted-roots").exists(),
        "no root installed"
    );
    insta::assert_json_snapshot!(
        "no_root_report",
        snapshot(&report, &app, &[&tmp.path().join("a")])
    );

    let mut opts = options(&app, "U0109", &tmp.path().join("b"));
    opts.checks.install_root = false;
    opts.checks.site_ca = Some(fixtures().join("root.cert.pem"));
    let report = issued(&opts).await;
    assert_eq!(status(&report, "4"), Status::Pass);
    assert_eq!(status(&report, "3-E"), Status::Skip);

    let mut opts = options(&app, "U0110", &tmp.path().join("c"));
    opts.checks.install_root = false;
    opts.checks.require_path = true;
    let report = e2e(&opts, &NoProgress).await;
    assert!(!report.ok);
    assert_eq!(failed(&report).len(), 1, "{:#?}", report.steps);
    assert_eq!(status(&report, "3-E"), Status::Fail);
}

async fn passes_with_format(format: CertFormat, user: &str) {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&app, user, tmp.path());
    opts.checks.format = format;
    let report = issued(&opts).await;
    let download = report.step("3-3").expect("3-3");
    assert_eq!(download.status, Status::Pass);
    let media = match format {
        CertFormat::Pem => "application/x-pem-file",
        CertFormat::Der => "application/pkix-cert",
        CertFormat::P7c => "application/pkcs7-mime",
    };
    assert!(download.detail.contains(media), "{}", download.detail);
    assert_eq!(status(&report, "4"), Status::Pass);
}

#[tokio::test]
async fn the_client_installs_a_pem_certificate() {
    passes_with_format(CertFormat::Pem, "U0111").await;
}

#[tokio::test]
async fn the_client_installs_a_der_certificate() {
    passes_with_format(CertFormat::Der, "U0112").await;
}

#[tokio::test]
async fn the_client_installs_a_pkcs7_certificate() {
    passes_with_format(CertFormat::P7c, "U0113").await;
}
