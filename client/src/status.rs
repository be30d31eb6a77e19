//! The relying party's question: is this certificate good now? Asked as a
//! server accepting it would: through OCSP (RFC 6960; the responder named in
//! its Authority Information Access) and through the CRL (its distribution
//! point), each answer's signature checked against the issuer.
//!
//! The client builds and reads OCSP with RustCrypto's `x509-ocsp` and checks
//! signatures with `x509-parser`, independently of the service's own code.

use crate::certs::{self, CertInfo};
use crate::ClientError;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::fmt;
use time::OffsetDateTime;
use webra2_wire::in_jst;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest, Version,
};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// id-pkix-ocsp-nonce.
const OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-pkix-ocsp-basic.
const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-sha1, for the CertID (what every responder takes).
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// id-kp-OCSPSigning.
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// How far the responder's and the client's clocks may disagree.
const SKEW: time::Duration = time::Duration::minutes(5);
/// The largest OCSP response or CRL read.
const BODY_LIMIT: usize = 1024 * 1024;

/// What one source says of the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum SourceAnswer {
    /// Not revoked (OCSP `good`; for a CRL, not listed).
    Good,
    /// Revoked.
    Revoked {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Why (RFC 5280 reason name), if said.
        reason: Option<String>,
    },
    /// The OCSP responder does not know the certificate.
    Unknown,
    /// No usable answer (none asked for, the source failed, or its answer
    /// did not verify): the reason.
    Unavailable {
        /// Why.
        why: String,
    },
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// Within its validity, issued by the issuer, and not revoked.
    Valid,
    /// Revoked (by OCSP or the CRL).
    Revoked {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Why, if said.
        reason: Option<String>,
    },
    /// Outside its validity period.
    Expired,
    /// Not valid yet.
    NotYetValid,
    /// Nobody vouches for it: the responder does not know it, it is not the
    /// issuer's, or no source answered.
    Unknown {
        /// Why.
        why: String,
    },
}

impl Verdict {
    /// The exit code `webra2-client status` ends with: 0 valid, 1 revoked,
    /// 3 unknown, 4 expired or not yet valid (2 is an error of the command).
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Valid => 0,
            Verdict::Revoked { .. } => 1,
            Verdict::Unknown { .. } => 3,
            Verdict::Expired | Verdict::NotYetValid => 4,
        }
    }
}

/// The answer of `webra2-client status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Upper-case hex serial.
    pub serial: String,
    /// The subject's CN.
    pub subject_cn: Option<String>,
    /// The OCSP URL asked, if any.
    pub ocsp_url: Option<String>,
    /// What OCSP said.
    pub ocsp: SourceAnswer,
    /// The CRL URL read, if any.
    pub crl_url: Option<String>,
    /// What the CRL said.
    pub crl: SourceAnswer,
    /// The verdict.
    pub verdict: Verdict,
}

/// How to ask.
#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    /// The issuer's certificate (PEM or DER); else fetched from the
    /// certificate's caIssuers URL.
    pub issuer: Option<Vec<u8>>,
    /// The OCSP URL; else the certificate's.
    pub ocsp_url: Option<String>,
    /// The CRL URL; else the certificate's distribution point.
    pub crl_url: Option<String>,
    /// The instant to judge at; else now.
    pub at: Option<OffsetDateTime>,
}

