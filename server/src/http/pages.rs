//! The issuance site's pages, one per step, in Japanese as the manual shows them,
//! and the error pages a browser sees. Steps 1 and 3 work without JavaScript;
//! Step 2's key generation needs it (`/static/enroll.js`), says so when it is
//! off, and falls back to a pasted request or to a key made by the service.
//! maud escapes every value. Dates are written as the Windows certificate
//! dialog writes them (`2026/12/02`, [`webra2_wire::jst_slash_date`]).

use crate::service::RootView;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use webra2_wire::{
    jst_slash_date, AuthResponse, Confirmation, Issued, PinRule, Pkcs12Compat, Problem, ProblemKind,
};

/// The PIN rule as an HTML pattern: half-width alphanumerics, as many as the
/// profile lets the PKCS#12 path take (the page script checks the same).
fn pin_pattern(rule: &PinRule) -> String {
    format!("[A-Za-z0-9]{{{},{}}}", rule.min_chars, rule.max_chars)
}
/// Where a page's scripts and style sheet are served (see [`super::assets`]).
const CSS: &str = "/static/site.css";
/// Every page's script: buttons that are links react to Space.
const SITE_SCRIPT: &str = "/static/site.js";
/// Step 2's and Step 3's scripts besides it: the key made in the page.
const ENROLL_SCRIPTS: [&str; 2] = ["/static/webra2-crypto.js", "/static/enroll.js"];
/// No icon file: an empty one, so browsers ask for no `/favicon.ico`.
const NO_ICON: &str = "data:,";

/// What a page's head and frame need to know.
struct Frame<'a> {
    site_title: &'a str,
    /// `【ステップN】…`, or an error heading.
    heading: String,
    /// `data-*` on `<body>`, for the page script and for tests.
    step: Option<u8>,
    user_id: Option<&'a str>,
    serial: Option<&'a str>,
    problem: Option<&'a str>,
    scripts: bool,
}

fn layout(frame: Frame<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.site_title) " - " (frame.heading) }
                link rel="icon" href=(NO_ICON);
                link rel="stylesheet" href=(CSS);
                script src=(SITE_SCRIPT) defer {}
                @if frame.scripts {
                    @for src in ENROLL_SCRIPTS { script src=(src) defer {} }
                }
                @if frame.step == Some(2) {
                    // Without JavaScript the PIN of the key made in the page does nothing.
                    noscript { style { (PreEscaped("#in-page-key{display:none}")) } }
                }
            }
            body data-step=[frame.step] data-user-id=[frame.user_id]
                data-serial=[frame.serial] data-problem=[frame.problem] {
                header.site { h1 { (frame.site_title) } }
                main {
                    h2.step #page-heading tabindex="-1" { (frame.heading) }
                    (body)
                }
                footer { p { "webra2-mock: テスト用の模擬認証局です。本番の証明書ではありません。" } }
            }
        }
    }
}

fn step_heading(step: u8, title: &str) -> String {
    format!("【ステップ{step}】{title}")
}

/// Step 1: the auth password form (and the error of a wrong one).
pub fn step1(site_title: &str, token: &str, error: Option<&Problem>) -> Markup {
    let frame = Frame {
        site_title,
        heading: step_heading(1, "認証情報パスワードの入力"),
        step: Some(1),
        user_id: None,
        serial: None,
        problem: None,
        scripts: false,
    };
    layout(
        frame,
        html! {
            @if let Some(p) = error {
                div.error role="alert" data-problem="wrong-password" {
                    p { "認証情報パスワードが正しくありません。" }
                    @if let Some(n) = p.remaining_attempts {
                        p #remaining-attempts { "あと " strong { (n) } " 回間違えると、この URL はロックされます。" }
                    }
                    p { "管理者から通知された認証情報パスワードを、大文字と小文字に注意してもう一度入力してください。" }
                }
            }
            p { "管理者から通知された認証情報パスワードを入力し、「次へ」ボタンを押してください。" }
            form method="post" action={ "/issue/" (token) "/auth" } {
                p {
                    label for="auth_password" { "認証情報パスワード" }
                    input type="password" id="auth_password" name="auth_password" required autocomplete="off";
                }
                p { button.primary type="submit" id="next" { "次へ" } }
            }
        },
    )
}

