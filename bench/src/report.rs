//! The figures of a run, their medians over runs, and the targets: issue 6's
//! on SQLite, issue 11's on PostgreSQL.

use serde::{Deserialize, Serialize};

/// Every figure the benchmark reports; the JSON line is this, serialised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Figures {
    /// Cores the server may use (`available_parallelism`).
    pub cores: usize,
    /// CPU model from /proc/cpuinfo.
    pub cpu_model: String,
    /// `--quick`: rough figures.
    pub quick: bool,
    /// Runs the figures are medians of.
    pub runs: usize,
    /// Issuances at saturating load.
    pub issuances: usize,
    /// Requests in flight at saturating load.
    pub concurrency: usize,
    /// Distinct client keys behind the CSRs.
    pub keys: usize,
    /// The store under the server: `sqlite` or `postgres`.
    pub db: String,
    /// One-minute load average when the run started.
    pub load_average_start: f64,
    /// One-minute load average when the run ended.
    pub load_average_end: f64,
    /// Verify one RSA-1024 CSR + sign one leaf with the root, per second, one core.
    pub crypto_per_core_per_sec: f64,
    /// The same, times the cores.
    pub crypto_limit_per_sec: f64,
    /// Issuances (CSR + certificate download) per second over HTTP, saturating.
    pub issuances_per_sec: f64,
    /// `issuances_per_sec` over `crypto_limit_per_sec` (wall clock; the load
    /// generator shares the cores).
    pub ratio: f64,
    /// Issuances per CPU second of the server (and of the database server, on
    /// PostgreSQL) over the one-core crypto rate: the share of that CPU time
    /// that is the cryptography itself.
    pub cpu_ratio: f64,
    /// Server CPU time per issuance, microseconds.
    pub server_cpu_per_issuance_us: f64,
    /// Database server CPU time per issuance (PostgreSQL's processes; 0 on
    /// SQLite, whose work is the server's own), microseconds.
    pub db_cpu_per_issuance_us: f64,
    /// Server CPU time over wall time and cores during the saturating phase.
    pub server_cpu_share: f64,
    /// Database server CPU time over wall time and cores, the same phase.
    pub db_cpu_share: f64,
    /// Argon2 verifications per second, one core, the service's parameters.
    pub argon2_per_core_per_sec: f64,
    /// The same, times the cores.
    pub auth_limit_per_sec: f64,
    /// Step 1 over HTTP per second.
    pub auth_per_sec: f64,
    /// `auth_per_sec` over `auth_limit_per_sec` (wall clock).
    pub auth_ratio: f64,
    /// Authentications per server (and database server) CPU second over the
    /// one-core argon2 rate.
    pub auth_cpu_ratio: f64,
    /// Server CPU time per Step 1, microseconds.
    pub server_cpu_per_auth_us: f64,
    /// Database server CPU time per Step 1 (0 on SQLite), microseconds.
    pub db_cpu_per_auth_us: f64,
    /// One issuance's latency at low load (one in flight): median, ms.
    pub p50_ms: f64,
    /// One issuance's latency at low load: 99th percentile, ms.
    pub p99_ms: f64,
    /// One issuance's latency at saturating load: median, ms.
    pub p50_sat_ms: f64,
    /// One issuance's latency at saturating load: 99th percentile, ms.
    pub p99_sat_ms: f64,
    /// `webra2-client e2e` as a user runs it (prepare, key, mTLS confirmation), ms.
    pub e2e_ms: f64,
    /// Process start to the first 200 from /healthz, on a new store (SQLite
    /// file, or PostgreSQL database: the migrations included), ms.
    pub startup_ms: f64,
    /// VmRSS after start-up, MiB.
    pub rss_idle_mb: f64,
    /// VmHWM after every issuance, MiB.
    pub rss_peak_mb: f64,
    /// VmRSS after every issuance, MiB.
    pub rss_after_mb: f64,
    /// Certificates issued over HTTP (low and saturating load).
    pub issued: usize,
    /// Failed requests of every phase, and failed e2e runs.
    pub errors: usize,
    /// The openssl-per-process shell mock: certificates per second.
    pub baseline_per_sec: f64,
    /// Failed baseline calls.
    pub baseline_errors: usize,
    /// `issuances_per_sec` over `baseline_per_sec`.
    pub speedup: f64,
}

