//! The issuance site, step by step, as the manual walks the user through it.

use crate::certs::{self, CertFormat, CertInfo};
use crate::http::{self, CERT_LIMIT, JSON_LIMIT};
use crate::report::{Progress, Recorder, Report};
use crate::wrap::{wrap_request, RequestForm, WrapSigner};
use crate::{store, tls, ClientError, ClientKey};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::Url;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;
use webra2_wire::{
    paths, AuthRequest, AuthResponse, Confirmation, Issued, KeySpec, Kind, Pkcs12Compat,
    Pkcs12Request, SiteInfo, HEADER_CONFIRM_URL, HEADER_SERIAL, SITE_TITLE_NEW, SITE_TITLE_RENEW,
};

/// The issuer every certificate of the service must name.
pub(crate) const ISSUER_CN: &str = "NEC Certification Authority";
/// The subject CN of the request when no user id is known.
const DEFAULT_CN: &str = "webra2-client";

/// How the issuance site is walked and what is checked against: the choices
/// and expectations `issue` and `e2e` share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checks {
    /// The root's SHA-1 the user expects; `None` means the fixture root's.
    pub expect_root_sha1: Option<String>,
    /// The confirmation page; `None` takes the one the site names.
    pub confirm_url: Option<String>,
    /// The key to generate; `None` follows what the site shows.
    pub key_type: Option<KeySpec>,
    /// The format to download the certificate in.
    pub format: CertFormat,
    /// Take the PKCS#12 path: the site generates the key and answers a PIN-encrypted file.
    pub pkcs12: bool,
    /// Install the root CA (Step 3). `false` is the manual's appendix B: only the
    /// client certificate is installed and the certification path cannot be validated.
    pub install_root: bool,
    /// A trust anchor for the confirmation site's server certificate (PEM or DER file),
    /// for when the root is not installed.
    pub site_ca: Option<PathBuf>,
    /// Without an installed root, fail (instead of skip) the certification path check.
    pub require_path: bool,
    /// After the download, ask the certificate's OCSP responder: it must say
    /// `good` (`e2e` always does).
    pub ocsp: bool,
    /// The shape the request is sent in (plain PKCS#10, PKCS#7 or CMC), as
    /// Windows' `CR_IN_PKCS10`, `CR_IN_PKCS7`, `CR_IN_CMC`.
    pub request_form: RequestForm,
    /// On the PKCS#12 path: the form of the file to ask for; `None` takes the profile's.
    pub pkcs12_compat: Option<Pkcs12Compat>,
}

impl Default for Checks {
    /// The manual's way: the key the site shows, PEM, root installed, path checked.
    fn default() -> Self {
        Self {
            expect_root_sha1: None,
            confirm_url: None,
            key_type: None,
            format: CertFormat::default(),
            pkcs12: false,
            install_root: true,
            site_ca: None,
            require_path: false,
            ocsp: false,
            request_form: RequestForm::Pkcs10,
            pkcs12_compat: None,
        }
    }
}

/// What `issue` needs: the one-time URL and the user's secrets, where to install,
/// and what to check against.
#[derive(Clone)]
pub struct IssueOptions {
    /// The one-time URL from the mail (`.../issue/{token}`).
    pub url: String,
    /// The 認証情報パスワード.
    pub auth_password: String,
    /// The PIN that protects the stored private key.
    pub pin: String,
    /// The certificate store directory.
    pub store_dir: PathBuf,
    /// The user id the certificate must be issued to (check A); `None` skips it.
    pub user_id: Option<String>,
    /// When the issuance mail was sent (check D); `None` skips it.
    pub mail_sent_at: Option<OffsetDateTime>,
    /// How the site is walked and checked.
    pub checks: Checks,
    /// Check the site's title first: 証明書発行サイト (`new`) or 証明書更新サイト (`renew`).
    pub expect_kind: Option<Kind>,
    /// The serial of the certificate this issuance replaces (a renewal's, from its mail).
    pub previous_serial: Option<String>,
    /// Sign the request with the stored certificate `previous_serial` and its key
    /// (a CMS SignedData, as Windows renews): the key is opened with this PIN.
    pub sign_with_current: Option<String>,
}

impl IssueOptions {
    /// Options with the defaults for everything but the URL, secrets and store.
    pub fn new(
        url: impl Into<String>,
        auth_password: impl Into<String>,
        pin: impl Into<String>,
        store_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            url: url.into(),
            auth_password: auth_password.into(),
            pin: pin.into(),
            store_dir: store_dir.into(),
            user_id: None,
            mail_sent_at: None,
            checks: Checks::default(),
            expect_kind: None,
            previous_serial: None,
            sign_with_current: None,
        }
    }
}

impl std::fmt::Debug for IssueOptions {
    // The password and the PIN stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueOptions")
            .field("url", &self.url)
            .field("store_dir", &self.store_dir)
            .field("user_id", &self.user_id)
            .field("mail_sent_at", &self.mail_sent_at)
            .field("checks", &self.checks)
            .field("expect_kind", &self.expect_kind)
            .field("previous_serial", &self.previous_serial)
            .field("sign_with_current", &self.sign_with_current.is_some())
            .finish_non_exhaustive()
    }
}

