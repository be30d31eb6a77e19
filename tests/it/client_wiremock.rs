//! The client library against wiremock servers playing a misbehaving CA: every
//! answer the manual's steps can get wrong must become a clear FAIL line, and a
//! failure before installation must leave the store empty.
//!
//! The "good" parts of the mock issue real certificates with rcgen under the
//! fixture root, so the client's checks run against genuine X.509.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;
use time::{Duration, OffsetDateTime, UtcOffset};
use webra2_client::{issue, CertFormat, IssueOptions, NoProgress, Report, Status};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use x509_parser::prelude::FromDer;

const ROOT_CERT_PEM: &str = include_str!("../../fixtures/root.cert.pem");
const ROOT_KEY_PEM: &str = include_str!("../../fixtures/root.key.pem");
const ROOT_SHA1: &str = include_str!("../../fixtures/root.sha1");
const TOKEN: &str = "/issue/T0K3N";
const SERIAL: [u8; 8] = [0x1A, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81];
const SERIAL_HEX: &str = "1A2B3C4D5E6F7081";
const PIN: &str = "8642";

fn jst() -> UtcOffset {
    UtcOffset::from_hms(9, 0, 0).expect("+09:00")
}

fn root_der() -> Vec<u8> {
    pem::parse(ROOT_CERT_PEM)
        .expect("fixture root is PEM")
        .into_contents()
}

/// The mail date the tests prepare with: ten days ago, at 09:00 in Japan.
fn mail_sent_at() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc().to_offset(jst()) - Duration::days(10);
    now.replace_time(time::Time::from_hms(9, 0, 0).expect("09:00"))
}

/// The mock's own two-year rule, written apart from the client's so each checks
/// the other.
fn two_years_after(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(jst());
    at.replace_year(at.year() + 2)
        .or_else(|_| {
            at.replace_day(28)
                .and_then(|d| d.replace_year(at.year() + 2))
        })
        .expect("a date two years on")
}

fn problem(status: u16, slug: &str, title: &str, detail: &str) -> ResponseTemplate {
    problem_with(status, json!({}), slug, title, detail)
}

fn problem_with(
    status: u16,
    extra: serde_json::Value,
    slug: &str,
    title: &str,
    detail: &str,
) -> ResponseTemplate {
    let mut body = json!({
        "type": format!("urn:webra2-mock:problem:{slug}"),
        "title": title,
        "status": status,
        "detail": detail,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    ResponseTemplate::new(status).set_body_raw(
        serde_json::to_vec(&body).expect("problem serialises"),
        "application/problem+json",
    )
}

fn auth_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "session": "sess-1",
        "csp": "Microsoft Enhanced Cryptographic Provider v1.0",
        "key_length": 1024,
        "accepted_keys": ["rsa-1024"],
    }))
}

/// Issues a real certificate for the request's key, under the fixture root.
struct IssuingCa {
    issued: Arc<Mutex<Option<Vec<u8>>>>,
    /// `true`: notAfter counted from the issuance instead of the mail (a bug).
    from_issuance: bool,
}

impl IssuingCa {
    fn issue(&self, body: &[u8]) -> Result<serde_json::Value, String> {
        let block = pem::parse(body).map_err(|e| e.to_string())?;
        let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(
            block.contents(),
        )
        .map_err(|e| e.to_string())?;
        // rcgen would verify the request through ring, which refuses RSA-1024.
        let spki =
            rcgen::SubjectPublicKeyInfo::from_der(csr.certification_request_info.subject_pki.raw)
                .map_err(|e| e.to_string())?;
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .map_err(|e| e.to_string())?;
        let not_after = if self.from_issuance {
            two_years_after(now)
        } else {
            two_years_after(mail_sent_at())
        };
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "U0001");
        params.not_before = now;
        params.not_after = not_after;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&SERIAL));
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let key = rcgen::KeyPair::from_pem(ROOT_KEY_PEM).map_err(|e| e.to_string())?;
        let issuer =
            rcgen::Issuer::from_ca_cert_pem(ROOT_CERT_PEM, key).map_err(|e| e.to_string())?;
        let cert = params
            .signed_by(&spki, &issuer)
            .map_err(|e| e.to_string())?;
        *self.issued.lock().map_err(|e| e.to_string())? = Some(cert.der().to_vec());
        let rfc3339 = |t: OffsetDateTime| {
            t.to_offset(jst())
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| e.to_string())
        };
        Ok(json!({
            "serial": SERIAL_HEX,
            "certificate_url": format!("{TOKEN}/certificate"),
            "root_url": "/ca/root.crt",
            "not_before": rfc3339(now)?,
            "not_after": rfc3339(not_after)?,
        }))
    }
}