/// Checks `cert` (PEM or DER) through OCSP and the CRL.
pub async fn status(cert: &[u8], opts: &StatusOptions) -> Result<StatusReport, ClientError> {
    let leaf = CertInfo::parse(&certs::first_certificate(cert, "certificate")?)?;
    let urls = Urls::of(&leaf.der)?;
    let client = crate::http::plain_client()?;
    let issuer = match &opts.issuer {
        Some(bytes) => CertInfo::parse(&certs::first_certificate(bytes, "issuer")?)?,
        None => {
            let url = urls.ca_issuers.clone().ok_or_else(|| {
                ClientError::Argument(
                    "the certificate names no caIssuers URL: give the issuer with --issuer".into(),
                )
            })?;
            let bytes = fetch(&client, &url).await.map_err(ClientError::Http)?;
            CertInfo::parse(&certs::first_certificate(&bytes, "issuer")?)?
        }
    };
    let at = opts.at.unwrap_or_else(OffsetDateTime::now_utc);
    let ocsp_url = opts.ocsp_url.clone().or(urls.ocsp);
    let crl_url = opts.crl_url.clone().or(urls.crl);
    let ocsp = match &ocsp_url {
        Some(url) => ask_ocsp(&client, url, &leaf.der, &issuer.der, at).await,
        None => SourceAnswer::Unavailable {
            why: "the certificate names no OCSP responder".into(),
        },
    };
    let crl = match &crl_url {
        Some(url) => read_crl(&client, url, &leaf.der, &issuer.der, at).await,
        None => SourceAnswer::Unavailable {
            why: "the certificate names no CRL".into(),
        },
    };
    let verdict = verdict(&leaf, &issuer, &ocsp, &crl, at);
    Ok(StatusReport {
        serial: leaf.serial,
        subject_cn: leaf.subject_cn,
        ocsp_url,
        ocsp,
        crl_url,
        crl,
        verdict,
    })
}

fn verdict(
    leaf: &CertInfo,
    issuer: &CertInfo,
    ocsp: &SourceAnswer,
    crl: &SourceAnswer,
    at: OffsetDateTime,
) -> Verdict {
    for answer in [ocsp, crl] {
        if let SourceAnswer::Revoked { at, reason } = answer {
            return Verdict::Revoked {
                at: *at,
                reason: reason.clone(),
            };
        }
    }
    if let Err(why) = signed_by(&leaf.der, &issuer.der) {
        return Verdict::Unknown { why };
    }
    if at < leaf.not_before {
        return Verdict::NotYetValid;
    }
    if at >= leaf.not_after {
        return Verdict::Expired;
    }
    match (ocsp, crl) {
        (SourceAnswer::Unknown, _) => Verdict::Unknown {
            why: "the OCSP responder does not know this certificate".into(),
        },
        (SourceAnswer::Good, _) | (_, SourceAnswer::Good) => Verdict::Valid,
        (SourceAnswer::Unavailable { why: o }, SourceAnswer::Unavailable { why: c }) => {
            Verdict::Unknown {
                why: format!("OCSP: {o}; CRL: {c}"),
            }
        }
        _ => Verdict::Unknown {
            why: "no source vouches for it".into(),
        },
    }
}

/// What OCSP says of `leaf_der`, issued by `issuer_der`, at `at`: the
/// response must be successful, signed by the issuer or a responder it
/// authorised, current, and carry the request's nonce.
pub(crate) async fn ask_ocsp(
    client: &reqwest::Client,
    url: &str,
    leaf_der: &[u8],
    issuer_der: &[u8],
    at: OffsetDateTime,
) -> SourceAnswer {
    match ask_ocsp_inner(client, url, leaf_der, issuer_der, at).await {
        Ok(answer) => answer,
        Err(why) => SourceAnswer::Unavailable { why },
    }
}

