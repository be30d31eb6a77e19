//! HTTP plumbing: clients built on the one rustls provider, bounded retries of
//! `503`/`429`, and responses checked (status, content type, size) into either a
//! body or a clear one-line reason.

use crate::report::Progress;
use crate::transcript::{Exchange, RawExchange};
use crate::{tls, ClientError};
use serde::de::DeserializeOwned;
use std::time::Duration;
use time::OffsetDateTime;
use webra2_wire::{Problem, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX};

/// At most this many tries of one request.
const MAX_TRIES: u32 = 5;
/// At most this long spent waiting between tries of one request.
const RETRY_BUDGET: Duration = Duration::from_secs(10);
/// The first backoff when the server gives no `Retry-After`.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How much of a body an error line quotes.
const QUOTE_CHARS: usize = 200;
/// The largest JSON answer the client reads.
pub(crate) const JSON_LIMIT: usize = 64 * 1024;
/// The largest certificate answer the client reads.
pub(crate) const CERT_LIMIT: usize = 512 * 1024;

/// A reqwest client that speaks plain HTTP, or HTTPS with no trusted roots.
pub(crate) fn plain_client() -> Result<reqwest::Client, ClientError> {
    client_with(tls::plain_config()?)
}

/// A reqwest client over this rustls configuration.
pub(crate) fn client_with(config: rustls::ClientConfig) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .user_agent(concat!("webra2-client/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ClientError::Http(format!("cannot build the HTTP client: {e}")))
}

/// A response read in full and within its size limit.
#[derive(Debug)]
pub(crate) struct Body {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The media type without parameters, lower case (empty if none was sent).
    pub(crate) content_type: String,
    /// The `Date` header, if present and readable.
    pub(crate) date: Option<OffsetDateTime>,
    /// The body.
    pub(crate) bytes: Vec<u8>,
    /// Every response header (the PKCS#12 path names its serial and Step 4 page there).
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Body {
    /// Fails unless the media type is one of `types`.
    pub(crate) fn expect_type(&self, types: &[&str]) -> Result<(), ClientError> {
        if types.iter().any(|t| *t == self.content_type) {
            Ok(())
        } else {
            Err(ClientError::Step(format!(
                "unexpected content type {:?} (expected {}); body starts: {}",
                self.content_type,
                types.join(" or "),
                quote(&self.bytes)
            )))
        }
    }

    /// Parses a JSON body as `T`, saying clearly when it is truncated or invalid.
    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, ClientError> {
        self.expect_type(&["application/json"])?;
        serde_json::from_slice(&self.bytes).map_err(|e| {
            let kind = if e.is_eof() { "truncated" } else { "invalid" };
            ClientError::Step(format!(
                "{what}: the JSON body is {kind} ({e}; {} bytes): {}",
                self.bytes.len(),
                quote(&self.bytes)
            ))
        })
    }
}

/// Sends the request `make` builds, retrying `503` and `429` within the budget,
/// and reads the answer. A status outside `expect` becomes the error line.
pub(crate) async fn send(
    progress: &dyn Progress,
    what: &str,
    make: impl Fn() -> reqwest::RequestBuilder,
    expect: &[u16],
    limit: usize,
) -> Result<Body, ClientError> {
    let mut waited = Duration::ZERO;
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 0;
    loop {
        tries += 1;
        let (client, request) = make().build_split();
        let request = request.map_err(|e| http_error(what, "cannot build the request", &e))?;
        let sent = Sent::of(&request);
        let response = client
            .execute(request)
            .await
            .map_err(|e| http_error(what, "request failed", &e))?;
        let status = response.status().as_u16();
        if status == 503 || status == 429 {
            let wait = retry_after(&response).unwrap_or(backoff);
            backoff = backoff.saturating_mul(2);
            if tries < MAX_TRIES && waited + wait <= RETRY_BUDGET {
                progress.note(&format!(
                    "{what}: HTTP {status}, retrying in {:.1} s (try {} of {MAX_TRIES})",
                    wait.as_secs_f64(),
                    tries + 1
                ));
                sent.record(progress, status, &response_type(&response), &[]);
                // Drop the body so the connection can be reused or closed.
                drop(response);
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            }
            let body = read(response, what, limit).await?;
            sent.record(progress, body.status, &body.content_type, &body.bytes);
            return Err(ClientError::Http(format!(
                "{what}: gave up after {tries} tries ({:.1} s waited): {}",
                waited.as_secs_f64(),
                describe_error(&body)
            )));
        }
        let body = read(response, what, limit).await?;
        sent.record(progress, body.status, &body.content_type, &body.bytes);
        if expect.contains(&body.status) {
            return Ok(body);
        }
        return Err(ClientError::Http(format!(
            "{what}: {}",
            describe_error(&body)
        )));
    }
}

/// What a transcript keeps of a request once it is sent.
struct Sent {
    method: String,
    url: String,
    media: Option<String>,
    body: Option<Vec<u8>>,
}

impl Sent {
    fn of(request: &reqwest::Request) -> Self {
        Self {
            method: request.method().to_string(),
            url: request.url().to_string(),
            media: request
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(media_type),
            body: request
                .body()
                .and_then(|b| b.as_bytes())
                .map(<[u8]>::to_vec),
        }
    }

    /// Hands the exchange, redacted, to the progress (a transcript, if recording).
    fn record(&self, progress: &dyn Progress, status: u16, response_type: &str, body: &[u8]) {
        progress.exchange(&Exchange::redact(&RawExchange {
            method: &self.method,
            url: &self.url,
            request_type: self.media.as_deref(),
            request: self.body.as_deref(),
            status,
            response_type,
            response: body,
        }));
    }
}

fn response_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media_type)
        .unwrap_or_default()
}

