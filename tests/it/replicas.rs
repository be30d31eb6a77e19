//! Several replicas on one PostgreSQL database: two `webra2-mock serve`
//! processes on a scratch database of the server `WEBRA2_TEST_PG` names
//! (`.ci/run` starts one; without it these tests fail, saying how to start
//! one). Every rule of the contract must hold across them.

use crate::helpers::{assert_problem, fixture, TestApp};
use crate::lifecycle::{crl_number_and_serials, get_crl};
use crate::subprocess::Server;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use webra2_mock::store::scratch::ScratchDatabase;

/// A replica: its process and the test helpers pointed at it.
struct Replica {
    server: Server,
    app: TestApp,
}

fn replica(db: &str, flags: &[&str]) -> Replica {
    let server = Server::start_with(db, None, flags);
    let app = TestApp::remote(
        &server.field("public"),
        &server.field("admin"),
        &server.field("confirm"),
    );
    Replica { server, app }
}

/// Two replicas on a fresh database.
async fn two_replicas(flags: &[&str]) -> (ScratchDatabase, Replica, Replica) {
    let db = ScratchDatabase::create().await;
    let a = replica(db.url(), flags);
    let b = replica(db.url(), flags);
    (db, a, b)
}

/// A one-time URL `from` made, as reached through `to`.
fn through(url: &str, from: &TestApp, to: &TestApp) -> String {
    url.replacen(&from.public_url, &to.public_url, 1)
}

/// A full issuance through `app`: prepare, authenticate, submit the fixture
/// CSR. The serial, one-time URL and session; or what stopped it (a status,
/// or a connection that broke: a replica may be killed meanwhile).
async fn issue_through(app: &TestApp, user: &str) -> Result<(String, String, String), String> {
    async fn send(req: reqwest::RequestBuilder, want: StatusCode) -> Result<Value, String> {
        let resp = req.send().await.map_err(|e| e.to_string())?;
        if resp.status() != want {
            return Err(resp.status().to_string());
        }
        resp.json().await.map_err(|e| e.to_string())
    }
    let field = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let http = &app.http;
    let created = send(
        http.post(format!("{}/admin/enrollments", app.admin_url))
            .json(&json!({
                "user_id": user,
                "email": format!("{}@example.test", user.to_lowercase()),
                "auth_password": "pw",
            })),
        StatusCode::CREATED,
    )
    .await?;
    let url = field(&created, "one_time_url");
    let auth = send(
        http.post(format!("{url}/auth"))
            .header("accept", "application/json")
            .json(&json!({ "auth_password": "pw" })),
        StatusCode::OK,
    )
    .await?;
    let session = field(&auth, "session");
    let issued = send(
        http.post(format!("{url}/csr"))
            .header("accept", "application/json")
            .header("content-type", "application/x-pem-file")
            .bearer_auth(&session)
            .body(fixture("csr/rsa1024.csr.pem")),
        StatusCode::CREATED,
    )
    .await?;
    Ok((field(&issued, "serial"), url, session))
}

