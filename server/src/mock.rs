//! The in-process API: start a mock CA inside a test, in the spirit of
//! `wiremock::MockServer::start()`. Every instance has its own free loopback
//! ports and in-memory store, so many run side by side in one test binary;
//! dropping the handle stops it.
//!
//! ```rust
//! use webra2_mock::MockCa;
//! use webra2_wire::{CertStatus, CreateCertificate, FactoryKey, FactoryState, FaultSpec};
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ca = MockCa::builder().profile("webra2").start().await?;
//! // The fixture root by default: pin its fingerprint, hand its PEM to your client.
//! assert_eq!(ca.root_sha1().split(' ').count(), 5);
//! assert!(ca.root_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//!
//! // The administrator prepares an issuance; the mail carries the one-time URL.
//! let created = ca.admin().prepare_new("U0001", "u0001@example.test", "s3cret").await?;
//! let mails = ca.admin().mails(Some("u0001@example.test")).await?;
//! assert_eq!(mails[0].one_time_url, created.one_time_url);
//! assert!(created.one_time_url.starts_with(ca.public_url()));
//!
//! // Break it on purpose: the next CSR answers 503.
//! ca.admin()
//!     .set_faults(&[FaultSpec::status("/issue/{token}/csr", 503).times(1)])
//!     .await?;
//! assert_eq!(ca.admin().faults().await?.faults.len(), 1);
//!
//! // A certificate in the state a relying party under test must refuse.
//! let made = ca
//!     .admin()
//!     .create_certificate(&CreateCertificate {
//!         user_id: "RP01".into(),
//!         pin: "Pin1234".into(),
//!         key: FactoryKey::P256,
//!         state: FactoryState::Expired,
//!         reason: None,
//!         not_before: None,
//!         not_after: None,
//!         issuer: None,
//!     })
//!     .await?;
//! assert_eq!(made.status, CertStatus::Expired);
//! assert!(made.key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
//! # Ok(())
//! # }
//! ```

use crate::clock::Clock;
use crate::config::{RootSource, Settings};
use crate::{http, Application};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tower::ServiceExt;
use webra2_wire::{
    paths, CertificateView, ClockView, EnrollmentCreated, EnrollmentView, FaultSet, FaultSpec,
    Kind, Mail, PrepareEnrollment, Problem, RevokeRequest, SetClock,
};
use webra2_wire::{CreateCertificate, CreatedCertificate};

/// What the in-process API reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The mock CA could not start (a bad profile, root or fault set).
    #[error("the mock CA did not start: {0}")]
    Start(String),
    /// The admin API answered with a problem document.
    #[error("{}: {} (HTTP {})", .0.type_uri, .0.detail, .0.status)]
    Problem(Box<Problem>),
    /// The admin API answered something this client did not expect.
    #[error("the admin API answered HTTP {status}: {body}")]
    Unexpected {
        /// The status.
        status: u16,
        /// The body, as text.
        body: String,
    },
}

/// How to start a [`MockCa`]; [`MockCa::builder`] makes one.
#[derive(Debug, Clone)]
pub struct MockCaBuilder {
    settings: Settings,
    clock: Clock,
}

impl MockCaBuilder {
    /// The profile: a built-in name (`webra2`, `modern`) or a path to a TOML file.
    pub fn profile(mut self, name_or_path: impl Into<String>) -> Self {
        self.settings.profile = name_or_path.into();
        self
    }

    /// The service clock (keep a clone to move time in the test).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The service clock standing still at `at`.
    pub fn fixed_at(self, at: OffsetDateTime) -> Self {
        self.clock(Clock::fixed(at))
    }

    /// The root CA: the fixture (default), a fresh one, or files.
    pub fn root(mut self, root: RootSource) -> Self {
        self.settings.root = root;
        self
    }

    /// Faults active from the start.
    pub fn faults(mut self, faults: impl IntoIterator<Item = FaultSpec>) -> Self {
        self.settings.faults = FaultSet::new(faults);
        self
    }

    /// Also send the issuance mails over SMTP (`smtp://127.0.0.1:PORT`).
    pub fn smtp_url(mut self, url: impl Into<String>) -> Self {
        self.settings.smtp_url = Some(url.into());
        self
    }

