//! The OCSP responder (RFC 6960): what the store says of each certificate a
//! request asks about, signed by the CA. The one status source the
//! confirmation page asks too ([`Service::revocation_of`]).
//!
//! It never fails: whatever goes wrong is an OCSP response itself
//! (`malformedRequest` for what cannot be read, `internalError` for the
//! rest), as relying parties expect an OCSP answer and not an HTTP error.

use super::error::ServiceError;
use super::instance::{blocking, Service};
use time::{Duration, OffsetDateTime};
use webra2_ca::{OcspAnswer, OcspCertStatus, OcspFailure, OcspQuery};

/// How long an OCSP answer is current: nextUpdate is this long after thisUpdate.
pub const OCSP_VALIDITY: Duration = Duration::hours(24);

/// An injected OCSP fault (see `ocsp_*` in the fault set): what the responder
/// answers instead of the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspFault {
    /// `tryLater`.
    TryLater,
    /// `internalError`.
    InternalError,
    /// `unauthorized`.
    Unauthorized,
    /// nextUpdate (and thisUpdate) in the past.
    Stale,
    /// Signed by a key that is not the responder's.
    WrongKey,
    /// A nonce other than the request's.
    WrongNonce,
}

/// A certificate's revocation, as the store has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Revocation {
    /// When.
    pub at: OffsetDateTime,
    /// Why (an RFC 5280 reason name), if recorded.
    pub reason: Option<String>,
}

impl Service {
    /// Answers a DER OCSP request with a DER OCSP response.
    pub async fn ocsp(&self, request_der: &[u8], fault: Option<OcspFault>) -> Vec<u8> {
        let failure = match fault {
            Some(OcspFault::TryLater) => Some(OcspFailure::TryLater),
            Some(OcspFault::InternalError) => Some(OcspFailure::InternalError),
            Some(OcspFault::Unauthorized) => Some(OcspFailure::Unauthorized),
            _ => None,
        };
        if let Some(failure) = failure {
            return self.failed(failure);
        }
        let query = match self.parts.ca.ocsp_query(request_der) {
            Ok(q) => q,
            Err(e) => {
                tracing::info!(error = %e, "OCSP request refused as malformed");
                return self.failed(OcspFailure::MalformedRequest);
            }
        };
        match self.answer(query, fault).await {
            Ok(der) => der,
            Err(e) => {
                tracing::warn!(error = %e, "OCSP answer failed");
                self.failed(OcspFailure::InternalError)
            }
        }
    }

    async fn answer(
        &self,
        query: OcspQuery,
        fault: Option<OcspFault>,
    ) -> Result<Vec<u8>, ServiceError> {
        let mut statuses = Vec::with_capacity(query.items.len());
        for item in &query.items {
            statuses.push(match &item.serial {
                None => OcspCertStatus::Unknown,
                Some(serial) => match self.revocation_of(serial).await? {
                    None => OcspCertStatus::Unknown,
                    Some(None) => OcspCertStatus::Good,
                    Some(Some(r)) => OcspCertStatus::Revoked {
                        at: r.at,
                        reason: r.reason,
                    },
                },
            });
        }
        let answers: Vec<&'static str> = statuses
            .iter()
            .map(|status| match status {
                OcspCertStatus::Good => "good",
                OcspCertStatus::Revoked { .. } => "revoked",
                OcspCertStatus::Unknown => "unknown",
            })
            .collect();
        let now = self.parts.clock.now();
        let this_update = if fault == Some(OcspFault::Stale) {
            now - OCSP_VALIDITY * 2
        } else {
            now
        };
        let answer = OcspAnswer {
            produced_at: now,
            this_update,
            next_update: this_update + OCSP_VALIDITY,
            wrong_key: fault == Some(OcspFault::WrongKey),
            wrong_nonce: fault == Some(OcspFault::WrongNonce),
        };
        let ca = self.parts.ca.clone();
        let der = blocking(move || {
            ca.ocsp_response(&query, &statuses, &answer)
                .map_err(ServiceError::internal)
        })
        .await?;
        for answer in answers {
            self.parts.metrics.ocsp_answered(answer);
        }
        Ok(der)
    }

    /// An unsuccessful response, counted.
    fn failed(&self, failure: OcspFailure) -> Vec<u8> {
        self.parts.metrics.ocsp_answered(match failure {
            OcspFailure::MalformedRequest => "malformedRequest",
            OcspFailure::InternalError => "internalError",
            OcspFailure::TryLater => "tryLater",
            OcspFailure::Unauthorized => "unauthorized",
        });
        failure.to_der()
    }

    /// What the store says of a serial of this root: `None` when it never
    /// recorded it, `Some(None)` when it is not revoked, else the revocation.
    pub(super) async fn revocation_of(
        &self,
        serial: &str,
    ) -> Result<Option<Option<Revocation>>, ServiceError> {
        Ok(self.parts.store.certificate(serial).await?.map(|c| {
            c.revoked_at.map(|at| Revocation {
                at,
                reason: c.reason,
            })
        }))
    }
}
