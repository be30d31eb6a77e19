//! The test controls of the admin API: the service clock and the injected
//! faults. Putting faults is an operation of the service because
//! `expire_url_now` changes the store.
//!
//! **One clock and one fault set per deployment.** On a store several
//! replicas share, the clock's setting and the fault set are kept in the store
//! as two JSON documents with a version ([`ControlsRecord`]). A change is
//! written there, and the call returns once every other replica has taken it
//! (`lease.rs`), so the next request anywhere sees it. A replica whose lease
//! holds serves with the controls it holds; without one, a request first asks
//! the store for them unless they are still at the version held
//! ([`Service::sync_controls`], one small read that sends nothing back when
//! nothing changed). A
//! counted fault (`times`) is counted down in the store, on the version it was
//! read at, so it fires that many times in the whole deployment. The fault
//! set is stored whole, as `GET /admin/faults` shows it: fields added to it
//! later need nothing here. On a store one process owns, all of this is off:
//! the clock and the faults live in the process as before.

use super::error::ServiceError;
use super::instance::{Deployment, Service};
use super::types::ServiceInstant;
use crate::clock::ClockSetting;
use crate::faults::Checked;
use crate::store::{ControlsRecord, StoreError};
use webra2_wire::{in_jst, ClockView, FaultSet, FaultSpec};

