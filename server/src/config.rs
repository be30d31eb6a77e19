//! Configuration: one typed struct with defaults, read from flags, `WEBRA2_*`
//! environment variables and an optional TOML file, in that order of precedence.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The `webra2-mock` command line.
#[derive(Debug, Parser)]
#[command(
    name = "webra2-mock",
    version,
    about = "A mock of the webra2 client-certificate issuance site (mock CA, admin API, confirmation page)",
    long_about = None
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the public, admin and confirm listeners until interrupted.
    #[command(after_help = config_file_help())]
    Serve(ServeArgs),
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// `--root`: which root CA signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootMode {
    /// The checked-in fixture root: its fingerprint never changes.
    #[default]
    Fixture,
    /// A fresh root generated at every start, so clients cannot hard-code a fingerprint.
    Ephemeral,
    /// The root in --root-cert and --root-key.
    File,
}

/// Where the root CA comes from, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RootSource {
    /// The fixture root.
    #[default]
    Fixture,
    /// A root generated at start-up.
    Ephemeral,
    /// A certificate and key in PEM files.
    Files {
        /// The certificate (PEM).
        cert: PathBuf,
        /// The private key (PEM, PKCS#8 or PKCS#1 RSA).
        key: PathBuf,
    },
}

impl RootSource {
    /// `fixture`, `ephemeral` or `file`, as the ready line prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Fixture => "fixture",
            Self::Ephemeral => "ephemeral",
            Self::Files { .. } => "file",
        }
    }
}

/// The `--faults` / `WEBRA2_FAULTS` help text: the shape, in one place.
const FAULTS_HELP: &str = "Faults to inject from the start, as JSON: \
{\"faults\": [{\"route\": \"/issue/{token}/csr\", \"status\": 503, \"times\": 2}, \
{\"route\": \"/issue/{token}/auth\", \"status\": 429, \"retry_after\": 1}, \
{\"route\": \"/ca/root.crt\", \"latency_ms\": 200}, {\"route\": \"/ca/root.pem\", \"truncate_body\": 10}, \
{\"kind\": \"wrong_root\"}, {\"kind\": \"ca_maintenance\", \"retry_after\": 5}]}. \
The OCSP responder's kinds: ocsp_try_later, ocsp_internal_error, ocsp_unauthorized, ocsp_stale, \
ocsp_wrong_key, ocsp_wrong_nonce. \
route is a route template of the public or confirm listener (or *), method narrows it, \
times counts matching requests down (absent: until cleared). \
At run time: PUT/GET/DELETE /admin/faults, which also takes {\"kind\": \"expire_url_now\", \"enrollment_id\": ID}. \
See docs/PROTOCOL.md, Project additions";

