//! PKCS#10 parsing and proof of possession, done by hand (see the crate docs).
//!
//! rcgen's request parser refuses what real clients send (RSA-1024 keys, unknown
//! extensions, P-384 keys signed with SHA-256), so the request is parsed with
//! x509-parser and its signature is checked here over the raw
//! `CertificationRequestInfo`:
//!
//! - RSA PKCS#1 v1.5 with SHA-1/256/384/512 for any modulus size up to 16384 bits:
//!   through ring's legacy algorithms where ring takes the key (1024 to 8192 bits, the
//!   usual exponents; four times faster, and a tenth of a whole issuance), through the
//!   `rsa` crate for the rest, so an RSA-512 request verifies and is then refused by
//!   the key policy, not reported as a bad signature.
//! - ECDSA on P-256 and P-384 with SHA-256 or SHA-384, in any pairing, through ring.
//!
//! Refused as [`CsrError::KeyPolicy`], first: key types other than RSA and ECDSA
//! P-256/P-384 (DSA, Ed25519...: they cannot be checked, let alone certified), named,
//! whatever they signed with. Refused as [`CsrError::Malformed`] (`bad-csr`): RSA-PSS,
//! ECDSA with SHA-1 or SHA-512, and any other signature algorithm of an RSA or EC key.
//!
//! The encodings and wrappers a request arrives in (PEM, base64, DER; CMC, CMS) are
//! [`crate::request`]'s. What reaches [`parse_pkcs10_der`] must be exactly one
//! request in DER: x509-parser reads BER and lets wrong tags, a broken OID and stray
//! bytes through in the outer signature algorithm, which no signature covers, so the
//! strict decoder of `x509-cert` checks the request first and refuses anything else
//! as [`CsrError::Malformed`] (`not DER: ...`).
//! Attributes and requested extensions are never looked at, so unknown ones do no harm.

use crate::{CsrError, KeySpec};
use der::Decode;
use ring::signature::{self as ring_sig, UnparsedPublicKey};
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;
use std::str::FromStr;
use x509_cert::request::CertReq;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

/// The largest RSA modulus whose signature is checked; bigger keys are refused unseen
/// so a request cannot make the service do arbitrarily large arithmetic.
const RSA_MAX_BITS: usize = 16384;

const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";

/// The hash of a request's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureHash {
    /// SHA-1 (what old Windows CSPs sign with).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl fmt::Display for SignatureHash {
    /// `SHA-1`, `SHA-256`, ...: as a person names them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureHash::Sha1 => "SHA-1",
            SignatureHash::Sha256 => "SHA-256",
            SignatureHash::Sha384 => "SHA-384",
            SignatureHash::Sha512 => "SHA-512",
        })
    }
}

impl FromStr for SignatureHash {
    type Err = String;

    /// `sha1`, `sha256`, `sha384`, `sha512` (as profiles write them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha1" => Ok(SignatureHash::Sha1),
            "sha256" => Ok(SignatureHash::Sha256),
            "sha384" => Ok(SignatureHash::Sha384),
            "sha512" => Ok(SignatureHash::Sha512),
            _ => Err(format!("unknown hash {s:?} (sha1, sha256, sha384, sha512)")),
        }
    }
}

/// A request whose signature verified. Only the key is kept: the CA decides the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRequest {
    /// The DER SubjectPublicKeyInfo, exactly as the request carried it.
    pub spki_der: Vec<u8>,
    /// The kind and size of the key.
    pub key: KeySpec,
    /// The hash the request was signed with.
    pub signature_hash: SignatureHash,
}

/// The signature schemes this module can check.
#[derive(Debug, Clone, Copy)]
enum SigAlg {
    Rsa(SignatureHash),
    Ecdsa(SignatureHash),
}

