//! Step 4: the confirmation listener, TLS that demands the client certificate
//! the user installed and hands it to the routes (`http/confirm.rs`) as a
//! [`PeerCertificate`]. What the page says of it is the service's.
//!
//! Three things make it work with the certificates the real service issues:
//! handshake signatures by RSA-1024 keys are verified by our own algorithms
//! ([`verifier`]); the certificate chain is checked by webpki against the
//! service clock, not the OS clock ([`ServiceTime`]); and TLS 1.2 and 1.3 are
//! both offered, so OpenSSL clients at `@SECLEVEL=0` get through.
//!
//! Client certificates are optional in the handshake so that "no certificate"
//! gets a clear `401 certificate-required`; a certificate that does not chain
//! to the root is refused in the handshake itself.

#[cfg(test)]
mod tests;
pub mod verifier;

use crate::clock::Clock;
use crate::listener::{accept_loop, Connection, Limits};
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::server::WebPkiClientVerifier;
use rustls::time_provider::TimeProvider;
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use webra2_ca::Ca;

/// How long a connection whose handshake failed is kept half-open so the
/// client reads the alert (see [`serve`]).
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
pub use crate::listener::DRAIN_TIMEOUT;

/// The client certificate a connection's handshake verified, in the request
/// extensions of every request on that connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub CertificateDer<'static>);

/// The service clock as rustls's time source, so certificate validity in the
/// handshake is judged by the same clock as everything else (a clock fixed in
/// 2030 accepts a certificate issued in 2030).
#[derive(Debug, Clone)]
pub struct ServiceTime(pub Clock);

impl TimeProvider for ServiceTime {
    fn current_time(&self) -> Option<UnixTime> {
        let secs = u64::try_from(self.0.now().unix_timestamp()).ok()?;
        Some(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
    }
}

/// Builds the listener's TLS config: the server cert for `hosts`, client
/// certificates optional at the TLS level (so "no certificate" can get a clear
/// HTTP 401), but a certificate that does not chain to the root is refused in
/// the handshake.
pub fn tls_config(
    ca: &Ca,
    hosts: &[String],
    clock: Clock,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let server = ca.issue_server_cert(hosts, clock.now())?;
    tls_config_from_parts(
        ca.root().cert_der(),
        server.cert_der,
        server.key_pkcs8_der,
        clock,
    )
}

/// [`tls_config`] from DER parts: the root client certificates must chain to,
/// the server certificate and its PKCS#8 key.
pub fn tls_config_from_parts(
    root_der: &[u8],
    server_cert_der: Vec<u8>,
    server_key_pkcs8_der: Vec<u8>,
    clock: Clock,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(verifier::provider());
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(root_der.to_vec()))?;
    let client_verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key_pkcs8_der));
    let mut config =
        rustls::ServerConfig::builder_with_details(provider, Arc::new(ServiceTime(clock)))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(vec![CertificateDer::from(server_cert_der)], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` over TLS on `listener` until `shutdown` resolves; each
/// connection's verified client certificate (if any) is put into the request
/// extensions as [`PeerCertificate`].
///
/// Connections are accepted within `limits` ([`crate::listener`]); a failed
/// handshake, or one slower than `limits.header_timeout`, is logged at debug
/// and the connection dropped. When `shutdown` resolves the listener stops
/// accepting, open connections are asked to finish, and this returns once
/// they have or after [`DRAIN_TIMEOUT`].
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    accept_loop(listener, limits, "confirm", shutdown, move |tcp, conn| {
        connection(tcp, conn, acceptor.clone(), router.clone(), limits)
    })
    .await
}

/// Closes a connection whose handshake failed so that the client reads our
/// alert ("unknown ca", "decrypt error") rather than a reset.
///
/// In TLS 1.3 the client may already have sent its request when the server
/// refuses its certificate; closing a socket with unread input makes the
/// kernel answer with RST, and the client then loses the alert still in its
/// receive buffer. So: send FIN, and read what is left until the client
/// closes too, for at most [`LINGER_TIMEOUT`].
async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(LINGER_TIMEOUT, async {
        while let Ok(n) = tcp.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

async fn connection(
    tcp: TcpStream,
    mut conn: Connection,
    acceptor: TlsAcceptor,
    router: Router,
    limits: Limits,
) {
    let peer = conn.peer;
    if !conn.admitted {
        // Over the cap: no handshake to spend on it (an HTTP answer would need one).
        return;
    }
    let handshake = tokio::select! {
        r = tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp).into_fallible()) => r,
        _ = conn.stop.changed() => return,
    };
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err((e, tcp))) => {
            tracing::debug!(%peer, error = %e, "confirm listener: TLS handshake failed");
            tokio::select! {
                () = linger(tcp) => {}
                _ = conn.stop.changed() => {}
            }
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "confirm listener: TLS handshake timed out");
            return;
        }
    };
    let peer_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|cert| PeerCertificate(cert.clone().into_owned()));
    let service = router.map_request(move |mut req: Request<Incoming>| {
        if let Some(cert) = &peer_cert {
            req.extensions_mut().insert(cert.clone());
        }
        req
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let served = builder
        .serve_connection_with_upgrades(TokioIo::new(tls), TowerToHyperService::new(service));
    tokio::pin!(served);
    let served = tokio::select! {
        r = served.as_mut() => r,
        _ = conn.stop.changed() => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "confirm listener: connection ended with an error");
    }
}
