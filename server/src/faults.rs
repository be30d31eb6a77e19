//! Injected faults: one store of named faults ([`Faults`], in the [`AppState`])
//! and one middleware ([`inject`]) that applies them to the public and confirm
//! listeners, matching requests by their route template. Handlers know nothing
//! of faults; a fault never changes stored state (except `expire_url_now`,
//! which exists to do exactly that, once, when it is put).
//!
//! [`AppState`]: crate::AppState

use crate::http::{pem_block, AppError};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use webra2_ca::Root;
use webra2_wire::{FaultKind, FaultSet, FaultSpec, Fingerprint, ProblemKind, PROBLEM_TYPE_PREFIX};

/// The routes `wrong_root` serves another root on.
const ROOT_ROUTES: [&str; 3] = ["/ca/root.crt", "/ca/root.pem", "/ca/root/fingerprint"];
/// The routes `ca_maintenance` closes.
const ISSUE_ROUTES: [&str; 2] = ["/issue/{token}/csr", "/issue/{token}/pkcs12"];
/// The longest latency a fault may add.
const MAX_LATENCY_MS: u64 = 60_000;
/// The largest body `truncate_body` reads before cutting it.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// `Retry-After` of `ca_maintenance` when none is given.
const MAINTENANCE_RETRY_AFTER: u64 = 1;
/// The problem slug of a `status` fault (not a contract kind: only faults send it).
pub const INJECTED_FAULT_SLUG: &str = "injected-fault";

/// A fault entry the service refuses, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("faults[{index}]: {reason}")]
pub struct FaultError {
    /// Its position in the set.
    pub index: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// One active fault and what is left of it.
#[derive(Debug, Clone)]
struct Active {
    spec: FaultSpec,
    method: Option<Method>,
}

/// The active faults, shared by every listener of one instance.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    active: Arc<Mutex<Vec<Active>>>,
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Faults from a set (the start-up configuration). `expire_url_now` needs a
    /// store and is refused here.
    pub fn from_set(set: &FaultSet) -> Result<Self, FaultError> {
        let faults = Self::new();
        let (kept, expire) = validate(set)?;
        if let Some((index, _)) = expire.first() {
            return Err(FaultError {
                index: *index,
                reason: "expire_url_now names an enrollment: put it with PUT /admin/faults".into(),
            });
        }
        faults.replace(kept);
        Ok(faults)
    }

    fn replace(&self, kept: Vec<Active>) {
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) = kept;
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.replace(Vec::new());
    }

    /// The active faults, `times` showing what is left.
    pub fn snapshot(&self) -> FaultSet {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        FaultSet::new(active.iter().map(|a| a.spec.clone()))
    }

    /// The first active fault that matches, counted down (and dropped at zero).
    fn take(&self, route: &str, method: &Method) -> Option<FaultSpec> {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        let index = active.iter().position(|a| matches(a, route, method))?;
        let fault = &mut active[index];
        let spec = fault.spec.clone();
        match fault.spec.times {
            Some(n) if n <= 1 => {
                active.remove(index);
            }
            Some(n) => fault.spec.times = Some(n - 1),
            None => {}
        }
        Some(spec)
    }
}

fn matches(a: &Active, route: &str, method: &Method) -> bool {
    if a.method.as_ref().is_some_and(|m| m != method) {
        return false;
    }
    match a.spec.kind() {
        FaultKind::Route => a
            .spec
            .route
            .as_deref()
            .is_some_and(|r| r == "*" || r == route),
        FaultKind::WrongRoot => *method == Method::GET && ROOT_ROUTES.contains(&route),
        FaultKind::CaMaintenance => *method == Method::POST && ISSUE_ROUTES.contains(&route),
        FaultKind::ExpireUrlNow => false,
    }
}

type Validated = (Vec<Active>, Vec<(usize, String)>);

