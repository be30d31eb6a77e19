//! `docker-compose.replicas.yml` run as plain processes: its two replicas'
//! command and environment on a scratch PostgreSQL database (the server
//! `WEBRA2_TEST_PG` names), and its one-shot client, with the load balancer's
//! address sending the admin API to one replica and the user's steps to the
//! other. `deploy/haproxy.cfg` must send every port to both replicas.

use crate::helpers::bin;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use webra2_mock::store::scratch::ScratchDatabase;

fn repo_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A child process killed and reaped on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The service's command with its environment, `host:port` pairs and the
/// database URL replaced as `map` says.
fn command(svc: &Value, map: &dyn Fn(&str, &str) -> String) -> Command {
    let args = strings(&svc["command"]);
    let mut cmd = Command::new(bin(&args[0]));
    cmd.args(args[1..].iter().map(|a| map("", a)));
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (key, value) in svc["environment"].as_object().expect("a map") {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        cmd.env(key, map(key, &value));
    }
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replicas_compose_wiring_runs_as_plain_processes_across_two_replicas() {
    let file: Value =
        serde_norway::from_str(&repo_file("docker-compose.replicas.yml")).expect("YAML");
    let services = &file["services"];
    assert!(services["postgres"]["image"]
        .as_str()
        .is_some_and(|i| i.starts_with("postgres:")));
    assert!(services["lb"]["image"]
        .as_str()
        .is_some_and(|i| i.starts_with("haproxy:")));
    for name in ["ca-a", "ca-b"] {
        let ca = &services[name];
        assert_eq!(ca["depends_on"]["postgres"]["condition"], "service_healthy");
        assert_eq!(
            services["lb"]["depends_on"][name]["condition"],
            "service_healthy"
        );
        let check = strings(&ca["healthcheck"]["test"]).join(" ");
        assert!(check.contains("/readyz"), "{check}");
        assert!(
            ca["environment"]["WEBRA2_DB"]
                .as_str()
                .is_some_and(|db| db.starts_with("postgres://")),
            "{name} is on PostgreSQL"
        );
    }
    assert_eq!(services["ca-a"], services["ca-b"], "the replicas differ");
    // HAProxy sends each published port to both replicas, and checks readiness.
    let haproxy = repo_file("deploy/haproxy.cfg");
    for port in ["8080", "8081", "8443"] {
        assert!(haproxy.contains(&format!("bind :{port}")), "{port}");
        for replica in ["ca-a", "ca-b"] {
            assert!(
                haproxy.contains(&format!("server {replica} {replica}:{port}")),
                "{replica}:{port} is not behind the load balancer"
            );
        }
    }
    assert!(haproxy.contains("GET /readyz"));
    let published: Vec<String> = strings(&services["lb"]["ports"]);
    assert_eq!(published, ["8080:8080", "8081:8081", "8443:8443"]);

    let db = ScratchDatabase::create().await;
    let dead_smtp = free_port();
    // Replica ports; the balancer's address goes to A for admin, B for the rest.
    let a: BTreeMap<u16, u16> = [8080, 8081, 8443].map(|p| (p, free_port())).into();
    let b: BTreeMap<u16, u16> = [8080, 8081, 8443].map(|p| (p, free_port())).into();
    let lb: BTreeMap<u16, u16> =
        BTreeMap::from([(8080, b[&8080]), (8081, a[&8081]), (8443, b[&8443])]);
    let mapper = |own: BTreeMap<u16, u16>| {
        let (db_url, lb) = (db.url().to_owned(), lb.clone());
        move |key: &str, value: &str| -> String {
            if key == "WEBRA2_DB" {
                return db_url.clone();
            }
            let mut out = value.replace("mailpit:1025", &format!("127.0.0.1:{dead_smtp}"));
            for (from, to) in &own {
                out = out.replace(&format!("0.0.0.0:{from}"), &format!("127.0.0.1:{to}"));
            }
            for (from, to) in &lb {
                out = out.replace(&format!("lb:{from}"), &format!("127.0.0.1:{to}"));
            }
            out
        }
    };
    let start = |name: &str, own: BTreeMap<u16, u16>| {
        let map = mapper(own);
        let mut child = command(&services[name], &map)
            .env("WEBRA2_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the replica's command starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("a ready line");
        assert!(line.starts_with("webra2-mock ready"), "{line}");
        assert!(
            !line.contains("compose-db-password"),
            "the ready line shows the DB password"
        );
        (Guard(child), line)
    };
    let (_a, ready_a) = start("ca-a", a.clone());
    let (_b, ready_b) = start("ca-b", b.clone());
    let sha1 = |line: &str| line.split("root_sha1=").nth(1).map(str::to_owned);
    assert_eq!(
        sha1(&ready_a),
        sha1(&ready_b),
        "two roots behind one address"
    );

    let client = mapper(BTreeMap::new());
    let mut run = command(&services["client"], &client);
    let out = tokio::task::spawn_blocking(move || run.output())
        .await
        .expect("joined")
        .expect("the client's command runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the one-shot client passes across the replicas:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // A's admin API lists what the user did through B.
    let listed = crate::helpers::http()
        .get(format!("http://127.0.0.1:{}/admin/certificates", a[&8081]))
        .bearer_auth("compose-admin-token-change-me")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("admin A")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}
