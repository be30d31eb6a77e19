//! Property tests of the JSON inputs (proptest): any JSON value in any field
//! of any admin or public body, the field left out, or a body that is not an
//! object at all, never gets a 5xx; every refusal is a problem document; and a
//! request refused as malformed changes nothing the admin API can see.
//!
//! The routers are called in process (`tower::ServiceExt::oneshot`), so a few
//! hundred cases take seconds.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use time::macros::datetime;
use tower::ServiceExt;
use webra2_mock::http::{admin_router, public_router};
use webra2_mock::{Application, Clock, Settings};

/// Any JSON value, with the strings this API's fields are made of among
/// random ones: dates at the edges of the representable range, kinds,
/// reasons, numbers as strings.
fn any_json() -> impl Strategy<Value = Value> {
    let interesting = prop::sample::select(vec![
        "",
        " ",
        "0",
        "-1",
        "new",
        "renew",
        "keyCompromise",
        "superseded",
        "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00+14:00",
        "1949-12-31T23:59:59Z",
        "2026-12-02T09:00:00+09:00",
        "2026-12-02",
        "/issue/{token}/csr",
        "*",
        "expire_url_now",
        "ca_maintenance",
        "a@b",
        "ユーザー",
        "\u{0}",
    ])
    .prop_map(|s| Value::String(s.to_owned()));
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("a JSON number", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        "\\PC{0,40}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})"
            .prop_map(Value::String),
        interesting,
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// What one case does to a valid body.
#[derive(Debug, Clone)]
enum Change {
    /// The field gets this value.
    Set(usize, Value),
    /// The field is left out.
    Remove(usize),
    /// A field the contract does not have is added.
    Add(String, Value),
    /// The whole body is this value instead.
    Replace(Value),
}

fn change(fields: usize) -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => (0..fields, any_json()).prop_map(|(i, v)| Change::Set(i, v)),
        1 => (0..fields).prop_map(Change::Remove),
        1 => ("[a-z_]{1,12}", any_json()).prop_map(|(k, v)| Change::Add(k, v)),
        1 => any_json().prop_map(Change::Replace),
    ]
}

/// `base` (an object) with `change` applied to its `fields`.
fn apply(base: &Value, fields: &[&str], change: &Change) -> Value {
    let mut body = base.clone();
    let Some(object) = body.as_object_mut() else {
        return body;
    };
    match change {
        Change::Set(i, v) => {
            object.insert(fields[*i].to_owned(), v.clone());
        }
        Change::Remove(i) => {
            object.remove(fields[*i]);
        }
        Change::Add(k, v) => {
            object.insert(k.clone(), v.clone());
        }
        Change::Replace(v) => return v.clone(),
    }
    body
}

/// One answer, read whole.
struct Answer {
    status: StatusCode,
    media: String,
    body: Vec<u8>,
}

/// One mock CA, its two routers, and what a case needs of it: an open URL
/// with a session, and an issued certificate.
struct Harness {
    rt: tokio::runtime::Runtime,
    public: Router,
    admin: Router,
    token: String,
    session: String,
    enrollment_id: String,
    serial: String,
}

