//! The `webra2-client` binary's command line. (Also makes `cargo test` build the
//! binary, which the workspace's subprocess tests run.)

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_webra2-client"))
}

#[test]
fn help_lists_every_command() {
    let out = bin().arg("--help").output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["issue", "e2e", "inspect", "renew", "reissue"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[test]
fn e2e_help_documents_the_checks_and_the_transcript() {
    let out = bin().args(["e2e", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--admin-url",
        "--user-id",
        "--expect-root-sha1",
        "--mail-sent-at",
        "--json",
        "--transcript",
        "--pkcs12",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn a_malformed_fingerprint_is_a_usage_error_before_any_request() {
    let out = bin()
        .args([
            "issue",
            "--url",
            "http://127.0.0.1:9/issue/x",
            "--auth-password",
            "p",
        ])
        .args([
            "--pin",
            "1234",
            "--store",
            "/nonexistent/store",
            "--expect-root-sha1",
            "not-hex",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inspect_shows_the_general_tab_and_refuses_a_root_as_its_own_leaf() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/root.cert.pem");
    let out = bin().args(["inspect", root]).output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("発行先") && text.contains("発行者") && text.contains("有効期間"),
        "{text}"
    );
    assert!(
        text.contains("46373971 458E916B 1D92082D C801C007 FA2CF1CA"),
        "{text}"
    );
    // A CA certificate is no client certificate: the path check fails, exit 1.
    let out = bin()
        .args(["inspect", root, "--root", root])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
}
