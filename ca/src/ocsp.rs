//! OCSP (RFC 6960): reading requests, and signed responses about this root's
//! certificates.
//!
//! The formats are RustCrypto's `x509-ocsp` (on the same `x509-cert`/`der` as the
//! rest of the crate); the signatures are made by the same rcgen keys that sign
//! certificates and CRLs: the delegated responder's key, issued by the root at
//! start-up ([`OcspResponder::delegated`]), or the root's own key when the profile
//! says `[ocsp] signer = "root"`.
//!
//! This module decides nothing about a certificate's status: [`Ca::ocsp_query`]
//! says which serials a request asks about (and which are not this root's), the
//! caller looks them up and hands the answers to [`Ca::ocsp_response`].

use crate::issue::{key_id, random_serial, whole_seconds};
use crate::{add_calendar_years, Ca, CaError, OcspSigner, ROOT_ORGANIZATION};
use der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber, SigningKey,
};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check the responder.
const OCSP_NOCHECK: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5];
/// id-pkix-ocsp-nonce.
const OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// The DER of the ASN.1 NULL that the nocheck extension holds.
const DER_NULL: [u8; 2] = [0x05, 0x00];

/// One certificate a request asks about.
#[derive(Debug, Clone)]
pub struct OcspItem {
    cert_id: CertId,
    /// Upper-case hex serial (as [`crate::IssuedCert::serial`]) when the request
    /// names this root as the issuer; `None` for another CA's certificate (or a
    /// hash algorithm this responder does not know), which is `unknown`.
    pub serial: Option<String>,
}

/// A request, read: what it asks about and its nonce extension.
#[derive(Debug, Clone)]
pub struct OcspQuery {
    /// The certificates asked about, in the request's order.
    pub items: Vec<OcspItem>,
    /// The request's nonce extension (its value, DER), echoed in the response.
    nonce: Option<OctetString>,
}

impl OcspQuery {
    /// The nonce the request carried (the extension's value, DER), if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_ref().map(|n| n.as_bytes())
    }
}

/// What the caller says of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspCertStatus {
    /// Issued by this root and not revoked.
    Good,
    /// Revoked at this time, for this reason (an RFC 5280 reason name).
    Revoked {
        /// When.
        at: OffsetDateTime,
        /// Why: one of [`crate::REVOCATION_REASONS`], if given.
        reason: Option<String>,
    },
    /// Not known to this responder.
    Unknown,
}

/// An `OCSPResponseStatus` other than `successful`: a response without a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspFailure {
    /// The request could not be read.
    MalformedRequest,
    /// The responder failed.
    InternalError,
    /// Try again later.
    TryLater,
    /// The responder will not answer this client.
    Unauthorized,
}

impl OcspFailure {
    /// The response, DER.
    pub fn to_der(self) -> Vec<u8> {
        let resp = match self {
            Self::MalformedRequest => OcspResponse::malformed_request(),
            Self::InternalError => OcspResponse::internal_error(),
            Self::TryLater => OcspResponse::try_later(),
            Self::Unauthorized => OcspResponse::unauthorized(),
        };
        // Encoding a two-field SEQUENCE of an ENUMERATED cannot fail; the fixed
        // bytes are the same thing should it ever.
        resp.to_der().unwrap_or_else(|_| {
            let status = match self {
                Self::MalformedRequest => 1,
                Self::InternalError => 2,
                Self::TryLater => 3,
                Self::Unauthorized => 6,
            };
            vec![0x30, 0x03, 0x0A, 0x01, status]
        })
    }
}

/// How a response is to be made.
#[derive(Debug, Clone, Copy)]
pub struct OcspAnswer {
    /// producedAt, and thisUpdate of every answer (the service clock's now).
    pub produced_at: OffsetDateTime,
    /// thisUpdate of every answer.
    pub this_update: OffsetDateTime,
    /// nextUpdate of every answer.
    pub next_update: OffsetDateTime,
    /// Sign with a key that is not the responder's (the `ocsp_wrong_key` fault).
    pub wrong_key: bool,
    /// Echo a nonce other than the request's (the `ocsp_wrong_nonce` fault).
    pub wrong_nonce: bool,
}

