//! The baseline: what a team without this project runs, a shell mock that signs
//! each CSR with `openssl x509 -req`, one process per certificate.
//!
//! It is given every advantage: no HTTP, no store, no session, the files
//! already on disk, as many certificates in flight as there are cores.

use anyhow::{anyhow, Context};
use rand::RngCore;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The shell mock: one certificate per call, the same profile as the service's
/// (subject from the user id, two years, clientAuth, CRL distribution point).
const MOCK_SH: &str = r#"#!/bin/sh
# usage: mock.sh CSR OUT SERIAL USER_ID
set -e
d=$(dirname "$0")
exec openssl x509 -req -in "$1" -out "$2" -set_serial "0x$3" -subj "/CN=$4" \
    -CA "$d/root.cert.pem" -CAkey "$d/root.key.pem" -sha256 -days 730 \
    -extfile "$d/ext.cnf" -extensions client 2>/dev/null
"#;

const EXT_CNF: &str = "[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1/ca/crl
";

/// What the baseline did.
pub struct Baseline {
    /// Certificates signed per second.
    pub per_sec: f64,
    /// Calls that failed or left no certificate.
    pub errors: usize,
}

/// Signs `n` certificates with the shell mock in `dir`, `workers` at a time,
/// CSRs taken round robin from `csrs`.
pub fn run(dir: &Path, csrs: &[String], n: usize, workers: usize) -> anyhow::Result<Baseline> {
    let root = webra2_ca::Root::fixture();
    std::fs::write(dir.join("root.cert.pem"), root.cert_pem())?;
    std::fs::write(dir.join("root.key.pem"), root.key_pem())?;
    std::fs::write(dir.join("ext.cnf"), EXT_CNF)?;
    let script = dir.join("mock.sh");
    std::fs::write(&script, MOCK_SH)?;
    for (i, csr) in csrs.iter().enumerate() {
        std::fs::write(dir.join(format!("req{i}.csr.pem")), csr)?;
    }
    // openssl must run at all, or every "error" below would be a setup problem.
    let version = Command::new("openssl")
        .arg("version")
        .output()
        .context("openssl is not runnable")?;
    if !version.status.success() {
        return Err(anyhow!("openssl version failed"));
    }

    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let (next, errors, script) = (next.clone(), errors.clone(), &script);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let csr = dir.join(format!("req{}.csr.pem", i % csrs.len().max(1)));
                let out = dir.join(format!("cert{i}.pem"));
                let mut serial = [0u8; 16];
                rand::thread_rng().fill_bytes(&mut serial);
                serial[0] &= 0x7f;
                let ok = Command::new("sh")
                    .arg(script)
                    .arg(&csr)
                    .arg(&out)
                    .arg(hex_upper(&serial))
                    .arg(format!("BASE{i:05}"))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
                    && std::fs::metadata(&out).is_ok_and(|m| m.len() > 0);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let errors = errors.load(Ordering::Relaxed);
    let ok = n.saturating_sub(errors);
    Ok(Baseline {
        per_sec: ok as f64 / elapsed,
        errors,
    })
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
