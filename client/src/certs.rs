//! Certificates as the user checks them: fingerprints, Japan-time dates, the
//! two-year rule, the formats the site serves, and the certification path.

use crate::ClientError;
use der::{Decode, Encode};
use sha1::{Digest, Sha1};
use std::time::Duration;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};
use webra2_wire::JST;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The fixture root's SHA-1 as `fixtures/root.sha1` has it (five groups).
const FIXTURE_ROOT_SHA1: &str = include_str!("../../fixtures/root.sha1");

/// The SHA-1 fingerprint of the test root the service uses by default, as the
/// issuance site prints it (five groups of eight upper-case hex digits).
pub fn fixture_root_sha1() -> &'static str {
    FIXTURE_ROOT_SHA1.trim()
}

/// A SHA-1 fingerprint reduced to 40 upper-case hex digits; accepts any case,
/// with or without spaces or colons (`F630BF00 1CBE...`, `f6:30:bf:...`).
pub fn normalize_sha1(fingerprint: &str) -> Result<String, String> {
    let hex: String = fingerprint
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(format!(
            "{fingerprint:?} is not a SHA-1 fingerprint (40 hex digits, spaces or colons allowed)"
        ))
    }
}

/// The SHA-1 digest of some DER.
pub(crate) fn sha1(der: &[u8]) -> [u8; 20] {
    Sha1::digest(der).into()
}

/// The calendar date of an instant in Japan time.
pub fn jst_date(at: OffsetDateTime) -> Date {
    at.to_offset(JST).date()
}

/// The rule of the manual: the certificate is valid until the date of the mail
/// plus two calendar years, in Japan time; a 29 February becomes 28 February.
pub fn plus_two_years_jst(mail_sent_at: OffsetDateTime) -> Date {
    let date = jst_date(mail_sent_at);
    let year = date.year() + 2;
    Date::from_calendar_date(year, date.month(), date.day())
        // Only 29 February can be missing two years on; the day before always exists.
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(date)
}

/// Parses an HTTP `Date` header (IMF-fixdate: `Tue, 25 Nov 2025 01:02:03 GMT`).
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(value.trim(), format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Parses `--mail-sent-at`: RFC 3339, or a bare `YYYY-MM-DD` meaning midnight of
/// that day in Japan time.
pub fn parse_mail_sent_at(value: &str) -> Result<OffsetDateTime, String> {
    let value = value.trim();
    if let Ok(at) = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
        return Ok(at);
    }
    Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(JST))
        .map_err(|_| format!("{value:?} is neither RFC 3339 nor YYYY-MM-DD"))
}

/// An instant for a report line: RFC 3339 in Japan time.
pub(crate) fn show(at: OffsetDateTime) -> String {
    at.to_offset(JST)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// A date as the Windows certificate dialog shows it (`2027/11/25`).
pub(crate) fn slash_date(date: Date) -> String {
    webra2_wire::slash_date(date)
}

/// The format the client certificate is downloaded in (`?format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CertFormat {
    /// PEM, leaf then root (`application/x-pem-file`).
    #[default]
    Pem,
    /// The leaf alone in DER (`application/pkix-cert`).
    Der,
    /// PKCS#7 certs-only (`application/pkcs7-mime`).
    P7c,
}

impl CertFormat {
    /// The `?format=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            CertFormat::Pem => "pem",
            CertFormat::Der => "der",
            CertFormat::P7c => "p7c",
        }
    }
}

impl std::str::FromStr for CertFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pem" => Ok(CertFormat::Pem),
            "der" | "cer" => Ok(CertFormat::Der),
            "p7c" | "p7b" | "pkcs7" => Ok(CertFormat::P7c),
            _ => Err(format!("unknown certificate format {s:?} (pem, der, p7c)")),
        }
    }
}

