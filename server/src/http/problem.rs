//! The one error type of the HTTP layer, written in one place as RFC 9457
//! problem+json. 5xx answers hide their cause from the client and log it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use webra2_wire::{Problem, ProblemKind, PROBLEM_CONTENT_TYPE};

/// An error answer: a problem document of one contract kind.
#[derive(Debug)]
pub struct AppError {
    problem: Problem,
}

impl AppError {
    /// A problem of `kind` with a detail for this occurrence.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            problem: Problem::new(kind, detail),
        }
    }

    /// A wrong password, with the attempts left before the URL locks.
    pub fn wrong_password(remaining: u32) -> Self {
        let mut err = Self::new(
            ProblemKind::WrongPassword,
            format!(
                "the auth password is wrong; {remaining} attempt(s) left before this URL locks"
            ),
        );
        err.problem.remaining_attempts = Some(remaining);
        err
    }

    /// A failure of the service itself: the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ProblemKind::Internal, "the service failed; see its log")
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

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
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
        // Handlers and middleware (metrics, the HTML error pages) read the kind back.
        if let Some(kind) = self.problem.kind() {
            resp.extensions_mut().insert(kind);
        }
        resp
    }
}