/// The root CA to compare (the manual's check Ⓐ): its name, the full
/// subject beside it, the SHA-1 fingerprint.
fn root_check(root: &RootView, ids: bool) -> Markup {
    html! {
        p {
            "発行先 : " strong.root-name id=[ids.then_some("root-name")] { (root.name) }
            br;
            span.subject { "(サブジェクト全体 : " code id=[ids.then_some("root-subject")] { (root.subject) } ")" }
        }
        p { "拇印 (SHA-1) : " span.fingerprint id=[ids.then_some("sha1")] { (root.fingerprint.sha1) } }
    }
}

/// Step 2: the fixed CSP and key length, the PIN, and 発行; without
/// JavaScript, a pasted request or the service-made key, whose file holds the
/// root, so the root's fingerprint check comes before its download.
pub fn step2(site_title: &str, token: &str, auth: &AuthResponse, root: &RootView) -> Markup {
    let frame = Frame {
        site_title,
        heading: step_heading(2, "証明書の発行"),
        step: Some(2),
        user_id: None,
        serial: None,
        problem: None,
        scripts: true,
    };
    let step3 = format!("/issue/{token}/step3");
    let rule = auth.pin_rule.unwrap_or_default();
    let legacy = auth.pkcs12_compat == Some(Pkcs12Compat::Legacy);
    layout(
        frame,
        html! {
            noscript {
                div.error #no-javascript {
                    p { strong { "このブラウザーでは JavaScript が無効になっています。" } }
                    p { "「発行」でブラウザーの中に鍵を生成するには JavaScript が必要です。JavaScript を有効にできない場合は、次のどちらかの方法で発行してください。" }
                    ul {
                        li { a href="#paste" { "証明書要求を貼り付けて発行する" } " : 別の方法で作成した証明書要求 (PKCS#10) を使います。" }
                        li { a href="#server-pkcs12" { "鍵をサーバーで生成する" } " : 鍵と証明書を PIN で保護したファイル (PKCS#12) をダウンロードします。" }
                    }
                }
            }
            p #csp { "CSP : " (auth.csp) }
            p #key-length { "Key 長 : " (auth.key_length) " bit" }
            div.hint {
                p.label { "◆ヒント◆" }
                p { "CSP と Key 長は固定です。変更することはできません。" }
                p { "このページでは、ブラウザーの中で鍵ペアを生成します。秘密鍵がブラウザーの外へ送られることはありません。" }
            }
            form #enroll method="post" action={ "/issue/" (token) "/csr" }
                data-key-length=(auth.key_length) data-step3=(step3)
                data-pin-min=(rule.min_chars) data-pin-max=(rule.max_chars) data-pin-rule=(rule.describe()) {
                div #in-page-key {
                    h3 { "PIN の設定" }
                    p { "証明書と秘密鍵をまとめたファイル (PKCS#12) を保護する PIN を決めてください。" }
                    p.pin-rule { (rule.describe()) }
                    // No `name`: the PIN is never posted, it only encrypts the file in the page.
                    p { label for="pin" { "PIN" } input type="password" id="pin" autocomplete="new-password"; }
                    p { label for="pin-confirm" { "PIN (確認)" } input type="password" id="pin-confirm" autocomplete="new-password"; }
                }
                p.warning { "「発行」ボタンは一度だけ押してください。処理が終わるまで、ボタンを再度押したり、ページを再読み込みしたりしないでください。" }
                p { button.primary type="submit" id="issue" { "発行" } }
                p.status #enroll-status role="status" {}
                // Open, so it is there without JavaScript; enroll.js closes it.
                details #paste open {
                    summary { "証明書要求を貼り付けて発行する (JavaScript が使えない場合)" }
                    p { "別の方法で作成した証明書要求を貼り付けて「発行」を押してください。PKCS#10 のほか、Windows の certreq が作る CMC / PKCS#7 形式も受け付けます (PEM または Base64)。" }
                    p { label.block for="csr" { "証明書要求 (PEM または Base64)" } }
                    textarea #csr name="csr" rows="10" placeholder="-----BEGIN CERTIFICATE REQUEST-----" {}
                }
            }
            form #server-pkcs12 method="post" action={ "/issue/" (token) "/pkcs12" } data-step3=(step3)
                data-pin-min=(rule.min_chars) data-pin-max=(rule.max_chars) data-pin-rule=(rule.describe()) {
                h3 { "鍵をサーバーで生成する (代替手段)" }
                p { "ブラウザーで鍵を生成できない場合は、サービスが鍵を生成し、証明書と一緒に PIN で保護した PKCS#12 ファイルとして渡します。" }
                div.hint #server-root-check {
                    p.label { "◆ルート CA 証明書の確認◆" }
                    p { "このファイルにはルート CA 証明書も入っています。インストールする前に、途中で表示されるルート CA の発行先と拇印が次の値と一致することを必ず確認してください。一致しない場合はインストールせず、管理者に連絡してください。" }
                    (root_check(root, false))
                }
                p.pin-rule { (rule.describe()) }
                p { label for="server-pin" { "PIN" } input type="password" id="server-pin" name="pin" pattern=(pin_pattern(&rule)) autocomplete="new-password"; }
                p { label for="server-pin-confirm" { "PIN (確認)" } input type="password" id="server-pin-confirm" autocomplete="new-password"; }
                fieldset #pkcs12-compat {
                    legend { "ファイルの形式" }
                    p { label { input type="radio" name="compat" value="modern" checked[!legacy]; " 標準 (Windows 10 以降、Windows Server 2019 以降、OpenSSL 3): AES-256, SHA-256" } }
                    p { label { input type="radio" name="compat" value="legacy" checked[legacy]; " 古い Windows / macOS 用 (Windows Server 2016 以前、macOS キーチェーン): 3DES, RC2-40, SHA-1" } }
                }
                p { button type="submit" id="server-issue" { "サーバーで鍵を生成して発行" } }
                p.status #server-status role="status" {}
                p { "ダウンロードが終わったら、" a href=(step3) { "【ステップ3】証明書のインストール" } " へ進んでください。" }
            }
        },
    )
}