impl Respond for IssuingCa {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.issue(&request.body) {
            Ok(issued) => ResponseTemplate::new(201).set_body_json(issued),
            Err(e) => problem(400, "bad-csr", "Not a certificate request", &e),
        }
    }
}

/// Serves the certificate issued last, in the format asked for.
struct CertificateDownload(Arc<Mutex<Option<Vec<u8>>>>);

impl Respond for CertificateDownload {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let issued = self.0.lock().ok().and_then(|g| g.clone());
        let Some(der) = issued else {
            return problem(404, "not-found", "Not found", "nothing issued yet");
        };
        let format = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "format")
            .map(|(_, v)| v.into_owned());
        match format.as_deref() {
            Some("der") => ResponseTemplate::new(200).set_body_raw(der, "application/pkix-cert"),
            _ => {
                let chain = pem::encode_many(&[
                    pem::Pem::new("CERTIFICATE", der),
                    pem::Pem::new("CERTIFICATE", root_der()),
                ]);
                ResponseTemplate::new(200).set_body_raw(chain, "application/x-pem-file")
            }
        }
    }
}

/// A CA that answers every step correctly (no confirmation page).
struct GoodCa {
    server: MockServer,
}

impl GoodCa {
    async fn start() -> Self {
        Self::start_with(false, root_der()).await
    }

    async fn start_with(from_issuance: bool, root: Vec<u8>) -> Self {
        let server = MockServer::start().await;
        let issued = Arc::new(Mutex::new(None));
        Mock::given(method("POST"))
            .and(path(format!("{TOKEN}/auth")))
            .respond_with(auth_ok())
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("{TOKEN}/csr")))
            .respond_with(IssuingCa {
                issued: Arc::clone(&issued),
                from_issuance,
            })
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/ca/root.crt"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(root, "application/pkix-cert"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{TOKEN}/certificate")))
            .respond_with(CertificateDownload(issued))
            .mount(&server)
            .await;
        Self { server }
    }
}

fn options(server: &MockServer, store: &Path) -> IssueOptions {
    let mut opts = IssueOptions::new(
        format!("{}{TOKEN}", server.uri()),
        "s3cret",
        PIN,
        store.to_path_buf(),
    );
    opts.user_id = Some("U0001".to_owned());
    opts.mail_sent_at = Some(mail_sent_at());
    opts
}

/// Every file under `dir`, relative and sorted; none if it does not exist.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let p: PathBuf = entry.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn status_of(report: &Report, id: &str) -> Option<Status> {
    report.step(id).map(|s| s.status)
}

fn detail_of(report: &Report, id: &str) -> String {
    report
        .step(id)
        .map(|s| s.detail.clone())
        .unwrap_or_default()
}

fn ids(report: &Report) -> Vec<&str> {
    report.steps.iter().map(|s| s.id.as_str()).collect()
}

fn root_file() -> String {
    let hex: String = ROOT_SHA1.split_whitespace().collect();
    format!("trusted-roots/{hex}.crt.pem")
}

async fn issue_against_auth_answer(answer: ResponseTemplate) -> (Report, Vec<String>) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{TOKEN}/auth")))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let report = issue(&options(&server, &store), &NoProgress).await;
    (report, files_under(&store))
}

#[tokio::test]
async fn a_used_url_fails_at_step_1_with_its_slug_and_installs_nothing() {
    let (report, files) = issue_against_auth_answer(problem(
        410,
        "url-already-used",
        "One-time URL already used",
        "this URL already issued a certificate",
    ))
    .await;
    assert!(!report.ok);
    assert_eq!(ids(&report), ["1"]);
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    assert_eq!(
        detail_of(&report, "1"),
        "POST /auth: url-already-used (HTTP 410 One-time URL already used): \
         this URL already issued a certificate"
    );
    assert!(files.is_empty(), "{files:?}");
}

#[tokio::test]
async fn a_locked_url_fails_at_step_1_with_its_slug() {
    let (report, files) = issue_against_auth_answer(problem(
        423,
        "locked",
        "One-time URL locked",
        "too many wrong passwords",
    ))
    .await;
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    assert!(
        detail_of(&report, "1").contains("locked (HTTP 423 One-time URL locked)"),
        "{}",
        detail_of(&report, "1")
    );
    assert!(files.is_empty());
}

