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
