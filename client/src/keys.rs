//! The user's key: generated like the site's enrollment control would, put in a
//! PKCS#10 request, and stored encrypted with the PIN.

use crate::ClientError;
use der::pem::LineEnding;
use der::EncodePem;
use pkcs8::pkcs5::pbes2;
use pkcs8::{
    DecodePrivateKey, EncodePrivateKey, EncodePublicKey, EncryptedPrivateKeyInfo, PrivateKeyInfo,
    SecretDocument,
};
use rand::rngs::OsRng;
use rand::RngCore;
use rsa::RsaPrivateKey;
use sha2::Sha256;
use std::str::FromStr;
use webra2_wire::KeySpec;
use x509_cert::builder::{Builder, RequestBuilder};
use x509_cert::name::Name;

/// PBKDF2 rounds for the stored key: slow enough to matter, quick enough for tests.
const PBKDF2_ITERATIONS: u32 = 100_000;
/// The PEM label of an encrypted PKCS#8 key.
const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// A private key of one of the types the site can ask for.
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientKey {
    /// RSA (any size the `rsa` crate handles, including 1024 bits).
    Rsa(Box<RsaPrivateKey>),
    /// ECDSA on P-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA on P-384.
    P384(p384::ecdsa::SigningKey),
}

impl std::fmt::Debug for ClientKey {
    // Never print key material, not even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKey({})", self.spec())
    }
}

impl ClientKey {
    /// Generates a new key. RSA of a few thousand bits takes seconds.
    pub fn generate(spec: KeySpec) -> Result<Self, ClientError> {
        match spec {
            KeySpec::Rsa(bits @ 512..=8192) => RsaPrivateKey::new(&mut OsRng, bits as usize)
                .map(|k| ClientKey::Rsa(Box::new(k)))
                .map_err(|e| ClientError::Key(format!("RSA-{bits} generation failed: {e}"))),
            KeySpec::Rsa(bits) => Err(ClientError::Key(format!(
                "RSA-{bits} is outside what this client generates (512 to 8192 bits)"
            ))),
            KeySpec::EcdsaP256 => Ok(ClientKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng))),
            KeySpec::EcdsaP384 => Ok(ClientKey::P384(p384::ecdsa::SigningKey::random(&mut OsRng))),
            other => Err(ClientError::Key(format!("{other} keys are not supported"))),
        }
    }

    /// The key's type, as the site names it.
    pub fn spec(&self) -> KeySpec {
        match self {
            ClientKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                KeySpec::Rsa(u32::try_from(k.n().bits()).unwrap_or(u32::MAX))
            }
            ClientKey::P256(_) => KeySpec::EcdsaP256,
            ClientKey::P384(_) => KeySpec::EcdsaP384,
        }
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> Result<Vec<u8>, ClientError> {
        let doc = match self {
            ClientKey::Rsa(k) => k.to_public_key().to_public_key_der(),
            ClientKey::P256(k) => k.verifying_key().to_public_key_der(),
            ClientKey::P384(k) => k.verifying_key().to_public_key_der(),
        };
        doc.map(|d| d.into_vec())
            .map_err(|e| ClientError::Key(format!("public key does not encode: {e}")))
    }

    /// The key as unencrypted PKCS#8 DER (kept in memory only).
    pub fn to_pkcs8_der(&self) -> Result<SecretDocument, ClientError> {
        match self {
            ClientKey::Rsa(k) => k.to_pkcs8_der(),
            ClientKey::P256(k) => k.to_pkcs8_der(),
            ClientKey::P384(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| ClientError::Key(format!("key does not encode as PKCS#8: {e}")))
    }

    /// Reads an unencrypted PKCS#8 key of any supported type.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, ClientError> {
        if let Ok(k) = RsaPrivateKey::from_pkcs8_der(der) {
            return Ok(ClientKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(ClientKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(ClientKey::P384(k));
        }
        Err(ClientError::Key(
            "not a PKCS#8 RSA, P-256 or P-384 key".to_owned(),
        ))
    }

    /// The key as PEM `ENCRYPTED PRIVATE KEY`: PKCS#8 PBES2, PBKDF2-HMAC-SHA256,
    /// AES-256-CBC, so `openssl pkey -passin pass:PIN` opens it.
    pub fn encrypt_pem(&self, pin: &str) -> Result<String, ClientError> {
        let plain = self.to_pkcs8_der()?;
        let info = PrivateKeyInfo::try_from(plain.as_bytes())
            .map_err(|e| ClientError::Key(format!("PKCS#8 does not parse: {e}")))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut iv);
        let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
            .map_err(|e| ClientError::Key(format!("PBES2 parameters: {e}")))?;
        let encrypted = info
            .encrypt_with_params(params, pin.as_bytes())
            .map_err(|e| ClientError::Key(format!("key encryption failed: {e}")))?;
        encrypted
            .to_pem(ENCRYPTED_LABEL, LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| ClientError::Key(format!("PEM encoding failed: {e}")))
    }

    /// Opens a key written by [`ClientKey::encrypt_pem`] (or by openssl) with the PIN.
    pub fn decrypt_pem(pem: &str, pin: &str) -> Result<Self, ClientError> {
        let (label, doc) = SecretDocument::from_pem(pem)
            .map_err(|e| ClientError::Key(format!("stored key is not PEM: {e}")))?;
        if label != ENCRYPTED_LABEL {
            return Err(ClientError::Key(format!(
                "stored key is {label:?}, not {ENCRYPTED_LABEL:?}"
            )));
        }
        let encrypted = EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(|e| ClientError::Key(format!("stored key is not encrypted PKCS#8: {e}")))?;
        // A wrong PIN shows as bad padding or, rarely, as garbage that does not parse.
        let plain = encrypted
            .decrypt(pin.as_bytes())
            .map_err(|_| ClientError::Key("the PIN does not open the stored key".to_owned()))?;
        Self::from_pkcs8_der(plain.as_bytes())
            .map_err(|_| ClientError::Key("the PIN does not open the stored key".to_owned()))
    }

    /// A PKCS#10 request for this key, subject `CN=<cn>`, as PEM. RSA signs with
    /// SHA-256, ECDSA with its curve's hash.
    pub fn csr_pem(&self, cn: &str) -> Result<String, ClientError> {
        let subject = Name::from_str(&format!("CN={}", escape_rdn_value(cn)))
            .map_err(|e| ClientError::Csr(format!("subject CN={cn:?}: {e}")))?;
        let csr_err = |e: x509_cert::builder::Error| ClientError::Csr(e.to_string());
        let req = match self {
            ClientKey::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                RequestBuilder::new(subject, &signer)
                    .map_err(csr_err)?
                    .build::<rsa::pkcs1v15::Signature>()
                    .map_err(csr_err)?
            }
            ClientKey::P256(k) => RequestBuilder::new(subject, k)
                .map_err(csr_err)?
                .build::<p256::ecdsa::DerSignature>()
                .map_err(csr_err)?,
            ClientKey::P384(k) => RequestBuilder::new(subject, k)
                .map_err(csr_err)?
                .build::<p384::ecdsa::DerSignature>()
                .map_err(csr_err)?,
        };
        req.to_pem(LineEnding::LF)
            .map_err(|e| ClientError::Csr(format!("PEM encoding failed: {e}")))
    }
}

