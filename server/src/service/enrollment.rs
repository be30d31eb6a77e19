//! Before a certificate exists: preparing an issuance and its mail, opening a
//! one-time URL, the auth password with its lockout, and the session it opens.

use super::error::ServiceError;
use super::instance::{blocking, Service};
use super::types::{AuthPassword, OneTimeToken, Preparation, ServiceInstant};
use crate::secrets;
use crate::store::{AuthFailure, EnrollmentRecord, MailRecord, NewEnrollment, SessionRecord};
use time::{Duration, OffsetDateTime};
use webra2_wire::{
    in_jst, AuthResponse, EnrollmentCreated, EnrollmentState, EnrollmentView, Kind, Mail,
};

/// A session opened by the right auth password.
#[derive(Debug)]
pub struct Authenticated {
    /// The enrollment it belongs to.
    pub enrollment: EnrollmentRecord,
    /// The session token (only its hash is stored).
    pub session: String,
    /// What Step 2 needs: the CSP, the key length, the accepted keys.
    pub answer: AuthResponse,
}

impl Service {
    /// Prepares an issuance: records the enrollment and its mail together,
    /// then sends the mail over SMTP when a relay is configured.
    pub async fn prepare(&self, req: Preparation) -> Result<EnrollmentCreated, ServiceError> {
        let now = self.parts.clock.now();
        let renews_serial = match req.kind {
            Kind::New => None,
            Kind::Renew => {
                let held = self
                    .parts
                    .store
                    .certificates(Some(req.user_id.as_str()))
                    .await?;
                let current = held
                    .iter()
                    .find(|c| c.revoked_at.is_none() && c.not_after > now)
                    .ok_or_else(|| ServiceError::NothingToRenew {
                        user_id: req.user_id.as_str().to_owned(),
                    })?;
                Some(current.serial.clone())
            }
        };

        // Whole seconds: that is what the store and the certificate keep.
        let mail_sent_at = req
            .mail_sent_at
            .map_or(now, ServiceInstant::get)
            .replace_nanosecond(0)
            .map_err(ServiceError::internal)?;
        let days = req
            .url_valid_days
            .unwrap_or(self.parts.policy.url_valid_days);
        let url_expires_at = mail_sent_at
            .checked_add(Duration::days(i64::from(days)))
            .ok_or_else(|| ServiceError::invalid("url_valid_days runs past the year 9999"))?;
        let password = req.auth_password.clone();
        let password_hash = blocking(move || {
            secrets::hash_password(password.expose()).map_err(ServiceError::internal)
        })
        .await?;

        let id = secrets::new_id();
        let token = secrets::new_token();
        let one_time_url = format!(
            "{}{}",
            self.parts.public_url,
            webra2_wire::paths::fill(webra2_wire::paths::ISSUE, &token)
        );
        let (subject, body) = crate::mail::compose(
            req.kind,
            req.user_id.as_str(),
            &one_time_url,
            url_expires_at,
            renews_serial.as_deref(),
        );
        let enrollment = NewEnrollment {
            id: id.clone(),
            token,
            user_id: req.user_id.as_str().to_owned(),
            email: req.email.as_str().to_owned(),
            kind: req.kind,
            password_hash,
            mail_sent_at,
            url_expires_at,
            renews_serial,
            revoke_previous: req.revoke_previous,
            created_at: now,
        };
        let mail = MailRecord {
            id: secrets::new_id(),
            enrollment_id: id.clone(),
            to: req.email.as_str().to_owned(),
            subject,
            body,
            one_time_url: one_time_url.clone(),
            sent_at: mail_sent_at,
        };
        self.parts
            .store
            .create_enrollment(&enrollment, &mail)
            .await?;
        // Recorded first: the outbox has it whatever SMTP does.
        crate::smtp::deliver(self.parts.mailer.as_ref(), &self.parts.metrics, mail);
        tracing::info!(enrollment = %id, user_id = %req.user_id.as_str(), kind = req.kind.as_str(), "enrollment prepared and mailed");
        Ok(EnrollmentCreated {
            enrollment_id: id,
            one_time_url,
            kind: req.kind,
            mail_sent_at: in_jst(mail_sent_at),
            url_expires_at: in_jst(url_expires_at),
        })
    }

