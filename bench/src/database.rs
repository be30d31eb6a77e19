//! The store under the server: a new SQLite file per server start (the
//! default), or a new database per server start on PostgreSQL, either a
//! throwaway cluster the benchmark starts (and always stops) or a server the
//! user names. On PostgreSQL the database server's CPU time is read too, so
//! that the CPU ratios count what an issuance costs both processes.

use crate::procfs;
use anyhow::{anyhow, bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use webra2_mock::store::redacted;
use webra2_mock::store::scratch::{drop_database, execute_on, with_database};

/// What `--db` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A new SQLite file per server start.
    Sqlite,
    /// A throwaway PostgreSQL cluster started by the benchmark.
    OwnPostgres,
    /// A PostgreSQL server already running, by the URL of a role that may
    /// `CREATE DATABASE`.
    Postgres(String),
}

/// Parses `--db`: `sqlite`, `postgres`, or `postgres://USER@HOST:PORT/DB`.
pub fn parse_choice(s: &str) -> Result<Choice, String> {
    match s {
        "sqlite" => Ok(Choice::Sqlite),
        "postgres" | "postgresql" => Ok(Choice::OwnPostgres),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Choice::Postgres(url.to_owned()))
        }
        _ => Err(
            "expected sqlite, postgres (a throwaway cluster the benchmark starts) or \
             postgres://USER@HOST:PORT/DB (a server where that role may CREATE DATABASE)"
                .to_owned(),
        ),
    }
}

/// The backend of a whole benchmark: where each server start gets its store.
pub enum Backend {
    /// SQLite files in the run's folder.
    Sqlite,
    /// Databases on a PostgreSQL server.
    Postgres(Postgres),
}

impl Backend {
    /// Sets up what `choice` asks for: on [`Choice::OwnPostgres`] this starts
    /// the cluster (stopped when the backend is dropped, or on Ctrl-C).
    pub fn open(choice: &Choice) -> anyhow::Result<Backend> {
        Ok(match choice {
            Choice::Sqlite => Backend::Sqlite,
            Choice::OwnPostgres => {
                // From here on the guard stops the cluster, whatever fails next.
                let cluster = Cluster::start()?;
                let url = cluster.0.url.clone();
                let postmaster = cluster.0.postmaster()?;
                Backend::Postgres(Postgres::new(url, postmaster, Some(cluster))?)
            }
            Choice::Postgres(url) => {
                let mut pg = Postgres::new(url.clone(), 0, None)?;
                pg.postmaster = pg.postmaster_of_a_backend()?;
                Backend::Postgres(pg)
            }
        })
    }

    /// What ends the backend's own processes when a signal ends the benchmark
    /// (destructors do not run then): stops a throwaway cluster.
    pub fn stopper(&self) -> impl FnOnce() + Send + 'static {
        let cluster = match self {
            Backend::Postgres(pg) => pg._cluster.as_ref().map(|guard| guard.0.clone()),
            Backend::Sqlite => None,
        };
        move || {
            if let Some(cluster) = cluster {
                cluster.stop();
            }
        }
    }

    /// `sqlite` or `postgres`, as the figures name it.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// A new, empty store for one server start: `sqlite://<dir>/<name>.db`,
    /// or a new database on the PostgreSQL server (dropped with the guard).
    pub fn fresh(&self, dir: &Path, name: &str) -> anyhow::Result<Fresh> {
        match self {
            Backend::Sqlite => Ok(Fresh {
                url: format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
                drop: None,
            }),
            Backend::Postgres(pg) => pg.create_database(name),
        }
    }

    /// CPU seconds the database server has used so far (0 on SQLite: the
    /// embedded store's work is the server's own CPU time).
    pub fn cpu_secs(&self) -> anyhow::Result<f64> {
        match self {
            Backend::Sqlite => Ok(0.0),
            Backend::Postgres(pg) => procfs::tree_cpu_secs(pg.postmaster)
                .with_context(|| format!("the PostgreSQL server (pid {})", pg.postmaster)),
        }
    }
}

/// A PostgreSQL server the benchmark makes its databases on.
pub struct Postgres {
    /// The URL of a role that may `CREATE DATABASE`.
    url: String,
    /// The server's main process, whose tree's CPU time is counted.
    postmaster: u32,
    /// The throwaway cluster, when the benchmark started it; dropped last.
    _cluster: Option<ClusterGuard>,
    /// Runs the few administrative statements (outside any other runtime).
    runtime: tokio::runtime::Runtime,
}

