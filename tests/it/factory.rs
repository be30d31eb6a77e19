//! The administrator's factory (`POST /admin/certificates`): certificates in
//! every state, and what relying parties make of them: the confirmation page,
//! a stock TLS stack (rustls with webpki and the CRL, for the key types it
//! takes), `openssl verify` with the CRL, and `openssl ocsp`.

use crate::helpers::{assert_problem, fixtures, TestApp};
use reqwest::StatusCode;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const PIN: &str = "Pin1234";

/// One certificate made to order, written out for the relying parties.
struct Made {
    serial: String,
    status: String,
    cert: PathBuf,
    /// The key, decrypted with the PIN by openssl.
    key: PathBuf,
    /// The key as the factory gave it: PKCS#8 under the PIN.
    encrypted_key: PathBuf,
}

async fn make(app: &TestApp, dir: &Path, name: &str, body: Value) -> Made {
    let resp = app
        .http
        .post(format!("{}/admin/certificates", app.admin_url))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("admin");
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "{body}: {}",
        resp.text().await.unwrap_or_default()
    );
    let made: Value = resp.json().await.expect("JSON");
    let cert = dir.join(format!("{name}.pem"));
    std::fs::write(&cert, made["certificate_pem"].as_str().expect("PEM")).expect("write");
    let encrypted_key = dir.join(format!("{name}.enc.key"));
    let key_pem = made["key_pem"].as_str().expect("key PEM");
    assert!(key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    std::fs::write(&encrypted_key, key_pem).expect("write");
    let key = dir.join(format!("{name}.key"));
    let out = openssl(&[
        "pkey",
        "-in",
        path(&encrypted_key),
        "-passin",
        &format!("pass:{PIN}"),
        "-out",
        path(&key),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Made {
        serial: made["serial"].as_str().expect("serial").to_owned(),
        status: made["status"].as_str().expect("status").to_owned(),
        cert,
        key,
        encrypted_key,
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is needed for these tests (apt-get install openssl)")
}

fn root_pem() -> PathBuf {
    fixtures().join("root.cert.pem")
}

fn der_of(pem_file: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(pem_file).expect("read");
    ::pem::parse(text).expect("PEM").into_contents()
}

/// A TLS handshake between rustls client and rustls server, in memory: the
/// server trusts the fixture root and checks the CRL, the client presents
/// `made`. `Ok` when the server accepted it, else the server's error.
fn rustls_handshake(made: &Made, crl_der: &[u8]) -> Result<(), rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(der_of(&root_pem())))
        .expect("root");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .with_crls(vec![CertificateRevocationListDer::from(crl_der.to_vec())])
    .only_check_end_entity_revocation()
    .build()
    .expect("verifier");
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server_cert = rcgen::CertificateParams::new(vec!["relying-party.test".into()])
        .expect("params")
        .self_signed(&server_key)
        .expect("server cert");
    let server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server_cert.der().clone()],
            PrivateKeyDer::try_from(server_key.serialize_der()).expect("key"),
        )
        .expect("server config");
    let mut server_roots = rustls::RootCertStore::empty();
    server_roots
        .add(server_cert.der().clone())
        .expect("server root");
    let client_key = PrivateKeyDer::try_from(der_of(&made.key)).expect("client key");
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(server_roots)
        .with_client_auth_cert(vec![CertificateDer::from(der_of(&made.cert))], client_key)
        .expect("client config");
    let mut client = rustls::ClientConnection::new(
        Arc::new(client_config),
        "relying-party.test".try_into().expect("name"),
    )
    .expect("client");
    let mut server = rustls::ServerConnection::new(Arc::new(server_config)).expect("server");
    for _ in 0..20 {
        let mut buf = Vec::new();
        client.write_tls(&mut buf).expect("client writes");
        server.read_tls(&mut buf.as_slice()).expect("server reads");
        server.process_new_packets()?;
        let mut buf = Vec::new();
        server.write_tls(&mut buf).expect("server writes");
        client.read_tls(&mut buf.as_slice()).expect("client reads");
        // The client's own errors (an alert from the server) are not the point.
        let _ = client.process_new_packets();
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

/// `openssl verify` of the certificate against the root and the CRL.
fn openssl_verify(made: &Made, crl: &Path) -> (bool, String) {
    let out = openssl(&[
        "verify",
        "-CAfile",
        path(&root_pem()),
        "-CRLfile",
        path(crl),
        "-crl_check",
        "-purpose",
        "sslclient",
        path(&made.cert),
    ]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The confirmation page through curl, with the certificate and the
/// PIN-encrypted key as the factory gave them. `None` when the handshake failed.
fn confirmation_page(app: &TestApp, made: &Made) -> Option<(u16, Value)> {
    // OpenSSL's security level 0, for the RSA-1024 keys (see fixtures/).
    let out = Command::new("curl")
        .env("OPENSSL_CONF", fixtures().join("openssl-seclevel0.cnf"))
        .args(["-sS", "--ciphers", "DEFAULT@SECLEVEL=0"])
        .args(["--cacert", path(&root_pem())])
        .args([
            "--cert",
            path(&made.cert),
            "--key",
            path(&made.encrypted_key),
        ])
        .args(["--pass", PIN])
        .args(["-H", "Accept: application/json", "-w", "\n%{http_code}"])
        .arg(&app.confirm_url)
        .output()
        .expect("curl is needed for these tests (apt-get install curl)");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    Some((
        code.trim().parse().expect("status"),
        serde_json::from_str(body).unwrap_or(Value::Null),
    ))
}

/// What `openssl ocsp` against the running responder says of a certificate.
fn ocsp_status(app: &TestApp, made: &Made) -> String {
    let out = openssl(&[
        "ocsp",
        "-issuer",
        path(&root_pem()),
        "-cert",
        path(&made.cert),
        "-url",
        &format!("{}/ocsp", app.public_url),
        "-CAfile",
        path(&root_pem()),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Response verify OK"),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .next()
        .and_then(|l| l.rsplit(": ").next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_state_is_accepted_or_refused_as_it_demands_by_every_relying_party() {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let order = |state: &str, key: &str| json!({"user_id": "RP0001", "pin": PIN, "key": key, "state": state});

    let mut made = Vec::new();
    // rustls (like ring and OpenSSL's default level) refuses RSA-1024 keys: the
    // default profile's key type goes to the confirmation page, openssl verify
    // and OCSP only.
    for key in ["p256", "rsa-2048", "rsa-1024"] {
        for (state, extra) in [
            ("valid", json!({})),
            ("expired", json!({})),
            ("not_yet_valid", json!({})),
            ("revoked", json!({"reason": "keyCompromise"})),
            ("valid", json!({"issuer": "untrusted"})),
        ] {
            let mut body = order(state, key);
            for (k, v) in extra.as_object().expect("object") {
                body[k] = v.clone();
            }
            let untrusted = extra["issuer"] == "untrusted";
            let name = format!(
                "{key}-{state}-{}",
                if untrusted { "untrusted" } else { "root" }
            );
            made.push((
                name.clone(),
                state,
                untrusted,
                key != "rsa-1024",
                make(&app, dir, &name, body).await,
            ));
        }
    }
    let crl = app
        .http
        .get(format!("{}/ca/crl", app.public_url))
        .send()
        .await
        .expect("CRL")
        .bytes()
        .await
        .expect("CRL body")
        .to_vec();
    let crl_pem = dir.join("crl.pem");
    std::fs::write(
        &crl_pem,
        ::pem::encode(&::pem::Pem::new("X509 CRL", crl.clone())),
    )
    .expect("write");

    for (name, state, untrusted, stock_tls, m) in &made {
        let (state, untrusted) = (*state, *untrusted);
        assert_eq!(m.status, state, "{name}: the status the factory reports");

        // `None` for the key types the stock TLS stack cannot take.
        let tls = stock_tls.then(|| rustls_handshake(m, &crl));
        let (verified, verify_text) = openssl_verify(m, &crl_pem);
        let page = confirmation_page(&app, m);
        match (state, untrusted) {
            ("valid", false) => {
                assert!(tls.as_ref().is_none_or(Result::is_ok), "{name}: {tls:?}");
                assert!(verified, "{name}: {verify_text}");
                let (code, body) = page.expect("the page answers");
                assert_eq!(code, 200, "{name}: {body}");
                assert_eq!(body["serial"], m.serial.as_str());
                assert_eq!(ocsp_status(&app, m), "good", "{name}");
            }
            ("valid", true) => {
                assert!(
                    tls.as_ref().is_none_or(|tls| matches!(
                        tls,
                        Err(rustls::Error::InvalidCertificate(
                            rustls::CertificateError::UnknownIssuer
                                | rustls::CertificateError::BadSignature
                        ))
                    )),
                    "{name}: {tls:?}"
                );
                assert!(!verified, "{name}: {verify_text}");
                assert!(page.is_none(), "{name}: the handshake must fail: {page:?}");
                assert_eq!(ocsp_status(&app, m), "unknown", "{name}: another root's");
            }
            ("expired", _) => {
                assert!(
                    tls.as_ref().is_none_or(|tls| matches!(
                        tls,
                        Err(rustls::Error::InvalidCertificate(
                            rustls::CertificateError::Expired
                                | rustls::CertificateError::ExpiredContext { .. }
                        ))
                    )),
                    "{name}: {tls:?}"
                );
                assert!(
                    verify_text.contains("certificate has expired"),
                    "{name}: {verify_text}"
                );
                assert!(page.is_none(), "{name}: {page:?}");
                assert_eq!(
                    ocsp_status(&app, m),
                    "good",
                    "{name}: not revoked, only expired"
                );
            }
            ("not_yet_valid", _) => {
                assert!(
                    tls.as_ref().is_none_or(|tls| matches!(
                        tls,
                        Err(rustls::Error::InvalidCertificate(
                            rustls::CertificateError::NotValidYet
                                | rustls::CertificateError::NotValidYetContext { .. }
                        ))
                    )),
                    "{name}: {tls:?}"
                );
                assert!(
                    verify_text.contains("certificate is not yet valid"),
                    "{name}: {verify_text}"
                );
                assert!(page.is_none(), "{name}: {page:?}");
            }
            ("revoked", _) => {
                assert!(
                    tls.as_ref().is_none_or(|tls| matches!(
                        tls,
                        Err(rustls::Error::InvalidCertificate(
                            rustls::CertificateError::Revoked
                        ))
                    )),
                    "{name}: {tls:?}"
                );
                assert!(
                    verify_text.contains("certificate revoked"),
                    "{name}: {verify_text}"
                );
                // The page's handshake has no CRL: the page itself refuses it.
                let (code, body) = page.expect("the page answers");
                assert_eq!(code, 403, "{name}: {body}");
                assert_eq!(body["type"], "urn:webra2-mock:problem:certificate-revoked");
                assert_eq!(ocsp_status(&app, m), "revoked", "{name}");
            }
            other => panic!("{other:?}"),
        }
    }

    // Listed like any other (the untrusted ones excepted), with their status.
    let (_, list) = app.admin_get("/admin/certificates?user_id=RP0001").await;
    let listed: Vec<(String, String)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["serial"].as_str().unwrap_or_default().to_owned(),
                c["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (name, _, untrusted, _, m) in &made {
        let found = listed.iter().find(|(s, _)| *s == m.serial);
        if *untrusted {
            assert!(found.is_none(), "{name} is not this CA's: {listed:?}");
        } else {
            assert_eq!(
                found.map(|(_, st)| st.as_str()),
                Some(m.status.as_str()),
                "{name}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_certificate_is_revocable_later_and_the_pkcs12_opens_with_the_pin() {
    let app = TestApp::spawn().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();

    // The default answer: PKCS#12 under the PIN, RSA-1024 as the real service's.
    let resp = app
        .http
        .post(format!("{}/admin/certificates", app.admin_url))
        .json(&json!({"user_id": "RP0002", "pin": PIN, "key": "rsa-1024", "state": "valid"}))
        .send()
        .await
        .expect("admin");
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["content-type"], "application/x-pkcs12");
    let p12 = dir.join("rp.p12");
    std::fs::write(&p12, resp.bytes().await.expect("body")).expect("write");
    let out = openssl(&[
        "pkcs12",
        "-in",
        path(&p12),
        "-passin",
        &format!("pass:{PIN}"),
        "-nokeys",
        "-clcerts",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leaf = dir.join("rp.pem");
    std::fs::write(&leaf, &out.stdout).expect("write");
    let text =
        String::from_utf8_lossy(&openssl(&["x509", "-in", path(&leaf), "-noout", "-text"]).stdout)
            .into_owned();
    assert!(text.contains("Public-Key: (1024 bit)"), "{text}");
    assert!(
        text.contains("CN=RP0002") || text.contains("CN = RP0002"),
        "{text}"
    );
    let wrong = openssl(&[
        "pkcs12",
        "-in",
        path(&p12),
        "-passin",
        "pass:wrong",
        "-nokeys",
    ]);
    assert!(!wrong.status.success());

    // Revoked later through the usual route: the CRL and OCSP say so.
    let serial = String::from_utf8_lossy(
        &openssl(&["x509", "-in", path(&leaf), "-noout", "-serial"]).stdout,
    )
    .trim()
    .trim_start_matches("serial=")
    .to_owned();
    let resp = app
        .http
        .post(format!(
            "{}/admin/certificates/{serial}/revoke",
            app.admin_url
        ))
        .json(&json!({"reason": "superseded"}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::OK);
    let crl = app
        .http
        .get(format!("{}/ca/crl", app.public_url))
        .send()
        .await
        .expect("CRL")
        .bytes()
        .await
        .expect("body");
    let crl_path = dir.join("crl.der");
    std::fs::write(&crl_path, &crl).expect("write");
    let crl_text = String::from_utf8_lossy(
        &openssl(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            path(&crl_path),
            "-noout",
            "-text",
        ])
        .stdout,
    )
    .into_owned();
    assert!(crl_text.contains(&serial), "{crl_text}");
    let made = Made {
        serial: serial.clone(),
        status: "revoked".into(),
        cert: leaf.clone(),
        key: leaf.clone(),
        encrypted_key: leaf,
    };
    assert_eq!(ocsp_status(&app, &made), "revoked");
    app.stop().await;
}

#[tokio::test]
async fn orders_that_make_no_sense_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let base = json!({"user_id": "RP0003", "pin": PIN, "key": "p256", "state": "valid"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for body in [
        with("key", json!("rsa-512")),
        with("state", json!("lost")),
        with("pin", json!("pin-12")),
        with("user_id", json!("")),
        with("reason", json!("keyCompromise")),
        with("not_before", json!("yesterday")),
        with("issuer", json!("someone")),
        with("extra", json!(1)),
        json!({"user_id": "RP0003", "pin": PIN, "key": "p256", "state": "revoked", "reason": "lostPin"}),
        json!({"user_id": "RP0003", "pin": PIN, "key": "p256", "state": "revoked", "issuer": "untrusted"}),
        json!({"user_id": "RP0003", "pin": PIN, "key": "p256", "state": "expired", "not_after": "2999-01-01T00:00:00Z"}),
        json!({"user_id": "RP0003", "pin": PIN, "key": "p256", "state": "valid",
               "not_before": "2026-01-02T00:00:00Z", "not_after": "2026-01-01T00:00:00Z"}),
    ] {
        let resp = app
            .http
            .post(format!("{}/admin/certificates", app.admin_url))
            .json(&body)
            .send()
            .await
            .expect("admin");
        assert_problem(resp, 400, "bad-request").await;
    }
    let (_, list) = app.admin_get("/admin/certificates?user_id=RP0003").await;
    assert_eq!(list, json!([]), "nothing was made");
    app.stop().await;
}
