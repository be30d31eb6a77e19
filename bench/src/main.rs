//! `webra2-bench`: how close the mock CA comes to the cryptographic limit of
//! this machine, how fast it starts, how small it stays, and how it compares
//! with an openssl-per-process shell mock. See BENCHMARKS.md.
//!
//! Progress goes to stderr; stdout gets one PASS/MISS line per target and, last,
//! one JSON line with every figure (medians over `--runs`).

// The server binary's allocator, so the limits measured here (the same CA and
// argon2 code, in this process) run on what the server runs on.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod baseline;
mod database;
mod interrupt;
mod limits;
mod load;
mod procfs;
mod report;
mod server;

use anyhow::{anyhow, bail};
use clap::Parser;
use database::Backend;
use report::Figures;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webra2_client::{ClientKey, KeySpec};

/// The `webra2-bench` command line.
#[derive(Debug, Parser)]
#[command(
    name = "webra2-bench",
    version,
    about = "Benchmark of webra2-mock (see BENCHMARKS.md)"
)]
struct Args {
    /// A few seconds, for CI: few issuances, short limit measurements. Figures are rough.
    #[arg(long)]
    quick: bool,
    /// Issuances at saturating load [default: 10000; 200 with --quick].
    #[arg(long, value_name = "N")]
    issuances: Option<usize>,
    /// Requests in flight at saturating load [default: three times the cores:
    /// fewer leave the server idle between requests, more only queue; BENCHMARKS.md].
    #[arg(long, value_name = "C")]
    concurrency: Option<usize>,
    /// Repeat the whole measurement this many times and report medians.
    #[arg(long, default_value_t = 1, value_name = "R")]
    runs: usize,
    /// The store under the server: `sqlite` (a new file per server start),
    /// `postgres` (a throwaway cluster this benchmark starts with the
    /// repository's scripts/pg-throwaway, and stops), or
    /// `postgres://USER@HOST:PORT/DB` (a running server on this machine whose
    /// role may CREATE DATABASE). Every server start gets a new database; on
    /// PostgreSQL the database server's CPU time counts in the CPU ratios.
    #[arg(long, default_value = "sqlite", value_parser = database::parse_choice, value_name = "sqlite|postgres|postgres://…")]
    db: database::Choice,
    /// The webra2-mock binary [default: the one next to this benchmark].
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// The webra2-client binary [default: the one next to this benchmark].
    #[arg(long, value_name = "PATH")]
    client: Option<PathBuf>,
    /// Distinct RSA-1024 client keys, generated before the clock starts; their
    /// CSRs are reused round robin across enrollments [default: 64; 4 with --quick].
    #[arg(long, value_name = "K")]
    keys: Option<usize>,
}

/// Sizes of one run, every default applied.
#[derive(Debug, Clone)]
struct Plan {
    quick: bool,
    issuances: usize,
    low_load: usize,
    concurrency: usize,
    keys: usize,
    limit_budget: Duration,
    argon2_budget: Duration,
    startups: usize,
    e2e_runs: usize,
    baseline_certs: usize,
    server: PathBuf,
    client: PathBuf,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webra2-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let cores = procfs::cores();
    let quick = args.quick;
    let issuances = args.issuances.unwrap_or(if quick { 200 } else { 10_000 });
    if issuances == 0 || args.runs == 0 {
        bail!("--issuances and --runs must be at least 1");
    }
    let plan = Plan {
        quick,
        issuances,
        low_load: if quick { 20 } else { 200 },
        concurrency: args.concurrency.unwrap_or(3 * cores).max(1),
        keys: args.keys.unwrap_or(if quick { 4 } else { 64 }).max(1),
        limit_budget: Duration::from_millis(if quick { 300 } else { 3000 }),
        argon2_budget: Duration::from_millis(if quick { 300 } else { 3000 }),
        startups: if quick { 3 } else { 10 },
        e2e_runs: if quick { 1 } else { 3 },
        baseline_certs: if quick { 16 } else { 200 },
        server: server::sibling_binary(args.server.as_ref(), "webra2-mock")?,
        client: server::sibling_binary(args.client.as_ref(), "webra2-client")?,
    };
    eprintln!(
        "webra2-bench: {} core(s), {}; load average {:.2}; {plan:?}",
        cores,
        procfs::cpu_model(),
        procfs::load_average()
    );

    // Stops a cluster it started when dropped: at the end, and on any error.
    let backend = Backend::open(&args.db)?;
    let stop_backend = backend.stopper();
    interrupt::on_signal(move || {
        server::kill_all();
        stop_backend();
    });

    eprintln!("generating {} RSA-1024 client keys and CSRs", plan.keys);
    let csrs = Arc::new(client_csrs(plan.keys)?);

