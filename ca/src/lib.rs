//! The certificate authority of webra2-mock.
//!
//! It knows profiles, PKCS#10 requests, the root and how to issue; it knows
//! nothing of HTTP or SQL. The server wraps it, the tests call it directly.
//!
//! API CONTRACT (the server codes against exactly these names):
//! - [`Profile`]: `Profile::load(name_or_path)`, `Profile::builtin(name)`,
//!   `Profile::from_toml(text)`, fields `name`, `site_csp`, `site_key_length`,
//!   `description`, `rsa_min_bits`, `rsa_max_bits`, `ecdsa_curves`, `signature_hashes`,
//!   `validity_anchor`, `validity_years`, `pkcs12_key`, `pkcs12_compat`, `pin_rule`,
//!   `renewal_signed_by_current`, `subject_template()`, `accepted_keys_text()`,
//!   `accepted_keys()`, `not_after(mail_sent_at, issued_at)`, `subject(user_id, email)`.
//! - [`parse_csr`]: PEM, base64 or DER bytes (plain, CMC or CMS-wrapped) to a verified [`CertRequest`].
//! - [`parse_request`]: the same, keeping the wrapper and its signers ([`SubmittedRequest`]).
//! - [`Profile::check_request`]: the key policy.
//! - [`Root`]: `Root::fixture()`, `Root::from_pem(cert, key)`, `Root::generate()`,
//!   `cert_der()`, `cert_pem()`, `key_pem()`, `sha1_fingerprint()`, `sha256_fingerprint()`, `subject()`,
//!   `subject_der()`, `key_id()`.
//! - [`Ca`]: `Ca::new(root, profile, crl_url)`, `issue(&IssueRequest)`, `issue_server_cert(hosts, now)`,
//!   `crl(&[Revoked], crl_number, this_update, next_update)`.
//! - [`pkcs7_certs_only`].
//! - OCSP: `Ca::ocsp_query(der)`, `Ca::ocsp_response(responder, query, statuses, answer)`,
//!   [`OcspResponder::delegated`], [`OcspFailure::to_der`].
//! - Status URLs: `Ca::with_status_urls(ocsp_url, ca_issuers_url)` (AIA, as the profile
//!   allows); `Ca::issue_for_period(...)` for the administrator's factory.
//! - [`GeneratedKey`]: `GeneratedKey::generate(spec)`, `spki_der()`, `pkcs12(name, leaf, chain, pin)`,
//!   `pkcs12_as(compat, name, leaf, chain, pin)` (modern or legacy form).

// No panic on anything from outside the process, held by the compiler in
// non-test code (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod cmc;
mod csr;
mod dn;
mod error;
mod issue;
mod keyfile;
mod ocsp;
mod pkcs12;
mod pkcs7;
mod profile;
mod request;
mod root;
#[cfg(test)]
mod test_support;
mod validity;

pub use csr::{parse_csr, CertRequest, SignatureHash};
pub use error::{CaError, CsrError};
pub use issue::{Ca, IssueRequest, IssuedCert, Revoked, ServerCert, REVOCATION_REASONS};
pub use ocsp::{OcspAnswer, OcspCertStatus, OcspFailure, OcspItem, OcspQuery, OcspResponder};
pub use pkcs12::GeneratedKey;
pub use pkcs7::pkcs7_certs_only;
pub use profile::{toml_error_line, OcspSigner, Profile, ValidityAnchor};
pub use request::{
    parse_request, Signer, SignerCheck, SubmittedRequest, Wrapper, REQUEST_PEM_LABELS,
};
pub use root::{Root, ROOT_COMMON_NAME, ROOT_ORGANIZATION};
pub use validity::add_calendar_years;
pub use webra2_wire::KeySpec;
