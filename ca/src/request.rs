//! What `POST /issue/{token}/csr` takes: a PKCS#10 request, plain or wrapped, in
//! any of the encodings Windows and browsers hand over.
//!
//! - Encodings: PEM (`CERTIFICATE REQUEST`, `NEW CERTIFICATE REQUEST`, `CMS`,
//!   `PKCS7`, `PKCS #7 SIGNED DATA`; with several blocks, the one request block),
//!   bare base64 (LF or CRLF; what Internet Explorer's enrollment control and
//!   `certreq` hand over), or DER. The label does not decide the shape: Windows
//!   writes `NEW CERTIFICATE REQUEST` over CMC too.
//! - Shapes, told apart by their first elements: a CMS `ContentInfo` (its first
//!   element an OID) holding a `SignedData`; a bare CMC `PKIData` (four SEQUENCE
//!   OFs); else a plain PKCS#10, which goes through the strict DER gate of
//!   [`crate::csr`] exactly as before.
//! - A `SignedData` (RFC 5652) is read with RustCrypto's `cms`. Its content is a
//!   CMC `PKIData` (`id-cct-PKIData`, Windows' `CR_IN_CMC`) or a PKCS#10 itself
//!   (`id-data`, Windows' `CR_IN_PKCS7`, and how Windows renews with the current
//!   certificate's key). The `PKIData`'s one PKCS#10 `TaggedRequest` is taken;
//!   its controls are not acted on.
//! - The inner request is judged exactly as a plain one. Each signer of the
//!   `SignedData` is verified when its key is at hand: the certificate the
//!   `SignedData` carries for it, else the inner request's own key (a CMC request
//!   signed with the new key). A signer neither names is left
//!   [`SignerCheck::Unchecked`], for [`SubmittedRequest::verify_signer_with`]
//!   with a certificate the caller knows (one this CA issued).

use crate::cmc::{PkiData, TaggedRequest, ID_CCT_PKI_DATA};
use crate::csr::{parse_pkcs10_der, verify_signature};
use crate::{CertRequest, CsrError, SignatureHash};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;
use x509_cert::Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// The PEM labels a request may come under.
pub const REQUEST_PEM_LABELS: [&str; 5] = [
    "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST",
    "CMS",
    "PKCS7",
    "PKCS #7 SIGNED DATA",
];

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

/// What the request came wrapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wrapper {
    /// A plain PKCS#10.
    None,
    /// A CMC `PKIData` (bare or inside a `SignedData`).
    Cmc,
    /// A CMS `SignedData` whose content is the PKCS#10.
    Cms,
}

impl fmt::Display for Wrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wrapper::None => "PKCS#10",
            Wrapper::Cmc => "CMC PKIData",
            Wrapper::Cms => "CMS SignedData",
        })
    }
}

/// How a signer's signature was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerCheck {
    /// Verified with the certificate the `SignedData` carries for it.
    Certificate,
    /// Verified with the inner request's own key.
    RequestKey,
    /// No key at hand: neither a certificate nor the request's key fits.
    Unchecked,
}

/// One signer of a `SignedData`.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The signer's certificate (DER), when the `SignedData` carries it.
    pub certificate: Option<Vec<u8>>,
    /// The certificate's serial, upper-case hex, where the signer names one
    /// (by issuer and serial) or its certificate is carried.
    pub serial: Option<String>,
    /// The certificate's issuer (DER Name), where known as the serial is.
    pub issuer_der: Option<Vec<u8>>,
    /// How its signature was checked.
    pub check: SignerCheck,
    info: SignerInfo,
}

/// A request as submitted: the inner PKCS#10 (verified) and what wrapped it.
#[derive(Debug, Clone)]
pub struct SubmittedRequest {
    /// The inner request, its own signature verified.
    pub request: CertRequest,
    /// What it came wrapped in.
    pub wrapper: Wrapper,
    /// The `SignedData`'s signers (none for a plain request or a bare `PKIData`).
    pub signers: Vec<Signer>,
    content_type: ObjectIdentifier,
    content: Vec<u8>,
}

impl SubmittedRequest {
    /// Verifies signer `index` with `cert_der`, a certificate the caller found
    /// for it (the CA's own record of the serial it names).
    pub fn verify_signer_with(&self, index: usize, cert_der: &[u8]) -> Result<(), CsrError> {
        let signer = self
            .signers
            .get(index)
            .ok_or_else(|| CsrError::Malformed(format!("no signer {index}")))?;
        verify_signer_info(&signer.info, cert_der, &self.content_type, &self.content)
            .map_err(|e| signer_error(signer.serial.as_deref(), e))
    }
}