async fn ask_ocsp_inner(
    client: &reqwest::Client,
    url: &str,
    leaf_der: &[u8],
    issuer_der: &[u8],
    at: OffsetDateTime,
) -> Result<SourceAnswer, String> {
    let leaf =
        x509_cert::Certificate::from_der(leaf_der).map_err(|e| format!("certificate: {e}"))?;
    let issuer =
        x509_cert::Certificate::from_der(issuer_der).map_err(|e| format!("issuer: {e}"))?;
    let cert_id = CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: SHA1,
            parameters: Some(der::asn1::Null.into()),
        },
        issuer_name_hash: octets(&Sha1::digest(
            issuer
                .tbs_certificate
                .subject
                .to_der()
                .map_err(|e| e.to_string())?,
        ))?,
        issuer_key_hash: octets(&Sha1::digest(
            issuer
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        ))?,
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    };
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let nonce_value = octets(&octets(&nonce)?.to_der().map_err(|e| e.to_string())?)?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id.clone(),
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![x509_cert::ext::Extension {
                extn_id: OCSP_NONCE,
                critical: false,
                extn_value: nonce_value.clone(),
            }]),
        },
        optional_signature: None,
    };
    let body = request.to_der().map_err(|e| format!("request: {e}"))?;
    let resp = client
        .post(url)
        .header("content-type", "application/ocsp-request")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("{url} answered HTTP {}", resp.status().as_u16()));
    }
    let bytes = read_limited(resp).await?;
    let response =
        OcspResponse::from_der(&bytes).map_err(|e| format!("not an OCSP response: {e}"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "the responder answered {}",
            status_name(response.response_status)
        ));
    }
    let rb = response
        .response_bytes
        .ok_or("a successful response without a body")?;
    if rb.response_type != OCSP_BASIC {
        return Err(format!("response type {}", rb.response_type));
    }
    let basic_der = rb.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der)
        .map_err(|e| format!("not a BasicOCSPResponse: {e}"))?;
    check_signature(&basic, basic_der, issuer_der, at)?;
    let echoed = basic
        .tbs_response_data
        .response_extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == OCSP_NONCE))
        .map(|e| e.extn_value.clone());
    match echoed {
        Some(v) if v == nonce_value => {}
        Some(_) => return Err("the response's nonce is not the request's".into()),
        None => return Err("the response carries no nonce".into()),
    }
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| r.cert_id == cert_id)
        .ok_or("the response says nothing of this certificate")?;
    let this_update = unix(single.this_update.0.to_unix_duration());
    if this_update > at + SKEW {
        return Err(format!("thisUpdate {this_update} is in the future"));
    }
    if let Some(next) = &single.next_update {
        let next = unix(next.0.to_unix_duration());
        if next + SKEW < at {
            return Err(format!(
                "the response is stale: nextUpdate {next} has passed"
            ));
        }
    }
    Ok(match &single.cert_status {
        CertStatus::Good(_) => SourceAnswer::Good,
        CertStatus::Unknown(_) => SourceAnswer::Unknown,
        CertStatus::Revoked(info) => SourceAnswer::Revoked {
            at: unix(info.revocation_time.0.to_unix_duration()),
            reason: info.revocation_reason.map(|r| reason_name(r as u8)),
        },
    })
}

/// The response's signature: by the issuer itself, or by a certificate in the
/// response that the issuer signed for OCSP signing and that is valid at `at`.
fn check_signature(
    basic: &BasicOcspResponse,
    basic_der: &[u8],
    issuer_der: &[u8],
    at: OffsetDateTime,
) -> Result<(), String> {
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|e| format!("issuer: {e}"))?;
    let included: Vec<Vec<u8>> = basic
        .certs
        .iter()
        .flatten()
        .filter_map(|c| c.to_der().ok())
        .collect();
    let mut candidates = vec![issuer_der.to_vec()];
    candidates.extend(included);
    let signer_der = candidates
        .iter()
        .find(|der| {
            X509Certificate::from_der(der).is_ok_and(|(_, c)| {
                match &basic.tbs_response_data.responder_id {
                    ResponderId::ByKey(hash) => {
                        Sha1::digest(&*c.public_key().subject_public_key.data).as_slice()
                            == hash.as_bytes()
                    }
                    ResponderId::ByName(name) => {
                        name.to_der().is_ok_and(|n| n == c.subject().as_raw())
                    }
                }
            })
        })
        .ok_or("no certificate of the response or the issuer is the responder it names")?;
    let (_, signer) = X509Certificate::from_der(signer_der).map_err(|e| e.to_string())?;
    if signer_der.as_slice() != issuer_der {
        signer
            .verify_signature(Some(issuer.public_key()))
            .map_err(|_| "the responder's certificate is not signed by the issuer".to_owned())?;
        let for_ocsp = signer
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|eku| {
                eku.value.ocsp_signing
                    || eku
                        .value
                        .other
                        .iter()
                        .any(|o| o.to_id_string() == OCSP_SIGNING)
            });
        if !for_ocsp {
            return Err("the responder's certificate is not for OCSP signing".into());
        }
        let ts = at.unix_timestamp();
        if ts < signer.validity().not_before.timestamp()
            || ts > signer.validity().not_after.timestamp()
        {
            return Err("the responder's certificate is not valid now".into());
        }
    }
    // The signed bytes exactly as sent: the first element of the outer SEQUENCE.
    let tbs = first_element(basic_der)?;
    let alg_der = basic
        .signature_algorithm
        .to_der()
        .map_err(|e| e.to_string())?;
    let (_, alg) = x509_parser::x509::AlgorithmIdentifier::from_der(&alg_der)
        .map_err(|e| format!("signature algorithm: {e}"))?;
    let sig = x509_parser::der_parser::asn1_rs::BitString::new(0, basic.signature.raw_bytes());
    x509_parser::verify::verify_signature(signer.public_key(), &alg, &sig, tbs)
        .map_err(|_| "the response's signature does not verify with the responder's key".to_owned())
}

