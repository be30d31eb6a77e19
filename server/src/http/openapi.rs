//! `GET /openapi.json`: the OpenAPI 3.1 documents of the public and admin
//! listeners, built by `utoipa` from the wire types (their schemas are derived
//! from the very structs the handlers serialise, feature `openapi` of
//! `webra2-wire`) and from the operations declared below, one per route of the
//! routing tables in `mod.rs`, by the route templates of `webra2_wire::paths`.
//!
//! The declarations are kept here, beside each other, rather than on the
//! handlers: one place to read the API, and one place a new route adds its
//! line. `tests/it/openapi.rs` asks every route template of `wire/src/paths.rs`
//! with every method of both routers: what is routed must be documented, and
//! what is documented must be routed, so neither can drift.
//!
//! Every operation documents its answers and, as `default`, the problem
//! document any refusal is (`application/problem+json`): faults, a full
//! listener, a store that is down can answer any route.

// The functions below exist for their `#[utoipa::path]` declarations only.
#![allow(dead_code)]

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, OpenApi as Document, Ref, RefOr, Response as ApiResponse, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};
use webra2_wire::paths;
#[allow(unused_imports)]
use webra2_wire::{
    AuthRequest, AuthResponse, CertStatus, CertificateView, ClockView, EnrollmentCreated,
    EnrollmentState, EnrollmentView, FaultKind, FaultSet, FaultSpec, Fingerprint, Health, Issued,
    Kind, Mail, Pkcs12Request, PrepareEnrollment, Problem, RevokeRequest, SetClock, SiteInfo,
};
use webra2_wire::{CreateCertificate, CreatedCertificate};

/// The public listener's document.
pub fn public_document() -> Document {
    PublicApi::openapi()
}

/// The admin listener's document.
pub fn admin_document() -> Document {
    AdminApi::openapi()
}

/// `GET /openapi.json` on the public listener.
pub async fn public_openapi(State(_): State<AppState>) -> Response {
    json_document(&public_document())
}

/// `GET /openapi.json` on the admin listener (behind the admin token).
pub async fn admin_openapi(State(_): State<AppState>) -> Response {
    json_document(&admin_document())
}

fn json_document(doc: &Document) -> Response {
    match doc.to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => super::AppError::internal(format!("the OpenAPI document: {e}")).into_response(),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "webra2-mock: public listener",
        description = "The issuance site (証明書発行サイト / 証明書更新サイト) and the CA's published files. \
            Errors are RFC 9457 problem documents with type urn:webra2-mock:problem:<slug>. \
            The contract: docs/PROTOCOL.md.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        healthz,
        readyz,
        step1,
        auth,
        csr,
        pkcs12,
        certificate,
        step3,
        static_file,
        root_der,
        root_pem,
        root_fingerprint,
        crl,
        home,
        ocsp_post,
        ocsp_get,
        public_description
    ),
    components(schemas(Problem, CertificateFormatName)),
    modifiers(&SessionAuth, &ProblemByDefault),
    tags(
        (name = "site", description = "The issuance site, steps 1 to 3"),
        (name = "ca", description = "The root, the CRL and the OCSP responder"),
        (name = "health", description = "Liveness and readiness")
    )
)]
struct PublicApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "webra2-mock: admin listener",
        description = "Preparation, outbox, certificates, revocation, and the test controls (clock, faults). \
            Behind `Authorization: Bearer <admin token>` when the server has one. \
            The contract: docs/PROTOCOL.md.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        prepare,
        enrollment,
        mails,
        certificates,
        make_certificate,
        certificate_view,
        revoke,
        get_clock,
        set_clock,
        reset_clock,
        get_faults,
        put_faults,
        delete_faults,
        metrics,
        admin_healthz,
        admin_description
    ),
    components(schemas(Problem, FaultKind)),
    modifiers(&AdminAuth, &ProblemByDefault),
    security(("admin_token" = [])),
    tags(
        (name = "admin", description = "The administrator's calls"),
        (name = "controls", description = "Test controls: the service clock and injected faults"),
        (name = "health", description = "Liveness")
    )
)]
struct AdminApi;

