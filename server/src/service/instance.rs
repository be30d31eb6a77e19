//! The [`Service`] itself: what it is made of and the accessors the HTTP
//! layer may use. Its operations are in the sibling files, one per stage.

use super::error::ServiceError;
use crate::clock::Clock;
use crate::faults::Faults;
use crate::metrics::Metrics;
use crate::smtp::Mailer;
use crate::store::Store;
use std::sync::Arc;
use webra2_ca::Ca;
use webra2_wire::{Fingerprint, Kind, SITE_TITLE_NEW, SITE_TITLE_RENEW};
use x509_parser::prelude::{FromDer, X509Name};

/// The rules of the issuance site that the configuration sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Wrong passwords in a row that lock a one-time URL.
    pub lock_after: u32,
    /// How long a Step 1 session lives, in minutes.
    pub session_minutes: i64,
    /// Days a one-time URL stays valid when the preparation does not say.
    pub url_valid_days: u32,
}

/// What a [`Service`] is made of.
pub struct Parts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The certificate authority.
    pub ca: Arc<Ca>,
    /// The service's one clock.
    pub clock: Clock,
    /// The site's rules.
    pub policy: Policy,
    /// The public listener's base URL as users reach it (no trailing slash).
    pub public_url: String,
    /// The confirmation page's URL.
    pub confirm_url: String,
    /// The injected faults.
    pub faults: Faults,
    /// The metrics registry (mail delivery counts itself there).
    pub metrics: Arc<Metrics>,
    /// The SMTP relay, when one is configured.
    pub mailer: Option<Arc<Mailer>>,
}

/// The mock CA's domain: one per instance, shared by every listener. What it
/// is made of stays private to the service: the HTTP layer sees the accessors.
pub struct Service {
    pub(super) parts: Parts,
    /// The factory's untrusted issuer, made when first asked for.
    pub(super) untrusted: tokio::sync::OnceCell<Arc<Ca>>,
    /// With a store several replicas share: what this replica last read of
    /// the deployment's clock and faults (see `controls.rs`).
    pub(super) deployment: Option<Deployment>,
}

/// A replica's hold on the deployment's controls.
pub(super) struct Deployment {
    /// This replica's name in the store's leases (random, 128 bits).
    pub(super) replica: String,
    /// The version of the controls the local clock and faults show; `None`
    /// before the first read.
    pub(super) version: std::sync::Mutex<Option<u64>>,
    /// Until when this replica's lease on the controls holds (`lease.rs`):
    /// until then a request needs not read them.
    pub(super) lease: std::sync::Mutex<Option<std::time::Instant>>,
    /// Held while a counted fault is taken and written back, so two requests
    /// of this replica do not count the same fault down from one version.
    pub(super) counting: tokio::sync::Mutex<()>,
}

impl Deployment {
    fn new() -> Self {
        Self {
            replica: crate::secrets::new_id(),
            version: std::sync::Mutex::new(None),
            lease: std::sync::Mutex::new(None),
            counting: tokio::sync::Mutex::new(()),
        }
    }

    /// The version of the controls this replica holds.
    pub(super) fn held(&self) -> Option<u64> {
        *self.version.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Service {
    /// The service made of `parts`.
    pub fn new(parts: Parts) -> Self {
        let deployment = parts.store.is_shared().then(Deployment::new);
        Self {
            parts,
            untrusted: tokio::sync::OnceCell::new(),
            deployment,
        }
    }

    /// Whether this service is one replica of several on a shared store:
    /// then every request first brings the clock and faults to the
    /// deployment's ([`Service::sync_controls`]).
    pub fn is_replica(&self) -> bool {
        self.deployment.is_some()
    }

    /// The certificate authority (its root and profile).
    pub fn ca(&self) -> &Arc<Ca> {
        &self.parts.ca
    }

    /// The service clock.
    pub fn clock(&self) -> &Clock {
        &self.parts.clock
    }

    /// The site's rules.
    pub fn policy(&self) -> Policy {
        self.parts.policy
    }

    /// The PIN rule of the profile (page, PKCS#12 path and client say it alike).
    pub fn pin_rule(&self) -> webra2_wire::PinRule {
        self.parts.ca.profile().pin_rule
    }

    /// The injected faults.
    pub fn faults(&self) -> &Faults {
        &self.parts.faults
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.parts.metrics
    }

    /// The public base URL users are sent to.
    pub fn public_url(&self) -> &str {
        &self.parts.public_url
    }

    /// The confirmation page's URL.
    pub fn confirm_url(&self) -> &str {
        &self.parts.confirm_url
    }

    /// The root's fingerprints, as Step 3 shows them.
    pub fn root_fingerprint(&self) -> Fingerprint {
        let root = self.parts.ca.root();
        Fingerprint {
            sha1: root.sha1_fingerprint(),
            sha256: root.sha256_fingerprint(),
        }
    }

    /// The root as Step 2, Step 3 and the home page show it.
    pub fn root_view(&self) -> RootView {
        let root = self.parts.ca.root();
        let subject = root.subject();
        let name = X509Name::from_der(root.subject_der())
            .ok()
            .and_then(|(_, name)| {
                name.iter_common_name()
                    .next()
                    .and_then(|cn| cn.as_str().ok())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| subject.clone());
        RootView {
            name,
            subject,
            fingerprint: self.root_fingerprint(),
        }
    }
}

/// The root CA as the pages show it for the manual's check (Ⓐ): the name the
/// user compares, the full subject beside it, and the fingerprints.
#[derive(Debug, Clone)]
pub struct RootView {
    /// The common name (`NEC Certification Authority`), or the whole subject
    /// if it has none.
    pub name: String,
    /// The subject, RFC 4514.
    pub subject: String,
    /// The fingerprints.
    pub fingerprint: Fingerprint,
}

/// The title of the site a URL of `kind` opens: 証明書発行サイト or 証明書更新サイト.
pub fn site_title(kind: Kind) -> &'static str {
    match kind {
        Kind::New => SITE_TITLE_NEW,
        Kind::Renew => SITE_TITLE_RENEW,
    }
}

/// Runs CPU work (key generation, signing, argon2) off the async workers.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ServiceError::internal)?
}
