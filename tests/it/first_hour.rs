//! A newcomer's first hour, through the two binaries: the README's walkthrough
//! run as written, a client that waits for a starting server, the store checked
//! before a one-time URL is used, the PIN `e2e` chose, `inspect` of a store,
//! admin URLs that are wrong, the admin subcommands, the caller's request id in
//! the log, transcripts stable across runs and `transcript diff`, and `--help`.

use crate::helpers::{bin, http};
use crate::subprocess::Server;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn client(args: &[&str]) -> Output {
    Command::new(bin("webra2-client"))
        .args(args)
        .env_remove("WEBRA2_ADMIN_URL")
        .env_remove("WEBRA2_PIN")
        .output()
        .expect("webra2-client runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `webra2-client` and demands exit 0; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = client(args);
    assert!(
        out.status.success(),
        "webra2-client {args:?}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn server() -> Server {
    Server::start_with("sqlite::memory:", None, &[])
}

fn admin_url(s: &Server) -> String {
    s.field("admin")
}

fn public_url(s: &Server) -> String {
    s.field("public")
}

/// The shell block of README.md after the `<!-- first-hour:walkthrough` marker.
fn readme_walkthrough() -> String {
    let readme = std::fs::read_to_string(crate::helpers::fixtures().join("../README.md"))
        .expect("README.md");
    let (_, after) = readme
        .split_once("<!-- first-hour:walkthrough")
        .expect("the README marks its walkthrough");
    let (_, block) = after.split_once("```sh\n").expect("a sh block follows");
    let (block, _) = block.split_once("```").expect("the block ends");
    block.to_owned()
}

#[test]
fn the_readme_walkthrough_runs_as_written_on_any_day() {
    let s = server();
    let tmp = tempfile::tempdir().expect("tmp");
    let bin_dir = bin("webra2-client")
        .parent()
        .expect("a folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The service clock on another day than today, 08:30 in Japan (when UTC is
    // still the day before): nothing of the walkthrough may hold a fixed date.
    // Forty days back, so the certificate is valid at the real now, by which
    // `inspect` checks the path.
    let day = (time::OffsetDateTime::now_utc() - time::Duration::days(40)).date();
    let mail_day = time::PrimitiveDateTime::new(day, time::macros::time!(08:30))
        .assume_offset(time::macros::offset!(+9));
    let mail_day = mail_day
        .format(&time::format_description::well_known::Rfc3339)
        .expect("rfc3339");
    ok(&[
        "admin",
        "--admin-url",
        &admin_url(&s),
        "clock",
        "set",
        &mail_day,
    ]);
    let valid_until = (day.year() + 2).to_string();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &readme_walkthrough()])
        .current_dir(tmp.path())
        .env("PATH", path)
        .env("WEBRA2_ADMIN_URL", admin_url(&s))
        .env_remove("WEBRA2_PIN")
        .output()
        .expect("bash runs");
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "the README's walkthrough failed: {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        text(&out.stderr)
    );
    assert!(
        stdout.contains("[3-D] 有効期間の終了 ... PASS") && stdout.contains(&valid_until),
        "{stdout}"
    );
    assert!(stdout.contains("OK: "), "{stdout}");
    assert!(
        stdout.contains("証明のパス: この証明書は問題ありません"),
        "inspect of the store validates the path: {stdout}"
    );
}

#[test]
fn the_client_waits_for_a_server_that_is_still_starting() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let admin = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let e2e = Command::new(bin("webra2-client"))
        .args([
            "e2e",
            "--wait",
            "60",
            "--admin-url",
            &admin,
            "--user-id",
            "U0001",
        ])
        .env_remove("WEBRA2_PIN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("webra2-client starts");
    std::thread::sleep(Duration::from_millis(1500));
    let mut cmd = Command::new(bin("webra2-mock"));
    cmd.args([
        "serve",
        "--db",
        "sqlite::memory:",
        "--public-addr",
        "127.0.0.1:0",
        "--admin-addr",
        &format!("127.0.0.1:{port}"),
        "--confirm-addr",
        "127.0.0.1:0",
    ]);
    let server = Server::spawn(cmd, None);
    let out = e2e.wait_with_output().expect("e2e ends");
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let out = client(&["wait", &admin, &server.field("public")]);
    assert!(
        text(&out.stdout).contains("answers /healthz"),
        "{}",
        text(&out.stdout)
    );
    drop(server);

    // Nobody there: a clear error after the time given, exit 2.
    let out = client(&["wait", "--timeout", "1", &admin]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&admin) && err.contains("/healthz"), "{err}");
}