/// Parses a submitted request (see the module docs) and verifies what can be
/// verified: the inner request always, each signer when its key is at hand.
pub fn parse_request(bytes: &[u8]) -> Result<SubmittedRequest, CsrError> {
    let der = to_der(bytes)?;
    match first_inner_tag(&der) {
        Some(Tag::ObjectIdentifier) => from_content_info(&der),
        _ => match PkiData::from_der(&der) {
            Ok(pki) => Ok(SubmittedRequest {
                request: request_of_pki_data(&pki)?,
                wrapper: Wrapper::Cmc,
                signers: Vec::new(),
                content_type: ID_CCT_PKI_DATA,
                content: der,
            }),
            Err(_) => Ok(SubmittedRequest {
                request: parse_pkcs10_der(&der)?,
                wrapper: Wrapper::None,
                signers: Vec::new(),
                content_type: ID_DATA,
                content: der,
            }),
        },
    }
}

/// The tag of the first element inside an outer SEQUENCE.
fn first_inner_tag(der: &[u8]) -> Option<Tag> {
    let mut reader = SliceReader::new(der).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    if header.tag != Tag::Sequence {
        return None;
    }
    reader.peek_tag().ok()
}

fn malformed(msg: impl Into<String>) -> CsrError {
    CsrError::Malformed(msg.into())
}

fn from_content_info(der: &[u8]) -> Result<SubmittedRequest, CsrError> {
    let info = ContentInfo::from_der(der)
        .map_err(|e| malformed(format!("a CMS ContentInfo that does not decode: {e}")))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(malformed(format!(
            "a CMS {}, not a SignedData around a request",
            content_type_name(&info.content_type)
        )));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| malformed(format!("a CMS SignedData that does not decode: {e}")))?;
    let encap = &signed.encap_content_info;
    let Some(econtent) = &encap.econtent else {
        return Err(malformed(
            "a CMS SignedData without content (a certificate bundle?), not a request",
        ));
    };
    // CMS puts the content in an OCTET STRING; PKCS#7 v1.5 may put it there as is.
    let content = if econtent.tag() == Tag::OctetString {
        econtent.value().to_vec()
    } else {
        econtent
            .to_der()
            .map_err(|e| malformed(format!("the SignedData's content: {e}")))?
    };
    let content_type = encap.econtent_type;
    let in_content = |e: CsrError| match e {
        CsrError::Malformed(m) => malformed(format!(
            "the SignedData's content ({}): {m}",
            content_type_name(&content_type)
        )),
        other => other,
    };
    let (request, wrapper) = if content_type == ID_CCT_PKI_DATA {
        let pki = PkiData::from_der(&content)
            .map_err(|e| malformed(format!("a CMC PKIData that does not decode: {e}")))?;
        (request_of_pki_data(&pki)?, Wrapper::Cmc)
    } else {
        match PkiData::from_der(&content) {
            Ok(pki) => (request_of_pki_data(&pki)?, Wrapper::Cmc),
            Err(_) => (
                parse_pkcs10_der(&content).map_err(in_content)?,
                Wrapper::Cms,
            ),
        }
    };

    let certificates: Vec<&Certificate> = signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(cert) => Some(cert),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut signers = Vec::new();
    for info in signed.signer_infos.0.iter() {
        signers.push(check_signer(
            info,
            &certificates,
            &request,
            &content_type,
            &content,
        )?);
    }
    Ok(SubmittedRequest {
        request,
        wrapper,
        signers,
        content_type,
        content,
    })
}

/// The one PKCS#10 of a `PKIData`.
fn request_of_pki_data(pki: &PkiData) -> Result<CertRequest, CsrError> {
    let mut requests = Vec::new();
    for any in &pki.req_sequence {
        match TaggedRequest::from_any(any)
            .map_err(|e| malformed(format!("a CMC TaggedRequest that does not decode: {e}")))?
        {
            TaggedRequest::Pkcs10 { der, .. } => requests.push(der),
            TaggedRequest::Crmf => {
                return Err(malformed(
                    "a CMC request in CRMF form (CertReqMsg): only a PKCS#10 TaggedCertificationRequest is taken",
                ))
            }
            TaggedRequest::Other => {
                return Err(malformed(
                    "a CMC request in another format (OtherReqMsg): only a PKCS#10 TaggedCertificationRequest is taken",
                ))
            }
        }
    }
    match requests.as_slice() {
        [der] => parse_pkcs10_der(der).map_err(|e| match e {
            CsrError::Malformed(m) => malformed(format!("the CMC TaggedRequest: {m}")),
            other => other,
        }),
        [] => Err(malformed(
            "a CMC PKIData without a request (its reqSequence is empty)",
        )),
        many => Err(malformed(format!(
            "a CMC PKIData with {} requests where one was expected",
            many.len()
        ))),
    }
}

