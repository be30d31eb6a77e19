//! `webra2-client`: the user's side of the webra2 issuance manual as a CLI test
//! harness. Prints one line per step (PASS/FAIL/SKIP) or, with `--json`, one
//! report document; exits 0 only when no step failed.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use time::OffsetDateTime;
use webra2_client::{
    e2e, inspect, issue, parse_mail_sent_at, reissue, CertFormat, Checks, E2eOptions, IssueOptions,
    KeySpec, Kind, NoProgress, PathStatus, Progress, Recording, ReissueOptions, Report,
    RequestForm, StatusOptions, TerminalProgress,
};
use webra2_wire::Pkcs12Compat;

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
    /// Show a certificate as the Windows certificate dialog's 全般 tab does.
    Inspect(InspectArgs),
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
    e2e: E2eArgs,
    /// The serial to revoke. Default: the user's newest valid certificate.
    #[arg(long, value_name = "SERIAL")]
    serial: Option<String>,
    /// The revocation reason (RFC 5280 name, e.g. keyCompromise, superseded).
    #[arg(long, default_value = "unspecified")]
    reason: String,
}

#[derive(Debug, Args)]
struct E2eArgs {
    /// The admin listener (e.g. http://127.0.0.1:8081).
    #[arg(long, value_name = "URL")]
    admin_url: String,
    /// The admin token, sent as `Authorization: Bearer`.
    #[arg(
        long,
        value_name = "T",
        env = "WEBRA2_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// The user id to prepare the enrollment for.
    #[arg(long, value_name = "U")]
    user_id: String,
    /// The user's mail address. Default: the user id, lower case, at example.test.
    #[arg(long, value_name = "E")]
    email: Option<String>,
    /// The auth password to prepare. Default: a random one.
    #[arg(long, value_name = "P")]
    auth_password: Option<String>,
    /// The PIN for the stored key. Default: a random one.
    #[arg(long)]
    pin: Option<String>,
    /// The certificate store directory. Default: a new directory under the temp directory.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
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
    /// The certificate, PEM or DER.
    cert: PathBuf,
    /// The root to check the certification path against, PEM or DER.
    #[arg(long, value_name = "ROOT")]
    root: Option<PathBuf>,
    /// Print JSON instead of the dialog's lines.
    #[arg(long)]
    json: bool,
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
            let out = Output::of(&args.check);
            let opts = issue_options(args);
            out.drive(&runtime, |p| Box::pin(async move { issue(&opts, p).await }))
        }
        Command::Renew(args) => {
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
            let out = Output::of(&args.check);
            let opts = e2e_options(args);
            out.drive(&runtime, |p| Box::pin(async move { e2e(&opts, p).await }))
        }
        Command::Reissue(args) => {
            let out = Output::of(&args.e2e.check);
            let opts = ReissueOptions {
                e2e: e2e_options(args.e2e),
                serial: args.serial,
                reason: args.reason,
            };
            out.drive(&runtime, |p| {
                Box::pin(async move { reissue(&opts, p).await })
            })
        }
        Command::Inspect(args) => {
            let cert = std::fs::read(&args.cert)
                .with_context(|| format!("cannot read {}", args.cert.display()))?;
            let root = args
                .root
                .as_ref()
                .map(|p| std::fs::read(p).with_context(|| format!("cannot read {}", p.display())))
                .transpose()?;
            let inspection = inspect(&cert, root.as_deref())?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&inspection)?);
            } else {
                println!("{inspection}");
            }
            Ok(match inspection.path {
                PathStatus::Invalid { .. } => ExitCode::FAILURE,
                PathStatus::Valid { .. } | PathStatus::RootNotGiven => ExitCode::SUCCESS,
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
    }
}

fn issue_options(args: IssueArgs) -> IssueOptions {
    let mut opts = IssueOptions::new(args.url, args.auth_password, args.pin, args.store);
    opts.user_id = args.user_id;
    opts.mail_sent_at = args.check.mail_sent_at;
    opts.checks = args.check.checks();
    opts
}

fn e2e_options(args: E2eArgs) -> E2eOptions {
    let mut opts = E2eOptions::new(args.admin_url, args.user_id);
    opts.admin_token = args.admin_token;
    opts.email = args.email;
    opts.auth_password = args.auth_password;
    opts.pin = args.pin;
    opts.store_dir = args.store;
    opts.kind = args.kind;
    opts.revoke_previous = args.revoke_previous;
    opts.sign_with_current = args.sign_with_current;
    opts.mail_sent_at = args.check.mail_sent_at;
    opts.checks = args.check.checks();
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
