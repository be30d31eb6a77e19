//! The report of a run: one [`Step`] per point of the manual, and the
//! [`Progress`] sinks that show steps as they finish or record the run's
//! exchanges as a transcript.

use crate::transcript::{self, Exchange};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;
use time::OffsetDateTime;

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The step did what the manual says.
    Pass,
    /// The step failed; the detail says why.
    Fail,
    /// The step could not be checked (e.g. no user id given); not a failure.
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The manual's numbering (`1`, `2`, `3-1`, `3-A`, `4`).
    pub id: String,
    /// What the step is, in the manual's words.
    pub title: String,
    /// PASS, FAIL or SKIP.
    pub status: Status,
    /// What was seen, or why it failed or was skipped.
    pub detail: String,
    /// How long the step took.
    pub elapsed_ms: u64,
}

impl Step {
    /// The step as one terminal line: `[3-A] 発行先 ... PASS U0001`.
    pub fn line(&self) -> String {
        if self.detail.is_empty() {
            format!("[{}] {} ... {}", self.id, self.title, self.status)
        } else {
            format!(
                "[{}] {} ... {} {}",
                self.id, self.title, self.status, self.detail
            )
        }
    }
}

/// The whole run, as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `true` when no step failed (skipped steps do not count as failures).
    pub ok: bool,
    /// Every step, in the order they ran.
    pub steps: Vec<Step>,
    /// The serial of the certificate issued, once known (upper-case hex).
    pub serial: Option<String>,
    /// The user id the run was for, if known.
    pub user_id: Option<String>,
    /// The SHA-1 fingerprint of the root downloaded, in five groups.
    pub root_sha1: Option<String>,
    /// The certificate's notBefore.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    /// The certificate's notAfter.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    /// The serial of the certificate this run replaced (renewal or re-issue), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_serial: Option<String>,
    /// The store directory.
    pub store: Option<String>,
    /// The PIN that protects the installed key, when the run chose it (`e2e`
    /// without `--pin`); a PIN the caller gave is never repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// How long the whole run took.
    pub elapsed_ms: u64,
}

impl Report {
    /// The step with this id, if it ran.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// Where steps and progress notes go while a run is under way.
pub trait Progress: Send + Sync {
    /// A step has finished.
    fn step(&self, s: &Step);
    /// Something is taking a while (e.g. generating an RSA key).
    fn note(&self, msg: &str);
    /// An HTTP exchange has finished (already redacted); transcripts record it.
    fn exchange(&self, _exchange: &Exchange) {}
}

/// Shows nothing (for `--json` and for tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn step(&self, _s: &Step) {}
    fn note(&self, _msg: &str) {}
}

/// Prints each step as a line on stdout and notes on stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalProgress;

impl Progress for TerminalProgress {
    fn step(&self, s: &Step) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not abort the run.
        let _ = writeln!(out, "{}", s.line());
    }

    fn note(&self, msg: &str) {
        let _ = writeln!(std::io::stderr().lock(), "  ... {msg}");
    }
}

/// A [`Progress`] that records every exchange and passes everything on.
pub struct Recording<'a> {
    inner: &'a dyn Progress,
    exchanges: Mutex<Vec<Exchange>>,
}

impl<'a> Recording<'a> {
    /// Records while forwarding steps and notes to `inner`.
    pub fn new(inner: &'a dyn Progress) -> Self {
        Self {
            inner,
            exchanges: Mutex::new(Vec::new()),
        }
    }

    /// The exchanges so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .map(|e| e.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The transcript as pretty JSON, the form `--transcript` writes.
    pub fn to_json(&self) -> String {
        transcript::to_json(&self.exchanges())
    }
}

impl Progress for Recording<'_> {
    fn step(&self, s: &Step) {
        self.inner.step(s);
    }

    fn note(&self, msg: &str) {
        self.inner.note(msg);
    }

    fn exchange(&self, exchange: &Exchange) {
        match self.exchanges.lock() {
            Ok(mut e) => e.push(exchange.clone()),
            Err(poisoned) => poisoned.into_inner().push(exchange.clone()),
        }
        self.inner.exchange(exchange);
    }
}