/// Finds the signer's key and checks its signature.
fn check_signer(
    info: &SignerInfo,
    certificates: &[&Certificate],
    request: &CertRequest,
    content_type: &ObjectIdentifier,
    content: &[u8],
) -> Result<Signer, CsrError> {
    let cert = certificates.iter().find(|c| names(&info.sid, c));
    let (mut serial, mut issuer_der) = match &info.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => (
            Some(serial_of(isn.serial_number.as_bytes())),
            isn.issuer.to_der().ok(),
        ),
        SignerIdentifier::SubjectKeyIdentifier(_) => (None, None),
    };
    let mut signer = Signer {
        certificate: None,
        serial: None,
        issuer_der: None,
        check: SignerCheck::Unchecked,
        info: info.clone(),
    };
    if let Some(cert) = cert {
        let der = cert
            .to_der()
            .map_err(|e| malformed(format!("the signer's certificate: {e}")))?;
        serial = Some(serial_of(cert.tbs_certificate.serial_number.as_bytes()));
        issuer_der = cert.tbs_certificate.issuer.to_der().ok();
        verify_signer_info(info, &der, content_type, content)
            .map_err(|e| signer_error(serial.as_deref(), e))?;
        signer.certificate = Some(der);
        signer.check = SignerCheck::Certificate;
    } else if let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&request.spki_der) {
        if verify_with_spki(info, &spki, content_type, content).is_ok() {
            signer.check = SignerCheck::RequestKey;
        }
    }
    signer.serial = serial;
    signer.issuer_der = issuer_der;
    Ok(signer)
}

/// Whether `sid` names `cert`.
fn names(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == tbs.issuer && isn.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            let wanted = ski.0.as_bytes();
            let in_extension = tbs.extensions.iter().flatten().any(|ext| {
                ext.extn_id == OID_SUBJECT_KEY_ID
                    && OctetString::from_der(ext.extn_value.as_bytes())
                        .is_ok_and(|id| id.as_bytes() == wanted)
            });
            let key_bits = tbs.subject_public_key_info.subject_public_key.raw_bytes();
            in_extension || Sha1::digest(key_bits).as_slice() == wanted
        }
    }
}

/// A serial's content octets as the contract writes it (no sign octet).
fn serial_of(bytes: &[u8]) -> String {
    let trimmed = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    webra2_wire::serial_hex(trimmed)
}

/// A signer failed: its signature, said as the signer's.
fn signer_error(serial: Option<&str>, e: String) -> CsrError {
    let who = serial
        .map(|s| format!(" (certificate serial {s})"))
        .unwrap_or_default();
    CsrError::SignatureInvalid(format!("the SignedData's signer{who}: {e}"))
}

fn verify_signer_info(
    info: &SignerInfo,
    cert_der: &[u8],
    content_type: &ObjectIdentifier,
    content: &[u8],
) -> Result<(), String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| format!("its certificate does not parse: {e}"))?;
    verify_with_spki(info, cert.public_key(), content_type, content)
}

/// Checks one `SignerInfo` with this key: the signed attributes' message
/// digest and content type against the content, then the signature.
fn verify_with_spki(
    info: &SignerInfo,
    spki: &SubjectPublicKeyInfo<'_>,
    content_type: &ObjectIdentifier,
    content: &[u8],
) -> Result<(), String> {
    let digest_oid = info.digest_alg.oid.to_string();
    let hash = digest_hash(&digest_oid)
        .ok_or_else(|| format!("unsupported digest algorithm {digest_oid}"))?;
    let message = match &info.signed_attrs {
        None => content.to_vec(),
        Some(attrs) => {
            let value = |oid: ObjectIdentifier| {
                attrs
                    .iter()
                    .find(|a| a.oid == oid)
                    .and_then(|a| a.values.iter().next())
            };
            let digest = value(ID_MESSAGE_DIGEST)
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .ok_or("no message digest among the signed attributes")?;
            if digest.as_bytes() != digest_of(hash, content).as_slice() {
                return Err("the message digest does not match the content".into());
            }
            if let Some(ct) = value(ID_CONTENT_TYPE) {
                let ct: ObjectIdentifier = ct
                    .decode_as()
                    .map_err(|e| format!("the content-type attribute: {e}"))?;
                if &ct != content_type {
                    return Err("the content-type attribute does not match the content".into());
                }
            }
            attrs
                .to_der()
                .map_err(|e| format!("the signed attributes: {e}"))?
        }
    };
    let sig_oid = info.signature_algorithm.oid.to_string();
    // Some signers name only the key type, with the hash in the digest algorithm.
    let sig_oid = match (sig_oid.as_str(), hash) {
        (OID_EC_PUBLIC_KEY, SignatureHash::Sha256) => "1.2.840.10045.4.3.2".to_owned(),
        (OID_EC_PUBLIC_KEY, SignatureHash::Sha384) => "1.2.840.10045.4.3.3".to_owned(),
        _ => sig_oid,
    };
    verify_signature(
        spki,
        &sig_oid,
        Some(hash),
        &message,
        info.signature.as_bytes(),
    )
    .map(drop)
    .map_err(|e| match e {
        CsrError::SignatureInvalid(m) => format!("the signature does not verify ({m})"),
        CsrError::KeyPolicy(m) | CsrError::Malformed(m) => {
            format!("the signature cannot be checked: {m}")
        }
    })
}