/// Every operation's `default` answer: the problem document any refusal is
/// (faults, a full listener, a store that is down can answer any route), so
/// no declaration repeats it.
struct ProblemByDefault;

impl Modify for ProblemByDefault {
    fn modify(&self, doc: &mut Document) {
        let problem: RefOr<ApiResponse> = ResponseBuilder::new()
            .description("A problem")
            .content(
                "application/problem+json",
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build()
            .into();
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("default".to_owned())
                    .or_insert_with(|| problem.clone());
            }
        }
    }
}

/// The admin token as a bearer scheme.
struct AdminAuth;

impl Modify for AdminAuth {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The admin token (--admin-token, WEBRA2_ADMIN_TOKEN); none when the server has none",
                    ))
                    .build(),
            ),
        );
    }
}

/// The Step 1 session as a bearer scheme (also sent as a cookie).
struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The session of POST /issue/{token}/auth (also set as the cookie webra2_session)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The formats `GET /issue/{token}/certificate` serves.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
enum CertificateFormatName {
    /// The certificate and the root, PEM (the default).
    Pem,
    /// The certificate, DER.
    Der,
    /// The certificate and the root, PKCS#7 (certs-only).
    P7c,
}

// ---- public listener ----

#[utoipa::path(get, path = paths::HEALTHZ, tag = "health", operation_id = "healthz",
    responses(
        (status = 200, description = "The listener is serving", body = Health)
    ))]
fn healthz() {}

#[utoipa::path(get, path = paths::READYZ, tag = "health", operation_id = "readyz",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 503, description = "store-unavailable", body = Problem, content_type = "application/problem+json")
    ))]
fn readyz() {}

#[utoipa::path(get, path = paths::ISSUE, tag = "site", operation_id = "step1",
    description = "Step 1: the page of a one-time URL; JSON with `Accept: application/json`, else HTML.",
    params(("token" = String, Path, description = "The one-time URL's token")),
    responses(
        (status = 200, description = "The site's title and step", content(
            (SiteInfo = "application/json"),
            (String = "text/html")
        )),
        (status = 404, description = "unknown-url", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "url-already-used or url-expired", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "locked", body = Problem, content_type = "application/problem+json")
    ))]
fn step1() {}

#[utoipa::path(post, path = paths::ISSUE_AUTH, tag = "site", operation_id = "auth",
    description = "Step 1: the auth password (認証情報パスワード). Five wrong ones in a row lock the URL.",
    params(("token" = String, Path, description = "The one-time URL's token")),
    request_body(content(
        (AuthRequest = "application/json"),
        (AuthRequest = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 200, description = "What Step 2 shows, and the session", content(
            (AuthResponse = "application/json"),
            (String = "text/html")
        )),
        (status = 400, description = "bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "wrong-password (with remaining_attempts)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown-url", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "url-already-used or url-expired", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "locked", body = Problem, content_type = "application/problem+json")
    ))]
fn auth() {}

#[utoipa::path(post, path = paths::ISSUE_CSR, tag = "site", operation_id = "csr",
    description = "Step 2: a PKCS#10 request, PEM or DER, with the session. A request sent again by \
        the same session answers the same Step 3 (nothing is issued twice).",
    params(("token" = String, Path, description = "The one-time URL's token")),
    security(("session" = [])),
    request_body(content(
        ("application/x-pem-file"),
        ("text/plain"),
        ("application/pkcs10"),
        ("application/x-www-form-urlencoded")
    )),
    responses(
        (status = 201, description = "Issued", content(
            (Issued = "application/json"),
            (String = "text/html")
        )),
        (status = 200, description = "Step 3 again, for a request sent again by the same session", content_type = "text/html"),
        (status = 400, description = "bad-csr, csr-signature-invalid or bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "session-required or session-expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown-url", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "url-already-used or url-expired", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "key-policy", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ca-maintenance", body = Problem, content_type = "application/problem+json")
    ))]
fn csr() {}

