//! The CI harness as a user's test uses it: `MockCa` in-process (many at once),
//! injected faults seen through the client, root modes, a real SMTP delivery,
//! JSON logs, and the docker-compose wiring run as plain processes.

use crate::helpers::{bin, http};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use webra2_client::{e2e, E2eOptions, Progress, Report, Status, Step};
use webra2_mock::{Application, MockCa, RootSource, Settings};
use webra2_wire::FaultSpec;

/// A progress that keeps every note (the client's retry messages among them).
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl Progress for Notes {
    fn step(&self, _: &Step) {}
    fn note(&self, msg: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(msg.to_owned());
    }
}

impl Notes {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn options(ca: &MockCa, user: &str, store: &Path) -> E2eOptions {
    let mut opts = E2eOptions::new(ca.admin_url(), user);
    opts.store_dir = Some(store.to_path_buf());
    opts.auth_password = Some("auth-pw-1".into());
    opts.pin = Some("Pin1234".into());
    opts.checks.expect_root_sha1 = Some(ca.root_sha1().to_owned());
    opts
}

fn status_of(report: &Report, id: &str) -> Option<Status> {
    report.step(id).map(|s| s.status)
}

fn port_of(url: &str) -> u16 {
    let authority = url
        .split("://")
        .nth(1)
        .expect("scheme")
        .split('/')
        .next()
        .expect("authority");
    authority
        .rsplit(':')
        .next()
        .expect("port")
        .parse()
        .expect("numeric port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_mock_cas_run_side_by_side_each_on_its_own_ports() {
    let started = futures::future::join_all((0..50).map(|_| MockCa::start())).await;
    let cas: Vec<MockCa> = started.into_iter().map(|r| r.expect("starts")).collect();
    let client = http();
    let mut ports = HashSet::new();
    for ca in &cas {
        let resp = client
            .get(format!("{}/healthz", ca.public_url()))
            .send()
            .await
            .expect("healthz answers");
        assert_eq!(resp.status(), 200);
        for url in [ca.public_url(), ca.admin_url(), ca.confirm_url()] {
            assert!(
                ports.insert(port_of(url)),
                "port of {url} already taken by another instance"
            );
        }
    }
    assert_eq!(ports.len(), 150);
    // Dropping stops them: the ports are free again.
    let first = port_of(cas[0].public_url());
    drop(cas);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", first)).is_ok(),
        "a dropped MockCa releases its port"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_retries_an_injected_503_then_refuses_a_wrong_root() {
    let ca = MockCa::builder()
        .faults([
            FaultSpec::status("/issue/{token}/csr", 503)
                .retry_after(0)
                .times(1),
            FaultSpec::wrong_root(),
        ])
        .start()
        .await
        .expect("starts");
    let store = tempfile::tempdir().expect("tempdir");
    let notes = Notes::default();
    let report = e2e(&options(&ca, "U0001", store.path()), &notes).await;

    assert!(
        notes.all().iter().any(|n| n.contains("HTTP 503, retrying")),
        "the client said it retried: {:?}",
        notes.all()
    );
    assert_eq!(
        status_of(&report, "2"),
        Some(Status::Pass),
        "the retried CSR was issued"
    );
    assert!(!report.ok, "a wrong root must fail the run");
    let pin = report.step("3-1").expect("the fingerprint step ran");
    assert_eq!(pin.status, Status::Fail, "{}", pin.line());
    assert!(
        pin.detail.contains(ca.root_sha1()),
        "says what was expected: {}",
        pin.line()
    );

    let faults = ca.admin().faults().await.expect("faults");
    assert_eq!(
        faults.faults,
        vec![FaultSpec::wrong_root()],
        "the 503 was used up"
    );
    let metrics = ca.admin().metrics().await.expect("metrics");
    assert!(
        metrics.contains("webra2_faults_injected_total{kind=\"route\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("webra2_faults_injected_total{kind=\"wrong_root\"}"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_maintenance_makes_the_client_give_up_clearly_and_issues_nothing() {
    let ca = MockCa::builder()
        .faults([FaultSpec::ca_maintenance().retry_after(1)])
        .start()
        .await
        .expect("starts");
    let store = tempfile::tempdir().expect("tempdir");
    let report = e2e(&options(&ca, "U0002", store.path()), &Notes::default()).await;
    let csr = report.step("2-1").expect("the CSR step ran");
    assert_eq!(csr.status, Status::Fail);
    assert!(
        csr.detail.contains("gave up") && csr.detail.contains("ca-maintenance"),
        "{}",
        csr.line()
    );
    let mails = ca.admin().mails(None).await.expect("mails");
    let enrollments = ca
        .admin()
        .certificates(Some("U0002"))
        .await
        .expect("certificates");
    assert!(enrollments.is_empty(), "no certificate was issued");
    assert_eq!(mails.len(), 1);

    // Cleared, the same URL still works: the fault changed no stored state.
    ca.admin().clear_faults().await.expect("cleared");
    let created = ca
        .admin()
        .prepare_new("U0003", "u3@example.test", "pw")
        .await
        .expect("prepared");
    let view = ca
        .admin()
        .enrollment(&created.enrollment_id)
        .await
        .expect("view");
    assert_eq!(view.state.as_str(), "pending");
}

#[tokio::test]
async fn route_faults_delay_cut_and_replace_answers_until_cleared() {
    let ca = MockCa::builder()
        .faults([
            FaultSpec::latency("/ca/root.pem", 300),
            FaultSpec::truncate("/ca/root/fingerprint", 10),
            FaultSpec::status("/healthz", 429).retry_after(7).times(1),
        ])
        .start()
        .await
        .expect("starts");
    let client = http();
    let url = |p: &str| format!("{}{p}", ca.public_url());

    let throttled = client.get(url("/healthz")).send().await.expect("answers");
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "7");
    assert_eq!(
        throttled.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = throttled.json().await.expect("a problem document");
    assert_eq!(problem["type"], "urn:webra2-mock:problem:injected-fault");
    assert_eq!(
        client
            .get(url("/healthz"))
            .send()
            .await
            .expect("answers")
            .status(),
        200
    );

    let cut = client
        .get(url("/ca/root/fingerprint"))
        .send()
        .await
        .expect("answers");
    assert_eq!(cut.bytes().await.expect("body").len(), 10);

    let t = std::time::Instant::now();
    let pem = client
        .get(url("/ca/root.pem"))
        .send()
        .await
        .expect("answers");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(pem.text().await.expect("pem"), ca.root_pem());

    ca.admin().clear_faults().await.expect("cleared");
    let whole: Value = client
        .get(url("/ca/root/fingerprint"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("whole JSON again");
    assert_eq!(whole["sha1"], ca.root_sha1());
}

#[tokio::test]
async fn faults_put_over_http_are_checked_and_expire_url_now_expires_the_url() {
    let ca = MockCa::start().await.expect("starts");
    let client = http();
    let created = ca
        .admin()
        .prepare_new("U0004", "u4@example.test", "pw")
        .await
        .expect("prepared");
    let faults_url = format!("{}/admin/faults", ca.admin_url());

    let bad = client
        .put(&faults_url)
        .json(&json!({"faults": [{"kind": "wrong_root"}, {"kind": "expire_url_now", "enrollment_id": "nope"}]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(bad.status(), 404, "an unknown enrollment is refused");
    assert!(
        ca.admin().faults().await.expect("faults").faults.is_empty(),
        "and nothing was put"
    );

    let nonsense = client
        .put(&faults_url)
        .json(&json!({"faults": [{"route": "/issue/{token}/csr", "status": 200}]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(nonsense.status(), 400);

    let put = client
        .put(&faults_url)
        .json(&json!({"faults": [{"kind": "expire_url_now", "enrollment_id": created.enrollment_id}]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(put.status(), 200);
    let step1 = client
        .get(&created.one_time_url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("answers");
    assert_eq!(step1.status(), 410);
    let problem: Value = step1.json().await.expect("problem");
    assert_eq!(problem["type"], "urn:webra2-mock:problem:url-expired");

    let cleared = client.delete(&faults_url).send().await.expect("answers");
    assert_eq!(cleared.status(), 200);
    assert_eq!(
        cleared.json::<Value>().await.expect("json"),
        json!({"faults": []})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_roots_differ_at_every_start_and_the_fixture_root_never_changes() {
    let a = MockCa::builder()
        .root(RootSource::Ephemeral)
        .start()
        .await
        .expect("starts");
    let b = MockCa::builder()
        .root(RootSource::Ephemeral)
        .start()
        .await
        .expect("starts");
    let f1 = MockCa::start().await.expect("starts");
    let f2 = MockCa::start().await.expect("starts");
    assert_ne!(a.root_sha1(), b.root_sha1());
    assert_ne!(a.root_sha1(), f1.root_sha1());
    assert_eq!(f1.root_sha1(), f2.root_sha1());
    assert_eq!(f1.root_sha1(), webra2_client::fixture_root_sha1());

    // The whole flow works under an ephemeral root for a client that pins it.
    let store = tempfile::tempdir().expect("tempdir");
    let report = e2e(&options(&a, "U0005", store.path()), &Notes::default()).await;
    let failed: Vec<String> = report
        .steps
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| s.line())
        .collect();
    assert!(report.ok, "{failed:#?}");

    let mut settings = Settings::for_tests();
    settings.root = RootSource::Ephemeral;
    let app = Application::build(settings).await.expect("builds");
    let line = app.ready_line();
    assert!(line.contains(" root=ephemeral "), "{line}");
    assert!(
        line.contains(&format!(
            "root_sha1=\"{}\"",
            app.state().service.ca().root().sha1_fingerprint()
        )),
        "{line}"
    );
}

#[tokio::test]
async fn a_root_from_files_is_the_one_served() {
    let root = webra2_ca::Root::generate().expect("a root");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("root.pem"), dir.path().join("root.key"));
    std::fs::write(&cert, root.cert_pem()).expect("write");
    std::fs::write(&key, root.key_pem()).expect("write");
    let ca = MockCa::builder()
        .root(RootSource::Files { cert, key })
        .start()
        .await
        .expect("starts");
    assert_eq!(ca.root_sha1(), root.sha1_fingerprint());
    let served: Value = http()
        .get(format!("{}/ca/root/fingerprint", ca.public_url()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(served["sha1"], root.sha1_fingerprint());
}

// ---- a minimal SMTP sink ----

/// An SMTP server that accepts every mail and hands over each DATA it gets.
async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = smtp_session(socket, tx).await;
            });
        }
    });
    (port, rx)
}

async fn smtp_session(
    socket: tokio::net::TcpStream,
    tx: mpsc::UnboundedSender<Vec<u8>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = AsyncBufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let verb = String::from_utf8_lossy(&line).to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"]
            .iter()
            .any(|v| verb.starts_with(v))
        {
            b"250 OK\r\n"
        } else if verb.starts_with("DATA") {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" || line == b".\n" {
                    break;
                }
                // Dot-stuffing (RFC 5321 4.5.2).
                let unstuffed = if line.starts_with(b"..") {
                    &line[1..]
                } else {
                    &line[..]
                };
                data.extend_from_slice(unstuffed);
            }
            let _ = tx.send(data);
            b"250 queued\r\n"
        } else if verb.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_smtp_delivery_carries_the_one_time_url_in_japanese() {
    let (port, mut inbox) = smtp_sink().await;
    let ca = MockCa::builder()
        .smtp_url(format!("smtp://127.0.0.1:{port}"))
        .start()
        .await
        .expect("starts");
    let created = ca
        .admin()
        .prepare_new("U0006", "u0006@example.test", "secret-pw-6")
        .await
        .expect("prepared");
    let raw = tokio::time::timeout(Duration::from_secs(15), inbox.recv())
        .await
        .expect("a mail within 15 s")
        .expect("the sink is up");

    let message = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("a MIME message");
    let body = message.body_text(0).expect("a text body").into_owned();
    let subject = message.subject().expect("a subject");
    assert!(
        subject.contains("証明書発行サイト") && subject.contains("U0006"),
        "{subject}"
    );
    assert!(body.contains(&created.one_time_url), "{body}");
    assert!(body.contains("ユーザーID: U0006"), "{body}");
    assert!(body.contains("拇印(SHA-1)"), "the manual's advice: {body}");
    assert!(!body.contains("secret-pw-6"), "never the password");
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    assert_eq!(to, Some("u0006@example.test"));

    // The outbox has it too.
    let mails = ca
        .admin()
        .mails(Some("u0006@example.test"))
        .await
        .expect("outbox");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].one_time_url, created.one_time_url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_smtp_relay_fails_no_preparation_and_the_outbox_keeps_the_mail() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let ca = MockCa::builder()
        .smtp_url(format!("smtp://127.0.0.1:{port}"))
        .start()
        .await
        .expect("starts");
    let created = ca
        .admin()
        .prepare_new("U0007", "u7@example.test", "pw")
        .await
        .expect("still prepared");
    let mails = ca.admin().mails(None).await.expect("outbox");
    assert_eq!(mails[0].one_time_url, created.one_time_url);
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = ca.admin().metrics().await.expect("metrics");
        if metrics.contains("transport=\"smtp\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        metrics.contains("webra2_mails_total{transport=\"smtp\",result=\"failed\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_count_issuances_problems_and_latency_by_route() {
    let ca = MockCa::start().await.expect("starts");
    let client = http();
    let created = ca
        .admin()
        .prepare_new("U0008", "u8@example.test", "right")
        .await
        .expect("prepared");
    let wrong = client
        .post(format!("{}/auth", created.one_time_url))
        .header("accept", "application/json")
        .json(&json!({"auth_password": "wrong"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong.status(), 401);
    let text = client
        .get(format!("{}/metrics", ca.admin_url()))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("webra2_problems_total{type=\"wrong-password\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("webra2_enrollments_prepared_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("webra2_http_requests_total{route=\"/issue/{token}/auth\",method=\"POST\",status=\"401\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "webra2_http_request_duration_seconds_count{route=\"/issue/{token}/auth\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains(&created.one_time_url),
        "no one-time URL in metrics"
    );
}

// ---- subprocesses: JSON logs and the compose wiring ----

/// A child process killed and reaped on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the ready line from the child's stdout (30 s at most).
fn ready_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a ready line within 30 s");
    assert!(line.starts_with("webra2-mock ready"), "{line}");
    line
}

fn field(ready: &str, key: &str) -> String {
    ready
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in {ready}"))
        .trim_matches('"')
        .to_owned()
}

#[tokio::test]
async fn json_log_lines_parse_and_carry_the_request_id() {
    let mut child = Command::new(bin("webra2-mock"))
        .args(["serve", "--db", "sqlite::memory:", "--log-format", "json"])
        .args([
            "--public-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
        ])
        .args(["--confirm-addr", "127.0.0.1:0"])
        .env("WEBRA2_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("webra2-mock starts");
    let ready = ready_line(&mut child);
    let mut stderr = child.stderr.take().expect("stderr piped");
    let guard = Guard(child);
    let resp = http()
        .post(format!("{}/admin/enrollments", field(&ready, "admin")))
        .header("x-request-id", "harness-request-42")
        .json(&json!({"user_id": "U0009", "email": "u9@example.test", "auth_password": "log-secret-9"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.headers()["x-request-id"],
        "harness-request-42",
        "the id comes back"
    );
    drop(guard);
    let mut text = String::new();
    stderr.read_to_string(&mut text).expect("stderr");

    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let prepared = lines
        .iter()
        .find(|v| v["fields"]["message"] == "enrollment prepared and mailed")
        .unwrap_or_else(|| panic!("the preparation is logged: {text}"));
    assert_eq!(
        prepared["span"]["request_id"], "harness-request-42",
        "{prepared}"
    );
    assert_eq!(prepared["span"]["route"], "/admin/enrollments");
    assert!(!text.contains("log-secret-9"), "no password in the log");
}

/// `docker-compose.yml`, parsed.
fn compose() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docker-compose.yml");
    let text = std::fs::read_to_string(&path).expect("docker-compose.yml");
    serde_norway::from_str(&text).expect("valid YAML")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

/// A compose value as it is on this machine: service hosts and published ports
/// become 127.0.0.1 and free ports; the `/data` volume becomes a temp folder.
struct Mapping {
    ports: BTreeMap<u16, u16>,
    data: PathBuf,
}

impl Mapping {
    fn map(&self, value: &str) -> String {
        let mut out = value.replace("/data/", &format!("{}/", self.data.display()));
        for host in ["ca", "mailpit", "0.0.0.0", "localhost", "127.0.0.1"] {
            for (from, to) in &self.ports {
                out = out.replace(&format!("{host}:{from}"), &format!("127.0.0.1:{to}"));
            }
        }
        out
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_wiring_runs_as_plain_processes_and_passes_end_to_end() {
    let file = compose();
    let services = &file["services"];
    let (ca, client_svc) = (&services["ca"], &services["client"]);
    assert!(services["mailpit"]["image"]
        .as_str()
        .is_some_and(|i| i.starts_with("axllent/mailpit")));
    assert_eq!(
        client_svc["depends_on"]["ca"]["condition"],
        "service_healthy"
    );
    assert!(ca["volumes"].as_array().is_some_and(|v| v
        .iter()
        .any(|m| m.as_str().is_some_and(|m| m.ends_with(":/data")))));

    let (sink_port, mut inbox) = smtp_sink().await;
    let data = tempfile::tempdir().expect("tempdir");
    let mapping = Mapping {
        ports: BTreeMap::from([
            (8080, free_port()),
            (8081, free_port()),
            (8443, free_port()),
            (1025, sink_port),
        ]),
        data: data.path().to_path_buf(),
    };
    let run = |svc: &Value| {
        let command = strings(&svc["command"]);
        let mut cmd = Command::new(bin(&command[0]));
        cmd.args(command[1..].iter().map(|a| mapping.map(a)));
        cmd.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (key, value) in svc["environment"]
            .as_object()
            .expect("environment as a map")
        {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            cmd.env(key, mapping.map(&value));
        }
        cmd
    };

    let mut server = run(ca)
        .env("WEBRA2_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the ca service's command starts");
    let ready = ready_line(&mut server);
    let _server = Guard(server);
    assert_eq!(
        field(&ready, "public"),
        mapping.map("http://ca:8080"),
        "{ready}"
    );
    assert_eq!(
        field(&ready, "admin"),
        format!("http://127.0.0.1:{}", mapping.ports[&8081]),
        "{ready}"
    );
    assert_eq!(
        field(&ready, "confirm"),
        mapping.map("https://ca:8443/confirm"),
        "{ready}"
    );
    assert!(
        field(&ready, "db").contains(&data.path().display().to_string()),
        "the volume holds the store: {ready}"
    );

    // The health check, as compose runs it.
    let health = strings(&ca["healthcheck"]["test"]);
    assert_eq!(health[..2], ["CMD".to_owned(), "curl".to_owned()]);
    let url = health
        .iter()
        .find(|a| a.starts_with("http"))
        .expect("a URL");
    let resp = http()
        .get(mapping.map(url))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(resp.status(), 200);

    let mut client = run(client_svc);
    let out = tokio::task::spawn_blocking(move || client.output())
        .await
        .expect("joined")
        .expect("the client service's command runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the one-shot client passes:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");

    let raw = tokio::time::timeout(Duration::from_secs(15), inbox.recv())
        .await
        .expect("mailpit's stand-in got the mail")
        .expect("the sink is up");
    let message = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("MIME");
    let body = message.body_text(0).expect("text").into_owned();
    assert!(
        body.contains(&format!("{}/issue/", mapping.map("http://ca:8080"))),
        "{body}"
    );
}
