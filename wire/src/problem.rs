//! RFC 9457 problem documents: every error the service sends has this shape.

use serde::{Deserialize, Serialize};

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
/// The prefix of every problem `type`; the slug follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:webra2-mock:problem:";

/// Every kind of problem the service reports, one per contract slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// No enrollment has this one-time URL.
    UnknownUrl,
    /// The one-time URL already issued a certificate.
    UrlAlreadyUsed,
    /// The one-time URL is past its expiry.
    UrlExpired,
    /// The auth password is wrong; `remaining_attempts` says how many are left.
    WrongPassword,
    /// Too many wrong passwords: the URL is locked for good.
    Locked,
    /// The step needs a session and none was presented.
    SessionRequired,
    /// The session presented is unknown or past its 30 minutes.
    SessionExpired,
    /// The body is not a PKCS#10 request.
    BadCsr,
    /// The request's own signature does not verify.
    CsrSignatureInvalid,
    /// The request's key (or its signature hash) is not allowed by the profile.
    KeyPolicy,
    /// The body is over the limit for this route.
    PayloadTooLarge,
    /// The body's media type is not one this route takes.
    UnsupportedMediaType,
    /// The confirmation page was called without a client certificate.
    CertificateRequired,
    /// The client certificate has been revoked.
    CertificateRevoked,
    /// A renewal was prepared for a user who holds no certificate.
    NothingToRenew,
    /// Malformed input to the admin API (or any other malformed request).
    BadRequest,
    /// The admin token is missing or wrong.
    Unauthorized,
    /// The resource asked for does not exist.
    NotFound,
    /// The certificate is already revoked.
    AlreadyRevoked,
    /// The service failed; the detail never carries internals.
    Internal,
    /// The CA is down for maintenance (an injected fault): retry after `Retry-After`.
    CaMaintenance,
    /// The listener holds as many connections as it may: retry after `Retry-After`.
    TooManyConnections,
    /// The store (the database) cannot be reached: retry after `Retry-After`.
    StoreUnavailable,
    /// The profile renews only a request signed by the certificate being
    /// renewed, and this one is not; the detail says which check failed.
    RenewalSignature,
    /// The route exists, not with this method (`405`, with `Allow`).
    MethodNotAllowed,
}

impl ProblemKind {
    /// Every kind, for tables and tests.
    pub const ALL: [ProblemKind; 25] = [
        Self::UnknownUrl,
        Self::UrlAlreadyUsed,
        Self::UrlExpired,
        Self::WrongPassword,
        Self::Locked,
        Self::SessionRequired,
        Self::SessionExpired,
        Self::BadCsr,
        Self::CsrSignatureInvalid,
        Self::KeyPolicy,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::CertificateRequired,
        Self::CertificateRevoked,
        Self::NothingToRenew,
        Self::BadRequest,
        Self::Unauthorized,
        Self::NotFound,
        Self::AlreadyRevoked,
        Self::Internal,
        Self::CaMaintenance,
        Self::TooManyConnections,
        Self::StoreUnavailable,
        Self::RenewalSignature,
        Self::MethodNotAllowed,
    ];

