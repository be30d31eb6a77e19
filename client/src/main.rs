//! `webra2-client`: the user's side of the webra2 issuance manual as a CLI test
//! harness. Prints one line per step (PASS/FAIL/SKIP) or, with `--json`, one
//! report document; exits 0 only when no step failed.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use reqwest::Method;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;
use time::OffsetDateTime;
use webra2_client::{
    diff_transcripts, e2e, inspect_files, issue, origin_of, parse_mail_sent_at, reissue,
    wait_until_up, Admin, AdminCall, CertFormat, Checks, E2eOptions, Exchange, IssueOptions,
    KeySpec, Kind, NoProgress, PathStatus, Progress, Recording, ReissueOptions, Report,
    RequestForm, StatusOptions, TerminalProgress,
};
use webra2_wire::{FaultSet, Pkcs12Compat, PrepareEnrollment, RevokeRequest, SetClock};

/// The user's side of the webra2 issuance manual, as a test harness.
#[derive(Debug, Parser)]
#[command(name = "webra2-client", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Walk the issuance site from a one-time URL: auth, key, root, certificate, confirmation.
    Issue(IssueArgs),
    /// Walk a renewal site (証明書更新サイト) from its one-time URL, as `issue` does.
    Renew(RenewArgs),
    /// Prepare an enrollment on the admin listener, read the mail, then run `issue`.
    E2e(E2eArgs),
    /// Administrator: after a lost PIN, revoke the user's certificate, prepare a new
    /// enrollment, issue again, and check the CRL lists the old serial.
    Reissue(ReissueArgs),
    /// Show certificates as the Windows certificate dialog's 全般 tab does.
    Inspect(InspectArgs),
    /// The administrator's calls of the admin listener; each prints the JSON answer.
    Admin(AdminArgs),
    /// Wait until listeners answer `GET /healthz` (a server that is still starting).
    Wait(WaitArgs),
    /// Work with recorded transcripts (`--transcript FILE`).
    Transcript(TranscriptArgs),
    /// Ask OCSP and the CRL about a certificate, as a server accepting it would.
    /// Exit code: 0 valid, 1 revoked, 3 unknown, 4 expired or not yet valid.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The certificate, PEM or DER.
    cert: PathBuf,
    /// The issuer's certificate, PEM or DER. Default: fetched from the
    /// certificate's caIssuers URL.
    #[arg(long, value_name = "CERT")]
    issuer: Option<PathBuf>,
    /// The OCSP responder. Default: the certificate's (Authority Information Access).
    #[arg(long, value_name = "URL")]
    ocsp_url: Option<String>,
    /// The CRL. Default: the certificate's distribution point.
    #[arg(long, value_name = "URL")]
    crl_url: Option<String>,
    /// Print JSON instead of lines.
    #[arg(long)]
    json: bool,
}

