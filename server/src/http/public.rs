//! The public listener's handlers: Steps 1–3 of the issuance site and the CA's
//! published files. Each answers JSON to `Accept: application/json` and a page
//! otherwise.

use super::extract::{self, wants_json, SESSION_COOKIE};
use super::{pages, AppError};
use crate::secrets;
use crate::state::AppState;
use crate::store::{AuthFailure, CertificateRecord, EnrollmentRecord, SessionRecord};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use time::Duration;
use webra2_ca::{parse_csr, CsrError, IssueRequest};
use webra2_wire::{
    in_jst, AuthRequest, AuthResponse, EnrollmentState, Fingerprint, Health, Issued, Kind,
    ProblemKind, SiteInfo, SITE_TITLE_NEW, SITE_TITLE_RENEW,
};

/// `GET /healthz`.
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

fn site_title(kind: Kind) -> &'static str {
    match kind {
        Kind::New => SITE_TITLE_NEW,
        Kind::Renew => SITE_TITLE_RENEW,
    }
}

/// The enrollment behind a token, if it can still be used at the service's now.
pub(super) async fn open_enrollment(
    state: &AppState,
    token: &str,
) -> Result<EnrollmentRecord, AppError> {
    let enrollment = known_enrollment(state, token).await?;
    check_open(&enrollment, state.clock.now())?;
    Ok(enrollment)
}

/// Tokens are URL-safe base64; anything else cannot be one of ours.
fn check_token_shape(token: &str) -> Result<(), AppError> {
    if token.is_empty()
        || token.len() > 128
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(unknown_url());
    }
    Ok(())
}

async fn known_enrollment(state: &AppState, token: &str) -> Result<EnrollmentRecord, AppError> {
    check_token_shape(token)?;
    state
        .store
        .enrollment_by_token(token)
        .await?
        .ok_or_else(unknown_url)
}

fn unknown_url() -> AppError {
    AppError::new(
        ProblemKind::UnknownUrl,
        "this one-time URL is not known: check the URL in the mail",
    )
}

fn check_open(enrollment: &EnrollmentRecord, now: time::OffsetDateTime) -> Result<(), AppError> {
    match enrollment.state_at(now) {
        EnrollmentState::Pending | EnrollmentState::Authenticated => Ok(()),
        other => Err(closed(other)),
    }
}

fn closed(state: EnrollmentState) -> AppError {
    match state {
        EnrollmentState::Issued => AppError::new(
            ProblemKind::UrlAlreadyUsed,
            "this one-time URL has already issued its certificate; ask the administrator for a new issuance",
        ),
        EnrollmentState::Locked => AppError::new(
            ProblemKind::Locked,
            "too many wrong auth passwords: this one-time URL is locked; ask the administrator for a new issuance",
        ),
        _ => AppError::new(
            ProblemKind::UrlExpired,
            "this one-time URL has expired; ask the administrator for a new issuance",
        ),
    }
}

/// `GET /issue/{token}`: Step 1.
pub async fn step1(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let enrollment = open_enrollment(&state, &token).await?;
    let title = site_title(enrollment.kind);
    if wants_json(&headers) {
        return Ok(Json(SiteInfo {
            site_title: title.into(),
            kind: enrollment.kind,
            step: 1,
        })
        .into_response());
    }
    Ok(Html(pages::step1(title, &token, None).into_string()).into_response())
}

/// The session presented, checked against this enrollment and the clock.
pub(super) async fn session_for(
    state: &AppState,
    headers: &HeaderMap,
    enrollment: &EnrollmentRecord,
) -> Result<SessionRecord, AppError> {
    let token = extract::session_token(headers).ok_or_else(|| {
        AppError::new(
            ProblemKind::SessionRequired,
            "this step needs the session from Step 1: enter the auth password first",
        )
    })?;
    let expired = || {
        AppError::new(
            ProblemKind::SessionExpired,
            "the session is unknown or has expired: enter the auth password again",
        )
    };
    let session = state
        .store
        .session(&secrets::token_hash(&token))
        .await?
        .ok_or_else(expired)?;
    if session.enrollment_id != enrollment.id || state.clock.now() >= session.expires_at {
        return Err(expired());
    }
    Ok(session)
}