#[utoipa::path(post, path = paths::ISSUE_PKCS12, tag = "site", operation_id = "pkcs12",
    description = "Step 2, the service makes the key: a PKCS#12 file (PBES2, AES-256-CBC, SHA-256 MAC) \
        protected by the PIN; headers x-webra2-serial and x-webra2-confirm-url.",
    params(("token" = String, Path, description = "The one-time URL's token")),
    security(("session" = [])),
    request_body(content(
        (Pkcs12Request = "application/json"),
        (Pkcs12Request = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 201, description = "The PKCS#12 file", content_type = "application/x-pkcs12"),
        (status = 400, description = "bad-request (the PIN)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "session-required or session-expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown-url", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "url-already-used or url-expired", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ca-maintenance", body = Problem, content_type = "application/problem+json")
    ))]
fn pkcs12() {}

#[utoipa::path(get, path = paths::ISSUE_CERTIFICATE, tag = "site", operation_id = "certificate",
    description = "Step 3: the client certificate issued on this URL, with the session.",
    params(
        ("token" = String, Path, description = "The one-time URL's token"),
        ("format" = Option<CertificateFormatName>, Query, description = "pem (default: the certificate and the root), der, or p7c")
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "The certificate", content(
            ("application/x-pem-file"),
            ("application/pkix-cert"),
            ("application/pkcs7-mime")
        )),
        (status = 400, description = "bad-request (an unknown format)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "session-required or session-expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown-url, or nothing issued yet", body = Problem, content_type = "application/problem+json")
    ))]
fn certificate() {}

#[utoipa::path(get, path = paths::ISSUE_STEP3, tag = "site", operation_id = "step3",
    description = "The Step 3 page again, for the session that issued.",
    params(("token" = String, Path, description = "The one-time URL's token")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The Step 3 page", content_type = "text/html"),
        (status = 401, description = "session-required or session-expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "unknown-url, or nothing issued yet", body = Problem, content_type = "application/problem+json")
    ))]
fn step3() {}

#[utoipa::path(get, path = paths::STATIC_FILE, tag = "site", operation_id = "static_file",
    description = "The site's style sheet and scripts.",
    params(("file" = String, Path, description = "The file's name")),
    responses(
        (status = 200, description = "The file", content(("text/css"), ("text/javascript"))),
        (status = 404, description = "not-found", body = Problem, content_type = "application/problem+json")
    ))]
fn static_file() {}

#[utoipa::path(get, path = paths::ROOT_DER, tag = "ca", operation_id = "root_der",
    responses(
        (status = 200, description = "The root, DER", content_type = "application/pkix-cert")
    ))]
fn root_der() {}

#[utoipa::path(get, path = paths::ROOT_PEM, tag = "ca", operation_id = "root_pem",
    responses(
        (status = 200, description = "The root, PEM", content_type = "application/x-pem-file")
    ))]
fn root_pem() {}

#[utoipa::path(get, path = paths::ROOT_FINGERPRINT, tag = "ca", operation_id = "root_fingerprint",
    responses(
        (status = 200, description = "The root's SHA-1 and SHA-256", body = Fingerprint)
    ))]
fn root_fingerprint() {}

#[utoipa::path(get, path = paths::CRL, tag = "ca", operation_id = "crl",
    responses(
        (status = 200, description = "The current CRL, DER, signed by the root", content_type = "application/pkix-crl")
    ))]
fn crl() {}

#[utoipa::path(get, path = paths::HOME, tag = "site", operation_id = "home",
    description = "The site's front page (HTML): the root to compare, and where the confirmation page is.",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String)
    ))]
fn home() {}

#[utoipa::path(post, path = paths::OCSP, tag = "ca", operation_id = "ocsp_post",
    description = "The OCSP responder (RFC 6960): good, revoked or unknown per certificate asked about; \
        a request that cannot be read is answered malformedRequest, still 200.",
    request_body(content = Vec<u8>, content_type = "application/ocsp-request", description = "A DER OCSPRequest"),
    responses(
        (status = 200, description = "A DER OCSPResponse", content_type = "application/ocsp-response", body = Vec<u8>)
    ))]
