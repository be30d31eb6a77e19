//! The `webra2-mock` binary's command line. (Also makes `cargo test` build the
//! binary, which the workspace's subprocess tests run.)

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_webra2-mock"))
}

#[test]
fn help_documents_every_flag_and_its_environment_variable() {
    let out = bin().args(["serve", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, env) in [
        ("--public-addr", "WEBRA2_PUBLIC_ADDR"),
        ("--admin-addr", "WEBRA2_ADMIN_ADDR"),
        ("--confirm-addr", "WEBRA2_CONFIRM_ADDR"),
        ("--db", "WEBRA2_DB"),
        ("--admin-token", "WEBRA2_ADMIN_TOKEN"),
        ("--profile", "WEBRA2_PROFILE"),
        ("--config", "WEBRA2_CONFIG"),
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
        assert!(help.contains(env), "{env} missing from:\n{help}");
    }
}

#[test]
fn serve_help_names_the_lock_session_and_url_knobs_as_flags_variables_and_file_keys() {
    let out = bin().args(["serve", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in [
        "--lock-after",
        "WEBRA2_LOCK_AFTER",
        "--session-minutes",
        "WEBRA2_SESSION_MINUTES",
        "--url-valid-days",
        "WEBRA2_URL_VALID_DAYS",
        "WEBRA2_LOG ",
    ] {
        assert!(help.contains(name), "{name} missing from:\n{help}");
    }
    // The config-file list: one line per key, with its variable and its default.
    for (key, env, default) in [
        ("public_addr", "WEBRA2_PUBLIC_ADDR", "127.0.0.1:8080"),
        ("db", "WEBRA2_DB", "sqlite://webra2-mock.db"),
        ("smtp_from", "WEBRA2_SMTP_FROM", "no-reply@webra2-mock.test"),
        ("lock_after", "WEBRA2_LOCK_AFTER", "5"),
        ("session_minutes", "WEBRA2_SESSION_MINUTES", "30"),
        ("url_valid_days", "WEBRA2_URL_VALID_DAYS", "30"),
    ] {
        let line = help
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("config key {key} missing from:\n{help}"));
        assert!(
            line.contains(env) && line.contains(default),
            "{key}: {line:?}"
        );
    }
}

/// Runs `serve` with a profile that does not exist, so it stops right after the
/// settings are validated: the error says which of the two checks refused.
fn serve_until_the_profile(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = bin()
        .arg("serve")
        .args(args)
        .args(["--profile", "no-such-profile", "--db", "sqlite::memory:"])
        .args([
            "--public-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--confirm-addr",
            "127.0.0.1:0",
        ])
        .env_remove("WEBRA2_LOCK_AFTER")
        .env_remove("WEBRA2_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn lock_after_comes_from_the_flag_over_the_environment_over_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(&bad_file, "lock_after = 0\n").expect("write");
    let bad_file = bad_file.to_str().expect("utf-8 temp path");

    let err = serve_until_the_profile(&["--config", bad_file], &[]);
    assert!(err.contains("WEBRA2_LOCK_AFTER"), "the file's 0: {err}");

    let err = serve_until_the_profile(&["--config", bad_file], &[("WEBRA2_LOCK_AFTER", "7")]);
    assert!(err.contains("no-such-profile"), "the variable wins: {err}");

    let err = serve_until_the_profile(&[], &[("WEBRA2_LOCK_AFTER", "0")]);
    assert!(err.contains("between 1 and 100"), "the variable's 0: {err}");

    let err = serve_until_the_profile(&["--lock-after", "3"], &[("WEBRA2_LOCK_AFTER", "0")]);
    assert!(err.contains("no-such-profile"), "the flag wins: {err}");
}

#[test]
fn an_admin_listener_off_loopback_without_a_token_refuses_to_start() {
    let out = bin()
        .args([
            "serve",
            "--admin-addr",
            "0.0.0.0:0",
            "--db",
            "sqlite::memory:",
        ])
        .env_remove("WEBRA2_ADMIN_TOKEN")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin-token"), "{err}");
}

#[test]
fn an_unknown_profile_is_a_clear_error() {
    let out = bin()
        .args([
            "serve",
            "--profile",
            "no-such-profile",
            "--db",
            "sqlite::memory:",
        ])
        .args([
            "--public-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--confirm-addr",
            "127.0.0.1:0",
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-profile"), "{err}");
}