/// Walks Steps 1 to 4 of the manual against the site at `opts.url` and returns
/// one report line per point the manual makes. Never panics on what the server
/// sends: every problem becomes a FAIL line, and later steps that depend on it
/// do not run.
pub async fn issue(opts: &IssueOptions, progress: &dyn Progress) -> Report {
    let mut rec = Recorder::new(progress);
    rec.report.user_id.clone_from(&opts.user_id);
    rec.report.store = Some(opts.store_dir.display().to_string());
    run_issue(opts, &mut rec).await;
    rec.finish()
}

/// What Step 2 leaves for Step 3.
struct Requested {
    key: ClientKey,
    issued: Issued,
    /// The PKCS#12 path: the file as received and the certificates it holds.
    p12: Option<(Vec<u8>, Vec<CertInfo>)>,
    /// The issuance instant: the CSR answer's `Date`, else the client's clock.
    issued_at: OffsetDateTime,
    issued_at_source: &'static str,
}

/// The steps of `issue`, recording into a report shared with `e2e`.
pub(crate) async fn run_issue(opts: &IssueOptions, rec: &mut Recorder<'_>) {
    rec.begin();
    rec.report.previous_serial.clone_from(&opts.previous_serial);
    // A one-time URL is used up by Step 2: a typo in the fingerprint must not cost it.
    if let Err(e) = expected_root_sha1(opts) {
        rec.fail("3-1", "ルートCA証明書 fingerprint", e.to_string());
        return;
    }
    // Nor a store that cannot take the certificate.
    if !store_is_writable(rec, &opts.store_dir, &opts.checks) {
        return;
    }
    let client = match http::plain_client() {
        Ok(c) => c,
        Err(e) => {
            rec.fail("1", "認証", e.to_string());
            return;
        }
    };
    let site = match OneTimeUrl::parse(&opts.url) {
        Ok(site) => site,
        Err(e) => {
            rec.fail("1", "認証", e.to_string());
            return;
        }
    };
    if let Some(kind) = opts.expect_kind {
        if step_site(rec, &client, &site, kind).await.is_none() {
            return;
        }
    }
    let Some(auth) = step_auth(opts, rec, &client, &site).await else {
        return;
    };
    // The site's PIN rule, in the site's words, before a key is made.
    if let Some(Err(words)) = auth.pin_rule.map(|rule| rule.check(&opts.pin)) {
        rec.fail("2", "鍵生成", words);
        return;
    }
    let requested = if opts.checks.pkcs12 {
        step_pkcs12(opts, rec, &client, &site, &auth).await
    } else {
        step_key_and_csr(opts, rec, &client, &site, &auth).await
    };
    let Some(requested) = requested else {
        return;
    };
    let Some((root, leaf)) = step_install(opts, rec, &client, &site, &auth, &requested).await
    else {
        return;
    };
    if opts.checks.ocsp {
        step_ocsp(rec, &client, root.as_ref(), &leaf, requested.issued_at).await;
    }
    step_checks(opts, rec, &requested, root.as_ref(), &leaf);
    step_confirm(opts, rec, &site, &requested, root.as_ref(), &leaf).await;
}

/// The store can take what Step 3 installs; else a FAIL line (step `0`, 証明書ストア).
pub(crate) fn store_is_writable(
    rec: &mut Recorder<'_>,
    dir: &std::path::Path,
    checks: &Checks,
) -> bool {
    match store::check_writable(dir, checks.install_root) {
        Ok(()) => true,
        Err(e) => {
            rec.fail(
                "0",
                "証明書ストア",
                format!("the store {} cannot be written: {e}", dir.display()),
            );
            false
        }
    }
}

/// Step 0-3: the one-time URL's page is the site this run expects.
async fn step_site(
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
    kind: Kind,
) -> Option<SiteInfo> {
    rec.begin();
    let site = http::send(
        rec.progress(),
        "GET one-time URL",
        || {
            client
                .get(site.route(paths::ISSUE))
                .header(ACCEPT, "application/json")
        },
        &[200],
        JSON_LIMIT,
    )
    .await
    .and_then(|b| b.json::<SiteInfo>("site page"))
    .and_then(|site| {
        let want = match kind {
            Kind::New => SITE_TITLE_NEW,
            Kind::Renew => SITE_TITLE_RENEW,
        };
        if site.site_title == want && site.kind == kind && site.step == 1 {
            Ok(site)
        } else {
            Err(ClientError::Step(format!(
                "the page is {:?} ({}) step {}, expected {want:?} step 1",
                site.site_title,
                site.kind.as_str(),
                site.step
            )))
        }
    });
    rec.outcome("0-3", "サイト", site, |s| {
        format!("{} (step {})", s.site_title, s.step)
    })
}

