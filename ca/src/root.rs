//! The root: the fixture one, a user's own, or a fresh one.

use crate::CaError;

/// A root CA certificate and its key.
pub struct Root {
    cert_der: Vec<u8>,
}

impl Root {
    /// The checked-in test root (`fixtures/root.*`), embedded in the binary.
    pub fn fixture() -> Root {
        todo!("helper")
    }
    /// A user's own root from PEM texts.
    pub fn from_pem(_cert_pem: &str, _key_pem: &str) -> Result<Root, CaError> {
        todo!("helper")
    }
    /// A fresh root with the same subject.
    pub fn generate() -> Result<Root, CaError> {
        todo!("helper")
    }
    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }
    /// The certificate, PEM.
    pub fn cert_pem(&self) -> String {
        todo!("helper")
    }
    /// SHA-1 in five groups of eight.
    pub fn sha1_fingerprint(&self) -> String {
        todo!("helper")
    }
    /// SHA-256 in groups of eight.
    pub fn sha256_fingerprint(&self) -> String {
        todo!("helper")
    }
    /// The subject, RFC 4514.
    pub fn subject(&self) -> String {
        todo!("helper")
    }
}
