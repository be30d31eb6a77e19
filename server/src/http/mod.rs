//! The HTTP front end: every route of the public and admin listeners is in the
//! two routing tables below. Handlers see validated values and the [`Store`]
//! trait; they know nothing of SQL, and the CA knows nothing of them.
//!
//! [`Store`]: crate::store::Store

mod admin;
mod assets;
mod error_pages;
mod extract;
mod lifecycle;
mod pages;
mod problem;
mod public;

pub(crate) use extract::{admin_json, body as read_body};
pub use problem::AppError;
pub use public::pem_block;

use crate::faults;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use webra2_wire::ProblemKind;

/// The largest CSR body the service reads.
pub const CSR_BODY_LIMIT: usize = 64 * 1024;
/// The largest body any other route reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The public listener: the issuance site and the CA's published files.
pub fn public_router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(public::healthz))
        .route("/issue/{token}", get(public::step1))
        .route("/issue/{token}/auth", post(public::auth))
        .route(
            "/issue/{token}/csr",
            post(public::csr).layer(DefaultBodyLimit::max(CSR_BODY_LIMIT)),
        )
        .route("/issue/{token}/pkcs12", post(lifecycle::pkcs12))
        .route("/issue/{token}/certificate", get(public::certificate))
        .route("/issue/{token}/step3", get(public::step3))
        .route("/static/{file}", get(assets::file))
        .route("/ca/root.crt", get(public::root_der))
        .route("/ca/root.pem", get(public::root_pem))
        .route("/ca/root/fingerprint", get(public::root_fingerprint))
        .route("/ca/crl", get(lifecycle::crl));
    let routes = with_faults(routes, state.clone());
    // Outermost, so every problem (fallbacks and body limits too) can become a page.
    let pages = middleware::from_fn_with_state(state.clone(), error_pages::html_errors);
    finish(routes, state).layer(pages)
}

/// The confirm listener's router (its one route lives in [`crate::confirm`]) with
/// the shared layers: faults, observation, and Japanese error pages for browsers.
pub fn confirm_router(state: AppState) -> Router {
    let routes = with_faults(crate::confirm::router(state.clone()), state.clone());
    let pages = middleware::from_fn_with_state(state.clone(), error_pages::html_errors);
    observe(routes, state).layer(pages)
}

/// The admin listener: preparation, outbox, certificates, clock.
pub fn admin_router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/admin/enrollments", post(admin::prepare))
        .route("/admin/enrollments/{id}", get(admin::enrollment))
        .route("/admin/mails", get(admin::mails))
        .route("/admin/certificates", get(admin::certificates))
        .route("/admin/certificates/{serial}", get(admin::certificate))
        .route("/admin/certificates/{serial}/revoke", post(admin::revoke))
        .route(
            "/admin/clock",
            get(admin::get_clock)
                .put(admin::set_clock)
                .delete(admin::reset_clock),
        )
        .route(
            "/admin/faults",
            get(faults::get_faults)
                .put(faults::put_faults)
                .delete(faults::delete_faults),
        )
        .route("/metrics", get(crate::metrics::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_token,
        ));
    finish(routes, state)
}

/// The injected-faults middleware on every route of a routing table (public and
/// confirm; never admin, so faults can always be cleared). A route layer, so it
/// sees the matched route template.
pub fn with_faults<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    state: AppState,
) -> Router<S> {
    routes.route_layer(middleware::from_fn_with_state(state, faults::inject))
}

/// Fallbacks and body limit for a routing table, then the shared layers.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    let router = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    observe(router, state)
}

/// The layers every listener shares (the confirm listener too): service-clock
/// `Date`, request ids, tracing by route template (never by URI: one-time URLs
/// are secrets).
pub fn observe(router: Router, state: AppState) -> Router {
    router
        .layer(middleware::from_fn_with_state(state.clone(), service_date))
        .layer(middleware::from_fn_with_state(
            state,
            crate::metrics::record,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "-".into());
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned();
            tracing::info_span!("request", method = %req.method(), route, request_id = id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn not_found() -> AppError {
    AppError::new(ProblemKind::NotFound, "no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::new(ProblemKind::BadRequest, "method not allowed on this route")
}

/// Sets `Date` from the service clock, so a client sees the service's "today".
async fn service_date(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if let Some(date) = http_date(state.clock.now()) {
        resp.headers_mut().insert(header::DATE, date);
    }
    resp
}

fn http_date(at: time::OffsetDateTime) -> Option<HeaderValue> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let text = at.to_offset(time::UtcOffset::UTC).format(&fmt).ok()?;
    HeaderValue::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn http_dates_are_imf_fixdate_in_gmt() {
        let v = http_date(datetime!(2027-01-01 09:00 +09:00)).expect("date");
        assert_eq!(v.to_str().expect("ascii"), "Fri, 01 Jan 2027 00:00:00 GMT");
    }
}
