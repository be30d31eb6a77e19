//! Mutual TLS for the confirmation page, on rustls with the ring provider only.
//!
//! ring refuses RSA keys under 2048 bits, and the default profile issues
//! RSA-1024 client keys like the real service. So RSA client keys sign through
//! [`RsaSigningKey`], a `rustls::sign::SigningKey` over the RustCrypto `rsa`
//! crate; ECDSA keys go through ring. The server is verified by rustls' webpki
//! verifier with the installed root as the only trust anchor.

use crate::{ClientError, ClientKey};
use rand::rngs::OsRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer as _};
use rsa::RsaPrivateKey;
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{ClientConfig, RootCertStore, SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer,
};
use std::sync::Arc;

/// The RSA schemes offered, best first: PSS (the only RSA in TLS 1.3), then
/// PKCS#1 v1.5 for TLS 1.2 servers that want it.
const RSA_SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

/// The one crypto provider of the client.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A configuration without client authentication and without trusted roots:
/// enough for the plain-HTTP issuance site, and it needs no process-default provider.
pub fn plain_config() -> Result<ClientConfig, ClientError> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth())
}

/// A configuration for mutual TLS: `root_der` is the only trust anchor for the
/// server, and `cert_chain` (leaf first) with `key` is presented as the client
/// certificate.
pub fn client_config(
    root_der: &[u8],
    cert_chain: Vec<CertificateDer<'static>>,
    key: &ClientKey,
) -> Result<ClientConfig, ClientError> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(root_der.to_vec()))
        .map_err(|e| ClientError::Tls(format!("the root is no trust anchor: {e}")))?;
    let certified = Arc::new(CertifiedKey::new(cert_chain, signing_key(key)?));
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(ClientCertResolver(certified))))
}

/// The rustls signing key for a client key: RSA through [`RsaSigningKey`] (any
/// size), ECDSA through ring.
pub fn signing_key(key: &ClientKey) -> Result<Arc<dyn SigningKey>, ClientError> {
    match key {
        ClientKey::Rsa(k) => Ok(Arc::new(RsaSigningKey::new((**k).clone())?)),
        ClientKey::P256(_) | ClientKey::P384(_) => {
            let der = key.to_pkcs8_der()?;
            let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.as_bytes().to_vec()));
            rustls::crypto::ring::sign::any_ecdsa_type(&der)
                .map_err(|e| ClientError::Tls(format!("ring refuses the ECDSA key: {e}")))
        }
    }
}

/// Always presents the one certificate chain the client holds.
#[derive(Debug)]
pub struct ClientCertResolver(pub Arc<CertifiedKey>);

impl ResolvesClientCert for ClientCertResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // Sending a certificate we cannot sign for would only fail later, less clearly.
        self.0
            .key
            .choose_scheme(sigschemes)
            .map(|_| Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// An RSA signing key of any size, over the RustCrypto `rsa` crate.
pub struct RsaSigningKey {
    key: Arc<RsaPrivateKey>,
    spki: Vec<u8>,
}

impl RsaSigningKey {
    /// Wraps an RSA private key.
    pub fn new(key: RsaPrivateKey) -> Result<Self, ClientError> {
        use pkcs8::EncodePublicKey;
        let spki = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| ClientError::Key(format!("RSA public key does not encode: {e}")))?
            .into_vec();
        Ok(Self {
            key: Arc::new(key),
            spki,
        })
    }
}

impl std::fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigningKey")
    }
}

impl SigningKey for RsaSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        RSA_SCHEMES
            .into_iter()
            .find(|s| offered.contains(s))
            .map(|scheme| {
                Box::new(RsaSigner {
                    key: Arc::clone(&self.key),
                    scheme,
                }) as Box<dyn Signer>
            })
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

/// Signs with one RSA scheme.
pub struct RsaSigner {
    key: Arc<RsaPrivateKey>,
    scheme: SignatureScheme,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaSigner({:?})", self.scheme)
    }
}

