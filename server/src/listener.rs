//! Accepting connections: what every listener does before a request reaches
//! its router.
//!
//! Three rules keep one listener's misbehaving clients from hurting the
//! others or the process:
//!
//! - **A cap on open connections per listener** ([`Limits::max_connections`]).
//!   A client over the cap is answered at once, `503 too-many-connections`
//!   with `Retry-After` (TLS on the confirm listener: closed), and the
//!   connection closed; at most [`TURNED_AWAY`] are being answered so at a
//!   time (each gets a second to send its request), any more are closed
//!   unanswered. Nothing waits in the kernel's
//!   backlog, where a client would hang in SYN retries. The caps of the three
//!   listeners together stay below the common 1,024 open-file limit
//!   ([`Limits::admin`]), so a flood of the public port cannot starve the
//!   admin API of descriptors.
//! - **A header-read timeout** ([`Limits::header_timeout`]): a connection that
//!   has not sent a complete request head within it is closed. hyper starts
//!   that clock whenever it waits for a request head, so it also closes an
//!   idle keep-alive connection and a slowloris one that trickles its headers.
//! - **A body timeout** ([`Limits::body_timeout`], applied by the routers as a
//!   layer): a client that sends its head and then trickles the body gets
//!   `408` (see `http::mod`).
//!
//! `accept` failures (EMFILE when the process runs out of descriptors after
//! all) back off instead of spinning.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// How long to wait after a failed `accept` before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a listener waits for open connections to finish after shutdown.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What one listener allows its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; the next client waits to be accepted.
    pub max_connections: usize,
    /// Time a client has to send a complete request head (and, on the confirm
    /// listener, to finish the TLS handshake).
    pub header_timeout: Duration,
    /// Time a client has to send a request body once its head is in.
    pub body_timeout: Duration,
}

impl Limits {
    /// The admin listener's limits: a fixed, small cap (it serves a test
    /// harness, not a crowd) with the public listener's timeouts.
    pub fn admin(public: Limits) -> Limits {
        Limits {
            max_connections: ADMIN_MAX_CONNECTIONS,
            ..public
        }
    }
}

/// The admin listener's connection cap.
pub const ADMIN_MAX_CONNECTIONS: usize = 64;
/// Connections over a listener's cap being turned away at once.
pub const TURNED_AWAY: usize = 32;
/// The time a connection over the cap has to send the request head it is
/// answered `503` to: short, so that a silent flood frees these slots fast.
const TURNED_AWAY_TIMEOUT: Duration = Duration::from_secs(1);

/// The handle a connection task gets: it holds the listener's permit (so the
/// connection counts against the cap until it ends), hears shutdown, and
/// keeps the drain from finishing until it is dropped.
pub struct Connection {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Whether it is within the cap; if not, answer that the listener is full
    /// and close.
    pub admitted: bool,
    /// Changes when the listener shuts down: finish the request in hand.
    pub stop: watch::Receiver<()>,
    _permit: OwnedSemaphorePermit,
    _alive: watch::Receiver<()>,
}

/// Accepts connections on `listener` within `limits.max_connections` and
/// hands each to `handle` on a task of its own, until `shutdown` resolves;
/// then waits up to [`DRAIN_TIMEOUT`] for the open ones to finish.
///
/// `name` names the listener in log lines.
pub async fn accept_loop<H, F>(
    listener: TcpListener,
    limits: Limits,
    name: &'static str,
    shutdown: impl Future<Output = ()> + Send + 'static,
    handle: H,
) -> std::io::Result<()>
where
    H: Fn(TcpStream, Connection) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let admitted = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let turned_away = Arc::new(Semaphore::new(TURNED_AWAY));
    // Sending on (or dropping) `stop_tx` tells connections to wind down; every
    // connection holds an `alive_rx`, so `alive_tx.closed()` is "all gone".
    let (stop_tx, stop_rx) = watch::channel(());
    let (alive_tx, alive_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(listener = name, error = %e, "accept failed; backing off");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let (permit, within_cap) = match admitted.clone().try_acquire_owned() {
            Ok(permit) => (permit, true),
            Err(_) => match turned_away.clone().try_acquire_owned() {
                Ok(permit) => (permit, false),
                Err(_) => {
                    tracing::debug!(listener = name, %peer, "over the connection cap: closed");
                    continue;
                }
            },
        };
        if !within_cap {
            tracing::debug!(listener = name, %peer, "over the connection cap: turned away");
        }
        let _ = tcp.set_nodelay(true);
        let conn = Connection {
            peer,
            admitted: within_cap,
            stop: stop_rx.clone(),
            _permit: permit,
            _alive: alive_rx.clone(),
        };
        tokio::spawn(handle(tcp, conn));
    }
    drop(listener);
    drop(alive_rx);
    let _ = stop_tx.send(());
    if tokio::time::timeout(DRAIN_TIMEOUT, alive_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = name,
            "connections still open after the drain timeout"
        );
    }
    Ok(())
}

/// Serves `router` over plain HTTP/1.1 on `listener` (the public and admin
/// listeners) with `limits`, until `shutdown` resolves. A connection over the
/// cap is served by `full` instead, one request, then closed.
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    full: Router,
    limits: Limits,
    name: &'static str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    accept_loop(listener, limits, name, shutdown, move |tcp, conn| {
        let router = if conn.admitted {
            router.clone()
        } else {
            full.clone()
        };
        serve_connection(tcp, conn, router, limits, name)
    })
    .await
}

async fn serve_connection(
    tcp: TcpStream,
    mut conn: Connection,
    router: Router,
    limits: Limits,
    name: &'static str,
) {
    let service = TowerToHyperService::new(router);
    let mut builder = http1_builder(limits);
    if !conn.admitted {
        builder
            .keep_alive(false)
            .header_read_timeout(TURNED_AWAY_TIMEOUT.min(limits.header_timeout));
    }
    let http = builder.serve_connection(TokioIo::new(tcp), service);
    tokio::pin!(http);
    let served = tokio::select! {
        r = http.as_mut() => r,
        _ = conn.stop.changed() => {
            http.as_mut().graceful_shutdown();
            http.await
        }
    };
    if let Err(e) = served {
        tracing::debug!(listener = name, peer = %conn.peer, error = %e, "connection ended with an error");
    }
}

/// hyper's HTTP/1 settings for `limits`: the header-read timeout needs a timer.
pub fn http1_builder(limits: Limits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
}