    let mut runs = Vec::new();
    for r in 1..=args.runs {
        eprintln!("--- run {r} of {}", args.runs);
        let figures = run_once(&plan, cores, &csrs, &backend)?;
        eprintln!("run {r}: {}", serde_json::to_string(&figures)?);
        runs.push(figures);
    }
    let mut figures = report::median(&runs)?;
    figures.runs = runs.len();
    for line in report::verdicts(&figures) {
        println!("{line}");
    }
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// RSA-1024 keys with their PKCS#10 requests, as the site's enrollment control makes them.
fn client_csrs(n: usize) -> anyhow::Result<Vec<String>> {
    let workers = procfs::cores();
    let per = n.div_ceil(workers);
    let made: Vec<anyhow::Result<Vec<String>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    (w * per..((w + 1) * per).min(n))
                        .map(|i| {
                            let key = ClientKey::generate(KeySpec::Rsa(1024))
                                .map_err(|e| anyhow!("{e}"))?;
                            key.csr_pem(&format!("BENCHKEY{i:03}"))
                                .map_err(|e| anyhow!("{e}"))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("key thread panicked")))
            })
            .collect()
    });
    let mut csrs = Vec::with_capacity(n);
    for part in made {
        csrs.extend(part?);
    }
    Ok(csrs)
}

