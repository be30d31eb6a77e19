//! `cargo bench -p webra2-mock`: the store's share of one issuance, on a SQLite
//! file as the service runs it: the Step 2 claim-and-record transaction, and the
//! reads of Step 2 (the enrollment) and of the certificate download.

// criterion_group! and criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Instant;
use time::OffsetDateTime;
use webra2_mock::store::{self, CertificateRecord, MailRecord, NewEnrollment};
use webra2_wire::Kind;

/// A prepared enrollment, `n`-th of the run, as the admin API records it.
fn enrollment(n: u64, now: OffsetDateTime) -> (NewEnrollment, MailRecord) {
    let id = format!(
        "enr-{n:016x}-{:016x}",
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    );
    let token = format!(
        "tok{:032x}",
        u128::from(n).wrapping_mul(0x2545_F491_4F6C_DD1D)
    );
    let e = NewEnrollment {
        id: id.clone(),
        token: token.clone(),
        user_id: format!("BENCH{n:05}"),
        email: format!("bench{n:05}@example.test"),
        kind: Kind::New,
        password_hash:
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
                .into(),
        mail_sent_at: now,
        url_expires_at: now + time::Duration::days(30),
        renews_serial: None,
        revoke_previous: false,
        created_at: now,
    };
    let mail = MailRecord {
        id: format!("mail-{id}"),
        enrollment_id: id,
        to: e.email.clone(),
        subject: "証明書発行のお知らせ".into(),
        body: "x".repeat(600),
        one_time_url: format!("http://127.0.0.1:8080/issue/{token}"),
        sent_at: now,
    };
    (e, mail)
}

fn certificate(e: &NewEnrollment, n: u64, now: OffsetDateTime) -> CertificateRecord {
    CertificateRecord {
        serial: format!(
            "{:032X}",
            u128::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
        ),
        user_id: e.user_id.clone(),
        enrollment_id: e.id.clone(),
        // About the size of an RSA-1024 leaf signed by the RSA-2048 root.
        der: vec![0x30; 900],
        not_before: now,
        not_after: now + time::Duration::days(730),
        revoked_at: None,
        reason: None,
    }
}

fn store(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("no runtime ({e}); nothing to measure"),
    };
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return eprintln!("no temporary directory ({e}); nothing to measure"),
    };
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let Ok(store) = rt.block_on(store::open(&url)) else {
        return eprintln!("cannot open {url}; nothing to measure");
    };
    let now = OffsetDateTime::now_utc();
    let mut next = 0u64;
    let mut prepare = |k: u64| {
        let made: Vec<_> = (0..k)
            .map(|_| {
                next += 1;
                enrollment(next, now)
            })
            .collect();
        rt.block_on(async {
            for (e, mail) in &made {
                store.create_enrollment(e, mail).await.expect("prepare");
            }
        });
        made.into_iter().map(|(e, _)| e).collect::<Vec<_>>()
    };
    // A store that already holds a day's worth of work, as under load.
    let mut issued = prepare(5_000);
    rt.block_on(async {
        for (n, e) in issued.iter().enumerate() {
            let cert = certificate(e, n as u64, now);
            store.issue(&e.id, &cert, now, None).await.expect("issue");
        }
    });

    let mut serials = issued.len() as u64;
    c.bench_function("store_issue_transaction", |b| {
        b.iter_custom(|iters| {
            let ready = prepare(iters);
            let certs: Vec<_> = ready
                .iter()
                .map(|e| {
                    serials += 1;
                    certificate(e, serials, now)
                })
                .collect();
            let t = Instant::now();
            rt.block_on(async {
                for (e, cert) in ready.iter().zip(&certs) {
                    store.issue(&e.id, cert, now, None).await.expect("issue");
                }
            });
            let took = t.elapsed();
            issued.extend(ready);
            took
        })
    });
    let tokens: Vec<String> = issued.iter().map(|e| e.token.clone()).collect();
    let mut i = 0;
    c.bench_function("store_download_read", |b| {
        b.iter(|| {
            i = (i + 1) % tokens.len();
            rt.block_on(store.download_by_token(&tokens[i]))
        })
    });
    c.bench_function("store_enrollment_read", |b| {
        b.iter(|| {
            i = (i + 1) % tokens.len();
            rt.block_on(store.enrollment_by_token(&tokens[i]))
        })
    });
}

criterion_group!(benches, store);
criterion_main!(benches);
