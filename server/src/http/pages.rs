//! The issuance site's pages, one per step, in Japanese as the manual shows them.
//! Plain HTML that works without JavaScript; maud escapes every value.

use maud::{html, Markup, DOCTYPE};
use webra2_wire::{AuthResponse, Fingerprint, Issued, Problem};

fn layout(site_title: &str, step: u8, step_title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                title { (site_title) " - 【ステップ" (step) "】" (step_title) }
                style { "body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.6}
                    .hint{border:1px solid #888;padding:.5em 1em;background:#f6f6f0}
                    .error{border:2px solid #c00;padding:.5em 1em;color:#900}
                    code{font-size:1.1em}" }
            }
            body {
                h1 { (site_title) }
                h2 { "【ステップ" (step) "】" (step_title) }
                (body)
                hr;
                p { small { "webra2-mock: テスト用の模擬認証局です。本番の証明書ではありません。" } }
            }
        }
    }
}

/// Step 1: the auth password form (and the error of a wrong one).
pub fn step1(site_title: &str, token: &str, error: Option<&Problem>) -> Markup {
    layout(
        site_title,
        1,
        "認証情報パスワードの入力",
        html! {
            @if let Some(p) = error {
                div.error role="alert" {
                    p { "認証情報パスワードが正しくありません。" }
                    @if let Some(n) = p.remaining_attempts {
                        p { "あと " strong { (n) } " 回間違えると、このURLはロックされます。" }
                    }
                }
            }
            form method="post" action={ "/issue/" (token) "/auth" } {
                p {
                    label for="auth_password" { "認証情報パスワード" }
                    " "
                    input type="password" id="auth_password" name="auth_password" required autocomplete="off";
                }
                p { button type="submit" { "次へ" } }
            }
        },
    )
}

/// Step 2: the fixed CSP and key length, and the request.
pub fn step2(site_title: &str, token: &str, auth: &AuthResponse) -> Markup {
    layout(
        site_title,
        2,
        "鍵の生成と証明書の発行",
        html! {
            p { "CSP : " code { (auth.csp) } }
            p { "Key 長 : " code { (auth.key_length) " bit" } }
            div.hint {
                p { "◆ヒント◆" }
                p { "CSP と Key 長は固定です。変更しないでください。" }
                p { "受け付ける鍵: " (auth.accepted_keys.join(", ")) }
            }
            p { "証明書要求 (PKCS#10, PEM) を貼り付けて、発行ボタンを一度だけ押してください。" }
            form method="post" action={ "/issue/" (token) "/csr" } {
                p { textarea name="csr" rows="12" cols="66" required placeholder="-----BEGIN CERTIFICATE REQUEST-----" {} }
                p { button type="submit" { "発行" } }
            }
        },
    )
}

/// Step 3: the root with its fingerprint, then the client certificate; Step 4's URL.
pub fn step3(
    site_title: &str,
    token: &str,
    issued: &Issued,
    fp: &Fingerprint,
    root_subject: &str,
) -> Markup {
    layout(
        site_title,
        3,
        "証明書のインストール",
        html! {
            h3 { "ルート CA 証明書のインストール" }
            p { "発行先: " code { (root_subject) } }
            p { "拇印 (SHA-1): " code id="sha1" { (fp.sha1) } }
            p { "インストールする前に、拇印がマニュアルに記載された値と一致することを確認してください。" }
            p { a href="/ca/root.crt" download="root.crt" { button type="button" { "ルート CA 証明書のインストール" } } }
            h3 { "クライアント証明書のインストール" }
            p { "シリアル番号: " code { (issued.serial) } }
            p { "有効期間: " (issued.not_before.date()) " から " (issued.not_after.date()) }
            p {
                a href={ "/issue/" (token) "/certificate?format=pem" } { button type="button" { "クライアント証明書のインストール" } }
                " "
                a href={ "/issue/" (token) "/certificate?format=der" } { "DER" }
                " "
                a href={ "/issue/" (token) "/certificate?format=p7c" } { "PKCS#7" }
            }
            h2 { "【ステップ4】証明書の確認" }
            @if let Some(url) = &issued.confirm_url {
                p { "証明書確認ページ: " a href=(url) { (url) } }
            }
        },
    )
}
