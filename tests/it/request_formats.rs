//! What Windows sends (issue 13): a PKCS#10 plain, in CMC `PKIData`, or in a
//! CMS `SignedData` (built with openssl and with the `cms` crate through the
//! client's wrapper), in every encoding the contract names, over HTTP; refused
//! shapes change nothing; the renewal signed by the current certificate.

use crate::helpers::{assert_problem, fixture, TestApp};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;
use webra2_client::{pki_data, wrap_request, ClientKey, RequestForm, WrapSigner};
use webra2_mock::{Clock, Settings};

const PASSWORD: &str = "auth-pw-13";

/// Runs openssl, which these tests need: missing, they fail.
fn openssl(args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed by these tests (.ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn pem_der(rel: &str) -> Vec<u8> {
    pem::parse(fixture(rel))
        .expect("PEM fixture")
        .into_contents()
}

fn fixture_key(name: &str) -> ClientKey {
    let der = pem_der(&format!("csr/{name}.key.pem"));
    ClientKey::from_pkcs8_der(&der).expect("a PKCS#8 fixture key")
}

/// A self-signed certificate and its key that this CA never saw.
struct Stranger {
    dir: tempfile::TempDir,
}

impl Stranger {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("stranger.key");
        std::fs::write(&key, fixture("csr/rsa2048.key.pem")).expect("write key");
        let cert = dir.path().join("stranger.pem");
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &key.to_string_lossy(),
            "-subj",
            "/CN=stranger",
            "-days",
            "30",
            "-out",
            &cert.to_string_lossy(),
        ]);
        Self { dir }
    }

    /// `openssl cms -sign` around `content` (a PKCS#10), DER: id-data content,
    /// signed attributes, the signer's certificate carried.
    fn cms_sign(&self, content: &[u8]) -> Vec<u8> {
        let path = |n: &str| self.dir.path().join(n).to_string_lossy().into_owned();
        std::fs::write(path("content.der"), content).expect("write content");
        openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            &path("content.der"),
            "-signer",
            &path("stranger.pem"),
            "-inkey",
            &path("stranger.key"),
            "-outform",
            "DER",
            "-out",
            &path("signed.p7"),
        ]);
        std::fs::read(path("signed.p7")).expect("openssl wrote it")
    }
}

/// Every encoding of `der` the contract names: (what, media type, body).
fn encodings(der: &[u8]) -> Vec<(String, &'static str, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    let mut out = Vec::new();
    for label in webra2_ca::REQUEST_PEM_LABELS {
        out.push((
            format!("PEM {label}"),
            "application/x-pem-file",
            webra2_wire::pem_encode(label, der).into_bytes(),
        ));
    }
    out.push((
        "bare base64, LF".into(),
        "text/plain",
        lines.join("\n").into_bytes(),
    ));
    out.push((
        "bare base64, CRLF".into(),
        "text/plain",
        format!("{}\r\n", lines.join("\r\n")).into_bytes(),
    ));
    out.push(("DER".into(), "application/pkcs10", der.to_vec()));
    // Several blocks: the root's certificate first, the request after it.
    let mut several = fixture("root.cert.pem");
    several.extend(webra2_wire::pem_encode("NEW CERTIFICATE REQUEST", der).into_bytes());
    out.push((
        "PEM after a CERTIFICATE block".into(),
        "text/plain",
        several,
    ));
    out
}

/// Prepares an enrollment of `kind` for `user`, authenticates: (URL, session, enrollment id).
async fn open(app: &TestApp, user: &str, kind: &str) -> (String, String, String) {
    let resp = app
        .post_enrollment(&json!({
            "user_id": user,
            "email": format!("{}@example.test", user.to_lowercase()),
            "auth_password": PASSWORD,
            "kind": kind,
        }))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "prepare {user} {kind}");
    let created: Value = resp.json().await.expect("JSON");
    let url = created["one_time_url"].as_str().expect("url").to_owned();
    let id = created["enrollment_id"].as_str().expect("id").to_owned();
    let auth = app.auth(&url, PASSWORD).await;
    (url, auth.session, id)
}

/// Submits and expects a certificate: its serial.
async fn expect_issued(
    app: &TestApp,
    user: &str,
    kind: &str,
    case: &str,
    media: &str,
    body: Vec<u8>,
) -> String {
    let (url, session, _) = open(app, user, kind).await;
    let resp = app.csr_raw(&url, &session, media, body).await;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::CREATED, "{case}: {text}");
    let issued: Value = serde_json::from_str(&text).expect("Issued");
    issued["serial"].as_str().expect("serial").to_owned()
}

