//! Answers that several routes give alike.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// A file download: its media type and the name a browser saves it under.
pub fn download(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
