//! The domain's one error type. It names no status code: `http/problem.rs`
//! turns each variant into the contract's problem document, in one `From`.

use crate::store::StoreError;
use webra2_wire::{EnrollmentState, Kind};

/// Why an operation of the service did not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The one-time URL names no enrollment (or cannot be one of ours).
    #[error("this one-time URL is not known: check the URL in the mail")]
    UnknownUrl,
    /// The one-time URL is used, locked or expired.
    #[error("{}", closed_detail(*.state))]
    Closed {
        /// What closed it.
        state: EnrollmentState,
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The auth password is wrong; the URL is still open.
    #[error("the auth password is wrong; {remaining} attempt(s) left before this URL locks")]
    WrongPassword {
        /// Attempts left before the URL locks.
        remaining: u32,
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The step needs the session of Step 1 and none was presented.
    #[error("this step needs the session from Step 1: enter the auth password first")]
    SessionRequired {
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The session presented is unknown, expired or another URL's.
    #[error("the session is unknown or has expired: enter the auth password again")]
    SessionExpired {
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The request is not a readable PKCS#10.
    #[error("{detail}")]
    BadCsr {
        /// What is wrong with it.
        detail: String,
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The request's own signature does not verify.
    #[error("{detail}")]
    CsrSignatureInvalid {
        /// What failed.
        detail: String,
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The request's key is not one the profile accepts.
    #[error("{detail}")]
    KeyPolicy {
        /// What the profile wants.
        detail: String,
        /// The site the URL belongs to.
        site: Kind,
    },
    /// The profile renews only a request signed by the certificate being
    /// renewed, and this one is not (the detail says which check failed).
    #[error("{detail}")]
    RenewalSignature {
        /// Which check failed.
        detail: String,
        /// The site the URL belongs to.
        site: Kind,
    },
    /// An input is not valid (a field of a preparation, a PIN, a format...).
    #[error("{detail}")]
    Invalid {
        /// What is wrong with it.
        detail: String,
        /// The site, when the input belongs to one URL.
        site: Option<Kind>,
    },
    /// The thing asked for does not exist (yet).
    #[error("{detail}")]
    NotFound {
        /// What is missing.
        detail: String,
        /// The site, when it belongs to one URL.
        site: Option<Kind>,
    },
    /// The certificate was revoked before.
    #[error("certificate {serial} is already revoked")]
    AlreadyRevoked {
        /// Its serial.
        serial: String,
    },
    /// A renewal was asked for a user who holds no valid certificate.
    #[error("{user_id} holds no valid certificate to renew")]
    NothingToRenew {
        /// The user.
        user_id: String,
    },
    /// The presented client certificate was revoked.
    #[error("certificate {serial} was revoked at {at}")]
    CertificateRevoked {
        /// Its serial.
        serial: String,
        /// When, RFC 3339 in Japan time.
        at: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Something that should not happen did (a task panicked, signing failed).
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// An internal failure with its cause (logged by the HTTP layer, never shown).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// An invalid input that belongs to no one URL.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::Invalid {
            detail: detail.into(),
            site: None,
        }
    }

    /// A missing thing that belongs to no one URL.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound {
            detail: detail.into(),
            site: None,
        }
    }

    /// Whether the store could not be reached (the database is down or
    /// away): nothing was changed, and the same request may succeed later.
    pub fn is_store_unavailable(&self) -> bool {
        matches!(self, Self::Store(StoreError::Unavailable(_)))
    }

    /// The site (issuance or renewal) the failing URL belongs to, when known:
    /// the error page is titled by it.
    pub fn site(&self) -> Option<Kind> {
        match self {
            Self::Closed { site, .. }
            | Self::WrongPassword { site, .. }
            | Self::SessionRequired { site }
            | Self::SessionExpired { site }
            | Self::BadCsr { site, .. }
            | Self::CsrSignatureInvalid { site, .. }
            | Self::KeyPolicy { site, .. }
            | Self::RenewalSignature { site, .. } => Some(*site),
            Self::Invalid { site, .. } | Self::NotFound { site, .. } => *site,
            _ => None,
        }
    }
}

fn closed_detail(state: EnrollmentState) -> &'static str {
    match state {
        EnrollmentState::Issued => "this one-time URL has already issued its certificate; ask the administrator for a new issuance",
        EnrollmentState::Locked => "too many wrong auth passwords: this one-time URL is locked; ask the administrator for a new issuance",
        _ => "this one-time URL has expired; ask the administrator for a new issuance",
    }
}
