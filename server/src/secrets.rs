//! Secrets: random tokens, the auth password's argon2 hash, session token hashes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A URL-safe token with 256 bits from the OS's CSPRNG (the contract asks for at least 128).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A short random id for records (128 bits, hex).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token, hex: what the store keeps instead of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id and the crate's default (OWASP) parameters.
/// Slow by design: call it off the async workers.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Verifies a password against a stored PHC string; the comparison is constant-time
/// (argon2's `verify_password` compares the outputs with `subtle`).
/// Slow by design: call it off the async workers.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_nothing_else_does() {
        let phc = hash_password("s3cret").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("s3cret"));
        assert!(verify_password("s3cret", &phc));
        assert!(!verify_password("s3cret ", &phc));
        assert!(!verify_password("s3cret", "not a phc string"));
    }

    #[test]
    fn tokens_are_long_distinct_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64url");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