impl Harness {
    fn new() -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = rt.block_on(async {
            Application::build_with_clock(
                Settings::for_tests(),
                Clock::fixed(datetime!(2026-12-02 09:00 +09:00)),
            )
            .await
            .expect("the app builds")
        });
        let state = app.state().clone();
        let mut h = Harness {
            rt,
            public: public_router(state.clone()),
            admin: admin_router(state),
            token: String::new(),
            session: String::new(),
            enrollment_id: String::new(),
            serial: String::new(),
        };
        h.fresh_url();
        let pkcs12 = h.call(
            &h.public,
            Method::POST,
            &format!("/issue/{}/pkcs12", h.token),
            Some(&json!({"pin": "prop-pin-1"})),
            true,
        );
        assert_eq!(pkcs12.status, StatusCode::CREATED);
        let certificates = h.admin_json("/admin/certificates");
        h.serial = certificates[0]["serial"]
            .as_str()
            .expect("a serial")
            .to_owned();
        h.fresh_url();
        h
    }

    /// Prepares a new enrollment and opens a session on it.
    fn fresh_url(&mut self) {
        let created = self.call(
            &self.admin,
            Method::POST,
            "/admin/enrollments",
            Some(&json!({
                "user_id": "PROP01",
                "email": "prop01@example.test",
                "auth_password": "prop-password-1",
            })),
            false,
        );
        assert_eq!(created.status, StatusCode::CREATED);
        let created: Value = serde_json::from_slice(&created.body).expect("JSON");
        let url = created["one_time_url"].as_str().expect("url");
        self.token = url.rsplit('/').next().expect("token").to_owned();
        self.enrollment_id = created["enrollment_id"].as_str().expect("id").to_owned();
        let auth = self.call(
            &self.public,
            Method::POST,
            &format!("/issue/{}/auth", self.token),
            Some(&json!({"auth_password": "prop-password-1"})),
            false,
        );
        assert_eq!(auth.status, StatusCode::OK);
        let auth: Value = serde_json::from_slice(&auth.body).expect("JSON");
        self.session = auth["session"].as_str().expect("session").to_owned();
    }

    fn call(
        &self,
        router: &Router,
        method: Method,
        path: &str,
        body: Option<&Value>,
        with_session: bool,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, "application/json");
        if with_session {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.session));
        }
        let req = match body {
            Some(v) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(v).expect("JSON"))),
            None => req.body(Body::empty()),
        }
        .expect("request");
        self.rt.block_on(async {
            let resp = router.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let media = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .expect("body")
                .to_vec();
            Answer {
                status,
                media,
                body,
            }
        })
    }

    fn admin_json(&self, path: &str) -> Value {
        let a = self.call(&self.admin, Method::GET, path, None, false);
        assert_eq!(a.status, StatusCode::OK, "{path}");
        serde_json::from_slice(&a.body).expect("JSON")
    }

    /// All the admin API shows of the service's state.
    fn snapshot(&self) -> Value {
        json!({
            "mails": self.admin_json("/admin/mails"),
            "certificates": self.admin_json("/admin/certificates"),
            "clock": self.admin_json("/admin/clock"),
            "faults": self.admin_json("/admin/faults"),
            "enrollment": self.admin_json(&format!("/admin/enrollments/{}", self.enrollment_id)),
        })
    }
}

/// One route and the valid body a case starts from.
struct Target {
    admin: bool,
    method: Method,
    path: fn(&Harness) -> String,
    base: Value,
    fields: &'static [&'static str],
    with_session: bool,
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            admin: true,
            method: Method::POST,
            path: |_| "/admin/enrollments".into(),
            base: json!({
                "user_id": "PROP02",
                "email": "prop02@example.test",
                "auth_password": "prop-password-2",
                "kind": "new",
                "mail_sent_at": "2026-12-01T10:00:00+09:00",
                "url_valid_days": 7,
                "revoke_previous": false,
            }),
            fields: &[
                "user_id",
                "email",
                "auth_password",
                "kind",
                "mail_sent_at",
                "url_valid_days",
                "revoke_previous",
            ],
            with_session: false,
        },
        Target {
            admin: true,
            method: Method::PUT,
            path: |_| "/admin/clock".into(),
            base: json!({"now": "2026-12-02T09:00:00+09:00", "running": false}),
            fields: &["now", "running"],
            with_session: false,
        },
        Target {
            admin: true,
            method: Method::PUT,
            path: |_| "/admin/faults".into(),
            base: json!({"faults": [{"route": "/ca/root.pem", "status": 503, "times": 1}]}),
            fields: &["faults"],
            with_session: false,
        },
        Target {
            admin: true,
            method: Method::POST,
            path: |h| format!("/admin/certificates/{}/revoke", h.serial),
            base: json!({"reason": "superseded"}),
            fields: &["reason"],
            with_session: false,
        },
        Target {
            admin: false,
            method: Method::POST,
            path: |h| format!("/issue/{}/auth", h.token),
            base: json!({"auth_password": "prop-password-1"}),
            fields: &["auth_password"],
            with_session: false,
        },
        Target {
            admin: false,
            method: Method::POST,
            path: |h| format!("/issue/{}/pkcs12", h.token),
            base: json!({"pin": "prop-pin-2"}),
            fields: &["pin"],
            with_session: true,
        },
    ]
}

