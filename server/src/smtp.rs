//! The issuance mail over SMTP (`--smtp-url`), with lettre on tokio and rustls
//! (ring). The outbox records every mail whether or not SMTP is configured; a
//! send runs in the background after the preparation is stored, and its
//! failure is logged (relay host only, never credentials or the URL) without
//! failing the preparation.

use crate::metrics::Metrics;
use crate::store::MailRecord;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// An SMTP relay and the From the mails carry.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    relay: String,
}

impl std::fmt::Debug for Mailer {
    // The URL may carry a password: only the relay's host shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// `host:port` of an SMTP URL, without user, password or parameters.
fn relay_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or_default().to_owned()
}

impl Mailer {
    /// A mailer for `smtp://HOST:PORT` (plain), `smtp://HOST:PORT?tls=required`
    /// (STARTTLS) or `smtps://HOST:PORT` (TLS), with user:password@ for AUTH.
    pub fn from_url(url: &str, from: &str) -> anyhow::Result<Self> {
        let relay = relay_of(url);
        // lettre's error would quote the URL, password and all: say what is wrong ourselves.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| {
                anyhow::anyhow!(
                    "--smtp-url for {relay}: not an SMTP URL (smtp://HOST:PORT, smtp://HOST:PORT?tls=required, smtps://HOST:PORT)"
                )
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("--smtp-from {from:?}: {e}"))?;
        Ok(Self {
            transport,
            from,
            relay,
        })
    }

    /// The relay's `host:port`, for logs.
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// Sends one issuance mail: Japanese text/plain (lettre picks the transfer
    /// encoding), dated when the mail counts as sent.
    pub async fn send(&self, mail: &MailRecord) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .date(SystemTime::from(mail.sent_at))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Sends the mail in the background when SMTP is configured; counts and logs
/// the result. Never fails the caller.
pub fn deliver(mailer: Option<&Arc<Mailer>>, metrics: &Arc<Metrics>, mail: MailRecord) {
    let Some(mailer) = mailer.cloned() else {
        return;
    };
    let metrics = Arc::clone(metrics);
    tokio::spawn(async move {
        match mailer.send(&mail).await {
            Ok(()) => {
                metrics.mail_sent("sent");
                tracing::info!(mail = %mail.id, relay = %mailer.relay(), "issuance mail sent over SMTP");
            }
            Err(e) => {
                metrics.mail_sent("failed");
                tracing::warn!(mail = %mail.id, relay = %mailer.relay(), error = %e, "issuance mail not sent over SMTP; it is in the outbox");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_shown_in_logs_has_no_credentials() {
        assert_eq!(
            relay_of("smtp://user:p%40ss@mail.example:587?tls=required"),
            "mail.example:587"
        );
        assert_eq!(relay_of("smtp://mailpit:1025"), "mailpit:1025");
    }

    #[test]
    fn a_url_that_is_not_smtp_is_refused_without_quoting_its_password() {
        let err = Mailer::from_url("http://user:hunter2@host:25", "a@b.test")
            .expect_err("not SMTP")
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("host:25"), "{err}");
    }
}