/// Collects steps for a run and forwards them to a [`Progress`].
pub(crate) struct Recorder<'p> {
    progress: &'p dyn Progress,
    started: Instant,
    step_started: Instant,
    pub(crate) report: Report,
}

impl<'p> Recorder<'p> {
    pub(crate) fn new(progress: &'p dyn Progress) -> Self {
        let now = Instant::now();
        Self {
            progress,
            started: now,
            step_started: now,
            report: Report {
                ok: true,
                steps: Vec::new(),
                serial: None,
                user_id: None,
                root_sha1: None,
                not_before: None,
                not_after: None,
                previous_serial: None,
                store: None,
                pin: None,
                elapsed_ms: 0,
            },
        }
    }

    /// Starts timing the next step.
    pub(crate) fn begin(&mut self) {
        self.step_started = Instant::now();
    }

    pub(crate) fn note(&self, msg: &str) {
        self.progress.note(msg);
    }

    pub(crate) fn progress(&self) -> &'p dyn Progress {
        self.progress
    }

    /// Records a step that started at the last [`Recorder::begin`].
    pub(crate) fn record(
        &mut self,
        id: &str,
        title: &str,
        status: Status,
        detail: impl Into<String>,
    ) {
        let step = Step {
            id: id.to_owned(),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            elapsed_ms: millis(self.step_started.elapsed()),
        };
        if status == Status::Fail {
            self.report.ok = false;
        }
        self.progress.step(&step);
        self.report.steps.push(step);
        self.step_started = Instant::now();
    }

    pub(crate) fn pass(&mut self, id: &str, title: &str, detail: impl Into<String>) {
        self.record(id, title, Status::Pass, detail);
    }

    pub(crate) fn fail(&mut self, id: &str, title: &str, detail: impl Into<String>) {
        self.record(id, title, Status::Fail, detail);
    }

    pub(crate) fn skip(&mut self, id: &str, title: &str, detail: impl Into<String>) {
        self.record(id, title, Status::Skip, detail);
    }

    /// Records PASS or FAIL from a result; a failure's detail is its error's text.
    pub(crate) fn outcome<T, E: fmt::Display>(
        &mut self,
        id: &str,
        title: &str,
        result: Result<T, E>,
        detail: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                let d = detail(&value);
                self.pass(id, title, d);
                Some(value)
            }
            Err(reason) => {
                self.fail(id, title, reason.to_string());
                None
            }
        }
    }

    pub(crate) fn finish(mut self) -> Report {
        self.report.elapsed_ms = millis(self.started.elapsed());
        self.report
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_has_the_documented_shape_and_round_trips() {
        let mut rec = Recorder::new(&NoProgress);
        rec.pass("1", "認証", "ok");
        rec.skip("3-A", "発行先", "no user id given");
        rec.report.serial = Some("0A".to_owned());
        let report = rec.finish();
        assert!(report.ok, "a skipped step is no failure");
        let v = serde_json::to_value(&report).expect("serialises");
        assert_eq!(v["ok"], true);
        assert_eq!(v["steps"][1]["status"], "skip");
        assert_eq!(v["steps"][0]["id"], "1");
        for key in ["title", "detail", "elapsed_ms"] {
            assert!(v["steps"][0].get(key).is_some(), "{key}");
        }
        for key in [
            "serial",
            "user_id",
            "root_sha1",
            "not_before",
            "not_after",
            "store",
            "elapsed_ms",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let back: Report = serde_json::from_value(v).expect("deserialises");
        assert_eq!(back, report);
    }

    #[test]
    fn one_failed_step_makes_the_report_fail() {
        let mut rec = Recorder::new(&NoProgress);
        rec.pass("1", "認証", "");
        rec.fail("2", "鍵生成", "no");
        let report = rec.finish();
        assert!(!report.ok);
        assert_eq!(report.steps[1].line(), "[2] 鍵生成 ... FAIL no");
        assert_eq!(report.steps[0].line(), "[1] 認証 ... PASS");
    }
}
