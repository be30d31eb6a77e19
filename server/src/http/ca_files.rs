//! The CA's published files on the public listener: the root (DER, PEM and
//! its fingerprints) and the CRL.

use super::problem::AppError;
use super::respond::download;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use webra2_wire::Fingerprint;

/// `GET /ca/root.crt`: the root, DER.
pub async fn root_der(State(state): State<AppState>) -> Response {
    let root = state.service.ca().root();
    download(
        "application/pkix-cert",
        "root.crt",
        root.cert_der().to_vec(),
    )
}

/// `GET /ca/root.pem`: the root, PEM.
pub async fn root_pem(State(state): State<AppState>) -> Response {
    let root = state.service.ca().root();
    download(
        "application/x-pem-file",
        "root.pem",
        root.cert_pem().into_bytes(),
    )
}

/// `GET /ca/root/fingerprint`.
pub async fn root_fingerprint(State(state): State<AppState>) -> Json<Fingerprint> {
    Json(state.service.root_fingerprint())
}

/// `GET /ca/crl`: the current CRL, DER, signed by the root.
pub async fn crl(State(state): State<AppState>) -> Result<Response, AppError> {
    let der = state.service.crl().await?;
    Ok(download("application/pkix-crl", "root.crl", der))
}
