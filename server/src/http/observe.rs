//! The layers every listener shares (the confirm listener too): the service
//! clock's `Date`, request ids, metrics and tracing, each by route template
//! (never by URI: one-time URLs are secrets).

use super::AppError;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use webra2_wire::{paths, ProblemKind};

/// Wraps `router` in the shared layers.
pub fn observe(router: Router, state: AppState) -> Router {
    let body_timeout = state.settings.limits().body_timeout;
    // A replica of several first takes the deployment's clock and faults;
    // a service that owns its store skips the layer altogether.
    let router = if state.service.is_replica() {
        router.layer(middleware::from_fn_with_state(state.clone(), sync_controls))
    } else {
        router
    };
    router
        // Innermost: a panic that slipped through becomes a logged `500
        // internal` problem that every outer layer sees, never a closed connection.
        .layer(CatchPanicLayer::custom(panicked))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(middleware::from_fn_with_state(state.clone(), service_date))
        .layer(middleware::from_fn_with_state(state, record))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
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
                })
                // One line a request at info, inside the span: its fields (the caller's
                // `x-request-id` among them) land in the log, as `span.request_id` in JSON.
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Brings the clock and faults to the deployment's before the request (not
/// before the liveness and readiness answers, which must not wait on the store).
async fn sync_controls(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != paths::HEALTHZ && path != paths::READYZ {
        if let Err(e) = state.service.sync_controls().await {
            return AppError::from(e).into_response();
        }
    }
    next.run(req).await
}

/// Counts every request in the metrics registry: by route template, its
/// latency, and the problem it answered with.
async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    // Latency is a duration on the monotonic clock, not an instant of the
    // service clock (which tests may stop).
    let started = Instant::now();
    let resp = next.run(req).await;
    let problem = resp.extensions().get::<ProblemKind>().copied();
    state.service.metrics().request(
        &route,
        method.as_str(),
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
        problem,
    );
    resp
}

/// Sets `Date` from the service clock, so a client sees the service's "today".
async fn service_date(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if let Some(date) = http_date(state.service.clock().now()) {
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

/// The answer to a handler that panicked: logged with its message (our own
/// code's words, never a request's content), answered as `500 internal`.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    tracing::error!(panic = %message, "a handler panicked; answered 500 internal");
    crate::http::AppError::new(ProblemKind::Internal, "internal error").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn a_handler_that_panics_answers_500_internal_as_a_problem() {
        use axum::body::Body;
        use axum::http::StatusCode;
        use tower::ServiceExt;
        let app = crate::Application::build(crate::Settings::for_tests())
            .await
            .expect("app");
        #[allow(clippy::panic)]
        let routes = Router::new().route(
            "/boom",
            axum::routing::get(|| async {
                if true {
                    panic!("a bug, not a request's content");
                }
                "unreachable"
            }),
        );
        let resp = observe(routes, app.state().clone())
            .oneshot(Request::get("/boom").body(Body::empty()).expect("request"))
            .await
            .expect("an answer, not a closed connection");
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        let body = axum::body::to_bytes(resp.into_body(), 4096)
            .await
            .expect("body");
        let problem: webra2_wire::Problem = serde_json::from_slice(&body).expect("a problem");
        assert_eq!(problem.type_uri, ProblemKind::Internal.type_uri());
        assert!(!problem.detail.contains("a bug"), "{}", problem.detail);
    }

    #[test]
    fn http_dates_are_imf_fixdate_in_gmt() {
        let v = http_date(datetime!(2027-01-01 09:00 +09:00)).expect("date");
        assert_eq!(v.to_str().expect("ascii"), "Fri, 01 Jan 2027 00:00:00 GMT");
    }
}