/// Splits a certificate answer into DER certificates by its media type:
/// PEM (chain, in order), DER (one), or PKCS#7 certs-only (a set, any order).
pub(crate) fn decode_certificates(
    content_type: &str,
    bytes: &[u8],
) -> Result<Vec<Vec<u8>>, String> {
    match content_type {
        "application/x-pem-file" | "application/pem-certificate-chain" | "text/plain" => {
            pem_certificates(bytes)
        }
        "application/pkix-cert" | "application/x-x509-ca-cert" => Ok(vec![bytes.to_vec()]),
        "application/pkcs7-mime" | "application/x-pkcs7-certificates" => p7c_certificates(bytes),
        other => Err(format!(
            "unexpected content type {other:?} for a certificate \
             (application/x-pem-file, application/pkix-cert or application/pkcs7-mime)"
        )),
    }
}

/// Every `CERTIFICATE` block of a PEM text, in order.
pub(crate) fn pem_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let blocks = pem::parse_many(bytes).map_err(|e| format!("PEM is truncated or invalid: {e}"))?;
    let certs: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if certs.is_empty() {
        Err("no CERTIFICATE block in the PEM".to_owned())
    } else {
        Ok(certs)
    }
}

/// The certificates of a PKCS#7 certs-only (degenerate SignedData) message.
fn p7c_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use cms::cert::CertificateChoices;
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;

    let info =
        ContentInfo::from_der(bytes).map_err(|e| format!("PKCS#7 is truncated or invalid: {e}"))?;
    if info.content_type != const_oid_signed_data() {
        return Err(format!(
            "PKCS#7 content type {} is not signedData",
            info.content_type
        ));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| format!("PKCS#7 signedData is invalid: {e}"))?;
    let mut out = Vec::new();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(cert) = choice {
            out.push(
                cert.to_der()
                    .map_err(|e| format!("PKCS#7 certificate does not re-encode: {e}"))?,
            );
        }
    }
    if out.is_empty() {
        Err("PKCS#7 holds no certificate".to_owned())
    } else {
        Ok(out)
    }
}

fn const_oid_signed_data() -> der::oid::ObjectIdentifier {
    der::oid::db::rfc5911::ID_SIGNED_DATA
}

/// Reads the first certificate of PEM or DER bytes.
pub(crate) fn first_certificate(bytes: &[u8], what: &str) -> Result<Vec<u8>, ClientError> {
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| bytes.get(i..));
    if text_start.is_some_and(|b| b.starts_with(b"-----BEGIN")) {
        let mut certs = pem_certificates(bytes)
            .map_err(|e| ClientError::BadCertificate(format!("{what}: {e}")))?;
        Ok(certs.swap_remove(0))
    } else {
        Ok(bytes.to_vec())
    }
}

/// What the client reads from one certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertInfo {
    /// The certificate itself.
    pub(crate) der: Vec<u8>,
    /// The subject's CN.
    pub(crate) subject_cn: Option<String>,
    /// The issuer's CN.
    pub(crate) issuer_cn: Option<String>,
    /// Subject and issuer are the same name (a root, for our purposes).
    pub(crate) self_issued: bool,
    /// Upper-case hex as `openssl x509 -serial` prints it.
    pub(crate) serial: String,
    /// Start of validity.
    pub(crate) not_before: OffsetDateTime,
    /// End of validity.
    pub(crate) not_after: OffsetDateTime,
    /// The subjectPublicKeyInfo, DER.
    pub(crate) spki: Vec<u8>,
}

impl CertInfo {
    /// Reads a DER certificate; anything left after it is an error too.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, ClientError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| ClientError::BadCertificate(format!("truncated or invalid DER: {e}")))?;
        if !rest.is_empty() {
            return Err(ClientError::BadCertificate(format!(
                "{} bytes after the certificate",
                rest.len()
            )));
        }
        let cn = |name: &x509_parser::x509::X509Name<'_>| {
            name.iter_common_name()
                .next()
                .and_then(|a| a.as_str().ok())
                .map(str::to_owned)
        };
        let raw = cert.raw_serial();
        // openssl prints the serial as a number: no leading zero octet.
        let first = raw
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(raw.len().saturating_sub(1));
        Ok(Self {
            der: der.to_vec(),
            subject_cn: cn(cert.subject()),
            issuer_cn: cn(cert.issuer()),
            self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
            serial: webra2_wire::serial_hex(raw.get(first..).unwrap_or_default()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            spki: cert.public_key().raw.to_vec(),
        })
    }

    /// The SHA-1 fingerprint in five groups.
    pub(crate) fn sha1_groups(&self) -> String {
        webra2_wire::fingerprint_groups(&sha1(&self.der))
    }
}

