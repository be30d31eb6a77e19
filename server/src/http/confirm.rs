//! The confirm listener's routes (Step 4): `GET /confirm` answers JSON to
//! `Accept: application/json` and the Japanese page otherwise. The TLS
//! listener that verifies the certificate and hands it over is `crate::confirm`.

use super::extract::wants_json;
use super::pages;
use super::problem::AppError;
use crate::confirm::PeerCertificate;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use webra2_wire::ProblemKind;

/// `GET /confirm`.
pub async fn confirm(
    State(state): State<AppState>,
    peer: Option<Extension<PeerCertificate>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(Extension(PeerCertificate(der))) = peer else {
        return Err(AppError::new(
            ProblemKind::CertificateRequired,
            "this page needs the client certificate issued to you; \
             install it and present it when the browser asks",
        ));
    };
    let confirmation = state.service.confirm(&der).await?;
    let mut response = if wants_json(&headers) {
        Json(confirmation).into_response()
    } else {
        let site = format!("{}{}", state.service.public_url(), webra2_wire::paths::HOME);
        Html(pages::confirmation(&confirmation, &site).into_string()).into_response()
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}
