//! The issuance site's routes, Steps 1–3: each extracts, calls the service,
//! and answers JSON to `Accept: application/json` or a page otherwise.

use super::extract::{self, wants_json, Query, Token, SESSION_COOKIE};
use super::pages;
use super::problem::AppError;
use crate::service::{
    site_title, AuthPassword, Begun, CertificateFormat, Issuance, OneTimeToken, Pin,
};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use webra2_wire::{
    AuthRequest, Pkcs12Request, ProblemKind, SiteInfo, HEADER_CONFIRM_URL, HEADER_SERIAL,
};

/// `GET /`: the front page (a page for browsers; the API has no index).
pub async fn home(State(state): State<AppState>) -> Response {
    let service = &state.service;
    Html(pages::home(&service.root_view(), service.confirm_url()).into_string()).into_response()
}

/// `GET /issue/{token}`: Step 1. A browser whose session issued on this URL
/// (Back from Step 3, the mail's URL opened again) is sent to its Step 3.
pub async fn step1(
    State(state): State<AppState>,
    Token(token): Token,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let (false, Some(session)) = (wants_json(&headers), extract::session_token(&headers)) {
        if state
            .service
            .issued_to_session(&token, Some(&session))
            .await
            .is_ok()
        {
            let step3 = webra2_wire::paths::fill(webra2_wire::paths::ISSUE_STEP3, token.as_str());
            return Ok(Redirect::to(&step3).into_response());
        }
    }
    let enrollment = state.service.open(&token).await?;
    let title = site_title(enrollment.kind);
    if wants_json(&headers) {
        return Ok(Json(SiteInfo {
            site_title: title.into(),
            kind: enrollment.kind,
            step: 1,
        })
        .into_response());
    }
    Ok(Html(pages::step1(title, token.as_str(), None).into_string()).into_response())
}