/// One complete measurement.
fn run_once(
    plan: &Plan,
    cores: usize,
    csrs: &Arc<Vec<String>>,
    backend: &Backend,
) -> anyhow::Result<Figures> {
    let mut f = Figures {
        db: backend.name().to_owned(),
        cores,
        cpu_model: procfs::cpu_model(),
        quick: plan.quick,
        runs: 1,
        issuances: plan.issuances,
        concurrency: plan.concurrency,
        keys: plan.keys,
        load_average_start: procfs::load_average(),
        ..Figures::default()
    };
    let dir = tempfile::tempdir()?;

    eprintln!("crypto limit: verify an RSA-1024 CSR + sign with the RSA-2048 root, one core");
    f.crypto_per_core_per_sec = limits::issuance_per_core(csrs[0].as_bytes(), plan.limit_budget)?;
    f.crypto_limit_per_sec = f.crypto_per_core_per_sec * cores as f64;
    eprintln!("argon2 limit: one verification with the service's parameters, one core");
    f.argon2_per_core_per_sec = limits::argon2_per_core(plan.argon2_budget)?;
    f.auth_limit_per_sec = f.argon2_per_core_per_sec * cores as f64;

    eprintln!(
        "start-up: {} fresh starts, each on a new {} store",
        plan.startups, f.db
    );
    let mut startups = Vec::new();
    for i in 0..plan.startups {
        // Made before the clock starts; dropped after the server.
        let store = backend.fresh(dir.path(), &format!("startup{i}"))?;
        let s = server::Server::start(
            &plan.server,
            &store.url,
            &dir.path().join(format!("startup{i}.log")),
        )?;
        startups.push(s.startup);
    }
    f.startup_ms = load::quantile_ms(&startups, 0.5);

    let store = backend.fresh(dir.path(), "bench")?;
    let srv = server::Server::start(&plan.server, &store.url, &dir.path().join("bench.log"))?;
    let pid = srv.pid();
    // Idle means started and settled, before any request but the health check.
    std::thread::sleep(Duration::from_millis(300));
    f.rss_idle_mb = procfs::status_mib(pid, "VmRSS")?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(http_phases(plan, &mut f, &srv, backend, csrs.clone()))?;

    f.rss_peak_mb = procfs::status_mib(pid, "VmHWM")?;
    f.rss_after_mb = procfs::status_mib(pid, "VmRSS")?;

    eprintln!("e2e: webra2-client e2e, {} time(s)", plan.e2e_runs);
    let mut e2e = Vec::new();
    for i in 0..plan.e2e_runs {
        let t = Instant::now();
        let status = Command::new(&plan.client)
            .args(["e2e", "--admin-url", &srv.admin_url, "--json"])
            .args(["--user-id", &format!("E2E{i:03}")])
            .arg("--store")
            .arg(dir.path().join(format!("e2e-store{i}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        e2e.push(t.elapsed());
        if !status.success() {
            f.errors += 1;
            eprintln!("e2e run {i} failed: {status}");
        }
    }
    f.e2e_ms = load::quantile_ms(&e2e, 0.5);
    drop(srv);
    drop(store);

    eprintln!(
        "baseline: {} certificates with openssl x509 -req, one process each, {} at a time",
        plan.baseline_certs, cores
    );
    let base_dir = dir.path().join("baseline");
    std::fs::create_dir_all(&base_dir)?;
    let base = baseline::run(&base_dir, csrs, plan.baseline_certs, cores)?;
    f.baseline_per_sec = base.per_sec;
    f.baseline_errors = base.errors;
    f.speedup = f.issuances_per_sec / f.baseline_per_sec;
    f.load_average_end = procfs::load_average();
    Ok(f)
}

/// Preparation, authentication (timed), issuance at low load, issuance at
/// saturating load (timed, with the server's CPU time and the database
/// server's, on PostgreSQL).
async fn http_phases(
    plan: &Plan,
    f: &mut Figures,
    srv: &server::Server,
    backend: &Backend,
    csrs: Arc<Vec<String>>,
) -> anyhow::Result<()> {
    let pid = srv.pid();
    let http = load::client(plan.concurrency)?;
    let total = plan.issuances + plan.low_load;

    eprintln!("preparing {total} enrollments (admin API; not timed)");
    let prepared = load::prepare(&http, &srv.admin_url, total, plan.concurrency).await;
    report_errors("prepare", &prepared.first_errors);
    f.errors += prepared.errors;
    let urls: Arc<Vec<String>> = Arc::new(prepared.results.into_iter().flatten().collect());

    eprintln!(
        "step 1 on {} enrollments, {} in flight",
        urls.len(),
        plan.concurrency
    );
    let (cpu0, db0) = (procfs::cpu_secs(pid)?, backend.cpu_secs()?);
    let auth = load::authenticate(&http, urls.clone(), plan.concurrency).await;
    let auth_cpu = procfs::cpu_secs(pid)? - cpu0;
    let auth_db = backend.cpu_secs()? - db0;
    report_errors("auth", &auth.first_errors);
    f.errors += auth.errors;
    f.auth_per_sec = auth.per_sec();
    f.auth_ratio = f.auth_per_sec / f.auth_limit_per_sec;
    f.server_cpu_per_auth_us = auth_cpu * 1e6 / auth.ok().max(1) as f64;
    f.db_cpu_per_auth_us = auth_db * 1e6 / auth.ok().max(1) as f64;
    f.auth_cpu_ratio =
        (1e6 / (f.server_cpu_per_auth_us + f.db_cpu_per_auth_us)) / f.argon2_per_core_per_sec;
    let ready: Vec<load::Ready> = urls
        .iter()
        .zip(auth.results)
        .filter_map(|(url, session)| {
            Some(load::Ready {
                url: url.clone(),
                session: session?,
            })
        })
        .collect();
    let low_n = plan.low_load.min(ready.len());
    let (low, high) = ready.split_at(low_n);

    eprintln!("{} issuances at low load (one in flight)", low.len());
    let low = load::issue(&http, Arc::new(low.to_vec()), csrs.clone(), 1).await;
    report_errors("issue (low load)", &low.first_errors);
    f.errors += low.errors;
    f.p50_ms = load::quantile_ms(&low.latencies, 0.5);
    f.p99_ms = load::quantile_ms(&low.latencies, 0.99);

    eprintln!(
        "{} issuances at saturating load ({} in flight)",
        high.len(),
        plan.concurrency
    );
    let (cpu0, db0) = (procfs::cpu_secs(pid)?, backend.cpu_secs()?);
    let sat = load::issue(&http, Arc::new(high.to_vec()), csrs, plan.concurrency).await;
    let sat_cpu = procfs::cpu_secs(pid)? - cpu0;
    let sat_db = backend.cpu_secs()? - db0;
    report_errors("issue (saturating)", &sat.first_errors);
    f.errors += sat.errors;
    f.issuances_per_sec = sat.per_sec();
    f.ratio = f.issuances_per_sec / f.crypto_limit_per_sec;
    f.server_cpu_per_issuance_us = sat_cpu * 1e6 / sat.ok().max(1) as f64;
    f.db_cpu_per_issuance_us = sat_db * 1e6 / sat.ok().max(1) as f64;
    f.server_cpu_share = sat_cpu / sat.elapsed.as_secs_f64() / f.cores as f64;
    f.db_cpu_share = sat_db / sat.elapsed.as_secs_f64() / f.cores as f64;
    f.cpu_ratio = (1e6 / (f.server_cpu_per_issuance_us + f.db_cpu_per_issuance_us))
        / f.crypto_per_core_per_sec;
    f.p50_sat_ms = load::quantile_ms(&sat.latencies, 0.5);
    f.p99_sat_ms = load::quantile_ms(&sat.latencies, 0.99);
    f.issued = low.ok() + sat.ok();
    Ok(())
}

fn report_errors(phase: &str, errors: &[String]) {
    for e in errors {
        eprintln!("{phase}: error: {e}");
    }
}