/// Flags `issue` and `e2e` share.
#[derive(Debug, Args)]
struct CheckArgs {
    /// The date of the issuance mail (RFC 3339, or YYYY-MM-DD meaning that day in Japan
    /// time); the certificate must be valid until that date plus two years.
    /// Without it the check is skipped (in `issue`) or sent to the admin API (in `e2e`).
    #[arg(long, value_parser = parse_mail_sent_at)]
    mail_sent_at: Option<OffsetDateTime>,
    /// The root CA's SHA-1 fingerprint you expect (any case, spaces or colons allowed).
    /// Default: the fixture test root's.
    #[arg(long, value_name = "FP", value_parser = parse_fingerprint)]
    expect_root_sha1: Option<String>,
    /// The certificate confirmation page (Step 4). Default: the one the site names.
    #[arg(long, value_name = "URL")]
    confirm_url: Option<String>,
    /// The key to generate: rsa-BITS, ecdsa-p256 or ecdsa-p384. Default: what the site
    /// shows (RSA of its key length if accepted, else the first key type it accepts).
    #[arg(long, value_name = "TYPE", value_parser = parse_key_spec)]
    key_type: Option<KeySpec>,
    /// The format to download the certificate in: pem, der or p7c.
    #[arg(long, default_value = "pem", value_parser = parse_format)]
    format: CertFormat,
    /// Print one JSON report document on stdout instead of step lines.
    #[arg(long)]
    json: bool,
    /// Take the PKCS#12 path: the site generates the key and sends it with the
    /// certificate and the root in a file encrypted with the PIN.
    #[arg(long)]
    pkcs12: bool,
    /// Install only the client certificate, not the root CA (the manual's appendix B):
    /// the certification path check is skipped.
    #[arg(long)]
    no_root_install: bool,
    /// Record every HTTP exchange, redacted (no secrets, serials, tokens, ids or
    /// times), as a JSON transcript in FILE, to compare runs against each other.
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// With --no-root-install: fail, instead of skip, the certification path check.
    #[arg(long)]
    require_path: bool,
    /// A trust anchor (PEM or DER) for the confirmation site, so Step 4 still runs
    /// when the root is not installed.
    #[arg(long, value_name = "FILE")]
    site_ca: Option<PathBuf>,
    /// After the download, ask the certificate's OCSP responder (it must say good).
    /// `e2e` always does.
    #[arg(long)]
    ocsp: bool,
    /// The shape of the request sent in Step 2, as Windows' certificate enrollment
    /// makes them: pkcs10 (plain), pkcs7 (a CMS SignedData around it, signed with
    /// the new key) or cmc (a CMC PKIData around it, in a SignedData), each as PEM
    /// `NEW CERTIFICATE REQUEST`.
    #[arg(long, value_name = "FORM", default_value = "pkcs10", value_parser = parse_request_form)]
    request_form: RequestForm,
    /// With --pkcs12: the form of the file. modern (PBES2, AES-256, SHA-256 MAC) or
    /// legacy (3DES key, RC2-40 certificates, SHA-1 MAC: for Windows Server 2016 and
    /// older and the macOS Keychain, 「古い Windows / macOS 用」). Default: the profile's.
    #[arg(long, value_name = "FORM", value_parser = parse_pkcs12_compat, requires = "pkcs12")]
    pkcs12_compat: Option<Pkcs12Compat>,
}

impl CheckArgs {
    /// The library's checks these flags ask for.
    fn checks(self) -> Checks {
        Checks {
            expect_root_sha1: self.expect_root_sha1,
            confirm_url: self.confirm_url,
            key_type: self.key_type,
            format: self.format,
            pkcs12: self.pkcs12,
            install_root: !self.no_root_install,
            site_ca: self.site_ca,
            require_path: self.require_path,
            ocsp: self.ocsp,
            request_form: self.request_form,
            pkcs12_compat: self.pkcs12_compat,
        }
    }
}

#[derive(Debug, Args)]
struct IssueArgs {
    /// The one-time URL from the issuance mail (http://HOST/issue/TOKEN).
    #[arg(long)]
    url: String,
    /// The auth password (認証情報パスワード).
    #[arg(long, env = "WEBRA2_AUTH_PASSWORD", hide_env_values = true)]
    auth_password: String,
    /// The PIN that will protect the stored private key.
    #[arg(long, env = "WEBRA2_PIN", hide_env_values = true)]
    pin: String,
    /// The certificate store directory (trusted-roots/ and personal/ go under it).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
    /// The user id the certificate must be issued to (check A; skipped without it).
    #[arg(long, value_name = "U")]
    user_id: Option<String>,
    /// Wait up to this many seconds for the site to answer /healthz before Step 1.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Debug, Args)]
struct RenewArgs {
    #[command(flatten)]
    issue: IssueArgs,
    /// The serial of the certificate being renewed, as the renewal mail names it
    /// (shown in the report next to the new serial).
    #[arg(long, value_name = "SERIAL")]
    renews_serial: Option<String>,
    /// Sign the request with the certificate being renewed (--renews-serial, from the
    /// store) and its key, in a CMS SignedData (or CMC with --request-form cmc), as
    /// Windows renews. Needed where the profile sets `[renewal] signed_by_current`.
    #[arg(long, requires = "renews_serial")]
    sign_with_current: bool,
    /// The PIN of the stored key being renewed (default: --pin).
    #[arg(long, env = "WEBRA2_CURRENT_PIN", hide_env_values = true)]
    current_pin: Option<String>,
}

#[derive(Debug, Args)]
struct ReissueArgs {
    #[command(flatten)]
    admin: AdminListener,
    #[command(flatten)]
    user: UserArgs,
    /// The serial to revoke. Default: the user's newest valid certificate.
    #[arg(long, value_name = "SERIAL")]
    serial: Option<String>,
    /// The revocation reason (RFC 5280 name, e.g. keyCompromise, superseded).
    #[arg(long, default_value = "unspecified")]
    reason: String,
    #[command(flatten)]
    check: CheckArgs,
}

/// The admin listener: where, with which token, and how long to wait for it.
#[derive(Debug, Args)]
struct AdminListener {
    /// The admin listener: the ready line's admin= address, as http://HOST:PORT (no /admin).
    #[arg(
        long,
        value_name = "URL",
        env = "WEBRA2_ADMIN_URL",
        default_value = "http://127.0.0.1:8081",
        global = true
    )]
    admin_url: String,
    /// The admin token, sent as `Authorization: Bearer`.
    #[arg(
        long,
        value_name = "T",
        env = "WEBRA2_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    admin_token: Option<String>,
    /// Wait up to this many seconds for the admin listener to answer /healthz first.
    #[arg(long, value_name = "SECONDS", global = true)]
    wait: Option<u64>,
}

