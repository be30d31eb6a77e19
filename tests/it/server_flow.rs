//! The server's side of the flow over HTTP, step by step, with fixture requests.

use crate::helpers::{assert_problem, fixture, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use webra2_mock::Settings;
use webra2_wire::Mail;

fn pem_certs(text: &str) -> Vec<Vec<u8>> {
    ::pem::parse_many(text)
        .expect("PEM")
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.into_contents())
        .collect()
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .get(format!("{}/healthz", app.public_url))
        .send()
        .await
        .expect("up");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_prepared_enrollment_mails_its_url_and_never_the_password() {
    let app = TestApp::spawn().await;
    let created = app.prepare("U0001", "s3cret-pass").await;
    let (status, mails) = app.admin_get("/admin/mails?to=u0001@example.test").await;
    assert_eq!(status, StatusCode::OK);
    let mails: Vec<Mail> = serde_json::from_value(mails).expect("mails");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.one_time_url, created.one_time_url);
    assert!(mail.body.contains(&created.one_time_url));
    assert!(mail.body.contains("U0001"));
    assert!(
        !mail.body.contains("s3cret-pass"),
        "the password never goes in the mail"
    );
    assert!(mail.subject.contains("証明書発行サイト"));
    let token = created.one_time_url.rsplit('/').next().expect("token");
    assert!(token.len() >= 22, "at least 128 bits of base64url: {token}");
    let (_, other) = app.admin_get("/admin/mails?to=nobody@example.test").await;
    assert_eq!(other, json!([]));
}

