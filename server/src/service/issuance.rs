//! Making and handing out a certificate: Step 2 from a request or with a key
//! the service makes (PKCS#12), Step 3 and the download. Whatever path issues,
//! it goes through [`Service::record_issuance`], the one place a one-time URL
//! is consumed.

use super::enrollment::check_open;
use super::error::ServiceError;
use super::instance::{blocking, Service};
use super::types::{OneTimeToken, Pin};
use crate::store::{CertificateRecord, EnrollmentRecord, IssueOutcome};
use time::OffsetDateTime;
use webra2_ca::{parse_request, CsrError, GeneratedKey, IssueRequest, IssuedCert};
use webra2_wire::{in_jst, paths, pem_encode, EnrollmentState, Issued, Kind, Pkcs12Compat};

/// An open enrollment whose session was checked: what Step 2 may issue on.
#[derive(Debug)]
pub struct Ready {
    enrollment: EnrollmentRecord,
    token: OneTimeToken,
}

impl Ready {
    /// The site (issuance or renewal) of the URL.
    pub fn site(&self) -> Kind {
        self.enrollment.kind
    }
}

/// Where a Step 2 submission stands before its body is read.
#[derive(Debug)]
pub enum Begun {
    /// The URL is open and the session is its own: go on.
    Open(Ready),
    /// The URL already issued, to this very session (発行 pressed twice):
    /// its Step 3 again; nothing is issued twice.
    AlreadyIssued(Issuance),
}

/// A certificate issued on a one-time URL, as Step 3 shows it.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The site (issuance or renewal) of the URL.
    pub site: Kind,
    /// The user it was issued to.
    pub user_id: String,
    /// What the contract answers.
    pub issued: Issued,
}

/// A PKCS#12 the service made, with the key it generated.
pub struct Pkcs12File {
    /// The user it was issued to.
    pub user_id: String,
    /// The certificate's serial.
    pub serial: String,
    /// The PKCS#12, encrypted under the PIN.
    pub der: Vec<u8>,
}

/// The forms the certificate download takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFormat {
    /// The certificate and the root, PEM.
    Pem,
    /// The certificate alone, DER.
    Der,
    /// The certificate and the root as a certs-only PKCS#7.
    P7c,
}

impl CertificateFormat {
    /// `?format=`; PEM when absent.
    pub fn parse(s: Option<&str>) -> Result<Self, ServiceError> {
        match s.unwrap_or("pem") {
            "pem" => Ok(Self::Pem),
            "der" => Ok(Self::Der),
            "p7c" => Ok(Self::P7c),
            other => Err(ServiceError::invalid(format!(
                "unknown format {other:?}: use pem, der or p7c"
            ))),
        }
    }
}

