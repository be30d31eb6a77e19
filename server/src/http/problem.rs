//! The one error type of the HTTP layer, written in one place as RFC 9457
//! problem+json. The service's errors become problems in one `From`; 5xx
//! answers hide their cause from the client and log it.

use crate::service::ServiceError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use webra2_wire::{EnrollmentState, Kind, Problem, ProblemKind, PROBLEM_CONTENT_TYPE};

/// An error answer: a problem document of one contract kind.
#[derive(Debug)]
pub struct AppError {
    problem: Problem,
    site: Option<Kind>,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u64>,
}

/// The `Retry-After` of `503 store-unavailable`: long enough for a database
/// restart or a failover to be under way, short enough for a client to get on.
pub const STORE_RETRY_AFTER_SECS: u64 = 2;

/// What an error answer carries for the layers outside the handler (the
/// Japanese error pages): the problem itself and the site it happened on, so
/// nobody parses the body again or reads the store a second time.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    /// The problem document sent.
    pub problem: Problem,
    /// The site (issuance or renewal) of the one-time URL, when known.
    pub site: Option<Kind>,
}

impl AppError {
    /// A problem of `kind` with a detail for this occurrence.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            problem: Problem::new(kind, detail),
            site: None,
            retry_after: None,
        }
    }

    /// The store cannot be reached: `503 store-unavailable` with `Retry-After`.
    /// The cause is logged, never sent.
    pub fn store_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "store unavailable");
        let mut err = Self::new(
            ProblemKind::StoreUnavailable,
            "the service's database cannot be reached; nothing was changed: try again shortly",
        );
        err.retry_after = Some(STORE_RETRY_AFTER_SECS);
        err
    }

    /// A failure of the service itself: the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ProblemKind::Internal, "the service failed; see its log")
    }

    /// The same error, known to have happened on a URL of the `site` kind.
    pub fn on_site(mut self, site: Kind) -> Self {
        self.site.get_or_insert(site);
        self
    }

    /// The problem's kind.
    pub fn kind(&self) -> Option<ProblemKind> {
        self.problem.kind()
    }

    /// The problem document.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        let site = e.site();
        let detail = e.to_string();
        let kind = match &e {
            ServiceError::UnknownUrl => ProblemKind::UnknownUrl,
            ServiceError::Closed { state, .. } => match state {
                EnrollmentState::Issued => ProblemKind::UrlAlreadyUsed,
                EnrollmentState::Locked => ProblemKind::Locked,
                _ => ProblemKind::UrlExpired,
            },
            ServiceError::WrongPassword { remaining, .. } => {
                let mut err = Self::new(ProblemKind::WrongPassword, detail);
                err.problem.remaining_attempts = Some(*remaining);
                err.site = site;
                return err;
            }
            ServiceError::SessionRequired { .. } => ProblemKind::SessionRequired,
            ServiceError::SessionExpired { .. } => ProblemKind::SessionExpired,
            ServiceError::BadCsr { .. } => ProblemKind::BadCsr,
            ServiceError::CsrSignatureInvalid { .. } => ProblemKind::CsrSignatureInvalid,
            ServiceError::KeyPolicy { .. } => ProblemKind::KeyPolicy,
            ServiceError::RenewalSignature { .. } => ProblemKind::RenewalSignature,
            ServiceError::Invalid { .. } => ProblemKind::BadRequest,
            ServiceError::NotFound { .. } => ProblemKind::NotFound,
            ServiceError::AlreadyRevoked { .. } => ProblemKind::AlreadyRevoked,
            ServiceError::NothingToRenew { .. } => ProblemKind::NothingToRenew,
            ServiceError::CertificateRevoked { .. } => ProblemKind::CertificateRevoked,
            _ if e.is_store_unavailable() => return Self::store_unavailable(e),
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                return Self::internal(e);
            }
        };
        Self {
            problem: Problem::new(kind, detail),
            site,
            retry_after: None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // The layers outside read them back: metrics the kind, error pages the whole.
        if let Some(kind) = self.problem.kind() {
            resp.extensions_mut().insert(kind);
        }
        resp.extensions_mut().insert(ErrorContext {
            problem: self.problem,
            site: self.site,
        });
        resp
    }
}
