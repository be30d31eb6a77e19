//! Protocol transcripts: every exchange of a run, with secrets and everything
//! that changes from run to run redacted when it is recorded, so that two
//! transcripts differ only where the protocol did.
//!
//! A team records one against its CA build (`webra2-client e2e --transcript
//! FILE`) and compares it with the one it keeps: a changed path, status, media
//! type or JSON field shows up as a diff. This file says what one exchange
//! is and how it is redacted; the sink that collects them during a run is
//! `Recording`, beside the other progress sinks in `report.rs`.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::OnceLock;
use webra2_wire::paths;

/// One request and its answer, redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The method (`GET`, `POST`, ...).
    pub method: String,
    /// The path as a template (`/issue/{token}/auth`), with the query if any.
    pub path: String,
    /// The request's media type, if it had a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
    /// The request body: JSON with redactions, or a short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// The answer's status.
    pub status: u16,
    /// The answer's media type.
    pub response_type: String,
    /// The answer body: JSON with redactions, or a short description.
    pub response: Value,
}

/// The raw parts of one exchange, before redaction.
pub(crate) struct RawExchange<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) request_type: Option<&'a str>,
    pub(crate) request: Option<&'a [u8]>,
    pub(crate) status: u16,
    pub(crate) response_type: &'a str,
    pub(crate) response: &'a [u8],
}

impl Exchange {
    /// Redacts an exchange as it is recorded: nothing secret is ever kept.
    pub(crate) fn redact(raw: &RawExchange<'_>) -> Exchange {
        let path = path_template(raw.url);
        let mut response = redact_body(raw.response_type, raw.response);
        if is_growing_list(&path) {
            newest_only(&mut response);
        }
        Exchange {
            method: raw.method.to_owned(),
            path,
            request_type: raw.request.and(raw.request_type).map(str::to_owned),
            request: raw
                .request
                .map(|body| redact_body(raw.request_type.unwrap_or_default(), body)),
            status: raw.status,
            response_type: raw.response_type.to_owned(),
            response,
        }
    }
}

/// A list of exchanges as pretty JSON, the form `--transcript` writes.
pub(crate) fn to_json(exchanges: &[Exchange]) -> String {
    serde_json::to_string_pretty(exchanges).unwrap_or_else(|_| "[]".into()) + "\n"
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants of this file, checked by the tests below.
    #[allow(clippy::expect_used)]
    cell.get_or_init(|| Regex::new(pattern).expect("a valid constant pattern"))
}

/// The routes with a parameter, named in transcripts by their template.
const TEMPLATES: [&str; 10] = [
    paths::ISSUE,
    paths::ISSUE_AUTH,
    paths::ISSUE_CSR,
    paths::ISSUE_PKCS12,
    paths::ISSUE_CERTIFICATE,
    paths::ISSUE_STEP3,
    paths::STATIC_FILE,
    paths::ADMIN_ENROLLMENT,
    paths::ADMIN_CERTIFICATE,
    paths::ADMIN_REVOKE,
];

/// The admin lists that grow with every run against a long-running server
/// (the outbox, a user's certificates), newest first.
const GROWING_LISTS: [&str; 2] = [paths::ADMIN_MAILS, paths::ADMIN_CERTIFICATES];

fn is_growing_list(path: &str) -> bool {
    let route = path.split('?').next().unwrap_or_default();
    GROWING_LISTS.contains(&route)
}

/// A run reads only the newest element of such a list, so only that is
/// recorded: two runs against one server then record the same answer.
fn newest_only(response: &mut Value) {
    if let Value::Array(items) = response {
        items.truncate(1);
    }
}

/// `http://host:port/issue/TOKEN/auth?x=y` → `/issue/{token}/auth?x=y`: the
/// route's template from `webra2_wire::paths`, else the path, redacted.
fn path_template(url: &str) -> String {
    let without_origin = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => url,
    };
    let (path, query) = match without_origin.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (without_origin, None),
    };
    let mut template = match TEMPLATES.iter().find(|t| fits(t, path)) {
        Some(t) => (*t).to_owned(),
        None => redact_text(path),
    };
    if let Some(q) = query {
        template.push('?');
        template.push_str(&redact_text(q));
    }
    template
}

/// Whether `path` is an instance of `template` (`{...}` segments match any one segment).
fn fits(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts == ps || (ts.starts_with('{') && !ps.is_empty()) => {}
            _ => return false,
        }
    }
}

/// JSON bodies are redacted field by field; anything else is described.
fn redact_body(media: &str, body: &[u8]) -> Value {
    if media.ends_with("json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(mut v) => {
                redact_value(&mut v, None);
                v
            }
            Err(_) => Value::from(format!("[invalid JSON, {} bytes]", body.len())),
        }
    } else if media == "application/x-pem-file" || media == "text/plain" {
        let text = String::from_utf8_lossy(body);
        let mut labels: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
            .collect();
        if labels.is_empty() {
            Value::from(format!("[text, {} lines]", text.lines().count()))
        } else {
            labels.dedup();
            Value::from(format!("[PEM: {}]", pem_summary(&text)))
        }
    } else if media.starts_with("text/html") {
        Value::from("[HTML page]")
    } else if body.is_empty() {
        Value::Null
    } else {
        Value::from("[binary]")
    }
}