    /// Any other setting (listeners stay on free loopback ports unless changed here).
    pub fn settings(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// Binds, loads and starts serving in the background of the current tokio runtime.
    pub async fn start(self) -> Result<MockCa, MockError> {
        let app = Application::build_with_clock(self.settings, self.clock.clone())
            .await
            .map_err(|e| MockError::Start(format!("{e:#}")))?;
        let state = app.state().clone();
        let root = state.service.ca().root();
        let admin = AdminClient {
            router: http::admin_router(state.clone()),
            token: state.settings.admin_token.clone(),
        };
        let public_url = app.public_url().to_owned();
        let admin_url = app.admin_url();
        let confirm_url = app.confirm_url().to_owned();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = rx.await;
            };
            if let Err(e) = app.run_until_stopped(stopped).await {
                tracing::error!(error = %e, "the in-process mock CA stopped");
            }
        });
        Ok(MockCa {
            public_url,
            admin_url,
            confirm_url,
            root_der: root.cert_der().to_vec(),
            root_pem: root.cert_pem(),
            root_sha1: root.sha1_fingerprint(),
            root_sha256: root.sha256_fingerprint(),
            clock: self.clock,
            admin,
            stop: Some(tx),
            task: Some(task),
        })
    }
}

/// A running mock CA on free loopback ports with an in-memory store; stopped
/// when dropped.
#[derive(Debug)]
pub struct MockCa {
    public_url: String,
    admin_url: String,
    confirm_url: String,
    root_der: Vec<u8>,
    root_pem: String,
    root_sha1: String,
    root_sha256: String,
    clock: Clock,
    admin: AdminClient,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockCa {
    /// A builder with the defaults: fixture root, `webra2` profile, real clock,
    /// no faults, no SMTP.
    pub fn builder() -> MockCaBuilder {
        MockCaBuilder {
            settings: Settings::for_tests(),
            clock: Clock::real(),
        }
    }

    /// Starts one with every default.
    pub async fn start() -> Result<MockCa, MockError> {
        Self::builder().start().await
    }

    /// The public listener (`http://127.0.0.1:PORT`).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The admin listener (`http://127.0.0.1:PORT`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The confirmation page (`https://127.0.0.1:PORT/confirm`).
    pub fn confirm_url(&self) -> &str {
        &self.confirm_url
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The root's SHA-1 fingerprint as the issuance site prints it.
    pub fn root_sha1(&self) -> &str {
        &self.root_sha1
    }

    /// The root's SHA-256 fingerprint, upper-case hex in groups of eight.
    pub fn root_sha256(&self) -> &str {
        &self.root_sha256
    }

    /// The service clock (shared with the running instance).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The admin API, called in-process.
    pub fn admin(&self) -> &AdminClient {
        &self.admin
    }

    /// Stops serving and waits (at most five seconds) for the listeners to close.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for MockCa {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // A client's idle keep-alive connection would hold a graceful shutdown
        // open; a dropped mock must let its ports go now.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The admin API of one [`MockCa`], called in-process through the same router
/// the admin listener serves (same handlers, same checks, no sockets).
#[derive(Clone)]
pub struct AdminClient {
    router: Router,
    token: Option<String>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient").finish_non_exhaustive()
    }
}

impl AdminClient {
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, MockError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = match body {
            Some(v) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => req.body(Body::empty()),
        }
        .map_err(|e| MockError::Unexpected {
            status: 0,
            body: format!("cannot build the request: {e}"),
        })?;
        let resp = match self.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
            .await
            .map_err(|e| MockError::Unexpected {
                status: status.as_u16(),
                body: format!("unreadable body: {e}"),
            })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| MockError::Unexpected {
                status: status.as_u16(),
                body: format!("{e}: {}", String::from_utf8_lossy(&bytes)),
            });
        }
        Err(match serde_json::from_slice::<Problem>(&bytes) {
            Ok(p) => MockError::Problem(Box::new(p)),
            Err(_) => MockError::Unexpected {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            },
        })
    }

    /// `POST /admin/enrollments`.
    pub async fn prepare(&self, req: &PrepareEnrollment) -> Result<EnrollmentCreated, MockError> {
        self.call(
            Method::POST,
            paths::ADMIN_ENROLLMENTS,
            Some(json_body(req)?),
        )
        .await
    }

    /// Prepares a `new` enrollment with the defaults (mail sent now, URL valid 30 days).
    pub async fn prepare_new(
        &self,
        user_id: &str,
        email: &str,
        auth_password: &str,
    ) -> Result<EnrollmentCreated, MockError> {
        self.prepare(&PrepareEnrollment {
            user_id: user_id.to_owned(),
            email: email.to_owned(),
            auth_password: auth_password.to_owned(),
            kind: Kind::New,
            mail_sent_at: None,
            url_valid_days: None,
            revoke_previous: false,
        })
        .await
    }

    /// `GET /admin/enrollments/{id}`.
    pub async fn enrollment(&self, id: &str) -> Result<EnrollmentView, MockError> {
        self.call(Method::GET, &paths::fill(paths::ADMIN_ENROLLMENT, id), None)
            .await
    }

    /// `GET /admin/mails`, newest first, optionally to one address.
    pub async fn mails(&self, to: Option<&str>) -> Result<Vec<Mail>, MockError> {
        let path = match to {
            Some(to) => format!(
                "{}?{}",
                paths::ADMIN_MAILS,
                serde_urlencoded::to_string([("to", to)]).unwrap_or_default()
            ),
            None => paths::ADMIN_MAILS.to_owned(),
        };
        self.call(Method::GET, &path, None).await
    }

    /// `GET /admin/certificates`, newest first, optionally of one user.
    pub async fn certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CertificateView>, MockError> {
        let path = match user_id {
            Some(u) => format!(
                "{}?{}",
                paths::ADMIN_CERTIFICATES,
                serde_urlencoded::to_string([("user_id", u)]).unwrap_or_default()
            ),
            None => paths::ADMIN_CERTIFICATES.to_owned(),
        };
        self.call(Method::GET, &path, None).await
    }

    /// `POST /admin/certificates`: a certificate made to order, in its JSON
    /// form (PEM certificate, PIN-encrypted PKCS#8 key).
    pub async fn create_certificate(
        &self,
        req: &CreateCertificate,
    ) -> Result<CreatedCertificate, MockError> {
        self.call(
            Method::POST,
            paths::ADMIN_CERTIFICATES,
            Some(json_body(req)?),
        )
        .await
    }

    /// `POST /admin/certificates/{serial}/revoke`.
    pub async fn revoke(&self, serial: &str, reason: &str) -> Result<CertificateView, MockError> {
        let body = json_body(&RevokeRequest {
            reason: Some(reason.to_owned()),
        })?;
        let path = paths::fill(paths::ADMIN_REVOKE, serial);
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `PUT /admin/clock`: the service clock stands still at `at`.
    pub async fn set_clock(&self, at: OffsetDateTime) -> Result<ClockView, MockError> {
        let body = json_body(&SetClock {
            now: at,
            running: false,
        })?;
        self.call(Method::PUT, paths::ADMIN_CLOCK, Some(body)).await
    }

    /// `DELETE /admin/clock`: back to real time.
    pub async fn reset_clock(&self) -> Result<ClockView, MockError> {
        self.call(Method::DELETE, paths::ADMIN_CLOCK, None).await
    }

    /// `PUT /admin/faults`: replaces the active faults with these.
    pub async fn set_faults(&self, faults: &[FaultSpec]) -> Result<FaultSet, MockError> {
        let body = json_body(&FaultSet::new(faults.iter().cloned()))?;
        self.call(Method::PUT, paths::ADMIN_FAULTS, Some(body))
            .await
    }

    /// `GET /admin/faults`: what is active, with what is left of each.
    pub async fn faults(&self) -> Result<FaultSet, MockError> {
        self.call(Method::GET, paths::ADMIN_FAULTS, None).await
    }

    /// `DELETE /admin/faults`: clears every fault.
    pub async fn clear_faults(&self) -> Result<FaultSet, MockError> {
        self.call(Method::DELETE, paths::ADMIN_FAULTS, None).await
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> Result<String, MockError> {
        let mut req = Request::builder().uri(paths::METRICS);
        if let Some(token) = &self.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req.body(Body::empty()).map_err(|e| MockError::Unexpected {
            status: 0,
            body: e.to_string(),
        })?;
        let resp = match self.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
            .await
            .map_err(|e| MockError::Unexpected {
                status: status.as_u16(),
                body: e.to_string(),
            })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if status == StatusCode::OK {
            Ok(text)
        } else {
            Err(MockError::Unexpected {
                status: status.as_u16(),
                body: text,
            })
        }
    }
}

/// A wire type as the JSON body of an admin call.
fn json_body(value: &impl serde::Serialize) -> Result<Value, MockError> {
    serde_json::to_value(value).map_err(|e| MockError::Unexpected {
        status: 0,
        body: e.to_string(),
    })
}