/// Where each file goes, per platform, as steps (12)–(24) of the manual do
/// for Windows: the root into 信頼されたルート証明機関, the PKCS#12 into 個人.
fn install_guide(root: &RootView) -> Markup {
    html! {
        section #install-guide {
            h3 { "インストールのしかた" }
            p { "「インストール」のボタンはファイルを保存します。保存したファイルを、お使いの環境に合わせて次の手順でインストールしてください。ルート CA 証明書を先にインストールします。" }
            details #guide-windows open {
                summary { "Windows (Edge, Chrome, Internet Explorer)" }
                p { strong { "ルート CA 証明書 (root.crt)" } }
                ol {
                    li { "保存した root.crt をダブルクリックし、「証明書のインストール」を押します。" }
                    li { "証明書のインポート ウィザードで「現在のユーザー」を選び、「次へ」を押します。" }
                    li { "「証明書をすべて次のストアに配置する」を選び、「参照」から「信頼されたルート証明機関」を選んで「次へ」、「完了」を押します。" }
                    li { "セキュリティ警告に表示される拇印 (sha1) が、上の拇印と一致することを確認してから「はい」を押します。" }
                }
                p { strong { "クライアント証明書 (.p12)" } }
                ol {
                    li { "保存した .p12 ファイルをダブルクリックし、「現在のユーザー」を選んで「次へ」を押します。" }
                    li { "ファイル名を確かめて「次へ」を押し、ステップ2で決めた PIN を入力して「次へ」を押します。" }
                    li { "「証明書をすべて次のストアに配置する」を選び、「参照」から「個人」を選んで「次へ」、「完了」を押します。" }
                }
            }
            details #guide-macos {
                summary { "macOS (Safari, Chrome)" }
                p { strong { "ルート CA 証明書 (root.crt)" } }
                ol {
                    li { "保存した root.crt をダブルクリックし、キーチェーン「ログイン」に追加します。" }
                    li { "キーチェーンアクセスで証明書「" (root.name) "」を開き、SHA-1 の指紋が上の拇印と一致することを確認します。" }
                    li { "「信頼」を開き、「この証明書を使用するとき」を「常に信頼」にしてウインドウを閉じます。" }
                }
                p { strong { "クライアント証明書 (.p12)" } }
                ol {
                    li { "保存した .p12 ファイルをダブルクリックし、キーチェーン「ログイン」を選びます。" }
                    li { "ステップ2で決めた PIN を入力します。証明書と秘密鍵が「自分の証明書」に入ります。" }
                }
            }
            details #guide-firefox {
                summary { "Firefox (Windows, macOS, Linux)" }
                p { "Firefox は OS とは別の証明書ストアを使います。" }
                p { strong { "ルート CA 証明書 (root.crt)" } }
                ol {
                    li { "「設定」→「プライバシーとセキュリティ」→「証明書を表示...」を開き、「認証局証明書」タブで「読み込む...」を押して root.crt を選びます。" }
                    li { "「この認証局によるウェブサイトの識別を信頼する」にチェックを入れ、「表示」で SHA-1 の指紋が上の拇印と一致することを確認してから「OK」を押します。" }
                }
                p { strong { "クライアント証明書 (.p12)" } }
                ol {
                    li { "同じ画面の「あなたの証明書」タブで「読み込む...」を押し、保存した .p12 ファイルを選びます。" }
                    li { "ステップ2で決めた PIN を入力します。" }
                }
            }
        }
    }
}

