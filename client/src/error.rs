//! The crate's one error type.

/// Everything that can go wrong in the client, outside of a step's own FAIL line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The input is not a certificate (or not one this client can read).
    #[error("not a certificate: {0}")]
    BadCertificate(String),
    /// A key could not be generated, encoded, encrypted or decrypted.
    #[error("key: {0}")]
    Key(String),
    /// A certificate request could not be built.
    #[error("certificate request: {0}")]
    Csr(String),
    /// The TLS configuration could not be built.
    #[error("TLS: {0}")]
    Tls(String),
    /// The HTTP exchange failed; the message says how.
    #[error("{0}")]
    Http(String),
    /// A file of the store could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A step of the manual failed: the service answered what the manual says it
    /// must not (or nothing readable), or what the user holds does not match it.
    /// The message is the step's FAIL detail.
    #[error("{0}")]
    Step(String),
    /// An argument is malformed.
    #[error("invalid argument: {0}")]
    Argument(String),
}

impl ClientError {
    /// An I/O error on this path.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