impl AdminListener {
    /// Waits for the listener if asked, then checks the URL and makes the client.
    fn connect(&self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<Admin> {
        let admin = Admin::new(&self.admin_url, self.admin_token.clone())?;
        wait_for(runtime, admin.base(), self.wait)?;
        Ok(admin)
    }
}

/// The user `e2e` and `reissue` prepare and issue for.
#[derive(Debug, Args)]
struct UserArgs {
    /// The user id to prepare the enrollment for.
    #[arg(long, value_name = "U")]
    user_id: String,
    /// The user's mail address. Default: the user id, lower case, at example.test.
    #[arg(long, value_name = "E")]
    email: Option<String>,
    /// The auth password to prepare. Default: a random one.
    #[arg(
        long,
        value_name = "P",
        env = "WEBRA2_AUTH_PASSWORD",
        hide_env_values = true
    )]
    auth_password: Option<String>,
    /// The PIN for the stored key. Default: a random one, printed with the result.
    #[arg(long, env = "WEBRA2_PIN", hide_env_values = true)]
    pin: Option<String>,
    /// The certificate store directory. Default: a new directory under the temp directory.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct E2eArgs {
    #[command(flatten)]
    admin: AdminListener,
    #[command(flatten)]
    user: UserArgs,
    /// new (証明書発行サイト) or renew (証明書更新サイト).
    #[arg(long, default_value = "new", value_parser = parse_kind)]
    kind: Kind,
    /// For --kind renew: revoke the renewed certificate (reason superseded) on issuance.
    #[arg(long)]
    revoke_previous: bool,
    /// For --kind renew: sign the request with the certificate being renewed (from the
    /// store, its key opened with --pin) in a CMS SignedData, as Windows renews.
    #[arg(long)]
    sign_with_current: bool,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// Certificates (PEM or DER), or store directories: a store's personal/*.crt.pem
    /// are inspected against its trusted-roots/*.crt.pem.
    #[arg(required = true, value_name = "CERT|STORE")]
    certs: Vec<PathBuf>,
    /// A root to check the certification path against, PEM or DER (repeatable;
    /// the path is valid if it validates to any of them).
    #[arg(long, value_name = "ROOT")]
    root: Vec<PathBuf>,
    /// Print JSON instead of the dialog's lines: one object for one certificate,
    /// an array of them (each with its `file`) for several.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct WaitArgs {
    /// Any URL of each listener to wait for (its /healthz is polled), e.g.
    /// http://127.0.0.1:8080 http://127.0.0.1:8081.
    #[arg(required = true, value_name = "URL")]
    urls: Vec<String>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

