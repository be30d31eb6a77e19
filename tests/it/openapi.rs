//! `GET /openapi.json` on the public and admin listeners: served (the admin one
//! behind its token), OpenAPI 3.1, and in step with the routing tables both
//! ways. Every route template of `wire/src/paths.rs` is asked with every
//! method on both listeners: a request the router routes (anything but its
//! fallback's "no such route" / "method not allowed") must be an operation of
//! that listener's document, and every operation of the document must be
//! routed. A route added to a router without its declaration in
//! `server/src/http/openapi.rs` fails here, and so does a declaration of a
//! route that no router has.

use crate::helpers::TestApp;
use serde_json::Value;
use std::collections::BTreeSet;
use webra2_mock::{Clock, Settings};

const TOKEN: &str = "an-admin-token-of-enough-length";
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/// Every `pub const NAME: &str = "/...";` of `wire/src/paths.rs`.
fn route_templates() -> BTreeSet<String> {
    let source = std::fs::read_to_string(crate::helpers::fixtures().join("../wire/src/paths.rs"))
        .expect("wire/src/paths.rs");
    let found: BTreeSet<String> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| l.split_once(": &str = \"")?.1.split_once('"'))
        // axum's catch-all `{*name}` is OpenAPI's `{name}`.
        .map(|(path, _)| path.replace("{*", "{"))
        .filter(|p| p.starts_with('/'))
        .collect();
    assert!(
        found.len() >= 20,
        "the templates of wire/src/paths.rs: {found:?}"
    );
    found
}

/// A template with a value in its parameter.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    for (i, seg) in template.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.starts_with('{') {
            out.push_str("probe0A");
        } else {
            out.push_str(seg);
        }
    }
    out
}

/// Whether the router routed the request: its fallbacks answer these two.
async fn routed(resp: reqwest::Response) -> bool {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    let problem: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let detail = problem["detail"].as_str().unwrap_or_default();
    !((status == 404 && detail == "no such route")
        || (status == 405 && detail == "method not allowed on this route"))
}

async fn spawn() -> TestApp {
    let mut settings = Settings::for_tests();
    settings.admin_token = Some(TOKEN.to_owned());
    TestApp::spawn_with(settings, Clock::real()).await
}

async fn document(app: &TestApp, base: &str) -> Value {
    let resp = app
        .http
        .get(format!("{base}/openapi.json"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("reachable");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc: Value = resp.json().await.expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    doc
}

/// (METHOD, template) of every operation of a document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if METHODS.contains(&method.to_ascii_uppercase().as_str()) {
                ops.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

async fn routed_operations(app: &TestApp, base: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for template in route_templates() {
        for method in METHODS {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let resp = app
                .http
                .request(m, format!("{base}{}", concrete(&template)))
                .bearer_auth(TOKEN)
                .header("accept", "application/json")
                .send()
                .await
                .expect("reachable");
            if routed(resp).await {
                found.insert((method.to_owned(), template.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_routed_request_is_documented_and_every_documented_one_routed() {
    let app = spawn().await;
    for (listener, base) in [("public", &app.public_url), ("admin", &app.admin_url)] {
        let documented = operations(&document(&app, base).await);
        let routed = routed_operations(&app, base).await;
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(
            undocumented.is_empty(),
            "{listener}: routed but not in GET /openapi.json (declare them in server/src/http/openapi.rs): {undocumented:?}"
        );
        assert!(
            unrouted.is_empty(),
            "{listener}: in GET /openapi.json but not routed: {unrouted:?}"
        );
        assert!(routed.len() >= 10, "{listener}: {routed:?}");
    }
}

#[tokio::test]
async fn the_admin_document_is_behind_the_token_and_healthz_is_not() {
    let app = spawn().await;
    let url = |p: &str| format!("{}{p}", app.admin_url);
    let resp = app.http.get(url("/openapi.json")).send().await.expect("up");
    assert_eq!(resp.status(), 401);
    let resp = app.http.get(url("/healthz")).send().await.expect("up");
    assert_eq!(resp.status(), 200);
    let public = app
        .http
        .get(format!("{}/openapi.json", app.public_url))
        .send()
        .await
        .expect("up");
    assert_eq!(public.status(), 200, "the public document needs nothing");
    let doc: Value = public.json().await.expect("json");
    assert!(doc["paths"]["/issue/{token}/csr"]["post"].is_object());
    assert!(
        doc["paths"].get("/admin/enrollments").is_none(),
        "each listener documents its own routes"
    );
}
