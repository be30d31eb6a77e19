//! Wire types of the webra2-mock protocol (`shared/PROTOCOL.md`).
//!
//! Both the mock CA and the client harness serialise exactly these types, so a
//! field renamed on one side is renamed on the other. Every instant on the wire
//! is RFC 3339; the service writes them in Japan time (`+09:00`).

// No panic on anything from outside the process, held by the compiler in
// non-test code (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod admin;
mod faults;
pub mod paths;
mod pem;
mod problem;
mod public;

pub use admin::{
    CertStatus, CertificateView, ClockView, EnrollmentCreated, EnrollmentState, EnrollmentView,
    Kind, Mail, PrepareEnrollment, RevokeRequest, SetClock, REVOCATION_REASON_PATTERN,
};
pub use admin::{CreateCertificate, CreatedCertificate, FactoryIssuer, FactoryKey, FactoryState};
pub use faults::{FaultKind, FaultSet, FaultSpec};
pub use pem::pem_encode;
pub use problem::{Problem, ProblemKind, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX};
pub use public::{
    AuthRequest, AuthResponse, Confirmation, Fingerprint, Health, Issued, KeySpec, SiteInfo,
    SITE_TITLE_NEW, SITE_TITLE_RENEW,
};
pub use public::{
    PinRule, Pkcs12Compat, Pkcs12Request, HEADER_CONFIRM_URL, HEADER_SERIAL, PKCS12_PIN_MAX_CHARS,
    PKCS12_PIN_MIN_CHARS,
};

use time::{OffsetDateTime, UtcOffset};

/// Japan Standard Time, the zone the real service lives in (no daylight saving).
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+09:00 is a valid offset"),
};

/// An instant as the service writes it: the same moment, shown in Japan time
/// (in its own offset if Japan time would be past the year 9999).
pub fn in_jst(at: OffsetDateTime) -> OffsetDateTime {
    at.checked_to_offset(JST).unwrap_or(at)
}

/// A date as the Windows certificate dialog shows it, and as every page, mail
/// and report of the project writes one: `2026/12/02`.
pub fn slash_date(date: time::Date) -> String {
    format!(
        "{:04}/{:02}/{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The calendar day of an instant in Japan time, as [`slash_date`] writes it.
pub fn jst_slash_date(at: OffsetDateTime) -> String {
    slash_date(in_jst(at).date())
}

/// Formats a serial as the contract writes it: upper-case hex, no separators.
pub fn serial_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Formats a digest as the issuance site prints a fingerprint: upper-case hex in
/// groups of eight (`F630BF00 1CBE985A ...`).
pub fn fingerprint_groups(digest: &[u8]) -> String {
    let hex = serial_hex(digest);
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_the_windows_certificate_dialog_writes_them() {
        let at = time::macros::datetime!(2026-12-02 16:11:30 +09:00);
        assert_eq!(jst_slash_date(at), "2026/12/02");
        // 23:30 UTC is the next day in Japan.
        let late = time::macros::datetime!(2026-12-01 23:30 UTC);
        assert_eq!(jst_slash_date(late), "2026/12/02");
    }

    #[test]
    fn sha1_fingerprint_prints_as_five_groups_of_eight() {
        let digest: Vec<u8> = (0u8..20).collect();
        assert_eq!(
            fingerprint_groups(&digest),
            "00010203 04050607 08090A0B 0C0D0E0F 10111213"
        );
    }

    #[test]
    fn an_instant_too_late_for_japan_time_keeps_its_own_offset() {
        let last = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        assert_eq!(in_jst(last), last);
        let ok = time::macros::datetime!(2026-12-02 00:00 UTC);
        assert_eq!(in_jst(ok).offset(), JST);
        assert_eq!(in_jst(ok), ok);
    }

    #[test]
    fn serial_is_upper_case_hex_without_separators() {
        assert_eq!(serial_hex(&[0x0a, 0xff, 0x01]), "0AFF01");
    }
}
