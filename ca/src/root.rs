//! The root: the fixture one, a user's own, or a fresh one.

use crate::dn::name_to_rfc4514;
use crate::CaError;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData, SignatureAlgorithm,
};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::macros::datetime;
use webra2_wire::fingerprint_groups;
use x509_parser::prelude::{FromDer, X509Certificate};

const FIXTURE_CERT_PEM: &str = include_str!("../../fixtures/root.cert.pem");
const FIXTURE_KEY_PEM: &str = include_str!("../../fixtures/root.key.pem");

/// The subject's common name: what users of the real service see.
pub const ROOT_COMMON_NAME: &str = "NEC Certification Authority";
/// The subject's organisation: says plainly that this is a test root.
pub const ROOT_ORGANIZATION: &str = "webra2-mock TEST ROOT - not for production";

/// A root CA certificate and its key.
pub struct Root {
    cert_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
    subject: String,
    subject_der: Vec<u8>,
    key_id: Option<Vec<u8>>,
}

impl Root {
    /// The checked-in test root (`fixtures/root.*`), embedded in the binary.
    #[allow(clippy::expect_used)]
    pub fn fixture() -> Root {
        // The embedded files are known good and a unit test loads them, so this can
        // only fail if someone replaced the fixtures with something broken.
        Root::from_pem(FIXTURE_CERT_PEM, FIXTURE_KEY_PEM).expect("the embedded fixture root loads")
    }

    /// A user's own root from PEM texts.
    ///
    /// The certificate must be a CA (basicConstraints cA) whose public key matches the
    /// key. The key is PKCS#8 (`PRIVATE KEY`) or PKCS#1 RSA (`RSA PRIVATE KEY`), RSA of
    /// at least 2048 bits (ring's minimum for signing) or ECDSA P-256/P-384.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Root, CaError> {
        let bad = |msg: String| CaError::Root(msg);
        let cert = pem::parse(cert_pem).map_err(|e| bad(format!("certificate PEM: {e}")))?;
        if cert.tag() != "CERTIFICATE" {
            return Err(bad(format!(
                "a PEM {:?} where a CERTIFICATE was expected",
                cert.tag()
            )));
        }
        let key = pem::parse(key_pem).map_err(|e| bad(format!("key PEM: {e}")))?;
        let pkcs8 = match key.tag() {
            "PRIVATE KEY" => key.contents().to_vec(),
            "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(key.contents())
                .and_then(|k| k.to_pkcs8_der().map_err(rsa::pkcs1::Error::from))
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| bad(format!("RSA key: {e}")))?,
            other => {
                return Err(bad(format!(
                    "a PEM {other:?} key: give PKCS#8 (openssl pkcs8 -topk8 -nocrypt) or PKCS#1 RSA"
                )))
            }
        };
        Root::from_der(cert.contents().to_vec(), &pkcs8)
    }

    /// A fresh root with the same subject: RSA-2048, sha256WithRSAEncryption, the
    /// fixture's extensions and validity, a random serial.
    pub fn generate() -> Result<Root, CaError> {
        let bad = |msg: String| CaError::Root(msg);
        // ring cannot generate RSA keys; the rsa crate can, and ring signs with them.
        let rsa_key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .map_err(|e| bad(format!("RSA: {e}")))?;
        let pkcs8 = rsa_key
            .to_pkcs8_der()
            .map_err(|e| bad(format!("PKCS#8: {e}")))?;
        let key = KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8.as_bytes()),
            &rcgen::PKCS_RSA_SHA256,
        )
        .map_err(|e| bad(format!("key: {e}")))?;

        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        let country = "JP".try_into().map_err(|e| bad(format!("country: {e}")))?;
        dn.push(DnType::CountryName, DnValue::PrintableString(country));
        dn.push(DnType::OrganizationName, ROOT_ORGANIZATION);
        dn.push(DnType::CommonName, ROOT_COMMON_NAME);
        params.distinguished_name = dn;
        params.not_before = datetime!(2020-01-01 00:00:00 UTC);
        params.not_after = datetime!(2049-12-31 23:59:59 UTC);
        params.serial_number = Some(rcgen::SerialNumber::from_slice(
            &crate::issue::random_serial()?,
        ));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        params.key_identifier_method =
            KeyIdMethod::PreSpecified(crate::issue::key_id(&key.subject_public_key_info()));
        let cert = params
            .self_signed(&key)
            .map_err(|e| bad(format!("self-signing: {e}")))?;
        Root::from_der(cert.der().to_vec(), pkcs8.as_bytes())
    }

    fn from_der(cert_der: Vec<u8>, pkcs8: &[u8]) -> Result<Root, CaError> {
        let bad = |msg: String| CaError::Root(msg);
        let (rest, x509) =
            X509Certificate::from_der(&cert_der).map_err(|e| bad(format!("certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(bad("bytes after the certificate".into()));
        }
        match x509.basic_constraints() {
            Ok(Some(bc)) if bc.value.ca => {}
            _ => {
                return Err(bad(
                    "the certificate is not a CA (basicConstraints cA is not set)".into(),
                ))
            }
        }
        // rcgen copies names only with one attribute per RDN (and panics on an empty one).
        if x509.subject().iter().any(|rdn| rdn.iter().count() != 1) {
            return Err(bad(
                "the subject has an RDN with other than one attribute".into()
            ));
        }
        let alg = signing_algorithm(&x509)?;
        let key = KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8), alg)
            .map_err(|e| bad(format!("key: {e}")))?;
        if key.subject_public_key_info() != x509.public_key().raw {
            return Err(bad(
                "the key does not match the certificate's public key".into()
            ));
        }
        let key_id = x509
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                    Some(id.0.to_vec())
                }
                _ => None,
            });
        let subject = name_to_rfc4514(x509.subject());
        let subject_der = x509.subject().as_raw().to_vec();
        let issuer = Issuer::from_ca_cert_der(&CertificateDer::from(cert_der.as_slice()), key)
            .map_err(|e| bad(format!("issuer: {e}")))?;
        Ok(Root {
            cert_der,
            issuer,
            subject,
            subject_der,
            key_id,
        })
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> String {
        webra2_wire::pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// The key, PKCS#8 PEM, so that a generated root can be kept. A secret: never log it.
    pub fn key_pem(&self) -> String {
        webra2_wire::pem_encode("PRIVATE KEY", self.issuer.key().serialized_der())
    }

    /// SHA-1 in five groups of eight.
    pub fn sha1_fingerprint(&self) -> String {
        fingerprint_groups(&Sha1::digest(&self.cert_der))
    }

    /// SHA-256 in groups of eight.
    pub fn sha256_fingerprint(&self) -> String {
        fingerprint_groups(&Sha256::digest(&self.cert_der))
    }

    /// The subject, RFC 4514.
    pub fn subject(&self) -> String {
        self.subject.clone()
    }

    /// The subject, DER: what every issued certificate carries as its issuer.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The subject key identifier, if the certificate has one.
    pub fn key_id(&self) -> Option<&[u8]> {
        self.key_id.as_deref()
    }

    /// The rcgen issuer: what signs certificates (and CRLs) under this root.
    pub fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }
}

