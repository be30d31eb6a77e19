//! The administrator's factory (`POST /admin/certificates`): a certificate
//! made to order, in any state, without walking the site, for testing the
//! relying party's side. It is recorded like any issued certificate (listed,
//! revocable, in the CRL and OCSP), except one from the untrusted root, which
//! this CA never made as far as its store knows.

use super::error::ServiceError;
use super::instance::{blocking, Service};
use super::types::{Pin, Reason, ServiceInstant, UserId};
use crate::secrets;
use crate::store::{CertificateRecord, NewEnrollment};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use webra2_ca::{add_calendar_years, Ca, GeneratedKey, KeySpec, Root};
use webra2_wire::{
    CertStatus, CreateCertificate, FactoryIssuer, FactoryKey, FactoryState, Kind, PinRule,
};

/// How far an `expired` certificate's notAfter is before now, and a
/// `not_yet_valid` one's notBefore after it, when the order gives no dates.
const STATE_MARGIN: Duration = Duration::days(1);

/// A validated order.
#[derive(Debug)]
pub struct FactoryOrder {
    user_id: UserId,
    pin: Pin,
    key: KeySpec,
    state: FactoryState,
    reason: Option<Reason>,
    not_before: Option<OffsetDateTime>,
    not_after: Option<OffsetDateTime>,
    untrusted: bool,
}

impl FactoryOrder {
    /// Checks the request's fields one by one.
    pub fn parse(req: &CreateCertificate, pin_rule: &PinRule) -> Result<Self, ServiceError> {
        let untrusted = req.issuer == Some(FactoryIssuer::Untrusted);
        let reason = match (req.state, req.reason.as_deref()) {
            (FactoryState::Revoked, r) => Some(Reason::parse(r)?),
            (_, Some(_)) => {
                return Err(ServiceError::invalid(
                    "reason goes with state \"revoked\" only",
                ))
            }
            (_, None) => None,
        };
        if untrusted && req.state == FactoryState::Revoked {
            return Err(ServiceError::invalid(
                "a certificate of the untrusted issuer cannot be revoked: this CA did not issue it",
            ));
        }
        let instant = |at: Option<OffsetDateTime>, field| {
            at.map(|t| ServiceInstant::parse(t, field).map(|i| i.get()))
                .transpose()
        };
        Ok(Self {
            user_id: UserId::parse(&req.user_id)?,
            pin: Pin::parse(&req.pin, pin_rule)?,
            key: match req.key {
                FactoryKey::Rsa1024 => KeySpec::Rsa(1024),
                FactoryKey::Rsa2048 => KeySpec::Rsa(2048),
                FactoryKey::P256 => KeySpec::EcdsaP256,
            },
            state: req.state,
            reason,
            not_before: instant(req.not_before, "not_before")?,
            not_after: instant(req.not_after, "not_after")?,
            untrusted,
        })
    }
}

/// A certificate the factory made: its PKCS#12 (key, certificate, issuing
/// root) and, for the JSON answer, the certificate and the encrypted key.
pub struct MadeCertificate {
    /// The user id.
    pub user_id: String,
    /// Upper-case hex serial.
    pub serial: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The key, PKCS#8 PEM encrypted with the PIN.
    pub key_pem: String,
    /// The PKCS#12 under the PIN.
    pub pkcs12: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Its status at the service clock's now.
    pub status: CertStatus,
}

