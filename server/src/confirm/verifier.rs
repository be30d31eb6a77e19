//! Handshake signature algorithms for RSA keys from 1024 bits, and the crypto
//! provider of the confirmation listener that uses them.
//!
//! The default profile issues RSA-1024 client certificates, as the real service
//! does. webpki's stock RSA algorithms refuse moduli under 2048 bits, so the
//! client's CertificateVerify signature would fail and the handshake with it;
//! *ring* has no 1024-bit RSA at all (PSS included, which TLS 1.3 requires).
//! These algorithms verify over the RustCrypto `rsa` crate instead.
//!
//! They are used only for the signatures of the handshake itself. Certificate
//! chains are still checked by webpki with *ring*'s own algorithms: the chain
//! is signed by the RSA-2048 root, so nothing is loosened there.

use rsa::pkcs1v15;
use rsa::pss;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::SignatureScheme;
use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm,
};
use sha2::{Sha256, Sha384, Sha512};

/// The smallest RSA modulus accepted, in bits: what the `webra2` profile issues.
pub const MIN_RSA_BITS: usize = 1024;
/// The largest RSA modulus accepted, in bits: *ring*'s upper bound, so keys
/// webpki accepts are accepted here too.
pub const MAX_RSA_BITS: usize = 8192;

/// The padding and hash of one RSA signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Padding {
    Pkcs1Sha256,
    Pkcs1Sha384,
    Pkcs1Sha512,
    /// RSA-PSS with MGF1 of the same hash and a salt as long as the hash, as
    /// TLS (`rsa_pss_rsae_*`) prescribes.
    PssSha256,
    PssSha384,
    PssSha512,
}

/// An RSA signature verification algorithm that accepts moduli from
/// [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`] bits.
#[derive(Debug)]
pub struct LegacyRsa {
    padding: Padding,
}

/// RSA PKCS#1 v1.5 with SHA-256, keys from 1024 bits.
pub static RSA_PKCS1_1024_8192_SHA256: &LegacyRsa = &LegacyRsa {
    padding: Padding::Pkcs1Sha256,
};
/// RSA PKCS#1 v1.5 with SHA-384, keys from 1024 bits.
pub static RSA_PKCS1_1024_8192_SHA384: &LegacyRsa = &LegacyRsa {
    padding: Padding::Pkcs1Sha384,
};
/// RSA PKCS#1 v1.5 with SHA-512, keys from 1024 bits.
pub static RSA_PKCS1_1024_8192_SHA512: &LegacyRsa = &LegacyRsa {
    padding: Padding::Pkcs1Sha512,
};
/// RSA-PSS with SHA-256 (`rsa_pss_rsae_sha256`), keys from 1024 bits.
pub static RSA_PSS_1024_8192_SHA256: &LegacyRsa = &LegacyRsa {
    padding: Padding::PssSha256,
};
/// RSA-PSS with SHA-384 (`rsa_pss_rsae_sha384`), keys from 1024 bits.
pub static RSA_PSS_1024_8192_SHA384: &LegacyRsa = &LegacyRsa {
    padding: Padding::PssSha384,
};
/// RSA-PSS with SHA-512 (`rsa_pss_rsae_sha512`), keys from 1024 bits. A
/// 1024-bit modulus is too short for it (the salt and hash do not fit), so in
/// practice it serves keys from 1040 bits.
pub static RSA_PSS_1024_8192_SHA512: &LegacyRsa = &LegacyRsa {
    padding: Padding::PssSha512,
};

impl LegacyRsa {
    fn key(public_key: &[u8]) -> Result<RsaPublicKey, InvalidSignature> {
        let der = rsa::pkcs1::RsaPublicKey::try_from(public_key).map_err(|_| InvalidSignature)?;
        let n = BigUint::from_bytes_be(der.modulus.as_bytes());
        let e = BigUint::from_bytes_be(der.public_exponent.as_bytes());
        let key =
            RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS).map_err(|_| InvalidSignature)?;
        if key.n().bits() < MIN_RSA_BITS {
            return Err(InvalidSignature);
        }
        Ok(key)
    }
}