/// What the CRL at `url` says of `leaf_der`, its signature checked against
/// the issuer and its nextUpdate against `at`.
async fn read_crl(
    client: &reqwest::Client,
    url: &str,
    leaf_der: &[u8],
    issuer_der: &[u8],
    at: OffsetDateTime,
) -> SourceAnswer {
    match fetch(client, url).await {
        Ok(bytes) => crl_answer(&bytes, leaf_der, issuer_der, at)
            .unwrap_or_else(|why| SourceAnswer::Unavailable { why }),
        Err(why) => SourceAnswer::Unavailable { why },
    }
}

fn crl_answer(
    bytes: &[u8],
    leaf_der: &[u8],
    issuer_der: &[u8],
    at: OffsetDateTime,
) -> Result<SourceAnswer, String> {
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(bytes)
        .map_err(|e| format!("not a CRL: {e}"))?;
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|e| format!("issuer: {e}"))?;
    crl.verify_signature(issuer.public_key())
        .map_err(|_| "the CRL's signature does not verify with the issuer's key".to_owned())?;
    if let Some(next) = crl.next_update() {
        if next.timestamp() + SKEW.whole_seconds() < at.unix_timestamp() {
            return Err(format!("the CRL is stale: nextUpdate {next}"));
        }
    }
    let (_, leaf) = X509Certificate::from_der(leaf_der).map_err(|e| format!("certificate: {e}"))?;
    let listed = crl
        .iter_revoked_certificates()
        .find(|r| r.raw_serial() == leaf.raw_serial());
    let answer = match listed {
        None => SourceAnswer::Good,
        Some(r) => SourceAnswer::Revoked {
            at: r.revocation_date.to_datetime(),
            reason: r.reason_code().map(|(_, code)| reason_name(code.0)),
        },
    };
    Ok(answer)
}

/// `leaf` is signed by `issuer`, and names it as its issuer.
fn signed_by(leaf_der: &[u8], issuer_der: &[u8]) -> Result<(), String> {
    let (_, leaf) = X509Certificate::from_der(leaf_der).map_err(|e| e.to_string())?;
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|e| e.to_string())?;
    if leaf.issuer().as_raw() != issuer.subject().as_raw() {
        return Err("the certificate names another issuer".into());
    }
    leaf.verify_signature(Some(issuer.public_key()))
        .map_err(|_| {
            "the certificate is not signed by the issuer's key (same name, another key?)".into()
        })
}

/// The OCSP URL a certificate names, if any.
pub(crate) fn ocsp_url(der: &[u8]) -> Option<String> {
    Urls::of(der).ok().and_then(|u| u.ocsp)
}