fn signing_algorithm(x509: &X509Certificate<'_>) -> Result<&'static SignatureAlgorithm, CaError> {
    let spki = x509.public_key();
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => Ok(&rcgen::PKCS_RSA_SHA256),
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => Ok(&rcgen::PKCS_ECDSA_P256_SHA256),
                Some("1.3.132.0.34") => Ok(&rcgen::PKCS_ECDSA_P384_SHA384),
                _ => Err(CaError::Root(
                    "an EC root on a curve other than P-256 or P-384".into(),
                )),
            }
        }
        other => Err(CaError::Root(format!(
            "a root key of algorithm {other}: RSA or ECDSA only"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_file(name: &str) -> String {
        let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_fixture_root_fingerprints_match_the_checked_in_files() {
        let root = Root::fixture();
        assert_eq!(root.sha1_fingerprint(), fixture_file("root.sha1").trim());
        assert_eq!(
            root.sha256_fingerprint(),
            fixture_file("root.sha256").trim()
        );
        assert_eq!(root.sha1_fingerprint().split(' ').count(), 5);
    }

    #[test]
    fn the_fixture_root_is_the_nec_name_marked_as_a_test_root() {
        assert_eq!(
            Root::fixture().subject(),
            "CN=NEC Certification Authority,O=webra2-mock TEST ROOT - not for production,C=JP"
        );
    }

    #[test]
    fn cert_pem_round_trips_to_the_same_der() {
        let root = Root::fixture();
        let pem_text = root.cert_pem();
        assert!(pem_text.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(!pem_text.contains('\r'));
        let back = pem::parse(pem_text)
            .map(|p| p.into_contents())
            .unwrap_or_default();
        assert_eq!(back, root.cert_der());
    }

    #[test]
    fn from_pem_refuses_a_key_that_is_not_the_roots() {
        let other_key = fixture_file("csr/rsa2048.key.pem");
        let err = Root::from_pem(&fixture_file("root.cert.pem"), &other_key)
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("does not match"));
    }

    #[test]
    fn from_pem_refuses_swapped_arguments_and_junk() {
        let cert = fixture_file("root.cert.pem");
        let key = fixture_file("root.key.pem");
        assert!(Root::from_pem(&key, &cert).is_err());
        assert!(Root::from_pem("junk", &key).is_err());
        assert!(Root::from_pem(&cert, "").is_err());
    }

    #[test]
    fn from_pem_accepts_a_pkcs1_rsa_key() {
        let key = fixture_file("root.key.pem");
        let pkcs1 = rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(&key)
            .and_then(|k: rsa::RsaPrivateKey| {
                rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&k, rsa::pkcs8::LineEnding::LF)
                    .map_err(rsa::pkcs8::Error::from)
            })
            .map(|p| p.to_string())
            .unwrap_or_default();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let root =
            Root::from_pem(&fixture_file("root.cert.pem"), &pkcs1).map(|r| r.sha1_fingerprint());
        assert_eq!(root.ok(), Some(Root::fixture().sha1_fingerprint()));
    }

    #[test]
    fn a_generated_root_has_the_same_subject_a_new_fingerprint_and_survives_its_pems() {
        let root = Root::generate().unwrap_or_else(|e| panic!("{e}"));
        let fixture = Root::fixture();
        assert_eq!(root.subject(), fixture.subject());
        assert_eq!(root.subject_der(), fixture.subject_der());
        assert_ne!(root.sha256_fingerprint(), fixture.sha256_fingerprint());
        assert!(root.key_id().is_some());

        let again =
            Root::from_pem(&root.cert_pem(), &root.key_pem()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.sha256_fingerprint(), root.sha256_fingerprint());
    }
}
