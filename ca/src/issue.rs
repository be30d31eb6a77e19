//! Issuance: the CA alone decides subject, validity and extensions.

use crate::{CaError, Profile, Root};
use time::OffsetDateTime;

/// The certificate authority: a root, a profile and where its CRL lives.
pub struct Ca {
    root: Root,
    profile: Profile,
    crl_url: String,
}

/// What the CA needs to issue one client certificate.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    /// The DER SubjectPublicKeyInfo to certify.
    pub spki_der: &'a [u8],
    /// The user id (goes into the subject through the profile's template).
    pub user_id: &'a str,
    /// The user's mail address (available to the subject template).
    pub email: &'a str,
    /// When the issuance mail was sent: validity is anchored there.
    pub mail_sent_at: OffsetDateTime,
    /// The service clock's now: notBefore.
    pub now: OffsetDateTime,
}

/// One issued certificate.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// Upper-case hex serial, as `openssl x509 -serial` prints it.
    pub serial: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The subject, RFC 4514.
    pub subject: String,
}

/// A TLS server certificate for the confirmation listener, with its key.
pub struct ServerCert {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// Its private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
}

impl Ca {
    /// A CA signing with `root` under `profile`; `crl_url` goes into every certificate.
    pub fn new(root: Root, profile: Profile, crl_url: impl Into<String>) -> Self {
        Self { root, profile, crl_url: crl_url.into() }
    }

    /// The root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Issues a client certificate for a key whose request was already verified.
    pub fn issue(&self, _req: &IssueRequest<'_>) -> Result<IssuedCert, CaError> {
        let _ = &self.crl_url;
        todo!("helper")
    }

    /// Issues a server certificate for the confirmation listener.
    pub fn issue_server_cert(&self, _hosts: &[String], _now: OffsetDateTime) -> Result<ServerCert, CaError> {
        todo!("helper")
    }
}