/// `serve` flags. Every flag is also an environment variable and a key of the
/// config file (same name, `_` for `-`).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeArgs {
    /// TOML config file; flags and WEBRA2_* variables override its keys.
    #[arg(long, env = "WEBRA2_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Public listener: the issuance site [default: 127.0.0.1:8080].
    #[arg(long, env = "WEBRA2_PUBLIC_ADDR")]
    pub public_addr: Option<SocketAddr>,
    /// Admin listener: preparation, outbox, certificates, clock [default: 127.0.0.1:8081].
    #[arg(long, env = "WEBRA2_ADMIN_ADDR")]
    pub admin_addr: Option<SocketAddr>,
    /// Confirm listener: Step 4 over mutual TLS [default: 127.0.0.1:8443].
    #[arg(long, env = "WEBRA2_CONFIRM_ADDR")]
    pub confirm_addr: Option<SocketAddr>,
    /// Store: sqlite://PATH (created if missing), sqlite::memory:, or postgres://USER@HOST:PORT/DB (shared by several replicas) [default: sqlite://webra2-mock.db].
    #[arg(long, env = "WEBRA2_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Bearer token the admin API demands. Without one the admin listener must be on loopback.
    #[arg(long, env = "WEBRA2_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Profile: a built-in name (webra2, modern) or a path to a TOML file [default: webra2].
    /// Besides the key policy and validity, a profile sets the PKCS#12 form
    /// (`[pkcs12] compat = "modern"|"legacy"`), the PIN lengths (`[pin] min_chars`,
    /// `max_chars`) and whether a renewal must be signed by the current certificate
    /// (`[renewal] signed_by_current`); see fixtures/profiles/webra2.toml.
    #[arg(long, env = "WEBRA2_PROFILE")]
    pub profile: Option<String>,
    /// Base URL of the public listener as users reach it (one-time URLs, CRL) [default: http://PUBLIC_ADDR].
    #[arg(long, env = "WEBRA2_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// URL of the confirmation page as users reach it [default: https://CONFIRM_ADDR/confirm].
    #[arg(long, env = "WEBRA2_CONFIRM_URL")]
    pub confirm_url: Option<String>,
    /// Host names and IPs in the confirm listener's certificate, comma-separated [default: localhost,127.0.0.1].
    #[arg(long, env = "WEBRA2_CONFIRM_HOSTS", value_delimiter = ',')]
    pub confirm_hosts: Option<Vec<String>>,
    /// Log format: text or json, on stderr; WEBRA2_LOG filters [default: text].
    #[arg(long, env = "WEBRA2_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Root CA: fixture (stable fingerprint), ephemeral (new at every start; certificates
    /// stored under an earlier root no longer verify), or file (--root-cert/--root-key) [default: fixture].
    #[arg(long, env = "WEBRA2_ROOT", value_enum)]
    pub root: Option<RootMode>,
    /// The root certificate (PEM) for --root file; implies it.
    #[arg(long, env = "WEBRA2_ROOT_CERT", value_name = "FILE")]
    pub root_cert: Option<PathBuf>,
    /// The root's private key (PEM: PKCS#8, or PKCS#1 RSA) for --root file; implies it.
    #[arg(long, env = "WEBRA2_ROOT_KEY", value_name = "FILE")]
    pub root_key: Option<PathBuf>,
    /// Also send every issuance mail over SMTP: smtp://HOST:PORT (plain),
    /// smtp://HOST:PORT?tls=required (STARTTLS), smtps://HOST:PORT (TLS); user:password@ for AUTH.
    /// The outbox records every mail either way; a failed send is logged, never fails the preparation.
    #[arg(
        long,
        env = "WEBRA2_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<String>,
    /// The From of SMTP mails [default: webra2-mock <no-reply@webra2-mock.test>].
    #[arg(long, env = "WEBRA2_SMTP_FROM", value_name = "ADDRESS")]
    pub smtp_from: Option<String>,
    #[doc = "Faults to inject from the start (JSON); see --help."]
    #[arg(long, env = "WEBRA2_FAULTS", value_name = "JSON", long_help = FAULTS_HELP)]
    pub faults: Option<String>,
    /// Wrong passwords in a row that lock a one-time URL, 1-100 [default: 5].
    #[arg(long, env = "WEBRA2_LOCK_AFTER", value_name = "N")]
    pub lock_after: Option<u32>,
    /// Minutes a Step 1 session (password accepted, CSR not yet sent) lives, 1-1440 [default: 30].
    #[arg(long, env = "WEBRA2_SESSION_MINUTES", value_name = "MINUTES")]
    pub session_minutes: Option<i64>,
    /// Days a one-time URL stays valid when the preparation names none, 1-365 [default: 30].
    #[arg(long, env = "WEBRA2_URL_VALID_DAYS", value_name = "DAYS")]
    pub url_valid_days: Option<u32>,
    /// Connections the public and the confirm listener each hold open at once, 1-4096;
    /// more clients wait to be accepted (the admin listener has its own 64) [default: 256].
    #[arg(long, env = "WEBRA2_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request head (or finish the TLS handshake), and
    /// between two pieces of a request body, before it is disconnected, 1-300 [default: 10].
    #[arg(long, env = "WEBRA2_CLIENT_TIMEOUT", value_name = "SECONDS")]
    pub client_timeout: Option<u64>,
}

