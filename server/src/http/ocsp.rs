//! The OCSP responder on the public listener (RFC 6960 appendix A): the
//! request's DER as a POST body or base64 in a GET path, the response's DER
//! back, always `200 application/ocsp-response` (an OCSP error is an OCSP
//! response status, never an HTTP one).

use crate::service::OcspFault;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::Engine;

/// The response media type (RFC 6960 appendix A.2).
pub const OCSP_RESPONSE: &str = "application/ocsp-response";

/// `POST /ocsp`: the DER request is the body.
pub async fn post(
    State(state): State<AppState>,
    fault: Option<Extension<OcspFault>>,
    body: Bytes,
) -> Response {
    let der = state.service.ocsp(&body, fault.map(|f| f.0)).await;
    ocsp_response(der)
}

/// `GET /ocsp/{request}`: the DER request in base64 (standard or URL-safe,
/// padded or not, percent-encoded or not) in the path.
pub async fn get(
    State(state): State<AppState>,
    fault: Option<Extension<OcspFault>>,
    request: Result<Path<String>, PathRejection>,
) -> Response {
    // Undecodable base64 goes to the service as no bytes: malformedRequest.
    let der = request
        .ok()
        .and_then(|Path(b64)| decode_base64(&b64))
        .unwrap_or_default();
    ocsp_response(state.service.ocsp(&der, fault.map(|f| f.0)).await)
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
    let text = text.trim_matches('/');
    // Unpadded standard base64 too: some clients drop the '='.
    let standard_no_pad = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    [&STANDARD, &standard_no_pad, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

fn ocsp_response(der: Vec<u8>) -> Response {
    let mut resp = der.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(OCSP_RESPONSE),
    );
    // The mock's answers change with every revocation and clock move.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