/// The delegated OCSP responder: a certificate the root issued (id-kp-OCSPSigning,
/// id-pkix-ocsp-nocheck) and its key.
pub struct OcspResponder {
    cert_der: Vec<u8>,
    key: KeyPair,
}

impl OcspResponder {
    /// What the profile's `[ocsp] signer` asks for: a delegated responder
    /// ([`OcspResponder::delegated`]), or `None` when the root signs itself.
    pub fn for_profile(ca: &Ca, now: OffsetDateTime) -> Result<Option<Self>, CaError> {
        match ca.profile().ocsp_signer {
            OcspSigner::Delegated => Self::delegated(ca, now).map(Some),
            OcspSigner::Root => Ok(None),
        }
    }

    /// A fresh ECDSA P-256 responder certificate, signed by `ca`'s root, valid ten
    /// years either side of `now` (clients check it with their own clock while the
    /// service clock may stand years away).
    pub fn delegated(ca: &Ca, now: OffsetDateTime) -> Result<Self, CaError> {
        let bad = |msg: String| CaError::Issue(msg);
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| bad(format!("OCSP responder key: {e}")))?;
        let now = whole_seconds(now);
        let mut params = CertificateParams::default();
        params.not_before = add_calendar_years(now, -10);
        params.not_after = add_calendar_years(now, 10);
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, ROOT_ORGANIZATION);
        dn.push(
            DnType::CommonName,
            format!("{} OCSP Responder", crate::ROOT_COMMON_NAME),
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method =
            KeyIdMethod::PreSpecified(key_id(&key.subject_public_key_info()));
        params.custom_extensions = vec![CustomExtension::from_oid_content(
            OCSP_NOCHECK,
            DER_NULL.to_vec(),
        )];
        let cert = params
            .signed_by(&key, ca.root().issuer())
            .map_err(|e| bad(format!("OCSP responder certificate: {e}")))?;
        Ok(Self {
            cert_der: cert.der().to_vec(),
            key,
        })
    }

    /// The responder's certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }
}

impl Ca {
    /// The same CA with the OCSP responder its profile asks for, made now
    /// (start-up): a delegated one, or none when the root signs itself.
    pub fn with_ocsp_responder(mut self, now: OffsetDateTime) -> Result<Self, CaError> {
        self.responder = OcspResponder::for_profile(&self, now)?;
        Ok(self)
    }

    /// The delegated OCSP responder, if there is one.
    pub fn ocsp_responder(&self) -> Option<&OcspResponder> {
        self.responder.as_ref()
    }