fn ocsp_post() {}

#[utoipa::path(get, path = "/ocsp/{request}", tag = "ca", operation_id = "ocsp_get",
    description = "The OCSP responder, the DER request in base64 in the path (RFC 6960 A.1).",
    params(("request" = String, Path, description = "The DER OCSPRequest in base64 (standard or URL-safe; `/` may stay unescaped)")),
    responses(
        (status = 200, description = "A DER OCSPResponse", content_type = "application/ocsp-response", body = Vec<u8>)
    ))]
fn ocsp_get() {}

#[utoipa::path(get, path = paths::OPENAPI, tag = "health", operation_id = "public_openapi",
    responses(
        (status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")
    ))]
fn public_description() {}

// ---- admin listener ----

#[utoipa::path(post, path = paths::ADMIN_ENROLLMENTS, tag = "admin", operation_id = "prepare",
    description = "Prepares an issuance; its mail goes to the outbox (and over SMTP when configured).",
    request_body = PrepareEnrollment,
    responses(
        (status = 201, description = "Prepared and mailed", body = EnrollmentCreated,
            links(("enrollment" = (
                operation_id = "enrollment",
                parameters(("id" = "$response.body#/enrollment_id")),
                description = "The enrollment just prepared"
            )))),
        (status = 400, description = "bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "nothing-to-renew (a renewal for a user without a valid certificate)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json")
    ))]
fn prepare() {}

#[utoipa::path(get, path = paths::ADMIN_ENROLLMENT, tag = "admin", operation_id = "enrollment",
    params(("id" = String, Path, description = "The enrollment id")),
    responses(
        (status = 200, description = "The enrollment and its state", body = EnrollmentView),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not-found", body = Problem, content_type = "application/problem+json")
    ))]
fn enrollment() {}

#[utoipa::path(get, path = paths::ADMIN_MAILS, tag = "admin", operation_id = "mails",
    params(("to" = Option<String>, Query, description = "Only mails to this address")),
    responses(
        (status = 200, description = "The outbox, newest first", body = Vec<Mail>),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn mails() {}

#[utoipa::path(get, path = paths::ADMIN_CERTIFICATES, tag = "admin", operation_id = "certificates",
    params(("user_id" = Option<String>, Query, description = "Only this user's")),
    responses(
        (status = 200, description = "Issued certificates, newest first", body = Vec<CertificateView>),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn certificates() {}

#[utoipa::path(post, path = paths::ADMIN_CERTIFICATES, tag = "admin", operation_id = "make_certificate",
    description = "A certificate made to order, in any state: the PKCS#12 under the PIN, or with \
        `Accept: application/json` the certificate and the PIN-encrypted PKCS#8 key.",
    request_body(content = CreateCertificate, content_type = "application/json"),
    responses(
        (status = 201, description = "Made", content(
            (CreatedCertificate = "application/json"),
            (Vec<u8> = "application/x-pkcs12")
        )),
        (status = 400, description = "bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json")
    ))]
fn make_certificate() {}

#[utoipa::path(get, path = paths::ADMIN_CERTIFICATE, tag = "admin", operation_id = "certificate_view",
    params(("serial" = String, Path, description = "Hex serial (colons allowed)")),
    responses(
        (status = 200, description = "The certificate", body = CertificateView),
        (status = 400, description = "bad-request (not a serial)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not-found", body = Problem, content_type = "application/problem+json")
    ))]
fn certificate_view() {}

#[utoipa::path(post, path = paths::ADMIN_REVOKE, tag = "admin", operation_id = "revoke",
    description = "Revokes a certificate and regenerates the CRL. The body may be empty.",
    params(("serial" = String, Path, description = "Hex serial (colons allowed)")),
    request_body(content = Option<RevokeRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Revoked", body = CertificateView),
        (status = 400, description = "bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not-found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already-revoked", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json")
    ))]
fn revoke() {}