/// Picks the leaf out of a chain: the one with the serial the site announced,
/// else the first that is not self-issued (PKCS#7 sets carry no order).
pub(crate) fn pick_leaf(certs: Vec<CertInfo>, serial: &str) -> Option<CertInfo> {
    let wanted = serial.trim_start_matches('0').to_ascii_uppercase();
    if let Some(i) = certs
        .iter()
        .position(|c| c.serial.trim_start_matches('0') == wanted)
    {
        return certs.into_iter().nth(i);
    }
    let i = certs.iter().position(|c| !c.self_issued).unwrap_or(0);
    certs.into_iter().nth(i)
}

/// Two SubjectPublicKeyInfos name the same key (same algorithm and key bits,
/// whatever the encoding of the parameters).
pub(crate) fn same_key(a: &[u8], b: &[u8]) -> bool {
    use x509_cert::spki::SubjectPublicKeyInfoRef;
    match (
        SubjectPublicKeyInfoRef::from_der(a),
        SubjectPublicKeyInfoRef::from_der(b),
    ) {
        (Ok(a), Ok(b)) => {
            a.algorithm.oid == b.algorithm.oid
                && a.subject_public_key.raw_bytes() == b.subject_public_key.raw_bytes()
        }
        _ => false,
    }
}

/// Validates the path from `leaf` to `root` (the only trust anchor) for client
/// authentication at the instant `at`, as webpki (and so rustls) does.
pub(crate) fn verify_path(leaf: &[u8], root: &[u8], at: OffsetDateTime) -> Result<(), String> {
    use rustls_pki_types::{CertificateDer, UnixTime};

    let root = CertificateDer::from(root);
    let anchor = webpki::anchor_from_trusted_cert(&root)
        .map_err(|e| format!("the root is no usable trust anchor: {e}"))?;
    let leaf = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&leaf)
        .map_err(|e| format!("the certificate is not usable by webpki: {e}"))?;
    let secs = u64::try_from(at.unix_timestamp()).map_err(|_| format!("{at} is before 1970"))?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        UnixTime::since_unix_epoch(Duration::from_secs(secs)),
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| format!("path to the installed root does not validate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const ROOT_PEM: &str = include_str!("../../fixtures/root.cert.pem");

    fn root_der() -> Vec<u8> {
        pem_certificates(ROOT_PEM.as_bytes())
            .expect("the fixture root is PEM")
            .swap_remove(0)
    }

    /// A PKCS#7 certs-only message, as `openssl crl2pkcs7 -nocrl` writes one.
    fn certs_only(certs: &[Vec<u8>]) -> Vec<u8> {
        use cms::cert::CertificateChoices;
        use cms::content_info::{CmsVersion, ContentInfo};
        use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
        use der::asn1::SetOfVec;

        let choices = certs
            .iter()
            .map(|d| {
                x509_cert::Certificate::from_der(d)
                    .map(CertificateChoices::Certificate)
                    .expect("certificate")
            })
            .collect::<Vec<_>>();
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: der::oid::db::rfc5911::ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(choices).expect("set of certificates"),
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::new()),
        };
        ContentInfo {
            content_type: const_oid_signed_data(),
            content: der::Any::encode_from(&signed).expect("signedData encodes"),
        }
        .to_der()
        .expect("contentInfo encodes")
    }

    #[test]
    fn certificate_answers_are_read_by_their_content_type() {
        let der = root_der();
        let want = Ok(vec![der.clone()]);
        assert_eq!(
            decode_certificates("application/x-pem-file", ROOT_PEM.as_bytes()),
            want
        );
        assert_eq!(decode_certificates("application/pkix-cert", &der), want);
        assert_eq!(
            decode_certificates(
                "application/pkcs7-mime",
                &certs_only(std::slice::from_ref(&der))
            ),
            want
        );
    }

    #[test]
    fn a_body_that_does_not_match_its_content_type_is_refused() {
        let der = root_der();
        assert!(decode_certificates("application/x-pem-file", &der).is_err());
        assert!(decode_certificates("application/pkcs7-mime", &der).is_err());
        assert!(decode_certificates("text/html", ROOT_PEM.as_bytes()).is_err());
        let cut = der.get(..der.len() / 2).expect("half");
        assert!(CertInfo::parse(cut).is_err());
    }

    #[test]
    fn the_fixture_root_reads_as_the_nec_root_with_the_embedded_fingerprint() {
        let root = CertInfo::parse(&root_der()).expect("parses");
        assert_eq!(
            root.subject_cn.as_deref(),
            Some("NEC Certification Authority")
        );
        assert!(root.self_issued);
        assert_eq!(root.sha1_groups(), fixture_root_sha1());
    }

    #[test]
    fn two_years_on_from_a_leap_day_is_the_28th_of_february() {
        assert_eq!(
            plus_two_years_jst(datetime!(2024-02-29 10:00 +09:00)),
            date!(2026 - 02 - 28)
        );
    }

    #[test]
    fn two_years_on_counts_the_day_in_japan_not_in_utc() {
        // 2025-11-24 20:00 UTC is already the 25th in Tokyo.
        assert_eq!(
            plus_two_years_jst(datetime!(2025-11-24 20:00 UTC)),
            date!(2027 - 11 - 25)
        );
        assert_eq!(
            plus_two_years_jst(datetime!(2025-11-25 09:00 +09:00)),
            date!(2027 - 11 - 25)
        );
    }

    #[test]
    fn a_leap_day_two_years_on_a_leap_year_stays_the_29th() {
        assert_eq!(
            plus_two_years_jst(datetime!(2026-02-28 00:00 +09:00)),
            date!(2028 - 02 - 28)
        );
        assert_eq!(
            plus_two_years_jst(datetime!(2028-02-29 00:00 +09:00)),
            date!(2030 - 02 - 28)
        );
    }

    #[test]
    fn fingerprints_normalise_from_any_case_and_separator() {
        let want = "F630BF001CBE985AC72EFE86B527C664AE774035";
        for given in [
            "F630BF00 1CBE985A C72EFE86 B527C664 AE774035",
            "f6:30:bf:00:1c:be:98:5a:c7:2e:fe:86:b5:27:c6:64:ae:77:40:35",
            "f630bf001cbe985ac72efe86b527c664ae774035\n",
        ] {
            assert_eq!(normalize_sha1(given).as_deref(), Ok(want));
        }
        assert!(normalize_sha1("F630BF00").is_err());
        assert!(normalize_sha1("G630BF00 1CBE985A C72EFE86 B527C664 AE774035").is_err());
    }

    #[test]
    fn the_embedded_fixture_fingerprint_is_well_formed() {
        assert!(normalize_sha1(fixture_root_sha1()).is_ok());
        assert_eq!(fixture_root_sha1().split(' ').count(), 5);
    }

    #[test]
    fn a_bare_mail_date_means_midnight_in_japan() {
        assert_eq!(
            parse_mail_sent_at("2026-11-25"),
            Ok(datetime!(2026-11-25 00:00 +09:00))
        );
        assert_eq!(
            parse_mail_sent_at("2026-11-25T09:00:00+09:00"),
            Ok(datetime!(2026-11-25 09:00 +09:00))
        );
        assert!(parse_mail_sent_at("25/11/2026").is_err());
    }

    #[test]
    fn http_dates_parse_as_utc() {
        assert_eq!(
            parse_http_date("Tue, 25 Nov 2025 16:00:00 GMT"),
            Some(datetime!(2025-11-25 16:00 UTC))
        );
        assert_eq!(
            jst_date(datetime!(2025-11-25 16:00 UTC)),
            date!(2025 - 11 - 26)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