/// Step 2 on the PKCS#12 path: the site generates the key and answers it with
/// the certificate and the root in a file encrypted with the PIN; the file is
/// opened here with the PIN and its key and certificates are read.
async fn step_pkcs12(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
    auth: &AuthResponse,
) -> Option<Requested> {
    rec.begin();
    let url = site.route(paths::ISSUE_PKCS12);
    let request = Pkcs12Request {
        pin: opts.pin.clone(),
        compat: opts.checks.pkcs12_compat,
    };
    let result = http::send(
        rec.progress(),
        "POST /pkcs12",
        || {
            client
                .post(&url)
                .bearer_auth(&auth.session)
                .header(ACCEPT, "application/x-pkcs12")
                .json(&request)
        },
        &[201],
        CERT_LIMIT,
    )
    .await
    .and_then(|body| {
        body.expect_type(&["application/x-pkcs12"])?;
        Ok(body)
    });
    let body = rec.outcome("2", "PKCS#12 の取得", result, |b| {
        format!(
            "{} bytes of application/x-pkcs12, key generated by the site ({}, {} bit)",
            b.bytes.len(),
            auth.csp,
            auth.key_length
        )
    })?;

    let opened = open_pkcs12(&body.bytes, &opts.pin);
    let header = |name: &str| {
        body.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let announced = header(HEADER_SERIAL);
    let opened = opened.and_then(|(key, certs)| {
        let leaf = certs
            .iter()
            .find(|c| !c.self_issued)
            .cloned()
            .ok_or_else(|| {
                ClientError::Step("the PKCS#12 file holds no client certificate".to_owned())
            })?;
        if let Some(serial) = &announced {
            if !serial.eq_ignore_ascii_case(&leaf.serial) {
                return Err(ClientError::Step(format!(
                    "the file holds serial {}, but the site announced {serial}",
                    leaf.serial
                )));
            }
        }
        Ok((key, certs, leaf))
    });
    let (key, certs, leaf) = rec.outcome("2-1", "PKCS#12 の読み込み", opened, |(k, c, l)| {
        format!(
            "opened with the PIN: a {} key and {} certificate{}; serial {}, notBefore {}, notAfter {}",
            k.spec(),
            c.len(),
            if c.len() == 1 { "" } else { "s" },
            l.serial,
            certs::show(l.not_before),
            certs::show(l.not_after)
        )
    })?;
    rec.report.serial = Some(leaf.serial.clone());
    let (issued_at, issued_at_source) = match body.date {
        Some(d) => (d, "the server's Date header"),
        None => (OffsetDateTime::now_utc(), "the client's clock"),
    };
    let issued = Issued {
        serial: leaf.serial.clone(),
        certificate_url: String::new(),
        root_url: paths::ROOT_DER.to_owned(),
        not_before: leaf.not_before,
        not_after: leaf.not_after,
        confirm_url: header(HEADER_CONFIRM_URL),
    };
    Some(Requested {
        key,
        issued,
        p12: Some((body.bytes, certs)),
        issued_at,
        issued_at_source,
    })
}

/// The key and the certificates of a PKCS#12 file, opened with the PIN.
fn open_pkcs12(bytes: &[u8], pin: &str) -> Result<(ClientKey, Vec<CertInfo>), ClientError> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, pin).map_err(|e| {
        ClientError::Step(format!(
            "the PIN does not open the PKCS#12 file, or it is not one: {e}"
        ))
    })?;
    let mut keys = archive.keys.into_iter();
    let key_bag = keys
        .next()
        .ok_or_else(|| ClientError::Step("the PKCS#12 file holds no private key".to_owned()))?;
    if keys.next().is_some() {
        return Err(ClientError::Step(
            "the PKCS#12 file holds more than one private key".to_owned(),
        ));
    }
    let key = ClientKey::from_pkcs8_der(key_bag.key.as_der())?;
    let certs = archive
        .certs
        .iter()
        .map(|c| {
            CertInfo::parse(c.cert.as_der()).map_err(|e| ClientError::Step(format!("PKCS#12: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((key, certs))
}

/// The one-time URL read as the site's [`paths::ISSUE`] route: where the site
/// is mounted and the token, from which the site's other routes are built.
struct OneTimeUrl {
    /// The URL itself; the URLs the site gives are resolved against it.
    url: Url,
    /// Everything before the route: the origin and any path the site is mounted under.
    mount: String,
    /// The one-time token.
    token: String,
}

impl OneTimeUrl {
    /// Splits `given` (`{mount}/issue/{token}`) into its mount and token.
    fn parse(given: &str) -> Result<Self, ClientError> {
        let url = Url::parse(given.trim_end_matches('/'))
            .map_err(|e| ClientError::Step(format!("{given:?} is not a URL: {e}")))?;
        let (prefix, _) = paths::ISSUE.split_once('{').unwrap_or((paths::ISSUE, ""));
        let text = url.as_str();
        let Some(at) = text.rfind(prefix) else {
            return Err(not_one_time(given));
        };
        let (mount, route) = text.split_at(at);
        let token = &route[prefix.len()..];
        // The routes are built by filling the token in again, so it must come
        // back as it is: one path segment with nothing to escape.
        if token.is_empty() || paths::fill(paths::ISSUE, token) != route {
            return Err(not_one_time(given));
        }
        Ok(Self {
            mount: mount.to_owned(),
            token: token.to_owned(),
            url,
        })
    }

    /// The URL of one of the site's routes (a [`paths::TOKEN_ROUTES`] template).
    fn route(&self, template: &str) -> String {
        format!("{}{}", self.mount, paths::fill(template, &self.token))
    }

    /// Resolves a URL the site gave, which may be relative to the site.
    fn resolve(&self, given: &str) -> Result<Url, ClientError> {
        self.url.join(given).map_err(|e| {
            ClientError::Step(format!("the site gave {given:?}, which is not a URL: {e}"))
        })
    }
}

/// Why a URL is refused as a one-time URL.
fn not_one_time(given: &str) -> ClientError {
    ClientError::Step(format!(
        "{given:?} is not a one-time URL ({{origin}}{})",
        paths::ISSUE
    ))
}

async fn step_auth(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
) -> Option<AuthResponse> {
    let url = site.route(paths::ISSUE_AUTH);
    let request = AuthRequest {
        auth_password: opts.auth_password.clone(),
    };
    let result = http::send(
        rec.progress(),
        "POST /auth",
        || {
            client
                .post(&url)
                .header(ACCEPT, "application/json")
                .json(&request)
        },
        &[200],
        JSON_LIMIT,
    )
    .await
    .and_then(|body| body.json::<AuthResponse>("auth answer"))
    .and_then(|auth| {
        if auth.session.trim().is_empty() {
            Err(ClientError::Step(
                "the auth answer carries an empty session".to_owned(),
            ))
        } else {
            Ok(auth)
        }
    });
    rec.outcome("1", "認証", result, |a| {
        format!(
            "CSP: {}, key length: {} bit, accepted keys: {}",
            a.csp,
            a.key_length,
            if a.accepted_keys.is_empty() {
                "(none listed)".to_owned()
            } else {
                a.accepted_keys.join(", ")
            }
        )
    })
}

/// The key the site shows: RSA of its key length if accepted, else the first
/// accepted type this client knows; `--key-type` overrides.
pub(crate) fn choose_key(
    chosen: Option<KeySpec>,
    auth: &AuthResponse,
) -> Result<KeySpec, ClientError> {
    if let Some(spec) = chosen {
        return Ok(spec);
    }
    let shown = KeySpec::Rsa(auth.key_length);
    if auth.accepted_keys.is_empty() || auth.accepted_keys.iter().any(|k| *k == shown.to_string()) {
        return Ok(shown);
    }
    auth.accepted_keys
        .iter()
        .find_map(|k| k.parse::<KeySpec>().ok())
        .ok_or_else(|| {
            ClientError::Step(format!(
                "the site accepts no key type this client knows: {}",
                auth.accepted_keys.join(", ")
            ))
        })
}

/// Generates a key off the async threads, with a progress note every second.
async fn generate(spec: KeySpec, rec: &Recorder<'_>) -> Result<ClientKey, ClientError> {
    if matches!(spec, KeySpec::Rsa(_)) {
        rec.note(&format!("generating an {spec} key; this can take a while"));
    }
    let mut job = tokio::task::spawn_blocking(move || ClientKey::generate(spec));
    let started = std::time::Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    loop {
        tokio::select! {
            done = &mut job => {
                return match done {
                    Ok(result) => result,
                    Err(e) => Err(ClientError::Step(format!("key generation did not finish: {e}"))),
                };
            }
            _ = ticker.tick() => {
                rec.note(&format!("still generating the {spec} key ({} s)", started.elapsed().as_secs()));
            }
        }
    }
}

async fn step_key_and_csr(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
    auth: &AuthResponse,
) -> Option<Requested> {
    rec.begin();
    let spec = match choose_key(opts.checks.key_type, auth) {
        Ok(s) => s,
        Err(reason) => {
            rec.fail("2", "鍵生成", reason.to_string());
            return None;
        }
    };
    let key = generate(spec, rec).await;
    let shown = format!("{}, {} bit", auth.csp, auth.key_length);
    let key = rec.outcome("2", "鍵生成", key, |k| {
        let made = k.spec();
        if made == KeySpec::Rsa(auth.key_length) {
            format!("{made} ({shown})")
        } else {
            format!("{made} (the site shows {shown})")
        }
    })?;

    let cn = opts.user_id.as_deref().unwrap_or(DEFAULT_CN);
    let csr = match key.csr_pem(cn) {
        Ok(pem) => pem,
        Err(e) => {
            rec.fail("2-1", "証明書要求", e.to_string());
            return None;
        }
    };
    let body = match request_body(opts, &key, &csr) {
        Ok(body) => body,
        Err(e) => {
            rec.fail("2-1", "証明書要求", e.to_string());
            return None;
        }
    };
    let url = site.route(paths::ISSUE_CSR);
    let result = http::send(
        rec.progress(),
        "POST /csr",
        || {
            client
                .post(&url)
                .bearer_auth(&auth.session)
                .header(CONTENT_TYPE, "application/x-pem-file")
                .header(ACCEPT, "application/json")
                .body(body.clone())
        },
        &[201],
        JSON_LIMIT,
    )
    .await
    .and_then(|body| {
        let issued = body.json::<Issued>("issuance answer")?;
        Ok((issued, body.date))
    });
    let (issued, date) = rec.outcome("2-1", "証明書要求", result, |(i, date)| {
        format!(
            "serial {}, notBefore {}, notAfter {}{}",
            i.serial,
            certs::show(i.not_before),
            certs::show(i.not_after),
            if date.is_some() {
                ""
            } else {
                " (no Date header: the issuance day comes from the client's clock)"
            }
        )
    })?;
    rec.report.serial = Some(issued.serial.clone());
    let (issued_at, issued_at_source) = match date {
        Some(d) => (d, "the server's Date header"),
        None => (OffsetDateTime::now_utc(), "the client's clock"),
    };
    Some(Requested {
        key,
        issued,
        p12: None,
        issued_at,
        issued_at_source,
    })
}

/// The body of `POST /csr`: the PKCS#10 as it is, or wrapped as the options
/// say (PEM `NEW CERTIFICATE REQUEST`, as Windows labels every shape). With
/// `sign_with_current`, a CMS SignedData signed by the stored certificate
/// being renewed, with the key opened by that PIN.
fn request_body(
    opts: &IssueOptions,
    key: &ClientKey,
    csr_pem: &str,
) -> Result<String, ClientError> {
    let form = opts.checks.request_form;
    if form == RequestForm::Pkcs10 && opts.sign_with_current.is_none() {
        return Ok(csr_pem.to_owned());
    }
    let csr_der = pem::parse(csr_pem)
        .map_err(|e| ClientError::Csr(format!("request PEM: {e}")))?
        .into_contents();
    let wrapped = match &opts.sign_with_current {
        None => wrap_request(&csr_der, form, &WrapSigner::RequestKey(key))?,
        Some(pin) => {
            let serial = opts.previous_serial.as_deref().ok_or_else(|| {
                ClientError::Step(
                    "signing with the current certificate needs its serial (--renews-serial)"
                        .to_owned(),
                )
            })?;
            let cert_pem = store::read(&store::cert_path(&opts.store_dir, serial))?;
            let cert_der = pem::parse(&cert_pem)
                .map_err(|e| ClientError::Step(format!("stored certificate {serial}: {e}")))?
                .into_contents();
            let key_pem = store::read(&store::key_path(&opts.store_dir, serial))?;
            let current = ClientKey::decrypt_pem(&String::from_utf8_lossy(&key_pem), pin)?;
            let form = if form == RequestForm::Pkcs10 {
                RequestForm::Pkcs7
            } else {
                form
            };
            let signer = WrapSigner::Certificate {
                key: &current,
                cert_der: &cert_der,
            };
            wrap_request(&csr_der, form, &signer)?
        }
    };
    Ok(webra2_wire::pem_encode("NEW CERTIFICATE REQUEST", &wrapped))
}

/// Why the path cannot be checked when the root is not installed (appendix B).
const NO_ROOT: &str = "the root CA is not installed (--no-root-install), so the certification path cannot be validated";

/// Step 3 (a) to (c): the root after its fingerprint is checked (unless the
/// user installs no root), then the certificate and the key. Returns the root
/// as installed, if it was, and the leaf as installed.
async fn step_install(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
    auth: &AuthResponse,
    req: &Requested,
) -> Option<(Option<CertInfo>, CertInfo)> {
    rec.begin();
    let root = if opts.checks.install_root {
        let root = fetch_root(opts, rec, client, site, &req.issued)
            .await
            .and_then(|(root, sha1)| match &req.p12 {
                Some((_, inside)) if !inside.iter().any(|c| c.der == root.der) => {
                    Err(ClientError::Step(format!(
                    "the root in the PKCS#12 file is not the root the site publishes (SHA-1 {})",
                    root.sha1_groups()
                )))
                }
                _ => Ok((root, sha1)),
            });
        let (root, sha1_hex) =
            rec.outcome("3-1", "ルートCA証明書 fingerprint", root, |(r, _)| {
                format!(
                    "SHA-1 {} matches the expected fingerprint ({})",
                    r.sha1_groups(),
                    r.subject_cn.as_deref().unwrap_or("no CN")
                )
            })?;

        let root_path = store::root_path(&opts.store_dir, &sha1_hex);
        let written = store::write_private(
            &root_path,
            webra2_wire::pem_encode("CERTIFICATE", &root.der).as_bytes(),
        );
        rec.outcome(
            "3-2",
            "ルートCA証明書のインストール",
            written,
            |()| root_path.display().to_string(),
        )?;
        Some(root)
    } else {
        rec.skip(
            "3-1",
            "ルートCA証明書 fingerprint",
            "not checked: the root CA is not downloaded (--no-root-install)",
        );
        rec.skip("3-2", "ルートCA証明書のインストール", NO_ROOT);
        None
    };

    let leaf = match &req.p12 {
        None => fetch_leaf(opts, rec, client, site, auth, req).await,
        Some((_, inside)) => inside
            .iter()
            .find(|c| c.serial == req.issued.serial)
            .cloned()
            .map(|leaf| {
                let detail = format!(
                    "serial {} from the PKCS#12 file ({} certificates)",
                    leaf.serial,
                    inside.len()
                );
                (leaf, detail)
            })
            .ok_or_else(|| {
                ClientError::Step("the PKCS#12 file holds no client certificate".to_owned())
            }),
    };
    let (leaf, _) = rec.outcome("3-3", "証明書のダウンロード", leaf, |(_, d)| {
        d.clone()
    })?;

    let cert_path = store::cert_path(&opts.store_dir, &leaf.serial);
    let key_path = store::key_path(&opts.store_dir, &leaf.serial);
    let p12_path = store::p12_path(&opts.store_dir, &leaf.serial);
    let installed = store::write_private(
        &cert_path,
        webra2_wire::pem_encode("CERTIFICATE", &leaf.der).as_bytes(),
    )
    .and_then(|()| req.key.encrypt_pem(&opts.pin))
    .and_then(|pem| store::write_private(&key_path, pem.as_bytes()))
    .and_then(|()| match &req.p12 {
        Some((bytes, _)) => store::write_private(&p12_path, bytes),
        None => Ok(()),
    });
    rec.outcome(
        "3-4",
        "証明書と秘密鍵のインストール",
        installed,
        |()| {
            let kept = if req.p12.is_some() {
                format!("; the PKCS#12 file kept as {}", p12_path.display())
            } else {
                String::new()
            };
            format!(
                "{} and {} (PKCS#8, AES-256-CBC, PIN){kept}",
                cert_path.display(),
                key_path.display()
            )
        },
    )?;
    rec.report.not_before = Some(leaf.not_before);
    rec.report.not_after = Some(leaf.not_after);
    Some((root, leaf))
}

/// The fingerprint the user expects, as 40 upper-case hex digits.
fn expected_root_sha1(opts: &IssueOptions) -> Result<String, ClientError> {
    let given = opts
        .checks
        .expect_root_sha1
        .as_deref()
        .unwrap_or_else(|| certs::fixture_root_sha1());
    certs::normalize_sha1(given)
        .map_err(|e| ClientError::Step(format!("expected fingerprint: {e}")))
}

/// Downloads the root and checks its fingerprint; nothing is installed here.
async fn fetch_root(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
    issued: &Issued,
) -> Result<(CertInfo, String), ClientError> {
    let expected = expected_root_sha1(opts)?;
    let url = site.resolve(&issued.root_url)?;
    let body = http::send(
        rec.progress(),
        "GET root",
        || {
            client
                .get(url.clone())
                .header(ACCEPT, "application/pkix-cert")
        },
        &[200],
        CERT_LIMIT,
    )
    .await?;
    let ders = certs::decode_certificates(&body.content_type, &body.bytes)
        .map_err(|e| ClientError::Step(format!("root: {e}")))?;
    let der = ders
        .into_iter()
        .next()
        .ok_or_else(|| ClientError::Step("root: no certificate".to_owned()))?;
    let root = CertInfo::parse(&der).map_err(|e| ClientError::Step(format!("root: {e}")))?;
    let got = webra2_wire::serial_hex(&certs::sha1(&root.der));
    rec.report.root_sha1 = Some(root.sha1_groups());
    if got != expected {
        return Err(ClientError::Step(format!(
            "SHA-1 {} does NOT match the expected {}: the root was not installed and \
             nothing else will be",
            root.sha1_groups(),
            webra2_wire::fingerprint_groups(&hex::decode(&expected).unwrap_or_default())
        )));
    }
    Ok((root, got))
}

/// Downloads the client certificate in the format asked for, takes whatever
/// format the Content-Type says, and picks the leaf.
async fn fetch_leaf(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    site: &OneTimeUrl,
    auth: &AuthResponse,
    req: &Requested,
) -> Result<(CertInfo, String), ClientError> {
    let mut url = site.resolve(&req.issued.certificate_url)?;
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "format")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(others)
        .append_pair("format", opts.checks.format.as_str());
    let accept = match opts.checks.format {
        CertFormat::Pem => "application/x-pem-file",
        CertFormat::Der => "application/pkix-cert",
        CertFormat::P7c => "application/pkcs7-mime",
    };
    let body = http::send(
        rec.progress(),
        "GET certificate",
        || {
            client
                .get(url.clone())
                .bearer_auth(&auth.session)
                .header(ACCEPT, accept)
        },
        &[200],
        CERT_LIMIT,
    )
    .await?;
    let ders = certs::decode_certificates(&body.content_type, &body.bytes)
        .map_err(|e| ClientError::Step(format!("certificate: {e}")))?;
    let count = ders.len();
    let parsed = ders
        .iter()
        .map(|d| CertInfo::parse(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::Step(format!("certificate: {e}")))?;
    let leaf = certs::pick_leaf(parsed, &req.issued.serial).ok_or_else(|| {
        ClientError::Step("certificate: the answer holds no certificate".to_owned())
    })?;
    let announced = req
        .issued
        .serial
        .trim_start_matches('0')
        .to_ascii_uppercase();
    if leaf.serial.trim_start_matches('0') != announced {
        return Err(ClientError::Step(format!(
            "the certificate downloaded has serial {}, not the {} the site announced",
            leaf.serial, req.issued.serial
        )));
    }
    if leaf.not_before != req.issued.not_before || leaf.not_after != req.issued.not_after {
        return Err(ClientError::Step(format!(
            "the certificate's validity {} to {} differs from the {} to {} the site announced",
            certs::show(leaf.not_before),
            certs::show(leaf.not_after),
            certs::show(req.issued.not_before),
            certs::show(req.issued.not_after)
        )));
    }
    Ok((
        leaf.clone(),
        format!(
            "serial {} as {} ({} certificate{})",
            leaf.serial,
            body.content_type,
            count,
            if count == 1 { "" } else { "s" }
        ),
    ))
}

/// After the download: the certificate's OCSP responder says `good`, in a
/// response signed for the root and carrying the request's nonce, current at
/// `at` (the service's time of issuance, as its `Date` said: the service clock
/// may stand anywhere).
async fn step_ocsp(
    rec: &mut Recorder<'_>,
    client: &reqwest::Client,
    root: Option<&CertInfo>,
    leaf: &CertInfo,
    at: OffsetDateTime,
) {
    const ID: &str = "3-OCSP";
    const TITLE: &str = "失効確認 (OCSP)";
    rec.begin();
    let Some(root) = root else {
        rec.skip(ID, TITLE, "no root installed to check the response against");
        return;
    };
    let Some(url) = crate::status::ocsp_url(&leaf.der) else {
        rec.skip(ID, TITLE, "the certificate names no OCSP responder");
        return;
    };
    match crate::status::ask_ocsp(client, &url, &leaf.der, &root.der, at).await {
        crate::SourceAnswer::Good => rec.pass(ID, TITLE, format!("good ({url})")),
        other => rec.fail(ID, TITLE, format!("{other} ({url}), expected good")),
    }
}

/// The checks of the manual's step (28), each its own line.
fn step_checks(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    req: &Requested,
    root: Option<&CertInfo>,
    leaf: &CertInfo,
) {
    rec.begin();
    let subject = leaf.subject_cn.as_deref().unwrap_or("(no CN)");
    match &opts.user_id {
        Some(user) if leaf.subject_cn.as_deref() == Some(user.as_str()) => {
            rec.pass("3-A", "発行先", subject);
        }
        Some(user) => rec.fail(
            "3-A",
            "発行先",
            format!("issued to {subject}, not to the user id {user}"),
        ),
        None => rec.skip(
            "3-A",
            "発行先",
            format!("no user id given (issued to {subject})"),
        ),
    }

    rec.begin();
    let issuer = leaf.issuer_cn.as_deref().unwrap_or("(no CN)");
    if issuer == ISSUER_CN {
        rec.pass("3-B", "発行者", issuer);
    } else {
        rec.fail(
            "3-B",
            "発行者",
            format!("issued by {issuer}, not by {ISSUER_CN}"),
        );
    }

    rec.begin();
    let start = certs::jst_date(leaf.not_before);
    let day = certs::jst_date(req.issued_at);
    let detail = format!(
        "{} (JST); issuance day {} from {}",
        certs::slash_date(start),
        certs::slash_date(day),
        req.issued_at_source
    );
    if start == day {
        rec.pass("3-C", "有効期間の開始", detail);
    } else {
        rec.fail("3-C", "有効期間の開始", format!("notBefore {detail}"));
    }

    rec.begin();
    let end = certs::jst_date(leaf.not_after);
    match opts.mail_sent_at {
        Some(mail) => {
            let want = certs::plus_two_years_jst(mail);
            let detail = format!(
                "{} (JST); mail of {} + 2 years = {}",
                certs::slash_date(end),
                certs::slash_date(certs::jst_date(mail)),
                certs::slash_date(want)
            );
            if end == want {
                rec.pass("3-D", "有効期間の終了", detail);
            } else {
                rec.fail("3-D", "有効期間の終了", format!("notAfter {detail}"));
            }
        }
        None => rec.skip(
            "3-D",
            "有効期間の終了",
            format!(
                "no mail date given (notAfter {} JST)",
                certs::slash_date(end)
            ),
        ),
    }

    rec.begin();
    // The Date header has whole seconds, so it can fall just before notBefore.
    let at = req.issued_at.max(leaf.not_before);
    match root {
        Some(root) => {
            let path = certs::verify_path(&leaf.der, &root.der, at);
            rec.outcome("3-E", "証明のパス", path, |()| {
                format!(
                    "{subject} → {} (installed root), client authentication",
                    root.subject_cn.as_deref().unwrap_or("root")
                )
            });
        }
        None if opts.checks.require_path => rec.fail("3-E", "証明のパス", NO_ROOT),
        None => rec.skip("3-E", "証明のパス", NO_ROOT),
    }

    rec.begin();
    let same = req.key.public_key_der().and_then(|ours| {
        if certs::same_key(&ours, &leaf.spki) {
            Ok(())
        } else {
            Err(ClientError::Step(
                "the certificate's public key is not the key this client holds".to_owned(),
            ))
        }
    });
    rec.outcome("3-F", "公開鍵", same, |()| {
        if req.p12.is_some() {
            format!(
                "the certificate holds the {} key of the PKCS#12 file",
                req.key.spec()
            )
        } else {
            format!("the certificate holds the generated {} key", req.key.spec())
        }
    });
}

/// Step 4: the key read back with the PIN, then the confirmation page over
/// mutual TLS with what was installed.
async fn step_confirm(
    opts: &IssueOptions,
    rec: &mut Recorder<'_>,
    site: &OneTimeUrl,
    req: &Requested,
    root: Option<&CertInfo>,
    leaf: &CertInfo,
) {
    rec.begin();
    let key_path = store::key_path(&opts.store_dir, &leaf.serial);
    let key = store::read(&key_path)
        .and_then(|bytes| {
            let pem = String::from_utf8(bytes)
                .map_err(|_| ClientError::Step("the stored key is not text".to_owned()))?;
            ClientKey::decrypt_pem(&pem, &opts.pin)
        })
        .and_then(|key| {
            let ours = key.public_key_der()?;
            if certs::same_key(&ours, &leaf.spki) {
                Ok(key)
            } else {
                Err(ClientError::Step(
                    "the stored key does not match the certificate".to_owned(),
                ))
            }
        });
    let Some(key) = rec.outcome("4-1", "秘密鍵の読み出し", key, |k| {
        format!("{} opened with the PIN ({})", key_path.display(), k.spec())
    }) else {
        return;
    };

    rec.begin();
    if root.is_none() && opts.checks.site_ca.is_none() {
        rec.skip(
            "4",
            "証明書確認ページ",
            "not run: the root CA is not installed, so nothing verifies the site; pass --site-ca FILE",
        );
        return;
    }
    let result = confirm(opts, rec, site, req, root, leaf, &key).await;
    rec.outcome("4", "証明書確認ページ", result, |c| {
        format!("confirmed serial {} for {}", c.serial, c.user_id)
    });
}

async fn confirm(
    opts: &IssueOptions,
    rec: &Recorder<'_>,
    site: &OneTimeUrl,
    req: &Requested,
    root: Option<&CertInfo>,
    leaf: &CertInfo,
    key: &ClientKey,
) -> Result<Confirmation, ClientError> {
    let given = opts
        .checks
        .confirm_url
        .as_deref()
        .or(req.issued.confirm_url.as_deref())
        .ok_or_else(|| {
            ClientError::Step(
                "no confirmation page URL: the site named none; pass --confirm-url".to_owned(),
            )
        })?;
    let url = site.resolve(given)?;
    // Present what is in the store, not what is in memory: that is what the user has.
    let installed_root = match (root, &opts.checks.site_ca) {
        (Some(root), _) => store::read(&store::root_path(
            &opts.store_dir,
            &webra2_wire::serial_hex(&certs::sha1(&root.der)),
        ))
        .and_then(|b| {
            certs::pem_certificates(&b)
                .map_err(|e| ClientError::Step(format!("installed root: {e}")))
        })?,
        (None, Some(path)) => site_ca(path)?,
        (None, None) => {
            return Err(ClientError::Step(
                "no trust anchor for the confirmation site".to_owned(),
            ))
        }
    };
    let installed_leaf =
        store::read(&store::cert_path(&opts.store_dir, &leaf.serial)).and_then(|b| {
            certs::pem_certificates(&b)
                .map_err(|e| ClientError::Step(format!("installed certificate: {e}")))
        })?;
    let (Some(root_der), Some(leaf_der)) = (installed_root.first(), installed_leaf.first()) else {
        return Err(ClientError::Step(
            "the store holds no certificate".to_owned(),
        ));
    };
    let mut chain = vec![rustls_pki_types::CertificateDer::from(leaf_der.clone())];
    if root.is_some() {
        chain.push(rustls_pki_types::CertificateDer::from(root_der.clone()));
    }
    let config = tls::client_config(root_der, chain, key)?;
    let client = http::client_with(config)?;
    let body = http::send(
        rec.progress(),
        "GET confirmation page",
        || client.get(url.clone()).header(ACCEPT, "application/json"),
        &[200],
        JSON_LIMIT,
    )
    .await?;
    let confirmation: Confirmation = body.json("confirmation")?;
    if confirmation.status != "ok" {
        return Err(ClientError::Step(format!(
            "the page says status {:?}, not \"ok\"",
            confirmation.status
        )));
    }
    if !confirmation.serial.eq_ignore_ascii_case(&leaf.serial)
        && confirmation.serial.trim_start_matches('0') != leaf.serial.trim_start_matches('0')
    {
        return Err(ClientError::Step(format!(
            "the page saw serial {}, but the installed certificate is {}",
            confirmation.serial, leaf.serial
        )));
    }
    let cn = leaf.subject_cn.as_deref().unwrap_or_default();
    if confirmation.user_id != cn {
        return Err(ClientError::Step(format!(
            "the page saw user {}, but the certificate is issued to {cn}",
            confirmation.user_id
        )));
    }
    if let Some(user) = &opts.user_id {
        if &confirmation.user_id != user {
            return Err(ClientError::Step(format!(
                "the page saw user {}, not {user}",
                confirmation.user_id
            )));
        }
    }
    Ok(confirmation)
}

/// The certificates of a `--site-ca` file, PEM or DER.
fn site_ca(path: &std::path::Path) -> Result<Vec<Vec<u8>>, ClientError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ClientError::Step(format!("site trust anchor {}: {e}", path.display())))?;
    let certs = if bytes.starts_with(b"-----") || bytes.iter().take(64).all(u8::is_ascii) {
        certs::pem_certificates(&bytes)
    } else {
        Ok(vec![bytes])
    }
    .map_err(|e| ClientError::Step(format!("site trust anchor {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ClientError::Step(format!(
            "site trust anchor {}: no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(key_length: u32, accepted: &[&str]) -> AuthResponse {
        AuthResponse {
            session: "s".into(),
            csp: "Microsoft Enhanced Cryptographic Provider v1.0".into(),
            key_length,
            accepted_keys: accepted.iter().map(|s| (*s).to_owned()).collect(),
            session_expires_at: None,
            pin_rule: None,
            pkcs12_compat: None,
        }
    }

    #[test]
    fn the_key_follows_the_length_the_site_shows() {
        assert_eq!(
            choose_key(None, &auth(1024, &["rsa-1024"])).ok(),
            Some(KeySpec::Rsa(1024))
        );
        assert_eq!(
            choose_key(None, &auth(2048, &["ecdsa-p256", "rsa-2048"])).ok(),
            Some(KeySpec::Rsa(2048))
        );
    }

    #[test]
    fn without_an_rsa_of_that_length_the_first_accepted_key_is_taken() {
        assert_eq!(
            choose_key(None, &auth(256, &["ecdsa-p256", "ecdsa-p384"])).ok(),
            Some(KeySpec::EcdsaP256)
        );
        assert!(choose_key(None, &auth(256, &["ed448"])).is_err());
    }

    #[test]
    fn the_key_type_flag_overrides_the_site() {
        assert_eq!(
            choose_key(Some(KeySpec::EcdsaP384), &auth(1024, &["rsa-1024"])).ok(),
            Some(KeySpec::EcdsaP384)
        );
    }
}
