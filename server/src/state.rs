//! The state every handler shares.

use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;
use std::sync::Arc;
use webra2_ca::Ca;

/// What the handlers of all three listeners share: one reference to
/// [`SharedState`], which every field access reaches through `Deref`.
///
/// One `Arc` rather than a struct of them: the middleware layers clone the
/// state for every request, and cloning nine reference counts and two
/// strings each time was a visible share of a request's CPU (webra2-bench).
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl AppState {
    /// The state around `shared`.
    pub fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The services and settings behind an [`AppState`].
pub struct SharedState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The certificate authority.
    pub ca: Arc<Ca>,
    /// The service's one clock.
    pub clock: Clock,
    /// The effective configuration.
    pub settings: Arc<Settings>,
    /// The public listener's base URL as clients reach it (no trailing slash).
    pub public_url: String,
    /// The confirmation page's URL (`https://.../confirm`).
    pub confirm_url: String,
    /// The injected faults.
    pub faults: crate::faults::Faults,
    /// The `/metrics` registry.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The SMTP relay, when `--smtp-url` is set.
    pub mailer: Option<Arc<crate::smtp::Mailer>>,
}