impl Postgres {
    fn new(url: String, postmaster: u32, cluster: Option<ClusterGuard>) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            url,
            postmaster,
            _cluster: cluster,
            runtime,
        })
    }

    /// Runs `sql` on the server's maintenance database over `self.url`.
    #[cfg(test)]
    fn execute(&self, sql: &str) -> anyhow::Result<Vec<tokio_postgres::SimpleQueryMessage>> {
        self.while_connected(sql, |_| ()).map(|(rows, ())| rows)
    }

    /// Runs `sql` like [`Postgres::execute`], and `then` on its rows while
    /// the connection, and so its backend process, is still open.
    fn while_connected<T>(
        &self,
        sql: &str,
        then: impl FnOnce(&[tokio_postgres::SimpleQueryMessage]) -> T,
    ) -> anyhow::Result<(Vec<tokio_postgres::SimpleQueryMessage>, T)> {
        self.runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .with_context(|| format!("cannot connect to {}", redacted(&self.url)))?;
            let task = tokio::spawn(connection);
            let done = client.simple_query(sql).await.map(|rows| {
                let value = then(&rows);
                (rows, value)
            });
            drop(client);
            let _ = task.await;
            done.with_context(|| format!("{sql} on {}", redacted(&self.url)))
        })
    }

    /// The postmaster of a server the benchmark did not start: the parent of
    /// the backend that serves one connection, which must be a process of this
    /// machine (else its CPU time cannot be counted, and the ratio would
    /// leave the database out).
    fn postmaster_of_a_backend(&self) -> anyhow::Result<u32> {
        // Looked up while the connection is open: once it closes, the backend
        // exits, and a look after that found no process (a flaky CI run).
        let (_, found) = self.while_connected("SELECT pg_backend_pid()", |rows| {
            let backend: Option<u32> = rows.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse().ok(),
                _ => None,
            });
            backend.map(|pid| (pid, postmaster_of(pid)))
        })?;
        let (backend, postmaster) =
            found.ok_or_else(|| anyhow!("SELECT pg_backend_pid() gave no pid"))?;
        postmaster.ok_or_else(|| {
            anyhow!(
                "{} is not served by a PostgreSQL process of this machine (backend pid {backend} \
                 is no postgres process here): its CPU time cannot be counted. Run the \
                 benchmark on the database's machine, or use --db postgres (a throwaway cluster)",
                redacted(&self.url)
            )
        })
    }
}

/// The parent of `backend` when both are PostgreSQL processes of this machine.
fn postmaster_of(backend: u32) -> Option<u32> {
    let postgres = |pid| procfs::command_name(pid).is_ok_and(|name| name.starts_with("postgres"));
    procfs::ppid(backend)
        .ok()
        .filter(|&parent| postgres(backend) && postgres(parent))
}

impl Postgres {
    /// A new empty database `webra2_bench_<pid>_<n>_<name>`.
    fn create_database(&self, name: &str) -> anyhow::Result<Fresh> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let db = format!(
            "webra2_bench_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            name.to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        self.runtime
            .block_on(execute_on(&self.url, &format!("CREATE DATABASE {db}")))
            .with_context(|| format!("CREATE DATABASE {db} on {}", redacted(&self.url)))?;
        Ok(Fresh {
            url: with_database(&self.url, &db),
            drop: Some(DropDatabase {
                server: self.url.clone(),
                name: db,
            }),
        })
    }
}

/// The store of one server start. On PostgreSQL its database is dropped
/// with this (drop the server that uses it first).
pub struct Fresh {
    /// The `--db` URL of the store.
    pub url: String,
    drop: Option<DropDatabase>,
}

struct DropDatabase {
    server: String,
    name: String,
}

impl Drop for Fresh {
    fn drop(&mut self) {
        let Some(DropDatabase { server, name }) = self.drop.take() else {
            return;
        };
        let dropped = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| Ok(runtime.block_on(drop_database(&server, &name))?));
        if let Err(e) = dropped {
            eprintln!("note: the database {name} was not dropped: {e:#}");
        }
    }
}

