//! The store's interface: the [`Store`] trait every backend implements, the
//! records it keeps, and [`StoreError`], which names no backend's types.

use async_trait::async_trait;
use time::OffsetDateTime;
use webra2_wire::{EnrollmentState, Kind};

/// The store URLs this build takes, as the refusals name them.
pub(crate) const URL_FORMS: &str =
    "use sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB";

/// A store failure. Always a 500 to the caller, with the cause logged.
///
/// It names no backend's types, so the handlers and the trait stay the same
/// whatever database is behind them; each backend converts its own errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store URL names no store this build has.
    #[error("store URL {0}")]
    Url(String),
    /// The database cannot be reached: not opened, not connected, not there.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored value could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// This store does not implement the operation.
    #[error("this store does not support {0}")]
    Unsupported(&'static str),
}

/// An enrollment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentRecord {
    /// Its id.
    pub id: String,
    /// The one-time URL's token.
    pub token: String,
    /// The user the certificate is for.
    pub user_id: String,
    /// Where the mail went.
    pub email: String,
    /// `new` or `renew`.
    pub kind: Kind,
    /// The stored state; [`EnrollmentRecord::state_at`] adds expiry.
    pub state: EnrollmentState,
    /// The argon2 PHC string of the auth password.
    pub password_hash: String,
    /// Wrong passwords in a row.
    pub failed_attempts: u32,
    /// When the mail counts as sent.
    pub mail_sent_at: OffsetDateTime,
    /// When the URL stops working.
    pub url_expires_at: OffsetDateTime,
    /// The serial it issued, once issued.
    pub serial: Option<String>,
    /// For a renewal: the serial it renews.
    pub renews_serial: Option<String>,
    /// For a renewal: issuing revokes `renews_serial` as superseded.
    pub revoke_previous: bool,
}

impl EnrollmentRecord {
    /// The state at `now`: a pending URL past its expiry is `expired`.
    pub fn state_at(&self, now: OffsetDateTime) -> EnrollmentState {
        match self.state {
            EnrollmentState::Pending | EnrollmentState::Authenticated
                if now >= self.url_expires_at =>
            {
                EnrollmentState::Expired
            }
            s => s,
        }
    }
}

/// A new enrollment to record.
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    /// Its id.
    pub id: String,
    /// The one-time URL's token.
    pub token: String,
    /// The user.
    pub user_id: String,
    /// The mail address.
    pub email: String,
    /// `new` or `renew`.
    pub kind: Kind,
    /// The argon2 PHC string of the auth password.
    pub password_hash: String,
    /// When the mail counts as sent.
    pub mail_sent_at: OffsetDateTime,
    /// When the URL stops working.
    pub url_expires_at: OffsetDateTime,
    /// For a renewal: the serial it renews.
    pub renews_serial: Option<String>,
    /// For a renewal: issuing revokes `renews_serial` as superseded.
    pub revoke_previous: bool,
    /// When it was prepared (service clock).
    pub created_at: OffsetDateTime,
}

/// One mail of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct MailRecord {
    /// Its id.
    pub id: String,
    /// The enrollment it announces.
    pub enrollment_id: String,
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The URL it carries.
    pub one_time_url: String,
    /// When it counts as sent.
    pub sent_at: OffsetDateTime,
}

/// A Step 1 session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// SHA-256 of the session token, hex: the token itself is never stored.
    pub token_hash: String,
    /// The enrollment it belongs to.
    pub enrollment_id: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it ends.
    pub expires_at: OffsetDateTime,
}

/// One issued certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateRecord {
    /// Upper-case hex serial.
    pub serial: String,
    /// The user it was issued to.
    pub user_id: String,
    /// The enrollment that issued it.
    pub enrollment_id: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub reason: Option<String>,
}

/// What the certificate download needs of an enrollment, found by its
/// one-time URL token. Once `issued`, none of it ever changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The enrollment (whose session may download).
    pub enrollment_id: String,
    /// The site it was prepared for.
    pub kind: Kind,
    /// The user it is for.
    pub user_id: String,
    /// The certificate it issued: `(serial, DER)`; `None` before.
    pub issued: Option<(String, Vec<u8>)>,
}

impl Download {
    /// The download of `enrollment`, whose serial names `certificate`.
    pub fn of(
        enrollment: &EnrollmentRecord,
        certificate: Option<CertificateRecord>,
    ) -> Result<Self, StoreError> {
        Self::read(
            enrollment.id.clone(),
            enrollment.kind,
            enrollment.user_id.clone(),
            enrollment.serial.clone(),
            certificate.map(|c| c.der),
        )
    }

