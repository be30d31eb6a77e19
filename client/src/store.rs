//! The certificate store the client installs into, laid out like a user's:
//! `trusted-roots/<SHA1>.crt.pem`, `personal/<SERIAL>.{crt,key}.pem` and, from the
//! PKCS#12 path, `personal/<SERIAL>.p12`.

use crate::ClientError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the root with this SHA-1 (40 hex digits) is installed.
pub(crate) fn root_path(store: &Path, sha1_hex: &str) -> PathBuf {
    store
        .join("trusted-roots")
        .join(format!("{sha1_hex}.crt.pem"))
}

/// Where the certificate with this serial is installed.
pub(crate) fn cert_path(store: &Path, serial: &str) -> PathBuf {
    store
        .join("personal")
        .join(format!("{}.crt.pem", file_safe(serial)))
}

/// Where the key of the certificate with this serial is installed.
pub(crate) fn key_path(store: &Path, serial: &str) -> PathBuf {
    store
        .join("personal")
        .join(format!("{}.key.pem", file_safe(serial)))
}

/// Where the PKCS#12 file the site sent for this serial is kept.
pub(crate) fn p12_path(store: &Path, serial: &str) -> PathBuf {
    store
        .join("personal")
        .join(format!("{}.p12", file_safe(serial)))
}

/// A serial comes from a certificate a server sent: keep it to hex for a file name.
fn file_safe(serial: &str) -> String {
    serial.chars().filter(char::is_ascii_hexdigit).collect()
}

/// Writes a file readable by its owner only (where the OS has such modes),
/// creating its directory.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<(), ClientError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ClientError::io(dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| ClientError::io(path, e))?;
    // The mode above only applies to new files; an old file keeps its own.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| ClientError::io(path, e))?;
    }
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| ClientError::io(path, e))
}

/// Reads a file of the store.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::io(path, e))
}

/// Checks, before anything is asked of the service, that the store can be
/// written: its folders are made and a file is written and removed in each.
/// A one-time URL is used up by Step 2, so a store that cannot take the
/// certificate must be found before Step 1.
/// The root's folder is made (and checked) only when the root is to be installed.
pub(crate) fn check_writable(store: &Path, with_roots: bool) -> Result<(), ClientError> {
    let mut dirs = vec![store.join("personal")];
    if with_roots {
        dirs.push(store.join("trusted-roots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).map_err(|e| ClientError::io(&dir, e))?;
        let probe = dir.join(format!(".webra2-write-check-{}", std::process::id()));
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&probe)
            .and_then(|mut f| f.write_all(b"ok"))
            .map_err(|e| ClientError::io(&dir, e))?;
        std::fs::remove_file(&probe).map_err(|e| ClientError::io(&probe, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_that_is_a_file_is_refused_and_a_fresh_folder_is_made() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("store");
        std::fs::write(&file, b"not a folder").expect("write");
        let err = check_writable(&file, true).expect_err("a file").to_string();
        assert!(err.contains("store"), "{err}");
        let fresh = tmp.path().join("fresh");
        check_writable(&fresh, false).expect("a new folder is fine");
        assert!(fresh.join("personal").is_dir() && !fresh.join("trusted-roots").exists());
        check_writable(&fresh, true).expect("and with the roots' folder");
        assert!(fresh.join("trusted-roots").is_dir());
        assert_eq!(
            std::fs::read_dir(fresh.join("personal"))
                .expect("dir")
                .count(),
            0,
            "the probe is removed"
        );
    }
}