/// Step 3: the root with its fingerprint, then the client certificate, where
/// each goes; Step 4's URL.
pub fn step3(
    site_title: &str,
    token: &str,
    user_id: &str,
    issued: &Issued,
    root: &RootView,
) -> Markup {
    let frame = Frame {
        site_title,
        heading: step_heading(3, "証明書のインストール"),
        step: Some(3),
        user_id: Some(user_id),
        serial: Some(&issued.serial),
        problem: None,
        scripts: true,
    };
    let cert = |format: &str| format!("/issue/{token}/certificate?format={format}");
    layout(
        frame,
        html! {
            p { "証明書が発行されました。次の順番でインストールしてください。" }
            p.warning #reload-warning {
                "ステップ2でブラウザーが生成した秘密鍵は、このページの中にだけあります。"
                "「クライアント証明書のインストール」でファイルを保存する前にこのページを再読み込みしたり、閉じたり、前のページに戻ったりすると、秘密鍵は失われ、この証明書は使えなくなります。"
            }
            h3 { "1. ルート CA 証明書のインストール" }
            (root_check(root, true))
            div.hint {
                p.label { "◆ヒント◆" }
                p { "インストールの途中で表示される発行先が「" (root.name) "」であること、拇印が上の値と一致することを必ず確認してください。一致しない場合はインストールせず、管理者に連絡してください。" }
            }
            p { a.button.primary #root-ca role="button" href="/ca/root.crt" download="root.crt" { "ルート CA 証明書のインストール" } }
            h3 { "2. クライアント証明書のインストール" }
            p { "ユーザーID : " (user_id) }
            p { "シリアル番号 : " code #serial { (issued.serial) } }
            p { "有効期間 : " span #validity { (jst_slash_date(issued.not_before)) " ～ " (jst_slash_date(issued.not_after)) } }
            p { a.button.primary #client-cert role="button" href=(cert("pem")) { "クライアント証明書のインストール" } }
            p.status #pkcs12-status role="status" hidden {}
            p #no-key-note {
                "このページから保存できるのは証明書だけです (秘密鍵は含まれません)。"
                "秘密鍵は、証明書要求を作成した場所にあります。ブラウザーで鍵を生成した場合は、そのとき保存した PKCS#12 ファイル (.p12) をインストールしてください。"
                "保存する前にページを閉じてしまった場合は、管理者に再発行を依頼してください。"
            }
            p { "証明書だけを取り出す場合: "
                a #cert-pem href=(cert("pem")) { "PEM" } " / "
                a #cert-der href=(cert("der")) { "DER" } " / "
                a #cert-p7c href=(cert("p7c")) { "PKCS#7" } }
            (install_guide(root))
            h2.step { (step_heading(4, "証明書の確認")) }
            @if let Some(url) = &issued.confirm_url {
                p { "インストールが終わったら、証明書確認ページを開いてください。ブラウザーが証明書の選択を求めたら、いまインストールした証明書を選びます。" }
                p { "証明書確認ページ : " a.url #confirm-url href=(url) { (url) } }
            }
        },
    )
}

/// What an error page says: a heading, what happened, and what to do next.
struct ErrorText {
    heading: &'static str,
    what: &'static str,
    next: &'static str,
    /// Whether entering the auth password again (Step 1) is the way on.
    retry_step1: bool,
}

fn error_text(kind: Option<ProblemKind>) -> ErrorText {
    let text = |heading, what, next, retry_step1| ErrorText {
        heading,
        what,
        next,
        retry_step1,
    };
    const ASK_ADMIN: &str = "管理者に連絡し、証明書の発行をもう一度依頼してください。新しいワンタイム URL がメールで届きます。";
    const AGAIN: &str = "メールに記載された URL を開き、認証情報パスワードを入力し直してください。";
    const BACK: &str =
        "認証情報パスワードを入力し直してから、ステップ2で「発行」をもう一度押してください。";
    match kind {
        Some(ProblemKind::UnknownUrl) => text(
            "URL が正しくありません",
            "このワンタイム URL は登録されていません。",
            "メールに記載された URL を、途中で切れていないか確認してからもう一度開いてください。解決しない場合は管理者に連絡してください。",
            false,
        ),
        Some(ProblemKind::UrlAlreadyUsed) => text(
            "この URL では証明書が発行済みです",
            "このワンタイム URL では、すでに証明書が発行されています。ワンタイム URL は一度しか使えないため、この URL でもう一度発行することはできません。",
            "発行したときに保存したファイル (クライアント証明書の PKCS#12 ファイルなど) をまだインストールしていない場合は、ステップ3の手順でインストールしてください。ステップ3の画面は、発行したブラウザーでこの URL を開き直すと表示されます。ファイルを保存していない場合や、発行した覚えがない場合は、管理者に連絡してください。",
            false,
        ),
        Some(ProblemKind::UrlExpired) => text(
            "この URL は有効期限が切れています",
            "このワンタイム URL の有効期限を過ぎています。",
            ASK_ADMIN,
            false,
        ),
        Some(ProblemKind::WrongPassword) => text(
            "認証情報パスワードが正しくありません",
            "入力された認証情報パスワードが正しくありません。",
            "管理者から通知された認証情報パスワードを、大文字と小文字に注意してもう一度入力してください。",
            true,
        ),
        Some(ProblemKind::Locked) => text(
            "この URL はロックされています",
            "認証情報パスワードを続けて間違えたため、このワンタイム URL はロックされました。この URL ではもう証明書を発行できません。",
            ASK_ADMIN,
            false,
        ),
        Some(ProblemKind::SessionRequired) => text(
            "認証情報パスワードの入力が必要です",
            "このページは、ステップ1で認証情報パスワードを入力してから表示されるページです。",
            AGAIN,
            true,
        ),
        Some(ProblemKind::SessionExpired) => text(
            "セッションの有効期限が切れました",
            "認証情報パスワードを入力してから時間が経ちすぎたか、セッションが無効になりました (有効期限は30分です)。",
            AGAIN,
            true,
        ),
        Some(ProblemKind::BadCsr) => text(
            "証明書要求を読み取れません",
            "送信された証明書要求 (PKCS#10、CMC、PKCS#7) の形式が正しくないか、証明書要求が空です。",
            "認証情報パスワードを入力し直してから、ステップ2でもう一度発行してください。JavaScript が無効なブラウザーでは「発行」だけでは鍵を生成できません。ステップ2の「証明書要求を貼り付けて発行する」に証明書要求を貼り付けるか、「鍵をサーバーで生成する」を使ってください。",
            true,
        ),
        Some(ProblemKind::CsrSignatureInvalid) => text(
            "証明書要求の署名が正しくありません",
            "証明書要求の署名を検証できませんでした。",
            BACK,
            true,
        ),
        Some(ProblemKind::KeyPolicy) => text(
            "この鍵では発行できません",
            "証明書要求の鍵の種類または長さが、このサイトで許可されていません。",
            "ステップ2に表示された CSP と Key 長のまま、もう一度発行してください。認証情報パスワードから入力し直します。",
            true,
        ),
        Some(ProblemKind::RenewalSignature) => text(
            "現在の証明書による署名が必要です",
            "このサイトでは、更新の証明書要求に、更新する現在の証明書 (有効期限内で失効していないもの) の鍵による署名が必要です。",
            "更新する証明書がインストールされているコンピューターから、もう一度更新してください。認証情報パスワードから入力し直します。",
            true,
        ),
        Some(ProblemKind::PayloadTooLarge) => text(
            "送信内容が大きすぎます",
            "送信されたデータがこのページで受け付ける大きさを超えています。",
            BACK,
            true,
        ),
        Some(ProblemKind::UnsupportedMediaType) => text(
            "送信形式が正しくありません",
            "送信されたデータの形式を受け付けられません。",
            BACK,
            true,
        ),
        Some(ProblemKind::CertificateRequired) => text(
            "クライアント証明書が必要です",
            "このページを表示するには、発行されたクライアント証明書が必要です。",
            "ステップ3でクライアント証明書をインストールし、ブラウザーが証明書の選択を求めたらその証明書を選んでください。",
            false,
        ),
        Some(ProblemKind::CertificateRevoked) => text(
            "この証明書は失効しています",
            "提示されたクライアント証明書は失効しています。",
            ASK_ADMIN,
            false,
        ),
        Some(ProblemKind::NothingToRenew) => text(
            "更新する証明書がありません",
            "この利用者には、更新できる証明書がありません。",
            "管理者に連絡し、新規の発行を依頼してください。",
            false,
        ),
        Some(ProblemKind::NotFound) => text(
            "ページが見つかりません",
            "指定されたページは存在しません。",
            "メールに記載された URL から、もう一度手続きを始めてください。",
            false,
        ),
        Some(ProblemKind::StoreUnavailable) => text(
            "ただいまサービスを利用できません",
            "サービスのデータベースに一時的に接続できません。入力した内容は登録されていません。",
            "しばらく待ってから、もう一度お試しください。",
            false,
        ),
        Some(ProblemKind::Internal) => text(
            "サービスでエラーが発生しました",
            "処理の途中でサービスにエラーが発生しました。",
            "しばらく待ってから、もう一度お試しください。解決しない場合は管理者に連絡してください。",
            false,
        ),
        _ => text(
            "要求を処理できませんでした",
            "この要求は受け付けられませんでした。",
            "しばらく待ってから、メールに記載された URL からもう一度お試しください。解決しない場合は管理者に連絡してください。",
            false,
        ),
    }
}

/// The Japanese page for a contract error: what happened, what to do next,
/// and the problem document's own detail for the administrator.
pub fn error(
    site_title: &str,
    token: Option<&str>,
    kind: Option<ProblemKind>,
    problem: Option<&Problem>,
) -> Markup {
    // A wrong password is answered with the Step 1 form again, as the real site does.
    if let (Some(ProblemKind::WrongPassword), Some(token)) = (kind, token) {
        return step1(site_title, token, problem);
    }
    let text = error_text(kind);
    let slug = kind.map(|k| k.slug()).unwrap_or("error");
    let frame = Frame {
        site_title,
        heading: format!("エラー : {}", text.heading),
        step: None,
        user_id: None,
        serial: None,
        problem: Some(slug),
        scripts: false,
    };
    layout(
        frame,
        html! {
            div.error role="alert" #error data-problem=(slug) {
                p { (text.what) }
            }
            div.next #next-step {
                p { strong { "次の操作" } }
                p { (text.next) }
                @if let (true, Some(token)) = (text.retry_step1, token) {
                    p { a.button #back-to-step1 href={ "/issue/" (token) } { "認証情報パスワードの入力へ戻る" } }
                }
            }
            @if let Some(p) = problem {
                details #problem-detail {
                    summary { "管理者向けの詳細" }
                    dl.fixed {
                        dt { "エラーの種類" } dd { (text.heading) " (" code { (p.type_uri) } ")" }
                        dt { "HTTP ステータス" } dd { (p.status) }
                        dt { "サービスの記録" } dd { span lang="en" { (p.detail) } " (英語)" }
                    }
                }
            }
        },
    )
}

/// The public site's front page: where a user starts (the mail's URL), the
/// root to compare, and the confirmation page; what the confirmation page
/// links back to.
pub fn home(root: &RootView, confirm_url: &str) -> Markup {
    let frame = Frame {
        site_title: webra2_wire::SITE_TITLE_NEW,
        heading: "はじめに".to_owned(),
        step: None,
        user_id: None,
        serial: None,
        problem: None,
        scripts: false,
    };
    layout(
        frame,
        html! {
            p { "クライアント証明書の発行と更新は、管理者から届くメールに記載されたワンタイム URL から始めます。メールの URL を開き、別途通知された認証情報パスワードを入力してください。" }
            h3 { "ルート CA 証明書" }
            (root_check(root, true))
            p { a.button #root-ca role="button" href="/ca/root.crt" download="root.crt" { "ルート CA 証明書のダウンロード" } }
            h3 { "証明書の確認" }
            p { "インストールしたクライアント証明書は、" a.url #confirm-url href=(confirm_url) { "証明書確認ページ" } " で確認できます。" }
        },
    )
}

/// Step 4: the confirmation page of the confirm listener, with the same
/// style sheet (served there too) and a link back to the public site.
pub fn confirmation(c: &Confirmation, site_url: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "証明書確認ページ" }
                link rel="icon" href=(NO_ICON);
                link rel="stylesheet" href=(CSS);
            }
            body data-step="4" data-serial=(c.serial) {
                header.site { h1 { "証明書確認ページ" } }
                main {
                    h2.step { (step_heading(4, "証明書の確認")) }
                    p #confirmed { "クライアント証明書が正しくインストールされていることを確認しました。" }
                    table.details {
                        tr { th scope="row" { "ユーザーID" } td #user-id { (c.user_id) } }
                        tr { th scope="row" { "発行先" } td { code { (c.subject) } } }
                        tr { th scope="row" { "発行者" } td { code { (c.issuer) } } }
                        tr {
                            th scope="row" { "有効期間" }
                            td #validity { (jst_slash_date(c.not_before)) " ～ " (jst_slash_date(c.not_after)) }
                        }
                        tr { th scope="row" { "シリアル番号" } td { code #serial { (c.serial) } } }
                    }
                    p { a #back-to-site href=(site_url) { "証明書発行サイトへ戻る" } }
                }
                footer { p { "webra2-mock: テスト用の模擬認証局です。本番の証明書ではありません。" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_error_has_its_own_japanese_heading_and_next_step() {
        use ProblemKind::*;
        let generic = error_text(None).heading;
        // The slugs of the contract a browser can meet; admin-only ones share the generic page.
        let contract = [
            UnknownUrl,
            UrlAlreadyUsed,
            UrlExpired,
            WrongPassword,
            Locked,
            SessionRequired,
            SessionExpired,
            BadCsr,
            CsrSignatureInvalid,
            KeyPolicy,
            PayloadTooLarge,
            UnsupportedMediaType,
            CertificateRequired,
            CertificateRevoked,
            NothingToRenew,
            StoreUnavailable,
            RenewalSignature,
        ];
        let mut headings = std::collections::HashSet::new();
        for kind in contract {
            let text = error_text(Some(kind));
            assert_ne!(text.heading, generic, "{kind:?}");
            assert!(headings.insert(text.heading), "{kind:?} shares its heading");
            assert!(!text.next.is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn a_wrong_password_page_is_step1_with_the_attempts_left() {
        let problem = Problem {
            remaining_attempts: Some(3),
            ..Problem::new(ProblemKind::WrongPassword, "wrong")
        };
        let page = error(
            "証明書発行サイト",
            Some("TOKEN"),
            Some(ProblemKind::WrongPassword),
            Some(&problem),
        )
        .into_string();
        assert!(page.contains("【ステップ1】"), "{page}");
        assert!(page.contains("<strong>3</strong>"), "{page}");
        assert!(page.contains(r#"action="/issue/TOKEN/auth""#), "{page}");
    }
}
