//! The admin listener's requests and responses: preparation, outbox,
//! certificates, clock.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Whether an enrollment is a first issuance or a renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A first issuance, under the title 証明書発行サイト.
    #[default]
    New,
    /// A renewal, under the title 証明書更新サイト.
    Renew,
}

impl Kind {
    /// The wire name (`new`, `renew`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Renew => "renew",
        }
    }

    /// The kind with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Kind::New),
            "renew" => Some(Kind::Renew),
            _ => None,
        }
    }
}

/// Where an enrollment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EnrollmentState {
    /// Prepared and mailed; nobody has proved the password yet.
    Pending,
    /// The password was proved at least once; no certificate yet.
    Authenticated,
    /// The URL issued its certificate and is used up.
    Issued,
    /// Too many wrong passwords.
    Locked,
    /// Past `url_expires_at` without issuing.
    Expired,
}

impl EnrollmentState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Authenticated => "authenticated",
            Self::Issued => "issued",
            Self::Locked => "locked",
            Self::Expired => "expired",
        }
    }

    /// The state with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Authenticated,
            Self::Issued,
            Self::Locked,
            Self::Expired,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// `POST /admin/enrollments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrepareEnrollment {
    /// The user id the certificate is issued to (its CN).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$"))]
    pub user_id: String,
    /// Where the issuance mail goes.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\s<>@\x00-\x1f\x7f-\x9f]+@[^\s<>\x00-\x1f\x7f-\x9f]+$",
            max_length = 254
        )
    )]
    pub email: String,
    /// The 認証情報パスワード the user must prove in Step 1.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub auth_password: String,
    /// `new` (default) or `renew`.
    #[serde(default)]
    pub kind: Kind,
    /// When the mail counts as sent; defaults to the service clock's now.
    /// Between 1950 and 9997 (X.509 validity with the two-year rule; the
    /// schema's pattern says 1951 to 9996, whatever the offset).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^(195[1-9]|19[6-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-6])-"
        )
    )]
    pub mail_sent_at: Option<OffsetDateTime>,
    /// How many days the URL stays valid after the mail (default 30).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub url_valid_days: Option<u32>,
    /// For a renewal: revoke the renewed certificate (reason `superseded`) in the same
    /// transaction that issues the new one. Default `false`: it stays valid until it expires.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoke_previous: bool,
}

/// `201` answer to `POST /admin/enrollments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentCreated {
    /// The enrollment's id, for `GET /admin/enrollments/{id}`.
    pub enrollment_id: String,
    /// The URL the mail carries.
    pub one_time_url: String,
    /// `new` or `renew`.
    pub kind: Kind,
    /// When the mail counts as sent.
    #[serde(with = "time::serde::rfc3339")]
    pub mail_sent_at: OffsetDateTime,
    /// When the URL stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub url_expires_at: OffsetDateTime,
}

/// One mail of the outbox (`GET /admin/mails`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mail {
    /// The mail's id.
    pub id: String,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body: user id, one-time URL and advice, never the password.
    pub body: String,
    /// The one-time URL the body carries.
    pub one_time_url: String,
    /// When the mail counts as sent.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

/// `GET /admin/enrollments/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentView {
    /// The enrollment's id.
    pub enrollment_id: String,
    /// The user it is for.
    pub user_id: String,
    /// `new` or `renew`.
    pub kind: Kind,
    /// Where it is in its life.
    pub state: EnrollmentState,
    /// When the mail counts as sent.
    #[serde(with = "time::serde::rfc3339")]
    pub mail_sent_at: OffsetDateTime,
    /// When the URL stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub url_expires_at: OffsetDateTime,
    /// The serial of the certificate it issued, once issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// For a renewal: the serial of the certificate it renews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_serial: Option<String>,
    /// For a renewal: whether issuing revokes the renewed certificate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoke_previous: bool,
}

