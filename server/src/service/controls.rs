//! The test controls of the admin API: the service clock and the injected
//! faults. Putting faults is an operation of the service because
//! `expire_url_now` changes the store.

use super::error::ServiceError;
use super::instance::Service;
use super::types::ServiceInstant;
use crate::store::StoreError;
use webra2_wire::{in_jst, ClockView, FaultSet};

impl Service {
    /// Whether the service can serve: its store answers (`GET /readyz`). Any
    /// failure counts as the store being unavailable.
    pub async fn ready(&self) -> Result<(), ServiceError> {
        self.parts.store.ping().await.map_err(|e| match e {
            StoreError::Unavailable(_) => e.into(),
            other => StoreError::Unavailable(other.to_string()).into(),
        })
    }

    /// The service clock as the admin API shows it.
    pub fn clock_view(&self) -> ClockView {
        ClockView {
            now: in_jst(self.parts.clock.now()),
            mode: self.parts.clock.mode_name().into(),
        }
    }

    /// Fixes the service clock at `now`, or sets it running from `now`.
    pub fn set_clock(&self, now: ServiceInstant, running: bool) -> ClockView {
        let now = now.get();
        if running {
            self.parts.clock.set_running_from(now);
        } else {
            self.parts.clock.set_fixed(now);
        }
        tracing::info!(%now, running, "service clock set");
        self.clock_view()
    }

    /// The service clock back to real time.
    pub fn reset_clock(&self) -> ClockView {
        self.parts.clock.reset();
        tracing::info!("service clock back to real time");
        self.clock_view()
    }

    /// Puts a fault set: checks it all, applies `expire_url_now` (every named
    /// enrollment must exist, or nothing changes), then replaces the active
    /// faults with the rest.
    pub async fn put_faults(&self, set: &FaultSet) -> Result<FaultSet, ServiceError> {
        let checked =
            crate::faults::check(set).map_err(|e| ServiceError::invalid(e.to_string()))?;
        for (index, id) in &checked.expire {
            if self.parts.store.enrollment(id).await?.is_none() {
                return Err(ServiceError::not_found(format!(
                    "faults[{index}]: no enrollment {id}"
                )));
            }
        }
        let now = self.parts.clock.now();
        for (_, id) in &checked.expire {
            self.parts.store.expire_url(id, now).await?;
            tracing::info!(enrollment = %id, "fault: one-time URL expired now");
        }
        self.parts.faults.replace(checked);
        let active = self.parts.faults.snapshot();
        tracing::info!(faults = active.faults.len(), "faults put");
        Ok(active)
    }

    /// Clears every fault.
    pub fn clear_faults(&self) -> FaultSet {
        self.parts.faults.clear();
        tracing::info!("faults cleared");
        self.parts.faults.snapshot()
    }
}