/// The client certificate in one of its download forms.
#[derive(Debug)]
pub struct CertificateFile {
    /// Its form.
    pub format: CertificateFormat,
    /// The file name offered (`<user>-<serial>.<ext>`).
    pub filename: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Service {
    /// Step 2 begins: the URL must be open and the session its own. With
    /// `repeat`, a URL that already issued to this very session answers its
    /// Step 3 again instead of `url-already-used` (a page sent twice).
    pub async fn begin_issue(
        &self,
        token: &OneTimeToken,
        session: Option<&str>,
        repeat: bool,
    ) -> Result<Begun, ServiceError> {
        // The enrollment and the session in one read, where the store can.
        let (enrollment, presented) = self.known_with_session(token, session).await?;
        let checked = self.checked_session(&enrollment.id, enrollment.kind, presented);
        let now = self.parts.clock.now();
        if repeat && enrollment.state_at(now) == EnrollmentState::Issued && checked.is_ok() {
            return Ok(Begun::AlreadyIssued(
                self.issuance_of(token, &enrollment).await?,
            ));
        }
        check_open(&enrollment, now)?;
        checked?;
        Ok(Begun::Open(Ready {
            enrollment,
            token: token.clone(),
        }))
    }

    /// Step 2 with a request (PKCS#10, plain or in CMC or a CMS SignedData;
    /// PEM, base64 or DER): verified, judged by the profile, its signers
    /// checked (and the renewal rule), signed, recorded.
    pub async fn issue_from_request(
        &self,
        ready: Ready,
        request: Vec<u8>,
    ) -> Result<Issuance, ServiceError> {
        let now = self.parts.clock.now();
        let ca = self.parts.ca.clone();
        let e = &ready.enrollment;
        let (user_id, email, mail_sent_at, site) =
            (e.user_id.clone(), e.email.clone(), e.mail_sent_at, e.kind);
        let issue_with = move |ca: &webra2_ca::Ca, spki_der: &[u8]| {
            ca.issue(&IssueRequest {
                spki_der,
                user_id: &user_id,
                email: &email,
                mail_sent_at,
                now,
            })
            .map_err(ServiceError::internal)
        };
        // The signers are checked against the store (async) before signing, so a
        // signed request (or any renewal) takes a second hop; a plain request is
        // parsed, judged and signed in one, as before.
        let needs_store = site == Kind::Renew;
        let step = blocking(move || {
            let csr_error = |err| csr_problem(err, site);
            let submitted = parse_request(&request).map_err(|e| match e {
                // A key no profile takes (DSA, Ed25519): say what this one takes.
                CsrError::KeyPolicy(m) => CsrError::KeyPolicy(format!(
                    "{m}; this profile accepts {}",
                    ca.profile().accepted_keys_text()
                )),
                other => other,
            });
            let submitted = submitted.map_err(csr_error)?;
            ca.profile()
                .check_request(&submitted.request)
                .map_err(csr_error)?;
            if needs_store || !submitted.signers.is_empty() {
                return Ok(Err((submitted, issue_with)));
            }
            issue_with(&ca, &submitted.request.spki_der).map(Ok)
        })
        .await?;
        let issued = match step {
            Ok(issued) => issued,
            Err((submitted, issue_with)) => {
                self.check_signers(&submitted, &ready.enrollment, now)
                    .await?;
                let ca = self.parts.ca.clone();
                blocking(move || issue_with(&ca, &submitted.request.spki_der)).await?
            }
        };
        self.record_issuance(&ready.enrollment, &issued, now)
            .await?;
        tracing::info!(enrollment = %ready.enrollment.id, serial = %issued.serial, "certificate issued");
        Ok(self.issuance(
            &ready.token,
            &ready.enrollment,
            &issued.serial,
            issued.not_before,
            issued.not_after,
        ))
    }

    /// Step 2 without an enrollment control: the service makes the profile's
    /// PKCS#12 key, issues, and answers key, certificate and root in one
    /// PIN-encrypted PKCS#12 in the form `compat` (the profile's when `None`).
    /// The key and the PIN are not kept.
    pub async fn issue_pkcs12(
        &self,
        ready: Ready,
        pin: Pin,
        compat: Option<Pkcs12Compat>,
    ) -> Result<Pkcs12File, ServiceError> {
        let compat = compat.unwrap_or(self.parts.ca.profile().pkcs12_compat);
        let now = self.parts.clock.now();
        let ca = self.parts.ca.clone();
        let e = &ready.enrollment;
        let (user_id, email, mail_sent_at) = (e.user_id.clone(), e.email.clone(), e.mail_sent_at);
        // The file is built before the URL is consumed, so a failure here
        // leaves the URL usable.
        let (issued, der) = blocking(move || {
            let key =
                GeneratedKey::generate(ca.profile().pkcs12_key).map_err(ServiceError::internal)?;
            let issued = ca
                .issue(&IssueRequest {
                    spki_der: key.spki_der(),
                    user_id: &user_id,
                    email: &email,
                    mail_sent_at,
                    now,
                })
                .map_err(ServiceError::internal)?;
            let p12 = key
                .pkcs12_as(
                    compat,
                    &user_id,
                    &issued.der,
                    &[ca.root().cert_der()],
                    pin.expose(),
                )
                .map_err(ServiceError::internal)?;
            Ok((issued, p12))
        })
        .await?;
        self.record_issuance(&ready.enrollment, &issued, now)
            .await?;
        tracing::info!(enrollment = %ready.enrollment.id, serial = %issued.serial, %compat, "certificate issued as PKCS#12");
        Ok(Pkcs12File {
            user_id: ready.enrollment.user_id,
            serial: issued.serial,
            der,
        })
    }

    /// Consumes the one-time URL and records `issued`, in one transaction; a
    /// renewal prepared with `revoke_previous` revokes the renewed certificate
    /// (reason `superseded`) in that same transaction.
    async fn record_issuance(
        &self,
        enrollment: &EnrollmentRecord,
        issued: &IssuedCert,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let record = CertificateRecord {
            serial: issued.serial.clone(),
            user_id: enrollment.user_id.clone(),
            enrollment_id: enrollment.id.clone(),
            der: issued.der.clone(),
            not_before: issued.not_before,
            not_after: issued.not_after,
            revoked_at: None,
            reason: None,
        };
        let supersedes = enrollment
            .renews_serial
            .as_deref()
            .filter(|_| enrollment.revoke_previous);
        let outcome = self
            .parts
            .store
            .issue(&enrollment.id, &record, now, supersedes)
            .await?;
        if outcome == IssueOutcome::NotOpen {
            return Err(self.reread_closed(enrollment).await);
        }
        if let Some(old) = supersedes {
            tracing::info!(enrollment = %enrollment.id, serial = %old, "renewed certificate revoked as superseded");
            self.refresh_crl_after_revocation().await;
        }
        Ok(())
    }

    /// Step 3 again for the session that issued (after the service-made
    /// PKCS#12, or a reload).
    pub async fn issued_to_session(
        &self,
        token: &OneTimeToken,
        session: Option<&str>,
    ) -> Result<Issuance, ServiceError> {
        let enrollment = self.known(token).await?;
        self.session_for(&enrollment, session).await?;
        self.issuance_of(token, &enrollment).await
    }

    /// Step 3: the client certificate the URL issued, for its session.
    pub async fn certificate_file(
        &self,
        token: &OneTimeToken,
        session: Option<&str>,
        format: CertificateFormat,
    ) -> Result<CertificateFile, ServiceError> {
        // What the download needs in one read, or none (the store keeps what
        // issued): this is half of every issuance.
        let download = self
            .parts
            .store
            .download_by_token(token.as_str())
            .await?
            .ok_or(ServiceError::UnknownUrl)?;
        self.session_of(&download.enrollment_id, download.kind, session)
            .await?;
        let Some((serial, der)) = download.issued else {
            return Err(not_issued_yet(download.kind));
        };
        let name = format!("{}-{serial}", download.user_id);
        let root = self.parts.ca.root();
        let (filename, bytes) = match format {
            CertificateFormat::Pem => {
                let mut text = pem_encode("CERTIFICATE", &der);
                text.push_str(&root.cert_pem());
                (format!("{name}.pem"), text.into_bytes())
            }
            CertificateFormat::Der => (format!("{name}.cer"), der),
            CertificateFormat::P7c => {
                let p7 = webra2_ca::pkcs7_certs_only(&[&der, root.cert_der()])
                    .map_err(ServiceError::internal)?;
                (format!("{name}.p7c"), p7)
            }
        };
        Ok(CertificateFile {
            format,
            filename,
            bytes,
        })
    }

    /// The Step 3 view of an enrollment that has issued, from what the store holds.
    async fn issuance_of(
        &self,
        token: &OneTimeToken,
        enrollment: &EnrollmentRecord,
    ) -> Result<Issuance, ServiceError> {
        let certificate = match enrollment.serial.as_deref() {
            Some(serial) => self.parts.store.certificate(serial).await?,
            None => None,
        };
        let cert = issued_or_404(enrollment, certificate)?;
        Ok(self.issuance(
            token,
            enrollment,
            &cert.serial,
            cert.not_before,
            cert.not_after,
        ))
    }

    fn issuance(
        &self,
        token: &OneTimeToken,
        enrollment: &EnrollmentRecord,
        serial: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Issuance {
        Issuance {
            site: enrollment.kind,
            user_id: enrollment.user_id.clone(),
            issued: Issued {
                serial: serial.to_owned(),
                certificate_url: format!(
                    "{}{}",
                    self.parts.public_url,
                    paths::fill(paths::ISSUE_CERTIFICATE, token.as_str())
                ),
                root_url: format!("{}{}", self.parts.public_url, paths::ROOT_DER),
                not_before: in_jst(not_before),
                not_after: in_jst(not_after),
                confirm_url: Some(self.parts.confirm_url.clone()),
            },
        }
    }
}

/// `certificate`, read with `enrollment`, as what it issued; not found before it issued.
fn issued_or_404(
    enrollment: &EnrollmentRecord,
    certificate: Option<CertificateRecord>,
) -> Result<CertificateRecord, ServiceError> {
    match (enrollment.serial.as_deref(), certificate) {
        (Some(_), Some(certificate)) => Ok(certificate),
        (None, _) => Err(not_issued_yet(enrollment.kind)),
        (Some(_), None) => Err(ServiceError::internal(format!(
            "enrollment {} names a missing certificate",
            enrollment.id
        ))),
    }
}

fn not_issued_yet(site: Kind) -> ServiceError {
    ServiceError::NotFound {
        detail: "no certificate has been issued on this URL yet: send the key (Step 2) first"
            .into(),
        site: Some(site),
    }
}

pub(super) fn csr_problem(e: CsrError, site: Kind) -> ServiceError {
    let detail = e.to_string();
    match e {
        CsrError::SignatureInvalid(_) => ServiceError::CsrSignatureInvalid { detail, site },
        CsrError::KeyPolicy(_) => ServiceError::KeyPolicy { detail, site },
        _ => ServiceError::BadCsr { detail, site },
    }
}