/// Escapes an RFC 4514 attribute value.
fn escape_rdn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let leading = i == 0 && (c == ' ' || c == '#');
        let trailing = i + 1 == value.chars().count() && c == ' ';
        if leading || trailing || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    use x509_parser::prelude::FromDer;

    fn rsa1024() -> ClientKey {
        ClientKey::generate(KeySpec::Rsa(1024)).expect("RSA-1024 generates")
    }

    #[test]
    fn an_rsa_request_carries_the_cn_and_its_signature_verifies_with_the_rsa_crate() {
        let key = rsa1024();
        let pem = key.csr_pem("U0001").expect("request builds");
        let block = pem::parse(&pem).expect("request is PEM");
        assert_eq!(block.tag(), "CERTIFICATE REQUEST");
        let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(
            block.contents(),
        )
        .expect("x509-parser reads the request");
        let cn = csr
            .certification_request_info
            .subject
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok());
        assert_eq!(cn, Some("U0001"));
        assert_eq!(
            csr.certification_request_info.subject_pki.raw,
            key.public_key_der().expect("SPKI").as_slice()
        );

        let ClientKey::Rsa(private) = &key else {
            panic!("generated an RSA key")
        };
        let verifier = VerifyingKey::<Sha256>::new(private.to_public_key());
        let signature = Signature::try_from(csr.signature_value.data.as_ref()).expect("signature");
        verifier
            .verify(csr.certification_request_info.raw, &signature)
            .expect("the request's own signature verifies");
        // x509-parser verifies through ring, which refuses RSA under 2048 bits:
        // exactly why the rsa crate is the verifier here.
    }

    #[test]
    fn ecdsa_requests_verify_too() {
        for spec in [KeySpec::EcdsaP256, KeySpec::EcdsaP384] {
            let key = ClientKey::generate(spec).expect("key");
            let pem = key.csr_pem("a,b+c").expect("request builds");
            let block = pem::parse(&pem).expect("PEM");
            let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(
                block.contents(),
            )
            .expect("parses");
            csr.verify_signature().expect("signature verifies");
            let cn = csr
                .certification_request_info
                .subject
                .iter_common_name()
                .next()
                .and_then(|a| a.as_str().ok());
            assert_eq!(cn, Some("a,b+c"));
        }
    }

    #[test]
    fn the_stored_key_opens_with_the_pin_and_refuses_a_wrong_one() {
        let key = rsa1024();
        let pem = key.encrypt_pem("1234").expect("encrypts");
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = ClientKey::decrypt_pem(&pem, "1234").expect("the PIN opens it");
        assert_eq!(
            back.public_key_der().expect("SPKI"),
            key.public_key_der().expect("SPKI")
        );
        let wrong = ClientKey::decrypt_pem(&pem, "4321").expect_err("a wrong PIN is refused");
        assert!(wrong.to_string().contains("PIN"), "{wrong}");
    }

    #[test]
    fn the_stored_key_uses_pbkdf2_sha256_and_aes_256_cbc() {
        let pem = ClientKey::generate(KeySpec::EcdsaP256)
            .expect("key")
            .encrypt_pem("0000")
            .expect("encrypts");
        let (_, doc) = SecretDocument::from_pem(&pem).expect("PEM");
        let info = EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).expect("PKCS#8");
        let params = info.encryption_algorithm.pbes2().expect("PBES2");
        assert!(matches!(
            params.encryption,
            pbes2::EncryptionScheme::Aes256Cbc { .. }
        ));
        let pbkdf2 = params.kdf.pbkdf2().expect("PBKDF2");
        assert_eq!(pbkdf2.prf, pbes2::Pbkdf2Prf::HmacWithSha256);
    }
}