/// The `serve --help` epilogue: every config-file key and `WEBRA2_*` variable with
/// its default, the defaults taken from [`Settings::default`] so the two cannot drift.
fn config_file_help() -> String {
    use std::fmt::Write as _;
    let d = Settings::default();
    let none = || "none".to_string();
    let keys: [(&str, String); 21] = [
        ("public_addr", d.public_addr.to_string()),
        ("admin_addr", d.admin_addr.to_string()),
        ("confirm_addr", d.confirm_addr.to_string()),
        ("db", d.db.clone()),
        ("admin_token", none()),
        ("profile", d.profile.clone()),
        ("public_url", "http://PUBLIC_ADDR".into()),
        ("confirm_url", "https://CONFIRM_ADDR/confirm".into()),
        ("confirm_hosts", d.confirm_hosts.join(",")),
        ("log_format", "text".into()),
        ("root", d.root.name().into()),
        ("root_cert", none()),
        ("root_key", none()),
        ("smtp_url", none()),
        ("smtp_from", d.smtp_from.clone()),
        ("faults", none()),
        ("lock_after", d.lock_after.to_string()),
        ("session_minutes", d.session_minutes.to_string()),
        ("url_valid_days", d.url_valid_days.to_string()),
        ("max_connections", d.max_connections.to_string()),
        ("client_timeout", d.client_timeout.to_string()),
    ];
    let mut help = String::from(
        "Config file (--config FILE, TOML): every flag but --config is also a key, `_` for `-`,\n\
         and a WEBRA2_* variable. Flags win over variables, variables over the file,\n\
         the file over the defaults. A key the list does not name is refused.\n\n\
         \x20 KEY              VARIABLE                  DEFAULT\n",
    );
    for (key, default) in keys {
        let var = format!("WEBRA2_{}", key.to_uppercase());
        let _ = writeln!(help, "  {key:<16} {var:<25} {default}");
    }
    help.push_str(
        "\nAlso read from the environment:\n\
         \x20 WEBRA2_CONFIG    the config file (as --config) [default: none]\n\
         \x20 WEBRA2_LOG       log filter, tracing EnvFilter syntax (e.g. debug, webra2_mock=trace) [default: info]",
    );
    help
}

/// The effective configuration, every default applied.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public listener address (port 0: any free port).
    pub public_addr: SocketAddr,
    /// Admin listener address.
    pub admin_addr: SocketAddr,
    /// Confirm listener address.
    pub confirm_addr: SocketAddr,
    /// Store URL.
    pub db: String,
    /// The admin token, if any.
    pub admin_token: Option<String>,
    /// Profile name or path.
    pub profile: String,
    /// Public base URL override.
    pub public_url: Option<String>,
    /// Confirm URL override.
    pub confirm_url: Option<String>,
    /// Names in the confirm listener's certificate.
    pub confirm_hosts: Vec<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Wrong passwords in a row that lock a URL (1-100).
    pub lock_after: u32,
    /// How long a Step 1 session lives, in minutes (1-1440).
    pub session_minutes: i64,
    /// Days a one-time URL stays valid when the preparation names none (1-365).
    pub url_valid_days: u32,
    /// Where the root CA comes from.
    pub root: RootSource,
    /// SMTP relay for the issuance mail, if any.
    pub smtp_url: Option<String>,
    /// The From of SMTP mails.
    pub smtp_from: String,
    /// Faults active from the start.
    pub faults: webra2_wire::FaultSet,
    /// Connections the public and the confirm listener each hold open (1-4096).
    pub max_connections: usize,
    /// Seconds a client has for a request head, a TLS handshake, a body piece (1-300).
    pub client_timeout: u64,
}

/// The default From of SMTP mails.
pub const DEFAULT_SMTP_FROM: &str = "webra2-mock <no-reply@webra2-mock.test>";

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            confirm_addr: SocketAddr::from(([127, 0, 0, 1], 8443)),
            db: "sqlite://webra2-mock.db".into(),
            admin_token: None,
            profile: "webra2".into(),
            public_url: None,
            confirm_url: None,
            confirm_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            log_format: LogFormat::Text,
            lock_after: 5,
            session_minutes: 30,
            url_valid_days: 30,
            root: RootSource::Fixture,
            smtp_url: None,
            smtp_from: DEFAULT_SMTP_FROM.into(),
            faults: webra2_wire::FaultSet::default(),
            max_connections: 256,
            client_timeout: 10,
        }
    }
}