/// The certificate's AIA and CRL URLs.
#[derive(Debug, Default)]
struct Urls {
    ocsp: Option<String>,
    ca_issuers: Option<String>,
    crl: Option<String>,
}

impl Urls {
    fn of(der: &[u8]) -> Result<Self, ClientError> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| ClientError::BadCertificate(e.to_string()))?;
        let mut urls = Urls::default();
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    for desc in &aia.accessdescs {
                        if let GeneralName::URI(uri) = &desc.access_location {
                            match desc.access_method.to_id_string().as_str() {
                                "1.3.6.1.5.5.7.48.1" => urls.ocsp.get_or_insert((*uri).to_owned()),
                                "1.3.6.1.5.5.7.48.2" => {
                                    urls.ca_issuers.get_or_insert((*uri).to_owned())
                                }
                                _ => continue,
                            };
                        }
                    }
                }
                ParsedExtension::CRLDistributionPoints(points) => {
                    let uri = points
                        .iter()
                        .filter_map(|p| p.distribution_point.as_ref())
                        .filter_map(|n| match n {
                            DistributionPointName::FullName(names) => Some(names),
                            _ => None,
                        })
                        .flatten()
                        .find_map(|n| match n {
                            GeneralName::URI(u) => Some((*u).to_owned()),
                            _ => None,
                        });
                    urls.crl = urls.crl.take().or(uri);
                }
                _ => {}
            }
        }
        Ok(urls)
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("{url} answered HTTP {}", resp.status().as_u16()));
    }
    read_limited(resp).await
}

async fn read_limited(resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    if bytes.len() > BODY_LIMIT {
        return Err(format!("a body of {} bytes", bytes.len()));
    }
    Ok(bytes.to_vec())
}

fn first_element(der: &[u8]) -> Result<&[u8], String> {
    let mut reader = der::SliceReader::new(der).map_err(|e| e.to_string())?;
    let header = der::Header::decode(&mut reader).map_err(|e| e.to_string())?;
    if header.tag != der::Tag::Sequence {
        return Err("the BasicOCSPResponse is not a SEQUENCE".into());
    }
    reader.tlv_bytes().map_err(|e| e.to_string())
}

fn octets(bytes: &[u8]) -> Result<OctetString, String> {
    OctetString::new(bytes.to_vec()).map_err(|e| e.to_string())
}

fn unix(d: std::time::Duration) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

/// RFC 5280 §5.3.1 reason names by code.
fn reason_name(code: u8) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => return format!("reason {code}"),
    }
    .to_owned()
}

impl fmt::Display for SourceAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceAnswer::Good => f.write_str("good"),
            SourceAnswer::Unknown => f.write_str("unknown"),
            SourceAnswer::Revoked { at, reason } => write!(
                f,
                "revoked at {} ({})",
                rfc3339(*at),
                reason.as_deref().unwrap_or("no reason given")
            ),
            SourceAnswer::Unavailable { why } => write!(f, "no answer: {why}"),
        }
    }
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "serial: {}", self.serial)?;
        writeln!(
            f,
            "subject: CN={}",
            self.subject_cn.as_deref().unwrap_or("(none)")
        )?;
        writeln!(
            f,
            "OCSP {}: {}",
            self.ocsp_url.as_deref().unwrap_or("(none)"),
            self.ocsp
        )?;
        writeln!(
            f,
            "CRL {}: {}",
            self.crl_url.as_deref().unwrap_or("(none)"),
            self.crl
        )?;
        match &self.verdict {
            Verdict::Valid => write!(f, "status: valid"),
            Verdict::Revoked { at, reason } => write!(
                f,
                "status: revoked at {}, reason {}",
                rfc3339(*at),
                reason.as_deref().unwrap_or("not given")
            ),
            Verdict::Expired => write!(f, "status: expired"),
            Verdict::NotYetValid => write!(f, "status: not yet valid"),
            Verdict::Unknown { why } => write!(f, "status: unknown ({why})"),
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    in_jst(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