/// The serials `app`'s admin API lists.
async fn listed(app: &TestApp) -> Vec<String> {
    let (status, certs) = app.admin_get("/admin/certificates").await;
    assert_eq!(status, StatusCode::OK, "{certs}");
    certs
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["serial"].as_str().expect("serial").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_24_submissions_on_one_url_alternating_between_replicas_exactly_one_wins() {
    let (_db, a, b) = two_replicas(&[]).await;
    let url = a.app.prepare("U0100", "pw").await.one_time_url;
    let session = b
        .app
        .auth(&through(&url, &a.app, &b.app), "pw")
        .await
        .session;
    let csr = fixture("csr/rsa1024.csr.pem");
    let tries = (0..24).map(|i| {
        let (app, url) = if i % 2 == 0 {
            (&a.app, url.clone())
        } else {
            (&b.app, through(&url, &a.app, &b.app))
        };
        let (session, csr) = (session.clone(), csr.clone());
        async move {
            app.csr_raw(&url, &session, "application/x-pem-file", csr)
                .await
                .status()
        }
    });
    let statuses = join_all(tries).await;
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let gone = statuses.iter().filter(|s| **s == StatusCode::GONE).count();
    assert_eq!((won, gone), (1, 23), "{statuses:?}");
    assert_eq!(listed(&a.app).await.len(), 1);
    assert_eq!(listed(&b.app).await, listed(&a.app).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_wrong_passwords_over_both_replicas_count_five_then_423_on_both() {
    let (_db, a, b) = two_replicas(&[]).await;
    let created = a.app.prepare("U0101", "right-pw").await;
    let url = created.one_time_url;
    let guesses = (0..20).map(|i| {
        let (app, url) = if i % 2 == 0 {
            (&a.app, url.clone())
        } else {
            (&b.app, through(&url, &a.app, &b.app))
        };
        async move { app.auth_raw(&url, &format!("wrong-{i}")).await.status() }
    });
    let statuses = join_all(guesses).await;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let locked = statuses.iter().filter(|s| s.as_u16() == 423).count();
    // The fifth counted guess locks (423); the four before it are 401; none after counts.
    assert_eq!((wrong, locked), (4, 16), "{statuses:?}");
    for app in [&a.app, &b.app] {
        let (_, view) = app
            .admin_get(&format!("/admin/enrollments/{}", created.enrollment_id))
            .await;
        assert_eq!(view["state"], "locked", "{view}");
        // The right password is too late, on either replica.
        let resp = app.auth_raw(&through(&url, &a.app, app), "right-pw").await;
        assert_problem(resp, 423, "locked").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clock_and_faults_put_through_one_replica_are_in_force_on_the_other() {
    let (_db, a, b) = two_replicas(&[]).await;
    let http = &a.app.http;
    let resp = http
        .put(format!("{}/admin/clock", a.app.admin_url))
        .json(&json!({"now": "2027-03-01T10:00:00+09:00"}))
        .send()
        .await
        .expect("admin A");
    assert_eq!(resp.status(), StatusCode::OK);
    // The very next request on B sees it.
    let (_, clock) = b.app.admin_get("/admin/clock").await;
    assert_eq!(clock["mode"], "fixed", "{clock}");
    assert_eq!(clock["now"], "2027-03-01T10:00:00+09:00", "{clock}");
    // An issuance on B: the mail day is A's clock's, and so is the validity.
    let created = b.app.prepare("U0102", "pw").await;
    assert_eq!(
        created.mail_sent_at.unix_timestamp(),
        time::macros::datetime!(2027-03-01 10:00 +09:00).unix_timestamp()
    );
    let session = b.app.auth(&created.one_time_url, "pw").await.session;
    let issued = b
        .app
        .issue_fixture(&created.one_time_url, &session, "csr/rsa1024.csr.pem")
        .await;
    assert_eq!(
        issued.not_before.unix_timestamp(),
        time::macros::datetime!(2027-03-01 10:00 +09:00).unix_timestamp()
    );
    assert_eq!(issued.not_after.year(), 2029, "{}", issued.not_after);

    // A fault counted once, put through A, fires once in the whole deployment.
    let resp = http
        .put(format!("{}/admin/faults", a.app.admin_url))
        .json(&json!({"faults": [{"route": "/ca/root.pem", "status": 503, "times": 1}]}))
        .send()
        .await
        .expect("admin A");
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, faults) = b.app.admin_get("/admin/faults").await;
    assert_eq!(faults["faults"][0]["times"], 1, "{faults}");
    let root_pem = |app: &TestApp| {
        let url = format!("{}/ca/root.pem", app.public_url);
        async move { http.get(url).send().await.expect("public").status() }
    };
    assert_eq!(root_pem(&b.app).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        root_pem(&a.app).await,
        StatusCode::OK,
        "the fault fired twice"
    );
    assert_eq!(root_pem(&b.app).await, StatusCode::OK);
    let (_, faults) = a.app.admin_get("/admin/faults").await;
    assert_eq!(faults["faults"], json!([]), "{faults}");

    // Back to real time through B: A follows.
    let resp = http
        .delete(format!("{}/admin/clock", b.app.admin_url))
        .send()
        .await
        .expect("admin B");
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, clock) = a.app.admin_get("/admin/clock").await;
    assert_eq!(clock["mode"], "real", "{clock}");
}

/// How many times `app`'s requests read the deployment's controls themselves
/// (`webra2_controls_reads_total{by="request"}`), rather than relying on
/// the replica's lease.
async fn reads_by_requests(app: &TestApp) -> u64 {
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("webra2_controls_reads_total{by=\"request\"} "))
        .map_or(0, |n| n.parse().expect("a count"))
}

async fn put_clock(app: &TestApp, now: &str) -> StatusCode {
    app.http
        .put(format!("{}/admin/clock", app.admin_url))
        .json(&json!({ "now": now }))
        .send()
        .await
        .expect("admin")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_holding_its_lease_reads_no_controls_per_request_and_sees_each_change_at_once() {
    let (_db, a, b) = two_replicas(&[]).await;
    let root_pem = |app: &TestApp| app.http.get(format!("{}/ca/root.pem", app.public_url));
    // B takes its lease within a moment of starting: then 50 requests on B
    // read the controls not once.
    let started = Instant::now();
    let quiet = loop {
        let before = reads_by_requests(&b.app).await;
        for _ in 0..50 {
            let status = root_pem(&b.app).send().await.expect("public B").status();
            assert_eq!(status, StatusCode::OK);
        }
        if reads_by_requests(&b.app).await == before {
            break true;
        }
        if started.elapsed() > Duration::from_secs(10) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(quiet, "B kept reading the controls for every request");
    // Every change through A is in force for B's very next request, while
    // B keeps serving from what it holds.
    let reads = reads_by_requests(&b.app).await;
    for day in 1..=20 {
        let now = format!("2027-04-{day:02}T10:00:00+09:00");
        assert_eq!(put_clock(&a.app, &now).await, StatusCode::OK);
        let (_, clock) = b.app.admin_get("/admin/clock").await;
        assert_eq!(
            clock["now"],
            now.as_str(),
            "B's next request after the change"
        );
    }
    assert_eq!(
        reads_by_requests(&b.app).await,
        reads,
        "B's requests read the controls themselves"
    );
    // A replica that died holds a change up for its lease's last moments only:
    // the change is made, answered 200, and in force on A.
    b.server.kill9();
    assert_eq!(
        put_clock(&a.app, "2027-05-01T10:00:00+09:00").await,
        StatusCode::OK
    );
    let (_, clock) = a.app.admin_get("/admin/clock").await;
    assert_eq!(clock["now"], "2027-05-01T10:00:00+09:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_replica_is_in_the_other_replicas_crl_with_a_higher_number() {
    let (_db, a, b) = two_replicas(&[]).await;
    let (serial, _, _) = issue_through(&b.app, "U0103").await.expect("issued on B");
    let (before, listed_before) = crl_number_and_serials(&get_crl(&a.app).await);
    assert!(listed_before.is_empty(), "{listed_before:?}");
    let resp = a
        .app
        .http
        .post(format!(
            "{}/admin/certificates/{serial}/revoke",
            a.app.admin_url
        ))
        .json(&json!({"reason": "keyCompromise"}))
        .send()
        .await
        .expect("admin A");
    assert_eq!(resp.status(), StatusCode::OK);
    let (after, listed_after) = crl_number_and_serials(&get_crl(&b.app).await);
    assert!(after > before, "CRL number {after} after {before}");
    assert_eq!(listed_after, std::slice::from_ref(&serial));
    // A serves that same newest CRL, not an older one of its own.
    let (on_a, listed_on_a) = crl_number_and_serials(&get_crl(&a.app).await);
    assert!(on_a >= after, "A serves CRL {on_a} after B served {after}");
    assert_eq!(listed_on_a, [serial]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_ephemeral_roots_all_replicas_serve_the_first_ones_root() {
    let db = ScratchDatabase::create().await;
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| replica(db.url(), &["--root", "ephemeral"]));
        let b = s.spawn(|| replica(db.url(), &["--root", "ephemeral"]));
        (a.join().expect("A"), b.join().expect("B"))
    });
    let root = a.server.field("root_sha1");
    assert_eq!(b.server.field("root_sha1"), root);
    assert_ne!(
        root,
        webra2_ca::Root::fixture().sha1_fingerprint(),
        "not a new root"
    );
    let later = replica(db.url(), &["--root", "ephemeral"]);
    assert_eq!(later.server.field("root_sha1"), root);
    // What B issues verifies against what A serves.
    let (serial, _, _) = issue_through(&b.app, "U0104").await.expect("issued on B");
    assert_eq!(listed(&a.app).await, [serial]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_one_replica_under_load_loses_nothing_acknowledged() {
    let (_db, a, b) = two_replicas(&[]).await;
    let (a_app, b_app) = (Arc::new(a.app), Arc::new(b.app));
    // (serial, one-time URL through B, session, issued on A, issued after the kill)
    type Acknowledged = (String, String, String, bool, bool);
    let acknowledged: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (a_app, b_app) = (a_app.clone(), b_app.clone());
        let (acknowledged, killed) = (acknowledged.clone(), killed.clone());
        workers.push(tokio::spawn(async move {
            let started = Instant::now();
            let mut n = 0;
            while started.elapsed() < Duration::from_secs(6) {
                n += 1;
                let on_a = (w + n) % 2 == 0 && !killed.load(Ordering::Acquire);
                let app = if on_a { &a_app } else { &b_app };
                let after_kill = killed.load(Ordering::Acquire);
                if let Ok((serial, url, session)) =
                    issue_through(app, &format!("U2{w}{n:03}")).await
                {
                    let url = through(&url, app, &b_app);
                    acknowledged
                        .lock()
                        .expect("lock")
                        .push((serial, url, session, on_a, after_kill));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    killed.store(true, Ordering::Release);
    a.server.kill9();
    for w in workers {
        w.await.expect("worker");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.iter().any(|(_, _, _, on_a, _)| *on_a),
        "A issued nothing before it was killed"
    );
    assert!(
        acknowledged.iter().any(|(_, _, _, _, after)| *after),
        "B issued nothing after A was killed"
    );
    let on_b = listed(&b_app).await;
    let unique: BTreeSet<&String> = on_b.iter().collect();
    assert_eq!(unique.len(), on_b.len(), "a serial listed twice: {on_b:?}");
    for (serial, url, session, _, _) in &acknowledged {
        assert!(
            unique.contains(serial),
            "acknowledged {serial} is not listed"
        );
        let resp = b_app
            .http
            .get(format!("{url}/certificate"))
            .bearer_auth(session)
            .send()
            .await
            .expect("B reachable");
        assert_eq!(resp.status(), StatusCode::OK, "download of {serial}");
    }
}

/// A throwaway PostgreSQL cluster of this test's own (it is stopped and
/// started again: the shared test server must not be), from scripts/pg-throwaway.
struct OwnCluster {
    dir: String,
    url: String,
}

impl OwnCluster {
    fn script() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-throwaway")
    }

    fn start() -> OwnCluster {
        let out = std::process::Command::new(Self::script())
            .arg("start")
            .output()
            .expect("scripts/pg-throwaway runs");
        assert!(
            out.status.success(),
            "this test needs PostgreSQL's binaries (apt-get install postgresql): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let var = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .to_owned()
        };
        OwnCluster {
            dir: var("PGDATA_THROWAWAY"),
            url: var("WEBRA2_TEST_PG"),
        }
    }

    fn pg_ctl(&self, action: &str) {
        let status = std::process::Command::new(Self::script())
            .args(["pg_ctl", action])
            .env("PGDATA_THROWAWAY", &self.dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl {action}");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .args(["stop", &self.dir])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_stopped_under_load_gives_503_store_unavailable_then_recovers() {
    let cluster = OwnCluster::start();
    let (a, b) = (replica(&cluster.url, &[]), replica(&cluster.url, &[]));
    let http = &a.app.http;
    let status_of = |url: String| async move {
        tokio::time::timeout(Duration::from_secs(15), http.get(url).send())
            .await
            .expect("an answer within 15 s, never a hang")
            .expect("the replica is up")
    };
    let (before, _, _) = issue_through(&a.app, "U0300").await.expect("issued");
    assert_eq!(
        status_of(format!("{}/readyz", b.app.public_url))
            .await
            .status(),
        StatusCode::OK
    );

    // Load on both replicas while the database goes away and comes back.
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Arc<Mutex<Vec<Result<String, String>>>> = Arc::default();
    let mut workers = Vec::new();
    for (w, app) in [&a.app, &b.app]
        .map(|app| TestApp::remote(&app.public_url, &app.admin_url, &app.confirm_url))
        .into_iter()
        .enumerate()
    {
        let (stop, outcomes) = (stop.clone(), outcomes.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Acquire) {
                n += 1;
                let done = tokio::time::timeout(
                    Duration::from_secs(30),
                    issue_through(&app, &format!("U3{w}{n:03}")),
                )
                .await
                .expect("an issuance neither hangs nor stalls");
                outcomes.lock().expect("lock").push(done.map(|(s, _, _)| s));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.pg_ctl("stop");
    // Meanwhile: 503 store-unavailable with Retry-After; readiness says so, liveness does not.
    for app in [&a.app, &b.app] {
        let resp = status_of(format!("{}/readyz", app.public_url)).await;
        assert!(resp.headers().contains_key("retry-after"));
        assert_problem(resp, 503, "store-unavailable").await;
        let health = status_of(format!("{}/healthz", app.public_url)).await;
        assert_eq!(health.status(), StatusCode::OK);
        let resp = app
            .http
            .post(format!("{}/admin/enrollments", app.admin_url))
            .json(&json!({"user_id": "U0399", "email": "u@example.test", "auth_password": "pw"}))
            .send()
            .await
            .expect("admin reachable");
        let retry = resp.headers().get("retry-after").cloned();
        assert_problem(resp, 503, "store-unavailable").await;
        assert!(retry.is_some(), "no Retry-After");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.pg_ctl("start");
    // Recovery by itself: ready again, and issuing, on both.
    for app in [&a.app, &b.app] {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = status_of(format!("{}/readyz", app.public_url))
                .await
                .status();
            if ready == StatusCode::OK {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not ready 20 s after the database came back"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Release);
    for w in workers {
        w.await.expect("worker");
    }
    let (after, _, _) = issue_through(&b.app, "U0301").await.expect("issued after");
    let outcomes = outcomes.lock().expect("lock").clone();
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failures.iter().all(|f| f.starts_with("503")),
        "only 503 while the database was away: {failures:?}"
    );
    assert!(
        !failures.is_empty(),
        "the load never met the stopped database"
    );
    // Nothing acknowledged is lost.
    let on_a = listed(&a.app).await;
    for serial in outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .chain([&before, &after])
    {
        assert!(on_a.contains(serial), "acknowledged {serial} is lost");
    }
}
