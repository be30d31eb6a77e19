//! Dates and the clock: any instant the API can be given (an RFC 3339 string,
//! any offset) either is refused by `ServiceInstant::parse` or makes a
//! certificate whose validity (two years after the mail, in Japan time) is
//! computed without overflow; and the client's date readers take any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use webra2_ca::{Ca, IssueRequest, Profile, Root};
use webra2_mock::service::ServiceInstant;

fn ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let profile = Profile::builtin("webra2").unwrap_or_else(|| unreachable!("built in"));
        Ca::new(Root::fixture(), profile, "http://127.0.0.1/ca/crl")
    })
}

/// A fixed key to certify: the fixture request's.
fn spki() -> &'static [u8] {
    static SPKI: OnceLock<Vec<u8>> = OnceLock::new();
    SPKI.get_or_init(|| {
        webra2_ca::parse_csr(include_bytes!("../../fixtures/csr/rsa1024.csr.pem"))
            .map(|r| r.spki_der)
            .unwrap_or_default()
    })
}

fn instant(text: &str) -> Option<OffsetDateTime> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    ServiceInstant::parse(at, "fuzz").ok().map(|i| i.get())
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = webra2_client::parse_http_date(&text);
    let _ = webra2_client::parse_mail_sent_at(&text);
    let (a, b) = text.split_once('|').unwrap_or((&text, &text));
    let (Some(mail_sent_at), Some(now)) = (instant(a), instant(b)) else {
        return;
    };
    let _ = webra2_client::plus_two_years_jst(mail_sent_at);
    let _ = webra2_ca::add_calendar_years(mail_sent_at, 2);
    let _ = ca().issue(&IssueRequest {
        spki_der: spki(),
        user_id: "FUZZ01",
        email: "fuzz@example.test",
        mail_sent_at,
        now,
    });
});
