//! The state every handler shares.

use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;
use std::sync::Arc;
use webra2_ca::Ca;

/// What the handlers of all three listeners share.
#[derive(Clone)]
pub struct AppState {
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
