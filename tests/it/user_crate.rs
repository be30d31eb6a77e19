//! `MockCa` from a user's own crate: `tests/user-crate/` (the dependency lines
//! and profile settings the README gives) is copied outside the workspace,
//! pointed at this clone by path, built with this workspace's lock file and
//! target folder (so it reuses what the test run built), and its test runs
//! one in-process issuance with an ephemeral root.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target folder this test binary was built in (`target/debug/deps/it-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<exe>")
        .to_path_buf()
}

fn copy_template(from: &Path, to: &Path, clone: &Path) {
    for entry in std::fs::read_dir(from).expect("the template") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name)).expect("mkdir");
            copy_template(&path, &to.join(&name), clone);
        } else {
            let text = std::fs::read_to_string(&path).expect("read");
            let text = text.replace("@WEBRA2_MOCK@", &clone.display().to_string());
            let name = name.trim_end_matches(".template");
            std::fs::write(to.join(name), text).expect("write");
        }
    }
}

#[test]
fn a_crate_outside_the_workspace_runs_an_in_process_issuance() {
    let clone = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the clone")
        .canonicalize()
        .expect("canonical");
    let tmp = tempfile::tempdir().expect("tmp");
    let krate = tmp.path().join("my-ra-client");
    std::fs::create_dir_all(&krate).expect("mkdir");
    copy_template(&clone.join("tests/user-crate"), &krate, &clone);
    // The same versions as this workspace, so nothing is fetched or rebuilt
    // for a version's sake.
    std::fs::copy(clone.join("Cargo.lock"), krate.join("Cargo.lock")).expect("lock");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["test", "--offline", "--", "--nocapture"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", target_dir());
    // What cargo set for this test process (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...)
    // is not the user's environment; some build scripts rerun on it (ring's on
    // CARGO_MANIFEST_DIR), which would rebuild them here and again in the next
    // workspace build.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") && name != "CARGO_HOME" {
            cmd.env_remove(&name);
        }
    }
    let out = cmd
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the user crate failed: {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    assert!(
        stdout.contains("user crate: issued serial"),
        "its test ran the issuance: {stdout}"
    );
    assert!(
        stdout.contains("[3-E]") && stdout.contains("PASS"),
        "{stdout}"
    );
}