    /// The download as a store reads it: the enrollment's serial and the DER
    /// of the certificate of that serial (`None` when there is none).
    pub fn read(
        enrollment_id: String,
        kind: Kind,
        user_id: String,
        serial: Option<String>,
        der: Option<Vec<u8>>,
    ) -> Result<Self, StoreError> {
        let issued = match (serial, der) {
            (None, _) => None,
            (Some(serial), Some(der)) => Some((serial, der)),
            (Some(serial), None) => {
                return Err(StoreError::Corrupt(format!(
                    "enrollment {enrollment_id} names certificate {serial}, which is missing"
                )))
            }
        };
        Ok(Self {
            enrollment_id,
            kind,
            user_id,
            issued,
        })
    }
}

/// A generated CRL, as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct CrlRecord {
    /// Its CRL number.
    pub number: u64,
    /// The CRL, DER.
    pub der: Vec<u8>,
    /// Its thisUpdate.
    pub this_update: OffsetDateTime,
    /// Its nextUpdate.
    pub next_update: OffsetDateTime,
    /// How many revoked certificates it lists: fewer than the store holds means stale.
    pub revoked_count: u64,
}

/// What every replica of a deployment shares besides the records: the
/// clock's setting and the fault set, each a JSON document the service
/// writes and reads whole, and a version that every change raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlsRecord {
    /// Raised by every change.
    pub version: u64,
    /// The clock's setting, JSON.
    pub clock: String,
    /// The fault set, JSON.
    pub faults: String,
}

/// What happened to a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Counted; this many wrong passwords in a row so far.
    Counted(u32),
    /// This one locked the URL.
    Locked,
    /// The URL was not open for passwords any more (issued, locked or expired meanwhile).
    NotOpen,
}

/// What happened to an issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOutcome {
    /// The URL was consumed and the certificate recorded.
    Issued,
    /// Another request got there first, or the URL is locked or expired; nothing changed.
    NotOpen,
}

/// What happened to a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// Revoked now.
    Revoked,
    /// It was revoked before; nothing changed.
    AlreadyRevoked,
    /// No such certificate.
    NotFound,
}

