//! The two binaries as a user runs them: `webra2-mock serve`, then
//! `webra2-client e2e`; a `kill -9` and a restart; openssl and curl as the
//! outside world's checks of what the harness installed.

use crate::helpers::bin;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A running `webra2-mock serve`; killed and reaped on drop.
pub(crate) struct Server {
    child: Child,
    ready: String,
}

impl Server {
    fn start(db: &str) -> Server {
        Self::start_logging(db, None)
    }

    /// Starts the server; with `log`, its stderr goes there at debug level.
    fn start_logging(db: &str, log: Option<&Path>) -> Server {
        Self::start_with(db, log, &[])
    }

    /// Starts the server with more flags.
    pub(crate) fn start_with(db: &str, log: Option<&Path>, flags: &[&str]) -> Server {
        let mut cmd = Command::new(bin("webra2-mock"));
        cmd.args(Self::args(db)).args(flags);
        Self::spawn(cmd, log)
    }

    /// Starts the server with a profile file (`WEBRA2_PROFILE`).
    fn start_with_profile(db: &str, profile: &Path) -> Server {
        let mut cmd = Command::new(bin("webra2-mock"));
        cmd.env("WEBRA2_PROFILE", profile).args(Self::args(db));
        Self::spawn(cmd, None)
    }

    /// `serve` on `db` with every listener on a free loopback port.
    pub(crate) fn args(db: &str) -> [&str; 9] {
        [
            "serve",
            "--db",
            db,
            "--public-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--confirm-addr",
            "127.0.0.1:0",
        ]
    }

    /// Runs `cmd` (a `webra2-mock serve` command line, perhaps wrapped) and
    /// waits for its ready line.
    pub(crate) fn spawn(mut cmd: Command, log: Option<&Path>) -> Server {
        cmd.stdout(Stdio::piped());
        match log {
            Some(path) => {
                let file = std::fs::File::create(path).expect("log file");
                cmd.env("WEBRA2_LOG", "debug").stderr(Stdio::from(file));
            }
            None => {
                cmd.env("WEBRA2_LOG", "warn").stderr(Stdio::inherit());
            }
        }
        let mut child = cmd.spawn().expect("webra2-mock starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a ready line within 30 s");
        assert!(ready.starts_with("webra2-mock ready"), "{ready}");
        Server { child, ready }
    }

    pub(crate) fn field(&self, key: &str) -> String {
        self.ready
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} in {}", self.ready))
            .trim_matches('"')
            .to_owned()
    }

    pub(crate) fn kill9(mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(args: &[&str]) -> Output {
    Command::new(bin("webra2-client"))
        .args(args)
        .output()
        .expect("webra2-client runs")
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs")
}

fn only_file(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one *{suffix} in {}: {found:?}",
        dir.display()
    );
    found[0].clone()
}

