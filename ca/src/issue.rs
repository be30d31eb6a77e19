//! Issuance: the CA alone decides subject, validity and extensions.
//!
//! A client certificate carries nothing from the request but its public key:
//! subject from the profile's template, notBefore = the service clock's now,
//! notAfter from the profile's validity rule, a random positive 16-octet serial,
//! basicConstraints CA:false (critical), keyUsage digitalSignature + keyEncipherment
//! (critical; digitalSignature only for ECDSA keys, which cannot encipher keys, RFC 5480),
//! extKeyUsage clientAuth, subject and authority key identifiers (RFC 5280 method 1:
//! SHA-1 of the key bits, as openssl and Windows compute them), a CRL distribution
//! point, signed by the root.

use crate::{add_calendar_years, CaError, Profile, Root};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
    PublicKeyData, SanType, SerialNumber, SubjectPublicKeyInfo,
};
use ring::rand::{SecureRandom, SystemRandom};
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::FromDer;

/// The names of the revocation reasons [`Ca::crl`] understands (RFC 5280 §5.3.1).
pub const REVOCATION_REASONS: &[&str] = &[
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
    "aACompromise",
];

/// The certificate authority: a root, a profile and where its CRL lives.
pub struct Ca {
    root: Root,
    profile: Profile,
    crl_url: String,
}

/// What the CA needs to issue one client certificate.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    /// The DER SubjectPublicKeyInfo to certify.
    pub spki_der: &'a [u8],
    /// The user id (goes into the subject through the profile's template).
    pub user_id: &'a str,
    /// The user's mail address (available to the subject template).
    pub email: &'a str,
    /// When the issuance mail was sent: validity is anchored there.
    pub mail_sent_at: OffsetDateTime,
    /// The service clock's now: notBefore.
    pub now: OffsetDateTime,
}

/// One issued certificate.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// Upper-case hex serial, as `openssl x509 -serial` prints it.
    pub serial: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The subject, RFC 4514.
    pub subject: String,
}

/// A TLS server certificate for the confirmation listener, with its key.
pub struct ServerCert {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// Its private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
}

/// One revoked certificate, for [`Ca::crl`].
#[derive(Debug, Clone)]
pub struct Revoked<'a> {
    /// Upper-case (or lower-case) hex serial, as [`IssuedCert::serial`].
    pub serial: &'a str,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
    /// One of [`REVOCATION_REASONS`], if a reason was given.
    pub reason: Option<&'a str>,
}

impl Ca {
    /// A CA signing with `root` under `profile`; `crl_url` goes into every certificate.
    pub fn new(root: Root, profile: Profile, crl_url: impl Into<String>) -> Self {
        Self { root, profile, crl_url: crl_url.into() }
    }

    /// The root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The CRL distribution point written into every certificate.
    pub fn crl_url(&self) -> &str {
        &self.crl_url
    }

