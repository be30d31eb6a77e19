//! The whole story from the administrator's preparation: prepare an enrollment,
//! read the mail as the user does, then walk the issuance site.

use crate::admin::Admin;
use crate::certs;
use crate::http::{self, JSON_LIMIT};
use crate::issue::{run_issue, Checks, IssueOptions};
use crate::report::{Progress, Recorder, Report};
use crate::ClientError;
use rand::rngs::OsRng;
use rand::RngCore;
use reqwest::header::ACCEPT;
use reqwest::Method;
use std::path::PathBuf;
use time::OffsetDateTime;
use webra2_wire::{
    paths, EnrollmentCreated, Kind, Mail, PrepareEnrollment, SiteInfo, SITE_TITLE_NEW,
    SITE_TITLE_RENEW,
};

/// What `e2e` needs: the admin listener, the user to prepare, and the options of
/// the issuance that follows.
#[derive(Clone)]
pub struct E2eOptions {
    /// The admin listener (`http://127.0.0.1:8081`).
    pub admin_url: String,
    /// The admin token, sent as `Authorization: Bearer` when given.
    pub admin_token: Option<String>,
    /// The user id to prepare.
    pub user_id: String,
    /// The user's mail address; `None` makes one up from the user id.
    pub email: Option<String>,
    /// The auth password to prepare; `None` picks a random one.
    pub auth_password: Option<String>,
    /// The PIN for the stored key; `None` picks a random one, which the report
    /// then carries (`Report::pin`).
    pub pin: Option<String>,
    /// The store directory; `None` creates a fresh one under the temp directory.
    pub store_dir: Option<PathBuf>,
    /// `new` or `renew`.
    pub kind: Kind,
    /// The mail date to prepare with; `None` lets the service use its clock.
    pub mail_sent_at: Option<OffsetDateTime>,
    /// How the site is walked and checked.
    pub checks: Checks,
    /// For a renewal: ask the service to revoke the renewed certificate on issuance.
    pub revoke_previous: bool,
    /// For a renewal: sign the request with the certificate being renewed (from
    /// the store, its key opened with the PIN), as Windows renews.
    pub sign_with_current: bool,
}

impl E2eOptions {
    /// Options with the defaults for everything but the admin URL and user id.
    pub fn new(admin_url: impl Into<String>, user_id: impl Into<String>) -> Self {
        Self {
            admin_url: admin_url.into(),
            admin_token: None,
            user_id: user_id.into(),
            email: None,
            auth_password: None,
            pin: None,
            store_dir: None,
            kind: Kind::New,
            mail_sent_at: None,
            checks: Checks::default(),
            revoke_previous: false,
            sign_with_current: false,
        }
    }
}

impl std::fmt::Debug for E2eOptions {
    // The admin token, the password and the PIN stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E2eOptions")
            .field("admin_url", &self.admin_url)
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("store_dir", &self.store_dir)
            .field("kind", &self.kind)
            .field("mail_sent_at", &self.mail_sent_at)
            .field("checks", &self.checks)
            .field("revoke_previous", &self.revoke_previous)
            .finish_non_exhaustive()
    }
}

/// A random secret of `bytes` random bytes, as hex.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Prepares an enrollment through the admin listener, reads the newest mail to
/// the user (its one-time URL, and its date for check D), then runs
/// [`crate::issue`] with it. The report starts with the preparation and the mail.
pub async fn e2e(opts: &E2eOptions, progress: &dyn Progress) -> Report {
    let mut rec = Recorder::new(progress);
    run_e2e(opts, &mut rec).await;
    rec.finish()
}

