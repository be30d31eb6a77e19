//! Injected faults: the body of `PUT /admin/faults` and `WEBRA2_FAULTS`, and what
//! `GET /admin/faults` answers. Named configuration in the Pebble style: each
//! entry says what breaks, where, and how many times.

use serde::{Deserialize, Serialize};

/// A set of faults, as `PUT /admin/faults` takes it and `GET /admin/faults` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FaultSet {
    /// The faults, tried in order: the first that matches a request applies.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
}

/// What kind of fault an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Breaks one route: a `status`, added `latency_ms`, or a body cut to
    /// `truncate_body` bytes (the default kind when `route` is given).
    Route,
    /// `/ca/root.crt`, `/ca/root.pem` and `/ca/root/fingerprint` serve another
    /// root, whose fingerprint differs from the real one.
    WrongRoot,
    /// Sets the enrollment's URL expiry to the service's now, once, when put.
    ExpireUrlNow,
    /// Issuance (CSR and PKCS#12) answers `503 ca-maintenance` with `Retry-After`.
    CaMaintenance,
    /// The OCSP responder answers `tryLater` (RFC 6960 §2.3).
    OcspTryLater,
    /// The OCSP responder answers `internalError`.
    OcspInternalError,
    /// The OCSP responder answers `unauthorized`.
    OcspUnauthorized,
    /// The OCSP responder answers with a stale response: `nextUpdate` in the past.
    OcspStale,
    /// The OCSP response is signed by a key that is not the responder's.
    OcspWrongKey,
    /// The OCSP response carries a nonce other than the request's.
    OcspWrongNonce,
}

impl FaultKind {
    /// The wire name (`route`, `wrong_root`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Route => "route",
            Self::WrongRoot => "wrong_root",
            Self::ExpireUrlNow => "expire_url_now",
            Self::CaMaintenance => "ca_maintenance",
            Self::OcspTryLater => "ocsp_try_later",
            Self::OcspInternalError => "ocsp_internal_error",
            Self::OcspUnauthorized => "ocsp_unauthorized",
            Self::OcspStale => "ocsp_stale",
            Self::OcspWrongKey => "ocsp_wrong_key",
            Self::OcspWrongNonce => "ocsp_wrong_nonce",
        }
    }

    /// The OCSP faults: they apply to `POST /ocsp` and `GET /ocsp/{request}`,
    /// and change what the responder answers rather than the HTTP exchange.
    pub const OCSP: [FaultKind; 6] = [
        Self::OcspTryLater,
        Self::OcspInternalError,
        Self::OcspUnauthorized,
        Self::OcspStale,
        Self::OcspWrongKey,
        Self::OcspWrongNonce,
    ];
}

/// One fault. Which fields apply depends on the kind; the service refuses an
/// entry with fields its kind does not use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The kind; `route` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FaultKind>,
    /// The route template as the contract writes it (`/issue/{token}/csr`), or `*`
    /// for every route of the public and confirm listeners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Only requests with this method (`POST`); any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Answer with this status (400..=599) and a problem document instead of
    /// calling the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 400, maximum = 599))]
    pub status: Option<u16>,
    /// `Retry-After` seconds to send with `status` or `ca_maintenance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Wait this long before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 60000))]
    pub latency_ms: Option<u64>,
    /// Cut the answer's body to this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_body: Option<usize>,
    /// Apply to this many matching requests, then vanish; every request when absent.
    /// `GET /admin/faults` shows what is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub times: Option<u32>,
    /// With `expire_url_now`: the enrollment whose URL expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_id: Option<String>,
}

impl FaultSpec {
    /// `route` answers `status` (`503`, `429`, ...) instead of running.
    pub fn status(route: impl Into<String>, status: u16) -> Self {
        Self {
            route: Some(route.into()),
            status: Some(status),
            ..Self::default()
        }
    }

    /// `route` answers after `ms` milliseconds more.
    pub fn latency(route: impl Into<String>, ms: u64) -> Self {
        Self {
            route: Some(route.into()),
            latency_ms: Some(ms),
            ..Self::default()
        }
    }

    /// `route`'s answers are cut to `bytes` bytes.
    pub fn truncate(route: impl Into<String>, bytes: usize) -> Self {
        Self {
            route: Some(route.into()),
            truncate_body: Some(bytes),
            ..Self::default()
        }
    }

    /// The root is served with another fingerprint.
    pub fn wrong_root() -> Self {
        Self {
            kind: Some(FaultKind::WrongRoot),
            ..Self::default()
        }
    }

    /// The enrollment's one-time URL expires now.
    pub fn expire_url_now(enrollment_id: impl Into<String>) -> Self {
        Self {
            kind: Some(FaultKind::ExpireUrlNow),
            enrollment_id: Some(enrollment_id.into()),
            ..Self::default()
        }
    }

    /// Issuance answers `503 ca-maintenance`.
    pub fn ca_maintenance() -> Self {
        Self {
            kind: Some(FaultKind::CaMaintenance),
            ..Self::default()
        }
    }

    /// An OCSP fault (one of [`FaultKind::OCSP`]).
    pub fn ocsp(kind: FaultKind) -> Self {
        Self {
            kind: Some(kind),
            ..Self::default()
        }
    }

    /// Only for requests with this method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// With this `Retry-After` (seconds).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The kind, `route` when not given.
    pub fn kind(&self) -> FaultKind {
        self.kind.unwrap_or(FaultKind::Route)
    }
}

impl FaultSet {
    /// A set of these faults.
    pub fn new(faults: impl IntoIterator<Item = FaultSpec>) -> Self {
        Self {
            faults: faults.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let set: FaultSet = serde_json::from_str(
            r#"{"faults": [
                {"route": "/issue/{token}/csr", "status": 503, "times": 2},
                {"route": "/issue/{token}/auth", "status": 429, "retry_after": 1, "times": 1},
                {"route": "/ca/root.crt", "truncate_body": 10},
                {"kind": "wrong_root"},
                {"kind": "expire_url_now", "enrollment_id": "E1"},
                {"kind": "ca_maintenance", "retry_after": 2},
                {"kind": "ocsp_wrong_nonce", "times": 1}
            ]}"#,
        )
        .expect("parses");
        assert_eq!(set.faults.len(), 7);
        assert_eq!(
            set.faults[6],
            FaultSpec::ocsp(FaultKind::OcspWrongNonce).times(1)
        );
        assert_eq!(
            set.faults[0],
            FaultSpec::status("/issue/{token}/csr", 503).times(2)
        );
        assert_eq!(set.faults[3].kind(), FaultKind::WrongRoot);
        assert_eq!(set.faults[0].kind(), FaultKind::Route);
    }

    #[test]
    fn a_misspelt_field_is_refused() {
        let err = serde_json::from_str::<FaultSet>(r#"{"faults": [{"rout": "/x"}]}"#);
        assert!(err.is_err());
    }
}