impl Settings {
    /// Settings for a test: every listener on a free loopback port, an in-memory store.
    pub fn for_tests() -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            public_addr: any,
            admin_addr: any,
            confirm_addr: any,
            db: "sqlite::memory:".into(),
            ..Self::default()
        }
    }

    /// Merges flags/environment over the config file over the defaults.
    pub fn from_args(args: ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
                toml::from_str::<ServeArgs>(&text).map_err(|e| {
                    anyhow::anyhow!(
                        "config file {}: {}",
                        path.display(),
                        webra2_ca::toml_error_line(&e, &text)
                    )
                })?
            }
            None => ServeArgs::default(),
        };
        let d = Settings::default();
        let s = Settings {
            public_addr: args
                .public_addr
                .or(file.public_addr)
                .unwrap_or(d.public_addr),
            admin_addr: args.admin_addr.or(file.admin_addr).unwrap_or(d.admin_addr),
            confirm_addr: args
                .confirm_addr
                .or(file.confirm_addr)
                .unwrap_or(d.confirm_addr),
            db: args.db.or(file.db).unwrap_or(d.db),
            // An empty token is kept, and refused by `validate`: read as "no
            // token" it would leave the admin API open.
            admin_token: args.admin_token.or(file.admin_token),
            profile: args.profile.or(file.profile).unwrap_or(d.profile),
            public_url: args.public_url.or(file.public_url),
            confirm_url: args.confirm_url.or(file.confirm_url),
            confirm_hosts: args
                .confirm_hosts
                .or(file.confirm_hosts)
                .unwrap_or(d.confirm_hosts),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            root: root_source(
                args.root.or(file.root),
                args.root_cert.or(file.root_cert),
                args.root_key.or(file.root_key),
            )?,
            smtp_url: args.smtp_url.or(file.smtp_url).filter(|u| !u.is_empty()),
            smtp_from: args
                .smtp_from
                .or(file.smtp_from)
                .unwrap_or(d.smtp_from.clone()),
            faults: match args.faults.or(file.faults).filter(|f| !f.trim().is_empty()) {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| anyhow::anyhow!("--faults (WEBRA2_FAULTS): {e}"))?,
                None => webra2_wire::FaultSet::default(),
            },
            lock_after: args.lock_after.or(file.lock_after).unwrap_or(d.lock_after),
            session_minutes: args
                .session_minutes
                .or(file.session_minutes)
                .unwrap_or(d.session_minutes),
            url_valid_days: args
                .url_valid_days
                .or(file.url_valid_days)
                .unwrap_or(d.url_valid_days),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(d.max_connections),
            client_timeout: args
                .client_timeout
                .or(file.client_timeout)
                .unwrap_or(d.client_timeout),
        };
        s.validate()?;
        Ok(s)
    }

    /// Refuses settings the service must not run with.
    ///
    /// Faults are checked when the application is built (the fault store parses them).
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.admin_token.is_none() && !self.admin_addr.ip().is_loopback() {
            anyhow::bail!(
                "the admin listener ({}) is not on loopback: set --admin-token (WEBRA2_ADMIN_TOKEN) or bind it to 127.0.0.1",
                self.admin_addr
            );
        }
        if let Some(token) = &self.admin_token {
            if token.is_empty() {
                anyhow::bail!(
                    "the admin token is empty, which would leave the admin API open: give one of at least 16 characters, or none on a loopback admin listener"
                );
            }
            if token.len() < 16 {
                anyhow::bail!("the admin token must be at least 16 characters");
            }
        }
        if !(1..=100).contains(&self.lock_after) {
            anyhow::bail!(
                "lock_after (--lock-after, WEBRA2_LOCK_AFTER) is {}: it must be between 1 and 100 wrong passwords",
                self.lock_after
            );
        }
        if !(1..=1440).contains(&self.session_minutes) {
            anyhow::bail!(
                "session_minutes (--session-minutes, WEBRA2_SESSION_MINUTES) is {}: it must be between 1 and 1440 (one day)",
                self.session_minutes
            );
        }
        // The admin API takes 1-365 for a preparation's own url_valid_days; the default
        // must be a value the API itself would accept.
        if !(1..=365).contains(&self.url_valid_days) {
            anyhow::bail!(
                "url_valid_days (--url-valid-days, WEBRA2_URL_VALID_DAYS) is {}: it must be between 1 and 365",
                self.url_valid_days
            );
        }
        if !(1..=4096).contains(&self.max_connections) {
            anyhow::bail!(
                "max_connections (--max-connections, WEBRA2_MAX_CONNECTIONS) is {}: it must be between 1 and 4096",
                self.max_connections
            );
        }
        if !(1..=300).contains(&self.client_timeout) {
            anyhow::bail!(
                "client_timeout (--client-timeout, WEBRA2_CLIENT_TIMEOUT) is {}: it must be between 1 and 300 seconds",
                self.client_timeout
            );
        }
        Ok(())
    }

    /// What the public and confirm listeners allow a client.
    pub fn limits(&self) -> crate::listener::Limits {
        let timeout = std::time::Duration::from_secs(self.client_timeout);
        crate::listener::Limits {
            max_connections: self.max_connections,
            header_timeout: timeout,
            body_timeout: timeout,
        }
    }
}