#[derive(Debug, Args)]
struct AdminArgs {
    #[command(flatten)]
    listener: AdminListener,
    /// Print only this field of the answer (of each element, for a list), as plain text.
    #[arg(long, value_name = "NAME", global = true)]
    field: Option<String>,
    #[command(subcommand)]
    call: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Prepare an issuance (POST /admin/enrollments); the mail goes to the outbox.
    Prepare(PrepareArgs),
    /// The outbox, newest first (GET /admin/mails).
    Mails {
        /// Only mails to this address.
        #[arg(long, value_name = "E")]
        to: Option<String>,
        /// Only the newest mail.
        #[arg(long)]
        latest: bool,
    },
    /// One enrollment and its state (GET /admin/enrollments/{id}).
    Enrollment {
        /// The enrollment id (from `prepare`).
        id: String,
    },
    /// Issued certificates, newest first (GET /admin/certificates), or one by serial.
    Certificates {
        /// Only this serial (GET /admin/certificates/{serial}).
        serial: Option<String>,
        /// Only this user's.
        #[arg(long, value_name = "U", conflicts_with = "serial")]
        user_id: Option<String>,
        /// Only the newest.
        #[arg(long, conflicts_with = "serial")]
        latest: bool,
    },
    /// Revoke a certificate (POST /admin/certificates/{serial}/revoke).
    Revoke {
        /// The serial (hex; colons allowed).
        serial: String,
        /// RFC 5280 reason name (keyCompromise, superseded, ...). Default: unspecified.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The service clock (GET /admin/clock); `set` fixes it, `reset` returns to real time.
    Clock {
        #[command(subcommand)]
        action: Option<ClockAction>,
    },
    /// Injected faults (GET /admin/faults); `set` replaces them, `clear` removes them.
    Faults {
        #[command(subcommand)]
        action: Option<FaultsAction>,
    },
    /// Prometheus metrics (GET /metrics), as text.
    Metrics,
}

#[derive(Debug, Args)]
struct PrepareArgs {
    /// The user id the certificate is issued to.
    #[arg(long, value_name = "U")]
    user_id: String,
    /// The user's mail address. Default: the user id, lower case, at example.test.
    #[arg(long, value_name = "E")]
    email: Option<String>,
    /// The auth password (認証情報パスワード) the user will prove.
    #[arg(
        long,
        value_name = "P",
        env = "WEBRA2_AUTH_PASSWORD",
        hide_env_values = true
    )]
    auth_password: String,
    /// new (証明書発行サイト) or renew (証明書更新サイト).
    #[arg(long, default_value = "new", value_parser = parse_kind)]
    kind: Kind,
    /// When the mail counts as sent (RFC 3339 or YYYY-MM-DD). Default: the service clock's now.
    #[arg(long, value_parser = parse_mail_sent_at)]
    mail_sent_at: Option<OffsetDateTime>,
    /// Days the one-time URL stays valid. Default: the server's (30).
    #[arg(long, value_name = "DAYS")]
    url_valid_days: Option<u32>,
    /// For --kind renew: revoke the renewed certificate (superseded) on issuance.
    #[arg(long)]
    revoke_previous: bool,
}

#[derive(Debug, Subcommand)]
enum ClockAction {
    /// Fix the clock at NOW (RFC 3339, e.g. 2027-01-01T09:00:00+09:00).
    Set {
        /// The instant the clock shows.
        #[arg(value_parser = parse_instant)]
        now: OffsetDateTime,
        /// Let the clock run on from NOW instead of standing still.
        #[arg(long)]
        running: bool,
    },
    /// Back to real time.
    Reset,
}

#[derive(Debug, Subcommand)]
enum FaultsAction {
    /// Replace the active faults with this set: JSON `{"faults": [...]}`, or `-` for stdin.
    Set {
        /// The fault set (docs/PROTOCOL.md, Project additions).
        json: String,
    },
    /// Remove every fault.
    Clear,
}

#[derive(Debug, Args)]
struct TranscriptArgs {
    #[command(subcommand)]
    action: TranscriptAction,
}

#[derive(Debug, Subcommand)]
enum TranscriptAction {
    /// Compare two transcripts: prints what differs, exchange by exchange and field
    /// by field; exits 0 when the protocol is the same, 1 when it differs.
    Diff {
        /// The transcript you keep (known good).
        old: PathBuf,
        /// The transcript of the run to check.
        new: PathBuf,
    },
}

fn parse_instant(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 instant ({e}), e.g. 2027-01-01T09:00:00+09:00"))
}

fn parse_key_spec(s: &str) -> Result<KeySpec, String> {
    s.parse()
}