    /// Reads a DER OCSP request: which certificates it asks about, and its nonce.
    ///
    /// A request that is not DER of an `OCSPRequest`, or that asks about nothing,
    /// is refused: the caller answers [`OcspFailure::MalformedRequest`].
    pub fn ocsp_query(&self, der: &[u8]) -> Result<OcspQuery, CaError> {
        let bad = |msg: String| CaError::Ocsp(msg);
        let req =
            OcspRequest::from_der(der).map_err(|e| bad(format!("not an OCSPRequest: {e}")))?;
        if req.tbs_request.request_list.is_empty() {
            return Err(bad("the request asks about no certificate".into()));
        }
        let root = Certificate::from_der(self.root().cert_der())
            .map_err(|e| CaError::Root(format!("the root does not parse: {e}")))?;
        let name = root
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|e| CaError::Root(format!("the root's subject: {e}")))?;
        let key = root
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        let items = req
            .tbs_request
            .request_list
            .into_iter()
            .map(|r| {
                let id = r.req_cert;
                let ours = hash(&id.hash_algorithm.oid, &name).is_some_and(|h| {
                    h == id.issuer_name_hash.as_bytes()
                        && hash(&id.hash_algorithm.oid, key)
                            .is_some_and(|k| k == id.issuer_key_hash.as_bytes())
                });
                let serial = ours.then(|| {
                    let raw = id.serial_number.as_bytes();
                    let first = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
                    webra2_wire::serial_hex(raw.get(first..).unwrap_or_default())
                });
                OcspItem {
                    cert_id: id,
                    serial,
                }
            })
            .collect();
        let nonce = req.tbs_request.request_extensions.and_then(|exts| {
            exts.into_iter()
                .find(|e| e.extn_id == OCSP_NONCE)
                .map(|e| e.extn_value)
        });
        Ok(OcspQuery { items, nonce })
    }

    /// A signed, successful response (DER) giving `statuses[i]` for `query.items[i]`.
    ///
    /// Signed by the delegated responder of [`Ca::with_ocsp_responder`] (its
    /// certificate included), or by the root when
    /// there is none (the root included); with `answer.wrong_key`, by a throw-away
    /// key instead.
    pub fn ocsp_response(
        &self,
        query: &OcspQuery,
        statuses: &[OcspCertStatus],
        answer: &OcspAnswer,
    ) -> Result<Vec<u8>, CaError> {
        let bad = |msg: String| CaError::Ocsp(msg);
        if statuses.len() != query.items.len() {
            return Err(bad(format!(
                "{} statuses for {} certificates",
                statuses.len(),
                query.items.len()
            )));
        }
        let (signer, certs): (&KeyPair, Option<Vec<Certificate>>) = match self.ocsp_responder() {
            Some(r) => {
                let cert = Certificate::from_der(&r.cert_der)
                    .map_err(|e| bad(format!("the responder certificate: {e}")))?;
                (&r.key, Some(vec![cert]))
            }
            // The root too goes with its response: clients look for the signer
            // among the response's certificates, not among their trust anchors.
            None => {
                let root = Certificate::from_der(self.root().cert_der())
                    .map_err(|e| CaError::Root(format!("the root does not parse: {e}")))?;
                (self.root().issuer().key(), Some(vec![root]))
            }
        };
        let responder_key_hash = Sha1::digest(spk_bits(&signer.subject_public_key_info())?);
        let this_update = generalized(answer.this_update)?;
        let next_update = generalized(answer.next_update)?;
        let responses = query
            .items
            .iter()
            .zip(statuses)
            .map(|(item, status)| {
                Ok(SingleResponse {
                    cert_id: item.cert_id.clone(),
                    cert_status: match status {
                        OcspCertStatus::Good => CertStatus::good(),
                        OcspCertStatus::Unknown => CertStatus::unknown(),
                        OcspCertStatus::Revoked { at, reason } => {
                            CertStatus::revoked(RevokedInfo {
                                revocation_time: generalized(*at)?,
                                revocation_reason: reason.as_deref().map(crl_reason).transpose()?,
                            })
                        }
                    },
                    this_update,
                    next_update: Some(next_update),
                    single_extensions: None,
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        let nonce = match &query.nonce {
            Some(n) if answer.wrong_nonce => Some(other_nonce(n.as_bytes())?),
            Some(n) => Some(n.clone()),
            None if answer.wrong_nonce => Some(other_nonce(&[])?),
            None => None,
        };
        let tbs = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(
                OctetString::new(responder_key_hash.to_vec())
                    .map_err(|e| bad(format!("responder id: {e}")))?,
            ),
            produced_at: generalized(answer.produced_at)?,
            responses,
            response_extensions: nonce.map(|value| {
                vec![x509_cert::ext::Extension {
                    extn_id: OCSP_NONCE,
                    critical: false,
                    extn_value: value,
                }]
            }),
        };
        let tbs_der = tbs
            .to_der()
            .map_err(|e| bad(format!("ResponseData: {e}")))?;
        let throwaway;
        let signing_key = if answer.wrong_key {
            throwaway = KeyPair::generate_for(signer.algorithm())
                .or_else(|_| KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256))
                .map_err(|e| bad(format!("throw-away key: {e}")))?;
            &throwaway
        } else {
            signer
        };
        let signature = signing_key
            .sign(&tbs_der)
            .map_err(|e| bad(format!("signing: {e}")))?;
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: signature_algorithm(signing_key)?,
            signature: BitString::from_bytes(&signature)
                .map_err(|e| bad(format!("signature: {e}")))?,
            certs,
        };
        OcspResponse::successful(basic)
            .and_then(|r| r.to_der())
            .map_err(|e| bad(format!("OCSPResponse: {e}")))
    }
}