#[tokio::test]
async fn a_wrong_password_reports_the_remaining_attempts() {
    let (report, _) = issue_against_auth_answer(problem_with(
        401,
        json!({"remaining_attempts": 3}),
        "wrong-password",
        "Wrong auth password",
        "the auth password does not match",
    ))
    .await;
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    assert!(
        detail_of(&report, "1").ends_with("; remaining_attempts: 3"),
        "{}",
        detail_of(&report, "1")
    );
}

#[tokio::test]
async fn an_internal_error_fails_at_once_without_retrying() {
    // `.expect(1)` in the helper fails the test if the client tried again.
    let (report, files) = issue_against_auth_answer(problem(
        500,
        "internal",
        "Internal error",
        "the service failed",
    ))
    .await;
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    assert!(detail_of(&report, "1").contains("internal (HTTP 500"));
    assert!(files.is_empty());
}

#[tokio::test]
async fn an_html_error_page_is_reported_with_its_status_and_start() {
    let page = format!(
        "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
        "padding ".repeat(60)
    );
    let (report, _) = issue_against_auth_answer(
        ResponseTemplate::new(502).set_body_raw(page.clone(), "text/html"),
    )
    .await;
    let detail = detail_of(&report, "1");
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    let start: String = page.chars().take(200).collect();
    assert_eq!(
        detail,
        format!("POST /auth: HTTP 502 Bad Gateway (text/html): {start}…")
    );
}

#[tokio::test]
async fn a_json_answer_cut_in_half_is_reported_as_truncated() {
    let whole = r#"{"session":"sess-1","csp":"Microsoft Enhanced Cryptographic Provider v1.0","key_length":1024,"accepted_keys":["rsa-1024"]}"#;
    let half = whole.get(..whole.len() / 2).expect("half");
    let (report, files) = issue_against_auth_answer(
        ResponseTemplate::new(200).set_body_raw(half, "application/json"),
    )
    .await;
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    assert!(
        detail_of(&report, "1").contains("the JSON body is truncated"),
        "{}",
        detail_of(&report, "1")
    );
    assert!(files.is_empty());
}

#[tokio::test]
async fn a_server_that_stays_unavailable_is_given_up_after_five_tries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{TOKEN}/auth")))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .expect(5)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = issue(&options(&server, dir.path()), &NoProgress).await;
    assert_eq!(status_of(&report, "1"), Some(Status::Fail));
    assert!(
        detail_of(&report, "1").contains("gave up after 5 tries"),
        "{}",
        detail_of(&report, "1")
    );
}

#[tokio::test]
async fn a_503_at_the_csr_is_retried_and_the_step_passes() {
    let ca = GoodCa::start().await;
    // Mounted later but with a higher priority: the first request gets the 503.
    Mock::given(method("POST"))
        .and(path(format!("{TOKEN}/csr")))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&ca.server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = issue(&options(&ca.server, dir.path()), &NoProgress).await;
    assert_eq!(
        status_of(&report, "2-1"),
        Some(Status::Pass),
        "{}",
        detail_of(&report, "2-1")
    );
    let csr_posts = ca
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/csr"))
        .count();
    assert_eq!(csr_posts, 2);
    assert_eq!(report.serial.as_deref(), Some(SERIAL_HEX));
}

