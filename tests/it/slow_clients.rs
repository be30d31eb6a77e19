//! Slow, silent and too many clients: every listener closes a connection that
//! does not send its request in time, caps the connections it holds, and a
//! flood of the public port leaves the admin API reachable, even under a low
//! open-file limit.

use crate::helpers::{assert_problem, bin, http, TestApp};
use crate::subprocess::Server;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webra2_mock::{Clock, Settings};

/// A test app whose clients get `timeout_secs` and whose public and confirm
/// listeners hold at most `max_connections` each.
async fn app_with(timeout_secs: u64, max_connections: usize) -> TestApp {
    let settings = Settings {
        client_timeout: timeout_secs,
        max_connections,
        ..Settings::for_tests()
    };
    TestApp::spawn_with(settings, Clock::real()).await
}

/// `host:port` of a base URL such as `http://127.0.0.1:1234/x`.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.replace("localhost", "127.0.0.1")
}

/// Reads until the server closes the connection (or resets it); how long
/// that took, or `None` if it was still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let read_to_end = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read_to_end)
        .await
        .ok()
        .map(|()| started.elapsed())
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_client_timeout_on_every_listener() {
    let app = app_with(1, 16).await;
    for (listener, url) in [
        ("public", &app.public_url),
        ("admin", &app.admin_url),
        ("confirm", &app.confirm_url),
    ] {
        let mut silent = TcpStream::connect(authority(url)).await.expect("connects");
        let closed = closed_within(&mut silent, Duration::from_secs(8)).await;
        let closed = closed.unwrap_or_else(|| panic!("{listener}: still open after 8 s"));
        assert!(
            closed >= Duration::from_millis(900),
            "{listener}: closed after {closed:?}, before the 1 s timeout"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn headers_trickled_a_line_at_a_time_are_cut_off() {
    let app = app_with(1, 16).await;
    let mut slow = TcpStream::connect(authority(&app.public_url))
        .await
        .expect("connects");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("first line");
    let started = Instant::now();
    // One more header line every 200 ms, for up to 8 s, the way slowloris
    // keeps a server waiting; the server must hang up long before.
    let mut cut_off = None;
    for i in 0..40 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let line = format!("X-Slow-{i}: still coming\r\n");
        if slow.write_all(line.as_bytes()).await.is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(1), slow.read(&mut probe)).await
        {
            cut_off = Some(started.elapsed());
            break;
        }
    }
    let cut_off = cut_off.expect("the server hung up on a trickling client within 8 s");
    assert!(
        cut_off < Duration::from_secs(4),
        "cut off after {cut_off:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_answer() {
    let app = app_with(1, 16).await;
    let mut conn = TcpStream::connect(authority(&app.public_url))
        .await
        .expect("connects");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).await.expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 200");
    let closed = closed_within(&mut conn, Duration::from_secs(8))
        .await
        .expect("the idle connection is closed within 8 s");
    assert!(
        closed >= Duration::from_millis(900),
        "closed after {closed:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_a_problem_and_changes_nothing() {
    let app = app_with(1, 16).await;
    let (_, before) = app.admin_get("/admin/mails").await;
    let mut conn = TcpStream::connect(authority(&app.admin_url))
        .await
        .expect("connects");
    conn.write_all(
        b"POST /admin/enrollments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 200\r\n\r\n{\"user_id\": \"SLOW",
    )
    .await
    .expect("head and the start of the body");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), conn.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 8 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("problem:bad-request"), "{answer}");
    assert!(answer.contains("not sent in time"), "{answer}");
    let (_, after) = app.admin_get("/admin/mails").await;
    assert_eq!(before, after, "a half-sent preparation left a mail");
    app.stop().await;
}

#[tokio::test]
async fn the_admin_listener_answers_while_the_public_one_is_full() {
    let app = app_with(10, 4).await;
    let public = authority(&app.public_url);
    let mut flood = Vec::new();
    // Four held, the rest turned away (fewer than the 32 answered at once).
    for _ in 0..20 {
        flood.push(
            TcpStream::connect(&public)
                .await
                .expect("queued or accepted"),
        );
    }
    let started = Instant::now();
    let (status, _) = app.admin_get("/admin/clock").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the admin API took {:?}",
        started.elapsed()
    );
    // The public listener holds only its four: a client over the cap is told
    // so at once, not left hanging.
    let turned_away = http()
        .get(format!("{}/healthz", app.public_url))
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .expect("a client over the cap gets an answer");
    assert_eq!(
        turned_away
            .headers()
            .get("retry-after")
            .map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_problem(turned_away, 503, "too-many-connections").await;
    // Once the flood goes away, the public site serves again.
    drop(flood);
    let healthz = http()
        .get(format!("{}/healthz", app.public_url))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("the public listener serves again");
    assert_eq!(healthz.status(), 200);
    app.stop().await;
}

/// The hardening report's case: with a 1,024 open-file limit, 1,100 silent
/// sockets on the public port made the admin API time out. Here the limit is
/// 200 and the flood 400: the public listener's cap keeps descriptors for the
/// others, and every flooding client is accepted (none hangs in the backlog).
#[tokio::test]
async fn a_flood_of_the_public_port_leaves_the_admin_api_reachable_under_a_low_file_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("flood.db").display());
    let server_bin = bin("webra2-mock");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 200 && exec \"$0\" \"$@\""])
        .arg(&server_bin)
        .args(Server::args(&db))
        .args(["--max-connections", "100", "--client-timeout", "30"]);
    let server = Server::spawn(cmd, None);
    let public = authority(&server.field("public"));
    let admin = server.field("admin");
    let mut flood = Vec::new();
    let started = Instant::now();
    for _ in 0..400 {
        match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&public)).await {
            Ok(Ok(s)) => flood.push(s),
            Ok(Err(e)) => panic!("connect {}: {e}", flood.len()),
            Err(_) => panic!(
                "connect {} hung: the listener stopped accepting",
                flood.len()
            ),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // Let the server accept what it will.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        let clock = http()
            .get(format!("{admin}/admin/clock"))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .expect("the admin API answers during the flood");
        assert_eq!(clock.status(), 200);
    }
    drop(flood);
    let healthz = http()
        .get(format!("{}/healthz", server.field("public")))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the public listener serves after the flood");
    assert_eq!(healthz.status(), 200);
}

#[tokio::test]
async fn garbage_at_the_confirm_port_is_hung_up_on_at_once() {
    // The default 10 s: garbage must not be kept that long.
    let app = app_with(10, 16).await;
    for garbage in [
        &b"hello\r\n"[..],
        b"GET /confirm HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\0\0\0\0\0\0",
    ] {
        let mut conn = TcpStream::connect(authority(&app.confirm_url))
            .await
            .expect("connects");
        conn.write_all(garbage).await.expect("garbage sent");
        let closed = closed_within(&mut conn, Duration::from_secs(5)).await;
        assert!(
            closed.is_some_and(|t| t < Duration::from_secs(3)),
            "{:?}: closed after {closed:?}",
            String::from_utf8_lossy(garbage)
        );
    }
    app.stop().await;
}