/// `Retry-After` in seconds; the HTTP-date form is not used by the service.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Reads the whole body, refusing more than `limit` bytes.
async fn read(
    mut response: reqwest::Response,
    what: &str,
    limit: usize,
) -> Result<Body, ClientError> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media_type)
        .unwrap_or_default();
    let date = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::certs::parse_http_date);
    let headers = response.headers().clone();
    if let Some(len) = response.content_length() {
        if len > limit as u64 {
            return Err(ClientError::Http(format!(
                "{what}: HTTP {status}, body of {len} bytes is over the {limit}-byte limit"
            )));
        }
    }
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > limit {
                    return Err(ClientError::Http(format!(
                        "{what}: HTTP {status}, body is over the {limit}-byte limit"
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(ClientError::Http(format!(
                    "{what}: HTTP {status}, body truncated or unreadable after {} bytes: {}",
                    bytes.len(),
                    error_chain(&e)
                )))
            }
        }
    }
    Ok(Body {
        status,
        content_type,
        date,
        bytes,
        headers,
    })
}

/// The media type of a `Content-Type` value, lower case, without parameters.
pub(crate) fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// One line for an error answer: the problem's slug, status, title, detail (and
/// remaining attempts), or the status and the start of a body that is no problem.
pub(crate) fn describe_error(body: &Body) -> String {
    let reason = reqwest::StatusCode::from_u16(body.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let is_json =
        body.content_type == PROBLEM_CONTENT_TYPE || body.content_type == "application/json";
    if is_json {
        match serde_json::from_slice::<Problem>(&body.bytes) {
            Ok(p) => {
                let slug = p
                    .type_uri
                    .strip_prefix(PROBLEM_TYPE_PREFIX)
                    .unwrap_or(&p.type_uri);
                let mut line = format!("{slug} (HTTP {} {}): {}", body.status, p.title, p.detail);
                if p.status != body.status {
                    line.push_str(&format!(" [problem says status {}]", p.status));
                }
                if let Some(n) = p.remaining_attempts {
                    line.push_str(&format!("; remaining_attempts: {n}"));
                }
                return line;
            }
            Err(e) if body.content_type == PROBLEM_CONTENT_TYPE => {
                return format!(
                    "HTTP {} {reason}, problem+json body truncated or invalid ({e}): {}",
                    body.status,
                    quote(&body.bytes)
                );
            }
            Err(_) => {}
        }
    }
    let ct = if body.content_type.is_empty() {
        "no content type"
    } else {
        &body.content_type
    };
    format!(
        "HTTP {} {reason} ({ct}): {}",
        body.status,
        quote(&body.bytes)
    )
}

/// The first characters of a body, on one line.
pub(crate) fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .take(QUOTE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > QUOTE_CHARS {
        out.push('…');
    }
    if out.trim().is_empty() {
        "(empty body)".to_owned()
    } else {
        out
    }
}

/// `what: how: the error and its sources`, as one HTTP error.
fn http_error(what: &str, how: &str, e: &dyn std::error::Error) -> ClientError {
    ClientError::Http(format!("{what}: {how}: {}", error_chain(e)))
}

/// An error and its sources on one line (reqwest hides the useful part in them).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(status: u16, ct: &str, bytes: &[u8]) -> Body {
        Body {
            status,
            content_type: ct.to_owned(),
            date: None,
            bytes: bytes.to_vec(),
            headers: Default::default(),
        }
    }

    #[test]
    fn a_problem_prints_its_slug_status_title_detail_and_attempts() {
        let b = body(
            401,
            "application/problem+json",
            br#"{"type":"urn:webra2-mock:problem:wrong-password","title":"Wrong auth password","status":401,"detail":"no","remaining_attempts":2}"#,
        );
        assert_eq!(
            describe_error(&b),
            "wrong-password (HTTP 401 Wrong auth password): no; remaining_attempts: 2"
        );
    }

    #[test]
    fn a_non_json_error_prints_status_and_the_first_200_chars() {
        let html = format!("<html>{}</html>", "x".repeat(500));
        let line = describe_error(&body(502, "text/html", html.as_bytes()));
        let quoted = line
            .strip_prefix("HTTP 502 Bad Gateway (text/html): ")
            .expect("status, reason and media type come first");
        assert_eq!(quoted, format!("<html>{}…", "x".repeat(194)));
    }

    #[test]
    fn a_json_body_cut_in_half_is_called_truncated() {
        let b = body(200, "application/json", br#"{"session":"abc","csp":"#);
        let err = b
            .json::<webra2_wire::AuthResponse>("auth")
            .expect_err("half a JSON document does not parse")
            .to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn media_type_drops_parameters_and_case() {
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }
}
