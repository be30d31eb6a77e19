//! The load: enrollments prepared through the admin API, sessions opened with
//! Step 1, then issuances (Step 2's CSR and Step 3's certificate download) at
//! a given concurrency, each timed.

use anyhow::anyhow;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, StatusCode};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use webra2_wire::{AuthRequest, AuthResponse, EnrollmentCreated, Issued, PrepareEnrollment};

/// The auth password of every benchmark enrollment (a test secret, not a real one).
pub const PASSWORD: &str = "bench-password";

/// An HTTP client for the plain-HTTP listeners, with keep-alive connections.
pub fn client(concurrency: usize) -> anyhow::Result<Client> {
    let tls = webra2_client::tls::plain_config().map_err(|e| anyhow!("{e}"))?;
    Ok(Client::builder()
        .use_preconfigured_tls(tls)
        .pool_max_idle_per_host(concurrency.max(1) * 2)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// The outcome of one phase: what succeeded (in input order), how long each
/// took, the errors, and the phase's wall time.
pub struct Phase<T> {
    /// One entry per input: `Some` when it succeeded.
    pub results: Vec<Option<T>>,
    /// The latency of every successful operation.
    pub latencies: Vec<Duration>,
    /// Failed operations, with the first few reasons.
    pub errors: usize,
    /// The first few error messages.
    pub first_errors: Vec<String>,
    /// From the first request to the last answer.
    pub elapsed: Duration,
}

impl<T> Phase<T> {
    /// Successful operations.
    pub fn ok(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }

    /// Successful operations per second of wall time.
    pub fn per_sec(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `op(0..n)` with `concurrency` operations in flight at any time.
async fn pool<T, F, Fut>(n: usize, concurrency: usize, op: F) -> Phase<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (op, next) = (op.clone(), next.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                let outcome = op(i).await;
                done.push((i, outcome, t.elapsed()));
            }
            done
        });
    }
    let mut phase = Phase {
        results: (0..n).map(|_| None).collect(),
        latencies: Vec::with_capacity(n),
        errors: 0,
        first_errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    while let Some(joined) = workers.join_next().await {
        let done = match joined {
            Ok(done) => done,
            Err(e) => {
                phase.errors += 1;
                phase.first_errors.push(format!("worker: {e}"));
                continue;
            }
        };
        for (i, outcome, latency) in done {
            match outcome {
                Ok(value) => {
                    phase.results[i] = Some(value);
                    phase.latencies.push(latency);
                }
                Err(e) => {
                    phase.errors += 1;
                    if phase.first_errors.len() < 5 {
                        phase.first_errors.push(format!("{e:#}"));
                    }
                }
            }
        }
    }
    phase.elapsed = start.elapsed();
    phase
}

/// The body of an answer that must have `expected` status, or an error naming both.
async fn expect(resp: reqwest::Response, expected: StatusCode) -> anyhow::Result<bytes::Bytes> {
    let status = resp.status();
    let body = resp.bytes().await?;
    if status != expected {
        return Err(anyhow!(
            "{status} (expected {expected}): {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    Ok(body)
}

/// Prepares `n` enrollments (users `BENCH00000`…); their one-time URLs.
pub async fn prepare(
    http: &Client,
    admin_url: &str,
    n: usize,
    concurrency: usize,
) -> Phase<String> {
    let (http, url) = (http.clone(), format!("{admin_url}/admin/enrollments"));
    pool(n, concurrency, move |i| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let user_id = format!("BENCH{i:05}");
            let req = PrepareEnrollment {
                email: format!("{}@example.test", user_id.to_lowercase()),
                user_id,
                auth_password: PASSWORD.to_owned(),
                kind: webra2_wire::Kind::New,
                mail_sent_at: None,
                url_valid_days: None,
                revoke_previous: false,
            };
            let body = expect(
                http.post(&url).json(&req).send().await?,
                StatusCode::CREATED,
            )
            .await?;
            Ok(serde_json::from_slice::<EnrollmentCreated>(&body)?.one_time_url)
        }
    })
    .await
}

/// Step 1 on every URL; the sessions, in the same order.
pub async fn authenticate(
    http: &Client,
    urls: Arc<Vec<String>>,
    concurrency: usize,
) -> Phase<String> {
    let http = http.clone();
    pool(urls.len(), concurrency, move |i| {
        let (http, urls) = (http.clone(), urls.clone());
        async move {
            let body = expect(
                http.post(format!("{}/auth", urls[i]))
                    .header(ACCEPT, "application/json")
                    .json(&AuthRequest {
                        auth_password: PASSWORD.to_owned(),
                    })
                    .send()
                    .await?,
                StatusCode::OK,
            )
            .await?;
            Ok(serde_json::from_slice::<AuthResponse>(&body)?.session)
        }
    })
    .await
}

/// One authenticated enrollment, ready for Step 2.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The one-time URL.
    pub url: String,
    /// The Step 1 session.
    pub session: String,
}

/// Issues one certificate per enrollment: `POST /csr` with a CSR from the pool
/// (round robin), then `GET` the certificate it names. The value is the serial.
pub async fn issue(
    http: &Client,
    ready: Arc<Vec<Ready>>,
    csrs: Arc<Vec<String>>,
    concurrency: usize,
) -> Phase<String> {
    let http = http.clone();
    pool(ready.len(), concurrency, move |i| {
        let (http, ready, csrs) = (http.clone(), ready.clone(), csrs.clone());
        async move {
            let enrollment = &ready[i];
            let bearer = format!("Bearer {}", enrollment.session);
            let csr = csrs[i % csrs.len()].clone();
            let body = expect(
                http.post(format!("{}/csr", enrollment.url))
                    .header(AUTHORIZATION, &bearer)
                    .header(ACCEPT, "application/json")
                    .header(CONTENT_TYPE, "application/x-pem-file")
                    .body(csr)
                    .send()
                    .await?,
                StatusCode::CREATED,
            )
            .await?;
            let issued: Issued = serde_json::from_slice(&body)?;
            let pem = expect(
                http.get(&issued.certificate_url)
                    .header(AUTHORIZATION, &bearer)
                    .send()
                    .await?,
                StatusCode::OK,
            )
            .await?;
            if !pem.starts_with(b"-----BEGIN CERTIFICATE-----") {
                return Err(anyhow!("the certificate download is not PEM"));
            }
            Ok(issued.serial)
        }
    })
    .await
}

/// The `q` quantile (0..=1) of `samples`, in milliseconds (nearest rank).
pub fn quantile_ms(samples: &[Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&ms, 0.5), 50.0);
        assert_eq!(quantile_ms(&ms, 0.99), 99.0);
        assert_eq!(quantile_ms(&ms[..1], 0.99), 1.0);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }
}
