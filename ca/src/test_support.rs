//! Helpers shared by the unit tests: fixture files and an openssl runner.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file under `fixtures/`.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

/// The bytes of a file under `fixtures/`.
pub(crate) fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs openssl; `None` (after a note) when it is not installed, so the test skips.
pub(crate) fn openssl(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).output() {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("note: openssl not runnable ({e}); skipping the openssl check");
            None
        }
    }
}

/// A temporary directory for files handed to openssl.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
}

/// Writes `contents` to `dir/name` and returns its path as a string.
pub(crate) fn write(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_string_lossy().into_owned()
}
