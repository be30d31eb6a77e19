//! Japanese error pages for browsers, made in one place from the problem
//! document any handler answered.
//!
//! [`AppError`](super::AppError) writes problem+json and puts its
//! [`ProblemKind`] in the response extensions; this middleware turns such a
//! response into an HTML page with the same status when the request asked for
//! a page: `Accept` names `text/html` and no JSON type. API clients (which send
//! `Accept: application/json`, or `*/*` as curl and reqwest do) keep getting
//! the problem document untouched.

use super::extract::wants_json;
use super::pages;
use super::problem::ErrorContext;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use webra2_wire::{EnrollmentState, Kind, ProblemKind, SITE_TITLE_NEW, SITE_TITLE_RENEW};

/// Whether the client asked for a page rather than data.
pub fn wants_html(headers: &HeaderMap) -> bool {
    !wants_json(headers)
        && headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/html"))
}

/// The one-time URL's token in a `/issue/{token}...` path.
fn token_of(path: &str) -> Option<&str> {
    let token = path.strip_prefix("/issue/")?.split('/').next()?;
    (!token.is_empty()).then_some(token)
}

/// Middleware: problem+json → the Japanese error page, for browsers. The
/// problem and its site come with the answer ([`ErrorContext`]); only an
/// error raised outside a handler (a fault, a fallback) names no site, and
/// then the token in the path does.
pub async fn html_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let html = wants_html(req.headers());
    let token = token_of(req.uri().path()).map(str::to_owned);
    let resp = next.run(req).await;
    let Some(kind) = resp
        .extensions()
        .get::<ProblemKind>()
        .copied()
        .filter(|_| html)
    else {
        return resp;
    };
    let context = resp.extensions().get::<ErrorContext>().cloned();
    // The state of the URL is read when the page depends on it: a session
    // asked for on a URL that has issued cannot be had by entering the
    // password again, so such a page says the certificate was issued.
    let needs_state = matches!(
        kind,
        ProblemKind::SessionRequired | ProblemKind::SessionExpired
    );
    let site_known = context.as_ref().and_then(|c| c.site);
    let url_state = match &token {
        Some(t) if kind != ProblemKind::UnknownUrl && (needs_state || site_known.is_none()) => {
            state.service.url_state(t).await
        }
        _ => None,
    };
    let site_kind = site_known.or(url_state.map(|(site, _)| site));
    let shown = match url_state {
        Some((_, EnrollmentState::Issued)) if needs_state => ProblemKind::UrlAlreadyUsed,
        _ => kind,
    };
    let site_title = match site_kind {
        Some(Kind::Renew) => SITE_TITLE_RENEW,
        _ => SITE_TITLE_NEW,
    };
    // Links back to Step 1 only for a token that names an enrollment.
    let link_token = site_kind.and(token.as_deref());
    let problem = context.map(|c| c.problem);
    let page = pages::error(site_title, link_token, Some(shown), problem.as_ref()).into_string();
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Response::from_parts(parts, Body::from(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn browsers_get_pages_and_api_clients_get_problems() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        assert!(wants_html(&accept(chromium)));
        assert!(wants_html(&accept("application/x-pkcs12, text/html")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("text/html, application/problem+json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn the_token_is_the_segment_after_issue() {
        assert_eq!(token_of("/issue/abc_-1/auth"), Some("abc_-1"));
        assert_eq!(token_of("/issue/abc"), Some("abc"));
        assert_eq!(token_of("/issue/"), None);
        assert_eq!(token_of("/ca/root.crt"), None);
    }
}