impl Service {
    /// Makes a certificate to order (see [`FactoryOrder`]).
    pub async fn make_certificate(
        &self,
        order: FactoryOrder,
    ) -> Result<MadeCertificate, ServiceError> {
        let now = self
            .parts
            .clock
            .now()
            .replace_nanosecond(0)
            .unwrap_or(self.parts.clock.now());
        let (not_before, not_after) = self.period(&order, now)?;
        let ca = if order.untrusted {
            self.untrusted_ca().await?
        } else {
            self.parts.ca.clone()
        };
        let (user_id, key_spec, pin) = (
            order.user_id.as_str().to_owned(),
            order.key,
            order.pin.clone(),
        );
        let made = blocking(move || {
            let key = GeneratedKey::generate(key_spec).map_err(ServiceError::internal)?;
            let issued = ca
                .issue_for_period(key.spki_der(), &user_id, "", not_before, not_after)
                .map_err(ServiceError::internal)?;
            let pkcs12 = key
                .pkcs12(&user_id, &issued.der, &[ca.root().cert_der()], pin.expose())
                .map_err(ServiceError::internal)?;
            let key_pem = key
                .encrypted_pkcs8_pem(pin.expose())
                .map_err(ServiceError::internal)?;
            Ok((issued, pkcs12, key_pem))
        })
        .await;
        let (issued, pkcs12, key_pem) = made?;
        let revoked_at = order.reason.as_ref().map(|_| now);
        if !order.untrusted {
            let enrollment = NewEnrollment {
                id: secrets::new_id(),
                // Never handed out, and the enrollment is recorded issued: it opens for nothing.
                token: secrets::new_token(),
                user_id: order.user_id.as_str().to_owned(),
                email: String::new(),
                kind: Kind::New,
                password_hash: String::new(),
                mail_sent_at: now,
                url_expires_at: now,
                renews_serial: None,
                revoke_previous: false,
                created_at: now,
            };
            let record = CertificateRecord {
                serial: issued.serial.clone(),
                user_id: enrollment.user_id.clone(),
                enrollment_id: enrollment.id.clone(),
                der: issued.der.clone(),
                not_before: issued.not_before,
                not_after: issued.not_after,
                revoked_at,
                reason: order.reason.as_ref().map(|r| r.as_str().to_owned()),
            };
            self.parts
                .store
                .record_certificate(&enrollment, &record)
                .await?;
            if revoked_at.is_some() {
                self.refresh_crl_after_revocation().await;
            }
        }
        tracing::info!(
            serial = %issued.serial,
            state = ?order.state,
            untrusted = order.untrusted,
            "certificate made to order"
        );
        let status = if revoked_at.is_some() {
            CertStatus::Revoked
        } else if now < issued.not_before {
            CertStatus::NotYetValid
        } else if now >= issued.not_after {
            CertStatus::Expired
        } else {
            CertStatus::Valid
        };
        Ok(MadeCertificate {
            user_id: order.user_id.as_str().to_owned(),
            serial: issued.serial,
            cert_der: issued.der,
            key_pem,
            pkcs12,
            not_before: issued.not_before,
            not_after: issued.not_after,
            status,
        })
    }

    /// The validity an order asks for: its dates where given, else what its
    /// state implies (the profile's years long); refused when they contradict
    /// the state at `now`.
    fn period(
        &self,
        order: &FactoryOrder,
        now: OffsetDateTime,
    ) -> Result<(OffsetDateTime, OffsetDateTime), ServiceError> {
        let years = self.parts.ca.profile().validity_years;
        let (nb, na) = match order.state {
            FactoryState::Valid | FactoryState::Revoked => (now, add_calendar_years(now, years)),
            FactoryState::Expired => {
                let na = now - STATE_MARGIN;
                (add_calendar_years(na, -years), na)
            }
            FactoryState::NotYetValid => {
                let nb = now + STATE_MARGIN;
                (nb, add_calendar_years(nb, years))
            }
        };
        let (nb, na) = match (order.not_before, order.not_after) {
            (Some(b), Some(a)) => (b, a),
            (Some(b), None) => (b, add_calendar_years(b, years)),
            (None, Some(a)) => (nb.min(add_calendar_years(a, -years)), a),
            (None, None) => (nb, na),
        };
        let (nb, na) = (
            nb.replace_nanosecond(0).unwrap_or(nb),
            na.replace_nanosecond(0).unwrap_or(na),
        );
        if na <= nb {
            return Err(ServiceError::invalid("not_after must be after not_before"));
        }
        let fits = match order.state {
            FactoryState::Valid => nb <= now && now < na,
            FactoryState::Expired => na <= now,
            FactoryState::NotYetValid => now < nb,
            FactoryState::Revoked => true,
        };
        if !fits {
            return Err(ServiceError::invalid(format!(
                "not_before and not_after do not make a certificate in state {:?} at the service clock's now",
                state_name(order.state)
            )));
        }
        Ok((nb, na))
    }

    /// The CA under the untrusted root: the same subject name and profile, its
    /// own key; made at the first order that asks for it.
    async fn untrusted_ca(&self) -> Result<Arc<Ca>, ServiceError> {
        let ca = self.parts.ca.clone();
        self.untrusted
            .get_or_try_init(|| async move {
                blocking(move || {
                    let root = Root::generate().map_err(ServiceError::internal)?;
                    Ok(Arc::new(ca.with_root(root)))
                })
                .await
            })
            .await
            .cloned()
    }
}

fn state_name(state: FactoryState) -> &'static str {
    match state {
        FactoryState::Valid => "valid",
        FactoryState::Expired => "expired",
        FactoryState::NotYetValid => "not_yet_valid",
        FactoryState::Revoked => "revoked",
    }
}
