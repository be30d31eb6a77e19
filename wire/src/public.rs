//! The public and confirm listeners' requests and responses.

use crate::Kind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// The site title of a first issuance.
pub const SITE_TITLE_NEW: &str = "証明書発行サイト";
/// The site title of a renewal.
pub const SITE_TITLE_RENEW: &str = "証明書更新サイト";

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /issue/{token}` with `Accept: application/json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteInfo {
    /// 証明書発行サイト or 証明書更新サイト.
    pub site_title: String,
    /// `new` or `renew`.
    pub kind: Kind,
    /// The step the page is (1).
    pub step: u8,
}

/// `POST /issue/{token}/auth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthRequest {
    /// The 認証情報パスワード.
    pub auth_password: String,
}

/// `POST /issue/{token}/pkcs12`: the PIN that encrypts the PKCS#12 file.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Pkcs12Request {
    /// The PIN (at least [`PKCS12_PIN_MIN_CHARS`] characters).
    pub pin: String,
}

impl fmt::Debug for Pkcs12Request {
    // The PIN stays out of debug output and so out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs12Request").finish_non_exhaustive()
    }
}

/// The shortest PIN the PKCS#12 path accepts, in characters.
pub const PKCS12_PIN_MIN_CHARS: usize = 4;
/// The longest PIN the PKCS#12 path accepts, in characters.
pub const PKCS12_PIN_MAX_CHARS: usize = 128;
/// Response header of the PKCS#12 path: the serial of the certificate inside.
pub const HEADER_SERIAL: &str = "x-webra2-serial";
/// Response header of the PKCS#12 path: the Step 4 confirmation page.
pub const HEADER_CONFIRM_URL: &str = "x-webra2-confirm-url";

/// `200` answer to `POST /issue/{token}/auth`: what Step 2 shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    /// The session, also set as a cookie; present it as `Authorization: Bearer`.
    pub session: String,
    /// The cryptographic service provider the site names.
    pub csp: String,
    /// The key length the site names, in bits.
    pub key_length: u32,
    /// Every key the profile accepts, as [`KeySpec`] names (`rsa-1024`, `ecdsa-p256`).
    pub accepted_keys: Vec<String>,
    /// When the session ends.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub session_expires_at: Option<OffsetDateTime>,
}

/// `201` answer to `POST /issue/{token}/csr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Issued {
    /// Upper-case hex serial.
    pub serial: String,
    /// Where the certificate can be fetched with this session.
    pub certificate_url: String,
    /// Where the root can be fetched (DER).
    pub root_url: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The Step 4 confirmation page (証明書確認ページ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
}

/// `GET /ca/root/fingerprint`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fingerprint {
    /// SHA-1, upper-case hex in five groups of eight.
    pub sha1: String,
    /// SHA-256, upper-case hex in eight groups of eight.
    pub sha256: String,
}

/// `200` answer of the confirmation page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    /// `ok`.
    pub status: String,
    /// The CN the certificate was issued to.
    pub user_id: String,
    /// The subject, as an RFC 4514 string.
    pub subject: String,
    /// The issuer, as an RFC 4514 string.
    pub issuer: String,
    /// Upper-case hex serial.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A key type a profile can accept and a client can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySpec {
    /// RSA with a modulus of this many bits.
    Rsa(u32),
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySpec::Rsa(bits) => write!(f, "rsa-{bits}"),
            KeySpec::EcdsaP256 => f.write_str("ecdsa-p256"),
            KeySpec::EcdsaP384 => f.write_str("ecdsa-p384"),
        }
    }
}

impl FromStr for KeySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ecdsa-p256" => Ok(KeySpec::EcdsaP256),
            "ecdsa-p384" => Ok(KeySpec::EcdsaP384),
            _ => s
                .strip_prefix("rsa-")
                .and_then(|bits| bits.parse().ok())
                .map(KeySpec::Rsa)
                .ok_or_else(|| {
                    format!("unknown key type {s:?} (rsa-BITS, ecdsa-p256, ecdsa-p384)")
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_round_trip_through_their_names() {
        for spec in [KeySpec::Rsa(1024), KeySpec::EcdsaP256, KeySpec::EcdsaP384] {
            assert_eq!(spec.to_string().parse::<KeySpec>(), Ok(spec));
        }
        assert!("dsa-1024".parse::<KeySpec>().is_err());
        assert!("rsa-x".parse::<KeySpec>().is_err());
    }
}