#[test]
fn serve_then_e2e_passes_every_step_and_survives_kill_9() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", tmp.path().join("ca.db").display());
    let store = tmp.path().join("store");
    let log = tmp.path().join("server.log");
    let server = Server::start_logging(&db, Some(&log));
    let admin = server.field("admin");
    let confirm = server.field("confirm");
    let root_sha1 = server.field("root_sha1");

    let out = client(&[
        "e2e",
        "--admin-url",
        &admin,
        "--user-id",
        "U0001",
        "--auth-password",
        "auth-Secret-77",
        "--pin",
        "Pin1234",
        "--store",
        store.to_str().expect("utf8"),
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "e2e failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_eq!(report["ok"], true);
    let steps = report["steps"].as_array().expect("steps");
    assert!(steps.len() >= 8, "{steps:?}");
    assert!(steps.iter().all(|s| s["status"] == "pass"), "{steps:#?}");
    let serial = report["serial"].as_str().expect("serial").to_owned();

    let root = only_file(&store.join("trusted-roots"), ".crt.pem");
    let leaf = only_file(&store.join("personal"), ".crt.pem");
    let key = only_file(&store.join("personal"), ".key.pem");

    if have("openssl") {
        // The harness's fingerprint is openssl's.
        let fp = openssl(&[
            "x509",
            "-in",
            root.to_str().expect("utf8"),
            "-noout",
            "-fingerprint",
            "-sha1",
        ]);
        let fp = String::from_utf8_lossy(&fp.stdout).to_uppercase();
        let openssl_hex: String = fp
            .split('=')
            .nth(1)
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect();
        let harness_hex: String = report["root_sha1"]
            .as_str()
            .expect("root_sha1")
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect();
        assert_eq!(openssl_hex, harness_hex);
        assert_eq!(harness_hex, root_sha1.replace(' ', ""));
        // openssl accepts the leaf against the root.
        let verify = openssl(&[
            "verify",
            "-CAfile",
            root.to_str().expect("utf8"),
            leaf.to_str().expect("utf8"),
        ]);
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
        // The stored key opens with the PIN, and only with it.
        let plain = tmp.path().join("plain.key.pem");
        let ok = openssl(&[
            "pkey",
            "-in",
            key.to_str().expect("utf8"),
            "-passin",
            "pass:Pin1234",
            "-out",
            plain.to_str().expect("utf8"),
        ]);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let wrong = openssl(&[
            "pkey",
            "-in",
            key.to_str().expect("utf8"),
            "-passin",
            "pass:wrong",
            "-noout",
        ]);
        assert!(!wrong.status.success());
        // curl, OpenSSL-based, at SECLEVEL=0 with the RSA-1024 certificate.
        if have("curl") {
            // curl refuses a 1024-bit key when it loads --cert, before --ciphers
            // applies: the security level has to come from an OpenSSL config too.
            let out = Command::new("curl")
                .env(
                    "OPENSSL_CONF",
                    crate::helpers::fixtures().join("openssl-seclevel0.cnf"),
                )
                .args(["-sS", "--fail-with-body", "--ciphers", "DEFAULT@SECLEVEL=0"])
                .args(["--cacert", root.to_str().expect("utf8")])
                .args([
                    "--cert",
                    leaf.to_str().expect("utf8"),
                    "--key",
                    plain.to_str().expect("utf8"),
                ])
                .args(["-H", "Accept: application/json", &confirm])
                .output()
                .expect("curl runs");
            assert!(
                out.status.success(),
                "curl: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let body: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            assert_eq!(body["status"], "ok");
            assert_eq!(body["serial"], serial);
            assert_eq!(body["user_id"], "U0001");
        }
    } else {
        eprintln!("openssl not installed: skipped the openssl and curl checks");
    }

    // No secret in any log line, even at debug level.
    let mails = Command::new("curl")
        .args(["-sS", &format!("{admin}/admin/mails")])
        .output()
        .expect("curl runs");
    let mails: Value = serde_json::from_slice(&mails.stdout).expect("JSON");
    let url = mails[0]["one_time_url"].as_str().expect("url").to_owned();
    let token = url.rsplit('/').next().expect("token").to_owned();
    let log_text = std::fs::read_to_string(&log).expect("log");
    assert!(
        log_text.contains("certificate issued"),
        "the log is written: {log_text}"
    );
    for secret in ["auth-Secret-77", "Pin1234", token.as_str(), "PRIVATE KEY"] {
        assert!(
            !log_text.contains(secret),
            "{secret:?} is in the server log"
        );
    }

    // kill -9, then the same database: the certificate is still there.
    server.kill9();
    let server = Server::start(&db);
    let out = Command::new("curl")
        .args([
            "-sS",
            &format!("{}/admin/certificates", server.field("admin")),
        ])
        .output()
        .expect("curl runs");
    let certs: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(certs[0]["serial"], serial);
}

#[test]
fn e2e_exits_non_zero_when_the_root_fingerprint_is_not_the_expected_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start("sqlite::memory:");
    let out = client(&[
        "e2e",
        "--admin-url",
        &server.field("admin"),
        "--user-id",
        "U0002",
        "--store",
        tmp.path().join("s").to_str().expect("utf8"),
        "--expect-root-sha1",
        "00000000 00000000 00000000 00000000 00000000",
    ]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL"), "{text}");
    assert!(
        !tmp.path().join("s/trusted-roots").exists()
            || std::fs::read_dir(tmp.path().join("s/trusted-roots"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0
    );
}

#[test]
fn renew_and_the_pkcs12_path_run_through_the_two_binaries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start("sqlite::memory:");
    let admin = server.field("admin");
    let store = tmp.path().join("store");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "e2e",
            "--admin-url",
            &admin,
            "--user-id",
            "U0201",
            "--pin",
            "Pin1234",
        ];
        args.extend_from_slice(&["--store", store.to_str().expect("utf8"), "--json"]);
        args.extend_from_slice(extra);
        let out = client(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{extra:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<Value>(&stdout).expect("a JSON report")
    };
    let first = run(&["--pkcs12"]);
    let first_serial = first["serial"].as_str().expect("serial").to_owned();
    let p12 = store.join(format!("personal/{first_serial}.p12"));
    assert!(p12.exists(), "the PKCS#12 file is kept");
    if have("openssl") {
        let info = openssl(&[
            "pkcs12",
            "-in",
            p12.to_str().expect("utf8"),
            "-info",
            "-nokeys",
            "-passin",
            "pass:Pin1234",
        ]);
        assert!(
            info.status.success(),
            "{}",
            String::from_utf8_lossy(&info.stderr)
        );
    }

    let renewed = run(&["--kind", "renew"]);
    assert_eq!(renewed["previous_serial"], first_serial.as_str());
    assert_ne!(renewed["serial"], first_serial.as_str());
    let steps = renewed["steps"].as_array().expect("steps");
    assert!(
        steps.iter().any(|s| s["id"] == "0-3"
            && s["detail"]
                .as_str()
                .is_some_and(|d| d.contains("証明書更新サイト"))),
        "{steps:#?}"
    );
    // Windows' renewal: the request in CMC, signed by the certificate being renewed.
    let signed = run(&[
        "--kind",
        "renew",
        "--sign-with-current",
        "--request-form",
        "cmc",
    ]);
    assert_eq!(signed["previous_serial"], renewed["serial"]);
    // The PKCS#12 for older Windows and macOS, opened by the client with the PIN.
    let legacy = run(&["--pkcs12", "--pkcs12-compat", "legacy"]);
    let serial = legacy["serial"].as_str().expect("serial");
    let p12 = store.join(format!("personal/{serial}.p12"));
    let info = openssl(&[
        "pkcs12",
        "-in",
        p12.to_str().expect("utf8"),
        "-info",
        "-nokeys",
        "-legacy",
        "-passin",
        "pass:Pin1234",
    ]);
    let text = String::from_utf8_lossy(&info.stderr);
    assert!(info.status.success() && text.contains("RC2"), "{text}");
}

/// Windows' renewal through the binaries: where the profile demands it, an
/// unsigned renewal is refused (and leaves its URL open), and `renew
/// --sign-with-current` signs the request with the stored certificate.
#[test]
fn renew_signs_with_the_stored_certificate_where_the_profile_demands_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(crate::helpers::fixtures().join("profiles/webra2.toml"))
        .expect("profile");
    let profile = tmp.path().join("signed-renewal.toml");
    std::fs::write(
        &profile,
        text.replace("signed_by_current = false", "signed_by_current = true"),
    )
    .expect("write profile");
    let server = Server::start_with_profile("sqlite::memory:", &profile);
    let admin = server.field("admin");
    let store = tmp.path().join("store");
    let store = store.to_str().expect("utf8");
    let e2e = |extra: &[&str]| {
        let mut args = vec![
            "e2e",
            "--admin-url",
            &admin,
            "--user-id",
            "U0301",
            "--auth-password",
            "pw-301",
            "--pin",
            "Pin1234",
            "--store",
            store,
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = client(&args);
        let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        (out.status.success(), report)
    };
    let (ok, first) = e2e(&[]);
    assert!(ok, "{first:#}");
    let first_serial = first["serial"].as_str().expect("serial").to_owned();
    let (ok, unsigned) = e2e(&["--kind", "renew"]);
    assert!(!ok, "an unsigned renewal is refused: {unsigned:#}");
    assert!(
        unsigned.to_string().contains("renewal-signature"),
        "{unsigned:#}"
    );

    // The same renewal URL, still open, walked with `renew` from the mail.
    let mails = Command::new("curl")
        .args(["-sf", &format!("{admin}/admin/mails?to=u0301@example.test")])
        .output()
        .expect("curl runs (.ci/run installs it)");
    let mails: Value = serde_json::from_slice(&mails.stdout).expect("the outbox");
    let url = mails[0]["one_time_url"]
        .as_str()
        .expect("the newest mail's URL");
    let out = client(&[
        "renew",
        "--url",
        url,
        "--auth-password",
        "pw-301",
        "--pin",
        "Pin1234",
        "--store",
        store,
        "--renews-serial",
        &first_serial,
        "--sign-with-current",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let renewed: Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_ne!(renewed["serial"], first_serial.as_str());
}
