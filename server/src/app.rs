//! Wiring: bind the three listeners, open the store, load the CA, serve.

use crate::clock::Clock;
use crate::config::{RootSource, Settings};
use crate::listener::{self, Limits};
use crate::service::{Parts, Policy, Service};
use crate::state::{AppState, SharedState};
use crate::{confirm, http, store};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use webra2_ca::{Ca, Profile, Root};
use webra2_wire::paths;

/// A built, bound, not yet serving instance of the mock CA.
pub struct Application {
    public: TcpListener,
    admin: TcpListener,
    confirm: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: AppState,
}

/// The root CA the settings name. An ephemeral root is new at every start:
/// certificates a store kept from an earlier start no longer verify against it.
async fn load_root(source: &RootSource) -> anyhow::Result<Root> {
    match source {
        RootSource::Fixture => Ok(Root::fixture()),
        // RSA key generation takes a moment: off the async threads.
        RootSource::Ephemeral => Ok(tokio::task::spawn_blocking(Root::generate).await??),
        RootSource::Files { cert, key } => {
            let read = |path: &std::path::Path, what: &str| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("--root-{what} {}: {e}", path.display()))
            };
            let (cert_pem, key_pem) = (read(cert, "cert")?, read(key, "key")?);
            Root::from_pem(&cert_pem, &key_pem).map_err(|e| {
                anyhow::anyhow!(
                    "--root-cert {} / --root-key {}: {e}",
                    cert.display(),
                    key.display()
                )
            })
        }
    }
}

/// With `--root ephemeral` on a store several replicas share: the root the
/// first replica stored, so that one address never serves two roots. This
/// replica's own new root is kept only if it is the first.
async fn shared_root(store: &dyn store::Store, generated: Root) -> anyhow::Result<Root> {
    let (cert_pem, key_pem) = store
        .adopt_root(&generated.cert_pem(), &generated.key_pem())
        .await
        .map_err(|e| anyhow::anyhow!("cannot store or read the deployment's root: {e}"))?;
    if cert_pem == generated.cert_pem() {
        tracing::info!("ephemeral root generated and stored for the deployment");
        return Ok(generated);
    }
    tracing::info!("ephemeral root of the deployment taken from the store");
    Root::from_pem(&cert_pem, &key_pem)
        .map_err(|e| anyhow::anyhow!("the deployment's stored root does not load: {e}"))
}

/// The URL a listener is reached at: its bound IP, or `localhost` when bound to any.
fn base_url(scheme: &str, addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("{scheme}://localhost:{}", addr.port())
    } else {
        format!("{scheme}://{addr}")
    }
}