/// `POST /issue/{token}/auth`: Step 1, the auth password.
pub async fn auth(
    State(state): State<AppState>,
    Token(token): Token,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let enrollment = state.service.open(&token).await?;
    let site = enrollment.kind;
    let parsed = extract::body(body)
        .and_then(|body| extract::json_or_form::<AuthRequest>(&headers, &body))
        .map_err(|e| e.on_site(site))?;
    let password = AuthPassword::parse_submitted(&parsed.auth_password)
        .map_err(|e| AppError::from(e).on_site(site))?;
    let done = state.service.authenticate(enrollment, password).await?;

    let minutes = state.service.policy().session_minutes;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Strict",
        done.session,
        webra2_wire::paths::fill(webra2_wire::paths::ISSUE, token.as_str()),
        minutes * 60
    );
    let mut resp = if wants_json(&headers) {
        Json(done.answer).into_response()
    } else {
        let title = site_title(done.enrollment.kind);
        let root = state.service.root_view();
        Html(pages::step2(title, token.as_str(), &done.answer, &root).into_string()).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// The request bytes of a CSR body, by its media type.
fn csr_bytes(headers: &HeaderMap, body: &Bytes) -> Result<Vec<u8>, AppError> {
    #[derive(Deserialize)]
    struct CsrForm {
        csr: String,
    }
    match extract::media_type(headers).as_str() {
        "application/x-pem-file"
        | "text/plain"
        | "application/pkcs10"
        | "application/pkcs7-mime"
        | "application/cms"
        | "application/octet-stream" => {
            Ok(body.to_vec())
        }
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes::<CsrForm>(body)
            .map(|f| f.csr.into_bytes())
            .map_err(|e| AppError::new(ProblemKind::BadCsr, format!("invalid form body: {e}"))),
        other => Err(AppError::new(
            ProblemKind::UnsupportedMediaType,
            format!(
                "{} is not a request format: send PEM or base64 (application/x-pem-file, text/plain) or DER (application/pkcs10, application/pkcs7-mime, application/cms)",
                if other.is_empty() { "a body without Content-Type" } else { other }
            ),
        )),
    }
}

/// `POST /issue/{token}/csr`: Step 2, the key.
pub async fn csr(
    State(state): State<AppState>,
    Token(token): Token,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let session = extract::session_token(&headers);
    let json = wants_json(&headers);
    // 発行 pressed twice (or the form sent again): the session that issued
    // sees its Step 3 page again; nothing is issued twice. API clients are
    // told the URL is used, as the contract says.
    let ready = match state
        .service
        .begin_issue(&token, session.as_deref(), !json)
        .await?
    {
        Begun::Open(ready) => ready,
        Begun::AlreadyIssued(issuance) => {
            return Ok(step3_page(&state, &token, &issuance, StatusCode::OK))
        }
    };
    let site = ready.site();
    let request = extract::body(body)
        .and_then(|body| csr_bytes(&headers, &body))
        .map_err(|e| e.on_site(site))?;
    let issuance = state.service.issue_from_request(ready, request).await?;
    if json {
        return Ok((StatusCode::CREATED, Json(issuance.issued)).into_response());
    }
    Ok(step3_page(&state, &token, &issuance, StatusCode::CREATED))
}

/// `POST /issue/{token}/pkcs12`: Step 2 without an enrollment control. The
/// service makes the key and answers key, certificate and root in one
/// PIN-encrypted PKCS#12. It consumes the one-time URL like a CSR does.
pub async fn pkcs12(
    State(state): State<AppState>,
    Token(token): Token,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let session = extract::session_token(&headers);
    let Begun::Open(ready) = state
        .service
        .begin_issue(&token, session.as_deref(), false)
        .await?
    else {
        return Err(AppError::internal("a PKCS#12 issuance began as a repeat"));
    };
    let site = ready.site();
    let req: Pkcs12Request = extract::body(body)
        .and_then(|body| extract::json_or_form(&headers, &body))
        .map_err(|e| e.on_site(site))?;
    let pin = Pin::parse(&req.pin, &state.service.pin_rule())
        .map_err(|e| AppError::from(e).on_site(site))?;
    let file = state.service.issue_pkcs12(ready, pin, req.compat).await?;

    let mut resp = (StatusCode::CREATED, file.der).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-pkcs12"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let filename = format!(
        "attachment; filename=\"{}-{}.p12\"",
        file.user_id, file.serial
    );
    for (name, value) in [
        (header::CONTENT_DISPOSITION, filename),
        (HeaderName::from_static(HEADER_SERIAL), file.serial),
        (
            HeaderName::from_static(HEADER_CONFIRM_URL),
            state.service.confirm_url().to_owned(),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    Ok(resp)
}

fn step3_page(
    state: &AppState,
    token: &OneTimeToken,
    issuance: &Issuance,
    status: StatusCode,
) -> Response {
    let page = pages::step3(
        site_title(issuance.site),
        token.as_str(),
        &issuance.user_id,
        &issuance.issued,
        &state.service.root_view(),
    );
    (status, Html(page.into_string())).into_response()
}

/// `GET /issue/{token}/step3`: the Step 3 page again for the session that
/// issued (after the service-made PKCS#12, or a reload). A page only: the JSON
/// of Step 3 is the answer of the request that issued.
pub async fn step3(
    State(state): State<AppState>,
    Token(token): Token,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let session = extract::session_token(&headers);
    let issuance = state
        .service
        .issued_to_session(&token, session.as_deref())
        .await?;
    Ok(step3_page(&state, &token, &issuance, StatusCode::OK))
}

/// `?format=` of the certificate download.
#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// `GET /issue/{token}/certificate`: Step 3, the client certificate.
pub async fn certificate(
    State(state): State<AppState>,
    Token(token): Token,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let format = CertificateFormat::parse(q.format.as_deref())?;
    let session = extract::session_token(&headers);
    let file = state
        .service
        .certificate_file(&token, session.as_deref(), format)
        .await?;
    let content_type = match file.format {
        CertificateFormat::Pem => "application/x-pem-file",
        CertificateFormat::Der => "application/pkix-cert",
        CertificateFormat::P7c => "application/pkcs7-mime",
    };
    Ok(super::respond::download(
        content_type,
        &file.filename,
        file.bytes,
    ))
}
