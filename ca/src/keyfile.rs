//! A generated key as a PIN-encrypted PKCS#8 file (`ENCRYPTED PRIVATE KEY`):
//! PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, as `openssl pkcs8 -topk8
//! -v2 aes-256-cbc` writes it, so openssl and every TLS library read it.

use crate::{CaError, GeneratedKey};
use pkcs8::pkcs5::pbes2;
use pkcs8::PrivateKeyInfo;
use rand::RngCore;

/// PBKDF2 rounds, as for the PKCS#12 files.
const PBKDF2_ITERATIONS: u32 = 10_000;

impl GeneratedKey {
    /// The key as PEM `ENCRYPTED PRIVATE KEY`, encrypted with `pin`.
    pub fn encrypted_pkcs8_pem(&self, pin: &str) -> Result<String, CaError> {
        let bad = |msg: String| CaError::Issue(format!("encrypted PKCS#8: {msg}"));
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut iv);
        let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
            .map_err(|e| bad(e.to_string()))?;
        let info = PrivateKeyInfo::try_from(self.pkcs8_der()).map_err(|e| bad(e.to_string()))?;
        let doc = info
            .encrypt_with_params(params, pin)
            .map_err(|e| bad(e.to_string()))?;
        doc.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map(|p| p.to_string())
            .map_err(|e| bad(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{openssl, temp_dir, write};
    use crate::KeySpec;

    #[test]
    fn openssl_opens_the_key_with_the_pin_and_only_with_it() {
        for spec in [KeySpec::Rsa(1024), KeySpec::EcdsaP256] {
            let key = GeneratedKey::generate(spec).unwrap_or_else(|e| panic!("{e}"));
            let pem = key
                .encrypted_pkcs8_pem("pin-1234")
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
            let dir = temp_dir();
            let path = write(&dir, "key.pem", pem.as_bytes());
            let pubout = |pass: &str| {
                openssl(&[
                    "pkey", "-in", &path, "-passin", pass, "-pubout", "-outform", "DER",
                ])
                .unwrap_or_else(|| panic!("openssl is needed for this test"))
            };
            let out = pubout("pass:pin-1234");
            assert!(
                out.status.success(),
                "{spec}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout, key.spki_der(), "{spec}: the same key");
            assert!(!pubout("pass:wrong-pin").status.success(), "{spec}");
        }
    }
}