fn signature_algorithm(oid: &str) -> Result<SigAlg, CsrError> {
    Ok(match oid {
        "1.2.840.113549.1.1.5" => SigAlg::Rsa(SignatureHash::Sha1),
        "1.2.840.113549.1.1.11" => SigAlg::Rsa(SignatureHash::Sha256),
        "1.2.840.113549.1.1.12" => SigAlg::Rsa(SignatureHash::Sha384),
        "1.2.840.113549.1.1.13" => SigAlg::Rsa(SignatureHash::Sha512),
        "1.2.840.10045.4.3.2" => SigAlg::Ecdsa(SignatureHash::Sha256),
        "1.2.840.10045.4.3.3" => SigAlg::Ecdsa(SignatureHash::Sha384),
        "1.2.840.113549.1.1.10" => {
            return Err(CsrError::Malformed(
                "RSA-PSS signatures are not supported".into(),
            ))
        }
        "1.2.840.10045.4.1" => {
            return Err(CsrError::Malformed(
                "ECDSA with SHA-1 is not supported".into(),
            ))
        }
        "1.2.840.10045.4.3.4" => {
            return Err(CsrError::Malformed(
                "ECDSA with SHA-512 is not supported".into(),
            ))
        }
        other => {
            return Err(CsrError::Malformed(format!(
                "unsupported signature algorithm {other}"
            )))
        }
    })
}

/// Parses a request as `POST /issue/{token}/csr` takes it (PEM, bare base64 or DER;
/// plain PKCS#10, CMC `PKIData` or CMS `SignedData` around one) and verifies the
/// PKCS#10's own signature: the inner request, without what wrapped it. See
/// [`crate::parse_request`] for the wrapper and its signers.
pub fn parse_csr(bytes: &[u8]) -> Result<CertRequest, CsrError> {
    crate::request::parse_request(bytes).map(|r| r.request)
}

/// One PKCS#10 request in DER, checked strictly, with its own signature verified.
pub(crate) fn parse_pkcs10_der(der: &[u8]) -> Result<CertRequest, CsrError> {
    check_der(der)?;
    let (rest, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| CsrError::Malformed(format!("cannot parse the request: {e}")))?;
    if !rest.is_empty() {
        return Err(CsrError::Malformed(format!(
            "{} bytes after the request",
            rest.len()
        )));
    }
    let info = &csr.certification_request_info;
    let spki = &info.subject_pki;
    let (key, signature_hash) = verify_signature(
        spki,
        &csr.signature_algorithm.algorithm.to_id_string(),
        None,
        info.raw,
        &csr.signature_value.data,
    )?;
    Ok(CertRequest {
        spki_der: spki.raw.to_vec(),
        key,
        signature_hash,
    })
}

/// Verifies `signature` over `message` by the key `spki`. The key's type is judged
/// first, so a key no profile can take (DSA, Ed25519) is [`CsrError::KeyPolicy`]
/// naming it, whatever it signed with. `sig_oid` is the signature algorithm; CMS
/// may name only `rsaEncryption` there, with the hash in `digest`.
pub(crate) fn verify_signature(
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
    sig_oid: &str,
    digest: Option<SignatureHash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(KeySpec, SignatureHash), CsrError> {
    let key_oid = spki.algorithm.algorithm.to_id_string();
    match key_oid.as_str() {
        OID_RSA_ENCRYPTION => {
            let hash = match (sig_oid, digest) {
                (OID_RSA_ENCRYPTION, Some(hash)) => hash,
                _ => match signature_algorithm(sig_oid)? {
                    SigAlg::Rsa(hash) => hash,
                    SigAlg::Ecdsa(_) => {
                        return Err(CsrError::SignatureInvalid(
                            "an RSA key with an ECDSA signature".into(),
                        ))
                    }
                },
            };
            let bits = verify_rsa(spki, hash, message, signature)?;
            Ok((KeySpec::Rsa(bits), hash))
        }
        OID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .ok_or_else(|| CsrError::Malformed("an EC key without a named curve".into()))?;
            let key = match curve.as_str() {
                OID_P256 => KeySpec::EcdsaP256,
                OID_P384 => KeySpec::EcdsaP384,
                other => {
                    return Err(CsrError::KeyPolicy(format!(
                        "ECDSA key on curve {other}: only P-256 and P-384 are supported"
                    )))
                }
            };
            let SigAlg::Ecdsa(hash) = signature_algorithm(sig_oid)? else {
                return Err(CsrError::SignatureInvalid(
                    "an ECDSA key with an RSA signature".into(),
                ));
            };
            verify_ecdsa(key, hash, &spki.subject_public_key.data, message, signature)?;
            Ok((key, hash))
        }
        other => Err(CsrError::KeyPolicy(format!(
            "{} key: not accepted (only RSA and ECDSA P-256/P-384 keys can be certified)",
            key_algorithm_name(other)
        ))),
    }
}