/// Checks every entry; splits the lasting faults from the `expire_url_now` actions.
fn validate(set: &FaultSet) -> Result<Validated, FaultError> {
    let mut kept = Vec::new();
    let mut expire = Vec::new();
    for (index, spec) in set.faults.iter().enumerate() {
        let err = |reason: &str| FaultError {
            index,
            reason: reason.to_owned(),
        };
        let method = match &spec.method {
            Some(m) => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| err("method is not an HTTP method"))?,
            ),
            None => None,
        };
        if spec.times == Some(0) {
            return Err(err(
                "times must be at least 1 (leave it out for every request)",
            ));
        }
        let kind = spec.kind();
        let only = |allowed: &[&str]| -> Result<(), FaultError> {
            let given = [
                ("route", spec.route.is_some()),
                ("method", spec.method.is_some()),
                ("status", spec.status.is_some()),
                ("retry_after", spec.retry_after.is_some()),
                ("latency_ms", spec.latency_ms.is_some()),
                ("truncate_body", spec.truncate_body.is_some()),
                ("times", spec.times.is_some()),
                ("enrollment_id", spec.enrollment_id.is_some()),
            ];
            match given
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(err(&format!(
                    "{name} does not go with kind {}",
                    kind.as_str()
                ))),
                None => Ok(()),
            }
        };
        match kind {
            FaultKind::Route => {
                only(&[
                    "route",
                    "method",
                    "status",
                    "retry_after",
                    "latency_ms",
                    "truncate_body",
                    "times",
                ])?;
                let route = spec.route.as_deref().unwrap_or("");
                if route != "*" && !route.starts_with('/') {
                    return Err(err(
                        "route must be a route template such as /issue/{token}/csr, or *",
                    ));
                }
                if route.starts_with("/admin") {
                    return Err(err("faults do not apply to the admin listener"));
                }
                if spec.status.is_none()
                    && spec.latency_ms.is_none()
                    && spec.truncate_body.is_none()
                {
                    return Err(err(
                        "a route fault needs status, latency_ms or truncate_body",
                    ));
                }
                if spec.status.is_some_and(|s| !(400..=599).contains(&s)) {
                    return Err(err("status must be between 400 and 599"));
                }
                if spec.retry_after.is_some() && spec.status.is_none() {
                    return Err(err("retry_after goes with status"));
                }
                if spec.latency_ms.is_some_and(|ms| ms > MAX_LATENCY_MS) {
                    return Err(err("latency_ms must be at most 60000"));
                }
            }
            FaultKind::WrongRoot => only(&["times"])?,
            FaultKind::CaMaintenance => only(&["retry_after", "times"])?,
            FaultKind::ExpireUrlNow => {
                only(&["enrollment_id"])?;
                match spec.enrollment_id.as_deref() {
                    Some(id) if !id.is_empty() => expire.push((index, id.to_owned())),
                    _ => return Err(err("expire_url_now needs enrollment_id")),
                }
                continue;
            }
        }
        kept.push(Active {
            spec: spec.clone(),
            method,
        });
    }
    Ok((kept, expire))
}

/// Puts a set on a running service: checks it all, applies `expire_url_now`
/// (every named enrollment must exist, or nothing changes), then replaces the
/// active faults with the rest. The in-process API and `PUT /admin/faults` both
/// come here.
pub async fn put(state: &AppState, set: &FaultSet) -> Result<FaultSet, AppError> {
    let (kept, expire) =
        validate(set).map_err(|e| AppError::new(ProblemKind::BadRequest, e.to_string()))?;
    for (index, id) in &expire {
        if state.store.enrollment(id).await?.is_none() {
            return Err(AppError::new(
                ProblemKind::NotFound,
                format!("faults[{index}]: no enrollment {id}"),
            ));
        }
    }
    let now = state.clock.now();
    for (_, id) in &expire {
        state.store.expire_url(id, now).await?;
        tracing::info!(enrollment = %id, "fault: one-time URL expired now");
    }
    state.faults.replace(kept);
    let active = state.faults.snapshot();
    tracing::info!(faults = active.faults.len(), "faults put");
    Ok(active)
}

/// `GET /admin/faults`: the active faults.
pub async fn get_faults(State(state): State<AppState>) -> Json<FaultSet> {
    Json(state.faults.snapshot())
}