    /// Issues a client certificate for a key whose request was already verified.
    pub fn issue(&self, req: &IssueRequest<'_>) -> Result<IssuedCert, CaError> {
        let bad = |msg: String| CaError::Issue(msg);
        let public_key =
            SubjectPublicKeyInfo::from_der(req.spki_der).map_err(|e| bad(format!("public key: {e}")))?;
        let is_ec = is_ec_key(req.spki_der);
        let not_before = whole_seconds(req.now);
        let not_after = whole_seconds(self.profile.not_after(req.mail_sent_at, not_before));
        if not_after <= not_before {
            return Err(bad(format!("notAfter {not_after} would not be after notBefore {not_before}")));
        }
        let serial = random_serial()?;

        let mut params = CertificateParams::default();
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.distinguished_name = self.profile.subject_dn(req.user_id, req.email)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = if is_ec {
            vec![KeyUsagePurpose::DigitalSignature]
        } else {
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment]
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::PreSpecified(key_id(req.spki_der));
        params.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![self.crl_url.clone()] }];

        let cert = params
            .signed_by(&public_key, self.root.issuer())
            .map_err(|e| bad(format!("signing: {e}")))?;
        let der = cert.der().to_vec();
        ensure_same_key(&der, req.spki_der)?;
        Ok(IssuedCert {
            serial: webra2_wire::serial_hex(&serial),
            der,
            not_before,
            not_after,
            subject: self.profile.subject(req.user_id, req.email),
        })
    }

    /// Issues a server certificate for the confirmation listener.
    ///
    /// A fresh ECDSA P-256 key; IP addresses become IP SANs, anything else DNS SANs;
    /// valid from an hour before `now` (clock skew) to a calendar year after it.
    pub fn issue_server_cert(&self, hosts: &[String], now: OffsetDateTime) -> Result<ServerCert, CaError> {
        let bad = |msg: String| CaError::Issue(msg);
        let first = hosts.first().ok_or_else(|| bad("a server certificate needs at least one host".into()))?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| bad(format!("key: {e}")))?;
        let subject_alt_names = hosts
            .iter()
            .map(|host| match host.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => host
                    .clone()
                    .try_into()
                    .map(SanType::DnsName)
                    .map_err(|e| bad(format!("host {host:?}: {e}"))),
            })
            .collect::<Result<Vec<_>, _>>()?;

        let now = whole_seconds(now);
        let mut params = CertificateParams::default();
        params.not_before = now - Duration::hours(1);
        params.not_after = add_calendar_years(now, 1);
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, first.as_str());
        params.distinguished_name = dn;
        params.subject_alt_names = subject_alt_names;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::PreSpecified(key_id(&key.subject_public_key_info()));
        let cert = params.signed_by(&key, self.root.issuer()).map_err(|e| bad(format!("signing: {e}")))?;
        Ok(ServerCert { cert_der: cert.der().to_vec(), key_pkcs8_der: key.serialize_der() })
    }

    /// A CRL (DER) listing `revoked`, signed by the root, valid `this_update..next_update`.
    pub fn crl(
        &self,
        revoked: &[Revoked<'_>],
        crl_number: u64,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        let bad = |msg: String| CaError::Issue(msg);
        let revoked_certs = revoked
            .iter()
            .map(|r| {
                let serial = hex::decode(r.serial).map_err(|e| bad(format!("serial {:?}: {e}", r.serial)))?;
                let reason_code = r.reason.map(revocation_reason).transpose()?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&serial),
                    revocation_time: whole_seconds(r.revoked_at),
                    reason_code,
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        let params = CertificateRevocationListParams {
            this_update: whole_seconds(this_update),
            next_update: whole_seconds(next_update),
            crl_number: SerialNumber::from_slice(&crl_number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: match self.root.key_id() {
                Some(id) => KeyIdMethod::PreSpecified(id.to_vec()),
                None => KeyIdMethod::Sha256,
            },
        };
        let crl = params.signed_by(self.root.issuer()).map_err(|e| bad(format!("CRL: {e}")))?;
        Ok(crl.der().to_vec())
    }
}

fn revocation_reason(name: &str) -> Result<RevocationReason, CaError> {
    Ok(match name {
        "unspecified" => RevocationReason::Unspecified,
        "keyCompromise" => RevocationReason::KeyCompromise,
        "cACompromise" => RevocationReason::CaCompromise,
        "affiliationChanged" => RevocationReason::AffiliationChanged,
        "superseded" => RevocationReason::Superseded,
        "cessationOfOperation" => RevocationReason::CessationOfOperation,
        "certificateHold" => RevocationReason::CertificateHold,
        "privilegeWithdrawn" => RevocationReason::PrivilegeWithdrawn,
        "aACompromise" => RevocationReason::AaCompromise,
        other => {
            return Err(CaError::Issue(format!(
                "unknown revocation reason {other:?} ({})",
                REVOCATION_REASONS.join(", ")
            )))
        }
    })
}

/// Certificates carry whole seconds; dropping the fraction here keeps what the CA
/// reports equal to what the certificate says.
fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

/// 16 random octets from the OS CSPRNG, the first in 0x01..=0x7F: positive, with no
/// leading zero to drop, so openssl prints exactly these 32 hex digits.
pub(crate) fn random_serial() -> Result<[u8; 16], CaError> {
    let mut serial = [0u8; 16];
    SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| CaError::Issue("the system random generator failed".into()))?;
    serial[0] = serial[0] % 0x7F + 1;
    Ok(serial)
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
pub(crate) fn key_id(spki_der: &[u8]) -> Vec<u8> {
    match x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der) {
        Ok((_, spki)) => Sha1::digest(&spki.subject_public_key.data).to_vec(),
        // Unreachable for keys that reached issuance; still a stable identifier.
        Err(_) => Sha1::digest(spki_der).to_vec(),
    }
}

fn is_ec_key(spki_der: &[u8]) -> bool {
    x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map(|(_, spki)| spki.algorithm.algorithm.to_id_string() == "1.2.840.10045.2.1")
        .unwrap_or(false)
}

/// rcgen re-encodes the key; make sure the certified key is the requested one.
fn ensure_same_key(cert_der: &[u8], spki_der: &[u8]) -> Result<(), CaError> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| CaError::Issue(format!("the issued certificate does not parse: {e}")))?;
    let (_, requested) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| CaError::Issue(format!("public key: {e}")))?;
    let issued = cert.public_key();
    if issued.algorithm.algorithm != requested.algorithm.algorithm
        || issued.subject_public_key.data != requested.subject_public_key.data
    {
        return Err(CaError::Issue("the certificate would certify another key".into()));
    }
    Ok(())
}
