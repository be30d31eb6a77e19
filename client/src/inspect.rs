//! A certificate as the Windows certificate dialog's 全般 (General) tab shows it.

use crate::certs::{self, CertInfo};
use crate::ClientError;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// What the 全般 tab shows, plus the path status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// 発行先: the subject's CN.
    pub issued_to: Option<String>,
    /// 発行者: the issuer's CN.
    pub issued_by: Option<String>,
    /// 有効期間 start, as `yyyy/mm/dd` in Japan time.
    pub valid_from: String,
    /// 有効期間 end, as `yyyy/mm/dd` in Japan time.
    pub valid_to: String,
    /// notBefore, exact.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// notAfter, exact.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Upper-case hex serial.
    pub serial: String,
    /// SHA-1 fingerprint (拇印) in five groups.
    pub sha1: String,
    /// The certification path against the root given.
    pub path: PathStatus,
}

/// The certification path of an inspected certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PathStatus {
    /// The path validates to the root given, now, for client authentication.
    Valid {
        /// The root's SHA-1 in five groups.
        root_sha1: String,
    },
    /// The path does not validate.
    Invalid {
        /// Why.
        reason: String,
    },
    /// No root was given.
    RootNotGiven,
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = "(なし)";
        writeln!(f, "証明書の情報")?;
        writeln!(f, "  発行先: {}", self.issued_to.as_deref().unwrap_or(none))?;
        writeln!(f, "  発行者: {}", self.issued_by.as_deref().unwrap_or(none))?;
        writeln!(f, "  有効期間 {} から {}", self.valid_from, self.valid_to)?;
        writeln!(f, "  シリアル番号: {}", self.serial)?;
        writeln!(f, "  拇印 (SHA-1): {}", self.sha1)?;
        match &self.path {
            PathStatus::Valid { root_sha1 } => {
                write!(
                    f,
                    "  証明のパス: この証明書は問題ありません (root {root_sha1})"
                )
            }
            PathStatus::Invalid { reason } => write!(f, "  証明のパス: 検証できません: {reason}"),
            PathStatus::RootNotGiven => write!(f, "  証明のパス: root not given"),
        }
    }
}

/// Shows a certificate (PEM or DER) as the 全般 tab does, and checks its path
/// to `root` (PEM or DER) at the current time when a root is given.
pub fn inspect(cert: &[u8], root: Option<&[u8]>) -> Result<Inspection, ClientError> {
    let info = CertInfo::parse(&certs::first_certificate(cert, "certificate")?)?;
    let path = match root {
        None => PathStatus::RootNotGiven,
        Some(root) => {
            let root = CertInfo::parse(&certs::first_certificate(root, "root")?)?;
            match certs::verify_path(&info.der, &root.der, OffsetDateTime::now_utc()) {
                Ok(()) => PathStatus::Valid {
                    root_sha1: root.sha1_groups(),
                },
                Err(reason) => PathStatus::Invalid { reason },
            }
        }
    };
    Ok(Inspection {
        issued_to: info.subject_cn.clone(),
        issued_by: info.issuer_cn.clone(),
        valid_from: certs::slash_date(certs::jst_date(info.not_before)),
        valid_to: certs::slash_date(certs::jst_date(info.not_after)),
        not_before: info.not_before,
        not_after: info.not_after,
        serial: info.serial.clone(),
        sha1: info.sha1_groups(),
        path,
    })
}

/// One inspected file: where it was, and what the 全般 tab shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectedFile {
    /// The certificate's file.
    pub file: std::path::PathBuf,
    /// Its inspection.
    #[serde(flatten)]
    pub inspection: Inspection,
}

/// Inspects every certificate named: a file, or a store directory whose
/// `personal/*.crt.pem` are taken (in name order). The path is checked against
/// `roots`, or, when none are given, against the `trusted-roots/*.crt.pem` of
/// the stores named; a certificate's path is valid when it validates to any of
/// them.
pub fn inspect_files(
    certs: &[std::path::PathBuf],
    roots: &[std::path::PathBuf],
) -> Result<Vec<InspectedFile>, ClientError> {
    let mut files = Vec::new();
    let mut store_roots = Vec::new();
    for path in certs {
        if path.is_dir() {
            let found = files_ending(&path.join("personal"), ".crt.pem")?;
            if found.is_empty() {
                return Err(ClientError::Argument(format!(
                    "{} holds no certificate (personal/*.crt.pem)",
                    path.display()
                )));
            }
            files.extend(found);
            store_roots.extend(files_ending(&path.join("trusted-roots"), ".crt.pem")?);
        } else {
            files.push(path.clone());
        }
    }
    let roots = if roots.is_empty() {
        store_roots
    } else {
        roots.to_vec()
    };
    let roots = roots
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| ClientError::io(p, e)))
        .collect::<Result<Vec<_>, _>>()?;
    files
        .into_iter()
        .map(|file| {
            let cert = std::fs::read(&file).map_err(|e| ClientError::io(&file, e))?;
            let inspection = if roots.is_empty() {
                inspect(&cert, None)?
            } else {
                let mut last = None;
                for root in &roots {
                    let seen = inspect(&cert, Some(root))?;
                    let valid = matches!(seen.path, PathStatus::Valid { .. });
                    last = Some(seen);
                    if valid {
                        break;
                    }
                }
                match last {
                    Some(seen) => seen,
                    None => inspect(&cert, None)?,
                }
            };
            Ok(InspectedFile { file, inspection })
        })
        .collect()
}

/// The files of `dir` whose names end in `suffix`, in name order (none if `dir` is missing).
fn files_ending(
    dir: &std::path::Path,
    suffix: &str,
) -> Result<Vec<std::path::PathBuf>, ClientError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ClientError::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| ClientError::io(dir, e))?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(suffix))
        {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
