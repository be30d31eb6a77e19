//! The administrator's path after a lost PIN or a wrong security setting, as
//! the manual says it: "破棄したうえで再取得" — revoke the certificate, prepare
//! a new enrollment, issue again; then check that the CRL the new certificate
//! names lists the old one.

use crate::admin::Admin;
use crate::certs::{self, CertInfo};
use crate::e2e::{run_e2e, E2eOptions};
use crate::http::{self, CERT_LIMIT, JSON_LIMIT};
use crate::report::{Progress, Recorder, Report};
use crate::{store, ClientError};
use reqwest::header::ACCEPT;
use reqwest::Method;
use webra2_wire::{paths, CertStatus, CertificateView, Kind, RevokeRequest};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// What `reissue` needs: the issuance that follows (as for `e2e`), and which
/// certificate to revoke and why.
#[derive(Clone, Debug)]
pub struct ReissueOptions {
    /// The new issuance; its kind is always `new`.
    pub e2e: E2eOptions,
    /// The certificate to revoke; `None` takes the user's newest valid one.
    pub serial: Option<String>,
    /// The RFC 5280 reason name sent with the revocation.
    pub reason: String,
}

impl ReissueOptions {
    /// Revokes the user's current certificate (reason `unspecified`) and issues again.
    pub fn new(admin_url: impl Into<String>, user_id: impl Into<String>) -> Self {
        Self {
            e2e: E2eOptions::new(admin_url, user_id),
            serial: None,
            reason: "unspecified".to_owned(),
        }
    }
}

/// Revokes the user's certificate (step `R-1`), runs [`crate::e2e`] for a new
/// one, then checks the CRL named in the new certificate lists the old serial
/// and not the new one (step `R-2`). The report carries both serials.
pub async fn reissue(opts: &ReissueOptions, progress: &dyn Progress) -> Report {
    let mut rec = Recorder::new(progress);
    rec.report.user_id = Some(opts.e2e.user_id.clone());
    let Some(old) = revoke(opts, &mut rec).await else {
        return rec.finish();
    };
    let mut e2e = opts.e2e.clone();
    e2e.kind = Kind::New;
    run_e2e(&e2e, &mut rec).await;
    rec.report.previous_serial = Some(old.clone());
    if rec.report.ok {
        check_crl(&mut rec, &old).await;
    }
    rec.finish()
}

async fn revoke(opts: &ReissueOptions, rec: &mut Recorder<'_>) -> Option<String> {
    rec.begin();
    let admin = match Admin::new(&opts.e2e.admin_url, opts.e2e.admin_token.clone()) {
        Ok(a) => a,
        Err(e) => {
            rec.fail("R-1", "証明書の破棄", e.to_string());
            return None;
        }
    };
    let serial = match &opts.serial {
        Some(s) => Ok(s.replace(':', "").to_ascii_uppercase()),
        None => admin
            .send(
                rec.progress(),
                Method::GET,
                paths::ADMIN_CERTIFICATES,
                None,
                &[("user_id", opts.e2e.user_id.as_str())],
                None::<&()>,
                &[200],
                JSON_LIMIT * 16,
            )
            .await
            .and_then(|b| b.json::<Vec<CertificateView>>("certificate list"))
            .and_then(|certs| {
                certs
                    .into_iter()
                    .find(|c| c.status == CertStatus::Valid)
                    .map(|c| c.serial)
                    .ok_or_else(|| {
                        ClientError::Step(format!(
                            "{} holds no valid certificate to revoke",
                            opts.e2e.user_id
                        ))
                    })
            }),
    };
    let serial = match serial {
        Ok(s) => s,
        Err(e) => {
            rec.fail("R-1", "証明書の破棄", e.to_string());
            return None;
        }
    };
    let body = RevokeRequest {
        reason: Some(opts.reason.clone()),
    };
    let revoked = admin
        .send(
            rec.progress(),
            Method::POST,
            paths::ADMIN_REVOKE,
            Some(&serial),
            &[],
            Some(&body),
            &[200],
            JSON_LIMIT,
        )
        .await
        .and_then(|b| b.json::<CertificateView>("revocation answer"))
        .and_then(|c| {
            if c.status == CertStatus::Revoked {
                Ok(c)
            } else {
                Err(ClientError::Step(format!(
                    "the certificate {} is still {:?}",
                    c.serial, c.status
                )))
            }
        });
    let revoked = rec.outcome("R-1", "証明書の破棄", revoked, |c| {
        format!(
            "serial {} of {} revoked ({})",
            c.serial,
            c.user_id,
            c.reason.as_deref().unwrap_or("no reason")
        )
    })?;
    rec.report.previous_serial = Some(revoked.serial.clone());
    Some(revoked.serial)
}

/// The CRL at the new certificate's distribution point lists `old` and not the new serial.
async fn check_crl(rec: &mut Recorder<'_>, old: &str) {
    rec.begin();
    let result = crl_lists(rec, old).await;
    rec.outcome("R-2", "失効リスト (CRL)", result, Clone::clone);
}

async fn crl_lists(rec: &Recorder<'_>, old: &str) -> Result<String, ClientError> {
    let fail = |reason: &str| ClientError::Step(reason.to_owned());
    let new = rec
        .report
        .serial
        .clone()
        .ok_or_else(|| fail("no new certificate was issued"))?;
    let store_dir = rec.report.store.clone().ok_or_else(|| fail("no store"))?;
    let pem = store::read(&store::cert_path(std::path::Path::new(&store_dir), &new))?;
    let der = certs::pem_certificates(&pem)
        .map_err(ClientError::Step)?
        .into_iter()
        .next()
        .ok_or_else(|| fail("the installed certificate is empty"))?;
    let leaf = CertInfo::parse(&der)?;
    let url = distribution_point(&leaf.der)
        .ok_or_else(|| fail("the new certificate names no CRL distribution point"))?;
    let client = http::plain_client()?;
    let body = http::send(
        rec.progress(),
        "GET CRL",
        || client.get(&url).header(ACCEPT, "application/pkix-crl"),
        &[200],
        CERT_LIMIT,
    )
    .await?;
    body.expect_type(&["application/pkix-crl"])?;
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(&body.bytes)
        .map_err(|e| ClientError::Step(format!("the CRL does not parse: {e}")))?;
    let listed: Vec<String> = crl
        .iter_revoked_certificates()
        .map(|r| webra2_wire::serial_hex(r.raw_serial()))
        .map(|s| s.trim_start_matches('0').to_owned())
        .collect();
    let has = |s: &str| listed.iter().any(|l| l == s.trim_start_matches('0'));
    if !has(old) {
        return Err(ClientError::Step(format!(
            "the CRL at {url} does not list the revoked serial {old}"
        )));
    }
    if has(&new) {
        return Err(ClientError::Step(format!(
            "the CRL at {url} lists the new serial {new}"
        )));
    }
    let number = crl
        .crl_number()
        .map(|n| format!("CRL number {n}"))
        .unwrap_or_else(|| "no CRL number".to_owned());
    Ok(format!(
        "{url} ({number}, {} revoked) lists {old}, not {new}",
        listed.len()
    ))
}

/// The first URI of a certificate's CRL distribution points.
fn distribution_point(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                points.iter().find_map(|p| match &p.distribution_point {
                    Some(DistributionPointName::FullName(names)) => {
                        names.iter().find_map(|n| match n {
                            GeneralName::URI(uri) => Some((*uri).to_owned()),
                            _ => None,
                        })
                    }
                    _ => None,
                })
            }
            _ => None,
        })
}
