//! The HTTP side of injected faults: the middleware that applies the first
//! active fault matching a request's route template and method (public and
//! confirm listeners; never admin, so faults can always be cleared). The
//! faults themselves are `crate::faults`.

use super::problem::AppError;
use crate::faults::INJECTED_FAULT_SLUG;
use crate::service::OcspFault;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;
use std::time::Duration;
use webra2_ca::Root;
use webra2_wire::{paths, FaultKind, Fingerprint, ProblemKind, PROBLEM_TYPE_PREFIX};

/// The largest body `truncate_body` reads before cutting it.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// `Retry-After` of `ca_maintenance` when none is given.
const MAINTENANCE_RETRY_AFTER: u64 = 1;

/// The middleware: applies the first active fault that matches the request's
/// route template and method, or passes the request on untouched.
pub async fn inject(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let Some(route) = route else {
        return next.run(req).await;
    };
    let fault = match state
        .service
        .take_fault(&route, req.method().as_str())
        .await
    {
        Ok(Some(fault)) => fault,
        Ok(None) => return next.run(req).await,
        Err(e) => return AppError::from(e).into_response(),
    };
    let kind = fault.kind();
    state.service.metrics().fault_injected(kind.as_str());
    tracing::info!(fault = kind.as_str(), route, "injecting a fault");
    match kind {
        FaultKind::WrongRoot => wrong_root(&route).await,
        FaultKind::CaMaintenance => {
            let mut resp = AppError::new(
                ProblemKind::CaMaintenance,
                "the CA is down for maintenance; try again later",
            )
            .into_response();
            retry_after(
                &mut resp,
                fault.retry_after.unwrap_or(MAINTENANCE_RETRY_AFTER),
            );
            resp
        }
        FaultKind::OcspTryLater
        | FaultKind::OcspInternalError
        | FaultKind::OcspUnauthorized
        | FaultKind::OcspStale
        | FaultKind::OcspWrongKey
        | FaultKind::OcspWrongNonce => {
            // The responder itself answers differently: hand it the fault.
            let mut req = req;
            if let Some(fault) = ocsp_fault(kind) {
                req.extensions_mut().insert(fault);
            }
            next.run(req).await
        }
        FaultKind::Route | FaultKind::ExpireUrlNow => {
            if let Some(ms) = fault.latency_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let resp = match fault.status {
                Some(status) => injected_status(status, &route, fault.retry_after),
                None => next.run(req).await,
            };
            match fault.truncate_body {
                Some(n) => truncate(resp, n).await,
                None => resp,
            }
        }
    }
}

/// The service's name for an OCSP fault kind; `None` for the other kinds.
fn ocsp_fault(kind: FaultKind) -> Option<OcspFault> {
    Some(match kind {
        FaultKind::OcspTryLater => OcspFault::TryLater,
        FaultKind::OcspInternalError => OcspFault::InternalError,
        FaultKind::OcspUnauthorized => OcspFault::Unauthorized,
        FaultKind::OcspStale => OcspFault::Stale,
        FaultKind::OcspWrongKey => OcspFault::WrongKey,
        FaultKind::OcspWrongNonce => OcspFault::WrongNonce,
        FaultKind::Route
        | FaultKind::WrongRoot
        | FaultKind::ExpireUrlNow
        | FaultKind::CaMaintenance => return None,
    })
}

fn retry_after(resp: &mut Response, secs: u64) {
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
}

/// A problem document with the fault's status.
fn injected_status(status: u16, route: &str, retry: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let problem = webra2_wire::Problem {
        type_uri: format!("{PROBLEM_TYPE_PREFIX}{INJECTED_FAULT_SLUG}"),
        title: "Injected fault".into(),
        status: code.as_u16(),
        detail: format!(
            "HTTP {} injected on {route} by the faults configuration",
            code.as_u16()
        ),
        remaining_attempts: None,
    };
    let mut resp = (code, serde_json::to_string(&problem).unwrap_or_default()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(webra2_wire::PROBLEM_CONTENT_TYPE),
    );
    if let Some(secs) = retry {
        retry_after(&mut resp, secs);
    }
    resp
}

/// The answer with its body cut to `n` bytes (and a length that says so).
async fn truncate(resp: Response, n: usize) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return AppError::internal(format!("truncate_body: {e}")).into_response(),
    };
    let cut = bytes.slice(..n.min(bytes.len()));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

/// A throw-away root with the real one's subject but its own key, so its
/// fingerprint differs; generated once per process (RSA key generation is slow).
async fn throwaway_root() -> Result<Arc<Root>, AppError> {
    static ROOT: tokio::sync::OnceCell<Arc<Root>> = tokio::sync::OnceCell::const_new();
    ROOT.get_or_try_init(|| async {
        tokio::task::spawn_blocking(Root::generate)
            .await
            .map_err(AppError::internal)?
            .map(Arc::new)
            .map_err(AppError::internal)
    })
    .await
    .cloned()
}

/// What the root routes serve under `wrong_root`, in their usual shapes.
async fn wrong_root(route: &str) -> Response {
    let root = match throwaway_root().await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match route {
        paths::ROOT_DER => super::respond::download(
            "application/pkix-cert",
            "root.crt",
            root.cert_der().to_vec(),
        ),
        paths::ROOT_PEM => super::respond::download(
            "application/x-pem-file",
            "root.pem",
            root.cert_pem().into_bytes(),
        ),
        _ => Json(Fingerprint {
            sha1: root.sha1_fingerprint(),
            sha256: root.sha256_fingerprint(),
        })
        .into_response(),
    }
}