/// The median of every number over `runs` (counts too; errors are summed, so
/// one failing run shows); text from the first run.
pub fn median(runs: &[Figures]) -> anyhow::Result<Figures> {
    let first = runs
        .first()
        .ok_or_else(|| anyhow::anyhow!("no runs to summarise"))?;
    let values: Vec<serde_json::Value> = runs
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let mut out = serde_json::to_value(first)?;
    if let Some(map) = out.as_object_mut() {
        for (key, value) in map.iter_mut() {
            if !value.is_number() {
                continue;
            }
            let mut nums: Vec<f64> = values.iter().filter_map(|v| v.get(key)?.as_f64()).collect();
            let agg = if key.ends_with("errors") {
                nums.iter().sum()
            } else {
                nums.sort_by(f64::total_cmp);
                nums[nums.len() / 2]
            };
            *value = if value.is_u64() {
                serde_json::Value::from(agg.round() as u64)
            } else {
                serde_json::Value::from(agg)
            };
        }
    }
    Ok(serde_json::from_value(out)?)
}

/// One `PASS`/`MISS` line per target of the backend the figures are of,
/// each naming it: issue 6's targets on SQLite, issue 11's on PostgreSQL.
pub fn verdicts(f: &Figures) -> Vec<String> {
    if f.db == "postgres" {
        postgres_verdicts(f)
    } else {
        sqlite_verdicts(f)
    }
}

fn line(db: &str, ok: bool, what: String) -> String {
    format!("{} [{db}] {what}", if ok { "PASS" } else { "MISS" })
}

/// p99 at saturation within ten times p50 at low load (both backends).
fn latency_verdict(f: &Figures) -> String {
    line(
        &f.db,
        f.p99_sat_ms <= 10.0 * f.p50_ms,
        format!(
            "p99 at saturation <= 10x p50 at low load: {:.2} ms vs 10 x {:.2} ms",
            f.p99_sat_ms, f.p50_ms
        ),
    )
}

/// Issue 11's targets: the CPU ratio with PostgreSQL's CPU counted, latency, errors.
fn postgres_verdicts(f: &Figures) -> Vec<String> {
    let server_only = (1e6 / f.server_cpu_per_issuance_us) / f.crypto_per_core_per_sec;
    vec![
        line(
            &f.db,
            f.cpu_ratio >= 0.45,
            format!(
                "ratio >= 0.45 (server + PostgreSQL CPU): {:.2} ({:.0} + {:.0} us an issuance; \
                 server CPU alone {:.2}, wall clock {:.2})",
                f.cpu_ratio,
                f.server_cpu_per_issuance_us,
                f.db_cpu_per_issuance_us,
                server_only,
                f.ratio
            ),
        ),
        latency_verdict(f),
        line(&f.db, f.errors == 0, format!("no errors: {}", f.errors)),
    ]
}

