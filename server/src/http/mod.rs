//! The HTTP front end: every route of the three listeners is in the routing
//! tables below. A handler extracts what the request holds, parses it into
//! the service's validated values, calls the service, and renders JSON or a
//! page; it knows nothing of the store, and the service nothing of it.
//!
//! Where things go: a route of the issuance site in `site.rs`, the CA's
//! published files in `ca_files.rs`, the admin API in `admin.rs`, Step 4 in
//! `confirm.rs`; pages in `pages.rs`; the layers every listener shares in
//! `observe.rs`; the fault middleware in `faults.rs`; the OpenAPI documents
//! of the public and admin listeners (`GET /openapi.json`) in `openapi.rs`,
//! where a new route declares its operation.

mod admin;
mod assets;
mod ca_files;
mod confirm;
mod error_pages;
mod extract;
mod faults;
mod observe;
mod ocsp;
mod openapi;
mod pages;
mod problem;
mod respond;
mod site;

pub use extract::{BODY_LIMIT, CSR_BODY_LIMIT};
pub use openapi::{admin_document, public_document};
pub use problem::{AppError, ErrorContext};

use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use webra2_wire::paths::*;
use webra2_wire::{Health, ProblemKind};

/// The public listener: the issuance site and the CA's published files.
pub fn public_router(state: AppState) -> Router {
    let routes = Router::new()
        .route(HOME, get(site::home))
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
        .route(ISSUE, get(site::step1))
        .route(ISSUE_AUTH, post(site::auth))
        .route(
            ISSUE_CSR,
            post(site::csr).layer(DefaultBodyLimit::max(CSR_BODY_LIMIT)),
        )
        .route(ISSUE_PKCS12, post(site::pkcs12))
        .route(ISSUE_CERTIFICATE, get(site::certificate))
        .route(ISSUE_STEP3, get(site::step3))
        .route(STATIC_FILE, get(assets::file))
        .route(ROOT_DER, get(ca_files::root_der))
        .route(ROOT_PEM, get(ca_files::root_pem))
        .route(ROOT_FINGERPRINT, get(ca_files::root_fingerprint))
        .route(CRL, get(ca_files::crl))
        .route(OCSP, post(ocsp::post))
        .route(OCSP_GET, get(ocsp::get))
        .route(OPENAPI, get(openapi::public_openapi));
    let routes = with_faults(routes, state.clone());
    // Outermost, so every problem (fallbacks and body limits too) can become a page.
    let pages = middleware::from_fn_with_state(state.clone(), error_pages::html_errors);
    finish(routes, state)
        .layer(pages)
        .layer(middleware::from_fn(respond::no_store_pages))
}

/// The confirm listener's routes alone, without the shared layers: what
/// [`crate::confirm::serve`] puts behind TLS in tests of the listener itself.
pub fn confirm_routes(state: AppState) -> Router {
    Router::new()
        .route(CONFIRM, get(confirm::confirm))
        .route(STATIC_FILE, get(assets::file))
        .route(HEALTHZ, get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The confirm listener's router with the shared layers: faults, observation,
/// and Japanese error pages for browsers.
pub fn confirm_router(state: AppState) -> Router {
    let routes = with_faults(confirm_routes(state.clone()), state.clone());
    let pages = middleware::from_fn_with_state(state.clone(), error_pages::html_errors);
    observe::observe(routes, state)
        .layer(pages)
        .layer(middleware::from_fn(respond::no_store_pages))
}

/// The admin listener: preparation, outbox, certificates, clock, faults.
pub fn admin_router(state: AppState) -> Router {
    let routes = Router::new()
        .route(ADMIN_ENROLLMENTS, post(admin::prepare))
        .route(ADMIN_ENROLLMENT, get(admin::enrollment))
        .route(ADMIN_MAILS, get(admin::mails))
        .route(
            ADMIN_CERTIFICATES,
            get(admin::certificates).post(admin::make_certificate),
        )
        .route(ADMIN_CERTIFICATE, get(admin::certificate))
        .route(ADMIN_REVOKE, post(admin::revoke))
        .route(
            ADMIN_CLOCK,
            get(admin::get_clock)
                .put(admin::set_clock)
                .delete(admin::reset_clock),
        )
        .route(
            ADMIN_FAULTS,
            get(admin::get_faults)
                .put(admin::put_faults)
                .delete(admin::delete_faults),
        )
        .route(METRICS, get(admin::metrics))
        .route(OPENAPI, get(openapi::admin_openapi))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_token,
        ))
        // After the token layer, so open: a liveness answer for `--wait`, probes
        // and health checks, which tells nothing but "bound and serving".
        .route(HEALTHZ, get(healthz));
    finish(routes, state)
}

/// The injected-faults middleware on every route of a routing table (public and
/// confirm; never admin, so faults can always be cleared). A route layer, so it
/// sees the matched route template.
fn with_faults<S: Clone + Send + Sync + 'static>(routes: Router<S>, state: AppState) -> Router<S> {
    routes.route_layer(middleware::from_fn_with_state(state, faults::inject))
}

/// Fallbacks and body limit for a routing table, then the shared layers.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    let router = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    observe::observe(router, state)
}

/// What a plain-HTTP listener at its connection cap answers on a connection
/// over it (see [`crate::listener`]): `503 too-many-connections`, then close.
pub fn full_router() -> Router {
    Router::new().fallback(full)
}

async fn full() -> Response {
    let mut resp = AppError::new(
        ProblemKind::TooManyConnections,
        "this listener holds as many connections as it may; try again shortly",
    )
    .into_response();
    let headers = resp.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// `GET /healthz` (every listener; on the admin one without the token).
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// `GET /readyz` (public listener): `200` when the store answers, else
/// `503 store-unavailable`. `/healthz` stays a liveness answer.
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    state.service.ready().await?;
    Ok(Json(Health {
        status: "ready".into(),
    }))
}

async fn not_found() -> AppError {
    AppError::new(ProblemKind::NotFound, "no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        ProblemKind::MethodNotAllowed,
        "method not allowed on this route",
    )
}
