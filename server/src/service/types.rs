//! Validated values at the service's boundary. The HTTP layer parses what it
//! received into these; the service takes only these, so every operation
//! starts from values that are already known to be well-formed. A parse error
//! is the problem document the caller gets.

use super::error::ServiceError;
use time::macros::datetime;
use time::OffsetDateTime;
use webra2_wire::{Kind, PinRule, PrepareEnrollment};

/// A user id: 1 to 64 characters of `A-Z a-z 0-9 . _ @ -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    /// `s`, if it is a user id.
    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
        if !ok {
            return Err(ServiceError::invalid(
                "user_id must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain mail address (`local@domain`, no spaces, no angle brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// `s`, if it is a plain address.
    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        let ok = s.len() <= 254
            && s.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if !ok {
            return Err(ServiceError::invalid(
                "email must be a plain address like user@example.test",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An auth password (認証情報パスワード). Its `Debug` never shows it.
#[derive(Clone)]
pub struct AuthPassword(String);

impl std::fmt::Debug for AuthPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthPassword([redacted])")
    }
}

impl AuthPassword {
    /// The password an administrator sets: 1 to 128 characters.
    pub fn parse_new(s: &str) -> Result<Self, ServiceError> {
        if s.is_empty() || s.chars().count() > 128 {
            return Err(ServiceError::invalid(
                "auth_password must be 1 to 128 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// A password a user submits at Step 1: anything up to 1 KiB is checked
    /// (and counted when wrong); a longer one is refused unchecked.
    pub fn parse_submitted(s: &str) -> Result<Self, ServiceError> {
        if s.len() > 1024 {
            return Err(ServiceError::invalid("the auth password is too long"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The password itself, for hashing or checking.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// A one-time URL's token: URL-safe base64 of at most 128 characters.
/// Anything else cannot be one of ours, and is an unknown URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken(String);

impl OneTimeToken {
    /// `s`, if it has the shape of a token.
    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(ServiceError::UnknownUrl);
        }
        Ok(Self(s.to_owned()))
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The PIN that protects a service-made PKCS#12. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Pin(String);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

impl Pin {
    /// `s`, if it meets the profile's PIN rule (the manual's: half-width
    /// alphanumerics, case-sensitive; lengths from the profile).
    pub fn parse(s: &str, rule: &PinRule) -> Result<Self, ServiceError> {
        rule.check(s).map_err(ServiceError::invalid)?;
        Ok(Self(s.to_owned()))
    }

    /// The PIN itself, for encrypting.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// A certificate serial as the contract writes it: upper-case hex, no separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serial(String);

impl Serial {
    /// `s` with `:` separators dropped and upper-cased. A serial that is not
    /// hex names no certificate of ours.
    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        let hex = s.replace(':', "").to_ascii_uppercase();
        if hex.is_empty() || hex.len() > 128 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::not_found(format!("no certificate {hex}")));
        }
        Ok(Self(hex))
    }

    /// The serial.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An RFC 5280 revocation reason by name (`keyCompromise`, `superseded`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// The reason named `s`; `unspecified` when absent.
    pub fn parse(s: Option<&str>) -> Result<Self, ServiceError> {
        let name = s.unwrap_or("unspecified");
        if !webra2_ca::REVOCATION_REASONS.contains(&name) {
            return Err(ServiceError::invalid(format!(
                "reason must be one of {}",
                webra2_ca::REVOCATION_REASONS.join(", ")
            )));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The earliest instant the service works with: X.509 validity before 1950
/// cannot be written as RFC 5280 asks (UTCTime starts there).
pub const EARLIEST: OffsetDateTime = datetime!(1950-01-01 00:00:00 UTC);
/// The latest instant the service works with: a mail sent then still has
/// its two years (and a URL its 365 days, a CRL its week, Japan time its nine
/// hours) before X.509's last representable second, 9999-12-31T23:59:59Z.
pub const LATEST: OffsetDateTime = datetime!(9997-12-31 23:59:59 UTC);

/// An instant inside [`EARLIEST`, `LATEST`]: a mail date or the clock's now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceInstant(OffsetDateTime);

impl ServiceInstant {
    /// `at`, if the service can work with it; `what` names the field in the refusal.
    pub fn parse(at: OffsetDateTime, what: &str) -> Result<Self, ServiceError> {
        if !(EARLIEST..=LATEST).contains(&at) {
            return Err(ServiceError::invalid(format!(
                "{what} must be between 1950-01-01T00:00:00Z and 9997-12-31T23:59:59Z \
                 (what X.509 validity with the two-year rule can represent)"
            )));
        }
        Ok(Self(at))
    }

    /// The instant.
    pub fn get(self) -> OffsetDateTime {
        self.0
    }
}

/// An issuance to prepare, every field checked.
#[derive(Debug, Clone)]
pub struct Preparation {
    /// Who the certificate is for.
    pub user_id: UserId,
    /// Where the mail goes.
    pub email: Email,
    /// The auth password.
    pub auth_password: AuthPassword,
    /// New issuance or renewal.
    pub kind: Kind,
    /// When the mail counts as sent; the service clock's now when absent.
    pub mail_sent_at: Option<ServiceInstant>,
    /// Days the URL stays valid (1 to 365); the configured default when absent.
    pub url_valid_days: Option<u32>,
    /// For a renewal: issuing revokes the renewed certificate.
    pub revoke_previous: bool,
}

impl Preparation {
    /// The request of `POST /admin/enrollments`, checked field by field.
    pub fn parse(req: &PrepareEnrollment) -> Result<Self, ServiceError> {
        let user_id = UserId::parse(&req.user_id)?;
        let email = Email::parse(&req.email)?;
        let auth_password = AuthPassword::parse_new(&req.auth_password)?;
        let mail_sent_at = req
            .mail_sent_at
            .map(|at| ServiceInstant::parse(at, "mail_sent_at"))
            .transpose()?;
        if let Some(days) = req.url_valid_days {
            if !(1..=365).contains(&days) {
                return Err(ServiceError::invalid(
                    "url_valid_days must be between 1 and 365",
                ));
            }
        }
        if req.kind == Kind::New && req.revoke_previous {
            return Err(ServiceError::invalid(
                "revoke_previous applies to a renewal (kind renew) only",
            ));
        }
        Ok(Self {
            user_id,
            email,
            auth_password,
            kind: req.kind,
            mail_sent_at,
            url_valid_days: req.url_valid_days,
            revoke_previous: req.revoke_previous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_outside_the_alphabet_or_length_are_refused() {
        assert!(UserId::parse("U0001").is_ok());
        assert!(UserId::parse("a.b_c@d-e").is_ok());
        for bad in ["", "with space", "日本", &"x".repeat(65)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_that_cannot_be_ours_are_unknown_urls() {
        assert!(OneTimeToken::parse("abcDEF_-123").is_ok());
        for bad in ["", "a/b", "a b", "%41", &"a".repeat(129)] {
            assert!(
                matches!(OneTimeToken::parse(bad), Err(ServiceError::UnknownUrl)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serials_lose_their_colons_and_case_and_non_hex_names_nothing() {
        assert_eq!(
            Serial::parse("0a:ff:01").map(|s| s.0).ok(),
            Some("0AFF01".into())
        );
        assert!(matches!(
            Serial::parse("xyz"),
            Err(ServiceError::NotFound { .. })
        ));
    }

    #[test]
    fn pins_and_passwords_never_show_in_debug_output() {
        let pin = Pin::parse("secretpin1", &PinRule::default()).expect("a PIN");
        let pw = AuthPassword::parse_new("hunter2").expect("a password");
        let text = format!("{pin:?} {pw:?}");
        assert!(
            !text.contains("secretpin1") && !text.contains("hunter2"),
            "{text}"
        );
    }

    #[test]
    fn a_pin_outside_the_rule_is_refused_in_the_rules_words() {
        let rule = PinRule {
            min_chars: 1,
            max_chars: 1024,
        };
        assert!(Pin::parse("a", &rule).is_ok());
        assert!(Pin::parse(&"Z9".repeat(512), &rule).is_ok());
        for bad in [
            String::new(),
            "p".repeat(1025),
            "pin!".into(),
            "ＰＩＮ".into(),
        ] {
            let err = Pin::parse(&bad, &rule).map(drop).map_err(|e| e.to_string());
            assert_eq!(err, Err(rule.describe()), "{bad}");
        }
    }

    #[test]
    fn instants_outside_what_x509_and_the_two_year_rule_represent_are_refused() {
        for bad in [
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(9998-01-01 00:00 UTC),
            datetime!(0000-01-01 00:00 +14:00),
            datetime!(1949-12-31 23:59:59 UTC),
        ] {
            assert!(ServiceInstant::parse(bad, "now").is_err(), "{bad}");
        }
        for good in [EARLIEST, LATEST, datetime!(2026-12-02 09:00 +09:00)] {
            assert_eq!(
                ServiceInstant::parse(good, "now")
                    .map(ServiceInstant::get)
                    .ok(),
                Some(good)
            );
        }
    }

    #[test]
    fn revoke_previous_goes_with_a_renewal_only() {
        let mut req = PrepareEnrollment {
            user_id: "U1".into(),
            email: "u1@example.test".into(),
            auth_password: "pw".into(),
            kind: Kind::New,
            mail_sent_at: None,
            url_valid_days: None,
            revoke_previous: true,
        };
        assert!(Preparation::parse(&req).is_err());
        req.kind = Kind::Renew;
        assert!(Preparation::parse(&req).is_ok());
    }
}