#[tokio::test]
async fn the_whole_http_flow_issues_a_certificate_as_the_contract_describes() {
    let now = datetime!(2026-12-20 10:00 +09:00);
    let app = TestApp::spawn_at(now).await;
    let resp = app
        .post_enrollment(&json!({
            "user_id": "U0001", "email": "u0001@example.test", "auth_password": "pw-1",
            "mail_sent_at": "2026-11-25T09:00:00+09:00"
        }))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.expect("json");
    let url = created["one_time_url"].as_str().expect("url").to_owned();
    assert_eq!(created["kind"], "new");
    assert_eq!(created["url_expires_at"], "2026-12-25T09:00:00+09:00");

    // Step 1
    let info: Value = app
        .http
        .get(&url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("step 1")
        .json()
        .await
        .expect("json");
    assert_eq!(
        info,
        json!({"site_title": "証明書発行サイト", "kind": "new", "step": 1})
    );
    let auth = app.auth(&url, "pw-1").await;
    assert_eq!(auth.csp, "Microsoft Enhanced Cryptographic Provider v1.0");
    assert_eq!(auth.key_length, 1024);
    assert_eq!(auth.accepted_keys, vec!["rsa-1024".to_owned()]);

    // Step 2
    let issued = app
        .issue_fixture(&url, &auth.session, "csr/rsa1024.csr.pem")
        .await;
    assert_eq!(issued.not_before, datetime!(2026-12-20 10:00 +09:00));
    assert_eq!(
        issued.not_after,
        datetime!(2028-11-25 09:00 +09:00),
        "two years after the mail"
    );
    assert_eq!(issued.serial.len(), 32);
    assert!(issued
        .serial
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));

    // Step 3: the root and its fingerprint
    let root = app.http.get(&issued.root_url).send().await.expect("root");
    assert_eq!(root.headers()["content-type"], "application/pkix-cert");
    let root_der = root.bytes().await.expect("bytes");
    let fp: Value = app
        .http
        .get(format!("{}/ca/root/fingerprint", app.public_url))
        .send()
        .await
        .expect("fp")
        .json()
        .await
        .expect("json");
    let expected_sha1 = String::from_utf8(fixture("root.sha1")).expect("utf8");
    assert_eq!(fp["sha1"], expected_sha1.trim());
    let (_, root_cert) = x509_parser::parse_x509_certificate(&root_der).expect("root DER");
    assert!(root_cert
        .subject()
        .to_string()
        .contains("CN=NEC Certification Authority"));

    // Step 3: the client certificate in three formats
    let get = |format: &'static str| {
        app.http
            .get(format!("{}?format={format}", issued.certificate_url))
            .bearer_auth(&auth.session)
            .send()
    };
    let pem = get("pem").await.expect("pem");
    assert_eq!(pem.headers()["content-type"], "application/x-pem-file");
    let chain = pem_certs(&pem.text().await.expect("text"));
    assert_eq!(chain.len(), 2, "leaf then root");
    assert_eq!(chain[1], root_der.to_vec());
    let der = get("der").await.expect("der");
    assert_eq!(der.headers()["content-type"], "application/pkix-cert");
    assert_eq!(der.bytes().await.expect("der").to_vec(), chain[0]);
    let p7 = get("p7c").await.expect("p7c");
    assert_eq!(p7.headers()["content-type"], "application/pkcs7-mime");
    assert!(!p7.bytes().await.expect("p7").is_empty());
    let bad = get("zip").await.expect("zip");
    assert_problem(bad, 400, "bad-request").await;

    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).expect("leaf");
    assert_eq!(leaf.subject().to_string(), "CN=U0001");
    assert_eq!(leaf.issuer(), root_cert.subject());
    assert_eq!(
        leaf.raw_serial_as_string().replace(':', "").to_uppercase(),
        issued.serial
    );

    // Admin views
    let (_, enrollment) = app
        .admin_get(&format!(
            "/admin/enrollments/{}",
            created["enrollment_id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(enrollment["state"], "issued");
    assert_eq!(enrollment["serial"], issued.serial);
    let (_, certs) = app.admin_get("/admin/certificates?user_id=U0001").await;
    assert_eq!(certs[0]["serial"], issued.serial);
    assert_eq!(certs[0]["status"], "valid");
    assert_eq!(certs[0]["not_after"], "2028-11-25T09:00:00+09:00");

    // A used URL
    let again = app.auth_raw(&url, "pw-1").await;
    assert_problem(again, 410, "url-already-used").await;
    let second = app
        .csr_raw(
            &url,
            &auth.session,
            "application/x-pem-file",
            fixture("csr/rsa1024.csr.pem"),
        )
        .await;
    assert_problem(second, 410, "url-already-used").await;
}

#[tokio::test]
async fn the_fifth_wrong_password_locks_the_url_for_good() {
    let app = TestApp::spawn().await;
    let created = app.prepare("U0002", "right").await;
    let url = created.one_time_url;
    for remaining in (1..=4).rev() {
        let body = assert_problem(app.auth_raw(&url, "wrong").await, 401, "wrong-password").await;
        assert_eq!(body["remaining_attempts"], remaining);
    }
    assert_problem(app.auth_raw(&url, "wrong").await, 423, "locked").await;
    assert_problem(app.auth_raw(&url, "right").await, 423, "locked").await;
    let step1 = app
        .http
        .get(&url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_problem(step1, 423, "locked").await;
    let (_, e) = app
        .admin_get(&format!("/admin/enrollments/{}", created.enrollment_id))
        .await;
    assert_eq!(e["state"], "locked");
}

#[tokio::test]
async fn a_right_password_resets_the_count_of_wrong_ones() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0003", "right").await.one_time_url;
    for _ in 0..4 {
        app.auth_raw(&url, "wrong").await;
    }
    app.auth(&url, "right").await;
    let body = assert_problem(app.auth_raw(&url, "wrong").await, 401, "wrong-password").await;
    assert_eq!(body["remaining_attempts"], 4);
}

#[tokio::test]
async fn csr_needs_a_live_session_of_its_own_url() {
    let start = datetime!(2026-11-25 09:00 +09:00);
    let app = TestApp::spawn_at(start).await;
    let url = app.prepare("U0004", "pw").await.one_time_url;
    let other = app.prepare("U0005", "pw").await.one_time_url;
    let csr = fixture("csr/rsa1024.csr.pem");
    let none = app
        .http
        .post(format!("{url}/csr"))
        .header("content-type", "application/x-pem-file")
        .body(csr.clone())
        .send()
        .await
        .expect("post");
    assert_problem(none, 401, "session-required").await;
    let other_session = app.auth(&other, "pw").await.session;
    assert_problem(
        app.csr_raw(&url, &other_session, "application/x-pem-file", csr.clone())
            .await,
        401,
        "session-expired",
    )
    .await;
    let session = app.auth(&url, "pw").await.session;
    app.clock.set_fixed(start + Duration::minutes(30));
    assert_problem(
        app.csr_raw(&url, &session, "application/x-pem-file", csr.clone())
            .await,
        401,
        "session-expired",
    )
    .await;
    app.clock.set_fixed(start + Duration::minutes(29));
    let ok = app
        .csr_raw(&url, &session, "application/x-pem-file", csr)
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_expired_url_is_gone_whatever_is_sent() {
    let start = datetime!(2026-11-25 09:00 +09:00);
    let app = TestApp::spawn_at(start).await;
    let url = app.prepare("U0006", "pw").await.one_time_url;
    app.clock.set_fixed(start + Duration::days(30));
    assert_problem(app.auth_raw(&url, "pw").await, 410, "url-expired").await;
    let (_, list) = app.admin_get("/admin/mails").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_unknown_url_is_404() {
    let app = TestApp::spawn().await;
    let url = format!(
        "{}/issue/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        app.public_url
    );
    assert_problem(app.auth_raw(&url, "pw").await, 404, "unknown-url").await;
    let odd = format!("{}/issue/%2e%2e%2f", app.public_url);
    let resp = app.http.get(&odd).send().await.expect("get");
    assert_problem(resp, 404, "unknown-url").await;
}

/// Every bad sample gets its contract status, and the URL still issues after it.
#[tokio::test]
async fn every_bad_sample_request_is_refused_and_the_url_still_works() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0007", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    let pem = "application/x-pem-file";
    let cases: [(&str, Vec<u8>, &str, u16, &str); 8] = [
        ("garbage", fixture("csr/garbage.csr"), pem, 400, "bad-csr"),
        (
            "tampered",
            fixture("csr/rsa1024-tampered.csr.pem"),
            pem,
            400,
            "csr-signature-invalid",
        ),
        (
            "rsa512",
            fixture("csr/rsa512.csr.pem"),
            pem,
            422,
            "key-policy",
        ),
        (
            "rsa2048",
            fixture("csr/rsa2048.csr.pem"),
            pem,
            422,
            "key-policy",
        ),
        ("p256", fixture("csr/p256.csr.pem"), pem, 422, "key-policy"),
        (
            "p384-sha256",
            fixture("csr/p384-sha256.csr.pem"),
            pem,
            422,
            "key-policy",
        ),
        (
            "too large",
            vec![b'A'; 64 * 1024 + 1],
            pem,
            413,
            "payload-too-large",
        ),
        (
            "xml",
            b"<csr/>".to_vec(),
            "application/xml",
            415,
            "unsupported-media-type",
        ),
    ];
    for (name, body, media, status, slug) in cases {
        let resp = app.csr_raw(&url, &session, media, body).await;
        assert_eq!(resp.status().as_u16(), status, "{name}");
        assert_problem(resp, status, slug).await;
    }
    let (_, certs) = app.admin_get("/admin/certificates").await;
    assert_eq!(certs, json!([]), "nothing was issued");
    // A DER request (application/pkcs10) made from the Windows-style sample still issues.
    let windows = ::pem::parse(fixture("csr/rsa1024-windows.csr.pem")).expect("pem");
    let resp = app
        .csr_raw(
            &url,
            &session,
            "application/pkcs10",
            windows.into_contents(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn what_a_windows_request_asks_for_is_ignored() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0008", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    let issued = app
        .issue_fixture(&url, &session, "csr/rsa1024-windows.csr.pem")
        .await;
    let der = app
        .http
        .get(format!("{}?format=der", issued.certificate_url))
        .bearer_auth(&session)
        .send()
        .await
        .expect("der")
        .bytes()
        .await
        .expect("bytes");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("cert");
    assert_eq!(
        cert.subject().to_string(),
        "CN=U0008",
        "not the request's subject"
    );
    let bc = cert.basic_constraints().expect("ok").expect("present");
    assert!(!bc.value.ca, "the request asked for CA:TRUE");
    assert!(cert.subject_alternative_name().expect("ok").is_none());
    assert!(cert
        .extensions()
        .iter()
        .all(|e| !e.oid.to_id_string().starts_with("1.3.6.1.4.1.311")));
}

#[tokio::test]
async fn the_modern_profile_takes_rsa_2048_and_p384_signed_with_sha256() {
    let settings = Settings {
        profile: "modern".into(),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, webra2_mock::Clock::real()).await;
    for (user, csr) in [
        ("M1", "csr/rsa2048.csr.pem"),
        ("M2", "csr/p384-sha256.csr.pem"),
        ("M3", "csr/p256.csr.pem"),
    ] {
        let url = app.prepare(user, "pw").await.one_time_url;
        let auth = app.auth(&url, "pw").await;
        assert!(auth.accepted_keys.contains(&"ecdsa-p384".to_owned()));
        app.issue_fixture(&url, &auth.session, csr).await;
    }
    let url = app.prepare("M4", "pw").await.one_time_url;
    let session = app.auth(&url, "pw").await.session;
    let resp = app
        .csr_raw(
            &url,
            &session,
            "application/x-pem-file",
            fixture("csr/rsa1024.csr.pem"),
        )
        .await;
    assert_problem(resp, 422, "key-policy").await;
}

#[tokio::test]
async fn bad_admin_input_is_400_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        json!({"user_id": "", "email": "a@b", "auth_password": "x"}),
        json!({"user_id": "CN=evil,O=x", "email": "a@b", "auth_password": "x"}),
        json!({"user_id": "U1", "email": "not-an-address", "auth_password": "x"}),
        json!({"user_id": "U1", "email": "a@b\r\nBcc: x@y", "auth_password": "x"}),
        json!({"user_id": "U1", "email": "a@b", "auth_password": ""}),
        json!({"user_id": "U1", "email": "a@b", "auth_password": "x", "kind": "upgrade"}),
        json!({"user_id": "U1", "email": "a@b", "auth_password": "x", "url_valid_days": 0}),
        json!({"user_id": "U1", "email": "a@b", "auth_password": "x", "mail_sent_at": "yesterday"}),
        json!({"user_id": "U1", "email": "a@b", "auth_password": "x", "surprise": 1}),
    ];
    for body in cases {
        let resp = app.post_enrollment(&body).await;
        assert_problem(resp, 400, "bad-request").await;
    }
    let raw = app
        .http
        .post(format!("{}/admin/enrollments", app.admin_url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_problem(raw, 400, "bad-request").await;
    let (_, mails) = app.admin_get("/admin/mails").await;
    assert_eq!(mails, json!([]));
}

#[tokio::test]
async fn a_renewal_for_a_user_without_a_certificate_is_409() {
    let app = TestApp::spawn().await;
    let resp = app
        .post_enrollment(&json!({"user_id": "U9", "email": "u9@example.test", "auth_password": "x", "kind": "renew"}))
        .await;
    assert_problem(resp, 409, "nothing-to-renew").await;
}

#[tokio::test]
async fn the_admin_api_demands_its_token_when_one_is_configured() {
    let settings = Settings {
        admin_token: Some("an-admin-token-of-some-length".into()),
        ..Settings::for_tests()
    };
    let app = TestApp::spawn_with(settings, webra2_mock::Clock::real()).await;
    let none = app
        .http
        .get(format!("{}/admin/mails", app.admin_url))
        .send()
        .await
        .expect("get");
    assert_problem(none, 401, "unauthorized").await;
    let wrong = app
        .http
        .get(format!("{}/admin/mails", app.admin_url))
        .bearer_auth("an-admin-token-of-some-lengtH")
        .send()
        .await
        .expect("get");
    assert_problem(wrong, 401, "unauthorized").await;
    let right = app
        .http
        .get(format!("{}/admin/mails", app.admin_url))
        .bearer_auth("an-admin-token-of-some-length")
        .send()
        .await
        .expect("get");
    assert_eq!(right.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_clock_is_set_and_reset_through_the_admin_api_and_shows_in_date() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .put(format!("{}/admin/clock", app.admin_url))
        .json(&json!({"now": "2030-01-02T03:04:05+09:00"}))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.expect("json");
    assert_eq!(view["now"], "2030-01-02T03:04:05+09:00");
    assert_eq!(view["mode"], "fixed");
    let health = app
        .http
        .get(format!("{}/healthz", app.public_url))
        .send()
        .await
        .expect("get");
    assert_eq!(health.headers()["date"], "Tue, 01 Jan 2030 18:04:05 GMT");
    let reset: Value = app
        .http
        .delete(format!("{}/admin/clock", app.admin_url))
        .send()
        .await
        .expect("delete")
        .json()
        .await
        .expect("json");
    assert_eq!(reset["mode"], "real");
    let now = OffsetDateTime::now_utc();
    let shown = OffsetDateTime::parse(
        reset["now"].as_str().expect("now"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339");
    assert!((shown - now).abs() < Duration::minutes(1));
}

#[tokio::test]
async fn errors_are_problem_json_even_for_unknown_routes() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .get(format!("{}/nope", app.public_url))
        .send()
        .await
        .expect("get");
    assert_problem(resp, 404, "not-found").await;
    let (status, body) = app.admin_get("/admin/enrollments/does-not-exist").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["type"], "urn:webra2-mock:problem:not-found");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .get(format!("{}/healthz", app.public_url))
        .send()
        .await
        .expect("get");
    assert!(resp.headers().get("x-request-id").is_some());
}

/// A browser without JavaScript: forms and cookies only, a titled page per step.
#[tokio::test]
async fn a_browser_walks_the_steps_as_plain_html_pages() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0020", "pw-html").await.one_time_url;
    let step1 = app.http.get(&url).send().await.expect("step 1");
    assert_eq!(step1.status(), StatusCode::OK);
    assert!(step1.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let page = step1.text().await.expect("html");
    assert!(page.contains("lang=\"ja\""));
    assert!(page.contains("<title>証明書発行サイト"), "{page}");
    assert!(page.contains("認証情報パスワード") && page.contains("次へ"));

    let step2 = app
        .http
        .post(format!("{url}/auth"))
        .form(&[("auth_password", "pw-html")])
        .send()
        .await
        .expect("step 2");
    assert_eq!(step2.status(), StatusCode::OK);
    let cookie = step2.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let session = cookie.split(';').next().expect("pair").to_owned();
    let page = step2.text().await.expect("html");
    assert!(page.contains("Microsoft Enhanced Cryptographic Provider v1.0"));
    assert!(page.contains("1024 bit") && page.contains("発行"));

    let csr = String::from_utf8(crate::helpers::fixture("csr/rsa1024.csr.pem")).expect("pem");
    let step3 = app
        .http
        .post(format!("{url}/csr"))
        .header("cookie", &session)
        .form(&[("csr", csr.as_str())])
        .send()
        .await
        .expect("step 3");
    assert_eq!(step3.status(), StatusCode::CREATED);
    let page = step3.text().await.expect("html");
    let sha1 = String::from_utf8(crate::helpers::fixture("root.sha1")).expect("utf8");
    assert!(
        page.contains(sha1.trim()),
        "the fingerprint to check is on the page"
    );
    assert!(page.contains("ルート CA 証明書のインストール"));
    assert!(page.contains("クライアント証明書のインストール"));
    assert!(page.contains(&app.confirm_url), "Step 4's URL");

    let cert = app
        .http
        .get(format!("{url}/certificate"))
        .header("cookie", &session)
        .send()
        .await
        .expect("download");
    assert_eq!(cert.status(), StatusCode::OK);
    assert!(cert
        .text()
        .await
        .expect("pem")
        .contains("BEGIN CERTIFICATE"));
}

#[tokio::test]
async fn a_renewal_site_carries_the_renewal_title() {
    let app = TestApp::spawn().await;
    let url = app.prepare("U0021", "pw").await.one_time_url;
    let auth = app.auth(&url, "pw").await;
    app.issue_fixture(&url, &auth.session, "csr/rsa1024.csr.pem")
        .await;
    let resp = app
        .post_enrollment(&json!({"user_id": "U0021", "email": "u0021@example.test", "auth_password": "pw2", "kind": "renew"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let renew: Value = resp.json().await.expect("json");
    let url = renew["one_time_url"].as_str().expect("url");
    let info: Value = app
        .http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(info["site_title"], "証明書更新サイト");
    assert_eq!(info["kind"], "renew");
    let page = app
        .http
        .get(url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(page.contains("<title>証明書更新サイト"));
}

#[tokio::test]
async fn the_confirmation_page_without_a_certificate_is_401_as_json_or_as_a_japanese_page() {
    let app = TestApp::spawn().await;
    let root = ::pem::parse(crate::helpers::fixture("root.cert.pem")).expect("root PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            root.into_contents(),
        ))
        .expect("root");
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client");
    let json = client
        .get(&app.confirm_url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("TLS without a client certificate");
    assert_problem(json, 401, "certificate-required").await;
    let page = client
        .get(&app.confirm_url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("TLS without a client certificate");
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(page.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let text = page.text().await.expect("html");
    assert!(
        text.contains("lang=\"ja\"") && text.contains("certificate-required"),
        "{text}"
    );
}
