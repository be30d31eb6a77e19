//! The admin listener's handlers: preparation, outbox, certificates, clock.

use super::extract;
use super::AppError;
use crate::mail;
use crate::secrets;
use crate::state::AppState;
use crate::store::{CertificateRecord, EnrollmentRecord, MailRecord, NewEnrollment, RevokeOutcome};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use webra2_wire::{
    in_jst, CertStatus, CertificateView, ClockView, EnrollmentCreated, EnrollmentView, Kind, Mail,
    PrepareEnrollment, ProblemKind, SetClock,
};

/// Demands `Authorization: Bearer <admin token>` when a token is configured.
pub async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if let Some(expected) = &state.settings.admin_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(AppError::new(
                ProblemKind::Unauthorized,
                "the admin API needs Authorization: Bearer <admin token>",
            ));
        }
    }
    Ok(next.run(req).await)
}

fn bad(detail: impl Into<String>) -> AppError {
    AppError::new(ProblemKind::BadRequest, detail)
}

/// The checks a preparation must pass before anything is stored.
fn validate(req: &PrepareEnrollment) -> Result<(), AppError> {
    let id_ok = !req.user_id.is_empty()
        && req.user_id.len() <= 64
        && req
            .user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    if !id_ok {
        return Err(bad(
            "user_id must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -",
        ));
    }
    let email_ok = req.email.len() <= 254
        && req
            .email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !req
            .email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if !email_ok {
        return Err(bad("email must be a plain address like user@example.test"));
    }
    if req.auth_password.is_empty() || req.auth_password.chars().count() > 128 {
        return Err(bad("auth_password must be 1 to 128 characters"));
    }
    if let Some(days) = req.url_valid_days {
        if !(1..=365).contains(&days) {
            return Err(bad("url_valid_days must be between 1 and 365"));
        }
    }
    Ok(())
}