/// The hash a CertID names, of `data`; `None` for an algorithm this responder does not know.
fn hash(alg: &ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    match alg.to_string().as_str() {
        "1.3.14.3.2.26" => Some(Sha1::digest(data).to_vec()),
        "2.16.840.1.101.3.4.2.1" => Some(Sha256::digest(data).to_vec()),
        "2.16.840.1.101.3.4.2.2" => Some(Sha384::digest(data).to_vec()),
        "2.16.840.1.101.3.4.2.3" => Some(Sha512::digest(data).to_vec()),
        _ => None,
    }
}

/// The subjectPublicKey bits of a DER SubjectPublicKeyInfo.
fn spk_bits(spki_der: &[u8]) -> Result<Vec<u8>, CaError> {
    x509_cert::spki::SubjectPublicKeyInfoRef::from_der(spki_der)
        .map(|spki| spki.subject_public_key.raw_bytes().to_vec())
        .map_err(|e| CaError::Ocsp(format!("the signer's public key: {e}")))
}

/// The AlgorithmIdentifier of what rcgen signs with for this key.
fn signature_algorithm(key: &KeyPair) -> Result<AlgorithmIdentifierOwned, CaError> {
    let alg = key.algorithm();
    let (oid, null_params) = if alg == &rcgen::PKCS_RSA_SHA256 {
        ("1.2.840.113549.1.1.11", true)
    } else if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        ("1.2.840.10045.4.3.2", false)
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        ("1.2.840.10045.4.3.3", false)
    } else {
        return Err(CaError::Ocsp(format!(
            "no OCSP signature algorithm for {alg:?}"
        )));
    };
    Ok(AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap(oid),
        parameters: null_params.then(|| der::asn1::Null.into()),
    })
}

fn generalized(at: OffsetDateTime) -> Result<OcspGeneralizedTime, CaError> {
    let secs = u64::try_from(whole_seconds(at).unix_timestamp())
        .map_err(|_| CaError::Ocsp(format!("{at} is before 1970")))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(OcspGeneralizedTime)
        .map_err(|e| CaError::Ocsp(format!("{at}: {e}")))
}

fn crl_reason(name: &str) -> Result<CrlReason, CaError> {
    Ok(match name {
        "unspecified" => CrlReason::Unspecified,
        "keyCompromise" => CrlReason::KeyCompromise,
        "cACompromise" => CrlReason::CaCompromise,
        "affiliationChanged" => CrlReason::AffiliationChanged,
        "superseded" => CrlReason::Superseded,
        "cessationOfOperation" => CrlReason::CessationOfOperation,
        "certificateHold" => CrlReason::CertificateHold,
        "privilegeWithdrawn" => CrlReason::PrivilegeWithdrawn,
        "aACompromise" => CrlReason::AaCompromise,
        other => {
            return Err(CaError::Ocsp(format!(
                "unknown revocation reason {other:?}"
            )))
        }
    })
}

/// A nonce extension value (an OCTET STRING holding an OCTET STRING, as RFC
/// 8954 and openssl write it) that differs from `request_value`.
fn other_nonce(request_value: &[u8]) -> Result<OctetString, CaError> {
    let bad = |e: der::Error| CaError::Ocsp(format!("nonce: {e}"));
    let mut inner = OctetString::from_der(request_value)
        .map(|o| o.as_bytes().to_vec())
        .unwrap_or_default();
    if inner.is_empty() {
        inner = vec![0u8; 16];
    }
    for b in &mut inner {
        *b ^= 0xA5;
    }
    OctetString::new(
        OctetString::new(inner)
            .map_err(bad)?
            .to_der()
            .map_err(bad)?,
    )
    .map_err(bad)
}

#[cfg(test)]
mod tests;
