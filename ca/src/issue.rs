//! Issuance: the CA alone decides subject, validity and extensions.
//!
//! A client certificate carries nothing from the request but its public key:
//! subject from the profile's template, notBefore = the service clock's now,
//! notAfter from the profile's validity rule, a random positive 16-octet serial,
//! basicConstraints CA:false (critical), keyUsage digitalSignature + keyEncipherment
//! (critical; digitalSignature only for ECDSA keys, which cannot encipher keys, RFC 5480),
//! extKeyUsage clientAuth, subject and authority key identifiers (RFC 5280 method 1:
//! SHA-1 of the key bits, as openssl and Windows compute them), a CRL distribution
//! point, Authority Information Access (the OCSP URL and the root's caIssuers URL,
//! when the CA knows them and the profile wants them), signed by the root.

use crate::{add_calendar_years, CaError, Profile, Root};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    RevocationReason, RevokedCertParams, SanType, SerialNumber, SubjectPublicKeyInfo,
};
use ring::rand::{SecureRandom, SystemRandom};
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use time::OffsetDateTime;
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
    ocsp_url: Option<String>,
    ca_issuers_url: Option<String>,
    pub(crate) responder: Option<crate::OcspResponder>,
}

/// id-pe-authorityInfoAccess.
const AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// id-ad-ocsp.
const AD_OCSP: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
/// id-ad-caIssuers.
const AD_CA_ISSUERS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");

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
        Self {
            root,
            profile,
            crl_url: crl_url.into(),
            ocsp_url: None,
            ca_issuers_url: None,
            responder: None,
        }
    }

    /// The same CA, writing an Authority Information Access extension into every
    /// client certificate: `ocsp_url` and `ca_issuers_url` (the root, DER), each
    /// unless the profile's `[aia]` turns it off.
    pub fn with_status_urls(
        mut self,
        ocsp_url: impl Into<String>,
        ca_issuers_url: impl Into<String>,
    ) -> Self {
        self.ocsp_url = Some(ocsp_url.into());
        self.ca_issuers_url = Some(ca_issuers_url.into());
        self
    }

    /// The OCSP URL certificates carry, if any.
    pub fn ocsp_url(&self) -> Option<&str> {
        self.ocsp_url.as_deref().filter(|_| self.profile.aia_ocsp)
    }

    /// The same CA under another root (the factory's untrusted issuer), without
    /// an OCSP responder.
    pub fn with_root(&self, root: Root) -> Self {
        Self {
            root,
            profile: self.profile.clone(),
            crl_url: self.crl_url.clone(),
            ocsp_url: self.ocsp_url.clone(),
            ca_issuers_url: self.ca_issuers_url.clone(),
            responder: None,
        }
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
        let not_before = whole_seconds(req.now);
        let not_after = whole_seconds(self.profile.not_after(req.mail_sent_at, not_before));
        self.issue_for_period(req.spki_der, req.user_id, req.email, not_before, not_after)
    }

    /// Issues a client certificate, as [`Ca::issue`] does, valid exactly
    /// `not_before..=not_after` (whole seconds): the administrator's factory,
    /// which makes certificates expired or not yet valid on purpose.
    pub fn issue_for_period(
        &self,
        spki_der: &[u8],
        user_id: &str,
        email: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCert, CaError> {
        let bad = |msg: String| CaError::Issue(msg);
        let public_key = SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|e| bad(format!("public key: {e}")))?;
        let is_ec = is_ec_key(spki_der);
        let (not_before, not_after) = (whole_seconds(not_before), whole_seconds(not_after));
        if not_after <= not_before {
            return Err(bad(format!(
                "notAfter {not_after} would not be after notBefore {not_before}"
            )));
        }
        let serial = random_serial()?;

        let mut params = CertificateParams::default();
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.distinguished_name = self.profile.subject_dn(user_id, email)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = if is_ec {
            vec![KeyUsagePurpose::DigitalSignature]
        } else {
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ]
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::PreSpecified(key_id(spki_der));
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![self.crl_url.clone()],
        }];
        if let Some(aia) = self.aia_extension()? {
            params.custom_extensions.push(aia);
        }

        let cert = params
            .signed_by(&public_key, self.root.issuer())
            .map_err(|e| bad(format!("signing: {e}")))?;
        let der = cert.der().to_vec();
        ensure_same_key(&der, spki_der)?;
        Ok(IssuedCert {
            serial: webra2_wire::serial_hex(&serial),
            der,
            not_before,
            not_after,
            subject: self.profile.subject(user_id, email),
        })
    }

    /// The Authority Information Access extension (RFC 5280 §4.2.2.1), if the
    /// CA knows its status URLs and the profile wants either.
    fn aia_extension(&self) -> Result<Option<rcgen::CustomExtension>, CaError> {
        use der::Encode;
        use x509_cert::ext::pkix::name::GeneralName;
        use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
        let bad = |msg: String| CaError::Issue(msg);
        let wanted = [
            (AD_OCSP, self.ocsp_url()),
            (
                AD_CA_ISSUERS,
                self.ca_issuers_url
                    .as_deref()
                    .filter(|_| self.profile.aia_ca_issuers),
            ),
        ];
        let descriptions = wanted
            .into_iter()
            .filter_map(|(method, url)| url.map(|u| (method, u)))
            .map(|(access_method, url)| {
                let uri = der::asn1::Ia5String::new(url)
                    .map_err(|e| bad(format!("AIA URL {url:?}: {e}")))?;
                Ok(AccessDescription {
                    access_method,
                    access_location: GeneralName::UniformResourceIdentifier(uri),
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        if descriptions.is_empty() {
            return Ok(None);
        }
        let der = AuthorityInfoAccessSyntax(descriptions)
            .to_der()
            .map_err(|e| bad(format!("AIA: {e}")))?;
        Ok(Some(rcgen::CustomExtension::from_oid_content(AIA, der)))
    }

    /// Issues a server certificate for the confirmation listener.
    ///
    /// A fresh ECDSA P-256 key; IP addresses become IP SANs, anything else DNS SANs;
    /// valid from an hour before `now` (clock skew) to a calendar year after it.
    pub fn issue_server_cert(
        &self,
        hosts: &[String],
        now: OffsetDateTime,
    ) -> Result<ServerCert, CaError> {
        let bad = |msg: String| CaError::Issue(msg);
        let first = hosts
            .first()
            .ok_or_else(|| bad("a server certificate needs at least one host".into()))?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| bad(format!("key: {e}")))?;
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
        // Clients check this certificate against their own (real) clock while the
        // service clock may be fixed years away: ten years either side covers both.
        params.not_before = add_calendar_years(now, -10);
        params.not_after = add_calendar_years(now, 10);
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, first.as_str());
        params.distinguished_name = dn;
        params.subject_alt_names = subject_alt_names;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method =
            KeyIdMethod::PreSpecified(key_id(&key.subject_public_key_info()));
        let cert = params
            .signed_by(&key, self.root.issuer())
            .map_err(|e| bad(format!("signing: {e}")))?;
        Ok(ServerCert {
            cert_der: cert.der().to_vec(),
            key_pkcs8_der: key.serialize_der(),
        })
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
                let serial = hex::decode(r.serial)
                    .map_err(|e| bad(format!("serial {:?}: {e}", r.serial)))?;
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
        let crl = params
            .signed_by(self.root.issuer())
            .map_err(|e| bad(format!("CRL: {e}")))?;
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
pub(crate) fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
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
        return Err(CaError::Issue(
            "the certificate would certify another key".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_csr;
    use crate::test_support::{fixture_bytes, fixture_path, openssl, temp_dir, write};
    use serde_json::{json, Value};
    use time::macros::datetime;
    use webra2_wire::pem_encode as pem_lf;
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    use x509_parser::prelude::X509Certificate;

    const CRL_URL: &str = "http://127.0.0.1:8080/ca/crl";
    const MAIL_SENT_AT: OffsetDateTime = datetime!(2026-11-25 09:00 +09:00);
    const NOW: OffsetDateTime = datetime!(2026-12-01 14:30:15.123456 +09:00);

    fn ca(profile: &str) -> Ca {
        let profile = Profile::builtin(profile).unwrap_or_else(|| panic!("{profile} is built in"));
        Ca::new(Root::fixture(), profile, CRL_URL)
    }

    fn spki(csr: &str) -> Vec<u8> {
        parse_csr(&fixture_bytes(&format!("csr/{csr}")))
            .unwrap_or_else(|e| panic!("{csr}: {e}"))
            .spki_der
    }

    fn issue(ca: &Ca, spki_der: &[u8]) -> IssuedCert {
        ca.issue(&IssueRequest {
            spki_der,
            user_id: "U0001",
            email: "u0001@example.test",
            mail_sent_at: MAIL_SENT_AT,
            now: NOW,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        x509_parser::parse_x509_certificate(der)
            .map(|(_, c)| c)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The fields of a certificate as data, with what changes from run to run redacted here.
    fn summary(der: &[u8]) -> Value {
        let cert = parse(der);
        let extensions: Vec<Value> = cert
            .extensions()
            .iter()
            .map(|ext| {
                let value = match ext.parsed_extension() {
                    ParsedExtension::BasicConstraints(bc) => {
                        json!({"ca": bc.ca, "path_len": bc.path_len_constraint})
                    }
                    ParsedExtension::KeyUsage(ku) => json!(ku.to_string()),
                    ParsedExtension::ExtendedKeyUsage(eku) => json!({
                        "client_auth": eku.client_auth,
                        "server_auth": eku.server_auth,
                        "other": eku.other.iter().map(|o| o.to_id_string()).collect::<Vec<_>>(),
                    }),
                    ParsedExtension::SubjectKeyIdentifier(_) => json!("[key id]"),
                    ParsedExtension::AuthorityKeyIdentifier(aki) => json!({
                        "key_identifier": aki.key_identifier.as_ref().map(|_| "[root key id]"),
                        "issuer": aki.authority_cert_issuer.is_some(),
                        "serial": aki.authority_cert_serial.is_some(),
                    }),
                    ParsedExtension::CRLDistributionPoints(points) => json!(points
                        .iter()
                        .map(|p| match &p.distribution_point {
                            Some(DistributionPointName::FullName(names)) => names
                                .iter()
                                .map(|n| match n {
                                    GeneralName::URI(uri) => (*uri).to_owned(),
                                    other => format!("{other:?}"),
                                })
                                .collect::<Vec<_>>(),
                            other => vec![format!("{other:?}")],
                        })
                        .collect::<Vec<_>>()),
                    other => json!(format!("{other:?}")),
                };
                let oid = ext.oid.to_id_string();
                let name = match oid.as_str() {
                    "2.5.29.14" => "subjectKeyIdentifier",
                    "2.5.29.15" => "keyUsage",
                    "2.5.29.17" => "subjectAltName",
                    "2.5.29.19" => "basicConstraints",
                    "2.5.29.31" => "cRLDistributionPoints",
                    "2.5.29.35" => "authorityKeyIdentifier",
                    "2.5.29.37" => "extKeyUsage",
                    _ => "other",
                };
                json!({"name": name, "oid": oid, "critical": ext.critical, "value": value})
            })
            .collect();
        json!({
            "version": cert.version().0 + 1,
            "serial": "[serial]",
            "signature_algorithm": cert.signature_algorithm.algorithm.to_id_string(),
            "issuer": crate::dn::name_to_rfc4514(cert.issuer()),
            "subject": crate::dn::name_to_rfc4514(cert.subject()),
            "not_before": jst(cert.validity().not_before.to_datetime()),
            "not_after": jst(cert.validity().not_after.to_datetime()),
            "key_algorithm": cert.public_key().algorithm.algorithm.to_id_string(),
            "key_parameters": cert.public_key().algorithm.parameters.as_ref().map(|p| match p.as_oid() {
                Ok(oid) if p.tag() == x509_parser::der_parser::asn1_rs::Tag::Oid => oid.to_id_string(),
                _ => format!("{}", p.tag()),
            }),
            "extensions": extensions,
        })
    }

    fn jst(at: OffsetDateTime) -> String {
        webra2_wire::in_jst(at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn ski_and_aki(der: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let cert = parse(der);
        let mut ski = None;
        let mut aki = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => ski = Some(id.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => {}
            }
        }
        (ski, aki)
    }

    #[test]
    fn an_rsa_1024_client_certificate_has_exactly_the_contract_fields() {
        let issued = issue(&ca("webra2"), &spki("rsa1024.csr.pem"));
        insta::assert_json_snapshot!("client_certificate_rsa1024", summary(&issued.der));
    }

    #[test]
    fn validity_runs_from_now_in_whole_seconds_to_two_years_after_the_mail() {
        let issued = issue(&ca("webra2"), &spki("rsa1024.csr.pem"));
        assert_eq!(issued.not_before, datetime!(2026-12-01 14:30:15 +09:00));
        assert_eq!(issued.not_after, datetime!(2028-11-25 09:00 +09:00));
        let cert = parse(&issued.der);
        assert_eq!(
            cert.validity().not_before.timestamp(),
            issued.not_before.unix_timestamp()
        );
        assert_eq!(
            cert.validity().not_after.timestamp(),
            issued.not_after.unix_timestamp()
        );
    }

    #[test]
    fn the_issuer_is_the_roots_subject_byte_for_byte_and_the_key_is_the_requests() {
        let ca = ca("webra2");
        let spki_der = spki("rsa1024.csr.pem");
        let issued = issue(&ca, &spki_der);
        let cert = parse(&issued.der);
        assert_eq!(cert.issuer().as_raw(), ca.root().subject_der());
        assert_eq!(cert.public_key().raw, spki_der.as_slice());
        assert_eq!(issued.subject, "CN=U0001");
    }

    #[test]
    fn the_serial_is_sixteen_positive_octets_printed_in_upper_case_hex() {
        let ca = ca("webra2");
        let spki_der = spki("rsa1024.csr.pem");
        let first = issue(&ca, &spki_der);
        let second = issue(&ca, &spki_der);
        assert_ne!(first.serial, second.serial);
        for issued in [first, second] {
            assert_eq!(issued.serial.len(), 32);
            assert!(issued
                .serial
                .chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
            assert!(!issued.serial.starts_with("00") && issued.serial.as_bytes()[0] < b'8');
            let cert = parse(&issued.der);
            assert_eq!(webra2_wire::serial_hex(cert.raw_serial()), issued.serial);
        }
    }

    #[test]
    fn the_authority_key_identifier_is_the_roots_subject_key_identifier() {
        let ca = ca("webra2");
        let issued = issue(&ca, &spki("rsa1024.csr.pem"));
        let (ski, aki) = ski_and_aki(&issued.der);
        assert_eq!(aki.as_deref(), ca.root().key_id());
        assert!(ca.root().key_id().is_some());
        assert_eq!(ski.map(|s| s.len()), Some(20));
    }

    #[test]
    fn nothing_the_windows_request_asks_for_reaches_the_certificate() {
        let issued = issue(&ca("webra2"), &spki("rsa1024-windows.csr.pem"));
        let plain = issue(&ca("webra2"), &spki("rsa1024.csr.pem"));
        // Same shape as a plain request's certificate: no SAN, no template, not a CA.
        assert_eq!(summary(&issued.der), summary(&plain.der));
        let cert = parse(&issued.der);
        assert_eq!(crate::dn::name_to_rfc4514(cert.subject()), "CN=U0001");
        assert!(cert.subject_alternative_name().ok().flatten().is_none());
        assert_eq!(
            cert.basic_constraints()
                .ok()
                .flatten()
                .map(|bc| bc.value.ca),
            Some(false)
        );
    }

    #[test]
    fn an_ecdsa_key_gets_digital_signature_only() {
        let issued = issue(&ca("modern"), &spki("p384-sha256.csr.pem"));
        let cert = parse(&issued.der);
        let ku = cert
            .key_usage()
            .ok()
            .flatten()
            .map(|k| (k.critical, k.value.to_string()));
        assert_eq!(ku, Some((true, "Digital Signature".to_owned())));
    }

    #[test]
    fn a_subject_template_with_the_email_is_honoured() {
        let text = include_str!("../../fixtures/profiles/webra2.toml").replace(
            "template = \"CN={user_id}\"",
            "template = \"CN={user_id}, emailAddress={email}, O=Example, C=JP\"",
        );
        let profile = Profile::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let ca = Ca::new(Root::fixture(), profile, CRL_URL);
        let issued = issue(&ca, &spki("rsa1024.csr.pem"));
        let expected = "CN=U0001,emailAddress=u0001@example.test,O=Example,C=JP";
        assert_eq!(issued.subject, expected);
        assert_eq!(
            crate::dn::name_to_rfc4514(parse(&issued.der).subject()),
            expected
        );
    }

    #[test]
    fn a_key_that_is_not_a_public_key_is_an_issue_error() {
        let err = ca("webra2").issue(&IssueRequest {
            spki_der: b"\x30\x03\x02\x01\x00",
            user_id: "U0001",
            email: "",
            mail_sent_at: MAIL_SENT_AT,
            now: NOW,
        });
        assert!(matches!(err, Err(CaError::Issue(_))));
    }

    #[test]
    fn a_clock_past_the_validity_end_refuses_to_issue() {
        let spki_der = spki("rsa1024.csr.pem");
        let err = ca("webra2").issue(&IssueRequest {
            spki_der: &spki_der,
            user_id: "U0001",
            email: "",
            mail_sent_at: MAIL_SENT_AT,
            now: datetime!(2029-01-01 00:00 +09:00),
        });
        assert!(matches!(err, Err(CaError::Issue(_))));
    }

    #[test]
    fn openssl_verifies_client_certificates_against_the_fixture_root() {
        let ca = ca("modern");
        let dir = temp_dir();
        for (i, csr) in ["rsa2048.csr.pem", "p256.csr.pem", "p384.csr.pem"]
            .iter()
            .enumerate()
        {
            let issued = issue(&ca, &spki(csr));
            let leaf = write(
                &dir,
                &format!("leaf{i}.pem"),
                pem_lf("CERTIFICATE", &issued.der).as_bytes(),
            );
            let root = fixture_path("root.cert.pem").to_string_lossy().into_owned();
            // -attime: the certificate is dated 2026, whatever today is.
            let at = issued.not_before.unix_timestamp() + 60;
            let Some(out) = openssl(&[
                "verify",
                "-attime",
                &at.to_string(),
                "-purpose",
                "sslclient",
                "-CAfile",
                &root,
                &leaf,
            ]) else {
                return;
            };
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.trim().ends_with(": OK"),
                "{csr}: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            );

            let Some(out) = openssl(&["x509", "-in", &leaf, "-noout", "-serial"]) else {
                return;
            };
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                format!("serial={}", issued.serial)
            );
        }
    }

    #[test]
    fn the_server_certificate_names_its_hosts_and_verifies_for_tls_servers() {
        let ca = ca("webra2");
        let now = datetime!(2026-12-01 14:30:15.5 +09:00);
        let hosts = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let server = ca
            .issue_server_cert(&hosts, now)
            .unwrap_or_else(|e| panic!("{e}"));
        let cert = parse(&server.cert_der);
        let sans: Vec<String> = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .map(|n| match n {
                        GeneralName::DNSName(name) => format!("DNS:{name}"),
                        GeneralName::IPAddress(ip) => match <[u8; 4]>::try_from(*ip) {
                            Ok(v4) => format!("IP:{}", IpAddr::from(v4)),
                            Err(_) => format!(
                                "IP:{}",
                                <[u8; 16]>::try_from(*ip)
                                    .map(IpAddr::from)
                                    .map(|a| a.to_string())
                                    .unwrap_or_default()
                            ),
                        },
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(sans, vec!["DNS:localhost", "IP:127.0.0.1", "IP:::1"]);
        assert_eq!(
            cert.extended_key_usage()
                .ok()
                .flatten()
                .map(|e| e.value.server_auth),
            Some(true)
        );
        assert_eq!(
            cert.validity().not_before.timestamp(),
            datetime!(2016-12-01 14:30:15 +09:00).unix_timestamp(),
            "ten years before the service clock: clients check it with their own clock"
        );
        assert_eq!(
            cert.validity().not_after.timestamp(),
            datetime!(2036-12-01 14:30:15 +09:00).unix_timestamp()
        );
        assert_eq!(cert.issuer().as_raw(), ca.root().subject_der());

        let key = KeyPair::from_pkcs8_der_and_sign_algo(
            &rustls_pki_types::PrivatePkcs8KeyDer::from(server.key_pkcs8_der.as_slice()),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.subject_public_key_info(), cert.public_key().raw);

        let dir = temp_dir();
        let leaf = write(
            &dir,
            "server.pem",
            pem_lf("CERTIFICATE", &server.cert_der).as_bytes(),
        );
        let root = fixture_path("root.cert.pem").to_string_lossy().into_owned();
        let at = (now.unix_timestamp() + 60).to_string();
        let Some(out) = openssl(&[
            "verify",
            "-attime",
            &at,
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "localhost",
            "-CAfile",
            &root,
            &leaf,
        ]) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.trim().ends_with(": OK"),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn a_server_certificate_needs_a_host() {
        assert!(matches!(
            ca("webra2").issue_server_cert(&[], NOW),
            Err(CaError::Issue(_))
        ));
    }

    #[test]
    fn the_crl_lists_revoked_serials_and_verifies_against_the_root() {
        let ca = ca("webra2");
        let issued = issue(&ca, &spki("rsa1024.csr.pem"));
        let crl = ca
            .crl(
                &[Revoked {
                    serial: &issued.serial,
                    revoked_at: NOW,
                    reason: Some("keyCompromise"),
                }],
                7,
                NOW,
                NOW + time::Duration::days(7),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let (_, parsed) = x509_parser::revocation_list::CertificateRevocationList::from_der(&crl)
            .unwrap_or_else(|e| panic!("{e}"));
        let serials: Vec<String> = parsed
            .iter_revoked_certificates()
            .map(|r| webra2_wire::serial_hex(r.raw_serial()))
            .collect();
        assert_eq!(serials, vec![issued.serial.clone()]);
        assert_eq!(parsed.issuer().as_raw(), ca.root().subject_der());

        let dir = temp_dir();
        let path = write(&dir, "crl.der", &crl);
        let root = fixture_path("root.cert.pem").to_string_lossy().into_owned();
        let Some(out) = openssl(&[
            "crl", "-inform", "DER", "-in", &path, "-noout", "-CAfile", &root,
        ]) else {
            return;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("verify OK"), "{stderr}");
    }

    #[test]
    fn an_unknown_revocation_reason_is_refused() {
        let ca = ca("webra2");
        let err = ca.crl(
            &[Revoked {
                serial: "01",
                revoked_at: NOW,
                reason: Some("lostPin"),
            }],
            1,
            NOW,
            NOW + time::Duration::days(1),
        );
        assert!(matches!(err, Err(CaError::Issue(m)) if m.contains("lostPin")));
    }
}
