//! The Prometheus registry (text format 0.0.4): a small hand-made registry of
//! the few series this service has. The middleware that feeds it and the
//! `GET /metrics` handler are the HTTP side, in `http/observe.rs`.
//!
//! Hand-made rather than `prometheus-client`: the service has six series with
//! fixed label sets, the text format is a page of code, and the output stays
//! byte-for-byte under the project's control (tests read it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use webra2_wire::{paths, ProblemKind};

/// The request latency histogram's upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The Prometheus text format's media type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Per bucket of [`BUCKETS`], not cumulative (summed when rendered).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(count) = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .and_then(|i| self.counts.get_mut(i))
        {
            *count += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, method, status) → count.
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → latency.
    latency: BTreeMap<String, Histogram>,
    /// problem slug → count.
    problems: BTreeMap<&'static str, u64>,
    /// `csr` or `pkcs12` → count.
    issuances: BTreeMap<&'static str, u64>,
    enrollments: u64,
    /// (transport, result) → count.
    mails: BTreeMap<(&'static str, &'static str), u64>,
    /// fault kind → count.
    faults: BTreeMap<&'static str, u64>,
    /// OCSP answer (`good`, `revoked`, `unknown`, or a response status) → count.
    ocsp: BTreeMap<&'static str, u64>,
    /// Who read the deployment's controls (`request` or `lease`) → count.
    controls_reads: BTreeMap<&'static str, u64>,
}

/// The registry of one service instance.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts one injected fault.
    pub fn fault_injected(&self, kind: &'static str) {
        self.with(|m| *m.faults.entry(kind).or_default() += 1);
    }

    /// Counts one OCSP answer: `good`, `revoked` or `unknown` per certificate
    /// asked about, or the response status of an unsuccessful response.
    pub fn ocsp_answered(&self, answer: &'static str) {
        self.with(|m| *m.ocsp.entry(answer).or_default() += 1);
    }

    /// Counts one read of the deployment's controls on a shared store: by a
    /// request (this replica held no lease) or by the lease's keeper.
    pub fn controls_read(&self, by: &'static str) {
        self.with(|m| *m.controls_reads.entry(by).or_default() += 1);
    }

    /// Counts one SMTP delivery (`sent` or `failed`).
    pub fn mail_sent(&self, result: &'static str) {
        self.with(|m| *m.mails.entry(("smtp", result)).or_default() += 1);
    }

    /// Counts one answered request: by route template (never by URI: a
    /// one-time URL is a secret), method and status, its latency in seconds,
    /// and the problem it answered with.
    pub fn request(
        &self,
        route: &str,
        method: &str,
        status: u16,
        secs: f64,
        problem: Option<ProblemKind>,
    ) {
        self.with(|m| {
            *m.requests
                .entry((route.to_owned(), method.to_owned(), status))
                .or_default() += 1;
            m.latency.entry(route.to_owned()).or_default().observe(secs);
            if let Some(kind) = problem {
                *m.problems.entry(kind.slug()).or_default() += 1;
            }
            if status == 201 && method == "POST" {
                match route {
                    paths::ISSUE_CSR => *m.issuances.entry("csr").or_default() += 1,
                    paths::ISSUE_PKCS12 => *m.issuances.entry("pkcs12").or_default() += 1,
                    paths::ADMIN_CERTIFICATES => *m.issuances.entry("factory").or_default() += 1,
                    paths::ADMIN_ENROLLMENTS => {
                        m.enrollments += 1;
                        *m.mails.entry(("outbox", "recorded")).or_default() += 1;
                    }
                    _ => {}
                }
            }
        });
    }

    /// The registry in the Prometheus text format.
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            family(
                &mut out,
                "webra2_issuances_total",
                "counter",
                "Certificates issued, by path (csr or pkcs12; factory for POST /admin/certificates).",
            );
            for (method, n) in &m.issuances {
                let _ = writeln!(out, "webra2_issuances_total{{method=\"{method}\"}} {n}");
            }
            family(
                &mut out,
                "webra2_enrollments_prepared_total",
                "counter",
                "Enrollments prepared through the admin API.",
            );
            let _ = writeln!(out, "webra2_enrollments_prepared_total {}", m.enrollments);
            family(
                &mut out,
                "webra2_mails_total",
                "counter",
                "Issuance mails: recorded in the outbox, sent or failed over SMTP.",
            );
            for ((transport, result), n) in &m.mails {
                let _ = writeln!(
                    out,
                    "webra2_mails_total{{transport=\"{transport}\",result=\"{result}\"}} {n}"
                );
            }
            family(
                &mut out,
                "webra2_problems_total",
                "counter",
                "Error answers, by problem type slug.",
            );
            for (slug, n) in &m.problems {
                let _ = writeln!(out, "webra2_problems_total{{type=\"{slug}\"}} {n}");
            }
            family(
                &mut out,
                "webra2_faults_injected_total",
                "counter",
                "Requests an injected fault answered or changed, by fault kind.",
            );
            for (kind, n) in &m.faults {
                let _ = writeln!(out, "webra2_faults_injected_total{{kind=\"{kind}\"}} {n}");
            }
            family(
                &mut out,
                "webra2_ocsp_answers_total",
                "counter",
                "OCSP answers: good, revoked or unknown per certificate asked about, or the response status of an unsuccessful response.",
            );
            for (answer, n) in &m.ocsp {
                let _ = writeln!(out, "webra2_ocsp_answers_total{{answer=\"{answer}\"}} {n}");
            }
            family(
                &mut out,
                "webra2_controls_reads_total",
                "counter",
                "Reads of the deployment's clock and faults on a shared store: by a request (no lease held) or by the lease's keeper.",
            );
            for (by, n) in &m.controls_reads {
                let _ = writeln!(out, "webra2_controls_reads_total{{by=\"{by}\"}} {n}");
            }
            family(
                &mut out,
                "webra2_http_requests_total",
                "counter",
                "HTTP requests, by route template, method and status.",
            );
            for ((route, method, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "webra2_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
            family(
                &mut out,
                "webra2_http_request_duration_seconds",
                "histogram",
                "HTTP request latency, by route template.",
            );
            for (route, h) in &m.latency {
                let route = escape(route);
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(h.counts) {
                    cumulative += n;
                    let _ = writeln!(
                        out,
                        "webra2_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "webra2_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     webra2_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     webra2_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
            out
        })
    }
}

/// A metric family's `HELP` and `TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format needs it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_its_counter_and_cumulative_buckets() {
        let m = Metrics::new();
        m.request("/issue/{token}/csr", "POST", 201, 0.02, None);
        m.request(
            "/issue/{token}/csr",
            "POST",
            422,
            0.3,
            Some(ProblemKind::KeyPolicy),
        );
        let text = m.render();
        assert!(
            text.contains("webra2_issuances_total{method=\"csr\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("webra2_problems_total{type=\"key-policy\"} 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "webra2_http_request_duration_seconds_bucket{route=\"/issue/{token}/csr\",le=\"0.025\"} 1\n"
        ));
        assert!(text.contains(
            "webra2_http_request_duration_seconds_bucket{route=\"/issue/{token}/csr\",le=\"0.5\"} 2\n"
        ));
        assert!(text.contains(
            "webra2_http_request_duration_seconds_count{route=\"/issue/{token}/csr\"} 2\n"
        ));
    }
}
