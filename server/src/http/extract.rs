//! Request parsing that keeps every rejection in the contract's problem format.
//!
//! The admin API takes its bodies through one extractor, [`AdminJson`]. The
//! site's routes read their body only after the service has opened the
//! one-time URL (an unknown or used URL is that, whatever the body), so they
//! take the raw bytes and parse them here with [`body`] and [`json_or_form`].

use super::problem::AppError;
use crate::service::{OneTimeToken, ServiceError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use webra2_wire::ProblemKind;

/// The largest CSR body the service reads.
pub const CSR_BODY_LIMIT: usize = 64 * 1024;
/// The largest body any other route reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Whether the client asked for JSON rather than a page (any `Accept` value
/// naming a JSON media type).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| accept.contains("json"))
}

/// A JSON body of the admin API; every rejection (size, media type, syntax,
/// unknown field) is a problem document. [`OptionalAdminJson`] for a body
/// that may be left out.
#[derive(Debug)]
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let headers = req.headers().clone();
        let bytes = body(Bytes::from_request(req, state).await)?;
        admin_json(&headers, &bytes).map(AdminJson)
    }
}

/// A JSON body of the admin API that may be left out: `None` for an empty body
/// (or `null`).
#[derive(Debug)]
pub struct OptionalAdminJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalAdminJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let headers = req.headers().clone();
        let bytes = body(Bytes::from_request(req, state).await)?;
        // Nothing, or JSON `null`, is a body left out.
        if bytes.is_empty() || bytes.trim_ascii() == b"null" {
            return Ok(Self(None));
        }
        admin_json(&headers, &bytes).map(|v| Self(Some(v)))
    }
}

/// The one-time URL's token in the path. A path that cannot hold one of ours
/// (not UTF-8, not the token's alphabet) is an unknown URL.
#[derive(Debug)]
pub struct Token(pub OneTimeToken);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let raw = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::from(ServiceError::UnknownUrl))?;
        Ok(Self(OneTimeToken::parse(&raw.0)?))
    }
}

/// A path parameter; one that cannot be read (not UTF-8) is a problem document.
#[derive(Debug)]
pub struct Param(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Param {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| AppError::new(ProblemKind::NotFound, format!("no such resource: {e}")))
    }
}

/// A query string; one that cannot be read is a problem document.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| AppError::new(ProblemKind::BadRequest, e.body_text()))
    }
}

/// The body's media type, lower-cased, without parameters.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The body, or the contract's answer to a body that could not be read.
pub fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                ProblemKind::PayloadTooLarge,
                format!(
                    "the body is over this route's limit of {} KiB",
                    CSR_BODY_LIMIT / 1024
                ),
            )
        } else if timed_out(&rejection) {
            AppError::new(
                ProblemKind::BadRequest,
                "the request body stopped arriving: the rest was not sent in time",
            )
        } else {
            AppError::new(ProblemKind::BadRequest, rejection.body_text())
        }
    })
}

/// Whether the body failed because the client stopped sending it
/// (`RequestBodyTimeoutLayer`, see `observe.rs`).
fn timed_out(rejection: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// A JSON body (any `*json` media type) or, for browsers, a form body.
pub fn json_or_form<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, AppError> {
    let media = media_type(headers);
    if media == "application/x-www-form-urlencoded" {
        serde_urlencoded_from(body)
    } else if media.is_empty() || media.ends_with("json") {
        json_object(body)
    } else {
        Err(AppError::new(
            ProblemKind::UnsupportedMediaType,
            format!("{media} is not accepted here: send application/json or a form"),
        ))
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::new(ProblemKind::BadRequest, format!("invalid form body: {e}")))
}

/// A JSON body for the admin API: `application/json` only, rejections as problems.
pub fn admin_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, AppError> {
    let media = media_type(headers);
    if !(media.is_empty() || media.ends_with("json")) {
        return Err(AppError::new(
            ProblemKind::UnsupportedMediaType,
            format!("{media} is not accepted here: send application/json"),
        ));
    }
    json_object(body)
}

/// A JSON object of the expected shape. Only an object: serde would also
/// take a struct's fields from an array in order, which no client means.
fn json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(AppError::new(
            ProblemKind::BadRequest,
            "invalid JSON body: it must be a JSON object ({...})",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::new(ProblemKind::BadRequest, format!("invalid JSON body: {e}")))
}

/// The credentials of `Authorization: Bearer <credentials>` (the scheme in any case).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// The session token a request presents: `Authorization: Bearer` or the cookie.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = bearer(headers) {
        return Some(bearer.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "webra2_session";

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_comes_from_bearer_or_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(session_token(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; webra2_session=XYZ"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("XYZ"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer ABC"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("ABC"));
    }

    #[test]
    fn forms_and_json_both_parse_and_other_media_is_refused() {
        #[derive(Debug, serde::Deserialize)]
        struct Pw {
            auth_password: String,
        }
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let p: Pw = json_or_form(&h, b"auth_password=a%20b").expect("form");
        assert_eq!(p.auth_password, "a b");
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let p: Pw = json_or_form(&h, br#"{"auth_password":"x"}"#).expect("json");
        assert_eq!(p.auth_password, "x");
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        let err = json_or_form::<Pw>(&h, b"<x/>").expect_err("refused");
        assert_eq!(err.kind(), Some(ProblemKind::UnsupportedMediaType));
    }

    #[test]
    fn a_json_array_is_not_taken_for_an_object() {
        #[derive(Debug, serde::Deserialize)]
        struct Pin {
            #[allow(dead_code)]
            pin: String,
        }
        let h = HeaderMap::new();
        for body in [&br#"["1234abcd"]"#[..], b" [] ", b"\"x\"", b"7"] {
            let err = json_or_form::<Pin>(&h, body).expect_err("not an object");
            assert_eq!(err.kind(), Some(ProblemKind::BadRequest));
            let err = admin_json::<Pin>(&h, body).expect_err("not an object");
            assert_eq!(err.kind(), Some(ProblemKind::BadRequest));
        }
        assert!(admin_json::<Pin>(&h, br#" {"pin":"1234abcd"}"#).is_ok());
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for value in ["Bearer T1", "bearer T1", "BEARER  T1"] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer(&h), Some("T1"), "{value}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic T1"));
        assert_eq!(bearer(&h), None);
    }
}
