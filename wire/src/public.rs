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
    /// The form of the file: `modern` or `legacy`; the profile's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat: Option<Pkcs12Compat>,
}

/// The two forms of a PKCS#12 the service writes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pkcs12Compat {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) with an HMAC-SHA256 MAC: what
    /// OpenSSL 3 writes by default.
    #[default]
    Modern,
    /// Key bags under pbeWithSHAAnd3-KeyTripleDES-CBC, certificates under
    /// pbeWithSHAAnd40BitRC2-CBC, a SHA-1 MAC: what `openssl pkcs12 -export
    /// -legacy` writes, and what Windows Server 2016 and older and the macOS
    /// Keychain open.
    Legacy,
}

impl fmt::Display for Pkcs12Compat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pkcs12Compat::Modern => "modern",
            Pkcs12Compat::Legacy => "legacy",
        })
    }
}

impl FromStr for Pkcs12Compat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "modern" => Ok(Pkcs12Compat::Modern),
            "legacy" => Ok(Pkcs12Compat::Legacy),
            other => Err(format!("unknown PKCS#12 form {other:?} (modern, legacy)")),
        }
    }
}

/// The manual's PIN rule: half-width alphanumerics (`0-9 A-Z a-z`), case-sensitive,
/// between `min_chars` and `max_chars` characters (profile settings; the manual sets
/// no length: "文字数には制限はありません").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRule {
    /// The fewest characters.
    pub min_chars: usize,
    /// The most characters (a bound against abuse, not the manual's).
    pub max_chars: usize,
}

impl Default for PinRule {
    fn default() -> Self {
        Self {
            min_chars: PKCS12_PIN_MIN_CHARS,
            max_chars: PKCS12_PIN_MAX_CHARS,
        }
    }
}

impl PinRule {
    /// The rule in words, the same on the page, from the server and from the client.
    pub fn describe(&self) -> String {
        format!(
            "PIN は半角英数字（0-9 A-Z a-z、大文字と小文字は区別されます）で {} 文字から {} 文字まで / the PIN is half-width letters and digits (0-9 A-Z a-z, case-sensitive), {} to {} characters",
            self.min_chars, self.max_chars, self.min_chars, self.max_chars
        )
    }

    /// Checks `pin`; the error is [`PinRule::describe`].
    pub fn check(&self, pin: &str) -> Result<(), String> {
        let len = pin.chars().count();
        let ok = (self.min_chars..=self.max_chars).contains(&len)
            && pin.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            Ok(())
        } else {
            Err(self.describe())
        }
    }
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
    /// The PIN rule of the PKCS#12 path (and of the key the page protects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_rule: Option<PinRule>,
    /// The PKCS#12 form the profile writes when none is asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_compat: Option<Pkcs12Compat>,
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

    #[test]
    fn the_pin_rule_takes_half_width_alphanumerics_within_its_lengths() {
        let rule = PinRule {
            min_chars: 1,
            max_chars: 8,
        };
        for ok in ["a", "Z", "0", "Abc123", "12345678"] {
            assert_eq!(rule.check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "123456789",
            "pin pin",
            "ｐｉｎ",
            "１２３４",
            "pin-1",
            "ピン",
        ] {
            assert_eq!(rule.check(bad), Err(rule.describe()), "{bad}");
        }
        assert!(rule.describe().contains("1 文字から 8 文字まで"));
    }

    #[test]
    fn the_pkcs12_form_is_optional_and_lowercase_on_the_wire() {
        let plain: Pkcs12Request = serde_json::from_str(r#"{"pin":"1234"}"#).expect("parses");
        assert_eq!(plain.compat, None);
        let legacy: Pkcs12Request =
            serde_json::from_str(r#"{"pin":"1234","compat":"legacy"}"#).expect("parses");
        assert_eq!(legacy.compat, Some(Pkcs12Compat::Legacy));
        assert!(serde_json::from_str::<Pkcs12Request>(r#"{"pin":"1","compat":"old"}"#).is_err());
        assert_eq!("modern".parse(), Ok(Pkcs12Compat::Modern));
    }
}
