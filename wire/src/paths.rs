//! The route paths of the three listeners, written once: the server's routing
//! tables, its fault matcher and the client all use these templates.
//!
//! A template names its one parameter in braces (`{token}`), as axum's router
//! reads it; [`fill`] puts a value in its place.

/// `GET /`: the public site's front page (a page only; what the
/// confirmation page links back to).
pub const HOME: &str = "/";
/// `GET /healthz` (every listener; on the admin one it needs no token).
pub const HEALTHZ: &str = "/healthz";
/// `GET /readyz` (public listener): `200` when the store answers, else `503`.
pub const READYZ: &str = "/readyz";
/// `GET /issue/{token}`: Step 1.
pub const ISSUE: &str = "/issue/{token}";
/// `POST /issue/{token}/auth`: the auth password.
pub const ISSUE_AUTH: &str = "/issue/{token}/auth";
/// `POST /issue/{token}/csr`: Step 2, a request.
pub const ISSUE_CSR: &str = "/issue/{token}/csr";
/// `POST /issue/{token}/pkcs12`: Step 2, a key made by the service.
pub const ISSUE_PKCS12: &str = "/issue/{token}/pkcs12";
/// `GET /issue/{token}/certificate`: Step 3, the client certificate.
pub const ISSUE_CERTIFICATE: &str = "/issue/{token}/certificate";
/// `GET /issue/{token}/step3`: the Step 3 page again.
pub const ISSUE_STEP3: &str = "/issue/{token}/step3";
/// `GET /static/{file}`: the site's style sheet and scripts (public and
/// confirm listeners).
pub const STATIC_FILE: &str = "/static/{file}";
/// `GET /ca/root.crt`: the root, DER.
pub const ROOT_DER: &str = "/ca/root.crt";
/// `GET /ca/root.pem`: the root, PEM.
pub const ROOT_PEM: &str = "/ca/root.pem";
/// `GET /ca/root/fingerprint`.
pub const ROOT_FINGERPRINT: &str = "/ca/root/fingerprint";
/// `GET /ca/crl`: the current CRL.
pub const CRL: &str = "/ca/crl";
/// `POST /ocsp`: the OCSP responder (RFC 6960), `application/ocsp-request`.
pub const OCSP: &str = "/ocsp";
/// `GET /ocsp/{request}`: the OCSP responder, the request's DER in base64 in
/// the path (RFC 6960 appendix A.1; unescaped `/` in it are taken too).
pub const OCSP_GET: &str = "/ocsp/{*request}";
/// `GET /openapi.json`: the listener's OpenAPI 3.1 document (public and admin
/// listeners; the admin one behind its token).
pub const OPENAPI: &str = "/openapi.json";
/// `GET /confirm`: Step 4, on the confirm listener.
pub const CONFIRM: &str = "/confirm";

/// `POST /admin/enrollments`.
pub const ADMIN_ENROLLMENTS: &str = "/admin/enrollments";
/// `GET /admin/enrollments/{id}`.
pub const ADMIN_ENROLLMENT: &str = "/admin/enrollments/{id}";
/// `GET /admin/mails`: the outbox.
pub const ADMIN_MAILS: &str = "/admin/mails";
/// `GET /admin/certificates`; `POST`: a certificate made to order.
pub const ADMIN_CERTIFICATES: &str = "/admin/certificates";
/// `GET /admin/certificates/{serial}`.
pub const ADMIN_CERTIFICATE: &str = "/admin/certificates/{serial}";
/// `POST /admin/certificates/{serial}/revoke`.
pub const ADMIN_REVOKE: &str = "/admin/certificates/{serial}/revoke";
/// `GET`, `PUT`, `DELETE /admin/clock`.
pub const ADMIN_CLOCK: &str = "/admin/clock";
/// `GET`, `PUT`, `DELETE /admin/faults`.
pub const ADMIN_FAULTS: &str = "/admin/faults";
/// `GET /metrics` (admin listener).
pub const METRICS: &str = "/metrics";

/// The routes whose one parameter is a one-time URL token.
pub const TOKEN_ROUTES: [&str; 6] = [
    ISSUE,
    ISSUE_AUTH,
    ISSUE_CSR,
    ISSUE_PKCS12,
    ISSUE_CERTIFICATE,
    ISSUE_STEP3,
];

/// `template` with its `{parameter}` replaced by `value`, percent-encoded as
/// one path segment. A template without a parameter comes back as it is.
pub fn fill(template: &str, value: &str) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!(
                "{}{}{}",
                &template[..open],
                segment(value),
                &template[close + 1..]
            )
        }
        _ => template.to_owned(),
    }
}

/// `value` percent-encoded so that it stays one path segment.
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_filled_with_its_value_as_one_segment() {
        assert_eq!(fill(ISSUE_CSR, "abc_-9"), "/issue/abc_-9/csr");
        assert_eq!(
            fill(ADMIN_REVOKE, "0A/../x"),
            "/admin/certificates/0A%2F..%2Fx/revoke"
        );
        assert_eq!(fill(ADMIN_MAILS, "ignored"), "/admin/mails");
        assert_eq!(fill(OCSP_GET, "MEIw+/Q="), "/ocsp/MEIw%2B%2FQ%3D");
    }
}