/// Refuses anything but exactly one DER request (canonical lengths, the right tags,
/// valid OIDs, nothing left over at any level). x509-parser stays the parser the rest
/// of this module reads from, for the raw slices the signature is checked over.
fn check_der(der: &[u8]) -> Result<(), CsrError> {
    CertReq::from_der(der)
        .map(drop)
        .map_err(|e| CsrError::Malformed(format!("not DER: {e}")))
}

fn key_algorithm_name(oid: &str) -> String {
    match oid {
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        "1.2.840.113549.1.1.10" => "RSA-PSS".into(),
        other => format!("algorithm {other}"),
    }
}

/// Verifies an RSA PKCS#1 v1.5 signature and returns the modulus size in bits.
fn verify_rsa(
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
    hash: SignatureHash,
    message: &[u8],
    signature: &[u8],
) -> Result<u32, CsrError> {
    let Ok(PublicKey::RSA(parsed)) = spki.parsed() else {
        return Err(CsrError::Malformed(
            "the RSA public key does not parse".into(),
        ));
    };
    let (n, e) = (strip_zeros(parsed.modulus), strip_zeros(parsed.exponent));
    let bits = modulus_bits(n);
    if bits > RSA_MAX_BITS {
        return Err(CsrError::KeyPolicy(format!(
            "RSA-{bits} key: larger than RSA-{RSA_MAX_BITS}"
        )));
    }
    let valid = match ring_rsa_algorithm(bits, e, hash) {
        Some(alg) => ring_sig::RsaPublicKeyComponents { n, e }
            .verify(alg, message, signature)
            .is_ok(),
        None => verify_rsa_any_size(n, e, hash, message, signature)?,
    };
    if !valid {
        return Err(CsrError::SignatureInvalid(format!(
            "RSA-{bits} with {hash}"
        )));
    }
    u32::try_from(bits).map_err(|_| CsrError::Malformed("RSA modulus size out of range".into()))
}