fn parse_fingerprint(s: &str) -> Result<String, String> {
    webra2_client::normalize_sha1(s).map(|_| s.to_owned())
}

fn parse_format(s: &str) -> Result<CertFormat, String> {
    s.parse()
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| format!("unknown kind {s:?} (new, renew)"))
}

fn parse_request_form(s: &str) -> Result<RequestForm, String> {
    s.parse()
}

fn parse_pkcs12_compat(s: &str) -> Result<Pkcs12Compat, String> {
    s.parse()
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Issue(args) => {
            wait_for(&runtime, &args.url, args.wait)?;
            let out = Output::of(&args.check);
            let opts = issue_options(args);
            out.drive(&runtime, |p| Box::pin(async move { issue(&opts, p).await }))
        }
        Command::Renew(args) => {
            wait_for(&runtime, &args.issue.url, args.issue.wait)?;
            let out = Output::of(&args.issue.check);
            let mut opts = issue_options(args.issue);
            opts.expect_kind = Some(Kind::Renew);
            opts.previous_serial = args.renews_serial;
            if args.sign_with_current {
                opts.sign_with_current = Some(args.current_pin.unwrap_or_else(|| opts.pin.clone()));
            }
            out.drive(&runtime, |p| Box::pin(async move { issue(&opts, p).await }))
        }
        Command::E2e(args) => {
            args.admin.connect(&runtime)?;
            let out = Output::of(&args.check);
            let mut opts = e2e_options(args.admin, args.user, args.check);
            opts.kind = args.kind;
            opts.revoke_previous = args.revoke_previous;
            opts.sign_with_current = args.sign_with_current;
            out.drive(&runtime, |p| Box::pin(async move { e2e(&opts, p).await }))
        }
        Command::Reissue(args) => {
            args.admin.connect(&runtime)?;
            let out = Output::of(&args.check);
            let opts = ReissueOptions {
                e2e: e2e_options(args.admin, args.user, args.check),
                serial: args.serial,
                reason: args.reason,
            };
            out.drive(&runtime, |p| {
                Box::pin(async move { reissue(&opts, p).await })
            })
        }
        Command::Inspect(args) => {
            let inspected = inspect_files(&args.certs, &args.root)?;
            let failed = inspected
                .iter()
                .any(|f| matches!(f.inspection.path, PathStatus::Invalid { .. }));
            match (args.json, inspected.as_slice()) {
                (true, [one]) if args.certs.len() == 1 && args.certs[0].is_file() => {
                    println!("{}", serde_json::to_string_pretty(&one.inspection)?);
                }
                (true, all) => println!("{}", serde_json::to_string_pretty(all)?),
                (false, [one]) if args.certs.len() == 1 && args.certs[0].is_file() => {
                    println!("{}", one.inspection);
                }
                (false, all) => {
                    for (n, f) in all.iter().enumerate() {
                        if n > 0 {
                            println!();
                        }
                        println!("{}:\n{}", f.file.display(), f.inspection);
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Status(args) => {
            let read = |p: &std::path::Path| {
                std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let cert = read(&args.cert)?;
            let opts = StatusOptions {
                issuer: args.issuer.as_deref().map(read).transpose()?,
                ocsp_url: args.ocsp_url,
                crl_url: args.crl_url,
                at: None,
            };
            let report = runtime.block_on(webra2_client::status(&cert, &opts))?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(ExitCode::from(report.verdict.exit_code()))
        }
        Command::Admin(args) => {
            let admin = args.listener.connect(&runtime)?;
            let (call, latest) = admin_call(args.call)?;
            let (media, body) = runtime.block_on(admin.call(&call))?;
            print_answer(&media, &body, latest, args.field.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Wait(args) => {
            for url in &args.urls {
                let waited =
                    runtime.block_on(wait_until_up(url, Duration::from_secs(args.timeout)))?;
                println!(
                    "{} answers /healthz (after {} ms)",
                    origin_of(url)?,
                    waited.as_millis()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Transcript(args) => match args.action {
            TranscriptAction::Diff { old, new } => {
                let read = |p: &PathBuf| -> anyhow::Result<Vec<Exchange>> {
                    let text = std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read {}", p.display()))?;
                    serde_json::from_str(&text).with_context(|| {
                        format!("{} is not a transcript (--transcript FILE)", p.display())
                    })
                };
                let diff = diff_transcripts(&read(&old)?, &read(&new)?);
                if diff.is_same() {
                    println!("same protocol: {} exchanges, no difference", diff.exchanges);
                    Ok(ExitCode::SUCCESS)
                } else {
                    println!("--- {}\n+++ {}", old.display(), new.display());
                    print!("{diff}");
                    Ok(ExitCode::FAILURE)
                }
            }
        },
    }
}

/// `--wait SECONDS`: polls the listener of `url` until it answers.
fn wait_for(runtime: &tokio::runtime::Runtime, url: &str, wait: Option<u64>) -> anyhow::Result<()> {
    if let Some(secs) = wait {
        runtime.block_on(wait_until_up(url, Duration::from_secs(secs)))?;
    }
    Ok(())
}

/// The admin API call a subcommand makes, and whether only the newest element is wanted.
fn admin_call(command: AdminCommand) -> anyhow::Result<(AdminCall, bool)> {
    use webra2_wire::paths;
    Ok(match command {
        AdminCommand::Prepare(a) => {
            let email = a
                .email
                .unwrap_or_else(|| format!("{}@example.test", a.user_id.to_ascii_lowercase()));
            let body = PrepareEnrollment {
                user_id: a.user_id,
                email,
                auth_password: a.auth_password,
                kind: a.kind,
                mail_sent_at: a.mail_sent_at,
                url_valid_days: a.url_valid_days,
                revoke_previous: a.revoke_previous,
            };
            (
                AdminCall::new(Method::POST, paths::ADMIN_ENROLLMENTS, 201).json(&body)?,
                false,
            )
        }
        AdminCommand::Mails { to, latest } => {
            let mut call = AdminCall::new(Method::GET, paths::ADMIN_MAILS, 200);
            if let Some(to) = to {
                call = call.query("to", to);
            }
            (call, latest)
        }
        AdminCommand::Enrollment { id } => (
            AdminCall::new(Method::GET, paths::ADMIN_ENROLLMENT, 200).param(id),
            false,
        ),
        AdminCommand::Certificates {
            serial: Some(serial),
            ..
        } => (
            AdminCall::new(Method::GET, paths::ADMIN_CERTIFICATE, 200).param(serial),
            false,
        ),
        AdminCommand::Certificates {
            serial: None,
            user_id,
            latest,
        } => {
            let mut call = AdminCall::new(Method::GET, paths::ADMIN_CERTIFICATES, 200);
            if let Some(user) = user_id {
                call = call.query("user_id", user);
            }
            (call, latest)
        }
        AdminCommand::Revoke { serial, reason } => (
            AdminCall::new(Method::POST, paths::ADMIN_REVOKE, 200)
                .param(serial)
                .json(&RevokeRequest { reason })?,
            false,
        ),
        AdminCommand::Clock { action } => (
            match action {
                None => AdminCall::new(Method::GET, paths::ADMIN_CLOCK, 200),
                Some(ClockAction::Set { now, running }) => {
                    AdminCall::new(Method::PUT, paths::ADMIN_CLOCK, 200)
                        .json(&SetClock { now, running })?
                }
                Some(ClockAction::Reset) => AdminCall::new(Method::DELETE, paths::ADMIN_CLOCK, 200),
            },
            false,
        ),
        AdminCommand::Faults { action } => (
            match action {
                None => AdminCall::new(Method::GET, paths::ADMIN_FAULTS, 200),
                Some(FaultsAction::Set { json }) => {
                    let text = if json == "-" {
                        std::io::read_to_string(std::io::stdin())
                            .context("cannot read the fault set from stdin")?
                    } else {
                        json
                    };
                    let set: FaultSet = serde_json::from_str(&text).context(
                        "not a fault set: {\"faults\": [{\"route\": \"/issue/{token}/csr\", \"status\": 503}]}",
                    )?;
                    AdminCall::new(Method::PUT, paths::ADMIN_FAULTS, 200).json(&set)?
                }
                Some(FaultsAction::Clear) => {
                    AdminCall::new(Method::DELETE, paths::ADMIN_FAULTS, 200)
                }
            },
            false,
        ),
        AdminCommand::Metrics => (AdminCall::new(Method::GET, paths::METRICS, 200), false),
    })
}

/// Prints an admin answer: JSON pretty (only the newest element with `latest`,
/// only one field with `field`), anything else as it came.
fn print_answer(media: &str, body: &[u8], latest: bool, field: Option<&str>) -> anyhow::Result<()> {
    if !media.ends_with("json") {
        if field.is_some() {
            anyhow::bail!("--field needs a JSON answer; this one is {media}");
        }
        print!("{}", String::from_utf8_lossy(body));
        return Ok(());
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(body).context("the answer is not JSON")?;
    if latest {
        value = match value {
            serde_json::Value::Array(items) => items
                .into_iter()
                .next()
                .context("the list is empty: nothing matched")?,
            other => other,
        };
    }
    let Some(name) = field else {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    };
    let one = |v: &serde_json::Value| -> anyhow::Result<String> {
        match v.get(name) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(other) => Ok(other.to_string()),
            None => {
                let known: Vec<&String> = v
                    .as_object()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                anyhow::bail!("the answer has no field {name:?} (it has: {known:?})")
            }
        }
    };
    match &value {
        serde_json::Value::Array(items) => {
            for item in items {
                println!("{}", one(item)?);
            }
        }
        other => println!("{}", one(other)?),
    }
    Ok(())
}

fn issue_options(args: IssueArgs) -> IssueOptions {
    let mut opts = IssueOptions::new(args.url, args.auth_password, args.pin, args.store);
    opts.user_id = args.user_id;
    opts.mail_sent_at = args.check.mail_sent_at;
    opts.checks = args.check.checks();
    opts
}

fn e2e_options(admin: AdminListener, user: UserArgs, check: CheckArgs) -> E2eOptions {
    let mut opts = E2eOptions::new(admin.admin_url, user.user_id);
    opts.admin_token = admin.admin_token;
    opts.email = user.email;
    opts.auth_password = user.auth_password;
    opts.pin = user.pin;
    opts.store_dir = user.store;
    opts.mail_sent_at = check.mail_sent_at;
    opts.checks = check.checks();
    opts
}

/// Where a run's report and transcript go (`--json`, `--transcript`).
struct Output {
    json: bool,
    transcript: Option<PathBuf>,
}

impl Output {
    fn of(check: &CheckArgs) -> Self {
        Self {
            json: check.json,
            transcript: check.transcript.clone(),
        }
    }

    /// Runs a command with a recording progress, writes the transcript, prints the report.
    fn drive(
        self,
        runtime: &tokio::runtime::Runtime,
        run: impl for<'p> FnOnce(&'p dyn Progress) -> Pin<Box<dyn Future<Output = Report> + 'p>>
            + 'static,
    ) -> anyhow::Result<ExitCode> {
        let rec = Recording::new(progress(self.json));
        let report = runtime.block_on(run(&rec));
        write_transcript(&rec, self.transcript.as_deref())?;
        finish(&report, self.json)
    }
}

/// Writes the recorded transcript where `--transcript` asked for it.
fn write_transcript(rec: &Recording<'_>, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(path) = path {
        std::fs::write(path, rec.to_json())
            .with_context(|| format!("cannot write the transcript to {}", path.display()))?;
    }
    Ok(())
}

fn progress(json: bool) -> &'static dyn Progress {
    if json {
        &NoProgress
    } else {
        &TerminalProgress
    }
}

fn finish(report: &Report, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        let failed = report
            .steps
            .iter()
            .filter(|s| s.status == webra2_client::Status::Fail)
            .count();
        let store = report.store.as_deref().unwrap_or("-");
        if let Some(pin) = &report.pin {
            println!("PIN {pin} (chosen at random; it opens the installed key; --pin or WEBRA2_PIN chooses it)");
        }
        if report.ok {
            println!(
                "OK: {} steps, none failed ({} ms); store {store}",
                report.steps.len(),
                report.elapsed_ms
            );
        } else {
            println!(
                "FAILED: {failed} of {} steps failed ({} ms); store {store}",
                report.steps.len(),
                report.elapsed_ms
            );
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