/// The fault set's entries are objects too: random values in each of a
/// fault's fields.
fn fault_change() -> impl Strategy<Value = Value> {
    let fields = [
        "kind",
        "route",
        "method",
        "status",
        "retry_after",
        "latency_ms",
        "truncate_body",
        "times",
        "enrollment_id",
    ];
    (0..fields.len(), any_json()).prop_map(move |(i, v)| {
        let mut fault = json!({"route": "/ca/root.pem", "status": 503, "times": 1});
        fault[fields[i]] = v;
        json!({ "faults": [fault] })
    })
}

/// Runs `cases` random cases against `target`: never a 5xx, refusals are
/// problems, and a malformed request changes nothing.
fn check(cell: &RefCell<Harness>, target: &Target, strategy: BoxedStrategy<Value>) {
    // A runner of its own per target: one runner counts its cases across runs.
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |body| {
        let h = cell.borrow();
        let before = h.snapshot();
        let router = if target.admin { &h.admin } else { &h.public };
        let path = (target.path)(&h);
        let answer = h.call(
            router,
            target.method.clone(),
            &path,
            Some(&body),
            target.with_session,
        );
        let shown = || format!("{} {path} {body}", target.method);
        prop_assert!(
            answer.status.as_u16() < 500,
            "{}: {} {}",
            shown(),
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        if answer.status.is_client_error() {
            prop_assert_eq!(&answer.media, "application/problem+json", "{}", shown());
            let problem: Value = serde_json::from_slice(&answer.body)
                .map_err(|e| TestCaseError::fail(format!("{}: not JSON: {e}", shown())))?;
            prop_assert_eq!(
                problem["status"].as_u64(),
                Some(u64::from(answer.status.as_u16()))
            );
            // Malformed (400, 413, 415, 422) changes nothing. A wrong password
            // counts an attempt, as it must; a used or locked URL is the
            // state, not a change.
            if matches!(answer.status.as_u16(), 400 | 413 | 415 | 422) {
                prop_assert_eq!(&h.snapshot(), &before, "{} changed the state", shown());
            }
        }
        // Put back what an accepted (or counted) request changed, so the
        // next case starts from the same place.
        let mut reset = false;
        match (target.admin, path.as_str()) {
            (true, "/admin/clock") => {
                h.call(
                    &h.admin,
                    Method::PUT,
                    "/admin/clock",
                    Some(&json!({"now": "2026-12-02T09:00:00+09:00", "running": false})),
                    false,
                );
            }
            (true, "/admin/faults") => {
                h.call(&h.admin, Method::DELETE, "/admin/faults", None, false);
            }
            (false, _) => reset = !answer.status.is_client_error() || answer.status.as_u16() == 401,
            _ => {}
        }
        drop(h);
        if reset {
            cell.borrow_mut().fresh_url();
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn random_json_in_any_field_never_gives_a_5xx_and_a_malformed_request_changes_nothing() {
    let h = RefCell::new(Harness::new());
    for target in targets() {
        let base = target.base.clone();
        let fields = target.fields;
        let strategy = change(fields.len())
            .prop_map(move |c| apply(&base, fields, &c))
            .boxed();
        check(&h, &target, strategy);
    }
    let faults = targets()
        .into_iter()
        .find(|t| t.fields == ["faults"])
        .expect("the faults target");
    check(&h, &faults, fault_change().boxed());
}