/// `PUT /admin/faults`: replaces the active faults (see [`put`]).
pub async fn put_faults(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FaultSet>, AppError> {
    let body = crate::http::read_body(body)?;
    let set: FaultSet = crate::http::admin_json(&headers, &body)?;
    Ok(Json(put(&state, &set).await?))
}

/// `DELETE /admin/faults`: clears every fault.
pub async fn delete_faults(State(state): State<AppState>) -> Json<FaultSet> {
    state.faults.clear();
    tracing::info!("faults cleared");
    Json(state.faults.snapshot())
}

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
    let Some(fault) = state.faults.take(&route, req.method()) else {
        return next.run(req).await;
    };
    let kind = fault.kind();
    state.metrics.fault_injected(kind.as_str());
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

fn retry_after(resp: &mut Response, secs: u64) {
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
}

/// A problem document with the fault's status.
fn injected_status(status: u16, route: &str, retry: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = serde_json::json!({
        "type": format!("{PROBLEM_TYPE_PREFIX}{INJECTED_FAULT_SLUG}"),
        "title": "Injected fault",
        "status": code.as_u16(),
        "detail": format!("HTTP {} injected on {route} by the faults configuration", code.as_u16()),
    });
    let mut resp = (code, body.to_string()).into_response();
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
    let (content_type, filename, body) = match route {
        "/ca/root.crt" => (
            "application/pkix-cert",
            "root.crt",
            root.cert_der().to_vec(),
        ),
        "/ca/root.pem" => (
            "application/x-pem-file",
            "root.pem",
            pem_block("CERTIFICATE", root.cert_der()).into_bytes(),
        ),
        _ => {
            return Json(Fingerprint {
                sha1: root.sha1_fingerprint(),
                sha256: root.sha256_fingerprint(),
            })
            .into_response()
        }
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: &str) -> FaultSet {
        serde_json::from_str(json).expect("a fault set")
    }

    #[test]
    fn a_counted_fault_applies_that_many_times_then_vanishes() {
        let faults = Faults::from_set(&set(
            r#"{"faults":[{"route":"/issue/{token}/csr","status":503,"times":2}]}"#,
        ))
        .expect("valid");
        let csr = "/issue/{token}/csr";
        assert!(faults.take(csr, &Method::POST).is_some());
        assert_eq!(faults.snapshot().faults[0].times, Some(1), "one left");
        assert!(faults.take(csr, &Method::POST).is_some());
        assert!(faults.take(csr, &Method::POST).is_none(), "used up");
        assert!(faults.snapshot().faults.is_empty());
    }

    #[test]
    fn a_fault_matches_only_its_route_and_method() {
        let faults = Faults::from_set(&set(
            r#"{"faults":[{"route":"/issue/{token}/auth","method":"post","status":429}]}"#,
        ))
        .expect("valid");
        assert!(faults.take("/issue/{token}", &Method::GET).is_none());
        assert!(faults.take("/issue/{token}/auth", &Method::GET).is_none());
        assert!(faults.take("/issue/{token}/auth", &Method::POST).is_some());
        assert!(
            faults.take("/issue/{token}/auth", &Method::POST).is_some(),
            "no times: lasts"
        );
    }

    #[test]
    fn maintenance_closes_issuance_and_nothing_else() {
        let faults =
            Faults::from_set(&set(r#"{"faults":[{"kind":"ca_maintenance"}]}"#)).expect("valid");
        assert!(faults.take("/issue/{token}/auth", &Method::POST).is_none());
        assert!(faults.take("/issue/{token}/csr", &Method::POST).is_some());
        assert!(faults
            .take("/issue/{token}/pkcs12", &Method::POST)
            .is_some());
    }

    #[test]
    fn entries_that_make_no_sense_are_refused_with_their_index() {
        for (json, needle) in [
            (
                r#"{"faults":[{"kind":"wrong_root"},{"route":"/x"}]}"#,
                "faults[1]",
            ),
            (
                r#"{"faults":[{"route":"x","status":503}]}"#,
                "route template",
            ),
            (
                r#"{"faults":[{"route":"/x","status":200}]}"#,
                "between 400 and 599",
            ),
            (
                r#"{"faults":[{"kind":"wrong_root","status":503}]}"#,
                "status does not go",
            ),
            (
                r#"{"faults":[{"route":"/admin/clock","status":503}]}"#,
                "admin",
            ),
            (
                r#"{"faults":[{"route":"/x","status":503,"times":0}]}"#,
                "at least 1",
            ),
            (r#"{"faults":[{"kind":"expire_url_now"}]}"#, "enrollment_id"),
        ] {
            let err = Faults::from_set(&set(json)).expect_err(json).to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
