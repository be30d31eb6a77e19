//! The state every handler shares: the service, and the settings the HTTP
//! layer itself reads (the admin token).

use crate::config::Settings;
use crate::service::Service;
use std::sync::Arc;

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

/// The service and settings behind an [`AppState`].
pub struct SharedState {
    /// The domain: every operation of the contract.
    pub service: Service,
    /// The effective configuration.
    pub settings: Arc<Settings>,
}
