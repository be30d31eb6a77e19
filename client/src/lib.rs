//! The user's side of the webra2 issuance manual, as a library.
//!
//! [`issue`] walks the issuance site's steps the way a user following the manual
//! does (auth password, key, root CA with its fingerprint, client certificate,
//! confirmation page) and checks every point the manual asks the user to check,
//! returning a [`Report`] with one [`Step`] per point. [`e2e`] prepares an
//! enrollment through the admin listener first and reads the mail like the user
//! would. [`inspect`] shows a certificate the way the Windows certificate dialog's
//! 全般 tab does. [`status`] asks OCSP and the CRL about a certificate, as a
//! server accepting it would. The client knows the service only through `webra2-wire`; its
//! checks (notably the two-year rule) are its own, so it can serve as an
//! independent oracle of the mock CA.

mod admin;
mod certs;
mod e2e;
mod error;
mod http;
mod inspect;
mod issue;
mod keys;
mod reissue;
mod report;
mod status;
mod store;
pub mod tls;
mod transcript;
mod transcript_diff;
mod wait;
mod wrap;

pub use admin::{check_admin_url, Admin, AdminCall};
pub use certs::{
    fixture_root_sha1, jst_date, normalize_sha1, parse_http_date, parse_mail_sent_at,
    plus_two_years_jst, CertFormat,
};
pub use e2e::{e2e, E2eOptions};
pub use error::ClientError;
pub use inspect::{inspect, inspect_files, InspectedFile, Inspection, PathStatus};
pub use issue::{issue, Checks, IssueOptions};
pub use keys::ClientKey;
pub use reissue::{reissue, ReissueOptions};
pub use report::{NoProgress, Progress, Recording, Report, Status, Step, TerminalProgress};
pub use status::{status, SourceAnswer, StatusOptions, StatusReport, Verdict};
pub use transcript::Exchange;
pub use transcript_diff::{diff_transcripts, Change, TranscriptDiff};
pub use wait::{origin_of, wait_until_up};
pub use webra2_wire::{KeySpec, Kind};
pub use wrap::{pki_data, wrap_request, RequestForm, WrapSigner};
