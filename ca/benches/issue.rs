//! `cargo bench -p webra2-ca`: the inner pieces of one issuance, the figures
//! `webra2-bench` compares the service against.

// criterion_group! and criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use time::OffsetDateTime;
use webra2_ca::{parse_csr, Ca, IssueRequest, Profile, Root};

const CSR: &[u8] = include_bytes!("../../fixtures/csr/rsa1024.csr.pem");

fn issue(c: &mut Criterion) {
    let (Some(profile), Ok(request)) = (Profile::builtin("webra2"), parse_csr(CSR)) else {
        eprintln!("the webra2 profile or the fixture CSR is unusable; nothing to measure");
        return;
    };
    let ca = Ca::new(Root::fixture(), profile, "http://127.0.0.1/ca/crl");
    let now = OffsetDateTime::now_utc();
    let req = IssueRequest {
        spki_der: &request.spki_der,
        user_id: "BENCH00001",
        email: "bench00001@example.test",
        mail_sent_at: now,
        now,
    };
    c.bench_function("parse_csr_rsa1024", |b| b.iter(|| parse_csr(CSR)));
    c.bench_function("issue_rsa2048_root", |b| b.iter(|| ca.issue(&req)));
    c.bench_function("verify_csr_and_issue", |b| {
        b.iter(|| {
            parse_csr(CSR).map(|r| {
                ca.issue(&IssueRequest {
                    spki_der: &r.spki_der,
                    ..req.clone()
                })
            })
        })
    });
}

criterion_group!(benches, issue);
criterion_main!(benches);