fn digest_hash(oid: &str) -> Option<SignatureHash> {
    Some(match oid {
        "1.3.14.3.2.26" => SignatureHash::Sha1,
        "2.16.840.1.101.3.4.2.1" => SignatureHash::Sha256,
        "2.16.840.1.101.3.4.2.2" => SignatureHash::Sha384,
        "2.16.840.1.101.3.4.2.3" => SignatureHash::Sha512,
        _ => return None,
    })
}

fn digest_of(hash: SignatureHash, data: &[u8]) -> Vec<u8> {
    match hash {
        SignatureHash::Sha1 => Sha1::digest(data).to_vec(),
        SignatureHash::Sha256 => Sha256::digest(data).to_vec(),
        SignatureHash::Sha384 => Sha384::digest(data).to_vec(),
        SignatureHash::Sha512 => Sha512::digest(data).to_vec(),
    }
}

/// A CMS content type by name, for messages.
fn content_type_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.7.1" => "Data".into(),
        "1.2.840.113549.1.7.2" => "SignedData".into(),
        "1.2.840.113549.1.7.3" => "EnvelopedData".into(),
        "1.2.840.113549.1.7.5" => "DigestedData".into(),
        "1.2.840.113549.1.7.6" => "EncryptedData".into(),
        "1.2.840.113549.1.9.16.1.2" => "AuthenticatedData".into(),
        "1.2.840.113549.1.9.16.1.4" => "TSTInfo".into(),
        "1.3.6.1.5.5.7.12.2" => "CMC PKIData".into(),
        "1.3.6.1.5.5.7.12.3" => "CMC PKIResponse".into(),
        other => format!("content type {other}"),
    }
}

/// PEM, bare base64 or DER to DER.
fn to_der(bytes: &[u8]) -> Result<Vec<u8>, CsrError> {
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    match text {
        _ if bytes.is_empty() => Err(malformed("the request is empty")),
        Some("") => Err(malformed("the request is empty")),
        Some(t) if t.contains("-----BEGIN") => from_pem(t),
        Some(t) if looks_like_base64(t) => {
            // Internet Explorer's enrollment control and certreq hand over bare base64.
            let wrapped = format!(
                "-----BEGIN CERTIFICATE REQUEST-----\n{t}\n-----END CERTIFICATE REQUEST-----\n"
            );
            from_pem(&wrapped)
        }
        _ if bytes.first() == Some(&0x30) => Ok(bytes.to_vec()),
        _ => Err(malformed("neither PEM nor DER")),
    }
}

fn looks_like_base64(text: &str) -> bool {
    text.len() >= 16
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n' | b' ' | b'\t')
        })
}