/// `POST /issue/{token}/auth`: Step 1, the auth password.
pub async fn auth(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let enrollment = open_enrollment(&state, &token).await?;
    let json = wants_json(&headers);
    let body = extract::body(body)?;
    let req: AuthRequest = extract::json_or_form(&headers, &body)?;
    if req.auth_password.len() > 1024 {
        return Err(AppError::new(
            ProblemKind::BadRequest,
            "the auth password is too long",
        ));
    }

    let phc = enrollment.password_hash.clone();
    let password = req.auth_password;
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &phc))
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now();
    if !ok {
        return match state
            .store
            .record_failed_auth(&enrollment.id, state.settings.lock_after, now)
            .await?
        {
            AuthFailure::Counted(n) => {
                let remaining = state.settings.lock_after.saturating_sub(n);
                tracing::info!(enrollment = %enrollment.id, remaining, "wrong auth password");
                // Browsers get the Step 1 form again from the error-page layer.
                Err(AppError::wrong_password(remaining))
            }
            AuthFailure::Locked => {
                tracing::warn!(enrollment = %enrollment.id, "one-time URL locked after wrong passwords");
                Err(closed(EnrollmentState::Locked))
            }
            AuthFailure::NotOpen => Err(reread_closed(&state, &enrollment.id).await),
        };
    }

    let session_token = secrets::new_token();
    let expires_at = now + Duration::minutes(state.settings.session_minutes);
    let session = SessionRecord {
        token_hash: secrets::token_hash(&session_token),
        enrollment_id: enrollment.id.clone(),
        created_at: now,
        expires_at,
    };
    if !state.store.record_successful_auth(&session, now).await? {
        return Err(reread_closed(&state, &enrollment.id).await);
    }
    tracing::info!(enrollment = %enrollment.id, "auth password accepted");
    let profile = state.ca.profile();
    let answer = AuthResponse {
        session: session_token.clone(),
        csp: profile.site_csp.clone(),
        key_length: profile.site_key_length,
        accepted_keys: profile
            .accepted_keys()
            .iter()
            .map(|k| k.to_string())
            .collect(),
        session_expires_at: Some(in_jst(expires_at)),
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session_token}; Path=/issue/{token}; Max-Age={}; HttpOnly; SameSite=Strict",
        state.settings.session_minutes * 60
    );
    let mut resp = if json {
        Json(answer).into_response()
    } else {
        Html(pages::step2(site_title(enrollment.kind), &token, &answer).into_string())
            .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Why an enrollment that was open a moment ago is not any more.
pub(super) async fn reread_closed(state: &AppState, id: &str) -> AppError {
    match state.store.enrollment(id).await {
        Ok(Some(e)) => closed(e.state_at(state.clock.now())),
        Ok(None) => unknown_url(),
        Err(e) => e.into(),
    }
}

/// The PKCS#10 bytes of a CSR body, by its media type.
fn csr_bytes(headers: &HeaderMap, body: &Bytes) -> Result<Vec<u8>, AppError> {
    #[derive(Deserialize)]
    struct CsrForm {
        csr: String,
    }
    match extract::media_type(headers).as_str() {
        "application/x-pem-file" | "text/plain" | "application/pkcs10" | "application/octet-stream" => {
            Ok(body.to_vec())
        }
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes::<CsrForm>(body)
            .map(|f| f.csr.into_bytes())
            .map_err(|e| AppError::new(ProblemKind::BadCsr, format!("invalid form body: {e}"))),
        other => Err(AppError::new(
            ProblemKind::UnsupportedMediaType,
            format!(
                "{} is not a request format: send PEM (application/x-pem-file, text/plain) or DER (application/pkcs10)",
                if other.is_empty() { "a body without Content-Type" } else { other }
            ),
        )),
    }
}

fn csr_problem(e: CsrError) -> AppError {
    let kind = match e {
        CsrError::SignatureInvalid(_) => ProblemKind::CsrSignatureInvalid,
        CsrError::KeyPolicy(_) => ProblemKind::KeyPolicy,
        _ => ProblemKind::BadCsr,
    };
    AppError::new(kind, e.to_string())
}

/// `POST /issue/{token}/csr`: Step 2, the key.
pub async fn csr(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let enrollment = known_enrollment(&state, &token).await?;
    // 発行 pressed twice (or the form sent again): the session that issued
    // sees its Step 3 page again; nothing is issued twice. API clients are
    // told the URL is used, as the contract says.
    if !wants_json(&headers)
        && enrollment.state_at(state.clock.now()) == EnrollmentState::Issued
        && session_for(&state, &headers, &enrollment).await.is_ok()
    {
        return step3_page(&state, &token, &enrollment, StatusCode::OK).await;
    }
    check_open(&enrollment, state.clock.now())?;
    session_for(&state, &headers, &enrollment).await?;
    let body = extract::body(body)?;
    let der_or_pem = csr_bytes(&headers, &body)?;

    let now = state.clock.now();
    let ca = state.ca.clone();
    let (user_id, email) = (enrollment.user_id.clone(), enrollment.email.clone());
    let mail_sent_at = enrollment.mail_sent_at;
    // Verification and signing are CPU work: keep them off the async workers.
    let issued = tokio::task::spawn_blocking(move || {
        let request = parse_csr(&der_or_pem).map_err(csr_problem)?;
        ca.profile().check_request(&request).map_err(csr_problem)?;
        ca.issue(&IssueRequest {
            spki_der: &request.spki_der,
            user_id: &user_id,
            email: &email,
            mail_sent_at,
            now,
        })
        .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)??;

    super::lifecycle::record_issuance(&state, &enrollment, &issued, now).await?;
    tracing::info!(enrollment = %enrollment.id, serial = %issued.serial, "certificate issued");
    let answer = Issued {
        serial: issued.serial,
        certificate_url: format!("{}/issue/{token}/certificate", state.public_url),
        root_url: format!("{}/ca/root.crt", state.public_url),
        not_before: in_jst(issued.not_before),
        not_after: in_jst(issued.not_after),
        confirm_url: Some(state.confirm_url.clone()),
    };
    if wants_json(&headers) {
        return Ok((StatusCode::CREATED, Json(answer)).into_response());
    }
    let page = step3_markup(&state, &token, &enrollment, &answer);
    Ok((StatusCode::CREATED, Html(page.into_string())).into_response())
}

fn step3_markup(
    state: &AppState,
    token: &str,
    enrollment: &EnrollmentRecord,
    issued: &Issued,
) -> maud::Markup {
    pages::step3(
        site_title(enrollment.kind),
        token,
        &enrollment.user_id,
        issued,
        &fingerprint(state),
        &state.ca.root().subject(),
    )
}

/// The certificate an enrollment issued; `404` before it issued.
async fn issued_certificate(
    state: &AppState,
    enrollment: &EnrollmentRecord,
) -> Result<CertificateRecord, AppError> {
    let certificate = match enrollment.serial.as_deref() {
        Some(serial) => state.store.certificate(serial).await?,
        None => None,
    };
    issued_or_404(enrollment, certificate)
}

/// `certificate`, read with `enrollment`, as what it issued; `404` before it issued.
fn issued_or_404(
    enrollment: &EnrollmentRecord,
    certificate: Option<CertificateRecord>,
) -> Result<CertificateRecord, AppError> {
    match (enrollment.serial.as_deref(), certificate) {
        (Some(_), Some(certificate)) => Ok(certificate),
        (None, _) => Err(AppError::new(
            ProblemKind::NotFound,
            "no certificate has been issued on this URL yet: send the key (Step 2) first",
        )),
        (Some(_), None) => Err(AppError::internal(format!(
            "enrollment {} names a missing certificate",
            enrollment.id
        ))),
    }
}

/// The Step 3 page of an enrollment that has issued, from what the store holds.
async fn step3_page(
    state: &AppState,
    token: &str,
    enrollment: &EnrollmentRecord,
    status: StatusCode,
) -> Result<Response, AppError> {
    let cert = issued_certificate(state, enrollment).await?;
    let issued = Issued {
        serial: cert.serial,
        certificate_url: format!("{}/issue/{token}/certificate", state.public_url),
        root_url: format!("{}/ca/root.crt", state.public_url),
        not_before: in_jst(cert.not_before),
        not_after: in_jst(cert.not_after),
        confirm_url: Some(state.confirm_url.clone()),
    };
    let page = step3_markup(state, token, enrollment, &issued);
    Ok((status, Html(page.into_string())).into_response())
}

/// `GET /issue/{token}/step3`: the Step 3 page again for the session that
/// issued (after the service-made PKCS#12, or a reload). A page only: the JSON
/// of Step 3 is the answer of the request that issued.
pub async fn step3(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let enrollment = known_enrollment(&state, &token).await?;
    session_for(&state, &headers, &enrollment).await?;
    step3_page(&state, &token, &enrollment, StatusCode::OK).await
}

/// `?format=` of the certificate download.
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// `GET /issue/{token}/certificate`: Step 3, the client certificate.
pub async fn certificate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    check_token_shape(&token)?;
    // The enrollment and its certificate in one read: this is half of every issuance.
    let (enrollment, certificate) = state
        .store
        .enrollment_and_certificate_by_token(&token)
        .await?
        .ok_or_else(unknown_url)?;
    session_for(&state, &headers, &enrollment).await?;
    let cert = issued_or_404(&enrollment, certificate)?;
    let serial = cert.serial.clone();
    let name = format!("{}-{}", enrollment.user_id, serial);
    let (content_type, filename, body) = match q.format.as_deref().unwrap_or("pem") {
        "pem" => {
            let mut text = pem_block("CERTIFICATE", &cert.der);
            text.push_str(&state.ca.root().cert_pem());
            (
                "application/x-pem-file",
                format!("{name}.pem"),
                text.into_bytes(),
            )
        }
        "der" => (
            "application/pkix-cert",
            format!("{name}.cer"),
            cert.der.clone(),
        ),
        "p7c" => {
            let p7 = webra2_ca::pkcs7_certs_only(&[&cert.der, state.ca.root().cert_der()])
                .map_err(AppError::internal)?;
            ("application/pkcs7-mime", format!("{name}.p7c"), p7)
        }
        other => {
            return Err(AppError::new(
                ProblemKind::BadRequest,
                format!("unknown format {other:?}: use pem, der or p7c"),
            ))
        }
    };
    Ok(download(content_type, &filename, body))
}

fn download(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A PEM block with 64-column lines.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `GET /ca/root.crt`: the root, DER.
pub async fn root_der(State(state): State<AppState>) -> Response {
    download(
        "application/pkix-cert",
        "root.crt",
        state.ca.root().cert_der().to_vec(),
    )
}

/// `GET /ca/root.pem`: the root, PEM.
pub async fn root_pem(State(state): State<AppState>) -> Response {
    download(
        "application/x-pem-file",
        "root.pem",
        state.ca.root().cert_pem().into_bytes(),
    )
}

fn fingerprint(state: &AppState) -> Fingerprint {
    Fingerprint {
        sha1: state.ca.root().sha1_fingerprint(),
        sha256: state.ca.root().sha256_fingerprint(),
    }
}

/// `GET /ca/root/fingerprint`.
pub async fn root_fingerprint(State(state): State<AppState>) -> Json<Fingerprint> {
    Json(fingerprint(&state))
}
