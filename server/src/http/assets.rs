//! The pages' script and style sheet, compiled into the binary and served by
//! the mock itself: the issuance site loads nothing from outside.

use super::extract::Param;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use webra2_wire::ProblemKind;

use super::problem::AppError;

/// Every file under `/static/`: name, media type, bytes.
const FILES: [(&str, &str, &str); 4] = [
    (
        "site.css",
        "text/css; charset=utf-8",
        include_str!("../../static/site.css"),
    ),
    (
        "webra2-crypto.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/webra2-crypto.js"),
    ),
    (
        "site.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/site.js"),
    ),
    (
        "enroll.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/enroll.js"),
    ),
];

/// `GET /static/{file}`.
pub async fn file(Param(name): Param) -> Result<Response, AppError> {
    let (_, media, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| AppError::new(ProblemKind::NotFound, "no such file"))?;
    let mut resp = (*body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    // The files change only with the binary; a short cache keeps test runs honest.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    Ok(resp)
}