    /// The enrollment behind a token, whatever its state.
    pub(super) async fn known(
        &self,
        token: &OneTimeToken,
    ) -> Result<EnrollmentRecord, ServiceError> {
        self.parts
            .store
            .enrollment_by_token(token.as_str())
            .await?
            .ok_or(ServiceError::UnknownUrl)
    }

    /// The enrollment behind a token, if it can still be used now (Step 1).
    pub async fn open(&self, token: &OneTimeToken) -> Result<EnrollmentRecord, ServiceError> {
        let enrollment = self.known(token).await?;
        check_open(&enrollment, self.parts.clock.now())?;
        Ok(enrollment)
    }

    /// The site (issuance or renewal) of a token and where its URL stands
    /// now, if it names an enrollment (for the error pages).
    pub async fn url_state(&self, token: &str) -> Option<(Kind, EnrollmentState)> {
        let token = OneTimeToken::parse(token).ok()?;
        let enrollment = self.known(&token).await.ok()?;
        Some((enrollment.kind, enrollment.state_at(self.parts.clock.now())))
    }

    /// Step 1: checks the auth password. The right one opens a session; a
    /// wrong one is counted, and the `lock_after`-th in a row locks the URL.
    /// `enrollment` is what [`Service::open`] answered for this request: the
    /// URL is not read twice, and the store decides again when it records.
    pub async fn authenticate(
        &self,
        enrollment: EnrollmentRecord,
        password: AuthPassword,
    ) -> Result<Authenticated, ServiceError> {
        let phc = enrollment.password_hash.clone();
        let ok = blocking(move || Ok(secrets::verify_password(password.expose(), &phc))).await?;
        let now = self.parts.clock.now();
        let lock_after = self.parts.policy.lock_after;
        if !ok {
            return Err(
                match self
                    .parts
                    .store
                    .record_failed_auth(&enrollment.id, lock_after, now)
                    .await?
                {
                    AuthFailure::Counted(n) => {
                        let remaining = lock_after.saturating_sub(n);
                        tracing::info!(enrollment = %enrollment.id, remaining, "wrong auth password");
                        ServiceError::WrongPassword {
                            remaining,
                            site: enrollment.kind,
                        }
                    }
                    AuthFailure::Locked => {
                        tracing::warn!(enrollment = %enrollment.id, "one-time URL locked after wrong passwords");
                        ServiceError::Closed {
                            state: EnrollmentState::Locked,
                            site: enrollment.kind,
                        }
                    }
                    AuthFailure::NotOpen => self.reread_closed(&enrollment).await,
                },
            );
        }

        let session = secrets::new_token();
        let expires_at = now
            .checked_add(Duration::minutes(self.parts.policy.session_minutes))
            .ok_or_else(|| ServiceError::internal("the session would end past the year 9999"))?;
        let record = SessionRecord {
            token_hash: secrets::token_hash(&session),
            enrollment_id: enrollment.id.clone(),
            created_at: now,
            expires_at,
        };
        if !self
            .parts
            .store
            .record_successful_auth(&record, now)
            .await?
        {
            return Err(self.reread_closed(&enrollment).await);
        }
        tracing::info!(enrollment = %enrollment.id, "auth password accepted");
        let profile = self.parts.ca.profile();
        let answer = AuthResponse {
            session: session.clone(),
            csp: profile.site_csp.clone(),
            key_length: profile.site_key_length,
            accepted_keys: profile
                .accepted_keys()
                .iter()
                .map(|k| k.to_string())
                .collect(),
            session_expires_at: Some(in_jst(expires_at)),
            pin_rule: Some(profile.pin_rule),
            pkcs12_compat: Some(profile.pkcs12_compat),
        };
        Ok(Authenticated {
            enrollment,
            session,
            answer,
        })
    }

    /// The enrollment behind a token, and the session presented as the store
    /// has it (`None`: none presented, or none with that token), read
    /// together: check it with [`Service::checked_session`].
    pub(super) async fn known_with_session(
        &self,
        token: &OneTimeToken,
        session: Option<&str>,
    ) -> Result<(EnrollmentRecord, Option<SessionRecord>), ServiceError> {
        let hash = session.map(secrets::token_hash);
        self.parts
            .store
            .enrollment_and_session(token.as_str(), hash.as_deref())
            .await?
            .ok_or(ServiceError::UnknownUrl)
    }