/// `POST /admin/enrollments`: prepares an issuance and mails its one-time URL.
pub async fn prepare(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = extract::body(body)?;
    let req: PrepareEnrollment = extract::admin_json(&headers, &body)?;
    validate(&req)?;
    let now = state.clock.now();

    let renews_serial = match req.kind {
        Kind::New if req.revoke_previous => {
            return Err(bad(
                "revoke_previous applies to a renewal (kind renew) only",
            ))
        }
        Kind::New => None,
        Kind::Renew => {
            let held = state.store.certificates(Some(&req.user_id)).await?;
            let current = held
                .iter()
                .find(|c| c.revoked_at.is_none() && c.not_after > now)
                .ok_or_else(|| {
                    AppError::new(
                        ProblemKind::NothingToRenew,
                        format!("{} holds no valid certificate to renew", req.user_id),
                    )
                })?;
            Some(current.serial.clone())
        }
    };

    // Whole seconds: that is what the store and the certificate keep.
    let mail_sent_at = req
        .mail_sent_at
        .unwrap_or(now)
        .replace_nanosecond(0)
        .map_err(AppError::internal)?;
    let days = req.url_valid_days.unwrap_or(state.settings.url_valid_days);
    let url_expires_at = mail_sent_at + Duration::days(i64::from(days));
    let password = req.auth_password.clone();
    let password_hash = tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;

    let id = secrets::new_id();
    let token = secrets::new_token();
    let one_time_url = format!("{}/issue/{token}", state.public_url);
    let (subject, body) = mail::compose(
        req.kind,
        &req.user_id,
        &one_time_url,
        url_expires_at,
        renews_serial.as_deref(),
    );
    let enrollment = NewEnrollment {
        id: id.clone(),
        token,
        user_id: req.user_id.clone(),
        email: req.email.clone(),
        kind: req.kind,
        password_hash,
        mail_sent_at,
        url_expires_at,
        renews_serial,
        revoke_previous: req.revoke_previous,
        created_at: now,
    };
    let mail = MailRecord {
        id: secrets::new_id(),
        enrollment_id: id.clone(),
        to: req.email.clone(),
        subject,
        body,
        one_time_url: one_time_url.clone(),
        sent_at: mail_sent_at,
    };
    state.store.create_enrollment(&enrollment, &mail).await?;
    // Recorded first: the outbox has it whatever SMTP does.
    crate::smtp::deliver(&state, mail);
    tracing::info!(enrollment = %id, user_id = %req.user_id, kind = req.kind.as_str(), "enrollment prepared and mailed");
    let created = EnrollmentCreated {
        enrollment_id: id,
        one_time_url,
        kind: req.kind,
        mail_sent_at: in_jst(mail_sent_at),
        url_expires_at: in_jst(url_expires_at),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

fn enrollment_view(e: &EnrollmentRecord, now: OffsetDateTime) -> EnrollmentView {
    EnrollmentView {
        enrollment_id: e.id.clone(),
        user_id: e.user_id.clone(),
        kind: e.kind,
        state: e.state_at(now),
        mail_sent_at: in_jst(e.mail_sent_at),
        url_expires_at: in_jst(e.url_expires_at),
        serial: e.serial.clone(),
        renews_serial: e.renews_serial.clone(),
        revoke_previous: e.revoke_previous,
    }
}

/// `GET /admin/enrollments/{id}`.
pub async fn enrollment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EnrollmentView>, AppError> {
    let e = state
        .store
        .enrollment(&id)
        .await?
        .ok_or_else(|| AppError::new(ProblemKind::NotFound, format!("no enrollment {id}")))?;
    Ok(Json(enrollment_view(&e, state.clock.now())))
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
    let mails = state.store.mails(q.to.as_deref()).await?;
    Ok(Json(
        mails
            .into_iter()
            .map(|m| Mail {
                id: m.id,
                to: m.to,
                subject: m.subject,
                body: m.body,
                one_time_url: m.one_time_url,
                sent_at: in_jst(m.sent_at),
            })
            .collect(),
    ))
}

fn certificate_view(c: &CertificateRecord, now: OffsetDateTime) -> CertificateView {
    let status = if c.revoked_at.is_some() {
        CertStatus::Revoked
    } else if now >= c.not_after {
        CertStatus::Expired
    } else {
        CertStatus::Valid
    };
    CertificateView {
        serial: c.serial.clone(),
        user_id: c.user_id.clone(),
        enrollment_id: c.enrollment_id.clone(),
        not_before: in_jst(c.not_before),
        not_after: in_jst(c.not_after),
        status,
        revoked_at: c.revoked_at.map(in_jst),
        reason: c.reason.clone(),
    }
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
    let now = state.clock.now();
    let certs = state.store.certificates(q.user_id.as_deref()).await?;
    Ok(Json(
        certs.iter().map(|c| certificate_view(c, now)).collect(),
    ))
}

fn normalise_serial(serial: &str) -> String {
    serial.replace(':', "").to_ascii_uppercase()
}

/// `GET /admin/certificates/{serial}`.
pub async fn certificate(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Json<CertificateView>, AppError> {
    let serial = normalise_serial(&serial);
    let c =
        state.store.certificate(&serial).await?.ok_or_else(|| {
            AppError::new(ProblemKind::NotFound, format!("no certificate {serial}"))
        })?;
    Ok(Json(certificate_view(&c, state.clock.now())))
}

/// `POST /admin/certificates/{serial}/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /admin/certificates/{serial}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CertificateView>, AppError> {
    let body = extract::body(body)?;
    let req: RevokeRequest = if body.is_empty() {
        RevokeRequest { reason: None }
    } else {
        extract::admin_json(&headers, &body)?
    };
    let reason = req.reason.unwrap_or_else(|| "unspecified".into());
    if !webra2_ca::REVOCATION_REASONS.contains(&reason.as_str()) {
        return Err(bad(format!(
            "reason must be one of {}",
            webra2_ca::REVOCATION_REASONS.join(", ")
        )));
    }
    let serial = normalise_serial(&serial);
    let now = state.clock.now();
    match state.store.revoke(&serial, now, &reason).await? {
        RevokeOutcome::Revoked => {
            tracing::info!(%serial, %reason, "certificate revoked");
            super::lifecycle::refresh_crl_after_revocation(&state).await;
        }
        RevokeOutcome::AlreadyRevoked => {
            return Err(AppError::new(
                ProblemKind::AlreadyRevoked,
                format!("certificate {serial} is already revoked"),
            ))
        }
        RevokeOutcome::NotFound => {
            return Err(AppError::new(
                ProblemKind::NotFound,
                format!("no certificate {serial}"),
            ))
        }
    }
    let c = state
        .store
        .certificate(&serial)
        .await?
        .ok_or_else(|| AppError::internal("revoked certificate vanished"))?;
    Ok(Json(certificate_view(&c, now)))
}

fn clock_view(state: &AppState) -> Json<ClockView> {
    Json(ClockView {
        now: in_jst(state.clock.now()),
        mode: state.clock.mode_name().into(),
    })
}

/// `GET /admin/clock`.
pub async fn get_clock(State(state): State<AppState>) -> Json<ClockView> {
    clock_view(&state)
}

/// `PUT /admin/clock`: fixes the service clock (or sets it running from an instant).
pub async fn set_clock(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ClockView>, AppError> {
    let body = extract::body(body)?;
    let req: SetClock = extract::admin_json(&headers, &body)?;
    if req.running {
        state.clock.set_running_from(req.now);
    } else {
        state.clock.set_fixed(req.now);
    }
    tracing::info!(now = %req.now, running = req.running, "service clock set");
    Ok(clock_view(&state))
}

/// `DELETE /admin/clock`: back to real time.
pub async fn reset_clock(State(state): State<AppState>) -> Json<ClockView> {
    state.clock.reset();
    tracing::info!("service clock back to real time");
    clock_view(&state)
}
