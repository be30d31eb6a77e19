//! `cargo bench -p webra2-bench`: one argon2 verification with the service's own
//! parameters and code, the floor under Step 1.

// criterion_group! and criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};

fn verify(c: &mut Criterion) {
    let Ok(phc) = webra2_mock::secrets::hash_password("bench-password") else {
        eprintln!("argon2 hashing failed; nothing to measure");
        return;
    };
    c.bench_function("argon2_verify_service_parameters", |b| {
        b.iter(|| webra2_mock::secrets::verify_password("bench-password", &phc))
    });
}

criterion_group! {
    name = benches;
    // Each verification takes tens of milliseconds: a few samples say enough.
    config = Criterion::default().sample_size(10);
    targets = verify
}
criterion_main!(benches);