    /// The session presented, checked against this enrollment and the clock.
    pub(super) async fn session_for(
        &self,
        enrollment: &EnrollmentRecord,
        session: Option<&str>,
    ) -> Result<SessionRecord, ServiceError> {
        self.session_of(&enrollment.id, enrollment.kind, session)
            .await
    }

    /// The same, for the enrollment `enrollment_id` of the site `site`.
    pub(super) async fn session_of(
        &self,
        enrollment_id: &str,
        site: Kind,
        session: Option<&str>,
    ) -> Result<SessionRecord, ServiceError> {
        let token = session.ok_or(ServiceError::SessionRequired { site })?;
        let record = self
            .parts
            .store
            .session(&secrets::token_hash(token))
            .await?;
        self.checked_session(enrollment_id, site, record)
    }

    /// `record`, the session presented as the store has it, checked against
    /// the enrollment `enrollment_id` of the site `site` and the clock.
    pub(super) fn checked_session(
        &self,
        enrollment_id: &str,
        site: Kind,
        record: Option<SessionRecord>,
    ) -> Result<SessionRecord, ServiceError> {
        // A token no session ever had is no session at all; one that was
        // another URL's, or has ended, has expired for this URL.
        let record = record.ok_or(ServiceError::SessionRequired { site })?;
        if record.enrollment_id != enrollment_id || self.parts.clock.now() >= record.expires_at {
            return Err(ServiceError::SessionExpired { site });
        }
        Ok(record)
    }

    /// Why an enrollment that was open a moment ago is not any more.
    pub(super) async fn reread_closed(&self, enrollment: &EnrollmentRecord) -> ServiceError {
        match self.parts.store.enrollment(&enrollment.id).await {
            Ok(Some(e)) => closed(&e, self.parts.clock.now()),
            Ok(None) => ServiceError::UnknownUrl,
            Err(e) => e.into(),
        }
    }

    /// `GET /admin/enrollments/{id}`: an enrollment as the administrator sees it.
    pub async fn enrollment_view(&self, id: &str) -> Result<EnrollmentView, ServiceError> {
        let e = self
            .parts
            .store
            .enrollment(id)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("no enrollment {id}")))?;
        let now = self.parts.clock.now();
        Ok(EnrollmentView {
            enrollment_id: e.id.clone(),
            user_id: e.user_id.clone(),
            kind: e.kind,
            state: e.state_at(now),
            mail_sent_at: in_jst(e.mail_sent_at),
            url_expires_at: in_jst(e.url_expires_at),
            serial: e.serial.clone(),
            renews_serial: e.renews_serial.clone(),
            revoke_previous: e.revoke_previous,
        })
    }

    /// The outbox, newest first, optionally to one address.
    pub async fn mails(&self, to: Option<&str>) -> Result<Vec<Mail>, ServiceError> {
        let mails = self.parts.store.mails(to).await?;
        Ok(mails
            .into_iter()
            .map(|m| Mail {
                id: m.id,
                to: m.to,
                subject: m.subject,
                body: m.body,
                one_time_url: m.one_time_url,
                sent_at: in_jst(m.sent_at),
            })
            .collect())
    }
}

/// `Ok` if the enrollment's URL can be used at `now`.
pub(super) fn check_open(
    enrollment: &EnrollmentRecord,
    now: OffsetDateTime,
) -> Result<(), ServiceError> {
    match enrollment.state_at(now) {
        EnrollmentState::Pending | EnrollmentState::Authenticated => Ok(()),
        _ => Err(closed(enrollment, now)),
    }
}

/// The error for an enrollment that is not open at `now`.
fn closed(enrollment: &EnrollmentRecord, now: OffsetDateTime) -> ServiceError {
    let state = match enrollment.state_at(now) {
        s @ (EnrollmentState::Issued | EnrollmentState::Locked) => s,
        _ => EnrollmentState::Expired,
    };
    ServiceError::Closed {
        state,
        site: enrollment.kind,
    }
}