/// A big-endian integer without its leading zero bytes (DER adds one to keep
/// a value positive; ring wants none).
fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// The size in bits of a big-endian modulus without leading zeros.
fn modulus_bits(n: &[u8]) -> usize {
    match n.first() {
        Some(top) => n.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// ring's algorithm for this key and hash, where ring takes them: 1024 to
/// 8192 bits (2048 with SHA-384, for which ring has no legacy variant) and an
/// odd exponent from 3 to 2^33 - 1, what ring checks before it verifies.
fn ring_rsa_algorithm(
    bits: usize,
    e: &[u8],
    hash: SignatureHash,
) -> Option<&'static ring_sig::RsaParameters> {
    let e_fits = match e {
        [] => false,
        _ if e.len() > 5 => false,
        _ => {
            let value = e.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            value >= 3 && value % 2 == 1 && value < (1 << 33)
        }
    };
    if !e_fits || !(1024..=8192).contains(&bits) {
        return None;
    }
    match hash {
        SignatureHash::Sha1 => Some(&ring_sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY),
        SignatureHash::Sha256 => Some(&ring_sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        SignatureHash::Sha512 => Some(&ring_sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
        SignatureHash::Sha384 if bits >= 2048 => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA384),
        SignatureHash::Sha384 => None,
    }
}

/// The `rsa` crate's verification, for any modulus up to [`RSA_MAX_BITS`]:
/// `Ok(false)` for a signature that does not verify.
fn verify_rsa_any_size(
    n: &[u8],
    e: &[u8],
    hash: SignatureHash,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CsrError> {
    let key = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(n),
        BigUint::from_bytes_be(e),
        RSA_MAX_BITS,
    )
    .map_err(|e| CsrError::Malformed(format!("unusable RSA public key: {e}")))?;
    let (scheme, digest) = match hash {
        SignatureHash::Sha1 => (Pkcs1v15Sign::new::<Sha1>(), Sha1::digest(message).to_vec()),
        SignatureHash::Sha256 => (
            Pkcs1v15Sign::new::<Sha256>(),
            Sha256::digest(message).to_vec(),
        ),
        SignatureHash::Sha384 => (
            Pkcs1v15Sign::new::<Sha384>(),
            Sha384::digest(message).to_vec(),
        ),
        SignatureHash::Sha512 => (
            Pkcs1v15Sign::new::<Sha512>(),
            Sha512::digest(message).to_vec(),
        ),
    };
    Ok(key.verify(scheme, &digest, signature).is_ok())
}

fn verify_ecdsa(
    key: KeySpec,
    hash: SignatureHash,
    point: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CsrError> {
    let alg: &dyn ring_sig::VerificationAlgorithm = match (key, hash) {
        (KeySpec::EcdsaP256, SignatureHash::Sha256) => &ring_sig::ECDSA_P256_SHA256_ASN1,
        (KeySpec::EcdsaP256, SignatureHash::Sha384) => &ring_sig::ECDSA_P256_SHA384_ASN1,
        (KeySpec::EcdsaP384, SignatureHash::Sha256) => &ring_sig::ECDSA_P384_SHA256_ASN1,
        (KeySpec::EcdsaP384, SignatureHash::Sha384) => &ring_sig::ECDSA_P384_SHA384_ASN1,
        _ => {
            return Err(CsrError::Malformed(format!(
                "ECDSA with {hash} is not supported"
            )))
        }
    };
    UnparsedPublicKey::new(alg, point)
        .verify(message, signature)
        .map_err(|_| CsrError::SignatureInvalid(format!("{key} with {hash}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Profile;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../fixtures/csr/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parsed(name: &str) -> CertRequest {
        parse_csr(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn profile(name: &str) -> Profile {
        Profile::builtin(name).unwrap_or_else(|| panic!("{name} is built in"))
    }

    /// `message` signed with `key` (PKCS#1 v1.5) over `hash`; `None` where the
    /// digest does not fit the modulus (RSA-512 with SHA-384 or SHA-512).
    fn sign(key: &rsa::RsaPrivateKey, hash: SignatureHash, message: &[u8]) -> Option<Vec<u8>> {
        let signed = match hash {
            SignatureHash::Sha1 => key.sign(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(message)),
            SignatureHash::Sha256 => {
                key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
            }
            SignatureHash::Sha384 => {
                key.sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(message))
            }
            SignatureHash::Sha512 => {
                key.sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(message))
            }
        };
        signed.ok()
    }

    #[test]
    fn ring_and_the_rsa_crate_agree_on_every_key_size_and_hash() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let message = b"CertificationRequestInfo stand-in";
        let mut by_ring = 0;
        for name in ["rsa512", "rsa1024", "rsa2048"] {
            let pem = String::from_utf8(fixture(&format!("{name}.key.pem"))).expect("PEM");
            let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("PKCS#8 key");
            let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
            for hash in [
                SignatureHash::Sha1,
                SignatureHash::Sha256,
                SignatureHash::Sha384,
                SignatureHash::Sha512,
            ] {
                let Some(good) = sign(&key, hash, message) else {
                    assert_eq!(name, "rsa512", "only RSA-512 is too small for {hash}");
                    continue;
                };
                let mut bad = good.clone();
                bad[good.len() / 2] ^= 0x01;
                for (signature, valid) in [(good, true), (bad, false)] {
                    let case = format!("{name} {hash} valid={valid}");
                    let any_size = verify_rsa_any_size(&n, &e, hash, message, &signature);
                    assert_eq!(any_size.ok(), Some(valid), "rsa crate, {case}");
                    if let Some(alg) = ring_rsa_algorithm(modulus_bits(&n), &e, hash) {
                        by_ring += 1;
                        let ring = ring_sig::RsaPublicKeyComponents { n: &n, e: &e }
                            .verify(alg, message, &signature);
                        assert_eq!(ring.is_ok(), valid, "ring, {case}");
                    }
                }
            }
        }
        // RSA-1024 and RSA-2048 with SHA-1/256/512, RSA-2048 with SHA-384, each twice.
        assert_eq!(by_ring, 2 * (3 + 4));
    }

    #[test]
    fn ring_takes_the_usual_keys_and_leaves_the_rest_to_the_rsa_crate() {
        let f4 = [1, 0, 1];
        assert!(ring_rsa_algorithm(1024, &f4, SignatureHash::Sha256).is_some());
        assert!(ring_rsa_algorithm(8192, &f4, SignatureHash::Sha1).is_some());
        assert!(ring_rsa_algorithm(1023, &f4, SignatureHash::Sha256).is_none());
        assert!(ring_rsa_algorithm(8193, &f4, SignatureHash::Sha256).is_none());
        assert!(ring_rsa_algorithm(1024, &f4, SignatureHash::Sha384).is_none());
        assert!(ring_rsa_algorithm(2048, &f4, SignatureHash::Sha384).is_some());
        assert!(ring_rsa_algorithm(2048, &[3], SignatureHash::Sha256).is_some());
        assert!(ring_rsa_algorithm(2048, &[4], SignatureHash::Sha256).is_none());
        assert!(ring_rsa_algorithm(2048, &[1], SignatureHash::Sha256).is_none());
        assert!(ring_rsa_algorithm(2048, &[2, 0, 0, 0, 1], SignatureHash::Sha256).is_none());
        assert!(ring_rsa_algorithm(2048, &[], SignatureHash::Sha256).is_none());
        assert_eq!(strip_zeros(&[0, 0, 0x80, 1]), &[0x80, 1]);
        assert_eq!(modulus_bits(&[0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0]), 9);
    }

    #[test]
    fn every_good_fixture_parses_to_its_key_and_hash() {
        for (name, key, hash) in [
            ("rsa512.csr.pem", KeySpec::Rsa(512), SignatureHash::Sha256),
            ("rsa1024.csr.pem", KeySpec::Rsa(1024), SignatureHash::Sha256),
            (
                "rsa1024-sha1.csr.pem",
                KeySpec::Rsa(1024),
                SignatureHash::Sha1,
            ),
            (
                "rsa1024-windows.csr.pem",
                KeySpec::Rsa(1024),
                SignatureHash::Sha256,
            ),
            ("rsa2048.csr.pem", KeySpec::Rsa(2048), SignatureHash::Sha256),
            ("p256.csr.pem", KeySpec::EcdsaP256, SignatureHash::Sha256),
            ("p384.csr.pem", KeySpec::EcdsaP384, SignatureHash::Sha384),
            (
                "p384-sha256.csr.pem",
                KeySpec::EcdsaP384,
                SignatureHash::Sha256,
            ),
        ] {
            let req = parsed(name);
            assert_eq!((req.key, req.signature_hash), (key, hash), "{name}");
        }
    }

    #[test]
    fn the_spki_is_kept_byte_for_byte() {
        let pem_text = String::from_utf8(fixture("rsa1024.csr.pem")).unwrap_or_default();
        let der = pem::parse(pem_text)
            .map(|p| p.into_contents())
            .unwrap_or_default();
        let req = parsed("rsa1024.csr.pem");
        assert!(!req.spki_der.is_empty());
        assert!(der
            .windows(req.spki_der.len())
            .any(|w| w == req.spki_der.as_slice()));
        assert_eq!(req.spki_der[0], 0x30);
    }

    #[test]
    fn a_flipped_signature_byte_is_an_invalid_signature() {
        assert!(matches!(
            parse_csr(&fixture("rsa1024-tampered.csr.pem")),
            Err(CsrError::SignatureInvalid(_))
        ));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            parse_csr(&fixture("garbage.csr")),
            Err(CsrError::Malformed(_))
        ));
    }

    #[test]
    fn empty_input_is_malformed() {
        assert!(matches!(parse_csr(b""), Err(CsrError::Malformed(_))));
        assert!(matches!(parse_csr(b"  \n"), Err(CsrError::Malformed(_))));
    }

    #[test]
    fn der_works_and_trailing_bytes_after_it_are_malformed() {
        let text = String::from_utf8(fixture("p256.csr.pem")).unwrap_or_default();
        let mut der = pem::parse(text)
            .map(|p| p.into_contents())
            .unwrap_or_default();
        assert_eq!(parse_csr(&der).map(|r| r.key), Ok(KeySpec::EcdsaP256));
        der.push(0);
        assert!(matches!(parse_csr(&der), Err(CsrError::Malformed(_))));
    }

    #[test]
    fn truncated_der_is_malformed() {
        let text = String::from_utf8(fixture("rsa1024.csr.pem")).unwrap_or_default();
        let der = pem::parse(text)
            .map(|p| p.into_contents())
            .unwrap_or_default();
        for len in [1, 2, 10, der.len() / 2, der.len() - 1] {
            assert!(
                matches!(parse_csr(&der[..len]), Err(CsrError::Malformed(_))),
                "{len}"
            );
        }
    }

    #[test]
    fn the_new_certificate_request_label_and_bare_base64_are_accepted() {
        let text = String::from_utf8(fixture("rsa1024.csr.pem")).unwrap_or_default();
        let renamed = text.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST");
        assert_eq!(
            parse_csr(renamed.as_bytes()).map(|r| r.key),
            Ok(KeySpec::Rsa(1024))
        );
        let bare: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(
            parse_csr(bare.as_bytes()).map(|r| r.key),
            Ok(KeySpec::Rsa(1024))
        );
    }

    #[test]
    fn a_pem_with_another_label_is_malformed() {
        let cert = std::fs::read(format!(
            "{}/../fixtures/root.cert.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_default();
        let key = fixture("rsa1024.key.pem");
        for input in [cert, key] {
            let err = parse_csr(&input);
            assert!(
                matches!(err, Err(CsrError::Malformed(ref m)) if m.contains("not a CERTIFICATE REQUEST")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn two_requests_in_one_body_are_malformed() {
        let mut both = fixture("rsa1024.csr.pem");
        both.extend(fixture("p256.csr.pem"));
        assert!(matches!(parse_csr(&both), Err(CsrError::Malformed(_))));
    }

    #[test]
    fn webra2_accepts_exactly_the_rsa_1024_requests() {
        let p = profile("webra2");
        for name in [
            "rsa1024.csr.pem",
            "rsa1024-sha1.csr.pem",
            "rsa1024-windows.csr.pem",
        ] {
            assert_eq!(p.check_request(&parsed(name)), Ok(()), "{name}");
        }
        for name in [
            "rsa512.csr.pem",
            "rsa2048.csr.pem",
            "p256.csr.pem",
            "p384.csr.pem",
            "p384-sha256.csr.pem",
        ] {
            assert!(
                matches!(p.check_request(&parsed(name)), Err(CsrError::KeyPolicy(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn modern_accepts_rsa_2048_and_both_curves_and_refuses_rsa_1024() {
        let p = profile("modern");
        for name in [
            "rsa2048.csr.pem",
            "p256.csr.pem",
            "p384.csr.pem",
            "p384-sha256.csr.pem",
        ] {
            assert_eq!(p.check_request(&parsed(name)), Ok(()), "{name}");
        }
        for name in [
            "rsa512.csr.pem",
            "rsa1024.csr.pem",
            "rsa1024-sha1.csr.pem",
            "rsa1024-windows.csr.pem",
        ] {
            assert!(
                matches!(p.check_request(&parsed(name)), Err(CsrError::KeyPolicy(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn rsa_512_is_refused_by_policy_with_a_readable_message() {
        assert_eq!(
            profile("webra2").check_request(&parsed("rsa512.csr.pem")),
            Err(CsrError::KeyPolicy(
                "RSA-512 key: this profile accepts RSA-1024 only".into()
            ))
        );
    }

    #[test]
    fn a_changed_byte_never_panics_and_never_verifies_when_it_is_signed() {
        let text = String::from_utf8(fixture("rsa1024-windows.csr.pem")).unwrap_or_default();
        let der = pem::parse(text)
            .map(|p| p.into_contents())
            .unwrap_or_default();
        let (_, csr) = X509CertificationRequest::from_der(&der).unwrap_or_else(|e| panic!("{e}"));
        let info = csr.certification_request_info.raw;
        let info_start = info.as_ptr() as usize - der.as_ptr() as usize;
        let signed = info_start..info_start + info.len();
        let signature = der.len() - 128..der.len();
        for i in 0..der.len() {
            let mut bad = der.clone();
            bad[i] ^= 0x55;
            let result = parse_csr(&bad);
            // Bytes outside the signed part and the signature (the outer signature
            // algorithm's encoding) are not protected by the signature.
            if signed.contains(&i) || signature.contains(&i) {
                assert!(
                    result.is_err(),
                    "byte {i} changed and the request still verifies"
                );
            }
        }
    }

    /// A fixture request as DER.
    fn fixture_der(name: &str) -> Vec<u8> {
        let text = String::from_utf8(fixture(name)).expect("a PEM fixture");
        pem::parse(text).expect("PEM").into_contents()
    }

    /// The header and content lengths of the DER element at the start of `bytes`
    /// (fixtures only, so a length of up to four bytes is all there is to read).
    fn header(bytes: &[u8]) -> (usize, usize) {
        match bytes[1] {
            short @ 0..=0x7f => (2, usize::from(short)),
            long @ 0x81..=0x84 => {
                let n = usize::from(long & 0x7f);
                let len = bytes[2..2 + n]
                    .iter()
                    .fold(0, |v, b| (v << 8) | usize::from(*b));
                (2 + n, len)
            }
            other => panic!("length byte {other:#04x} in a fixture"),
        }
    }

    /// The whole elements (header and content) one after another in `content`.
    fn elements(mut content: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while !content.is_empty() {
            let (head, len) = header(content);
            let (element, rest) = content.split_at(head + len);
            out.push(element);
            content = rest;
        }
        out
    }

    /// `tag` and `content` as one DER element, the length in its shortest form.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let len = content.len();
        let mut out = vec![tag];
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend(content);
        out
    }

    /// The three parts of a request: the signed info, the signature algorithm, the
    /// signature, each a whole element.
    fn request_parts(der: &[u8]) -> [Vec<u8>; 3] {
        let (head, len) = header(der);
        assert_eq!(head + len, der.len(), "one request and nothing after it");
        let parts = elements(&der[head..]);
        let [info, alg, sig] = parts.as_slice() else {
            panic!("{} parts in a request", parts.len());
        };
        [info.to_vec(), alg.to_vec(), sig.to_vec()]
    }

    /// The RSA-1024 SHA-256 request with one byte of its signature algorithm or
    /// signature changed: `locate` picks the byte from the algorithm's and the
    /// signature's elements (whose tags are checked, so a moved byte fails loudly).
    fn flipped(expected: u8, changed: u8, locate: fn(usize, &[u8]) -> usize) -> Vec<u8> {
        let der = fixture_der("rsa1024.csr.pem");
        let [info, alg, sig] = request_parts(&der);
        assert_eq!((alg[0], sig[0]), (0x30, 0x03), "SEQUENCE and BIT STRING");
        let alg_start = der.len() - sig.len() - alg.len();
        assert_eq!(der[alg_start..], [alg.as_slice(), &sig].concat());
        assert!(der[..alg_start].ends_with(&info));
        let at = locate(alg_start, &der[alg_start..]);
        assert_eq!(der[at], expected, "byte {at}");
        let mut bad = der;
        bad[at] = changed;
        bad
    }

    fn assert_not_der(input: &[u8], case: &str) {
        let result = parse_csr(input);
        assert!(
            matches!(result, Err(CsrError::Malformed(ref m)) if m.starts_with("not DER: ")),
            "{case}: {result:?}"
        );
    }

    #[test]
    fn a_signature_algorithm_oid_tagged_as_an_integer_is_malformed() {
        // AlgorithmIdentifier: 30 len 06 len OID...
        let bad = flipped(0x06, 0x02, |start, _| start + 2);
        assert_not_der(&bad, "OID tag 06 -> 02");
    }

    #[test]
    fn a_signature_algorithm_sequence_with_an_application_tag_is_malformed() {
        let bad = flipped(0x30, 0x70, |start, _| start);
        assert_not_der(&bad, "SEQUENCE tag 30 -> 70");
    }

    #[test]
    fn a_signature_bit_string_with_an_application_tag_is_malformed() {
        let bad = flipped(0x03, 0x43, |start, tail| {
            start + header(tail).0 + header(tail).1
        });
        assert_not_der(&bad, "BIT STRING tag 03 -> 43");
    }

    #[test]
    fn a_signature_algorithm_oid_whose_last_arc_never_ends_is_malformed() {
        // sha256WithRSAEncryption ends in arc 11 (0x0b); with the high bit set the
        // arc goes on past the end of the OID.
        let bad = flipped(0x0b, 0x8b, |start, tail| {
            let (head, _) = header(tail);
            let (oid_head, oid_len) = header(&tail[head..]);
            start + head + oid_head + oid_len - 1
        });
        assert_not_der(&bad, "last OID byte 0b -> 8b");
    }

    #[test]
    fn trailing_garbage_inside_or_after_the_request_is_malformed() {
        let der = fixture_der("rsa1024.csr.pem");
        let [info, alg, sig] = request_parts(&der);
        let inside = tlv(0x30, &[info, alg, sig, vec![0x05, 0x00]].concat());
        assert_not_der(&inside, "a NULL after the signature, inside the request");
        let mut after = der.clone();
        after.extend([0x05, 0x00]);
        assert_not_der(&after, "a NULL after the request");
    }

    #[test]
    fn garbage_inside_the_signature_algorithm_is_malformed() {
        let der = fixture_der("rsa1024.csr.pem");
        let [info, alg, sig] = request_parts(&der);
        let (head, _) = header(&alg);
        let alg = tlv(0x30, &[&alg[head..], &[0x05, 0x00]].concat());
        assert_not_der(&tlv(0x30, &[info, alg, sig].concat()), "a second NULL");
    }

    #[test]
    fn a_length_in_long_form_where_the_short_form_fits_is_malformed() {
        let der = fixture_der("rsa1024.csr.pem");
        let [info, alg, sig] = request_parts(&der);
        let (head, len) = header(&alg);
        assert!(head == 2 && len < 0x80, "the algorithm's length is short");
        let long_alg = [&[0x30, 0x81, alg[1]], &alg[head..]].concat();
        let bad = tlv(0x30, &[info.clone(), long_alg, sig.clone()].concat());
        assert_not_der(&bad, "the algorithm's length as 81 0d");
        // The outer length in three bytes where two do.
        let content = [info, alg, sig].concat();
        assert!((0x100..0x10000).contains(&content.len()));
        let mut padded = vec![0x30, 0x83, 0x00];
        padded.extend((content.len() as u16).to_be_bytes());
        padded.extend(content);
        assert_not_der(&padded, "the request's length as 83 00 xx xx");
    }

    /// The RSA-1024 request with its RSA key's modulus INTEGER content passed
    /// through `pad`, then signed again with its own key, so only the key's
    /// encoding differs.
    fn rsa1024_with_modulus(pad: fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
        use rsa::pkcs8::DecodePrivateKey;
        let pem = String::from_utf8(fixture("rsa1024.key.pem")).expect("PEM");
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("PKCS#8 key");
        let [info, alg, _] = request_parts(&fixture_der("rsa1024.csr.pem"));
        let (head, _) = header(&info);
        let [version, subject, spki, attributes] = elements(&info[head..])[..] else {
            panic!("four fields in the request info");
        };
        let (head, _) = header(spki);
        let [spki_alg, bits] = elements(&spki[head..])[..] else {
            panic!("two fields in the SPKI");
        };
        let (head, _) = header(bits);
        assert_eq!(bits[head], 0, "no unused bits");
        let rsa_key = &bits[head + 1..];
        let (head, _) = header(rsa_key);
        let [n, e] = elements(&rsa_key[head..])[..] else {
            panic!("n and e in the RSA key");
        };
        let (head, _) = header(n);
        let rsa_key = tlv(0x30, &[tlv(0x02, &pad(&n[head..])), e.to_vec()].concat());
        let bits = tlv(0x03, &[&[0][..], &rsa_key].concat());
        let spki = tlv(0x30, &[spki_alg, &bits].concat());
        let info = tlv(0x30, &[version, subject, &spki, attributes].concat());
        let signature = sign(&key, SignatureHash::Sha256, &info).expect("RSA-1024 signs");
        let signature = tlv(0x03, &[&[0][..], &signature].concat());
        tlv(0x30, &[info, alg, signature].concat())
    }

    #[test]
    fn an_rsa_key_whose_modulus_has_a_needless_leading_zero_is_malformed() {
        let same = rsa1024_with_modulus(|n| n.to_vec());
        assert_eq!(same, fixture_der("rsa1024.csr.pem"), "the rebuild is exact");
        let padded = rsa1024_with_modulus(|n| [&[0][..], n].concat());
        let result = parse_csr(&padded);
        assert!(
            matches!(result, Err(CsrError::Malformed(ref m)) if m.contains("RSA public key")),
            "{result:?}"
        );
    }

    #[test]
    fn every_fixture_request_parses_as_pem_der_and_bare_base64() {
        for name in [
            "rsa512.csr.pem",
            "rsa1024.csr.pem",
            "rsa1024-sha1.csr.pem",
            "rsa1024-windows.csr.pem",
            "rsa2048.csr.pem",
            "p256.csr.pem",
            "p384.csr.pem",
            "p384-sha256.csr.pem",
        ] {
            let pem_text = String::from_utf8(fixture(name)).expect("PEM");
            let der = fixture_der(name);
            let bare: String = pem_text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect();
            let want = parse_csr(pem_text.as_bytes());
            assert!(want.is_ok(), "{name}: {want:?}");
            assert_eq!(parse_csr(&der), want, "{name} as DER");
            assert_eq!(parse_csr(bare.as_bytes()), want, "{name} as bare base64");
        }
    }
}
