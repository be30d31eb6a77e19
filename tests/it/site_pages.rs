//! The issuance site as a browser asks for it (`Accept: text/html`, forms, the
//! session cookie): Japanese pages, error pages made from the problem
//! documents, and 発行 sent twice. The walk in real Chromium is in tests/browser.

use crate::helpers::{assert_problem, fixture, TestApp};
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// What Chromium sends when it navigates.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn page(resp: Response, status: StatusCode) -> String {
    assert_eq!(resp.status(), status);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "text/html; charset=utf-8");
    let html = resp.text().await.expect("body");
    assert!(html.contains(r#"<html lang="ja">"#), "{html}");
    html
}

/// `application/x-www-form-urlencoded`, as a browser writes a form.
fn form_urlencoded(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl TestApp {
    async fn browser_get(&self, url: &str, cookie: Option<&str>) -> Response {
        let mut req = self.http.get(url).header("accept", BROWSER_ACCEPT);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.expect("public reachable")
    }

    async fn browser_post(
        &self,
        url: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Response {
        let body = form_urlencoded(form);
        let mut req = self
            .http
            .post(url)
            .header("accept", BROWSER_ACCEPT)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.expect("public reachable")
    }

    /// Step 1 as a form; returns the session cookie (`name=value`) and the Step 2 page.
    async fn browser_auth(&self, url: &str, password: &str) -> (String, String) {
        let resp = self
            .browser_post(&format!("{url}/auth"), None, &[("auth_password", password)])
            .await;
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        (cookie, page(resp, StatusCode::OK).await)
    }
}

#[tokio::test]
async fn errors_are_japanese_pages_for_browsers_and_problem_json_for_api_clients() {
    let app = TestApp::spawn().await;
    let url = format!("{}/issue/unknown-token", app.public_url);
    let html = page(app.browser_get(&url, None).await, StatusCode::NOT_FOUND).await;
    assert!(html.contains("URL が正しくありません"), "{html}");
    assert!(html.contains(r#"data-problem="unknown-url""#), "{html}");
    assert!(html.contains("次の操作"), "{html}");

    let json = app
        .http
        .get(&url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_problem(json, 404, "unknown-url").await;
    let any = app
        .http
        .get(&url)
        .header("accept", "*/*")
        .send()
        .await
        .expect("get");
    assert_problem(any, 404, "unknown-url").await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_show_step1_with_attempts_left_then_the_locked_page() {
    let app = TestApp::spawn().await;
    let created = app.prepare("P0001", "right").await;
    let auth = format!("{}/auth", created.one_time_url);
    for left in [4, 3, 2, 1] {
        let resp = app
            .browser_post(&auth, None, &[("auth_password", "wrong")])
            .await;
        let html = page(resp, StatusCode::UNAUTHORIZED).await;
        assert!(html.contains("【ステップ1】"), "{html}");
        assert!(html.contains(&format!("<strong>{left}</strong>")), "{html}");
        assert!(
            html.contains(r#"name="auth_password""#),
            "the form is there again"
        );
    }
    let resp = app
        .browser_post(&auth, None, &[("auth_password", "wrong")])
        .await;
    let html = page(resp, StatusCode::LOCKED).await;
    assert!(html.contains("ロックされています"), "{html}");
    assert!(html.contains("管理者に連絡"), "{html}");
    let resp = app.browser_get(&created.one_time_url, None).await;
    page(resp, StatusCode::LOCKED).await;
    app.stop().await;
}

#[tokio::test]
async fn a_renewal_page_carries_the_renewal_title_even_on_errors() {
    let app = TestApp::spawn().await;
    let first = app.prepare("P0002", "pw").await;
    let auth = app.auth(&first.one_time_url, "pw").await;
    app.issue_fixture(&first.one_time_url, &auth.session, "csr/rsa1024.csr.pem")
        .await;
    let resp = app
        .post_enrollment(&serde_json::json!({
            "user_id": "P0002", "email": "p0002@example.test", "auth_password": "pw2", "kind": "renew"
        }))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let renew: Value = resp.json().await.expect("json");
    let url = renew["one_time_url"].as_str().expect("url");

    let html = page(app.browser_get(url, None).await, StatusCode::OK).await;
    assert!(
        html.contains("<title>証明書更新サイト - 【ステップ1】"),
        "{html}"
    );
    let step3 = format!("{url}/step3");
    let html = page(
        app.browser_get(&step3, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(html.contains("<h1>証明書更新サイト</h1>"), "{html}");
    assert!(html.contains("認証情報パスワードの入力へ戻る"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn issue_pressed_twice_shows_the_same_step3_and_issues_once() {
    let app = TestApp::spawn().await;
    let created = app.prepare("P0003", "pw").await;
    let url = &created.one_time_url;
    let (cookie, step2) = app.browser_auth(url, "pw").await;
    assert!(
        step2.contains("CSP : Microsoft Enhanced Cryptographic Provider v1.0"),
        "{step2}"
    );
    assert!(step2.contains("Key 長 : 1024 bit"), "{step2}");
    assert!(step2.contains("◆ヒント◆"), "{step2}");
    assert!(step2.contains("一度だけ"), "{step2}");

    let csr = String::from_utf8(fixture("csr/rsa1024.csr.pem")).expect("pem");
    let csr_url = format!("{url}/csr");
    let first = app
        .browser_post(&csr_url, Some(&cookie), &[("csr", &csr)])
        .await;
    let first = page(first, StatusCode::CREATED).await;
    let second = app
        .browser_post(&csr_url, Some(&cookie), &[("csr", &csr)])
        .await;
    let second = page(second, StatusCode::OK).await;
    let serial = |html: &str| {
        html.split(r#"data-serial=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
            .expect("a serial on the page")
    };
    assert_eq!(serial(&first), serial(&second));
    assert!(
        second.contains("ルート CA 証明書のインストール"),
        "{second}"
    );
    assert!(
        second.contains("クライアント証明書のインストール"),
        "{second}"
    );

    let (_, certs) = app.admin_get("/admin/certificates?user_id=P0003").await;
    assert_eq!(certs.as_array().map(Vec::len), Some(1), "{certs}");
    // An API client is still told the URL is used, and another browser too.
    let api = app
        .http
        .post(&csr_url)
        .header("accept", "application/json")
        .header("content-type", "application/x-pem-file")
        .header("cookie", &cookie)
        .body(csr.clone())
        .send()
        .await
        .expect("post");
    assert_problem(api, 410, "url-already-used").await;
    let stranger = app.browser_post(&csr_url, None, &[("csr", &csr)]).await;
    let html = page(stranger, StatusCode::GONE).await;
    assert!(html.contains("発行済み"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn step3_shows_the_root_fingerprint_in_five_groups_and_the_confirm_url() {
    let app = TestApp::spawn().await;
    let created = app.prepare("P0004", "pw").await;
    let url = &created.one_time_url;
    let (cookie, _) = app.browser_auth(url, "pw").await;
    let csr = String::from_utf8(fixture("csr/rsa1024.csr.pem")).expect("pem");
    let resp = app
        .browser_post(&format!("{url}/csr"), Some(&cookie), &[("csr", &csr)])
        .await;
    page(resp, StatusCode::CREATED).await;

    let html = page(
        app.browser_get(&format!("{url}/step3"), Some(&cookie))
            .await,
        StatusCode::OK,
    )
    .await;
    let sha1 = String::from_utf8(fixture("root.sha1")).expect("text");
    let sha1 = sha1.trim();
    assert_eq!(sha1.split(' ').count(), 5, "{sha1}");
    assert!(html.contains(sha1), "{html}");
    assert!(
        html.contains(r#"href="/ca/root.crt" download="root.crt""#),
        "{html}"
    );
    assert!(html.contains(&app.confirm_url), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn the_pages_load_their_scripts_and_style_from_the_mock_itself() {
    let app = TestApp::spawn().await;
    let created = app.prepare("P0005", "pw").await;
    let (_, step2) = app.browser_auth(&created.one_time_url, "pw").await;
    for asset in [
        "/static/site.css",
        "/static/webra2-crypto.js",
        "/static/enroll.js",
    ] {
        assert!(
            step2.contains(&format!("\"{asset}\"")),
            "{asset} in {step2}"
        );
        let resp = app
            .http
            .get(format!("{}{asset}", app.public_url))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::OK, "{asset}");
    }
    assert!(
        !step2.contains("src=\"http") && !step2.contains("href=\"http"),
        "{step2}"
    );
    let missing = app
        .browser_get(&format!("{}/static/nope.js", app.public_url), None)
        .await;
    page(missing, StatusCode::NOT_FOUND).await;
    app.stop().await;
}

#[tokio::test]
async fn after_issuing_the_mail_url_leads_its_session_to_step3_and_others_to_what_to_do() {
    let app = TestApp::spawn().await;
    let created = app.prepare("P0006", "pw").await;
    let url = &created.one_time_url;
    let (cookie, _) = app.browser_auth(url, "pw").await;
    let csr = String::from_utf8(fixture("csr/rsa1024.csr.pem")).expect("pem");
    let issued = app
        .browser_post(&format!("{url}/csr"), Some(&cookie), &[("csr", &csr)])
        .await;
    assert_eq!(
        issued
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "a page is never kept: Back asks the service again"
    );
    page(issued, StatusCode::CREATED).await;

    // Back to Step 1 (or the mail's URL again) in the browser that issued: Step 3.
    let back = app.browser_get(url, Some(&cookie)).await;
    assert_eq!(
        back.url().path(),
        format!("{}/step3", reqwest::Url::parse(url).expect("url").path())
    );
    let html = page(back, StatusCode::OK).await;
    assert!(html.contains("【ステップ3】"), "{html}");

    // Any other browser: the certificate was issued, and what to do with it;
    // not "enter the password again", which cannot work any more.
    for path in [url.clone(), format!("{url}/step3")] {
        let resp = app.browser_get(&path, None).await;
        let status = resp.status();
        let html = page(resp, status).await;
        assert!(
            html.contains(r#"data-problem="url-already-used""#),
            "{path}: {html}"
        );
        assert!(
            html.contains("発行済み") && html.contains("インストール"),
            "{html}"
        );
        assert!(!html.contains("認証情報パスワードの入力へ戻る"), "{html}");
    }
    // API clients keep the contract's answers.
    let api = app
        .http
        .get(format!("{url}/step3"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_problem(api, 401, "session-required").await;
    app.stop().await;
}

#[tokio::test]
async fn the_front_page_shows_the_root_to_compare_and_the_confirmation_page() {
    let app = TestApp::spawn().await;
    let html = page(
        app.browser_get(&format!("{}/", app.public_url), None).await,
        StatusCode::OK,
    )
    .await;
    let sha1 = String::from_utf8(fixture("root.sha1")).expect("text");
    assert!(html.contains(sha1.trim()), "{html}");
    assert!(html.contains("NEC Certification Authority"), "{html}");
    assert!(html.contains(&app.confirm_url), "{html}");
    app.stop().await;
}
