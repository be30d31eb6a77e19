//! Waiting for a listener that is still starting: `--wait SECONDS` and the
//! `wait` command poll `GET /healthz` until the listener answers.

use crate::{http, ClientError};
use reqwest::Url;
use std::time::{Duration, Instant};
use webra2_wire::paths;

/// How often a starting listener is asked again.
const POLL: Duration = Duration::from_millis(200);

/// The origin (`http://host:port`) of any URL of a listener.
pub fn origin_of(url: &str) -> Result<String, ClientError> {
    let parsed = Url::parse(url)
        .map_err(|e| ClientError::Argument(format!("{url:?} is not a URL ({e})")))?;
    if parsed.host().is_none() {
        return Err(ClientError::Argument(format!("{url:?} names no host")));
    }
    Ok(parsed.origin().ascii_serialization())
}

/// Polls `GET /healthz` at the listener that serves `url` until it answers, for
/// at most `timeout`. Any answer but `503` counts as up (the listener is bound
/// and serving); a refused or reset connection, a timeout or a `503` is asked
/// again. Returns how long it waited.
pub async fn wait_until_up(url: &str, timeout: Duration) -> Result<Duration, ClientError> {
    let origin = origin_of(url)?;
    let client = http::plain_client()?;
    let health = format!("{origin}{}", paths::HEALTHZ);
    let started = Instant::now();
    loop {
        let last = match client
            .get(&health)
            .timeout(POLL.max(Duration::from_secs(2)))
            .send()
            .await
        {
            Ok(r) if r.status().as_u16() != 503 => return Ok(started.elapsed()),
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => http::error_chain(&e),
        };
        if started.elapsed() + POLL > timeout {
            return Err(ClientError::Http(format!(
                "{origin} did not answer {} within {} s (last: {last}); is webra2-mock serve running there?",
                paths::HEALTHZ,
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_a_one_time_url_is_its_listener() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/issue/abc").expect("ok"),
            "http://127.0.0.1:8080"
        );
        assert!(origin_of("not a url").is_err());
    }

    #[tokio::test]
    async fn nobody_listening_is_an_error_that_names_the_listener_after_the_timeout() {
        // A port that was free a moment ago: nothing answers there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let err = wait_until_up(&url, Duration::from_millis(700))
            .await
            .expect_err("nothing listens")
            .to_string();
        assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
        assert!(err.contains(&url) && err.contains("/healthz"), "{err}");
    }
}