/// The steps of `e2e`, recording into a report shared with `reissue`.
pub(crate) async fn run_e2e(opts: &E2eOptions, rec: &mut Recorder<'_>) {
    rec.report.user_id = Some(opts.user_id.clone());
    let store_dir = match &opts.store_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("webra2-client-{}", random_hex(6))),
    };
    rec.report.store = Some(store_dir.display().to_string());
    let email = opts
        .email
        .clone()
        .unwrap_or_else(|| format!("{}@example.test", opts.user_id.to_ascii_lowercase()));
    let auth_password = opts.auth_password.clone().unwrap_or_else(|| random_hex(12));
    let pin = match &opts.pin {
        Some(pin) => pin.clone(),
        None => {
            // Made up here, so the report says it: the installed key opens with it.
            let pin = random_hex(4);
            rec.report.pin = Some(pin.clone());
            pin
        }
    };

    if let Some(given) = &opts.checks.expect_root_sha1 {
        // Checked before preparing anything, so a typo costs no enrollment.
        if let Err(e) = certs::normalize_sha1(given) {
            rec.fail(
                "3-1",
                "ルートCA証明書 fingerprint",
                format!("expected fingerprint: {e}"),
            );
            return;
        }
    }

    // Before the preparation: a store that cannot be written costs no enrollment.
    if !crate::issue::store_is_writable(rec, &store_dir, &opts.checks) {
        return;
    }

    let Some(mail) = prepare_and_read_mail(opts, rec, &email, &auth_password).await else {
        return;
    };
    let previous_serial = match opts.kind {
        Kind::New => None,
        Kind::Renew => renewed_serial(&mail.body),
    };

    let sign_with_current =
        (opts.sign_with_current && previous_serial.is_some()).then(|| pin.clone());
    let issue = IssueOptions {
        sign_with_current,
        url: mail.one_time_url.clone(),
        auth_password,
        pin,
        store_dir,
        user_id: Some(opts.user_id.clone()),
        mail_sent_at: Some(mail.sent_at),
        // After the download, the OCSP responder must say `good` for it.
        checks: Checks {
            ocsp: true,
            ..opts.checks.clone()
        },
        // The preparation's own step 0-3 has checked the site already.
        expect_kind: None,
        previous_serial,
    };
    run_issue(&issue, rec).await;
}

async fn prepare_and_read_mail(
    opts: &E2eOptions,
    rec: &mut Recorder<'_>,
    email: &str,
    auth_password: &str,
) -> Option<Mail> {
    rec.begin();
    let admin = match Admin::new(&opts.admin_url, opts.admin_token.clone()) {
        Ok(a) => a,
        Err(e) => {
            rec.fail("0-1", "発行準備", e.to_string());
            return None;
        }
    };
    let client = match http::plain_client() {
        Ok(c) => c,
        Err(e) => {
            rec.fail("0-1", "発行準備", e.to_string());
            return None;
        }
    };

    let prepare = PrepareEnrollment {
        user_id: opts.user_id.clone(),
        email: email.to_owned(),
        auth_password: auth_password.to_owned(),
        kind: opts.kind,
        mail_sent_at: opts.mail_sent_at,
        url_valid_days: None,
        revoke_previous: opts.revoke_previous,
    };
    let created = admin
        .send(
            rec.progress(),
            Method::POST,
            paths::ADMIN_ENROLLMENTS,
            None,
            &[],
            Some(&prepare),
            &[201],
            JSON_LIMIT,
        )
        .await
        .and_then(|b| b.json::<EnrollmentCreated>("preparation answer"))
        .and_then(|c| {
            if c.kind == opts.kind {
                Ok(c)
            } else {
                Err(ClientError::Step(format!(
                    "asked for kind {}, prepared {}",
                    opts.kind.as_str(),
                    c.kind.as_str()
                )))
            }
        });
    let created = rec.outcome("0-1", "発行準備", created, |c| {
        format!(
            "enrollment {} ({}) for {} <{email}>, mail {}, URL valid until {}",
            c.enrollment_id,
            c.kind.as_str(),
            opts.user_id,
            certs::show(c.mail_sent_at),
            certs::show(c.url_expires_at)
        )
    })?;

    rec.begin();
    let mail = admin
        .send(
            rec.progress(),
            Method::GET,
            paths::ADMIN_MAILS,
            None,
            &[("to", email)],
            None::<&()>,
            &[200],
            JSON_LIMIT * 16,
        )
        .await
        .and_then(|b| b.json::<Vec<Mail>>("outbox"))
        .and_then(|mails| check_mail(mails, email, &opts.user_id, auth_password, &created))
        .and_then(|mail| {
            if opts.kind == Kind::Renew && renewed_serial(&mail.body).is_none() {
                Err(ClientError::Step(
                    "the renewal mail does not name the serial of the certificate it renews"
                        .to_owned(),
                ))
            } else {
                Ok(mail)
            }
        });
    let mail = rec.outcome("0-2", "発行メール", mail, |m| {
        let renews = renewed_serial(&m.body)
            .filter(|_| opts.kind == Kind::Renew)
            .map(|s| format!(", renews serial {s}"))
            .unwrap_or_default();
        format!(
            "{:?} to {}, sent {}, carries the one-time URL and not the password{renews}",
            m.subject,
            m.to,
            certs::show(m.sent_at)
        )
    })?;

    rec.begin();
    let site = http::send(
        rec.progress(),
        "GET one-time URL",
        || {
            client
                .get(&mail.one_time_url)
                .header(ACCEPT, "application/json")
        },
        &[200],
        JSON_LIMIT,
    )
    .await
    .and_then(|b| b.json::<SiteInfo>("site page"))
    .and_then(|site| {
        let want = match opts.kind {
            Kind::New => SITE_TITLE_NEW,
            Kind::Renew => SITE_TITLE_RENEW,
        };
        if site.site_title == want && site.step == 1 {
            Ok(site)
        } else {
            Err(ClientError::Step(format!(
                "the page is {:?} step {}, expected {want:?} step 1",
                site.site_title, site.step
            )))
        }
    });
    rec.outcome("0-3", "サイト", site, |s| {
        format!("{} (step {})", s.site_title, s.step)
    })?;
    Some(mail)
}