    /// The contract's slug, the last part of the problem `type`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::UnknownUrl => "unknown-url",
            Self::UrlAlreadyUsed => "url-already-used",
            Self::UrlExpired => "url-expired",
            Self::WrongPassword => "wrong-password",
            Self::Locked => "locked",
            Self::SessionRequired => "session-required",
            Self::SessionExpired => "session-expired",
            Self::BadCsr => "bad-csr",
            Self::CsrSignatureInvalid => "csr-signature-invalid",
            Self::KeyPolicy => "key-policy",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::CertificateRequired => "certificate-required",
            Self::CertificateRevoked => "certificate-revoked",
            Self::NothingToRenew => "nothing-to-renew",
            Self::BadRequest => "bad-request",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not-found",
            Self::AlreadyRevoked => "already-revoked",
            Self::Internal => "internal",
            Self::CaMaintenance => "ca-maintenance",
            Self::TooManyConnections => "too-many-connections",
            Self::StoreUnavailable => "store-unavailable",
            Self::RenewalSignature => "renewal-signature",
            Self::MethodNotAllowed => "method-not-allowed",
        }
    }

    /// The HTTP status the contract gives this kind.
    pub fn status(self) -> u16 {
        match self {
            Self::UnknownUrl | Self::NotFound => 404,
            Self::UrlAlreadyUsed | Self::UrlExpired => 410,
            Self::WrongPassword
            | Self::SessionRequired
            | Self::SessionExpired
            | Self::CertificateRequired
            | Self::Unauthorized => 401,
            Self::Locked => 423,
            Self::BadCsr | Self::CsrSignatureInvalid | Self::BadRequest => 400,
            Self::KeyPolicy | Self::RenewalSignature => 422,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::CertificateRevoked => 403,
            Self::NothingToRenew | Self::AlreadyRevoked => 409,
            Self::Internal => 500,
            Self::CaMaintenance | Self::TooManyConnections | Self::StoreUnavailable => 503,
            Self::MethodNotAllowed => 405,
        }
    }

    /// A short, fixed, human title.
    pub fn title(self) -> &'static str {
        match self {
            Self::UnknownUrl => "Unknown one-time URL",
            Self::UrlAlreadyUsed => "One-time URL already used",
            Self::UrlExpired => "One-time URL expired",
            Self::WrongPassword => "Wrong auth password",
            Self::Locked => "One-time URL locked",
            Self::SessionRequired => "Session required",
            Self::SessionExpired => "Session expired",
            Self::BadCsr => "Not a certificate request",
            Self::CsrSignatureInvalid => "Certificate request signature invalid",
            Self::KeyPolicy => "Key not allowed by the profile",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::CertificateRequired => "Client certificate required",
            Self::CertificateRevoked => "Client certificate revoked",
            Self::NothingToRenew => "Nothing to renew",
            Self::BadRequest => "Bad request",
            Self::Unauthorized => "Unauthorized",
            Self::NotFound => "Not found",
            Self::AlreadyRevoked => "Certificate already revoked",
            Self::Internal => "Internal error",
            Self::CaMaintenance => "CA down for maintenance",
            Self::TooManyConnections => "Too many connections",
            Self::StoreUnavailable => "Store unavailable",
            Self::RenewalSignature => "Renewal not signed by the current certificate",
            Self::MethodNotAllowed => "Method not allowed",
        }
    }

    /// The full problem `type` URN.
    pub fn type_uri(self) -> String {
        format!("{PROBLEM_TYPE_PREFIX}{}", self.slug())
    }

    /// The kind named by a problem `type` URN, if it is one of ours.
    pub fn from_type_uri(uri: &str) -> Option<Self> {
        let slug = uri.strip_prefix(PROBLEM_TYPE_PREFIX)?;
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// An `application/problem+json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:webra2-mock:problem:<slug>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short human title, fixed per kind.
    pub title: String,
    /// The HTTP status, repeated in the body.
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// With `wrong-password`: how many attempts are left before the URL locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
}

impl Problem {
    /// A problem of the given kind with a detail for this occurrence.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            type_uri: kind.type_uri(),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail: detail.into(),
            remaining_attempts: None,
        }
    }

    /// The kind, if the `type` is one of ours.
    pub fn kind(&self) -> Option<ProblemKind> {
        ProblemKind::from_type_uri(&self.type_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_type_uri() {
        for kind in ProblemKind::ALL {
            assert_eq!(ProblemKind::from_type_uri(&kind.type_uri()), Some(kind));
        }
    }

    #[test]
    fn contract_statuses_hold() {
        assert_eq!(ProblemKind::UrlAlreadyUsed.status(), 410);
        assert_eq!(ProblemKind::Locked.status(), 423);
        assert_eq!(ProblemKind::KeyPolicy.status(), 422);
        assert_eq!(ProblemKind::PayloadTooLarge.status(), 413);
        assert_eq!(ProblemKind::CertificateRevoked.status(), 403);
        assert_eq!(ProblemKind::StoreUnavailable.status(), 503);
        assert_eq!(
            ProblemKind::StoreUnavailable.type_uri(),
            "urn:webra2-mock:problem:store-unavailable"
        );
    }

    #[test]
    fn wrong_password_carries_remaining_attempts_on_the_wire() {
        let mut p = Problem::new(ProblemKind::WrongPassword, "no");
        p.remaining_attempts = Some(3);
        let v = serde_json::to_value(&p).expect("serialises");
        assert_eq!(v["type"], "urn:webra2-mock:problem:wrong-password");
        assert_eq!(v["remaining_attempts"], 3);
        assert_eq!(v["status"], 401);
    }
}