/// Issue 6's targets.
fn sqlite_verdicts(f: &Figures) -> Vec<String> {
    let line = |ok: bool, what: String| line(&f.db, ok, what);
    vec![
        line(
            f.cpu_ratio >= 0.5,
            format!(
                "ratio >= 0.5 (server CPU): {:.2} (wall clock {:.2}, load generator on the same cores)",
                f.cpu_ratio, f.ratio
            ),
        ),
        line(
            f.auth_cpu_ratio >= 0.8,
            format!(
                "auth_ratio >= 0.8 (server CPU): {:.2} (wall clock {:.2})",
                f.auth_cpu_ratio, f.auth_ratio
            ),
        ),
        line(
            f.speedup >= 20.0,
            format!(
                "speedup >= 20x the openssl-per-process baseline: {:.1}x ({:.0}/s vs {:.1}/s)",
                f.speedup, f.issuances_per_sec, f.baseline_per_sec
            ),
        ),
        line(
            f.startup_ms <= 50.0,
            format!("startup_ms <= 50: {:.1}", f.startup_ms),
        ),
        line(
            f.rss_idle_mb <= 20.0,
            format!("rss_idle_mb <= 20: {:.1}", f.rss_idle_mb),
        ),
        line(
            f.rss_peak_mb <= 64.0,
            format!(
                "rss_peak_mb <= 64: {:.1} (after {} issuances)",
                f.rss_peak_mb, f.issued
            ),
        ),
        latency_verdict(f),
        line(
            f.errors == 0 && f.baseline_errors == 0,
            format!(
                "no errors: {} (baseline {})",
                f.errors, f.baseline_errors
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_take_the_middle_run_and_errors_add_up() {
        let run = |rate: f64, errors: usize| Figures {
            issuances_per_sec: rate,
            errors,
            issuances: 100,
            cpu_model: "x".into(),
            ..Figures::default()
        };
        let m = median(&[run(300.0, 0), run(100.0, 1), run(200.0, 0)]).ok();
        let m = m.as_ref();
        assert_eq!(m.map(|m| m.issuances_per_sec), Some(200.0));
        assert_eq!(m.map(|m| m.errors), Some(1));
        assert_eq!(m.map(|m| m.issuances), Some(100));
        assert_eq!(m.map(|m| m.cpu_model.as_str()), Some("x"));
    }

    #[test]
    fn a_run_with_errors_misses_the_no_error_target() {
        for db in ["sqlite", "postgres"] {
            let f = Figures {
                db: db.into(),
                errors: 2,
                ..Figures::default()
            };
            let last = verdicts(&f).pop().unwrap_or_default();
            assert!(
                last.starts_with(&format!("MISS [{db}] no errors: 2")),
                "{last}"
            );
        }
    }

    #[test]
    fn on_postgres_the_ratio_counts_the_database_cpu_against_its_own_target() {
        // 1,000 issuances a core-second of crypto; 1,400 us of server + 700 us of database CPU.
        let f = Figures {
            db: "postgres".into(),
            crypto_per_core_per_sec: 1000.0,
            server_cpu_per_issuance_us: 1400.0,
            db_cpu_per_issuance_us: 700.0,
            cpu_ratio: (1e6 / 2100.0) / 1000.0,
            p50_ms: 2.0,
            p99_sat_ms: 19.0,
            ..Figures::default()
        };
        let lines = verdicts(&f);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("PASS [postgres] ratio >= 0.45 (server + PostgreSQL CPU): 0.48")
                && lines[0].contains("server CPU alone 0.71"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("PASS [postgres] p99"), "{}", lines[1]);
        assert!(
            lines[2].starts_with("PASS [postgres] no errors: 0"),
            "{}",
            lines[2]
        );
        let slower = Figures {
            db_cpu_per_issuance_us: 900.0,
            cpu_ratio: (1e6 / 2300.0) / 1000.0,
            p99_sat_ms: 21.0,
            ..f.clone()
        };
        let lines = verdicts(&slower);
        assert!(
            lines[0].starts_with("MISS [postgres] ratio >= 0.45"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("MISS [postgres] p99"), "{}", lines[1]);
        // The same figures on SQLite face issue 6's eight targets.
        let sqlite = Figures {
            db: "sqlite".into(),
            ..f
        };
        let lines = verdicts(&sqlite);
        assert_eq!(lines.len(), 8, "{lines:?}");
        assert!(
            lines[0].starts_with("MISS [sqlite] ratio >= 0.5 (server CPU): 0.48"),
            "{}",
            lines[0]
        );
    }
}
