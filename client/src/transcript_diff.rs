//! `webra2-client transcript diff OLD NEW`: two transcripts compared exchange
//! by exchange and field by field, so that a team in any language can gate a
//! build on "the protocol did not change".
//!
//! Exchanges are paired by method and path template (a longest common
//! subsequence, by `similar`), so one exchange more or less shows as that,
//! not as every later exchange differing. A paired exchange is compared as
//! JSON; each differing leaf is one line with its JSON pointer.

use crate::transcript::Exchange;
use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp};
use std::fmt;

/// What differs between two transcripts.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptDiff {
    /// How many exchanges the new transcript holds.
    pub exchanges: usize,
    /// The differences, in the order of the exchanges.
    pub changes: Vec<Change>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// An exchange of the old transcript that the new one lacks.
    Removed {
        /// Its position in the old transcript, from 1.
        old: usize,
        /// `METHOD path`.
        exchange: String,
    },
    /// An exchange of the new transcript that the old one lacks.
    Added {
        /// Its position in the new transcript, from 1.
        new: usize,
        /// `METHOD path`.
        exchange: String,
    },
    /// A field of a paired exchange that differs.
    Field {
        /// Its position in the new transcript, from 1.
        new: usize,
        /// `METHOD path` (of the new one).
        exchange: String,
        /// The JSON pointer of the field in the exchange (`/status`, `/response/csp`).
        pointer: String,
        /// The old value (`None`: absent).
        old: Option<Value>,
        /// The new value (`None`: absent).
        new_value: Option<Value>,
    },
}

impl TranscriptDiff {
    /// `true` when the two transcripts record the same protocol.
    pub fn is_same(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The route an exchange is paired by: method and path template, without the query.
fn key(e: &Exchange) -> (String, String) {
    let path = e.path.split('?').next().unwrap_or_default().to_owned();
    (e.method.clone(), path)
}

fn label(e: &Exchange) -> String {
    format!("{} {}", e.method, e.path)
}

/// Compares two transcripts (see the module's description).
pub fn diff_transcripts(old: &[Exchange], new: &[Exchange]) -> TranscriptDiff {
    let old_keys: Vec<_> = old.iter().map(key).collect();
    let new_keys: Vec<_> = new.iter().map(key).collect();
    let mut changes = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    if let (Some(a), Some(b)) = (old.get(old_index + k), new.get(new_index + k)) {
                        compare_exchange(a, b, new_index + k + 1, &mut changes);
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => removed(old, old_index, old_len, &mut changes),
            DiffOp::Insert {
                new_index, new_len, ..
            } => added(new, new_index, new_len, &mut changes),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                removed(old, old_index, old_len, &mut changes);
                added(new, new_index, new_len, &mut changes);
            }
        }
    }
    TranscriptDiff {
        exchanges: new.len(),
        changes,
    }
}

fn removed(old: &[Exchange], from: usize, len: usize, out: &mut Vec<Change>) {
    for (i, e) in old.iter().enumerate().skip(from).take(len) {
        out.push(Change::Removed {
            old: i + 1,
            exchange: label(e),
        });
    }
}

fn added(new: &[Exchange], from: usize, len: usize, out: &mut Vec<Change>) {
    for (i, e) in new.iter().enumerate().skip(from).take(len) {
        out.push(Change::Added {
            new: i + 1,
            exchange: label(e),
        });
    }
}

fn compare_exchange(a: &Exchange, b: &Exchange, position: usize, out: &mut Vec<Change>) {
    let (Ok(va), Ok(vb)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return;
    };
    let mut leaves = Vec::new();
    compare_values(&va, &vb, String::new(), &mut leaves);
    out.extend(
        leaves
            .into_iter()
            .map(|(pointer, old, new_value)| Change::Field {
                new: position,
                exchange: label(b),
                pointer,
                old,
                new_value,
            }),
    );
}

