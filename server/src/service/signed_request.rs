//! What the signers of a wrapped request prove (Step 2). A `SignedData`
//! signer that names a certificate of this CA without carrying it is verified
//! with the CA's own record of it. A renewal under a profile with
//! `[renewal] signed_by_current` must be signed by the certificate being
//! renewed: issued by this CA, to the same user, neither expired nor revoked,
//! as Windows renews with the current certificate's key. Each failure says
//! which of these it was.

use super::error::ServiceError;
use super::instance::Service;
use super::issuance::csr_problem;
use crate::store::{CertificateRecord, EnrollmentRecord};
use time::OffsetDateTime;
use webra2_ca::{SignerCheck, SubmittedRequest};
use webra2_wire::{in_jst, Kind};

/// A signer's certificate, judged against this CA's records.
enum Known {
    /// One this CA issued (the same DER as its record), its signature verified.
    Ours(CertificateRecord),
    /// A certificate carried and verified, but not one this CA issued.
    Foreign(String),
    /// No certificate to check the signer with (the new key's own signature,
    /// or a certificate neither carried nor known).
    NoCertificate,
}

impl Service {
    /// Checks the signers of `submitted` this CA can check, and the renewal
    /// rule of the profile. Reads only.
    pub(super) async fn check_signers(
        &self,
        submitted: &SubmittedRequest,
        enrollment: &EnrollmentRecord,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let site = enrollment.kind;
        let root_subject = self.parts.ca.root().subject_der().to_vec();
        let mut known = Vec::with_capacity(submitted.signers.len());
        for (index, signer) in submitted.signers.iter().enumerate() {
            let record = match (&signer.serial, &signer.issuer_der) {
                (Some(serial), Some(issuer)) if *issuer == root_subject => {
                    self.parts.store.certificate(serial).await?
                }
                _ => None,
            };
            known.push(match (signer.check, record) {
                (SignerCheck::Unchecked, Some(record)) => {
                    submitted
                        .verify_signer_with(index, &record.der)
                        .map_err(|e| csr_problem(e, site))?;
                    Known::Ours(record)
                }
                (SignerCheck::Certificate, Some(record))
                    if signer.certificate.as_deref() == Some(record.der.as_slice()) =>
                {
                    Known::Ours(record)
                }
                (SignerCheck::Certificate, _) => Known::Foreign(
                    signer
                        .serial
                        .as_deref()
                        .map(|s| format!("serial {s}"))
                        .unwrap_or_else(|| "without a serial".into()),
                ),
                _ => Known::NoCertificate,
            });
        }
        if site != Kind::Renew || !self.parts.ca.profile().renewal_signed_by_current {
            return Ok(());
        }
        let refuse = |detail: String| ServiceError::RenewalSignature { detail, site };
        if known.is_empty() {
            return Err(refuse(format!(
                "this profile renews a certificate only with a request signed by it (a CMS SignedData signed with the current certificate's key); this request is a {} without a signer",
                submitted.wrapper
            )));
        }
        let mut first_failure = None;
        for signer in known {
            let failure = match signer {
                Known::Ours(record) => match renewal_failure(&record, enrollment, now) {
                    None => return Ok(()),
                    Some(why) => why,
                },
                Known::Foreign(which) => format!(
                    "the request is signed by a certificate this CA did not issue ({which}), not by the certificate being renewed"
                ),
                Known::NoCertificate => "the request is signed, but not by a certificate of this CA: sign it with the key of the certificate being renewed and carry that certificate".into(),
            };
            first_failure.get_or_insert(failure);
        }
        Err(refuse(first_failure.unwrap_or_default()))
    }
}

/// Why `record`, this CA's certificate that signed the request, cannot
/// vouch for this renewal; `None` when it can.
fn renewal_failure(
    record: &CertificateRecord,
    enrollment: &EnrollmentRecord,
    now: OffsetDateTime,
) -> Option<String> {
    let serial = &record.serial;
    if record.user_id != enrollment.user_id {
        return Some(format!(
            "the request is signed by certificate {serial}, which was issued to another user, not to {}",
            enrollment.user_id
        ));
    }
    if now >= record.not_after {
        return Some(format!(
            "the request is signed by certificate {serial}, which expired at {}",
            in_jst(record.not_after)
        ));
    }
    if now < record.not_before {
        return Some(format!(
            "the request is signed by certificate {serial}, which is not valid before {}",
            in_jst(record.not_before)
        ));
    }
    if let Some(at) = record.revoked_at {
        return Some(format!(
            "the request is signed by certificate {serial}, which was revoked at {}",
            in_jst(at)
        ));
    }
    if let Some(renewed) = enrollment.renews_serial.as_deref() {
        if renewed != serial {
            return Some(format!(
                "the request is signed by certificate {serial}, but this renewal is of certificate {renewed}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    const NOW: OffsetDateTime = datetime!(2027-06-01 09:00 +09:00);

    fn record(user: &str, serial: &str) -> CertificateRecord {
        CertificateRecord {
            serial: serial.into(),
            user_id: user.into(),
            enrollment_id: "e1".into(),
            der: Vec::new(),
            not_before: NOW - Duration::days(100),
            not_after: NOW + Duration::days(600),
            revoked_at: None,
            reason: None,
        }
    }

    fn renewal(user: &str, renews: &str) -> EnrollmentRecord {
        EnrollmentRecord {
            id: "e2".into(),
            token: "t".into(),
            user_id: user.into(),
            email: String::new(),
            kind: Kind::Renew,
            state: webra2_wire::EnrollmentState::Authenticated,
            password_hash: String::new(),
            failed_attempts: 0,
            mail_sent_at: NOW,
            url_expires_at: NOW + Duration::days(30),
            serial: None,
            renews_serial: Some(renews.into()),
            revoke_previous: false,
        }
    }

    #[test]
    fn the_current_certificate_of_the_same_user_vouches_and_each_failure_says_which() {
        let enrollment = renewal("U1", "AA");
        assert_eq!(renewal_failure(&record("U1", "AA"), &enrollment, NOW), None);
        let why = |r: &CertificateRecord| renewal_failure(r, &enrollment, NOW).unwrap_or_default();
        assert!(why(&record("U2", "AA")).contains("another user"));
        assert!(why(&record("U1", "BB")).contains("this renewal is of certificate AA"));
        let mut expired = record("U1", "AA");
        expired.not_after = NOW;
        assert!(why(&expired).contains("expired"));
        let mut early = record("U1", "AA");
        early.not_before = NOW + Duration::seconds(1);
        assert!(why(&early).contains("not valid before"));
        let mut revoked = record("U1", "AA");
        revoked.revoked_at = Some(NOW - Duration::days(1));
        assert!(why(&revoked).contains("revoked"));
    }
}