#[test]
fn a_store_that_cannot_be_written_fails_before_the_one_time_url_is_used() {
    let s = server();
    let admin = admin_url(&s);
    let created: Value = serde_json::from_str(&ok(&[
        "admin",
        "prepare",
        "--admin-url",
        &admin,
        "--user-id",
        "U0003",
        "--auth-password",
        "s3cret",
    ]))
    .expect("the preparation's JSON");
    let url = created["one_time_url"].as_str().expect("url");
    let id = created["enrollment_id"].as_str().expect("id");
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("store");
    std::fs::write(&file, "a file, not a folder").expect("write");
    let out = client(&[
        "issue",
        "--url",
        url,
        "--auth-password",
        "s3cret",
        "--pin",
        "1234",
        "--store",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[0] 証明書ストア ... FAIL"), "{stdout}");
    assert!(!stdout.contains("[1] 認証"), "no step ran: {stdout}");
    let state = ok(&[
        "admin",
        "enrollment",
        id,
        "--admin-url",
        &admin,
        "--field",
        "state",
    ]);
    assert_eq!(state.trim(), "pending", "the URL is not used up");

    // e2e finds it before it prepares anything.
    let out = client(&[
        "e2e",
        "--admin-url",
        &admin,
        "--user-id",
        "U0004",
        "--store",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("[0] 証明書ストア ... FAIL"));
    let mails = ok(&[
        "admin",
        "mails",
        "--admin-url",
        &admin,
        "--to",
        "u0004@example.test",
    ]);
    assert_eq!(mails.trim(), "[]", "nothing was prepared");
}

fn only_key(store: &Path) -> PathBuf {
    let keys: Vec<PathBuf> = std::fs::read_dir(store.join("personal"))
        .expect("personal/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".key.pem"))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    keys[0].clone()
}

fn opens_with(key: &Path, pin: &str) -> bool {
    Command::new("openssl")
        .args(["pkey", "-noout", "-in"])
        .arg(key)
        .args(["-passin", &format!("pass:{pin}")])
        .output()
        .expect("openssl runs (the README's test command needs it)")
        .status
        .success()
}

#[test]
fn e2e_reports_the_pin_it_chose_and_takes_one_from_webra2_pin() {
    let s = server();
    let admin = admin_url(&s);
    let tmp = tempfile::tempdir().expect("tmp");
    let a = tmp.path().join("a");
    let report: Value = serde_json::from_str(&ok(&[
        "e2e",
        "--admin-url",
        &admin,
        "--user-id",
        "U0001",
        "--json",
        "--store",
        a.to_str().expect("utf8"),
    ]))
    .expect("report");
    let pin = report["pin"].as_str().expect("the chosen PIN is reported");
    assert!(
        opens_with(&only_key(&a), pin),
        "the reported PIN opens the key"
    );
    assert!(!opens_with(&only_key(&a), "wrong-pin"));

    let text_out = ok(&["e2e", "--admin-url", &admin, "--user-id", "U0001"]);
    assert!(
        text_out.contains("PIN ") && text_out.contains("chosen at random"),
        "{text_out}"
    );

    let b = tmp.path().join("b");
    let out = Command::new(bin("webra2-client"))
        .args(["e2e", "--admin-url", &admin, "--user-id", "U0002", "--json"])
        .arg("--store")
        .arg(&b)
        .env("WEBRA2_PIN", "4321Pin")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert!(report.get("pin").is_none(), "a given PIN is not repeated");
    assert!(opens_with(&only_key(&b), "4321Pin"));
}

#[test]
fn inspect_shows_every_certificate_of_a_store_of_several() {
    let s = server();
    let admin = admin_url(&s);
    let tmp = tempfile::tempdir().expect("tmp");
    let store = tmp.path().join("st");
    let store_arg = store.to_str().expect("utf8");
    for user in ["U0001", "U0002"] {
        ok(&[
            "e2e",
            "--admin-url",
            &admin,
            "--user-id",
            user,
            "--store",
            store_arg,
        ]);
    }
    let shown = ok(&["inspect", store_arg]);
    assert_eq!(shown.matches("証明書の情報").count(), 2, "{shown}");
    assert!(shown.contains("発行先: U0001") && shown.contains("発行先: U0002"));
    assert_eq!(shown.matches("この証明書は問題ありません").count(), 2);
    let json: Value = serde_json::from_str(&ok(&["inspect", store_arg, "--json"])).expect("json");
    let all = json.as_array().expect("an array for a store");
    assert_eq!(all.len(), 2);
    assert!(all
        .iter()
        .all(|c| c["path"]["status"] == "valid" && c["file"].is_string()));
}

#[test]
fn an_admin_url_that_is_the_public_listener_or_ends_in_admin_says_what_is_wrong() {
    let s = server();
    let out = client(&["e2e", "--admin-url", &public_url(&s), "--user-id", "U0001"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("is the public listener") && stdout.contains("admin="),
        "{stdout}"
    );
    let with_admin = format!("{}/admin", admin_url(&s));
    let out = client(&["admin", "mails", "--admin-url", &with_admin]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("/admin/admin/") && err.contains(&format!("--admin-url {}", admin_url(&s))),
        "{err}"
    );
}

#[test]
fn the_admin_subcommands_cover_clock_faults_certificates_revocation_and_metrics() {
    let s = server();
    let admin = admin_url(&s);
    let a = |args: &[&str]| {
        let mut all = vec!["admin", "--admin-url", admin.as_str()];
        all.extend_from_slice(args);
        ok(&all)
    };
    let clock: Value =
        serde_json::from_str(&a(&["clock", "set", "2027-01-01T09:00:00+09:00"])).expect("json");
    assert_eq!(clock["mode"], "fixed");
    let now = a(&["clock", "--field", "now"]);
    assert!(
        now.starts_with("2027-01-01T"),
        "one field, as plain text: {now}"
    );

    a(&["faults", "set", r#"{"faults": [{"kind": "wrong_root"}]}"#]);
    let faults: Value = serde_json::from_str(&a(&["faults"])).expect("json");
    assert_eq!(faults["faults"][0]["kind"], "wrong_root", "{faults}");
    a(&["faults", "clear"]);
    let faults: Value = serde_json::from_str(&a(&["faults"])).expect("json");
    assert_eq!(faults["faults"], serde_json::json!([]));
    let bad = client(&["admin", "--admin-url", &admin, "faults", "set", "{"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a malformed set is refused here"
    );

    ok(&["e2e", "--admin-url", &admin, "--user-id", "U0001"]);
    let serial = a(&[
        "certificates",
        "--user-id",
        "U0001",
        "--latest",
        "--field",
        "serial",
    ]);
    let serial = serial.trim();
    assert_eq!(serial.len(), 32, "{serial}");
    let revoked: Value =
        serde_json::from_str(&a(&["revoke", serial, "--reason", "keyCompromise"])).expect("json");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(
        a(&["certificates", serial, "--field", "reason"]).trim(),
        "keyCompromise"
    );
    let again = client(&["admin", "--admin-url", &admin, "revoke", serial]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already-revoked"),
        "{}",
        text(&again.stderr)
    );

    assert!(a(&["metrics"]).contains("webra2_issuances_total"));
    a(&["clock", "reset"]);
    assert_eq!(a(&["clock", "--field", "mode"]).trim(), "real");
}

#[tokio::test]
async fn the_callers_request_id_lands_in_the_log_lines_of_its_request() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = tmp.path().join("serve.log");
    let s = Server::start_with("sqlite::memory:", Some(&log), &["--log-format", "json"]);
    let id = "caller-chosen-id-4242";
    let resp = http()
        .get(format!("{}/ca/root/fingerprint", public_url(&s)))
        .header("x-request-id", id)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(id)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        let hit = logged
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["span"]["request_id"] == id && l["level"] == "INFO");
        if let Some(line) = hit {
            assert_eq!(line["span"]["route"], "/ca/root/fingerprint", "{line}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with span.request_id {id}:\n{logged}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn two_runs_against_one_server_record_the_same_transcript_and_diff_gates_on_it() {
    let s = server();
    let admin = admin_url(&s);
    let tmp = tempfile::tempdir().expect("tmp");
    let a = tmp.path().join("a.json");
    let b = tmp.path().join("b.json");
    for (file, extra) in [(&a, 0), (&b, 2)] {
        // More mails in the outbox before the second run: it must not show.
        for n in 0..extra {
            ok(&[
                "admin",
                "prepare",
                "--admin-url",
                &admin,
                "--user-id",
                "U0001",
                "--auth-password",
                &format!("other-{n}"),
            ]);
        }
        ok(&[
            "e2e",
            "--admin-url",
            &admin,
            "--user-id",
            "U0001",
            "--transcript",
            file.to_str().expect("utf8"),
        ]);
    }
    let (a_s, b_s) = (a.to_str().expect("utf8"), b.to_str().expect("utf8"));
    let same = ok(&["transcript", "diff", a_s, b_s]);
    assert!(same.starts_with("same protocol"), "{same}");

    // A changed status and a missing exchange: exit 1, each said.
    let mut t: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&b).expect("read")).expect("json");
    t[3]["status"] = Value::from(418);
    let dropped = t.pop().expect("an exchange");
    std::fs::write(&b, serde_json::to_string_pretty(&t).expect("json")).expect("write");
    let out = client(&["transcript", "diff", a_s, b_s]);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("@@ exchange 4: ") && shown.contains("/status: "),
        "{shown}"
    );
    assert!(shown.contains("→ 418"), "{shown}");
    let gone = format!(
        "{} {}",
        dropped["method"].as_str().expect("method"),
        dropped["path"].as_str().expect("path")
    );
    assert!(shown.contains(&format!("{gone} (not in NEW)")), "{shown}");

    let out = client(&["transcript", "diff", a_s, "/nonexistent.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_shows_defaults_variables_and_only_options_that_mean_something() {
    let serve = Command::new(bin("webra2-mock"))
        .args(["serve", "--help"])
        .output()
        .expect("runs");
    let serve = text(&serve.stdout);
    assert!(serve.contains("[default: text]"), "--log-format: {serve}");
    assert!(serve.contains("https://CONFIRM_ADDR/confirm"), "{serve}");
    assert!(!serve.contains("localhost:PORT"), "{serve}");

    let e2e = ok(&["e2e", "--help"]);
    for want in [
        "WEBRA2_ADMIN_URL",
        "WEBRA2_PIN",
        "--wait",
        "http://127.0.0.1:8081",
    ] {
        assert!(e2e.contains(want), "{want}: {e2e}");
    }
    let reissue = ok(&["reissue", "--help"]);
    assert!(
        !reissue.contains("--kind") && !reissue.contains("--revoke-previous"),
        "{reissue}"
    );
    assert!(reissue.contains("--reason") && reissue.contains("WEBRA2_ADMIN_URL"));
    let admin = ok(&["admin", "--help"]);
    for want in [
        "prepare",
        "mails",
        "certificates",
        "revoke",
        "clock",
        "faults",
        "metrics",
    ] {
        assert!(admin.contains(want), "{want}: {admin}");
    }
}