#[tokio::test]
async fn the_happy_path_installs_the_root_certificate_and_key_and_passes_every_check() {
    for format in [CertFormat::Pem, CertFormat::Der] {
        let ca = GoodCa::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = options(&ca.server, dir.path());
        opts.checks.format = format;
        let report = issue(&opts, &NoProgress).await;

        let lines: Vec<String> = report.steps.iter().map(|s| s.line()).collect();
        for id in [
            "1", "2", "2-1", "3-1", "3-2", "3-3", "3-4", "3-A", "3-B", "3-C", "3-D", "3-E", "3-F",
            "4-1",
        ] {
            assert_eq!(
                status_of(&report, id),
                Some(Status::Pass),
                "{id}: {lines:#?}"
            );
        }
        assert!(detail_of(&report, "2").starts_with("rsa-1024 (Microsoft Enhanced"));
        assert_eq!(detail_of(&report, "3-A"), "U0001");
        assert_eq!(detail_of(&report, "3-B"), "NEC Certification Authority");
        // The mock names no confirmation page: Step 4 must say so, not crash.
        assert_eq!(status_of(&report, "4"), Some(Status::Fail));
        assert!(detail_of(&report, "4").contains("--confirm-url"));
        assert_eq!(report.root_sha1.as_deref(), Some(ROOT_SHA1.trim()));

        assert_eq!(
            files_under(dir.path()),
            [
                format!("personal/{SERIAL_HEX}.crt.pem"),
                format!("personal/{SERIAL_HEX}.key.pem"),
                root_file(),
            ]
        );
        let key =
            std::fs::read_to_string(dir.path().join(format!("personal/{SERIAL_HEX}.key.pem")))
                .expect("key file");
        assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(format!("personal/{SERIAL_HEX}.key.pem")))
                .expect("key metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

#[tokio::test]
async fn a_certificate_valid_two_years_from_issuance_instead_of_the_mail_fails_check_d() {
    let ca = GoodCa::start_with(true, root_der()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = issue(&options(&ca.server, dir.path()), &NoProgress).await;
    assert_eq!(status_of(&report, "3-C"), Some(Status::Pass));
    assert_eq!(status_of(&report, "3-D"), Some(Status::Fail));
    let want = two_years_after(mail_sent_at());
    let want = format!(
        "{:04}/{:02}/{:02}",
        want.year(),
        u8::from(want.month()),
        want.day()
    );
    assert!(
        detail_of(&report, "3-D").ends_with(&format!("+ 2 years = {want}")),
        "{}",
        detail_of(&report, "3-D")
    );
    assert!(!report.ok);
}

#[tokio::test]
async fn without_user_id_or_mail_date_checks_a_and_d_are_skipped_not_failed() {
    let ca = GoodCa::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = options(&ca.server, dir.path());
    opts.user_id = None;
    opts.mail_sent_at = None;
    let report = issue(&opts, &NoProgress).await;
    assert_eq!(status_of(&report, "3-A"), Some(Status::Skip));
    assert_eq!(status_of(&report, "3-D"), Some(Status::Skip));
    assert_eq!(status_of(&report, "3-E"), Some(Status::Pass));
}

#[tokio::test]
async fn a_root_with_another_fingerprint_is_a_hard_failure_before_anything_is_installed() {
    let impostor = {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "NEC Certification Authority");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .self_signed(&key)
            .expect("impostor root")
            .der()
            .to_vec()
    };
    let ca = GoodCa::start_with(false, impostor).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = issue(&options(&ca.server, dir.path()), &NoProgress).await;
    assert_eq!(status_of(&report, "3-1"), Some(Status::Fail));
    assert!(
        detail_of(&report, "3-1")
            .contains(&format!("does NOT match the expected {}", ROOT_SHA1.trim())),
        "{}",
        detail_of(&report, "3-1")
    );
    assert_eq!(ids(&report).last(), Some(&"3-1"));
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );
}

#[tokio::test]
async fn a_root_cut_short_is_reported_and_not_installed() {
    let der = root_der();
    let cut = der.get(..der.len() - 40).expect("shorter").to_vec();
    let ca = GoodCa::start_with(false, cut).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = issue(&options(&ca.server, dir.path()), &NoProgress).await;
    assert_eq!(status_of(&report, "3-1"), Some(Status::Fail));
    assert!(
        detail_of(&report, "3-1").contains("truncated or invalid DER"),
        "{}",
        detail_of(&report, "3-1")
    );
    assert!(files_under(dir.path()).is_empty());
}

#[tokio::test]
async fn a_malformed_expected_fingerprint_fails_before_the_one_time_url_is_used() {
    let ca = GoodCa::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = options(&ca.server, dir.path());
    opts.checks.expect_root_sha1 = Some("46373971 458E916B".to_owned());
    let report = issue(&opts, &NoProgress).await;
    assert_eq!(ids(&report), ["3-1"]);
    assert_eq!(status_of(&report, "3-1"), Some(Status::Fail));
    let requests = ca.server.received_requests().await.unwrap_or_default();
    assert!(requests.is_empty(), "{} requests sent", requests.len());
}

#[tokio::test]
async fn an_expected_fingerprint_with_colons_in_lower_case_matches() {
    let ca = GoodCa::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = options(&ca.server, dir.path());
    let hex: String = ROOT_SHA1
        .split_whitespace()
        .collect::<String>()
        .to_lowercase();
    let colons: Vec<String> = hex
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    opts.checks.expect_root_sha1 = Some(colons.join(":"));
    let report = issue(&opts, &NoProgress).await;
    assert_eq!(status_of(&report, "3-1"), Some(Status::Pass));
    assert_eq!(status_of(&report, "3-2"), Some(Status::Pass));
}
