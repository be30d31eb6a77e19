//! Tests of the confirmation listener: the handler through `oneshot`, and the
//! whole TLS path with curl (OpenSSL at `@SECLEVEL=0`, RSA-1024 client keys).

use super::*;
use crate::config::Settings;
use crate::http::confirm_routes as router;
use crate::service::{describe, Parts, Policy, Service};
use crate::state::{AppState, SharedState};
use crate::store::{
    AuthFailure, CertificateRecord, CrlRecord, EnrollmentRecord, IssueOutcome, MailRecord,
    NewEnrollment, RevokeOutcome, SessionRecord, Store, StoreError,
};
use anyhow::{anyhow, bail, Context};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::header;
use http_body_util::BodyExt;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webra2_ca::{IssueRequest, IssuedCert, Profile, Root};
use webra2_wire::{Confirmation, ProblemKind};
use webra2_wire::{Problem, PROBLEM_CONTENT_TYPE};

/// Only `certificate` (and `revoke`, to set up revoked records) behave; the
/// confirmation page uses nothing else.
#[derive(Default)]
struct FakeStore {
    certificates: Mutex<HashMap<String, CertificateRecord>>,
}

impl FakeStore {
    fn put(&self, record: CertificateRecord) {
        self.certificates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record.serial.clone(), record);
    }
}