impl SignatureVerificationAlgorithm for LegacyRsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = Self::key(public_key)?;
        let outcome = match self.padding {
            Padding::Pkcs1Sha256 => {
                let sig = pkcs1v15::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig)
            }
            Padding::Pkcs1Sha384 => {
                let sig = pkcs1v15::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(message, &sig)
            }
            Padding::Pkcs1Sha512 => {
                let sig = pkcs1v15::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(message, &sig)
            }
            Padding::PssSha256 => {
                let sig = pss::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                pss::VerifyingKey::<Sha256>::new(key).verify(message, &sig)
            }
            Padding::PssSha384 => {
                let sig = pss::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                pss::VerifyingKey::<Sha384>::new(key).verify(message, &sig)
            }
            Padding::PssSha512 => {
                let sig = pss::Signature::try_from(signature).map_err(|_| InvalidSignature)?;
                pss::VerifyingKey::<Sha512>::new(key).verify(message, &sig)
            }
        };
        outcome.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.padding {
            Padding::Pkcs1Sha256 => alg_id::RSA_PKCS1_SHA256,
            Padding::Pkcs1Sha384 => alg_id::RSA_PKCS1_SHA384,
            Padding::Pkcs1Sha512 => alg_id::RSA_PKCS1_SHA512,
            Padding::PssSha256 => alg_id::RSA_PSS_SHA256,
            Padding::PssSha384 => alg_id::RSA_PSS_SHA384,
            Padding::PssSha512 => alg_id::RSA_PSS_SHA512,
        }
    }

    fn fips(&self) -> bool {
        false
    }
}

/// *ring*'s algorithms for certificate chains, with ours used for the RSA
/// handshake signatures.
///
/// `all` (chains) is exactly *ring*'s default set: webpki tries the first
/// algorithm whose identifiers match, so adding ours there would change
/// nothing for a chain under the RSA-2048 root, and a chain signed by a weak
/// key should keep failing. `mapping` (handshake signatures) lists ours alone
/// for the RSA schemes: rustls uses only the first algorithm of a TLS 1.3
/// scheme, and stops at the first "invalid signature" in TLS 1.2, so *ring*'s
/// 2048-bit algorithm placed first would refuse a 1024-bit client outright.
/// Ours verify 2048-bit and larger keys just as well.
pub static SUPPORTED_SIG_ALGS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        webpki::ring::ECDSA_P256_SHA256,
        webpki::ring::ECDSA_P256_SHA384,
        webpki::ring::ECDSA_P384_SHA256,
        webpki::ring::ECDSA_P384_SHA384,
        webpki::ring::ED25519,
        webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        webpki::ring::RSA_PKCS1_2048_8192_SHA384,
        webpki::ring::RSA_PKCS1_2048_8192_SHA512,
        webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[
                webpki::ring::ECDSA_P384_SHA384,
                webpki::ring::ECDSA_P256_SHA384,
            ],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[
                webpki::ring::ECDSA_P256_SHA256,
                webpki::ring::ECDSA_P384_SHA256,
            ],
        ),
        (SignatureScheme::ED25519, &[webpki::ring::ED25519]),
        (SignatureScheme::RSA_PSS_SHA512, &[RSA_PSS_1024_8192_SHA512]),
        (SignatureScheme::RSA_PSS_SHA384, &[RSA_PSS_1024_8192_SHA384]),
        (SignatureScheme::RSA_PSS_SHA256, &[RSA_PSS_1024_8192_SHA256]),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[RSA_PKCS1_1024_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[RSA_PKCS1_1024_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[RSA_PKCS1_1024_8192_SHA256],
        ),
    ],
};