#[utoipa::path(get, path = paths::ADMIN_CLOCK, tag = "controls", operation_id = "get_clock",
    responses(
        (status = 200, description = "The service clock", body = ClockView),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn get_clock() {}

#[utoipa::path(put, path = paths::ADMIN_CLOCK, tag = "controls", operation_id = "set_clock",
    request_body = SetClock,
    responses(
        (status = 200, description = "The service clock, set", body = ClockView),
        (status = 400, description = "bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json")
    ))]
fn set_clock() {}

#[utoipa::path(delete, path = paths::ADMIN_CLOCK, tag = "controls", operation_id = "reset_clock",
    responses(
        (status = 200, description = "The service clock, real time again", body = ClockView),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn reset_clock() {}

#[utoipa::path(get, path = paths::ADMIN_FAULTS, tag = "controls", operation_id = "get_faults",
    responses(
        (status = 200, description = "The active faults, with what is left of each", body = FaultSet),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn get_faults() {}

#[utoipa::path(put, path = paths::ADMIN_FAULTS, tag = "controls", operation_id = "put_faults",
    request_body = FaultSet,
    responses(
        (status = 200, description = "The active faults, replaced", body = FaultSet),
        (status = 400, description = "bad-request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type", body = Problem, content_type = "application/problem+json")
    ))]
fn put_faults() {}

#[utoipa::path(delete, path = paths::ADMIN_FAULTS, tag = "controls", operation_id = "delete_faults",
    responses(
        (status = 200, description = "No fault is active", body = FaultSet),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn delete_faults() {}

#[utoipa::path(get, path = paths::METRICS, tag = "admin", operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn metrics() {}

#[utoipa::path(get, path = paths::HEALTHZ, tag = "health", operation_id = "admin_healthz",
    description = "Liveness, without the token.",
    security(()),
    responses(
        (status = 200, description = "The listener is serving", body = Health)
    ))]
fn admin_healthz() {}

#[utoipa::path(get, path = paths::OPENAPI, tag = "health", operation_id = "admin_openapi",
    responses(
        (status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json")
    ))]
fn admin_description() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_documents_are_openapi_3_1_with_the_wire_schemas() {
        let public = serde_json::to_value(public_document()).expect("json");
        assert_eq!(public["openapi"], "3.1.0");
        let auth = &public["components"]["schemas"]["AuthResponse"]["properties"];
        assert!(auth["key_length"].is_object() && auth["accepted_keys"].is_object());
        let admin = serde_json::to_value(admin_document()).expect("json");
        assert_eq!(admin["openapi"], "3.1.0");
        assert_eq!(
            admin["components"]["schemas"]["PrepareEnrollment"]["additionalProperties"], false,
            "deny_unknown_fields is in the schema"
        );
        assert!(admin["paths"]["/admin/certificates/{serial}/revoke"]["post"].is_object());
    }

    #[test]
    fn the_documented_revocation_reasons_are_the_cas() {
        let documented: Vec<&str> = webra2_wire::REVOCATION_REASON_PATTERN
            .trim_start_matches("^(")
            .trim_end_matches(")$")
            .split('|')
            .collect();
        assert_eq!(documented, webra2_ca::REVOCATION_REASONS);
        let admin = serde_json::to_value(admin_document()).expect("json");
        assert_eq!(
            admin["components"]["schemas"]["RevokeRequest"]["properties"]["reason"]["pattern"],
            webra2_wire::REVOCATION_REASON_PATTERN
        );
    }

    #[test]
    fn every_operation_of_both_documents_answers_a_problem_by_default() {
        let mut operations = 0;
        for doc in [public_document(), admin_document()] {
            let json: serde_json::Value =
                serde_json::from_str(&doc.to_json().expect("json")).expect("parses");
            let paths = json["paths"].as_object().expect("paths");
            for (path, item) in paths {
                for (method, operation) in item.as_object().expect("a path item") {
                    if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                        continue;
                    }
                    operations += 1;
                    let default = &operation["responses"]["default"];
                    assert_eq!(
                        default["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path}: {default}"
                    );
                }
            }
        }
        assert!(operations >= 33, "only {operations} operations documented");
    }
}
