//! The administrator's side of the service: every call of the admin listener
//! (preparation, outbox, enrollments, certificates, revocation, clock, faults,
//! metrics), with the admin URL checked before anything is sent and a 404 from
//! a listener that is not the admin one explained.
//!
//! `e2e` and `reissue` call it for their administrator steps; the CLI's `admin`
//! subcommands call [`Admin::call`] and print the answer.

use crate::http::{self, Body, JSON_LIMIT};
use crate::report::{NoProgress, Progress};
use crate::ClientError;
use reqwest::header::ACCEPT;
use reqwest::{Method, Url};
use serde::Serialize;
use webra2_wire::{paths, Fingerprint};

/// The admin listener, its token, and an HTTP client for it.
#[derive(Clone)]
pub struct Admin {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Admin {
    // The token stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "[secret]"))
            .finish_non_exhaustive()
    }
}

/// Checks an admin URL: `http(s)://HOST:PORT` with no path, since every admin
/// route already starts with `/admin`. Returns it without a trailing slash.
pub fn check_admin_url(url: &str) -> Result<String, ClientError> {
    let parsed = Url::parse(url).map_err(|e| {
        ClientError::Argument(format!(
            "--admin-url {url:?} is not a URL ({e}); give the admin listener, e.g. http://127.0.0.1:8081"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ClientError::Argument(format!(
            "--admin-url {url:?} must be an http:// or https:// address of the admin listener, e.g. http://127.0.0.1:8081"
        )));
    }
    let path = parsed.path().trim_end_matches('/');
    if !path.is_empty() {
        let origin = parsed.origin().ascii_serialization();
        let hint = if path.ends_with("/admin") {
            format!(
                "every admin route already starts with /admin, so {url} would request {path}/admin/...; "
            )
        } else {
            String::new()
        };
        return Err(ClientError::Argument(format!(
            "--admin-url {url:?} has a path ({path}): {hint}give only the listener, --admin-url {origin}"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ClientError::Argument(format!(
            "--admin-url {url:?} must not carry a query or fragment"
        )));
    }
    Ok(parsed.origin().ascii_serialization())
}

impl Admin {
    /// The admin listener at `url` (checked by [`check_admin_url`]), with the
    /// bearer token it demands, if any.
    pub fn new(url: &str, token: Option<String>) -> Result<Self, ClientError> {
        Ok(Self {
            base: check_admin_url(url)?,
            token,
            client: http::plain_client()?,
        })
    }

    /// The listener's origin (`http://127.0.0.1:8081`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `path` (a route with its parameter filled in), with the token.
    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let b = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(ACCEPT, "application/json");
        match &self.token {
            Some(token) => b.bearer_auth(token),
            None => b,
        }
    }

    /// Sends `method template` (its parameter filled with `param`), with the
    /// query pairs and JSON body given, through [`http::send`] (retries,
    /// transcripts). A `404` for a route every admin listener has is explained.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send<B: Serialize + Sync + ?Sized>(
        &self,
        progress: &dyn Progress,
        method: Method,
        template: &str,
        param: Option<&str>,
        query: &[(&str, &str)],
        body: Option<&B>,
        expect: &[u16],
        limit: usize,
    ) -> Result<Body, ClientError> {
        let path = match param {
            Some(p) => paths::fill(template, p),
            None => template.to_owned(),
        };
        let mut accept: Vec<u16> = expect.to_vec();
        accept.push(404);
        let answer = http::send(
            progress,
            &format!("{method} {template}"),
            || {
                let b = self.request(method.clone(), &path).query(query);
                match body {
                    Some(json) => b.json(json),
                    None => b,
                }
            },
            &accept,
            limit,
        )
        .await?;
        if answer.status == 404 && !expect.contains(&404) {
            return Err(self.explain_404(template, &answer).await);
        }
        Ok(answer)
    }

    /// A `404`: the problem as it came, and, when the listener turns out to be
    /// the public one, what to give instead.
    async fn explain_404(&self, template: &str, answer: &Body) -> ClientError {
        let what = http::describe_error(answer);
        let public = self
            .client
            .get(format!("{}{}", self.base, paths::ROOT_FINGERPRINT))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .ok()
            .filter(|r| r.status().as_u16() == 200);
        let is_public = match public {
            Some(r) => r.json::<Fingerprint>().await.is_ok(),
            None => false,
        };
        if is_public {
            ClientError::Http(format!(
                "{template}: {what}. {} is the public listener (the issuance site), not the admin \
                 one: give --admin-url the ready line's admin= address (default http://127.0.0.1:8081)",
                self.base
            ))
        } else {
            ClientError::Http(format!("{template}: {what}"))
        }
    }

    /// One admin call as the CLI makes it: the answer's body as it came, with
    /// its media type, or the problem as an error line.
    pub async fn call(&self, call: &AdminCall) -> Result<(String, Vec<u8>), ClientError> {
        let query: Vec<(&str, &str)> = call
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = self
            .send(
                &NoProgress,
                call.method.clone(),
                call.template,
                call.param.as_deref(),
                &query,
                call.body.as_ref(),
                &[call.expect],
                JSON_LIMIT * 64,
            )
            .await?;
        Ok((answer.content_type, answer.bytes))
    }
}

/// One call of the admin API, as data: what `webra2-client admin ...` sends.
#[derive(Debug, Clone)]
pub struct AdminCall {
    /// The method.
    pub method: Method,
    /// The route template (`webra2_wire::paths`).
    pub template: &'static str,
    /// The value of the template's parameter.
    pub param: Option<String>,
    /// Query pairs.
    pub query: Vec<(String, String)>,
    /// The JSON body, from a wire type.
    pub body: Option<serde_json::Value>,
    /// The status of success.
    pub expect: u16,
}

impl AdminCall {
    /// A call of `method template` answering `expect`.
    pub fn new(method: Method, template: &'static str, expect: u16) -> Self {
        Self {
            method,
            template,
            param: None,
            query: Vec::new(),
            body: None,
            expect,
        }
    }

    /// With the template's parameter.
    pub fn param(mut self, value: impl Into<String>) -> Self {
        self.param = Some(value.into());
        self
    }

    /// With a query pair.
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    /// With a JSON body made from a wire type.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self, ClientError> {
        self.body = Some(
            serde_json::to_value(body)
                .map_err(|e| ClientError::Argument(format!("cannot encode the body: {e}")))?,
        );
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_url_is_an_origin_and_a_path_is_refused_saying_why() {
        assert_eq!(
            check_admin_url("http://127.0.0.1:8081/").expect("ok"),
            "http://127.0.0.1:8081"
        );
        let err = check_admin_url("http://127.0.0.1:8081/admin")
            .expect_err("a path")
            .to_string();
        assert!(err.contains("/admin/admin/"), "{err}");
        assert!(err.contains("--admin-url http://127.0.0.1:8081"), "{err}");
        let err = check_admin_url("127.0.0.1:8081")
            .expect_err("no scheme")
            .to_string();
        assert!(err.contains("http://127.0.0.1:8081"), "{err}");
        assert!(check_admin_url("ftp://h:1").is_err());
    }
}