impl Signer for RsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        use rsa::pkcs1v15::SigningKey as Pkcs1;
        use rsa::pss::BlindedSigningKey as Pss;
        use sha2::{Sha256, Sha384, Sha512};

        let key = (*self.key).clone();
        let fail =
            |e: rsa::signature::Error| rustls::Error::General(format!("RSA signing failed: {e}"));
        // PSS salts are the hash length, as TLS requires; the blinded keys do that.
        let signature = match self.scheme {
            SignatureScheme::RSA_PSS_SHA256 => Pss::<Sha256>::new(key)
                .try_sign_with_rng(&mut OsRng, message)
                .map_err(fail)?
                .to_vec(),
            SignatureScheme::RSA_PSS_SHA384 => Pss::<Sha384>::new(key)
                .try_sign_with_rng(&mut OsRng, message)
                .map_err(fail)?
                .to_vec(),
            SignatureScheme::RSA_PSS_SHA512 => Pss::<Sha512>::new(key)
                .try_sign_with_rng(&mut OsRng, message)
                .map_err(fail)?
                .to_vec(),
            SignatureScheme::RSA_PKCS1_SHA256 => Pkcs1::<Sha256>::new(key)
                .try_sign(message)
                .map_err(fail)?
                .to_vec(),
            SignatureScheme::RSA_PKCS1_SHA384 => Pkcs1::<Sha384>::new(key)
                .try_sign(message)
                .map_err(fail)?
                .to_vec(),
            SignatureScheme::RSA_PKCS1_SHA512 => Pkcs1::<Sha512>::new(key)
                .try_sign(message)
                .map_err(fail)?
                .to_vec(),
            other => {
                return Err(rustls::Error::General(format!(
                    "RSA signer asked for {other:?}"
                )))
            }
        };
        Ok(signature)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier;
    use sha2::Sha256;
    use webra2_wire::KeySpec;

    fn rsa1024() -> RsaPrivateKey {
        match ClientKey::generate(KeySpec::Rsa(1024)) {
            Ok(ClientKey::Rsa(k)) => *k,
            other => panic!("expected an RSA key, got {other:?}"),
        }
    }

    #[test]
    fn a_1024_bit_key_signs_pss_for_tls13_and_the_rsa_crate_verifies_it() {
        let private = rsa1024();
        let key = RsaSigningKey::new(private.clone()).expect("wraps");
        let signer = key
            .choose_scheme(&[
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::RSA_PSS_SHA256,
            ])
            .expect("PSS-SHA256 is chosen");
        assert_eq!(signer.scheme(), SignatureScheme::RSA_PSS_SHA256);
        let sig = signer
            .sign(b"TLS 1.3, client CertificateVerify")
            .expect("signs");
        assert_eq!(sig.len(), 128);
        let verifier = rsa::pss::VerifyingKey::<Sha256>::new(private.to_public_key());
        let sig = rsa::pss::Signature::try_from(sig.as_slice()).expect("signature");
        verifier
            .verify(b"TLS 1.3, client CertificateVerify", &sig)
            .expect("the rsa crate verifies the PSS signature");
    }

    #[test]
    fn a_1024_bit_key_signs_pkcs1_when_only_that_is_offered() {
        let private = rsa1024();
        let key = RsaSigningKey::new(private.clone()).expect("wraps");
        let signer = key
            .choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA384])
            .expect("PKCS1-SHA384 is chosen");
        let sig = signer.sign(b"TLS 1.2").expect("signs");
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(private.to_public_key());
        let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).expect("signature");
        verifier.verify(b"TLS 1.2", &sig).expect("verifies");
        let wrong = rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(private.to_public_key());
        assert!(wrong.verify(b"TLS 1.3", &sig).is_err());
    }

    #[test]
    fn no_rsa_scheme_offered_means_no_signer() {
        let key = RsaSigningKey::new(rsa1024()).expect("wraps");
        assert!(key
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .is_none());
    }

    #[test]
    fn ecdsa_keys_load_through_ring() {
        let key = ClientKey::generate(KeySpec::EcdsaP256).expect("key");
        let signing = signing_key(&key).expect("ring loads P-256");
        assert_eq!(signing.algorithm(), SignatureAlgorithm::ECDSA);
    }
}
