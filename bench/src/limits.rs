//! The cryptographic limits, measured in-process on one core with the
//! service's own code: what an issuance and an authentication cannot go below.

use anyhow::anyhow;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use webra2_ca::{parse_csr, Ca, IssueRequest, Profile, Root};

/// Runs `op` on this thread for at least `budget` (and at least `min_ops` times);
/// operations per second.
fn rate(
    budget: Duration,
    min_ops: u32,
    mut op: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<f64> {
    // One untimed call: lazy initialisation is not part of the rate.
    op()?;
    let start = Instant::now();
    let mut ops = 0u32;
    while ops < min_ops || start.elapsed() < budget {
        op()?;
        ops += 1;
    }
    Ok(f64::from(ops) / start.elapsed().as_secs_f64())
}

/// Issuances per second on one core: verify one RSA-1024 request
/// ([`parse_csr`] and the profile's key policy), then sign one leaf with the
/// RSA-2048 fixture root ([`Ca::issue`]): exactly the work of `POST /csr`'s
/// blocking section.
pub fn issuance_per_core(csr_pem: &[u8], budget: Duration) -> anyhow::Result<f64> {
    let profile = Profile::builtin("webra2").ok_or_else(|| anyhow!("no webra2 profile"))?;
    let ca = Ca::new(Root::fixture(), profile, "http://127.0.0.1/ca/crl");
    let now = OffsetDateTime::now_utc();
    rate(budget, 20, || {
        let request = parse_csr(csr_pem)?;
        ca.profile().check_request(&request)?;
        ca.issue(&IssueRequest {
            spki_der: &request.spki_der,
            user_id: "BENCH00001",
            email: "bench00001@example.test",
            mail_sent_at: now,
            now,
        })?;
        Ok(())
    })
}

/// Argon2 verifications per second on one core, with the service's own
/// parameters and code ([`webra2_mock::secrets::verify_password`]).
pub fn argon2_per_core(budget: Duration) -> anyhow::Result<f64> {
    let phc = webra2_mock::secrets::hash_password("bench-password")
        .map_err(|e| anyhow!("argon2 hash: {e}"))?;
    rate(budget, 5, || {
        if webra2_mock::secrets::verify_password("bench-password", &phc) {
            Ok(())
        } else {
            Err(anyhow!("argon2 refused its own password"))
        }
    })
}