#[async_trait]
impl Store for FakeStore {
    async fn create_enrollment(&self, _: &NewEnrollment, _: &MailRecord) -> Result<(), StoreError> {
        Ok(())
    }
    async fn enrollment_by_token(&self, _: &str) -> Result<Option<EnrollmentRecord>, StoreError> {
        Ok(None)
    }
    async fn enrollment(&self, _: &str) -> Result<Option<EnrollmentRecord>, StoreError> {
        Ok(None)
    }
    async fn record_failed_auth(
        &self,
        _: &str,
        _: u32,
        _: OffsetDateTime,
    ) -> Result<AuthFailure, StoreError> {
        Ok(AuthFailure::NotOpen)
    }
    async fn record_successful_auth(
        &self,
        _: &SessionRecord,
        _: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn session(&self, _: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(None)
    }
    async fn issue(
        &self,
        _: &str,
        _: &CertificateRecord,
        _: OffsetDateTime,
        _: Option<&str>,
    ) -> Result<IssueOutcome, StoreError> {
        Ok(IssueOutcome::NotOpen)
    }
    async fn revoked(&self) -> Result<Vec<CertificateRecord>, StoreError> {
        Ok(Vec::new())
    }
    async fn next_crl_number(&self) -> Result<u64, StoreError> {
        Ok(1)
    }
    async fn save_crl(&self, _: &CrlRecord) -> Result<(), StoreError> {
        Ok(())
    }
    async fn current_crl(&self) -> Result<Option<CrlRecord>, StoreError> {
        Ok(None)
    }
    async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        Ok(self
            .certificates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(serial)
            .cloned())
    }
    async fn certificates(&self, _: Option<&str>) -> Result<Vec<CertificateRecord>, StoreError> {
        Ok(Vec::new())
    }
    async fn revoke(
        &self,
        serial: &str,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<RevokeOutcome, StoreError> {
        let mut certs = self.certificates.lock().unwrap_or_else(|e| e.into_inner());
        match certs.get_mut(serial) {
            None => Ok(RevokeOutcome::NotFound),
            Some(c) if c.revoked_at.is_some() => Ok(RevokeOutcome::AlreadyRevoked),
            Some(c) => {
                c.revoked_at = Some(at);
                c.reason = Some(reason.to_owned());
                Ok(RevokeOutcome::Revoked)
            }
        }
    }
    async fn mails(&self, _: Option<&str>) -> Result<Vec<MailRecord>, StoreError> {
        Ok(Vec::new())
    }
}

fn webra2_ca(root: Root) -> anyhow::Result<Arc<Ca>> {
    let profile = Profile::builtin("webra2").ok_or_else(|| anyhow!("no webra2 profile"))?;
    Ok(Arc::new(Ca::new(root, profile, "http://x/ca/crl")))
}

fn state(ca: Arc<Ca>, store: Arc<FakeStore>, clock: Clock) -> AppState {
    let settings = Settings::default();
    let service = Service::new(Parts {
        store,
        ca,
        clock,
        policy: Policy {
            lock_after: settings.lock_after,
            session_minutes: settings.session_minutes,
            url_valid_days: settings.url_valid_days,
        },
        public_url: "http://127.0.0.1:8080".to_owned(),
        confirm_url: "https://127.0.0.1:8443/confirm".to_owned(),
        faults: crate::faults::Faults::new(),
        metrics: Arc::new(crate::metrics::Metrics::new()),
        mailer: None,
    });
    AppState::new(SharedState {
        service,
        settings: Arc::new(settings),
    })
}

/// A client certificate with its RSA key.
struct Client {
    key: RsaPrivateKey,
    cert: IssuedCert,
}

/// Issues a certificate to `user_id` for a fresh RSA key of `bits`, the way
/// Step 2 does: `now` is notBefore, validity is anchored at a mail a month earlier.
fn issue(ca: &Ca, user_id: &str, bits: usize, now: OffsetDateTime) -> anyhow::Result<Client> {
    issue_for(
        ca,
        RsaPrivateKey::new(&mut rand::thread_rng(), bits)?,
        user_id,
        now,
    )
}

fn issue_for(
    ca: &Ca,
    key: RsaPrivateKey,
    user_id: &str,
    now: OffsetDateTime,
) -> anyhow::Result<Client> {
    let spki = key.to_public_key().to_public_key_der()?;
    let cert = ca.issue(&IssueRequest {
        spki_der: spki.as_bytes(),
        user_id,
        email: "u0001@example.test",
        mail_sent_at: now - time::Duration::days(30),
        now,
    })?;
    Ok(Client { key, cert })
}

fn record(client: &Client) -> CertificateRecord {
    CertificateRecord {
        serial: client.cert.serial.clone(),
        user_id: "U0001".to_owned(),
        enrollment_id: "E1".to_owned(),
        der: client.cert.der.clone(),
        not_before: client.cert.not_before,
        not_after: client.cert.not_after,
        revoked_at: None,
        reason: None,
    }
}

/// Writes the client's certificate and key as PEM (curl wants PEM), returns their paths.
fn write_client(dir: &Path, name: &str, client: &Client) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert = dir.join(format!("{name}.cert.pem"));
    let key = dir.join(format!("{name}.key.pem"));
    std::fs::write(
        &cert,
        webra2_wire::pem_encode("CERTIFICATE", &client.cert.der),
    )?;
    std::fs::write(&key, client.key.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
    Ok((cert, key))
}

/// A running confirm listener on a free port.
struct Server {
    port: u16,
    dir: tempfile::TempDir,
    root_pem: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(ca: Arc<Ca>, store: Arc<FakeStore>, clock: Clock) -> anyhow::Result<Server> {
        let tls = tls_config(
            &ca,
            &["localhost".to_owned(), "127.0.0.1".to_owned()],
            clock.clone(),
        )?;
        Self::start_with(ca, store, clock, tls).await
    }

    async fn start_with(
        ca: Arc<Ca>,
        store: Arc<FakeStore>,
        clock: Clock,
        tls: Arc<rustls::ServerConfig>,
    ) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let root_pem = dir.path().join("root.pem");
        std::fs::write(
            &root_pem,
            webra2_wire::pem_encode("CERTIFICATE", ca.root().cert_der()),
        )?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(state(ca, store, clock));
        let limits = crate::Settings::for_tests().limits();
        let task = tokio::spawn(serve(listener, tls, app, limits, async move {
            let _ = stopped.await;
        }));
        Ok(Server {
            port,
            dir,
            root_pem,
            stop: Some(stop),
            task,
        })
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/confirm", self.port)
    }

