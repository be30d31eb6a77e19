//! Step 4: what the confirmation page says of the client certificate a TLS
//! handshake verified. The listener itself (TLS, the verifier) is `confirm/`.

use super::error::ServiceError;
use super::instance::Service;
use super::name;
use time::OffsetDateTime;
use webra2_wire::{in_jst, serial_hex, Confirmation};
use x509_parser::prelude::{FromDer, X509Certificate};

impl Service {
    /// Confirms a client certificate the handshake verified against the root.
    ///
    /// A certificate that chains to the root but is unknown to the store still
    /// passes: the handshake proved the root issued it, and the store only
    /// knows about revocation. (A root shared with another instance, or a
    /// store that was reset, would otherwise lock out certificates this root
    /// did issue.)
    pub async fn confirm(&self, der: &[u8]) -> Result<Confirmation, ServiceError> {
        let confirmation = describe(der)
            .ok_or_else(|| ServiceError::invalid("the client certificate could not be read"))?;
        // The status source the OCSP responder answers from too.
        if let Some(Some(revocation)) = self.revocation_of(&confirmation.serial).await? {
            return Err(ServiceError::CertificateRevoked {
                serial: confirmation.serial,
                at: rfc3339(in_jst(revocation.at)),
            });
        }
        Ok(confirmation)
    }
}

/// What the page shows of a certificate; `None` if it is not X.509.
pub fn describe(der: &[u8]) -> Option<Confirmation> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let user_id = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    // As `openssl x509 -serial` prints it: no sign-padding zero byte.
    let raw = cert.raw_serial();
    let significant = match raw.iter().position(|&b| b != 0) {
        Some(i) => raw.get(i..),
        None => raw.get(raw.len().saturating_sub(1)..),
    }
    .unwrap_or_default();
    Some(Confirmation {
        status: "ok".to_owned(),
        user_id,
        subject: name::rfc4514(cert.subject()),
        issuer: name::rfc4514(cert.issuer()),
        serial: serial_hex(significant),
        not_before: in_jst(cert.validity().not_before.to_datetime()),
        not_after: in_jst(cert.validity().not_after.to_datetime()),
    })
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