/// The newest mail to the user must carry the URL the preparation made, and the
/// user id, and never the password.
fn check_mail(
    mails: Vec<Mail>,
    email: &str,
    user_id: &str,
    auth_password: &str,
    created: &EnrollmentCreated,
) -> Result<Mail, ClientError> {
    let fail = |reason: String| Err(ClientError::Step(reason));
    let Some(mail) = mails.into_iter().next() else {
        return fail(format!("no mail to {email} in the outbox"));
    };
    if !mail.to.eq_ignore_ascii_case(email) {
        return fail(format!("the newest mail is to {}, not {email}", mail.to));
    }
    if mail.one_time_url != created.one_time_url {
        return fail(format!(
            "the newest mail carries {}, not the URL the preparation returned ({})",
            mail.one_time_url, created.one_time_url
        ));
    }
    if !mail.body.contains(&mail.one_time_url) {
        return fail("the mail body does not show the one-time URL".to_owned());
    }
    if !mail.body.contains(user_id) {
        return fail(format!("the mail body does not name the user id {user_id}"));
    }
    if mail.body.contains(auth_password) || mail.subject.contains(auth_password) {
        return fail("the mail carries the auth password".to_owned());
    }
    Ok(mail)
}

/// The serial a renewal mail names: the hex number after シリアル番号 (serial
/// number), as the issuance site's mails print it.
pub(crate) fn renewed_serial(body: &str) -> Option<String> {
    body.lines().find_map(|line| {
        let (_, rest) = line.split_once("シリアル番号")?;
        let rest = rest.trim_start_matches([':', '：', ' ', '\t']);
        let serial: String = rest
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == ':')
            .filter(char::is_ascii_hexdigit)
            .collect();
        (!serial.is_empty()).then(|| serial.to_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_renewed_serial_is_read_from_the_mail_line_that_names_it() {
        let body = "U0001 様\n\nユーザーID: U0001\n更新対象の証明書シリアル番号: 0a1b2C3D\nURL: http://x/issue/t\n";
        assert_eq!(renewed_serial(body).as_deref(), Some("0A1B2C3D"));
        assert_eq!(renewed_serial("ユーザーID: U0001\nURL: http://x\n"), None);
    }
}