/// Submits and expects a problem; checks nothing was issued and the URL is still open.
async fn expect_refused(
    app: &TestApp,
    user: &str,
    kind: &str,
    case: &str,
    (media, body): (&str, Vec<u8>),
    (status, slug): (u16, &str),
) -> String {
    let (url, session, id) = open(app, user, kind).await;
    let (_, before) = app
        .admin_get(&format!("/admin/certificates?user_id={user}"))
        .await;
    let resp = app.csr_raw(&url, &session, media, body).await;
    let problem = assert_problem(resp, status, slug).await;
    let (_, view) = app.admin_get(&format!("/admin/enrollments/{id}")).await;
    assert_eq!(
        view["state"], "authenticated",
        "{case}: the URL is still open"
    );
    let (_, after) = app
        .admin_get(&format!("/admin/certificates?user_id={user}"))
        .await;
    assert_eq!(before, after, "{case}: nothing was issued");
    problem["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn plain_cmc_and_pkcs7_requests_issue_in_every_encoding() {
    let app = TestApp::spawn().await;
    let csr = pem_der("csr/rsa1024.csr.pem");
    let key = fixture_key("rsa1024");
    let stranger = Stranger::new();
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("plain PKCS#10", csr.clone()),
        (
            "CMC PKIData in a SignedData signed with the request key (cms crate)",
            wrap_request(&csr, RequestForm::Cmc, &WrapSigner::RequestKey(&key)).expect("CMC"),
        ),
        ("bare CMC PKIData", pki_data(&csr).expect("PKIData")),
        (
            "PKCS#7 SignedData signed with the request key (cms crate)",
            wrap_request(&csr, RequestForm::Pkcs7, &WrapSigner::RequestKey(&key)).expect("PKCS#7"),
        ),
        (
            "PKCS#7 SignedData signed by a stranger's certificate (openssl cms -sign)",
            stranger.cms_sign(&csr),
        ),
    ];
    let mut issued = 0;
    for (shape, der) in &shapes {
        for (encoding, media, body) in encodings(der) {
            let case = format!("{shape} as {encoding}");
            expect_issued(&app, &format!("U13{issued:03}"), "new", &case, media, body).await;
            issued += 1;
        }
    }
    assert_eq!(issued, shapes.len() * 9);
    eprintln!(
        "{issued} requests issued: {} shapes x 9 encodings",
        shapes.len()
    );
}

#[tokio::test]
async fn refused_shapes_get_their_contract_status_and_change_nothing() {
    let app = TestApp::spawn().await;
    let stranger = Stranger::new();
    let csr = pem_der("csr/rsa1024.csr.pem");
    let dsa = pem_der("csr/dsa2048.csr.pem");
    let rsa2048 = pem_der("csr/rsa2048.csr.pem");
    let tampered = pem_der("csr/rsa1024-tampered.csr.pem");
    let key2048 = fixture_key("rsa2048");
    let mut bad_outer = stranger.cms_sign(&csr);
    let last = bad_outer.len() - 1;
    bad_outer[last] ^= 0x01; // the SignerInfo's signature ends the SignedData
    let certs_only = webra2_ca::pkcs7_certs_only(&[&pem_der("root.cert.pem")]).expect("p7c");
    let pem = |label: &str, der: &[u8]| webra2_wire::pem_encode(label, der).into_bytes();
    let mut two = pem("CERTIFICATE REQUEST", &csr);
    two.extend(pem("NEW CERTIFICATE REQUEST", &csr));

    // (case, media type, body, status, slug, what the detail names)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "DSA, plain",
            "application/pkcs10",
            dsa.clone(),
            422,
            "key-policy",
            "DSA",
        ),
        (
            "DSA in a SignedData",
            "application/x-pem-file",
            pem("PKCS7", &stranger.cms_sign(&dsa)),
            422,
            "key-policy",
            "DSA",
        ),
        (
            "DSA in CMC",
            "application/x-pem-file",
            pem("NEW CERTIFICATE REQUEST", &pki_data(&dsa).expect("PKIData")),
            422,
            "key-policy",
            "DSA",
        ),
        (
            "RSA-2048 in CMC",
            "application/pkcs10",
            wrap_request(
                &rsa2048,
                RequestForm::Cmc,
                &WrapSigner::RequestKey(&key2048),
            )
            .expect("CMC"),
            422,
            "key-policy",
            "RSA-2048",
        ),
        (
            "a tampered request in a SignedData",
            "application/pkcs10",
            stranger.cms_sign(&tampered),
            400,
            "csr-signature-invalid",
            "RSA-1024",
        ),
        (
            "a SignedData whose signature is broken",
            "application/pkcs10",
            bad_outer,
            400,
            "csr-signature-invalid",
            "SignedData's signer",
        ),
        (
            "a certs-only PKCS#7",
            "application/x-pem-file",
            pem("PKCS7", &certs_only),
            400,
            "bad-csr",
            "without content",
        ),
        (
            "two request blocks",
            "application/x-pem-file",
            two,
            400,
            "bad-csr",
            "2 request PEM blocks",
        ),
        (
            "a certificate only",
            "application/x-pem-file",
            fixture("root.cert.pem"),
            400,
            "bad-csr",
            "\"CERTIFICATE\"",
        ),
    ];
    for (i, (case, media, body, status, slug, named)) in cases.into_iter().enumerate() {
        let detail = expect_refused(
            &app,
            &format!("U13R{i:02}"),
            "new",
            case,
            (media, body),
            (status, slug),
        )
        .await;
        assert!(detail.contains(named), "{case}: {detail:?} names {named:?}");
        eprintln!("{case}: {status} {slug}: {detail}");
    }
}