impl Application {
    /// Binds every listener (port 0 picks a free one), opens the store and loads
    /// the CA, with the service clock following real time.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::real()).await
    }

    /// As [`Application::build`], with a given clock (tests fix it).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        settings.validate()?;
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot bind the {what} listener to {addr}: {e}"))
        };
        let public = bind(settings.public_addr, "public").await?;
        let admin = bind(settings.admin_addr, "admin").await?;
        let confirm_listener = bind(settings.confirm_addr, "confirm").await?;

        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| {
                base_url("http", public.local_addr().unwrap_or(settings.public_addr))
            })
            .trim_end_matches('/')
            .to_owned();
        let confirm_url = settings.confirm_url.clone().unwrap_or_else(|| {
            let addr = confirm_listener
                .local_addr()
                .unwrap_or(settings.confirm_addr);
            format!("{}/confirm", base_url("https", addr))
        });

        let profile = Profile::load(&settings.profile)?;
        let mut root = load_root(&settings.root).await?;
        let faults = crate::faults::Faults::from_set(&settings.faults)
            .map_err(|e| anyhow::anyhow!("--faults (WEBRA2_FAULTS): {e}"))?;
        let mailer = match &settings.smtp_url {
            Some(url) => Some(Arc::new(crate::smtp::Mailer::from_url(
                url,
                &settings.smtp_from,
            )?)),
            None => None,
        };
        // Last: every other setting was checked before the store is created or migrated.
        let store = store::open(&settings.db).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the store {}: {e}",
                store::redacted(&settings.db)
            )
        })?;
        if store.is_shared() && settings.root == RootSource::Ephemeral {
            root = shared_root(&*store, root).await?;
        }
        // The OCSP responder's certificate is issued now, by the root.
        let ca = Arc::new(
            Ca::new(root, profile, format!("{public_url}{}", paths::CRL))
                .with_status_urls(
                    format!("{public_url}{}", paths::OCSP),
                    format!("{public_url}{}", paths::ROOT_DER),
                )
                .with_ocsp_responder(clock.now())?,
        );
        let tls = confirm::tls_config(&ca, &settings.confirm_hosts, clock.clone())?;

        let service = Service::new(Parts {
            store,
            ca,
            clock,
            policy: Policy {
                lock_after: settings.lock_after,
                session_minutes: settings.session_minutes,
                url_valid_days: settings.url_valid_days,
            },
            public_url,
            confirm_url,
            faults,
            metrics: Arc::new(crate::metrics::Metrics::new()),
            mailer,
        });
        service
            .join_deployment()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the deployment's clock and faults: {e}"))?;
        let state = AppState::new(SharedState {
            service,
            settings: Arc::new(settings),
        });
        Ok(Self {
            public,
            admin,
            confirm: confirm_listener,
            tls,
            state,
        })
    }

    /// The shared state (the service and the settings).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The public listener's bound address.
    pub fn public_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .unwrap_or(self.state.settings.public_addr)
    }

    /// The admin listener's bound address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .unwrap_or(self.state.settings.admin_addr)
    }

    /// The confirm listener's bound address.
    pub fn confirm_addr(&self) -> SocketAddr {
        self.confirm
            .local_addr()
            .unwrap_or(self.state.settings.confirm_addr)
    }

    /// The public base URL users are sent to.
    pub fn public_url(&self) -> &str {
        self.state.service.public_url()
    }

    /// The admin API's base URL.
    pub fn admin_url(&self) -> String {
        base_url("http", self.admin_addr())
    }

    /// The confirmation page's URL.
    pub fn confirm_url(&self) -> &str {
        self.state.service.confirm_url()
    }

    /// The one line printed on stdout once every listener is bound.
    pub fn ready_line(&self) -> String {
        let ca = self.state.service.ca();
        let root = ca.root();
        format!(
            "webra2-mock ready public={} admin={} confirm={} profile={} root={} root_sha1=\"{}\" db={}",
            self.public_url(),
            self.admin_url(),
            self.confirm_url(),
            ca.profile().name,
            self.state.settings.root.name(),
            root.sha1_fingerprint(),
            store::redacted(&self.state.settings.db),
        )
    }

    /// Serves all three listeners until `shutdown` resolves.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let limits = self.state.settings.limits();
        let public = listener::serve_http(
            self.public,
            http::public_router(self.state.clone()),
            http::full_router(),
            limits,
            "public",
            stopped(rx.clone()),
        );
        let admin = listener::serve_http(
            self.admin,
            http::admin_router(self.state.clone()),
            http::full_router(),
            Limits::admin(limits),
            "admin",
            stopped(rx.clone()),
        );
        let confirm = confirm::serve(
            self.confirm,
            self.tls,
            http::confirm_router(self.state.clone()),
            limits,
            stopped(rx.clone()),
        );
        // On a shared store, the lease on the deployment's controls.
        let keeper = {
            let state = self.state.clone();
            let stop = stopped(rx);
            tokio::spawn(async move { state.service.keep_lease(stop).await })
        };
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        let (p, a, c) = tokio::join!(public, admin, confirm);
        // Gives the lease up (the listeners ended: the stop was sent, unless
        // all three failed).
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), keeper).await;
        p?;
        a?;
        c?;
        Ok(())
    }
}