fn pem_summary(text: &str) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for label in text
        .lines()
        .filter_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
    {
        match counts.iter_mut().find(|(l, _)| l == label) {
            Some((_, n)) => *n += 1,
            None => counts.push((label.to_owned(), 1)),
        }
    }
    counts
        .iter()
        .map(|(l, n)| format!("{n} {l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Field names whose values are secrets: replaced whole.
const SECRET_FIELDS: [&str; 5] = ["auth_password", "pin", "session", "token", "admin_token"];

fn redact_value(v: &mut Value, key: Option<&str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                redact_value(child, Some(k));
            }
        }
        Value::Array(items) => {
            for item in items {
                redact_value(item, key);
            }
        }
        Value::String(s) => {
            let k = key.unwrap_or_default();
            *s = if SECRET_FIELDS.contains(&k) {
                "[secret]".into()
            } else if k == "enrollment_id" || k == "id" {
                "[id]".into()
            } else {
                redact_text(s)
            };
        }
        _ => {}
    }
}

/// Replaces what changes from run to run inside free text: origins, URL tokens,
/// serials, ids and instants.
fn redact_text(text: &str) -> String {
    static ORIGIN: OnceLock<Regex> = OnceLock::new();
    static TOKEN: OnceLock<Regex> = OnceLock::new();
    static SERIAL: OnceLock<Regex> = OnceLock::new();
    static ID: OnceLock<Regex> = OnceLock::new();
    static INSTANT: OnceLock<Regex> = OnceLock::new();
    static LOCAL: OnceLock<Regex> = OnceLock::new();
    let t = re(&ORIGIN, r"https?://[A-Za-z0-9.\-\[\]:]+").replace_all(text, "[origin]");
    let t = re(&TOKEN, r"/issue/[A-Za-z0-9_\-]{16,}").replace_all(&t, "/issue/[token]");
    let t = re(&SERIAL, r"\b[0-9A-F]{32,40}\b").replace_all(&t, "[serial]");
    let t = re(&ID, r"\b[0-9a-f]{32}\b").replace_all(&t, "[id]");
    let t = re(
        &INSTANT,
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
    )
    .replace_all(&t, "[time]");
    let t = re(&LOCAL, r"\d{4}/\d{2}/\d{2}( \d{2}:\d{2})?").replace_all(&t, "[time]");
    t.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_become_templates_and_origins_vanish() {
        assert_eq!(
            path_template("http://127.0.0.1:4242/issue/AbC_dEf-0123456789xyz/auth"),
            "/issue/{token}/auth"
        );
        assert_eq!(
            path_template("http://h:1/admin/mails?to=u@example.test"),
            "/admin/mails?to=u@example.test"
        );
        assert_eq!(
            path_template("http://h:1/admin/certificates/0A1B/revoke"),
            "/admin/certificates/{serial}/revoke"
        );
        assert_eq!(path_template("http://h:1/ca/root.crt"), "/ca/root.crt");
        assert_eq!(
            path_template("http://h:1/admin/certificates?user_id=U0001"),
            "/admin/certificates?user_id=U0001"
        );
        assert_eq!(
            path_template("http://h:1/issue/AbC_dEf-0123456789xyz/elsewhere"),
            "/issue/[token]/elsewhere",
            "an unknown route keeps no token"
        );
    }

    #[test]
    fn secrets_serials_ids_and_times_are_redacted_in_json() {
        let body = json!({
            "auth_password": "hunter2", "session": "abc", "pin": "1234",
            "enrollment_id": "3f0c", "serial": "6C5FDD90F3AB8E6F831D8C0C1F558DEE",
            "one_time_url": "http://127.0.0.1:9/issue/OgEbcIZ3Zpx_8qgQwzwASLaRW_m51d32VYqzwO01h9o",
            "not_after": "2028-11-25T09:00:00+09:00", "key_length": 1024,
            "body": "有効期限: 2026/12/25 09:00 URL: http://x:1/issue/OgEbcIZ3Zpx_8qgQwzwASLaRW"
        });
        let bytes = serde_json::to_vec(&body).expect("json");
        let v = redact_body("application/json", &bytes);
        assert_eq!(
            v,
            json!({
                "auth_password": "[secret]", "session": "[secret]", "pin": "[secret]",
                "enrollment_id": "[id]", "serial": "[serial]",
                "one_time_url": "[origin]/issue/[token]",
                "not_after": "[time]", "key_length": 1024,
                "body": "有効期限: [time] URL: [origin]/issue/[token]"
            })
        );
        let text = serde_json::to_string(&v).expect("json");
        assert!(!text.contains("hunter2") && !text.contains("OgEbcIZ3"));
    }

    #[test]
    fn of_a_growing_list_only_the_newest_element_is_recorded() {
        let mail =
            |n: u32| json!({"id": format!("{n:032x}"), "to": "u0001@example.test", "subject": "s"});
        let record = |count: u32| {
            let list: Vec<Value> = (0..count).rev().map(mail).collect();
            let body = serde_json::to_vec(&list).expect("json");
            Exchange::redact(&RawExchange {
                method: "GET",
                url: "http://h:1/admin/mails?to=u0001@example.test",
                request_type: None,
                request: None,
                status: 200,
                response_type: "application/json",
                response: &body,
            })
        };
        assert_eq!(record(1), record(5), "the outbox grew, the record did not");
        assert_eq!(
            record(3).response,
            json!([{"id": "[id]", "to": "u0001@example.test", "subject": "s"}])
        );
    }

    #[test]
    fn other_bodies_are_described_not_kept() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
        assert_eq!(
            redact_body("application/x-pem-file", pem),
            json!("[PEM: 2 CERTIFICATE]")
        );
        assert_eq!(
            redact_body("application/pkix-cert", &[0x30, 0x82]),
            json!("[binary]")
        );
        assert_eq!(redact_body("text/html", b"<p>"), json!("[HTML page]"));
        assert_eq!(
            redact_body("application/json", b"{\"a\":"),
            json!("[invalid JSON, 5 bytes]")
        );
    }
}