/// A profile file: webra2 with the renewal rule switched on.
fn signed_renewal_settings(dir: &tempfile::TempDir) -> Settings {
    let text = String::from_utf8(fixture("profiles/webra2.toml")).expect("UTF-8");
    let text = text.replace("signed_by_current = false", "signed_by_current = true");
    assert!(text.contains("signed_by_current = true"));
    let path = dir.path().join("webra2-signed-renewal.toml");
    std::fs::write(&path, text).expect("write profile");
    Settings {
        profile: path.to_string_lossy().into_owned(),
        ..Settings::for_tests()
    }
}

/// The user's certificate, issued on a `new` URL from the RSA-1024 fixture key.
async fn first_certificate(app: &TestApp, user: &str) -> (String, Vec<u8>) {
    let (url, session, _) = open(app, user, "new").await;
    let issued = app
        .issue_fixture(&url, &session, "csr/rsa1024.csr.pem")
        .await;
    let cert = app
        .http
        .get(&issued.certificate_url)
        .query(&[("format", "der")])
        .bearer_auth(&session)
        .send()
        .await
        .expect("public");
    assert_eq!(cert.status(), StatusCode::OK);
    let der = cert.bytes().await.expect("body").to_vec();
    (issued.serial, der)
}

#[tokio::test]
async fn a_renewal_must_be_signed_by_the_current_certificate_where_the_profile_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn_with(signed_renewal_settings(&dir), Clock::real()).await;
    let key = fixture_key("rsa1024");
    let csr = pem_der("csr/rsa1024-sha1.csr.pem");
    let (current, current_der) = first_certificate(&app, "U1301").await;
    let (_, other_der) = first_certificate(&app, "U1302").await;
    let stranger = Stranger::new();
    let by = |cert_der: &[u8]| {
        wrap_request(
            &csr,
            RequestForm::Pkcs7,
            &WrapSigner::Certificate {
                key: &key,
                cert_der,
            },
        )
        .expect("SignedData")
    };
    let pem = |der: &[u8]| webra2_wire::pem_encode("NEW CERTIFICATE REQUEST", der).into_bytes();

    let refused: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a plain PKCS#10", pem(&csr), "without a signer"),
        (
            "CMC signed with the new key",
            pem(&wrap_request(&csr, RequestForm::Cmc, &WrapSigner::RequestKey(&key)).expect("CMC")),
            "not by a certificate of this CA",
        ),
        (
            "PKCS#7 signed by a stranger's certificate",
            pem(&stranger.cms_sign(&csr)),
            "did not issue",
        ),
        (
            "PKCS#7 signed by another user's certificate",
            pem(&by(&other_der)),
            "another user",
        ),
    ];
    for (case, body, named) in refused {
        let detail = expect_refused(
            &app,
            "U1301",
            "renew",
            case,
            ("application/x-pem-file", body),
            (422, "renewal-signature"),
        )
        .await;
        assert!(detail.contains(named), "{case}: {detail:?} names {named:?}");
        eprintln!("{case}: 422 renewal-signature: {detail}");
    }
    // The current certificate's own signature: issued, in every encoding of CMC too.
    let serial = expect_issued(
        &app,
        "U1301",
        "renew",
        "PKCS#7 by the current certificate",
        "application/pkcs10",
        by(&current_der),
    )
    .await;
    assert_ne!(serial, current);
    // Another renewal now renews the new certificate; the old one, still valid, is not it.
    let detail = expect_refused(
        &app,
        "U1301",
        "renew",
        "signed by the previous certificate",
        ("application/pkcs10", by(&current_der)),
        (422, "renewal-signature"),
    )
    .await;
    assert!(
        detail.contains(&format!("this renewal is of certificate {serial}")),
        "{detail}"
    );
    // Named but not carried: the CA checks the signature with its own record.
    let (_, named_der) = first_certificate(&app, "U1307").await;
    let named = |key: &ClientKey| {
        wrap_request(
            &csr,
            RequestForm::Pkcs7,
            &WrapSigner::NamedCertificate {
                key,
                cert_der: &named_der,
            },
        )
        .expect("SignedData")
    };
    let wrong_key = fixture_key("rsa1024-windows");
    let detail = expect_refused(
        &app,
        "U1307",
        "renew",
        "named, not carried, signed with another key",
        ("application/pkcs10", named(&wrong_key)),
        (400, "csr-signature-invalid"),
    )
    .await;
    assert!(detail.contains("SignedData's signer"), "{detail}");
    expect_issued(
        &app,
        "U1307",
        "renew",
        "named, not carried, by the current certificate",
        "application/pkcs10",
        named(&key),
    )
    .await;
    // The same in CMC, for a user whose current certificate this is.
    let (_, third_der) = first_certificate(&app, "U1306").await;
    let cmc = wrap_request(
        &csr,
        RequestForm::Cmc,
        &WrapSigner::Certificate {
            key: &key,
            cert_der: &third_der,
        },
    )
    .expect("CMC");
    expect_issued(
        &app,
        "U1306",
        "renew",
        "CMC by the current certificate",
        "text/plain",
        pem(&cmc),
    )
    .await;
    // The renewed certificate is not the one a later renewal renews.
    let detail = expect_refused(
        &app,
        "U1306",
        "renew",
        "signed by the renewed one",
        ("application/pkcs10", cmc),
        (422, "renewal-signature"),
    )
    .await;
    assert!(
        detail.contains("this renewal is of certificate"),
        "{detail}"
    );

    // Revoked, it vouches no more.
    let resp = app
        .http
        .post(format!(
            "{}/admin/certificates/{current}/revoke",
            app.admin_url
        ))
        .json(&json!({"reason": "keyCompromise"}))
        .send()
        .await
        .expect("admin");
    assert_eq!(resp.status(), StatusCode::OK);
    let detail = expect_refused(
        &app,
        "U1301",
        "renew",
        "signed by a revoked certificate",
        ("application/pkcs10", by(&current_der)),
        (422, "renewal-signature"),
    )
    .await;
    assert!(detail.contains("revoked"), "{detail}");
    // A first issuance is not a renewal: no signature is asked for.
    expect_issued(
        &app,
        "U1303",
        "new",
        "plain PKCS#10 on a new URL",
        "application/x-pem-file",
        fixture("csr/rsa1024.csr.pem"),
    )
    .await;
}