/// A throwaway PostgreSQL cluster: `scripts/pg-throwaway start` of the
/// repository this benchmark was built from, stopped (and its folder
/// removed) by [`Cluster::stop`]: when its [`ClusterGuard`] is dropped, also
/// after an error, and on Ctrl-C or SIGTERM ([`Backend::stopper`]).
struct Cluster {
    script: PathBuf,
    /// The folder `pg-throwaway` made (`PGDATA_THROWAWAY`).
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    url: String,
    /// Set once stopped; held while stopping, so a second caller waits for the first.
    stopped: Mutex<bool>,
}

impl Cluster {
    /// Starts a cluster and the thread that stops it on a signal.
    fn start() -> anyhow::Result<ClusterGuard> {
        let script = pg_throwaway()?;
        eprintln!(
            "starting a throwaway PostgreSQL ({} start)",
            script.display()
        );
        let out = Command::new(&script)
            .arg("start")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("cannot run {}", script.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let var = |name: &str| {
            stdout.lines().find_map(|line| {
                line.strip_prefix("export ")?
                    .strip_prefix(name)?
                    .strip_prefix('=')
                    .map(str::to_owned)
            })
        };
        let (dir, url) = (var("PGDATA_THROWAWAY"), var("WEBRA2_TEST_PG"));
        if let Some(dir) = &dir {
            if !out.status.success() || url.is_none() {
                // Half started: take down what is there.
                let _ = Command::new(&script).arg("stop").arg(dir).status();
            }
        }
        if !out.status.success() {
            bail!("{} start failed: {}", script.display(), out.status);
        }
        let (Some(dir), Some(url)) = (dir, url) else {
            bail!(
                "{} start printed no PGDATA_THROWAWAY and WEBRA2_TEST_PG: {stdout:?}",
                script.display()
            );
        };
        let cluster = Arc::new(Cluster {
            script,
            dir: PathBuf::from(dir),
            url,
            stopped: Mutex::new(false),
        });
        eprintln!(
            "PostgreSQL {} (data in {})",
            cluster.url,
            cluster.dir.display()
        );
        Ok(ClusterGuard(cluster))
    }

    /// The pid of the cluster's postmaster: the first line of
    /// `PGDATA/postmaster.pid`.
    fn postmaster(&self) -> anyhow::Result<u32> {
        let file = self.dir.join("data").join("postmaster.pid");
        let text = std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
        text.lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .ok_or_else(|| anyhow!("{}: no pid on its first line", file.display()))
    }

    /// Stops the cluster and removes its folder; once, however often called.
    fn stop(&self) {
        let mut stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        if *stopped {
            return;
        }
        *stopped = true;
        eprintln!("stopping the throwaway PostgreSQL");
        let stopped = Command::new(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            eprintln!(
                "note: {} stop {} failed: stop it by hand",
                self.script.display(),
                self.dir.display()
            );
        }
    }
}

/// Stops the cluster when dropped.
struct ClusterGuard(Arc<Cluster>);

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// `scripts/pg-throwaway` of the repository: found above this binary (it
/// lives in `<repo>/target/<profile>/`), else in the repository it was built
/// from.
fn pg_throwaway() -> anyhow::Result<PathBuf> {
    let relative = Path::new("scripts").join("pg-throwaway");
    let exe = std::env::current_exe()?;
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join(&relative))
        .chain(std::iter::once(built_from.join(&relative)))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            anyhow!(
                "scripts/pg-throwaway not found above {} nor in {}: run the benchmark from \
                 the repository, or pass --db postgres://… of a running server",
                exe.display(),
                built_from.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_choices_parse_and_anything_else_is_refused_with_the_forms() {
        assert_eq!(parse_choice("sqlite"), Ok(Choice::Sqlite));
        assert_eq!(parse_choice("postgres"), Ok(Choice::OwnPostgres));
        assert_eq!(
            parse_choice("postgres://pg@127.0.0.1:5432/postgres"),
            Ok(Choice::Postgres(
                "postgres://pg@127.0.0.1:5432/postgres".into()
            ))
        );
        let refused = parse_choice("mysql://x").err().unwrap_or_default();
        assert!(
            refused.contains("postgres://USER@HOST:PORT/DB"),
            "{refused}"
        );
    }

    #[test]
    fn the_throwaway_script_is_found_from_this_build() {
        let script = pg_throwaway().ok();
        assert!(
            script
                .as_ref()
                .is_some_and(|p| p.ends_with("scripts/pg-throwaway")),
            "{script:?}"
        );
    }

    #[test]
    fn sqlite_stores_are_new_files_in_the_run_folder_and_cost_no_database_cpu() {
        let backend = Backend::Sqlite;
        let fresh = backend.fresh(Path::new("/tmp/run"), "bench").ok();
        assert_eq!(
            fresh.as_ref().map(|f| f.url.as_str()),
            Some("sqlite:///tmp/run/bench.db")
        );
        assert_eq!(backend.cpu_secs().ok(), Some(0.0));
        assert_eq!(backend.name(), "sqlite");
    }

    /// Whether database `name` exists on the server `pg` names.
    fn exists(pg: &Postgres, name: &str) -> bool {
        let rows = pg
            .execute(&format!(
                "SELECT 1 FROM pg_database WHERE datname = '{name}'"
            ))
            .unwrap_or_default();
        rows.iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
    }

    #[test]
    fn on_a_server_of_this_machine_fresh_databases_come_and_go_and_its_cpu_is_counted() {
        // The server of the tests (.ci/run's throwaway; WEBRA2_TEST_PG); fails loudly without.
        let url = webra2_mock::store::scratch::server_url();
        let backend = match Backend::open(&Choice::Postgres(url)) {
            Ok(backend) => backend,
            Err(e) => panic!("{e:#}"),
        };
        assert_eq!(backend.name(), "postgres");
        let Backend::Postgres(pg) = &backend else {
            panic!("not PostgreSQL")
        };
        let fresh = match backend.fresh(Path::new("/unused"), "Load-1") {
            Ok(fresh) => fresh,
            Err(e) => panic!("{e:#}"),
        };
        let name = fresh
            .drop
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default();
        assert!(
            name.starts_with("webra2_bench_") && name.ends_with("_load_1"),
            "{name}"
        );
        assert!(fresh.url.ends_with(&format!("/{name}")), "{}", fresh.url);
        assert!(exists(pg, &name));

        // Work done by a backend of the fresh database shows as the server's CPU.
        let before = backend.cpu_secs().unwrap_or(f64::NAN);
        let on_fresh = Postgres::new(fresh.url.clone(), 0, None);
        let worked = on_fresh.and_then(|p| {
            p.execute("SELECT count(*) FROM generate_series(1, 3000000) a, generate_series(1, 2) b")
        });
        assert!(worked.is_ok(), "{worked:?}");
        let used = backend.cpu_secs().unwrap_or(f64::NAN) - before;
        assert!(
            used >= 0.05,
            "the database server used {used} s for 6 million rows"
        );

        drop(fresh);
        assert!(!exists(pg, &name), "{name} was not dropped");
    }

    #[test]
    fn a_backend_pid_that_is_no_postgres_process_here_has_no_postmaster() {
        // What a remote server's backend pid would name here: some other process, or none.
        assert_eq!(postmaster_of(std::process::id()), None);
        assert_eq!(postmaster_of(u32::MAX), None);
    }

    #[test]
    fn a_throwaway_cluster_is_started_counted_and_removed() {
        let backend = match Backend::open(&Choice::OwnPostgres) {
            Ok(backend) => backend,
            Err(e) => panic!("{e:#}"),
        };
        let Backend::Postgres(pg) = &backend else {
            panic!("not PostgreSQL")
        };
        let (postmaster, dir) = (pg.postmaster, pg._cluster.as_ref().map(|c| c.0.dir.clone()));
        assert_eq!(
            procfs::command_name(postmaster).ok().as_deref(),
            Some("postgres")
        );
        let dir = dir.unwrap_or_default();
        assert!(dir.join("data").is_dir(), "{}", dir.display());
        assert!(backend.cpu_secs().is_ok_and(|s| s > 0.0));
        let fresh = backend.fresh(&dir, "startup0");
        assert!(fresh.is_ok());
        drop(fresh);
        drop(backend);
        assert!(!dir.exists(), "{} is still there", dir.display());
        assert!(
            !procfs::is_alive(postmaster),
            "the postmaster {postmaster} still runs"
        );
    }
}