/// The one request block of a PEM body, wherever it is among other blocks.
fn from_pem(text: &str) -> Result<Vec<u8>, CsrError> {
    let blocks = pem::parse_many(text).map_err(|e| malformed(format!("bad PEM: {e}")))?;
    let requests: Vec<&pem::Pem> = blocks
        .iter()
        .filter(|b| REQUEST_PEM_LABELS.contains(&b.tag()))
        .collect();
    match requests.as_slice() {
        [block] => Ok(block.contents().to_vec()),
        [] if blocks.is_empty() => Err(malformed("no PEM block")),
        [] => {
            let found: Vec<String> = blocks.iter().map(|b| format!("{:?}", b.tag())).collect();
            Err(malformed(format!(
                "a PEM {}, not a CERTIFICATE REQUEST (nor {})",
                found.join(" and "),
                REQUEST_PEM_LABELS[1..].join(", ")
            )))
        }
        many => Err(malformed(format!(
            "{} request PEM blocks where one request was expected",
            many.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fixture_bytes;
    use crate::KeySpec;
    use der::{Any, TagNumber};

    fn der_of(name: &str) -> Vec<u8> {
        pem::parse(fixture_bytes(name))
            .expect("PEM")
            .into_contents()
    }

    fn pki_data_with(req_sequence: Vec<Any>) -> Vec<u8> {
        PkiData {
            control_sequence: Vec::new(),
            req_sequence,
            cms_sequence: Vec::new(),
            other_msg_sequence: Vec::new(),
        }
        .to_der()
        .expect("PKIData encodes")
    }

    /// `tcr` [0] IMPLICIT: body part 1 and the request, under the context tag.
    fn tcr(csr_der: &[u8]) -> Any {
        let body = crate::cmc::TaggedCertificationRequest {
            body_part_id: 1,
            certification_request: Any::from_der(csr_der).expect("a request"),
        }
        .to_der()
        .expect("encodes");
        let body = Any::from_der(&body).expect("SEQUENCE");
        context(0, body.value())
    }

    fn context(n: u8, value: &[u8]) -> Any {
        Any::new(
            Tag::ContextSpecific {
                constructed: true,
                number: TagNumber::new(n),
            },
            value,
        )
        .expect("any")
    }

    fn malformed_message(input: &[u8]) -> String {
        match parse_request(input) {
            Err(CsrError::Malformed(m)) => m,
            other => panic!("expected bad-csr, got {other:?}"),
        }
    }

    #[test]
    fn a_bare_pki_data_yields_the_same_request_as_the_plain_one() {
        let csr = der_of("csr/rsa1024.csr.pem");
        let plain = parse_request(&csr).expect("plain");
        assert_eq!(plain.wrapper, Wrapper::None);
        let cmc = parse_request(&pki_data_with(vec![tcr(&csr)])).expect("CMC");
        assert_eq!(cmc.wrapper, Wrapper::Cmc);
        assert_eq!(cmc.request, plain.request);
        assert!(cmc.signers.is_empty());
    }

    #[test]
    fn a_pki_data_without_exactly_one_pkcs10_is_malformed_and_says_why() {
        let csr = der_of("csr/rsa1024.csr.pem");
        assert!(malformed_message(&pki_data_with(vec![])).contains("reqSequence is empty"));
        let two = pki_data_with(vec![tcr(&csr), tcr(&csr)]);
        assert!(malformed_message(&two).contains("2 requests"));
        let crmf = pki_data_with(vec![context(1, &[0x30, 0x00])]);
        assert!(malformed_message(&crmf).contains("CRMF"));
    }

    #[test]
    fn a_tampered_request_inside_cmc_still_fails_its_own_signature() {
        let csr = der_of("csr/rsa1024-tampered.csr.pem");
        let result = parse_request(&pki_data_with(vec![tcr(&csr)]));
        assert!(
            matches!(result, Err(CsrError::SignatureInvalid(_))),
            "{result:?}"
        );
    }

    #[test]
    fn dsa_is_refused_by_key_type_plain_and_wrapped() {
        let dsa = der_of("csr/dsa2048.csr.pem");
        for input in [dsa.clone(), pki_data_with(vec![tcr(&dsa)])] {
            match parse_request(&input) {
                Err(CsrError::KeyPolicy(m)) => assert!(m.starts_with("DSA key"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_request_block_is_found_among_other_pem_blocks() {
        let mut body = b"certreq output follows\n".to_vec();
        body.extend(fixture_bytes("root.cert.pem"));
        body.extend(fixture_bytes("csr/p256.csr.pem"));
        let parsed = parse_request(&body).expect("the request block");
        assert_eq!(parsed.request.key, KeySpec::EcdsaP256);
        let msg = malformed_message(&fixture_bytes("root.cert.pem"));
        assert!(msg.contains("\"CERTIFICATE\""), "{msg}");
    }

    #[test]
    fn cms_content_that_is_no_request_is_named() {
        let root = der_of("root.cert.pem");
        let certs_only = crate::pkcs7_certs_only(&[&root]).expect("p7c");
        assert!(malformed_message(&certs_only).contains("without content"));
        let enveloped = ContentInfo {
            content_type: ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3"),
            content: Any::from_der(&[0x05, 0x00]).expect("NULL"),
        }
        .to_der()
        .expect("encodes");
        assert!(malformed_message(&enveloped).contains("EnvelopedData"));
    }
}
