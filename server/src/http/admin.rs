//! The admin listener's handlers: preparation, outbox, certificates, clock
//! and faults. Each extracts, calls the service, and answers JSON.

use super::extract::{bearer, wants_json, AdminJson, OptionalAdminJson, Param, Query};
use super::problem::AppError;
use crate::service::{FactoryOrder, Preparation, Reason, Serial, ServiceInstant};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use webra2_wire::{
    CertificateView, ClockView, CreateCertificate, CreatedCertificate, EnrollmentView, FaultSet,
    Mail, PrepareEnrollment, ProblemKind, RevokeRequest, SetClock,
};

/// Demands `Authorization: Bearer <admin token>` when a token is configured.
pub async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if let Some(expected) = &state.settings.admin_token {
        let given = bearer(req.headers()).unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(AppError::new(
                ProblemKind::Unauthorized,
                "the admin API needs Authorization: Bearer <admin token>",
            ));
        }
    }
    Ok(next.run(req).await)
}

/// `POST /admin/enrollments`: prepares an issuance and mails its one-time URL.
pub async fn prepare(
    State(state): State<AppState>,
    AdminJson(req): AdminJson<PrepareEnrollment>,
) -> Result<Response, AppError> {
    let preparation = Preparation::parse(&req)?;
    let created = state.service.prepare(preparation).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /admin/enrollments/{id}`.
pub async fn enrollment(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<EnrollmentView>, AppError> {
    Ok(Json(state.service.enrollment_view(&id).await?))
}

/// `?to=` of the outbox.
#[derive(Debug, Deserialize)]
pub struct MailQuery {
    to: Option<String>,
}

/// `GET /admin/mails`: the outbox, newest first.
pub async fn mails(
    State(state): State<AppState>,
    Query(q): Query<MailQuery>,
) -> Result<Json<Vec<Mail>>, AppError> {
    Ok(Json(state.service.mails(q.to.as_deref()).await?))
}

/// `?user_id=` of the certificate list.
#[derive(Debug, Deserialize)]
pub struct CertQuery {
    user_id: Option<String>,
}

/// `GET /admin/certificates`: what was issued, newest first.
pub async fn certificates(
    State(state): State<AppState>,
    Query(q): Query<CertQuery>,
) -> Result<Json<Vec<CertificateView>>, AppError> {
    Ok(Json(
        state.service.certificates(q.user_id.as_deref()).await?,
    ))
}

/// `POST /admin/certificates`: a certificate made to order. `201` with the
/// PKCS#12 under the PIN, or with `Accept: application/json` the certificate
/// and the PIN-encrypted PKCS#8 key as PEM.
pub async fn make_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    AdminJson(req): AdminJson<CreateCertificate>,
) -> Result<Response, AppError> {
    let order = FactoryOrder::parse(&req, &state.service.pin_rule())?;
    let made = state.service.make_certificate(order).await?;
    if wants_json(&headers) {
        let body = CreatedCertificate {
            serial: made.serial,
            certificate_pem: webra2_wire::pem_encode("CERTIFICATE", &made.cert_der),
            key_pem: made.key_pem,
            not_before: webra2_wire::in_jst(made.not_before),
            not_after: webra2_wire::in_jst(made.not_after),
            status: made.status,
        };
        return Ok((StatusCode::CREATED, Json(body)).into_response());
    }
    let mut resp = super::respond::download(
        "application/x-pkcs12",
        &format!("{}.p12", made.user_id),
        made.pkcs12,
    );
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `GET /admin/certificates/{serial}`.
pub async fn certificate(
    State(state): State<AppState>,
    Param(serial): Param,
) -> Result<Json<CertificateView>, AppError> {
    let serial = Serial::parse(&serial)?;
    Ok(Json(state.service.certificate(&serial).await?))
}

/// `POST /admin/certificates/{serial}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Param(serial): Param,
    OptionalAdminJson(req): OptionalAdminJson<RevokeRequest>,
) -> Result<Json<CertificateView>, AppError> {
    let reason = Reason::parse(req.unwrap_or_default().reason.as_deref())?;
    let serial = Serial::parse(&serial)?;
    Ok(Json(state.service.revoke(&serial, &reason).await?))
}

/// `GET /admin/clock`.
pub async fn get_clock(State(state): State<AppState>) -> Json<ClockView> {
    Json(state.service.clock_view())
}

/// `PUT /admin/clock`: fixes the service clock (or sets it running from an instant).
pub async fn set_clock(
    State(state): State<AppState>,
    AdminJson(req): AdminJson<SetClock>,
) -> Result<Json<ClockView>, AppError> {
    let now = ServiceInstant::parse(req.now, "now")?;
    Ok(Json(state.service.set_clock(now, req.running).await?))
}

/// `DELETE /admin/clock`: back to real time.
pub async fn reset_clock(State(state): State<AppState>) -> Result<Json<ClockView>, AppError> {
    Ok(Json(state.service.reset_clock().await?))
}

/// `GET /admin/faults`: the active faults.
pub async fn get_faults(State(state): State<AppState>) -> Json<FaultSet> {
    Json(state.service.faults().snapshot())
}

/// `PUT /admin/faults`: replaces the active faults.
pub async fn put_faults(
    State(state): State<AppState>,
    AdminJson(set): AdminJson<FaultSet>,
) -> Result<Json<FaultSet>, AppError> {
    Ok(Json(state.service.put_faults(&set).await?))
}

/// `DELETE /admin/faults`: clears every fault.
pub async fn delete_faults(State(state): State<AppState>) -> Result<Json<FaultSet>, AppError> {
    Ok(Json(state.service.clear_faults().await?))
}

/// `GET /metrics`: the registry in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut resp = state.service.metrics().render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    resp
}