    /// Stops the server and checks that it returns promptly and cleanly.
    async fn shut_down(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .context("serve did not return after shutdown")???;
        Ok(())
    }
}

/// What curl saw: the HTTP status (`0` if there was no response), the body,
/// and its error text.
#[derive(Debug)]
struct CurlResult {
    status: u16,
    body: String,
    stderr: String,
}

async fn curl_available() -> bool {
    let found = tokio::process::Command::new("curl")
        .arg("--version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("NOTE: curl is not installed; skipping the end-to-end TLS check");
    }
    found
}

/// An OpenSSL configuration whose default security level is 0.
///
/// curl 7.88 loads `--cert` before it applies `--ciphers`, so
/// `--ciphers DEFAULT@SECLEVEL=0` alone still refuses an RSA-1024 certificate
/// ("ee key too small"); the level has to be the context's default already.
const OPENSSL_SECLEVEL_0: &str = "\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT@SECLEVEL=0
";

/// `OPENSSL_CONF=seclevel0.cnf curl --ciphers DEFAULT@SECLEVEL=0 --cacert root.pem
/// [--cert C --key K] ARGS URL`.
async fn curl(
    server: &Server,
    client: Option<(&Path, &Path)>,
    extra: &[&str],
) -> anyhow::Result<CurlResult> {
    let openssl_conf = server.dir.path().join("seclevel0.cnf");
    std::fs::write(&openssl_conf, OPENSSL_SECLEVEL_0)?;
    let mut cmd = tokio::process::Command::new("curl");
    cmd.env("OPENSSL_CONF", &openssl_conf)
        .args(["-sS", "--max-time", "20", "--ciphers", "DEFAULT@SECLEVEL=0"])
        .arg("--cacert")
        .arg(&server.root_pem);
    if let Some((cert, key)) = client {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    cmd.args(extra)
        .args(["-w", "\n%{http_code}"])
        .arg(server.url());
    let out = cmd.output().await?;
    let stdout = String::from_utf8(out.stdout)?;
    let (body, code) = stdout
        .rsplit_once('\n')
        .ok_or_else(|| anyhow!("no status line from curl: {stdout:?}"))?;
    Ok(CurlResult {
        status: code.trim().parse()?,
        body: body.to_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

const JSON: [&str; 2] = ["-H", "Accept: application/json"];

#[tokio::test]
async fn curl_at_seclevel_0_with_an_rsa_1024_certificate_gets_its_confirmation(
) -> anyhow::Result<()> {
    if !curl_available().await {
        return Ok(());
    }
    let ca = webra2_ca(Root::fixture())?;
    let clock = Clock::real();
    let client = issue(&ca, "U0001", 1024, clock.now())?;
    let store = Arc::new(FakeStore::default());
    store.put(record(&client));
    let server = Server::start(ca, store, clock).await?;
    let (cert, key) = write_client(server.dir.path(), "u0001", &client)?;

    // TLS 1.3 (rsa_pss_rsae_sha256 by the 1024-bit key) and TLS 1.2 (PKCS#1).
    for version in [&["--tlsv1.3"][..], &["--tlsv1.2", "--tls-max", "1.2"][..]] {
        let args: Vec<&str> = version.iter().chain(JSON.iter()).copied().collect();
        let got = curl(&server, Some((&cert, &key)), &args).await?;
        assert_eq!(got.status, 200, "{version:?}: {got:?}");
        let confirmation: Confirmation = serde_json::from_str(&got.body)?;
        assert_eq!(confirmation.status, "ok");
        assert_eq!(confirmation.serial, client.cert.serial);
        assert_eq!(confirmation.user_id, "U0001");
        assert_eq!(confirmation.subject, client.cert.subject);
        assert_eq!(confirmation.issuer, server_root_subject()?);
        assert_eq!(confirmation.not_before, client.cert.not_before);
        assert_eq!(confirmation.not_after, client.cert.not_after);
        assert_eq!(confirmation.not_after.offset(), webra2_wire::JST);
    }
    server.shut_down().await
}

fn server_root_subject() -> anyhow::Result<String> {
    Ok(Root::fixture().subject())
}

/// Python's `ssl` sets the level on its own context before it loads the key,
/// so `set_ciphers('DEFAULT@SECLEVEL=0')` is enough there.
const PYTHON_CLIENT: &str = r#"
import http.client, ssl, sys
root, cert, key, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.set_ciphers("DEFAULT@SECLEVEL=0")
ctx.load_verify_locations(root)
ctx.load_cert_chain(cert, key)
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
conn.request("GET", "/confirm", headers={"Accept": "application/json"})
resp = conn.getresponse()
print(resp.status)
print(resp.read().decode())
"#;

#[tokio::test]
async fn python_ssl_at_seclevel_0_with_an_rsa_1024_certificate_gets_its_confirmation(
) -> anyhow::Result<()> {
    let found = tokio::process::Command::new("python3")
        .arg("--version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("NOTE: python3 is not installed; skipping the Python ssl check");
        return Ok(());
    }
    let ca = webra2_ca(Root::fixture())?;
    let clock = Clock::real();
    let client = issue(&ca, "U0001", 1024, clock.now())?;
    let server = Server::start(ca, Arc::new(FakeStore::default()), clock).await?;
    let (cert, key) = write_client(server.dir.path(), "u0001", &client)?;
    let out = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(PYTHON_CLIENT)
        .arg(&server.root_pem)
        .arg(&cert)
        .arg(&key)
        .arg(server.port.to_string())
        .output()
        .await?;
    let stdout = String::from_utf8(out.stdout)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (status, body) = stdout
        .split_once('\n')
        .ok_or_else(|| anyhow!("python said {stdout:?}, {stderr}"))?;
    assert_eq!(status, "200", "{stdout} {stderr}");
    let confirmation: Confirmation = serde_json::from_str(body.trim())?;
    assert_eq!(confirmation.serial, client.cert.serial);
    server.shut_down().await
}

#[tokio::test]
async fn no_client_certificate_gets_401_certificate_required() -> anyhow::Result<()> {
    if !curl_available().await {
        return Ok(());
    }
    let ca = webra2_ca(Root::fixture())?;
    let server = Server::start(ca, Arc::new(FakeStore::default()), Clock::real()).await?;
    let got = curl(&server, None, &["-i", "-H", "Accept: application/json"]).await?;
    assert_eq!(got.status, 401, "{got:?}");
    assert!(
        got.body.to_ascii_lowercase().contains(PROBLEM_CONTENT_TYPE),
        "{}",
        got.body
    );
    let json = got
        .body
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .ok_or_else(|| anyhow!("no body in {:?}", got.body))?;
    let problem: Problem = serde_json::from_str(json)?;
    assert_eq!(problem.kind(), Some(ProblemKind::CertificateRequired));
    server.shut_down().await
}

#[tokio::test]
async fn a_certificate_from_another_root_is_refused_in_the_handshake() -> anyhow::Result<()> {
    if !curl_available().await {
        return Ok(());
    }
    let ca = webra2_ca(Root::fixture())?;
    let stranger_ca = webra2_ca(Root::generate()?)?;
    let clock = Clock::real();
    let stranger = issue(&stranger_ca, "U0001", 1024, clock.now())?;
    let server = Server::start(ca, Arc::new(FakeStore::default()), clock).await?;
    let (cert, key) = write_client(server.dir.path(), "stranger", &stranger)?;
    for version in [&["--tlsv1.3"][..], &["--tlsv1.2", "--tls-max", "1.2"][..]] {
        let got = curl(&server, Some((&cert, &key)), version).await?;
        assert_eq!(
            got.status, 0,
            "{version:?}: no HTTP answer expected: {got:?}"
        );
        assert!(
            got.stderr.to_ascii_lowercase().contains("alert"),
            "{version:?}: a TLS alert expected: {got:?}"
        );
    }
    server.shut_down().await
}

#[tokio::test]
async fn a_revoked_certificate_gets_403_certificate_revoked() -> anyhow::Result<()> {
    if !curl_available().await {
        return Ok(());
    }
    let ca = webra2_ca(Root::fixture())?;
    let clock = Clock::real();
    let client = issue(&ca, "U0001", 1024, clock.now())?;
    let store = Arc::new(FakeStore::default());
    store.put(record(&client));
    store
        .revoke(&client.cert.serial, clock.now(), "keyCompromise")
        .await?;
    let server = Server::start(ca, store, clock).await?;
    let (cert, key) = write_client(server.dir.path(), "u0001", &client)?;
    let got = curl(&server, Some((&cert, &key)), &JSON).await?;
    assert_eq!(got.status, 403, "{got:?}");
    let problem: Problem = serde_json::from_str(&got.body)?;
    assert_eq!(problem.kind(), Some(ProblemKind::CertificateRevoked));
    server.shut_down().await
}

#[tokio::test]
async fn a_service_clock_fixed_in_2030_accepts_a_certificate_issued_in_2030_and_real_time_does_not(
) -> anyhow::Result<()> {
    if !curl_available().await {
        return Ok(());
    }
    let in_2030 = datetime!(2030-06-01 10:00 +09:00);
    let ca = webra2_ca(Root::fixture())?;
    let client = issue(&ca, "U2030", 1024, in_2030)?;

    for (clock, expected) in [(Clock::fixed(in_2030), 200), (Clock::real(), 0)] {
        // The server certificate is issued at the service clock's now too; the
        // CA backdates it ten years, so curl, judging it by real time, accepts it.
        let server = Server::start(ca.clone(), Arc::new(FakeStore::default()), clock).await?;
        let (cert, key) = write_client(server.dir.path(), "u2030", &client)?;
        let got = curl(&server, Some((&cert, &key)), &JSON).await?;
        assert_eq!(got.status, expected, "{got:?}");
        if expected == 200 {
            let confirmation: Confirmation = serde_json::from_str(&got.body)?;
            assert_eq!(confirmation.serial, client.cert.serial);
            assert_eq!(confirmation.not_before, in_2030);
        }
        server.shut_down().await?;
    }
    Ok(())
}

#[tokio::test]
async fn garbage_and_abandoned_handshakes_do_not_stop_the_listener() -> anyhow::Result<()> {
    if !curl_available().await {
        return Ok(());
    }
    let ca = webra2_ca(Root::fixture())?;
    let clock = Clock::real();
    let client = issue(&ca, "U0001", 1024, clock.now())?;
    let server = Server::start(ca, Arc::new(FakeStore::default()), clock).await?;
    let mut junk = TcpStream::connect(("127.0.0.1", server.port)).await?;
    junk.write_all(b"GET /confirm HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    let _idle = TcpStream::connect(("127.0.0.1", server.port)).await?;
    let (cert, key) = write_client(server.dir.path(), "u0001", &client)?;
    let got = curl(&server, Some((&cert, &key)), &JSON).await?;
    assert_eq!(got.status, 200, "{got:?}");
    // The idle connection is still open: shutdown must not wait for its handshake.
    server.shut_down().await
}

/// Calls the router as the TLS layer would, with `cert` as the verified peer.
async fn get_confirm(
    app: Router,
    cert: Option<&[u8]>,
    accept: &str,
) -> anyhow::Result<(u16, String, String)> {
    let mut req = Request::builder()
        .uri("/confirm")
        .header(header::ACCEPT, accept)
        .body(Body::empty())?;
    if let Some(der) = cert {
        req.extensions_mut()
            .insert(PeerCertificate(CertificateDer::from(der.to_vec())));
    }
    let resp = app.oneshot(req).await?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, content_type, String::from_utf8(body.to_vec())?))
}

#[tokio::test]
async fn a_browser_gets_the_japanese_confirmation_page() -> anyhow::Result<()> {
    let ca = webra2_ca(Root::fixture())?;
    let clock = Clock::real();
    let client = issue(&ca, "U0001", 1024, clock.now())?;
    let app = router(state(ca, Arc::new(FakeStore::default()), clock));
    let (status, content_type, body) = get_confirm(
        app,
        Some(&client.cert.der),
        "text/html,application/xhtml+xml",
    )
    .await?;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("<title>証明書確認ページ</title>"), "{body}");
    for label in ["発行先", "発行者", "有効期間", "シリアル番号"] {
        assert!(body.contains(label), "{label} missing: {body}");
    }
    assert!(body.contains(&client.cert.serial), "{body}");
    assert!(body.contains("CN=U0001"), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_certificate_unknown_to_the_store_but_issued_by_the_root_passes() -> anyhow::Result<()> {
    let ca = webra2_ca(Root::fixture())?;
    let clock = Clock::real();
    let client = issue(&ca, "U0009", 1024, clock.now())?;
    let app = router(state(ca, Arc::new(FakeStore::default()), clock));
    let (status, _, body) = get_confirm(app, Some(&client.cert.der), "application/json").await?;
    assert_eq!(status, 200, "{body}");
    let confirmation: Confirmation = serde_json::from_str(&body)?;
    assert_eq!(confirmation.user_id, "U0009");
    Ok(())
}

#[tokio::test]
async fn without_a_peer_certificate_the_handler_answers_certificate_required_even_to_browsers(
) -> anyhow::Result<()> {
    let ca = webra2_ca(Root::fixture())?;
    let app = router(state(ca, Arc::new(FakeStore::default()), Clock::real()));
    let (status, content_type, body) = get_confirm(app, None, "text/html").await?;
    assert_eq!(status, 401);
    assert_eq!(content_type, PROBLEM_CONTENT_TYPE);
    let problem: Problem = serde_json::from_str(&body)?;
    assert_eq!(problem.kind(), Some(ProblemKind::CertificateRequired));
    Ok(())
}

#[tokio::test]
async fn a_peer_certificate_that_is_not_x509_is_a_bad_request_not_a_panic() -> anyhow::Result<()> {
    let ca = webra2_ca(Root::fixture())?;
    let app = router(state(ca, Arc::new(FakeStore::default()), Clock::real()));
    let (status, _, body) =
        get_confirm(app, Some(b"\x30\x03\x02\x01\x00"), "application/json").await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}

#[test]
fn the_serial_is_printed_without_the_sign_padding_zero() -> anyhow::Result<()> {
    let ca = webra2_ca(Root::fixture())?;
    // Random serials: about half have the top bit set and so a leading 00 in DER.
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 1024)?;
    for _ in 0..8 {
        let client = issue_for(&ca, key.clone(), "U0001", OffsetDateTime::now_utc())?;
        let confirmation = describe(&client.cert.der).ok_or_else(|| anyhow!("unreadable"))?;
        assert_eq!(confirmation.serial, client.cert.serial);
        if confirmation.serial.starts_with("00") {
            bail!("leading zero byte in {}", confirmation.serial);
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_route_or_method_the_confirm_listener_lacks_is_a_problem_document() -> anyhow::Result<()>
{
    let ca = webra2_ca(Root::fixture())?;
    let app = crate::http::confirm_router(state(ca, Arc::new(FakeStore::default()), Clock::real()));
    for (method, path, status) in [("GET", "/nope", 404), ("POST", "/confirm", 405)] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())?;
        let resp = app.clone().oneshot(req).await?;
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(content_type, PROBLEM_CONTENT_TYPE, "{method} {path}");
        let body = resp.into_body().collect().await?.to_bytes();
        let problem: Problem = serde_json::from_slice(&body)?;
        assert_eq!(problem.status, status);
    }
    Ok(())
}
