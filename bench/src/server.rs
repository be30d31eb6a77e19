//! The server under test: the real `webra2-mock` binary, started as CI would
//! start it (on a new store, every port 0), killed and reaped on drop.

use anyhow::{anyhow, bail, Context};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// Every server started and not yet dropped, so that [`kill_all`] can end
/// them when a signal ends the benchmark (which runs no destructors then).
static RUNNING: Mutex<Vec<Weak<Mutex<Child>>>> = Mutex::new(Vec::new());

/// Kills every server still running (for a signal handler).
pub fn kill_all() {
    let running = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(PoisonError::into_inner));
    for child in running.iter().filter_map(Weak::upgrade) {
        let mut child = child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A running `webra2-mock serve`.
pub struct Server {
    child: Arc<Mutex<Child>>,
    pid: u32,
    /// Held so the server never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// The public listener, `http://127.0.0.1:PORT`.
    pub public_url: String,
    /// The admin listener.
    pub admin_url: String,
    /// From spawning the process to the first `200` from `/healthz`.
    pub startup: Duration,
}

impl Server {
    /// Starts `bin` on the store `db` (`--db`: a new SQLite file or PostgreSQL
    /// database; log lines go to `log`) and waits for its ready line and its
    /// first healthy answer.
    pub fn start(bin: &Path, db: &str, log: &Path) -> anyhow::Result<Server> {
        let log_path = log;
        let log = std::fs::File::create(log).with_context(|| log.display().to_string())?;
        let started = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--public-addr", "127.0.0.1:0"])
            .args(["--admin-addr", "127.0.0.1:0"])
            .args(["--confirm-addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{}: no stdout", bin.display());
        };
        // From here on the guard owns the child: any error below kills it.
        let pid = child.id();
        let child = Arc::new(Mutex::new(child));
        {
            let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
            running.retain(|c| c.strong_count() > 0);
            running.push(Arc::downgrade(&child));
        }
        let mut server = Server {
            child,
            pid,
            _stdout: BufReader::new(stdout),
            public_url: String::new(),
            admin_url: String::new(),
            startup: Duration::ZERO,
        };
        let mut line = String::new();
        server._stdout.read_line(&mut line)?;
        if line.is_empty() {
            let _ = server
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .wait();
            let tail = std::fs::read_to_string(log_path).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            bail!(
                "{} ended without its ready line; the end of {}:\n{}",
                bin.display(),
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("no {name} in the ready line {line:?}"))
        };
        server.public_url = field("public=")?;
        server.admin_url = field("admin=")?;
        let deadline = started + Duration::from_secs(10);
        loop {
            if healthz(&server.public_url).unwrap_or(false) {
                break;
            }
            if Instant::now() > deadline {
                bail!("{} did not answer /healthz within 10 s", server.public_url);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        server.startup = started.elapsed();
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// One `GET /healthz` over a fresh connection: `true` on a `200`.
fn healthz(public_url: &str) -> anyhow::Result<bool> {
    let host = public_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| anyhow!("public URL {public_url} is not http://HOST:PORT"))?;
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    Ok(&head == b"HTTP/1.1 200")
}

/// A binary of the workspace: the one given, or the one next to this benchmark
/// (same target directory, same profile).
pub fn sibling_binary(given: Option<&PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.clone());
    }
    let me = std::env::current_exe()?;
    let path = me
        .parent()
        .ok_or_else(|| anyhow!("{} has no folder", me.display()))?
        .join(name);
    if !path.is_file() {
        bail!(
            "{} not found: build it first (cargo build --release -p webra2-mock -p webra2-client -p webra2-bench) or pass its path",
            path.display()
        );
    }
    Ok(path)
}
