//! PKCS#7 certs-only (`.p7c`), the form Windows imports a chain in.

use crate::CaError;

/// A degenerate SignedData carrying these DER certificates, in order.
pub fn pkcs7_certs_only(_certs: &[&[u8]]) -> Result<Vec<u8>, CaError> {
    todo!("helper")
}