/// Whether a certificate still counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CertStatus {
    /// Within its validity and not revoked.
    Valid,
    /// Revoked by the administrator.
    Revoked,
    /// Past its notAfter.
    Expired,
    /// Before its notBefore (the administrator's factory makes such).
    #[serde(rename = "not_yet_valid")]
    NotYetValid,
}

/// One issued certificate (`GET /admin/certificates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateView {
    /// Upper-case hex, as `openssl x509 -serial` prints it.
    pub serial: String,
    /// The user it was issued to.
    pub user_id: String,
    /// The enrollment that issued it.
    pub enrollment_id: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `valid`, `revoked` or `expired`, at the service clock's now.
    pub status: CertStatus,
    /// When it was revoked.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked (RFC 5280 reason name).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `PUT /admin/clock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// The instant the service clock shows from now on (between 1950 and 9997).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^(195[1-9]|19[6-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-6])-"
        )
    )]
    pub now: OffsetDateTime,
    /// `false` (default): the clock stands still at `now`. `true`: it runs on from `now`.
    #[serde(default)]
    pub running: bool,
}

/// The answer to `GET`, `PUT` and `DELETE /admin/clock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockView {
    /// The service clock's now.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    /// `real`, `fixed` or `offset` (set, and running on).
    pub mode: String,
}

/// The revocation reasons `POST /admin/certificates/{serial}/revoke` takes, as
/// the pattern of its `reason` (RFC 5280 names; the CA's list, checked by a test).
pub const REVOCATION_REASON_PATTERN: &str = "^(unspecified|keyCompromise|cACompromise|affiliationChanged|superseded|cessationOfOperation|certificateHold|privilegeWithdrawn|aACompromise)$";

/// The body of `POST /admin/certificates/{serial}/revoke` (it may also be empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// An RFC 5280 reason name (`keyCompromise`, `superseded`, ...); `unspecified` when absent.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(unspecified|keyCompromise|cACompromise|affiliationChanged|superseded|cessationOfOperation|certificateHold|privilegeWithdrawn|aACompromise)$"
        )
    )]
    pub reason: Option<String>,
}

/// The key `POST /admin/certificates` generates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactoryKey {
    /// RSA-1024, as the real service's CSP made.
    #[serde(rename = "rsa-1024")]
    Rsa1024,
    /// RSA-2048.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// ECDSA on P-256.
    #[serde(rename = "p256")]
    P256,
}

/// The state a factory certificate is made in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactoryState {
    /// Valid now.
    Valid,
    /// Its notAfter already passed.
    Expired,
    /// Its notBefore is still to come.
    NotYetValid,
    /// Revoked now (with `reason`).
    Revoked,
}

/// Who issues a factory certificate.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactoryIssuer {
    /// The service's root (the default).
    #[default]
    Root,
    /// A second root with the same subject name but its own key, trusted by
    /// nobody: a relying party must refuse its certificates.
    Untrusted,
}

/// `POST /admin/certificates`: a certificate made to order, without the site.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCertificate {
    /// The user id (its CN, through the profile's subject template).
    pub user_id: String,
    /// The PIN the PKCS#12 (or the PKCS#8 key) is encrypted with.
    pub pin: String,
    /// The key to generate.
    pub key: FactoryKey,
    /// The state to make it in.
    pub state: FactoryState,
    /// With `revoked`: an RFC 5280 reason name; `unspecified` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its notBefore, given outright (else what the state implies).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub not_before: Option<OffsetDateTime>,
    /// Its notAfter, given outright (else what the state implies).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub not_after: Option<OffsetDateTime>,
    /// `root` (default) or `untrusted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<FactoryIssuer>,
}

/// `201` answer to `POST /admin/certificates` with `Accept: application/json`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedCertificate {
    /// Upper-case hex serial.
    pub serial: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The key, PKCS#8 encrypted with the PIN (`ENCRYPTED PRIVATE KEY`).
    pub key_pem: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// What it is at the service clock's now.
    pub status: CertStatus,
}
