//! After issuance: listing and revoking certificates, and the CRL. (The OCSP
//! responder is `ocsp.rs`.)

use super::error::ServiceError;
use super::instance::{blocking, Service};
use super::types::{Reason, Serial};
use crate::store::{CertificateRecord, CrlRecord, RevokeOutcome};
use time::{Duration, OffsetDateTime};
use webra2_ca::Revoked;
use webra2_wire::{in_jst, CertStatus, CertificateView};

/// How long a CRL is current: its nextUpdate is this long after its thisUpdate.
/// A revocation regenerates it long before.
const CRL_VALIDITY: Duration = Duration::days(7);

impl Service {
    /// Every certificate, newest first, optionally of one user.
    pub async fn certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CertificateView>, ServiceError> {
        let now = self.parts.clock.now();
        let certs = self.parts.store.certificates(user_id).await?;
        Ok(certs.iter().map(|c| certificate_view(c, now)).collect())
    }

    /// One certificate.
    pub async fn certificate(&self, serial: &Serial) -> Result<CertificateView, ServiceError> {
        let c = self
            .parts
            .store
            .certificate(serial.as_str())
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!("no certificate {}", serial.as_str()))
            })?;
        Ok(certificate_view(&c, self.parts.clock.now()))
    }

    /// Revokes a certificate now and regenerates the CRL.
    pub async fn revoke(
        &self,
        serial: &Serial,
        reason: &Reason,
    ) -> Result<CertificateView, ServiceError> {
        let (serial, reason) = (serial.as_str(), reason.as_str());
        let now = self.parts.clock.now();
        match self.parts.store.revoke(serial, now, reason).await? {
            RevokeOutcome::Revoked => {
                tracing::info!(%serial, %reason, "certificate revoked");
                self.refresh_crl_after_revocation().await;
            }
            RevokeOutcome::AlreadyRevoked => {
                return Err(ServiceError::AlreadyRevoked {
                    serial: serial.to_owned(),
                })
            }
            RevokeOutcome::NotFound => {
                return Err(ServiceError::not_found(format!("no certificate {serial}")))
            }
        }
        let c = self
            .parts
            .store
            .certificate(serial)
            .await?
            .ok_or_else(|| ServiceError::internal("revoked certificate vanished"))?;
        Ok(certificate_view(&c, now))
    }

    /// The current CRL, DER, signed by the root. A new one (with the next CRL
    /// number) when none is current at the service clock's now or when it
    /// misses a revocation.
    pub async fn crl(&self) -> Result<Vec<u8>, ServiceError> {
        let now = self.parts.clock.now();
        let revoked_now =
            u64::try_from(self.parts.store.revoked().await?.len()).unwrap_or(u64::MAX);
        let current = self.parts.store.current_crl().await?.filter(|c| {
            c.this_update <= now && now < c.next_update && c.revoked_count == revoked_now
        });
        Ok(match current {
            Some(c) => c.der,
            None => self.generate_crl().await?.der,
        })
    }

    /// Generates a CRL of everything revoked now, with the next CRL number, and keeps it.
    async fn generate_crl(&self) -> Result<CrlRecord, ServiceError> {
        let revoked = self.parts.store.revoked().await?;
        let number = self.parts.store.next_crl_number().await?;
        let now = self
            .parts
            .clock
            .now()
            .replace_nanosecond(0)
            .unwrap_or(self.parts.clock.now());
        let next_update = now
            .checked_add(CRL_VALIDITY)
            .ok_or_else(|| ServiceError::internal("the CRL would end past the year 9999"))?;
        let ca = self.parts.ca.clone();
        let revoked_count = u64::try_from(revoked.len()).unwrap_or(u64::MAX);
        let der = blocking(move || {
            let list: Vec<Revoked<'_>> = revoked
                .iter()
                .map(|c| Revoked {
                    serial: &c.serial,
                    revoked_at: c.revoked_at.unwrap_or(now),
                    reason: c.reason.as_deref(),
                })
                .collect();
            ca.crl(&list, number, now, next_update)
                .map_err(ServiceError::internal)
        })
        .await?;
        let record = CrlRecord {
            number,
            der,
            this_update: now,
            next_update,
            revoked_count,
        };
        self.parts.store.save_crl(&record).await?;
        tracing::info!(
            crl_number = number,
            revoked = revoked_count,
            "CRL generated"
        );
        Ok(record)
    }

    /// Regenerates the CRL after a revocation. A failure is logged, not
    /// returned: the revocation is committed, and [`Service::crl`] regenerates
    /// a CRL that lists fewer certificates than the store holds revoked.
    pub(super) async fn refresh_crl_after_revocation(&self) {
        if let Err(e) = self.generate_crl().await {
            tracing::warn!(error = %e, "the CRL could not be regenerated after a revocation");
        }
    }
}

fn certificate_view(c: &CertificateRecord, now: OffsetDateTime) -> CertificateView {
    let status = if c.revoked_at.is_some() {
        CertStatus::Revoked
    } else if now >= c.not_after {
        CertStatus::Expired
    } else if now < c.not_before {
        CertStatus::NotYetValid
    } else {
        CertStatus::Valid
    };
    CertificateView {
        serial: c.serial.clone(),
        user_id: c.user_id.clone(),
        enrollment_id: c.enrollment_id.clone(),
        not_before: in_jst(c.not_before),
        not_after: in_jst(c.not_after),
        status,
        revoked_at: c.revoked_at.map(in_jst),
        reason: c.reason.clone(),
    }
}