/// How often a counted fault is retried on a newer version before giving up.
const COUNT_RETRIES: usize = 8;

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

    /// Fixes the service clock at `now`, or sets it running from `now`; on a
    /// shared store, for every replica.
    pub async fn set_clock(
        &self,
        now: ServiceInstant,
        running: bool,
    ) -> Result<ClockView, ServiceError> {
        let now = now.get();
        let setting = if running {
            ClockSetting::Offset {
                ms: i64::try_from((now - time::OffsetDateTime::now_utc()).whole_milliseconds())
                    .unwrap_or(i64::MAX),
            }
        } else {
            ClockSetting::Fixed {
                unix: now.unix_timestamp(),
                nanos: now.nanosecond(),
            }
        };
        self.put_clock(setting).await?;
        tracing::info!(%now, running, "service clock set");
        Ok(self.clock_view())
    }

    /// The service clock back to real time; on a shared store, for every replica.
    pub async fn reset_clock(&self) -> Result<ClockView, ServiceError> {
        self.put_clock(ClockSetting::Real).await?;
        tracing::info!("service clock back to real time");
        Ok(self.clock_view())
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
        self.replace_faults(checked).await?;
        let active = self.parts.faults.snapshot();
        tracing::info!(faults = active.faults.len(), "faults put");
        Ok(active)
    }

    /// Clears every fault; on a shared store, for every replica.
    pub async fn clear_faults(&self) -> Result<FaultSet, ServiceError> {
        self.replace_faults(Checked::default()).await?;
        tracing::info!("faults cleared");
        Ok(self.parts.faults.snapshot())
    }

    /// The fault that applies to a request (route template, method), counted
    /// down if it is counted: on a shared store, in the store, so that it
    /// fires as often as it says in the whole deployment.
    pub async fn take_fault(
        &self,
        route: &str,
        method: &str,
    ) -> Result<Option<FaultSpec>, ServiceError> {
        let Some(deployment) = &self.deployment else {
            return Ok(self.parts.faults.take(route, method));
        };
        match self.parts.faults.peek(route, method) {
            None => return Ok(None),
            // Lasting: nothing to count, nothing to write.
            Some(spec) if spec.times.is_none() => return Ok(Some(spec)),
            Some(_) => {}
        }
        let _counting = deployment.counting.lock().await;
        for _ in 0..COUNT_RETRIES {
            self.sync_controls().await?;
            let version = deployment.held();
            let Some(spec) = self.parts.faults.take(route, method) else {
                return Ok(None);
            };
            if spec.times.is_none() {
                return Ok(Some(spec));
            }
            let faults = to_json(&self.parts.faults.snapshot())?;
            match self
                .parts
                .store
                .save_controls(None, Some(&faults), version)
                .await?
            {
                Some(saved) => {
                    self.hold(deployment, saved);
                    return Ok(Some(spec));
                }
                // Changed meanwhile elsewhere: read it again and count on that.
                None => self.forget(deployment),
            }
        }
        Err(ServiceError::internal(
            "a counted fault could not be counted down: the controls kept changing",
        ))
    }

    /// On a shared store: brings the local clock and faults to the
    /// deployment's, if they changed since this replica last looked. Nothing
    /// while this replica's lease holds (every change that returned has been
    /// taken), one small read otherwise; nothing at all on a store one
    /// process owns.
    pub async fn sync_controls(&self) -> Result<(), ServiceError> {
        let Some(deployment) = &self.deployment else {
            return Ok(());
        };
        if deployment.held().is_some() && deployment.leased() {
            return Ok(());
        }
        self.parts.metrics.controls_read("request");
        self.read_controls(deployment).await.map(|_| ())
    }

    /// Reads the controls unless they are at the version held, and applies
    /// them. Whether a newer version was read.
    pub(super) async fn read_controls(
        &self,
        deployment: &Deployment,
    ) -> Result<bool, ServiceError> {
        match self.parts.store.controls(deployment.held()).await? {
            Some(record) => {
                self.apply(deployment, &record)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// At start on a shared store: a replica started with a clock or faults
    /// of its own (the configuration's `faults`, a test's fixed clock) puts
    /// them for the whole deployment; otherwise it takes the deployment's.
    pub async fn join_deployment(&self) -> Result<(), ServiceError> {
        let Some(deployment) = &self.deployment else {
            return Ok(());
        };
        let setting = self.parts.clock.setting();
        let faults = self.parts.faults.snapshot();
        if setting == ClockSetting::Real && faults.faults.is_empty() {
            return self.sync_controls().await;
        }
        let saved = self
            .parts
            .store
            .save_controls(Some(&to_json(&setting)?), Some(&to_json(&faults)?), None)
            .await?;
        if let Some(version) = saved {
            self.hold(deployment, version);
            self.await_replicas(deployment, version).await?;
        }
        tracing::info!(
            clock = self.parts.clock.mode_name(),
            faults = faults.faults.len(),
            "this replica's clock and faults put for the whole deployment"
        );
        Ok(())
    }

    /// Sets the clock: in the store first when it is shared.
    async fn put_clock(&self, setting: ClockSetting) -> Result<(), ServiceError> {
        if let Some(deployment) = &self.deployment {
            let saved = self
                .parts
                .store
                .save_controls(Some(&to_json(&setting)?), None, None)
                .await?;
            return self
                .applied_after_save(deployment, saved, || {
                    self.parts.clock.apply(setting);
                })
                .await;
        }
        self.parts.clock.apply(setting);
        Ok(())
    }

    /// Replaces the active faults: in the store first when it is shared.
    async fn replace_faults(&self, checked: Checked) -> Result<(), ServiceError> {
        if let Some(deployment) = &self.deployment {
            let saved = self
                .parts
                .store
                .save_controls(None, Some(&to_json(&checked.lasting())?), None)
                .await?;
            return self
                .applied_after_save(deployment, saved, || {
                    self.parts.faults.replace(checked);
                })
                .await;
        }
        self.parts.faults.replace(checked);
        Ok(())
    }

    /// After a save that made `saved`: applies the change here too, unless
    /// a newer version is held already (it includes the change, or replaced
    /// it), then waits until the other replicas have taken it.
    async fn applied_after_save(
        &self,
        deployment: &Deployment,
        saved: Option<u64>,
        apply: impl FnOnce(),
    ) -> Result<(), ServiceError> {
        let saved = saved.ok_or_else(|| ServiceError::internal("the controls row is missing"))?;
        {
            let mut version = deployment.version.lock().unwrap_or_else(|e| e.into_inner());
            if version.is_none_or(|v| v < saved) {
                apply();
                // The versions between the one held and this save were made
                // elsewhere: read them at the next request.
                *version = if *version == Some(saved - 1) {
                    Some(saved)
                } else {
                    None
                };
            }
        }
        self.await_replicas(deployment, saved).await
    }

    /// Applies a record read from the store, unless a newer one is held.
    fn apply(&self, deployment: &Deployment, record: &ControlsRecord) -> Result<(), ServiceError> {
        let setting: ClockSetting = from_json(&record.clock, "clock")?;
        let set: FaultSet = from_json(&record.faults, "faults")?;
        let checked = crate::faults::check(&set)
            .map_err(|e| ServiceError::internal(format!("the stored faults: {e}")))?;
        let mut version = deployment.version.lock().unwrap_or_else(|e| e.into_inner());
        if version.is_some_and(|v| v >= record.version) {
            return Ok(());
        }
        self.parts.clock.apply(setting);
        self.parts.faults.replace(checked);
        *version = Some(record.version);
        Ok(())
    }

    /// Holds `saved`, a version this replica wrote on the one it held.
    fn hold(&self, deployment: &Deployment, saved: u64) {
        let mut version = deployment.version.lock().unwrap_or_else(|e| e.into_inner());
        if version.is_none_or(|v| v < saved) {
            *version = Some(saved);
        }
    }

    /// Forgets the version held: the next read takes the controls whole.
    fn forget(&self, deployment: &Deployment) {
        *deployment.version.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(ServiceError::internal)
}

fn from_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, ServiceError> {
    serde_json::from_str(json)
        .map_err(|e| ServiceError::internal(format!("the stored {what} do not read: {e}")))
}