/// The narrow interface between the handlers and the database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records an enrollment and its mail, together or not at all.
    async fn create_enrollment(
        &self,
        enrollment: &NewEnrollment,
        mail: &MailRecord,
    ) -> Result<(), StoreError>;

    /// The enrollment with this one-time URL token.
    async fn enrollment_by_token(
        &self,
        token: &str,
    ) -> Result<Option<EnrollmentRecord>, StoreError>;

    /// The enrollment with this id.
    async fn enrollment(&self, id: &str) -> Result<Option<EnrollmentRecord>, StoreError>;

    /// Counts a wrong password; the `lock_after`-th in a row locks the URL.
    /// Only a URL open at `now` counts.
    async fn record_failed_auth(
        &self,
        enrollment_id: &str,
        lock_after: u32,
        now: OffsetDateTime,
    ) -> Result<AuthFailure, StoreError>;

    /// Resets the wrong-password count, marks the enrollment authenticated and
    /// records the session. `false` (and nothing changed) if the URL is not open at `now`.
    async fn record_successful_auth(
        &self,
        session: &SessionRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The session with this token hash. A session never changes once recorded
    /// (it only expires, which the caller decides by its clock), so a store may
    /// answer from a copy it keeps.
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// The enrollment with this one-time URL token and, when `session_hash`
    /// is given, the session with that token hash, whichever enrollment it
    /// is for (`None` if there is none): what Step 2 needs, which a store may
    /// read in one step. `None` for an unknown token. The default reads the
    /// two in turn.
    async fn enrollment_and_session(
        &self,
        token: &str,
        session_hash: Option<&str>,
    ) -> Result<Option<(EnrollmentRecord, Option<SessionRecord>)>, StoreError> {
        let Some(enrollment) = self.enrollment_by_token(token).await? else {
            return Ok(None);
        };
        let session = match session_hash {
            Some(hash) => self.session(hash).await?,
            None => None,
        };
        Ok(Some((enrollment, session)))
    }

    /// Consumes the one-time URL and records the certificate, in one transaction.
    /// Of any number of concurrent calls on one enrollment, exactly one gets `Issued`.
    /// With `supersedes`, the same transaction revokes that certificate with
    /// reason `superseded` at `now`, unless it is revoked already (it keeps its
    /// first reason); a call that does not issue revokes nothing.
    async fn issue(
        &self,
        enrollment_id: &str,
        certificate: &CertificateRecord,
        now: OffsetDateTime,
        supersedes: Option<&str>,
    ) -> Result<IssueOutcome, StoreError>;

    /// The certificate with this serial.
    async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError>;

    /// What the certificate download needs of the enrollment with this
    /// one-time URL token: `None` for an unknown token. Once the enrollment
    /// issued, none of the answer ever changes, so a store may keep it. The
    /// default reads the enrollment, then its certificate.
    async fn download_by_token(&self, token: &str) -> Result<Option<Download>, StoreError> {
        let Some(enrollment) = self.enrollment_by_token(token).await? else {
            return Ok(None);
        };
        let certificate = match enrollment.serial.as_deref() {
            Some(serial) => self.certificate(serial).await?,
            None => None,
        };
        Download::of(&enrollment, certificate).map(Some)
    }

    /// Every revoked certificate, in revocation order: what the CRL lists.
    async fn revoked(&self) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Takes the next CRL number: 1, 2, 3, ...; never the same number twice.
    async fn next_crl_number(&self) -> Result<u64, StoreError>;

    /// Keeps `crl` as the current CRL, unless one with a higher number is kept already.
    async fn save_crl(&self, crl: &CrlRecord) -> Result<(), StoreError>;

    /// The current CRL, if one was generated.
    async fn current_crl(&self) -> Result<Option<CrlRecord>, StoreError>;

    /// Every certificate, newest first, optionally of one user.
    async fn certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Revokes a certificate.
    async fn revoke(
        &self,
        serial: &str,
        at: OffsetDateTime,
        reason: &str,
    ) -> Result<RevokeOutcome, StoreError>;

    /// The outbox, newest first, optionally to one address.
    async fn mails(&self, to: Option<&str>) -> Result<Vec<MailRecord>, StoreError>;

    /// Records a certificate made without the site (the administrator's
    /// factory, `POST /admin/certificates`), in one transaction with the
    /// enrollment that stands for it: `enrollment` recorded already `issued`
    /// with `certificate`'s serial, no mail, so its URL never opens. The
    /// certificate keeps `revoked_at` and `reason` as given (a certificate
    /// made revoked). Stores without it refuse.
    async fn record_certificate(
        &self,
        enrollment: &NewEnrollment,
        certificate: &CertificateRecord,
    ) -> Result<(), StoreError> {
        let _ = (enrollment, certificate);
        Err(StoreError::Unsupported("record_certificate"))
    }

    /// Whether the database answers now (`GET /readyz`). The default makes
    /// one real read.
    async fn ping(&self) -> Result<(), StoreError> {
        self.enrollment("").await.map(|_| ())
    }

    /// Whether several processes may serve from this store at once. Such a
    /// store keeps the deployment's controls ([`Store::controls`]) and its
    /// ephemeral root ([`Store::adopt_root`]); a store one process owns keeps
    /// them in that process.
    fn is_shared(&self) -> bool {
        false
    }

    /// The deployment's controls, unless their version is `known` (then
    /// `None`): one small read, made by a replica's lease keeper and, while
    /// the replica holds no lease, before every request.
    async fn controls(&self, known: Option<u64>) -> Result<Option<ControlsRecord>, StoreError> {
        let _ = known;
        Err(StoreError::Unsupported("controls"))
    }

    /// Replaces the clock document, the fault document or both, and raises
    /// the version, unless `expect` is given and the version is not that one
    /// (then `None`, and nothing changed). The new version otherwise.
    async fn save_controls(
        &self,
        clock: Option<&str>,
        faults: Option<&str>,
        expect: Option<u64>,
    ) -> Result<Option<u64>, StoreError> {
        let _ = (clock, faults, expect);
        Err(StoreError::Unsupported("save_controls"))
    }

    /// Holds this replica's lease on the controls for `lease` from now (the
    /// database's clock), saying it shows every version up to `acked`: until
    /// the lease runs out, a change of the controls waits for the replica to
    /// take it ([`Store::replicas_behind`]). Also forgets leases long run out.
    async fn renew_lease(
        &self,
        replica: &str,
        acked: u64,
        lease: std::time::Duration,
    ) -> Result<(), StoreError> {
        let _ = (replica, acked, lease);
        Err(StoreError::Unsupported("renew_lease"))
    }

    /// How many replicas other than `replica` hold a lease that has not run
    /// out and have not yet taken `version` of the controls.
    async fn replicas_behind(&self, replica: &str, version: u64) -> Result<u64, StoreError> {
        let _ = (replica, version);
        Err(StoreError::Unsupported("replicas_behind"))
    }

    /// Gives up this replica's lease (a replica that stops).
    async fn release_lease(&self, replica: &str) -> Result<(), StoreError> {
        let _ = replica;
        Err(StoreError::Unsupported("release_lease"))
    }

    /// Keeps `(cert_pem, key_pem)` as the deployment's root unless one is kept
    /// already, and answers the one kept: of replicas that start together
    /// with ephemeral roots, all end up with the first one stored.
    async fn adopt_root(
        &self,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<(String, String), StoreError> {
        let _ = (cert_pem, key_pem);
        Err(StoreError::Unsupported("adopt_root"))
    }

    /// Moves an enrollment's URL expiry to `at` (the `expire_url_now` fault).
    /// `false` if there is no such enrollment. Stores without it refuse.
    async fn expire_url(
        &self,
        enrollment_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _ = (enrollment_id, at);
        Err(StoreError::Unsupported("expire_url"))
    }
}
