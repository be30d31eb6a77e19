//! The client library against the real mock, in-process: every step of the
//! manual, the report as a snapshot, and the checks noticing a changed CA.

use crate::helpers::TestApp;
use crate::redact::Redactor;
use serde_json::{json, Value};
use time::macros::datetime;
use webra2_client::{e2e, CertFormat, E2eOptions, KeySpec, NoProgress, Report, Status};
use webra2_mock::{Clock, Settings};

fn options(app: &TestApp, user: &str, store: &std::path::Path) -> E2eOptions {
    let mut opts = E2eOptions::new(app.admin_url.clone(), user);
    opts.store_dir = Some(store.to_path_buf());
    opts.auth_password = Some("auth-pw-1".into());
    opts.pin = Some("Pin1234".into());
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

/// The report made deterministic in the one place that does it.
fn redacted(report: &Report, store: &std::path::Path) -> Value {
    let mut r = Redactor::new().known(store.display().to_string(), "[store]");
    if let Some(serial) = &report.serial {
        r = r.known(serial.clone(), "[serial]");
    }
    r.json(&serde_json::to_value(report).expect("report serialises"))
}

/// The installed certificate's fields, parsed: what a reviewer needs to see
/// change when the CA changes what it issues.
fn certificate_fields(der: &[u8]) -> Value {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).expect("certificate");
    let extensions: Vec<Value> = cert
        .extensions()
        .iter()
        .map(|e| {
            let value = match e.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    json!({"ca": bc.ca, "path_len": bc.path_len_constraint})
                }
                ParsedExtension::KeyUsage(ku) => json!(ku.to_string()),
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    json!({"client_auth": eku.client_auth, "server_auth": eku.server_auth})
                }
                ParsedExtension::CRLDistributionPoints(_) => json!("[crl url]"),
                ParsedExtension::AuthorityInfoAccess(aia) => json!(aia
                    .accessdescs
                    .iter()
                    .map(|d| {
                        let location = match &d.access_location {
                            // The public listener's port changes: keep the path.
                            GeneralName::URI(uri) => {
                                let path = uri.splitn(4, '/').nth(3).unwrap_or_default();
                                format!("[public]/{path}")
                            }
                            other => format!("{other:?}"),
                        };
                        json!({"method": d.access_method.to_id_string(), "location": location})
                    })
                    .collect::<Vec<_>>()),
                ParsedExtension::SubjectKeyIdentifier(_) => json!("[key id]"),
                ParsedExtension::AuthorityKeyIdentifier(_) => json!("[root key id]"),
                other => json!(format!("{other:?}")),
            };
            json!({"oid": e.oid.to_id_string(), "critical": e.critical, "value": value})
        })
        .collect();
    let key_bits = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => rsa.key_size(),
        _ => 0,
    };
    json!({
        "version": cert.version().0 + 1,
        "serial": "[serial]",
        "subject": cert.subject().to_string(),
        "issuer": cert.issuer().to_string(),
        // Times are asserted by the tests themselves; the snapshot holds the shape.
        "not_before": "[time]",
        "not_after": "[time]",
        "signature_algorithm": cert.signature_algorithm.algorithm.to_id_string(),
        "key_algorithm": cert.public_key().algorithm.algorithm.to_id_string(),
        "key_bits": key_bits,
        "extensions": extensions,
    })
}

