//! A replica's lease on the deployment's controls: what lets a replica serve
//! with the clock and faults it holds instead of asking the store before
//! every request, and still see a change from the moment the call that made
//! it returns.
//!
//! **The rule.** A replica's keeper ([`Service::keep_lease`]) renews a lease
//! in the store every [`RENEW_EVERY`], saying which version of the controls
//! the replica shows, and looks for a newer version every [`LOOK_EVERY`].
//! A change (`PUT` or `DELETE` of the clock or the faults) is saved, then
//! waits until every other replica whose lease has not run out has taken it
//! ([`Service::await_replicas`]), and only then returns. So while its lease
//! holds, a replica has taken every change that has returned, and a request
//! may skip the read. Without a lease (before the first renewal, after a
//! failed one, or once it runs out) every request reads the controls first,
//! as before.
//!
//! **Clocks.** The store dates a lease by the database's clock, from when it
//! ran the renewal; the replica counts its own lease from before it sent the
//! renewal, and [`MARGIN`] shorter. So the replica stops trusting its lease
//! before the database stops counting on it, and a replica that died holds
//! up a change for one [`LEASE`] at most.
//!
//! Counted faults do not depend on the lease: each firing is written to the
//! store on the version it was read at (`controls.rs`).

use super::error::ServiceError;
use super::instance::{Deployment, Service};
use crate::store::StoreError;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a lease lasts from a renewal, by the database's clock.
const LEASE: Duration = Duration::from_secs(1);
/// How much sooner the replica counts its lease run out than the database.
const MARGIN: Duration = Duration::from_millis(200);
/// How often a lease is renewed while nothing changes.
const RENEW_EVERY: Duration = Duration::from_millis(250);
/// How often the keeper looks for a newer version of the controls.
const LOOK_EVERY: Duration = Duration::from_millis(25);
/// How long a change waits for the other replicas at most: a replica that
/// holds a lease takes a change within [`LOOK_EVERY`], and one that died
/// stops counting after [`LEASE`].
const ACK_WAIT: Duration = Duration::from_secs(3);

impl Deployment {
    /// Whether this replica's lease holds now.
    pub(super) fn leased(&self) -> bool {
        self.lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    fn set_lease(&self, until: Option<Instant>) {
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = until;
    }
}

impl Service {
    /// On a shared store: keeps this replica's lease on the controls until
    /// `stop` resolves, then gives it up. Nothing on a store one process owns.
    pub async fn keep_lease(&self, stop: impl Future<Output = ()>) {
        let Some(deployment) = &self.deployment else {
            return;
        };
        tokio::pin!(stop);
        let mut keeper = Keeper::default();
        loop {
            let pause = match self.lease_pass(deployment, &mut keeper).await {
                // A newer version taken: say so at once.
                Ok(true) => Duration::ZERO,
                Ok(false) => LOOK_EVERY,
                Err(e) => {
                    deployment.set_lease(None);
                    if keeper.renewed.take().is_some() {
                        tracing::warn!(error = %e, "lease on the controls lost: every request reads them until it is renewed");
                    }
                    // Held up by no change meanwhile (best effort).
                    let _ = self.parts.store.release_lease(&deployment.replica).await;
                    LEASE / 4
                }
            };
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        deployment.set_lease(None);
        if let Err(e) = self.parts.store.release_lease(&deployment.replica).await {
            tracing::warn!(error = %e, "lease on the controls not given up: it runs out by itself");
        }
    }

    /// One pass of the keeper: renews the lease when due or when a newer
    /// version is held than said, then reads the controls if they changed
    /// (after the renewal: a change that returned before the renewal, while
    /// no lease held, is read here). Whether a newer version was taken.
    async fn lease_pass(
        &self,
        deployment: &Deployment,
        keeper: &mut Keeper,
    ) -> Result<bool, ServiceError> {
        let held = deployment.held();
        let due = keeper.renewed.is_none_or(|at| at.elapsed() >= RENEW_EVERY)
            || held.is_some_and(|v| keeper.acked.is_none_or(|a| a < v));
        let mut renewed_at = None;
        if due {
            let at = Instant::now();
            self.parts
                .store
                .renew_lease(&deployment.replica, held.unwrap_or(0), LEASE)
                .await?;
            keeper.acked = held.or(keeper.acked);
            renewed_at = Some(at);
        }
        self.parts.metrics.controls_read("lease");
        let changed = self.read_controls(deployment).await?;
        if let Some(at) = renewed_at {
            keeper.renewed = Some(at);
            deployment.set_lease(Some(at + LEASE - MARGIN));
        }
        Ok(changed)
    }

    /// After this replica saved `version` of the controls: waits until every
    /// other replica that holds a lease has taken it, so that the next
    /// request anywhere sees it.
    pub(super) async fn await_replicas(
        &self,
        deployment: &Deployment,
        version: u64,
    ) -> Result<(), ServiceError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let behind = self
                .parts
                .store
                .replicas_behind(&deployment.replica, version)
                .await?;
            if behind == 0 {
                return Ok(());
            }
            if started.elapsed() >= ACK_WAIT {
                return Err(StoreError::Unavailable(format!(
                    "the change is saved, but {behind} other replica(s) did not take it within {} s; send it again",
                    ACK_WAIT.as_secs()
                ))
                .into());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LOOK_EVERY);
        }
    }
}

/// What the keeper remembers between passes.
#[derive(Default)]
struct Keeper {
    /// When the last renewal that went through was sent.
    renewed: Option<Instant>,
    /// The version the last renewal said this replica shows.
    acked: Option<u64>,
}
