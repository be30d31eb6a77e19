//! The request shapes Windows sends, made from a PKCS#10: CMS `SignedData`
//! around it (`CR_IN_PKCS7`, and the renewal signed by the current certificate)
//! and CMC `PKIData` around it (`CR_IN_CMC`), through RustCrypto's `cms`
//! builder. The server takes each of them at `POST /issue/{token}/csr`.

use crate::keys::ClientKey;
use crate::ClientError;
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Sequence, Tag};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_CCT_PKI_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.12.2");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// The shape a request is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestForm {
    /// A plain PKCS#10.
    #[default]
    Pkcs10,
    /// A CMS `SignedData` whose content is the PKCS#10 (`CR_IN_PKCS7`).
    Pkcs7,
    /// A CMC `PKIData` holding the PKCS#10, in a `SignedData` (`CR_IN_CMC`).
    Cmc,
}

impl fmt::Display for RequestForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestForm::Pkcs10 => "pkcs10",
            RequestForm::Pkcs7 => "pkcs7",
            RequestForm::Cmc => "cmc",
        })
    }
}

impl FromStr for RequestForm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pkcs10" => Ok(RequestForm::Pkcs10),
            "pkcs7" => Ok(RequestForm::Pkcs7),
            "cmc" => Ok(RequestForm::Cmc),
            other => Err(format!(
                "unknown request form {other:?} (pkcs10, pkcs7, cmc)"
            )),
        }
    }
}

/// Who signs the `SignedData`.
pub enum WrapSigner<'a> {
    /// The request's own key, named by its key identifier (no certificate).
    RequestKey(&'a ClientKey),
    /// A certificate and its key (a renewal: the certificate being renewed),
    /// named by issuer and serial, the certificate carried along.
    Certificate {
        /// The key of the certificate.
        key: &'a ClientKey,
        /// The certificate, DER.
        cert_der: &'a [u8],
    },
    /// As `Certificate`, but the certificate is only named, not carried: the
    /// CA finds it in its own records.
    NamedCertificate {
        /// The key of the certificate.
        key: &'a ClientKey,
        /// The certificate, DER.
        cert_der: &'a [u8],
    },
}

/// The request `csr_der` in `form`, DER; signed by `signer` when wrapped.
pub fn wrap_request(
    csr_der: &[u8],
    form: RequestForm,
    signer: &WrapSigner<'_>,
) -> Result<Vec<u8>, ClientError> {
    match form {
        RequestForm::Pkcs10 => Ok(csr_der.to_vec()),
        RequestForm::Pkcs7 => signed_data(ID_DATA, csr_der, signer),
        RequestForm::Cmc => signed_data(ID_CCT_PKI_DATA, &pki_data(csr_der)?, signer),
    }
}

/// The CMC `PKIData`'s shape (RFC 5272), as far as a client fills it.
#[derive(Sequence)]
struct PkiData {
    control_sequence: Vec<Any>,
    req_sequence: Vec<Any>,
    cms_sequence: Vec<Any>,
    other_msg_sequence: Vec<Any>,
}

#[derive(Sequence)]
struct TaggedCertificationRequest {
    body_part_id: u32,
    certification_request: Any,
}

/// A `PKIData` whose one `TaggedRequest` is `tcr` [0] with body part 1.
pub fn pki_data(csr_der: &[u8]) -> Result<Vec<u8>, ClientError> {
    let bad = |e: der::Error| ClientError::Csr(format!("CMC PKIData: {e}"));
    let tcr = TaggedCertificationRequest {
        body_part_id: 1,
        certification_request: Any::from_der(csr_der).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)?;
    // IMPLICIT [0]: the SEQUENCE's content under the context tag.
    let body = Any::from_der(&tcr).map_err(bad)?;
    let tagged = Any::new(
        Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber::N0,
        },
        body.value(),
    )
    .map_err(bad)?;
    PkiData {
        control_sequence: Vec::new(),
        req_sequence: vec![tagged],
        cms_sequence: Vec::new(),
        other_msg_sequence: Vec::new(),
    }
    .to_der()
    .map_err(bad)
}

fn signed_data(
    content_type: ObjectIdentifier,
    content: &[u8],
    signer: &WrapSigner<'_>,
) -> Result<Vec<u8>, ClientError> {
    let bad =
        |what: &str, e: &dyn fmt::Display| ClientError::Csr(format!("SignedData {what}: {e}"));
    let econtent = OctetString::new(content).map_err(|e| bad("content", &e))?;
    let encap = EncapsulatedContentInfo {
        econtent_type: content_type,
        econtent: Some(Any::encode_from(&econtent).map_err(|e| bad("content", &e))?),
    };
    let (key, sid, cert) = match signer {
        WrapSigner::RequestKey(key) => {
            let spki = key.public_key_der()?;
            let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(&spki)
                .map_err(|e| bad("key", &e))?;
            let id = Sha1::digest(spki.subject_public_key.raw_bytes());
            let ski = x509_cert::ext::pkix::SubjectKeyIdentifier(
                OctetString::new(id.as_slice()).map_err(|e| bad("key id", &e))?,
            );
            (*key, SignerIdentifier::SubjectKeyIdentifier(ski), None)
        }
        WrapSigner::Certificate { key, cert_der }
        | WrapSigner::NamedCertificate { key, cert_der } => {
            let cert = Certificate::from_der(cert_der).map_err(|e| bad("certificate", &e))?;
            let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: cert.tbs_certificate.issuer.clone(),
                serial_number: cert.tbs_certificate.serial_number.clone(),
            });
            let carried = matches!(signer, WrapSigner::Certificate { .. }).then_some(cert);
            (*key, sid, carried)
        }
    };
    let digest = AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    };
    let mut builder = SignedDataBuilder::new(&encap);
    builder
        .add_digest_algorithm(digest.clone())
        .map_err(|e| bad("digest", &e))?;
    if let Some(cert) = cert {
        builder
            .add_certificate(CertificateChoices::Certificate(cert))
            .map_err(|e| bad("certificate", &e))?;
    }
    let info_err = |e: cms::builder::Error| bad("signer", &e);
    match key {
        ClientKey::Rsa(k) => {
            let signing = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
            let info =
                SignerInfoBuilder::new(&signing, sid, digest, &encap, None).map_err(info_err)?;
            builder
                .add_signer_info::<_, rsa::pkcs1v15::Signature>(info)
                .map_err(|e| bad("signer", &e))?;
        }
        ClientKey::P256(k) => {
            let info = SignerInfoBuilder::new(k, sid, digest, &encap, None).map_err(info_err)?;
            builder
                .add_signer_info::<_, p256::ecdsa::DerSignature>(info)
                .map_err(|e| bad("signer", &e))?;
        }
        ClientKey::P384(k) => {
            let info = SignerInfoBuilder::new(k, sid, digest, &encap, None).map_err(info_err)?;
            builder
                .add_signer_info::<_, p384::ecdsa::DerSignature>(info)
                .map_err(|e| bad("signer", &e))?;
        }
    }
    let info = builder.build().map_err(|e| bad("encoding", &e))?;
    info.to_der().map_err(|e| bad("encoding", &e))
}