#[tokio::test]
async fn without_the_rule_a_renewal_takes_any_verified_request() {
    let app = TestApp::spawn().await;
    let (_, current_der) = first_certificate(&app, "U1304").await;
    let key = fixture_key("rsa1024");
    let csr = pem_der("csr/rsa1024.csr.pem");
    let signed = wrap_request(
        &csr,
        RequestForm::Pkcs7,
        &WrapSigner::Certificate {
            key: &key,
            cert_der: &current_der,
        },
    )
    .expect("SignedData");
    expect_issued(&app, "U1304", "renew", "plain", "application/pkcs10", csr).await;
    expect_issued(
        &app,
        "U1304",
        "renew",
        "signed by the current certificate",
        "application/pkcs10",
        signed,
    )
    .await;
}

#[tokio::test]
async fn the_client_renews_with_a_request_signed_by_its_stored_certificate() {
    use webra2_client::{e2e, E2eOptions, Kind, NoProgress};
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn_with(signed_renewal_settings(&dir), Clock::real()).await;
    let store = tempfile::tempdir().expect("store");
    let options = |kind: Kind, sign: bool| {
        let mut opts = E2eOptions::new(app.admin_url.clone(), "U1305");
        opts.store_dir = Some(store.path().to_path_buf());
        opts.auth_password = Some("auth-pw-1".into());
        opts.pin = Some("Pin1305".into());
        opts.kind = kind;
        opts.sign_with_current = sign;
        opts
    };
    let first = e2e(&options(Kind::New, false), &NoProgress).await;
    assert!(first.ok, "{:#?}", first.steps);
    let unsigned = e2e(&options(Kind::Renew, false), &NoProgress).await;
    assert!(
        !unsigned.ok,
        "an unsigned renewal is refused by this profile"
    );
    let failed = unsigned.step("2-1").map(|s| s.line()).unwrap_or_default();
    assert!(
        failed.contains("renewal-signature") || failed.contains("422"),
        "{failed}"
    );
    let renewed = e2e(&options(Kind::Renew, true), &NoProgress).await;
    assert!(renewed.ok, "{:#?}", renewed.steps);
    assert_ne!(renewed.serial, first.serial);
}
