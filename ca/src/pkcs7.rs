//! PKCS#7 certs-only (`.p7c`), the form Windows imports a chain in.
//!
//! A degenerate SignedData (RFC 5652: no signers, no content) whose `certificates`
//! holds the chain, as `openssl crl2pkcs7 -nocrl` writes it. `certificates` is a
//! DER SET OF, so its members are sorted by encoding, not kept in the order given;
//! importers find the chain by names, never by position.

use crate::CaError;
use cms::content_info::ContentInfo;
use der::{Decode, Encode};

/// A degenerate SignedData carrying these DER certificates, in order.
///
/// (DER orders the SET OF: see the module docs.)
pub fn pkcs7_certs_only(certs: &[&[u8]]) -> Result<Vec<u8>, CaError> {
    let parsed = certs
        .iter()
        .enumerate()
        .map(|(i, der)| {
            x509_cert::Certificate::from_der(der)
                .map_err(|e| CaError::Issue(format!("PKCS#7: certificate {i}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let info = ContentInfo::try_from(parsed).map_err(|e| CaError::Issue(format!("PKCS#7: {e}")))?;
    info.to_der()
        .map_err(|e| CaError::Issue(format!("PKCS#7: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Root;
    use cms::signed_data::SignedData;

    #[test]
    fn the_bundle_decodes_back_to_the_same_certificates() {
        let root = Root::fixture();
        let p7 = pkcs7_certs_only(&[root.cert_der()]).unwrap_or_else(|e| panic!("{e}"));
        let info = ContentInfo::from_der(&p7).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.content_type, const_oid_signed_data());
        let sd: SignedData = info.content.decode_as().unwrap_or_else(|e| panic!("{e}"));
        assert!(sd.signer_infos.0.is_empty());
        let certs: Vec<Vec<u8>> = sd
            .certificates
            .map(|set| {
                set.0
                    .iter()
                    .filter_map(|c| match c {
                        cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(certs, vec![root.cert_der().to_vec()]);
    }

    #[test]
    fn something_that_is_not_a_certificate_is_an_error_not_a_panic() {
        assert!(pkcs7_certs_only(&[b"not a certificate"]).is_err());
    }

    #[test]
    fn openssl_reads_the_leaf_and_the_root_out_of_the_bundle() {
        use crate::test_support::{fixture_bytes, openssl, temp_dir, write};
        let ca = crate::Ca::new(
            Root::fixture(),
            crate::Profile::builtin("webra2").unwrap_or_else(|| panic!("webra2 is built in")),
            "http://127.0.0.1:8080/ca/crl",
        );
        let spki = crate::parse_csr(&fixture_bytes("csr/rsa1024.csr.pem"))
            .unwrap_or_else(|e| panic!("{e}"))
            .spki_der;
        let now = time::macros::datetime!(2026-12-01 09:00 +09:00);
        let leaf = ca
            .issue(&crate::IssueRequest {
                spki_der: &spki,
                user_id: "U0001",
                email: "",
                mail_sent_at: now,
                now,
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let p7 =
            pkcs7_certs_only(&[&leaf.der, ca.root().cert_der()]).unwrap_or_else(|e| panic!("{e}"));

        let dir = temp_dir();
        let path = write(&dir, "chain.p7c", &p7);
        let Some(out) = openssl(&[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            &path,
            "-print_certs",
            "-noout",
        ]) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let subjects: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("subject="))
            .collect();
        assert_eq!(subjects.len(), 2, "{stdout}");
        assert!(subjects.contains(&"subject=CN = U0001"), "{stdout}");
        assert!(
            subjects.contains(
                &"subject=C = JP, O = webra2-mock TEST ROOT - not for production, CN = NEC Certification Authority"
            ),
            "{stdout}"
        );
    }

    fn const_oid_signed_data() -> der::oid::ObjectIdentifier {
        der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2")
    }
}
