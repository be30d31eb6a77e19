//! One place that makes a report or transcript deterministic for a snapshot:
//! known strings (URLs with ports, store paths, user secrets) and patterns
//! (hex serials, ports, tokens, ids, instants, durations) become placeholders.

use regex::Regex;
use serde_json::Value;

/// Replaces what changes from run to run with stable placeholders.
#[derive(Debug, Default)]
pub struct Redactor {
    known: Vec<(String, String)>,
    patterns: Vec<(Regex, String)>,
}

impl Redactor {
    /// A redactor with the patterns every test needs: elapsed times, serials and
    /// other long hex, one-time URL tokens, ports, RFC 3339 instants and JST dates.
    pub fn new() -> Self {
        Self::default()
            .pattern(r#""elapsed_ms":\s*\d+"#, r#""elapsed_ms":"[ms]""#)
            .pattern(r"\(\d+ ms\)", "([ms])")
            .pattern(r"/issue/[A-Za-z0-9_-]{16,}", "/issue/[token]")
            .pattern(r"\b[0-9A-F]{8}( [0-9A-F]{8}){4,7}\b", "[fingerprint]")
            .pattern(r"\b[0-9A-Fa-f]{24,40}\b", "[hex]")
            .pattern(r"enrollment [0-9a-zA-Z_-]{8,}", "enrollment [id]")
            .pattern(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                "[instant]",
            )
            .pattern(r"\d{4}/\d\d/\d\d( \d\d:\d\d(:\d\d)?)?", "[date]")
            .pattern(r"\b\d+ bytes\b", "[n] bytes")
            .pattern(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]")
            .pattern(r"localhost:\d+", "localhost:[port]")
    }

    /// Replaces every occurrence of `value` with `placeholder` (before the patterns run).
    pub fn known(mut self, value: impl Into<String>, placeholder: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.known.push((value, placeholder.into()));
        }
        self
    }

    /// Replaces every match of the regular expression `re` with `placeholder`.
    pub fn pattern(mut self, re: &str, placeholder: impl Into<String>) -> Self {
        let re = Regex::new(re).unwrap_or_else(|e| panic!("redaction pattern {re:?}: {e}"));
        self.patterns.push((re, placeholder.into()));
        self
    }

    /// The text with every known string, then every pattern, replaced.
    pub fn text(&self, text: &str) -> String {
        // Longest first, so a path is replaced before a prefix of it.
        let mut known: Vec<&(String, String)> = self.known.iter().collect();
        known.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        let mut out = text.to_owned();
        for (value, placeholder) in known {
            out = out.replace(value.as_str(), placeholder);
        }
        for (re, placeholder) in &self.patterns {
            out = re.replace_all(&out, placeholder.as_str()).into_owned();
        }
        out
    }

    /// A JSON value redacted through its text form.
    pub fn json(&self, value: &Value) -> Value {
        let text = serde_json::to_string(value).unwrap_or_else(|e| panic!("JSON: {e}"));
        serde_json::from_str(&self.text(&text)).unwrap_or_else(|e| panic!("redacted JSON: {e}"))
    }
}

#[test]
fn redaction_replaces_known_strings_first_then_patterns() {
    let r = Redactor::new().known("/tmp/abc/store", "[store]");
    let got = r.text(
        r#"{"elapsed_ms": 17} /tmp/abc/store/personal/0A1B2C3D4E5F60718293A4B5C6D7E8F9.crt.pem http://127.0.0.1:40123/issue/AbCdEfGhIjKlMnOpQrStUv 2026-11-25T09:00:00+09:00"#,
    );
    assert_eq!(
        got,
        r#"{"elapsed_ms":"[ms]"} [store]/personal/[hex].crt.pem http://127.0.0.1:[port]/issue/[token] [instant]"#
    );
}
