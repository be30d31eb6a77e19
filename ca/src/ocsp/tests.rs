use super::*;
use crate::test_support::{fixture_bytes, fixture_path, openssl, temp_dir, write};
use crate::{parse_csr, IssueRequest, IssuedCert, Profile, Root};
use std::process::Output;
use time::macros::datetime;
use time::Duration;
use webra2_wire::pem_encode;

const NOW: OffsetDateTime = datetime!(2026-12-01 14:30:15 +09:00);
const OCSP_URL: &str = "http://127.0.0.1:8080/ocsp";

fn ca_with(profile: Profile, root: Root) -> Ca {
    Ca::new(root, profile, "http://127.0.0.1:8080/ca/crl")
        .with_status_urls(OCSP_URL, "http://127.0.0.1:8080/ca/root.crt")
}

fn ca(profile: &str) -> Ca {
    let profile = Profile::builtin(profile).unwrap_or_else(|| panic!("{profile} is built in"));
    ca_with(profile, Root::fixture())
}

fn issue(ca: &Ca) -> IssuedCert {
    let spki = parse_csr(&fixture_bytes("csr/rsa1024.csr.pem"))
        .unwrap_or_else(|e| panic!("{e}"))
        .spki_der;
    ca.issue(&IssueRequest {
        spki_der: &spki,
        user_id: "U0001",
        email: "u0001@example.test",
        mail_sent_at: NOW,
        now: NOW,
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn run(args: &[&str]) -> (Output, String, String) {
    let out = openssl(args).unwrap_or_else(|| panic!("openssl is needed for this test"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// A request for `leaf` under the fixture root as openssl makes it (with a nonce).
fn openssl_request(dir: &tempfile::TempDir, leaf: &IssuedCert, issuer_pem: &str) -> String {
    let leaf_path = write(
        dir,
        "leaf.pem",
        pem_encode("CERTIFICATE", &leaf.der).as_bytes(),
    );
    let issuer = write(dir, "issuer.pem", issuer_pem.as_bytes());
    let req = dir.path().join("req.der").to_string_lossy().into_owned();
    let (out, _, stderr) = run(&[
        "ocsp", "-issuer", &issuer, "-cert", &leaf_path, "-reqout", &req,
    ]);
    assert!(out.status.success(), "{stderr}");
    req
}

fn answer() -> OcspAnswer {
    OcspAnswer {
        produced_at: NOW,
        this_update: NOW,
        next_update: NOW + Duration::hours(1),
        wrong_key: false,
        wrong_nonce: false,
    }
}

/// `openssl ocsp` reading the request and the response: verifies the signature
/// against the fixture root and the nonce against the request.
fn openssl_check(dir: &tempfile::TempDir, req: &str, resp: &[u8]) -> (Output, String, String) {
    let resp_path = write(dir, "resp.der", resp);
    let root = fixture_path("root.cert.pem").to_string_lossy().into_owned();
    let at = (NOW.unix_timestamp() + 60).to_string();
    run(&[
        "ocsp",
        "-reqin",
        req,
        "-respin",
        &resp_path,
        "-CAfile",
        &root,
        "-resp_text",
        "-attime",
        &at,
    ])
}

#[test]
fn openssl_verifies_a_delegated_revoked_answer_and_its_nonce() {
    let ca = ca("webra2");
    let leaf = issue(&ca);
    let dir = temp_dir();
    let req = openssl_request(&dir, &leaf, &ca.root().cert_pem());
    let query = ca
        .ocsp_query(&std::fs::read(&req).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(query.items.len(), 1);
    assert_eq!(query.items[0].serial.as_deref(), Some(leaf.serial.as_str()));
    assert!(query.nonce().is_some(), "openssl sends a nonce");

    let ca = ca
        .with_ocsp_responder(NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ca.ocsp_responder().is_some(), "delegated by default");
    let revoked_at = NOW - Duration::minutes(5);
    let resp = ca
        .ocsp_response(
            &query,
            &[OcspCertStatus::Revoked {
                at: revoked_at,
                reason: Some("keyCompromise".into()),
            }],
            &answer(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let (out, stdout, stderr) = openssl_check(&dir, &req, &resp);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("Response verify OK"), "{stderr}");
    assert!(stdout.contains("Cert Status: revoked"), "{stdout}");
    assert!(
        stdout.contains("Revocation Reason: keyCompromise (0x1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Revocation Time: Dec  1 05:25:15 2026 GMT"),
        "{stdout}"
    );
    assert!(
        stdout.contains("OCSP Signing"),
        "the responder certificate is included"
    );
    assert!(stdout.contains("OCSP No Check"), "{stdout}");
}

#[test]
fn the_root_signs_itself_when_there_is_no_delegated_responder() {
    let text = include_str!("../../../fixtures/profiles/webra2.toml").to_owned()
        + "\n[ocsp]\nsigner = \"root\"\n";
    let profile = Profile::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let ca = ca_with(profile, Root::fixture())
        .with_ocsp_responder(NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ca.ocsp_responder().is_none());
    let leaf = issue(&ca);
    let dir = temp_dir();
    let req = openssl_request(&dir, &leaf, &ca.root().cert_pem());
    let query = ca
        .ocsp_query(&std::fs::read(&req).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = ca
        .ocsp_response(&query, &[OcspCertStatus::Good], &answer())
        .unwrap_or_else(|e| panic!("{e}"));
    let (out, stdout, stderr) = openssl_check(&dir, &req, &resp);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("Response verify OK"), "{stderr}");
    assert!(stdout.contains("Cert Status: good"), "{stdout}");
    assert!(!stdout.contains("OCSP Signing"), "no responder certificate");
    assert!(
        stdout.contains("Subject: C=JP"),
        "the root goes with it: {stdout}"
    );
}

#[test]
fn a_wrong_key_or_a_wrong_nonce_is_caught_by_openssl() {
    let ca = ca("webra2");
    let leaf = issue(&ca);
    let dir = temp_dir();
    let req = openssl_request(&dir, &leaf, &ca.root().cert_pem());
    let query = ca
        .ocsp_query(&std::fs::read(&req).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let ca = ca
        .with_ocsp_responder(NOW)
        .unwrap_or_else(|e| panic!("{e}"));

    let wrong_key = OcspAnswer {
        wrong_key: true,
        ..answer()
    };
    let resp = ca
        .ocsp_response(&query, &[OcspCertStatus::Good], &wrong_key)
        .unwrap_or_else(|e| panic!("{e}"));
    let (out, _, stderr) = openssl_check(&dir, &req, &resp);
    assert!(!out.status.success());
    assert!(stderr.contains("Response Verify Failure"), "{stderr}");

    let wrong_nonce = OcspAnswer {
        wrong_nonce: true,
        ..answer()
    };
    let resp = ca
        .ocsp_response(&query, &[OcspCertStatus::Good], &wrong_nonce)
        .unwrap_or_else(|e| panic!("{e}"));
    let (out, _, stderr) = openssl_check(&dir, &req, &resp);
    assert!(!out.status.success());
    assert!(stderr.contains("Nonce Verify error"), "{stderr}");
}

#[test]
fn another_roots_certificate_is_not_ours() {
    let ours = ca("webra2");
    let other = ours.with_root(Root::generate().unwrap_or_else(|e| panic!("{e}")));
    let leaf = issue(&other);
    let dir = temp_dir();
    let req = openssl_request(&dir, &leaf, &other.root().cert_pem());
    let query = ours
        .ocsp_query(&std::fs::read(&req).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(query.items[0].serial, None, "same name, another key");
}

#[test]
fn what_is_not_an_ocsp_request_is_refused_and_failures_have_their_status() {
    let ca = ca("webra2");
    for junk in [
        &b""[..],
        b"\x30\x00",
        b"garbage",
        &fixture_bytes("root.cert.pem"),
    ] {
        assert!(matches!(ca.ocsp_query(junk), Err(CaError::Ocsp(_))));
    }
    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }, nothing else.
    assert_eq!(
        OcspFailure::MalformedRequest.to_der(),
        [0x30, 3, 0x0A, 1, 1]
    );
    assert_eq!(OcspFailure::InternalError.to_der(), [0x30, 3, 0x0A, 1, 2]);
    assert_eq!(OcspFailure::TryLater.to_der(), [0x30, 3, 0x0A, 1, 3]);
    assert_eq!(OcspFailure::Unauthorized.to_der(), [0x30, 3, 0x0A, 1, 6]);
}

#[test]
fn certificates_carry_aia_unless_the_profile_turns_it_off() {
    let dir = temp_dir();
    let leaf = issue(&ca("webra2"));
    let path = write(
        &dir,
        "aia.pem",
        pem_encode("CERTIFICATE", &leaf.der).as_bytes(),
    );
    let (_, stdout, _) = run(&["x509", "-in", &path, "-noout", "-ocsp_uri"]);
    assert_eq!(stdout.trim(), OCSP_URL);
    let (_, text, _) = run(&[
        "x509",
        "-in",
        &path,
        "-noout",
        "-ext",
        "authorityInfoAccess",
    ]);
    assert!(
        text.contains("CA Issuers - URI:http://127.0.0.1:8080/ca/root.crt"),
        "{text}"
    );

    let text = include_str!("../../../fixtures/profiles/webra2.toml").to_owned()
        + "\n[aia]\nocsp = false\n";
    let profile = Profile::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let leaf = issue(&ca_with(profile, Root::fixture()));
    let path = write(
        &dir,
        "no-ocsp.pem",
        pem_encode("CERTIFICATE", &leaf.der).as_bytes(),
    );
    let (_, stdout, _) = run(&["x509", "-in", &path, "-noout", "-ocsp_uri"]);
    assert_eq!(stdout.trim(), "");
    let (_, text, _) = run(&[
        "x509",
        "-in",
        &path,
        "-noout",
        "-ext",
        "authorityInfoAccess",
    ]);
    assert!(text.contains("CA Issuers"), "{text}");

    let text = include_str!("../../../fixtures/profiles/webra2.toml").to_owned()
        + "\n[aia]\nocsp = false\nca_issuers = false\n";
    let profile = Profile::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let leaf = issue(&ca_with(profile, Root::fixture()));
    let path = write(
        &dir,
        "none.pem",
        pem_encode("CERTIFICATE", &leaf.der).as_bytes(),
    );
    let (_, text, _) = run(&["x509", "-in", &path, "-noout", "-text"]);
    assert!(!text.contains("Authority Information Access"), "{text}");
}
