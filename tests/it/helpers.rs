//! `TestApp`: one mock CA per test, on free loopback ports with an in-memory
//! store, and one helper per endpoint.

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use webra2_mock::{Application, Clock, Settings};
use webra2_wire::{AuthResponse, EnrollmentCreated, Issued};

/// The workspace's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A fixture file's bytes.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A binary of this workspace from the build output folder. `cargo test
/// --workspace` builds it, because each package has a CLI test of its own.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps/..");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the README's test command (`cargo test --workspace`), which builds it",
        path.display()
    );
    path
}

/// An HTTP client for plain-HTTP listeners (ring provider, as the workspace uses).
pub fn http() -> Client {
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the defaults")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .expect("client")
}

/// A running mock CA; stopped when dropped.
pub struct TestApp {
    /// Public base URL.
    pub public_url: String,
    /// Admin base URL.
    pub admin_url: String,
    /// Confirmation page URL.
    pub confirm_url: String,
    /// The service clock (shared with the running app).
    pub clock: Clock,
    /// The HTTP client.
    pub http: Client,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// Starts a mock CA with the default profile and a real clock.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Settings::for_tests(), Clock::real()).await
    }

    /// Starts a mock CA with a clock standing still at `at`.
    pub async fn spawn_at(at: OffsetDateTime) -> TestApp {
        Self::spawn_with(Settings::for_tests(), Clock::fixed(at)).await
    }

    /// Starts a mock CA with these settings and clock.
    pub async fn spawn_with(settings: Settings, clock: Clock) -> TestApp {
        let app = Application::build_with_clock(settings, clock.clone())
            .await
            .expect("the app builds");
        let (tx, rx) = oneshot::channel::<()>();
        let public_url = app.public_url().to_owned();
        let admin_url = app.admin_url();
        let confirm_url = app.confirm_url().to_owned();
        let done = tokio::spawn(async move {
            let _ = app
                .run_until_stopped(async {
                    let _ = rx.await;
                })
                .await;
        });
        TestApp {
            public_url,
            admin_url,
            confirm_url,
            clock,
            http: http(),
            stop: Some(tx),
            done: Some(done),
        }
    }

    /// The helpers of this type on a service running elsewhere (another
    /// process): its clock field is not the service's, and nothing is stopped.
    pub fn remote(public_url: &str, admin_url: &str, confirm_url: &str) -> TestApp {
        TestApp {
            public_url: public_url.to_owned(),
            admin_url: admin_url.to_owned(),
            confirm_url: confirm_url.to_owned(),
            clock: Clock::real(),
            http: http(),
            stop: None,
            done: None,
        }
    }

    /// Stops the app and waits until its listeners are closed.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// `POST /admin/enrollments` with a JSON body, raw.
    pub async fn post_enrollment(&self, body: &Value) -> Response {
        self.http
            .post(format!("{}/admin/enrollments", self.admin_url))
            .json(body)
            .send()
            .await
            .expect("admin reachable")
    }

    /// Prepares a `new` enrollment and returns its answer.
    pub async fn prepare(&self, user_id: &str, password: &str) -> EnrollmentCreated {
        let resp = self
            .post_enrollment(&json!({
                "user_id": user_id,
                "email": format!("{}@example.test", user_id.to_lowercase()),
                "auth_password": password,
            }))
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("EnrollmentCreated")
    }

    /// `POST {url}/auth` as JSON, raw.
    pub async fn auth_raw(&self, url: &str, password: &str) -> Response {
        self.http
            .post(format!("{url}/auth"))
            .header("accept", "application/json")
            .json(&json!({ "auth_password": password }))
            .send()
            .await
            .expect("public reachable")
    }

    /// Authenticates and returns the session.
    pub async fn auth(&self, url: &str, password: &str) -> AuthResponse {
        let resp = self.auth_raw(url, password).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("AuthResponse")
    }

    /// `POST {url}/csr` with a session and a body of a media type, raw.
    pub async fn csr_raw(&self, url: &str, session: &str, media: &str, body: Vec<u8>) -> Response {
        self.http
            .post(format!("{url}/csr"))
            .header("accept", "application/json")
            .header("content-type", media)
            .bearer_auth(session)
            .body(body)
            .send()
            .await
            .expect("public reachable")
    }

    /// Sends a fixture CSR as PEM and expects a certificate.
    pub async fn issue_fixture(&self, url: &str, session: &str, csr: &str) -> Issued {
        let resp = self
            .csr_raw(url, session, "application/x-pem-file", fixture(csr))
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        resp.json().await.expect("Issued")
    }

    /// `GET /metrics` on the admin API, the text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.admin_url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// `GET` on the admin API, JSON.
    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.admin_url))
            .send()
            .await
            .expect("admin reachable");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts a response is a contract problem of this slug and status; returns the body.
pub async fn assert_problem(resp: Response, status: u16, slug: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = resp.json().await.expect("problem JSON");
    assert_eq!(
        body["type"],
        format!("urn:webra2-mock:problem:{slug}"),
        "{body}"
    );
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}
