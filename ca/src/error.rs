//! The CA's errors: one enum for requests, one for everything else.

/// Why a certificate request was refused. Each maps to one contract slug.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrError {
    /// Not a PKCS#10 request at all (`bad-csr`).
    #[error("not a PKCS#10 certificate request: {0}")]
    Malformed(String),
    /// The request's own signature does not verify (`csr-signature-invalid`).
    #[error("the request's signature does not verify: {0}")]
    SignatureInvalid(String),
    /// The key or signature hash is not allowed by the profile (`key-policy`).
    #[error("{0}")]
    KeyPolicy(String),
}

/// Everything else the CA can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A profile file is not valid.
    #[error("profile: {0}")]
    Profile(String),
    /// The root certificate or key cannot be loaded.
    #[error("root: {0}")]
    Root(String),
    /// Signing or encoding a certificate failed.
    #[error("issuance: {0}")]
    Issue(String),
    /// An OCSP request cannot be read, or a response cannot be made.
    #[error("OCSP: {0}")]
    Ocsp(String),
}
