//! One issuance against an in-process MockCa with an ephemeral root, walked
//! by webra2-client's e2e, from a crate outside the webra2-mock workspace.

use webra2_client::{e2e, E2eOptions, NoProgress};
use webra2_mock::{MockCa, RootSource};

#[tokio::test]
async fn an_in_process_ca_issues_to_the_harness() -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let ca = MockCa::builder()
        .root(RootSource::Ephemeral)
        .start()
        .await?;
    let store = tempfile::tempdir()?;
    let mut opts = E2eOptions::new(ca.admin_url(), "U0001");
    opts.store_dir = Some(store.path().to_path_buf());
    opts.checks.expect_root_sha1 = Some(ca.root_sha1().to_owned());
    let report = e2e(&opts, &NoProgress).await;
    for step in &report.steps {
        println!("{}", step.line());
    }
    assert!(report.ok, "the issuance failed");
    println!(
        "user crate: issued serial {} in {} ms",
        report.serial.as_deref().unwrap_or("?"),
        started.elapsed().as_millis()
    );
    Ok(())
}