/// *ring*'s default provider with [`SUPPORTED_SIG_ALGS`] for signatures.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        signature_verification_algorithms: SUPPORTED_SIG_ALGS,
        ..rustls::crypto::ring::default_provider()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
    use rsa::RsaPrivateKey;

    const MESSAGE: &[u8] = b"TLS 1.3, client CertificateVerify\x00transcript hash";

    fn key(bits: usize) -> RsaPrivateKey {
        match RsaPrivateKey::new(&mut rand::thread_rng(), bits) {
            Ok(key) => key,
            Err(e) => panic!("generating a {bits}-bit key: {e}"),
        }
    }

    fn pkcs1_public(key: &RsaPrivateKey) -> Vec<u8> {
        match key.to_public_key().to_pkcs1_der() {
            Ok(doc) => doc.as_bytes().to_vec(),
            Err(e) => panic!("encoding the public key: {e}"),
        }
    }

    fn sign_pkcs1(key: &RsaPrivateKey) -> Vec<u8> {
        pkcs1v15::SigningKey::<Sha256>::new(key.clone())
            .sign(MESSAGE)
            .to_vec()
    }

    fn sign_pss(key: &RsaPrivateKey) -> Vec<u8> {
        pss::BlindedSigningKey::<Sha256>::new(key.clone())
            .sign_with_rng(&mut rand::thread_rng(), MESSAGE)
            .to_vec()
    }

    #[test]
    fn a_1024_bit_pkcs1_signature_verifies_and_a_tampered_one_does_not() {
        let key = key(1024);
        let public = pkcs1_public(&key);
        let mut sig = sign_pkcs1(&key);
        assert!(RSA_PKCS1_1024_8192_SHA256
            .verify_signature(&public, MESSAGE, &sig)
            .is_ok());
        sig[10] ^= 0x01;
        assert!(RSA_PKCS1_1024_8192_SHA256
            .verify_signature(&public, MESSAGE, &sig)
            .is_err());
    }

    #[test]
    fn a_1024_bit_pss_signature_verifies_and_a_tampered_one_does_not() {
        let key = key(1024);
        let public = pkcs1_public(&key);
        let sig = sign_pss(&key);
        assert!(RSA_PSS_1024_8192_SHA256
            .verify_signature(&public, MESSAGE, &sig)
            .is_ok());
        let mut tampered_message = MESSAGE.to_vec();
        tampered_message[0] ^= 0x01;
        assert!(RSA_PSS_1024_8192_SHA256
            .verify_signature(&public, &tampered_message, &sig)
            .is_err());
    }

    #[test]
    fn a_signature_made_by_another_key_does_not_verify() {
        let signer = key(1024);
        let other = pkcs1_public(&key(1024));
        assert!(RSA_PKCS1_1024_8192_SHA256
            .verify_signature(&other, MESSAGE, &sign_pkcs1(&signer))
            .is_err());
        assert!(RSA_PSS_1024_8192_SHA256
            .verify_signature(&other, MESSAGE, &sign_pss(&signer))
            .is_err());
    }

    #[test]
    fn a_pss_signature_does_not_pass_as_pkcs1_nor_the_other_way_round() {
        let key = key(1024);
        let public = pkcs1_public(&key);
        assert!(RSA_PKCS1_1024_8192_SHA256
            .verify_signature(&public, MESSAGE, &sign_pss(&key))
            .is_err());
        assert!(RSA_PSS_1024_8192_SHA256
            .verify_signature(&public, MESSAGE, &sign_pkcs1(&key))
            .is_err());
    }

    #[test]
    fn a_512_bit_key_is_refused_even_with_a_good_signature() {
        let key = key(512);
        let public = pkcs1_public(&key);
        assert!(RSA_PKCS1_1024_8192_SHA256
            .verify_signature(&public, MESSAGE, &sign_pkcs1(&key))
            .is_err());
    }

    #[test]
    fn a_public_key_that_is_not_pkcs1_der_is_an_invalid_signature_not_a_panic() {
        assert!(RSA_PKCS1_1024_8192_SHA256
            .verify_signature(b"\x30\x03\x02\x01", MESSAGE, b"sig")
            .is_err());
    }

    #[test]
    fn every_rsa_handshake_scheme_maps_to_a_1024_bit_capable_algorithm_first() {
        for (scheme, algs) in SUPPORTED_SIG_ALGS.mapping {
            if format!("{scheme:?}").starts_with("RSA") {
                let first = format!("{:?}", algs[0]);
                assert!(first.starts_with("LegacyRsa"), "{scheme:?} -> {first}");
            }
        }
        let schemes = SUPPORTED_SIG_ALGS.supported_schemes();
        assert!(schemes.contains(&SignatureScheme::RSA_PSS_SHA256));
        assert!(schemes.contains(&SignatureScheme::RSA_PKCS1_SHA256));
    }
}