#[tokio::test]
async fn the_client_walks_every_step_of_the_manual_and_its_report_is_stable() {
    let app = TestApp::spawn_at(datetime!(2026-11-25 09:00 +09:00)).await;
    let store = tempfile::tempdir().expect("tempdir");
    let report = e2e(&options(&app, "U0001", store.path()), &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
    for id in ["1", "2", "3-1", "3-A", "3-B", "3-C", "3-D", "3-E", "4"] {
        let step = report.step(id).unwrap_or_else(|| panic!("step {id}"));
        assert_eq!(step.status, Status::Pass, "{}", step.line());
    }
    assert_eq!(report.not_after, Some(datetime!(2028-11-25 09:00 +09:00)));
    insta::assert_json_snapshot!(
        "client_report_new_issuance",
        redacted(&report, store.path())
    );
    let serial = report.serial.as_deref().expect("serial");
    let pem =
        std::fs::read(store.path().join(format!("personal/{serial}.crt.pem"))).expect("installed");
    let der = ::pem::parse(pem).expect("PEM").into_contents();
    insta::assert_json_snapshot!("issued_certificate_fields", certificate_fields(&der));
}

#[tokio::test]
async fn each_certificate_format_is_installed_and_confirmed() {
    for format in [CertFormat::Pem, CertFormat::Der, CertFormat::P7c] {
        let app = TestApp::spawn().await;
        let store = tempfile::tempdir().expect("tempdir");
        let mut opts = options(&app, "U0010", store.path());
        opts.checks.format = format;
        let report = e2e(&opts, &NoProgress).await;
        assert!(report.ok, "{format:?}: {:#?}", failed(&report));
    }
}

#[tokio::test]
async fn under_the_modern_profile_the_client_follows_what_the_site_shows() {
    let settings = Settings {
        profile: "modern".into(),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, Clock::real()).await;
    let store = tempfile::tempdir().expect("tempdir");
    let report = e2e(&options(&app, "M0001", store.path()), &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
    let step2 = report.step("2").expect("step 2");
    assert!(step2.detail.contains("rsa-2048"), "{}", step2.detail);

    let mut opts = options(&app, "M0002", store.path());
    opts.checks.key_type = Some(KeySpec::EcdsaP384);
    let report = e2e(&opts, &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
}

#[tokio::test]
async fn a_service_clock_years_ahead_still_confirms_over_mutual_tls() {
    let app = TestApp::spawn_at(datetime!(2031-06-01 12:00 +09:00)).await;
    let store = tempfile::tempdir().expect("tempdir");
    let report = e2e(&options(&app, "U0011", store.path()), &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
    assert_eq!(report.not_before, Some(datetime!(2031-06-01 12:00 +09:00)));
}

#[tokio::test]
async fn a_mail_on_29_february_is_checked_against_28_february_two_years_on() {
    let app = TestApp::spawn_at(datetime!(2024-03-05 10:00 +09:00)).await;
    let store = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&app, "U0012", store.path());
    opts.mail_sent_at = Some(datetime!(2024-02-29 10:00 +09:00));
    let report = e2e(&opts, &NoProgress).await;
    assert!(report.ok, "{:#?}", failed(&report));
    assert!(report
        .step("3-D")
        .expect("3-D")
        .detail
        .contains("2026/02/28"));
}

/// A CA whose validity rule changed (two years from issuance instead of from
/// the mail) is caught by check (D): a profile file alone simulates the change.
#[tokio::test]
async fn a_ca_that_counts_validity_from_issuance_fails_check_d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let builtin = std::fs::read_to_string(crate::helpers::fixtures().join("profiles/webra2.toml"))
        .expect("profile");
    let changed = builtin.replace("anchor = \"mail_sent_at\"", "anchor = \"issued_at\"");
    assert_ne!(builtin, changed, "the fixture names its anchor");
    let path = dir.path().join("issued-at.toml");
    std::fs::write(&path, changed).expect("write");
    let settings = Settings {
        profile: path.display().to_string(),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, Clock::fixed(datetime!(2026-12-20 10:00 +09:00))).await;
    let store = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&app, "U0013", store.path());
    opts.mail_sent_at = Some(datetime!(2026-11-25 09:00 +09:00));
    let report = e2e(&opts, &NoProgress).await;
    assert!(!report.ok);
    let d = report.step("3-D").expect("3-D");
    assert_eq!(d.status, Status::Fail, "{}", d.line());
    assert!(
        d.detail.contains("2028/12/20") && d.detail.contains("2028/11/25"),
        "{}",
        d.detail
    );
    assert_eq!(failed(&report).len(), 1, "only (D): {:#?}", failed(&report));
}

#[tokio::test]
async fn a_wrong_password_fails_step_1_with_the_attempts_left_and_installs_nothing() {
    let app = TestApp::spawn().await;
    let created = app.prepare("U0014", "the-right-one").await;
    let store = tempfile::tempdir().expect("tempdir");
    let opts =
        webra2_client::IssueOptions::new(created.one_time_url, "wrong", "Pin1234", store.path());
    let report = webra2_client::issue(&opts, &NoProgress).await;
    assert!(!report.ok);
    let step1 = report.step("1").expect("step 1");
    assert_eq!(step1.status, Status::Fail);
    assert!(
        step1.detail.contains("wrong-password") && step1.detail.contains('4'),
        "{}",
        step1.detail
    );
    assert!(
        !store.path().join("personal").exists()
            || std::fs::read_dir(store.path().join("personal"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0
    );
}