/// Resolves `--root`, `--root-cert` and `--root-key` into one source.
fn root_source(
    mode: Option<RootMode>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> anyhow::Result<RootSource> {
    match (mode, cert, key) {
        (None | Some(RootMode::File), Some(cert), Some(key)) => Ok(RootSource::Files { cert, key }),
        (Some(RootMode::File), _, _) | (None, Some(_), None) | (None, None, Some(_)) => {
            anyhow::bail!("--root file needs both --root-cert FILE and --root-key FILE")
        }
        (Some(mode), Some(_), _) | (Some(mode), _, Some(_)) => anyhow::bail!(
            "--root-cert/--root-key load a root from files: they do not go with --root {}",
            if mode == RootMode::Ephemeral {
                "ephemeral"
            } else {
                "fixture"
            }
        ),
        (None | Some(RootMode::Fixture), None, None) => Ok(RootSource::Fixture),
        (Some(RootMode::Ephemeral), None, None) => Ok(RootSource::Ephemeral),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_listener_off_loopback_needs_a_token() {
        let args = ServeArgs {
            admin_addr: Some("0.0.0.0:8081".parse().expect("addr")),
            ..ServeArgs::default()
        };
        let err = Settings::from_args(args.clone()).expect_err("must refuse");
        assert!(err.to_string().contains("--admin-token"), "{err}");
        let with_token = ServeArgs {
            admin_token: Some("0123456789abcdef0123".into()),
            ..args
        };
        assert!(Settings::from_args(with_token).is_ok());
    }

    #[test]
    fn flags_override_the_config_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("webra2.toml");
        std::fs::write(
            &path,
            "public_addr = \"127.0.0.1:9000\"\nprofile = \"modern\"\ndb = \"sqlite::memory:\"\n",
        )
        .expect("write");
        let args = ServeArgs {
            config: Some(path),
            profile: Some("webra2".into()),
            ..ServeArgs::default()
        };
        let s = Settings::from_args(args).expect("settings");
        assert_eq!(s.public_addr.port(), 9000, "from the file");
        assert_eq!(s.profile, "webra2", "the flag wins");
        assert_eq!(s.admin_addr.port(), 8081, "the default");
    }

    #[test]
    fn root_flags_resolve_to_one_source_or_are_refused() {
        let with = |root, cert: Option<&str>, key: Option<&str>| {
            Settings::from_args(ServeArgs {
                root,
                root_cert: cert.map(PathBuf::from),
                root_key: key.map(PathBuf::from),
                ..ServeArgs::default()
            })
            .map(|s| s.root)
        };
        assert_eq!(
            with(None, None, None).expect("default"),
            RootSource::Fixture
        );
        assert_eq!(
            with(Some(RootMode::Ephemeral), None, None).expect("ephemeral"),
            RootSource::Ephemeral
        );
        assert_eq!(
            with(None, Some("c"), Some("k")).expect("files").name(),
            "file"
        );
        assert!(
            with(None, Some("c"), None).is_err(),
            "a cert without its key"
        );
        assert!(
            with(Some(RootMode::File), None, None).is_err(),
            "file without files"
        );
        assert!(with(Some(RootMode::Ephemeral), Some("c"), Some("k")).is_err());
    }

    #[test]
    fn faults_from_the_environment_are_json_checked_at_start() {
        let ok = Settings::from_args(ServeArgs {
            faults: Some(r#"{"faults": [{"kind": "wrong_root"}]}"#.into()),
            ..ServeArgs::default()
        })
        .expect("valid JSON");
        assert_eq!(ok.faults.faults.len(), 1);
        let err = Settings::from_args(ServeArgs {
            faults: Some(r#"{"faults": [{"kind": "wrong_rooot"}]}"#.into()),
            ..ServeArgs::default()
        })
        .expect_err("a misspelt kind");
        assert!(err.to_string().contains("WEBRA2_FAULTS"), "{err}");
    }

    #[test]
    fn unknown_config_file_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "publik_addr = \"127.0.0.1:9000\"\n").expect("write");
        let args = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        };
        assert!(Settings::from_args(args).is_err());
    }

    #[test]
    fn a_config_file_error_is_one_line_naming_the_file_and_the_place() {
        let (_dir, args) = with_file("public_addr = \"127.0.0.1:0\"\nlock_after = \"x\"\n");
        let err = Settings::from_args(args)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("webra2.toml: line 2, column 14: "), "{err}");
        assert!(err.contains("expected u32"), "{err}");
    }

    #[test]
    fn connection_limits_take_the_file_and_refuse_what_is_out_of_range() {
        let (_dir, args) = with_file("max_connections = 32\nclient_timeout = 3\n");
        let s = Settings::from_args(args).expect("from the file");
        let limits = s.limits();
        assert_eq!(limits.max_connections, 32);
        assert_eq!(limits.header_timeout, std::time::Duration::from_secs(3));
        for (key, value) in [
            ("max_connections", 0),
            ("max_connections", 4097),
            ("client_timeout", 0),
            ("client_timeout", 301),
        ] {
            let (_dir, args) = with_file(&format!("{key} = {value}\n"));
            let err = Settings::from_args(args)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(key), "{key} = {value}: {err}");
        }
    }

    fn with_file(toml: &str) -> (tempfile::TempDir, ServeArgs) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("webra2.toml");
        std::fs::write(&path, toml).expect("write");
        let args = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        };
        (dir, args)
    }

    #[test]
    fn lock_session_and_url_knobs_take_the_flag_over_the_file_over_the_default() {
        let s = Settings::from_args(ServeArgs::default()).expect("defaults");
        assert_eq!(
            (s.lock_after, s.session_minutes, s.url_valid_days),
            (5, 30, 30)
        );
        let (_dir, args) = with_file("lock_after = 3\nsession_minutes = 60\nurl_valid_days = 90\n");
        let s = Settings::from_args(args.clone()).expect("from the file");
        assert_eq!(
            (s.lock_after, s.session_minutes, s.url_valid_days),
            (3, 60, 90)
        );
        let s = Settings::from_args(ServeArgs {
            lock_after: Some(7),
            session_minutes: Some(10),
            ..args
        })
        .expect("flags over the file");
        assert_eq!(
            (s.lock_after, s.session_minutes, s.url_valid_days),
            (7, 10, 90),
            "the flags win; the file's url_valid_days stays"
        );
    }

    #[test]
    fn the_new_flags_parse_from_the_command_line() {
        use clap::Parser as _;
        let cli = Cli::try_parse_from([
            "webra2-mock",
            "serve",
            "--lock-after",
            "9",
            "--session-minutes",
            "15",
            "--url-valid-days",
            "365",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command;
        let s = Settings::from_args(args).expect("valid");
        assert_eq!(
            (s.lock_after, s.session_minutes, s.url_valid_days),
            (9, 15, 365)
        );
    }

    #[test]
    fn out_of_range_knobs_are_refused_naming_the_flag_the_variable_and_the_range() {
        let refused = |args: ServeArgs| {
            Settings::from_args(args)
                .expect_err("must refuse")
                .to_string()
        };
        for (args, names) in [
            (
                ServeArgs {
                    lock_after: Some(0),
                    ..ServeArgs::default()
                },
                ["--lock-after", "WEBRA2_LOCK_AFTER", "between 1 and 100"],
            ),
            (
                ServeArgs {
                    lock_after: Some(101),
                    ..ServeArgs::default()
                },
                ["--lock-after", "WEBRA2_LOCK_AFTER", "between 1 and 100"],
            ),
            (
                ServeArgs {
                    session_minutes: Some(0),
                    ..ServeArgs::default()
                },
                [
                    "--session-minutes",
                    "WEBRA2_SESSION_MINUTES",
                    "between 1 and 1440",
                ],
            ),
            (
                ServeArgs {
                    session_minutes: Some(-5),
                    ..ServeArgs::default()
                },
                [
                    "--session-minutes",
                    "WEBRA2_SESSION_MINUTES",
                    "between 1 and 1440",
                ],
            ),
            (
                ServeArgs {
                    session_minutes: Some(1441),
                    ..ServeArgs::default()
                },
                [
                    "--session-minutes",
                    "WEBRA2_SESSION_MINUTES",
                    "between 1 and 1440",
                ],
            ),
            (
                ServeArgs {
                    url_valid_days: Some(0),
                    ..ServeArgs::default()
                },
                [
                    "--url-valid-days",
                    "WEBRA2_URL_VALID_DAYS",
                    "between 1 and 365",
                ],
            ),
            (
                ServeArgs {
                    url_valid_days: Some(366),
                    ..ServeArgs::default()
                },
                [
                    "--url-valid-days",
                    "WEBRA2_URL_VALID_DAYS",
                    "between 1 and 365",
                ],
            ),
        ] {
            let err = refused(args);
            for name in names {
                assert!(err.contains(name), "{name} missing from: {err}");
            }
        }
        let edges = Settings::from_args(ServeArgs {
            lock_after: Some(100),
            session_minutes: Some(1440),
            url_valid_days: Some(1),
            ..ServeArgs::default()
        });
        assert!(edges.is_ok(), "the bounds themselves are allowed");
    }

    #[test]
    fn an_out_of_range_value_in_the_config_file_is_refused_too() {
        let (_dir, args) = with_file("session_minutes = 0\n");
        let err = Settings::from_args(args).expect_err("must refuse");
        assert!(err.to_string().contains("session_minutes"), "{err}");
    }

    #[test]
    fn serve_help_lists_every_flag_as_a_config_key_and_a_variable_with_its_default() {
        use clap::CommandFactory as _;
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").expect("serve exists");
        let help = config_file_help();
        let mut keys = Vec::new();
        for arg in serve.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "config" {
                continue;
            }
            keys.push(id.to_string());
            let line = help
                .lines()
                .find(|l| l.split_whitespace().next() == Some(id))
                .unwrap_or_else(|| panic!("config key {id} missing from:\n{help}"));
            let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_default();
            assert!(
                env.starts_with("WEBRA2_") && line.contains(env),
                "{id}: its variable {env:?} is not on its line {line:?}"
            );
            assert!(
                line.split_whitespace().count() >= 3,
                "{id}: no default on {line:?}"
            );
        }
        let listed = help
            .lines()
            .filter(|l| l.starts_with("  ") && l.contains(" WEBRA2_"))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|k| !k.starts_with("WEBRA2_"))
            .count();
        assert_eq!(listed, keys.len(), "the list names keys no flag has");
        for key in ["lock_after", "session_minutes", "url_valid_days"] {
            assert!(keys.iter().any(|k| k == key), "{key} is not a flag");
        }
        assert!(help.contains("WEBRA2_LOG "), "{help}");
    }
}