/// Every leaf where `a` and `b` differ, as (pointer, old, new).
fn compare_values(
    a: &Value,
    b: &Value,
    at: String,
    out: &mut Vec<(String, Option<Value>, Option<Value>)>,
) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (ma.get(k), mb.get(k)) {
                    (Some(x), Some(y)) => compare_values(x, y, here, out),
                    (x, y) => out.push((here, x.cloned(), y.cloned())),
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) => {
            for i in 0..xa.len().max(xb.len()) {
                let here = format!("{at}/{i}");
                match (xa.get(i), xb.get(i)) {
                    (Some(x), Some(y)) => compare_values(x, y, here, out),
                    (x, y) => out.push((here, x.cloned(), y.cloned())),
                }
            }
        }
        _ if a == b => {}
        _ => out.push((at, Some(a.clone()), Some(b.clone()))),
    }
}

fn show(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    }
}

impl fmt::Display for TranscriptDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last_header: Option<usize> = None;
        for c in &self.changes {
            match c {
                Change::Removed { old, exchange } => {
                    last_header = None;
                    writeln!(f, "- exchange {old} of OLD: {exchange} (not in NEW)")?;
                }
                Change::Added { new, exchange } => {
                    last_header = None;
                    writeln!(f, "+ exchange {new} of NEW: {exchange} (not in OLD)")?;
                }
                Change::Field {
                    new,
                    exchange,
                    pointer,
                    old,
                    new_value,
                } => {
                    if last_header != Some(*new) {
                        writeln!(f, "@@ exchange {new}: {exchange}")?;
                        last_header = Some(*new);
                    }
                    writeln!(f, "  {pointer}: {} → {}", show(old), show(new_value))?;
                }
            }
        }
        writeln!(
            f,
            "the protocol differs: {} difference{}",
            self.changes.len(),
            if self.changes.len() == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ex(method: &str, path: &str, status: u16, response: Value) -> Exchange {
        Exchange {
            method: method.into(),
            path: path.into(),
            request_type: None,
            request: None,
            status,
            response_type: "application/json".into(),
            response,
        }
    }

    #[test]
    fn the_same_transcript_has_no_difference() {
        let t = vec![
            ex("GET", "/issue/{token}", 200, json!({"step": 1})),
            ex("POST", "/issue/{token}/auth", 200, json!({"csp": "x"})),
        ];
        assert!(diff_transcripts(&t, &t).is_same());
    }

    #[test]
    fn a_changed_field_an_extra_and_a_missing_exchange_are_each_one_line() {
        let old = vec![
            ex("GET", "/issue/{token}", 200, json!({"step": 1})),
            ex(
                "POST",
                "/issue/{token}/auth",
                200,
                json!({"csp": "A", "key_length": 1024}),
            ),
            ex("GET", "/ca/root.crt", 200, json!("[binary]")),
        ];
        let new = vec![
            ex("GET", "/issue/{token}", 200, json!({"step": 1})),
            ex("GET", "/healthz", 200, json!({"status": "ok"})),
            ex("POST", "/issue/{token}/auth", 200, json!({"csp": "A"})),
        ];
        let diff = diff_transcripts(&old, &new);
        assert_eq!(
            diff.changes,
            vec![
                Change::Added {
                    new: 2,
                    exchange: "GET /healthz".into()
                },
                Change::Field {
                    new: 3,
                    exchange: "POST /issue/{token}/auth".into(),
                    pointer: "/response/key_length".into(),
                    old: Some(json!(1024)),
                    new_value: None,
                },
                Change::Removed {
                    old: 3,
                    exchange: "GET /ca/root.crt".into()
                },
            ]
        );
        let text = diff.to_string();
        assert!(
            text.contains(
                "@@ exchange 3: POST /issue/{token}/auth\n  /response/key_length: 1024 → (absent)"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("the protocol differs: 3 differences\n"),
            "{text}"
        );
    }
}
