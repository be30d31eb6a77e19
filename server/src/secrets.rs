//! Secrets: random tokens, the auth password's argon2 hash, session token hashes.

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::{Condvar, Mutex, OnceLock};

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

/// Argon2's working memory (19 MiB a hash at the default parameters), at most
/// one buffer per core, each reused for every hash.
///
/// Allocating it afresh per hash let glibc keep every freed buffer in its
/// per-thread arenas: after a few hundred authentications the process held over
/// a gigabyte (webra2-bench, BENCHMARKS.md). More hashes at once than cores
/// would not finish sooner anyway, so a caller beyond that waits for a buffer.
struct Memory {
    free: Mutex<(Vec<Vec<Block>>, usize)>,
    returned: Condvar,
    limit: usize,
}

/// A buffer taken from [`Memory`]; goes back on drop.
struct Lease<'a> {
    pool: &'a Memory,
    blocks: Vec<Block>,
}

impl Memory {
    fn global() -> &'static Memory {
        static MEMORY: OnceLock<Memory> = OnceLock::new();
        MEMORY.get_or_init(|| Memory {
            free: Mutex::new((Vec::new(), 0)),
            returned: Condvar::new(),
            limit: std::thread::available_parallelism().map_or(1, |n| n.get()),
        })
    }

    /// A buffer of `blocks` blocks; blocks while every buffer is in use.
    fn lease(&self, blocks: usize) -> Lease<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(mut buf) = free.0.pop() {
                // Only parameters other than the defaults (an older stored hash) resize.
                buf.resize(blocks, Block::default());
                return Lease {
                    pool: self,
                    blocks: buf,
                };
            }
            if free.1 < self.limit {
                free.1 += 1;
                return Lease {
                    pool: self,
                    blocks: vec![Block::default(); blocks],
                };
            }
            free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.blocks);
        let mut free = self.pool.free.lock().unwrap_or_else(|e| e.into_inner());
        free.0.push(buf);
        self.pool.returned.notify_one();
    }
}

/// Argon2 of `password` with `salt` into `out`, in a reused buffer.
fn argon2_into(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let mut lease = Memory::global().lease(params.block_count());
    argon2.hash_password_into_with_memory(password, salt, out, &mut lease.blocks)
}

/// Hashes a password with argon2id and the crate's default (OWASP) parameters.
/// Slow by design: call it off the async workers.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes)?;
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        Ok(argon2_into(
            &argon2,
            &params,
            password.as_bytes(),
            salt_raw,
            out,
        )?)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Verifies a password against a stored PHC string, with the parameters it
/// names; the comparison is constant-time (`Output`'s equality uses `subtle`).
/// Slow by design: call it off the async workers.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let check = || -> Result<bool, argon2::password_hash::Error> {
        let hash = PasswordHash::new(phc)?;
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return Ok(false);
        };
        let algorithm = Algorithm::try_from(hash.algorithm)?;
        let version = hash
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(&hash)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt.decode_b64(&mut salt_bytes)?;
        let computed = Output::init_with(expected.len(), |out| {
            Ok(argon2_into(
                &argon2,
                &params,
                password.as_bytes(),
                salt_raw,
                out,
            )?)
        })?;
        Ok(computed == expected)
    };
    check().unwrap_or(false)
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
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_password("s3cret").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"s3cret", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"s3cret!", &parsed)
            .is_err());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            ours.split('$').take(4).collect::<Vec<_>>(),
            theirs.split('$').take(4).collect::<Vec<_>>()
        );
        assert!(verify_password("s3cret", &theirs));
        assert!(!verify_password("s3creT", &theirs));
        // A stored hash with other parameters is verified with its own.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).expect("params"),
        )
        .hash_password(b"s3cret", &salt)
        .expect("hash")
        .to_string();
        assert!(verify_password("s3cret", &light));
        assert!(!verify_password("s3cret2", &light));
        assert!(verify_password("s3cret", &ours));
    }

    #[test]
    fn concurrent_hashes_beyond_the_cores_all_finish_and_verify() {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                std::thread::spawn(move || {
                    let pw = format!("pw{i}");
                    let phc = hash_password(&pw).expect("hash");
                    verify_password(&pw, &phc) && !verify_password("other", &phc)
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().expect("thread"));
        }
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
