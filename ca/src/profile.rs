//! Profiles: the protocol knobs of one simulated CA, loaded from TOML.
//!
//! A profile is one TOML file. Unknown fields are an error, so a typo is caught at
//! start-up instead of silently falling back to a default:
//!
//! ```toml
//! name = "webra2"
//! description = "The real service: Microsoft Enhanced CSP, RSA-1024"
//!
//! [site]                       # what the Step 2 page shows
//! csp = "Microsoft Enhanced Cryptographic Provider v1.0"
//! key_length = 1024
//!
//! [keys]                       # the key policy for requests
//! rsa_min_bits = 1024          # omit both rsa_* to accept no RSA (exact modulus bit length)
//! rsa_max_bits = 1024
//! ecdsa_curves = []            # "p256", "p384"
//! signature_hashes = ["sha1", "sha256", "sha384", "sha512"]
//!
//! [validity]
//! anchor = "mail_sent_at"      # or "issued_at"
//! years = 2                    # calendar years in Japan time; 29 Feb -> 28 Feb
//!
//! [subject]
//! template = "CN={user_id}"    # RFC 4514 order, comma-separated; placeholders {user_id}
//!                              # {email}; attributes CN O OU C L ST emailAddress
//!
//! [pkcs12]
//! key = "rsa-1024"             # key generated on the PKCS#12 path: rsa-BITS, ecdsa-p256, ecdsa-p384
//!
//! [aia]                        # optional: Authority Information Access in certificates
//! ocsp = true                  # the OCSP URL <public>/ocsp (default true)
//! ca_issuers = true            # the caIssuers URL <public>/ca/root.crt (default true)
//!
//! [ocsp]                       # optional: the OCSP responder
//! signer = "delegated"         # a delegated responder certificate the root issues at
//!                              # start-up (default), or "root": the root signs itself
//! compat = "modern"            # the file's default form: "modern" (PBES2/AES-256, SHA-256 MAC)
//!                              # or "legacy" (3DES keys, RC2-40 certificates, SHA-1 MAC)
//!
//! [pin]                        # the manual's PIN rule: half-width alphanumerics, case-sensitive;
//! min_chars = 1                # the manual sets no length, so these are bounds against abuse
//! max_chars = 1024             # (defaults 4 and 128)
//!
//! [renewal]
//! signed_by_current = false    # a renewal's request must come in a SignedData signed by the
//!                              # key of the certificate being renewed
//! ```
//!
//! Built in: `webra2` (the real service, above) and `modern` (Software Key Storage
//! Provider, key length 2048, RSA-2048 to RSA-4096 or ECDSA P-256/P-384, SHA-256 and
//! up, PKCS#12 key `ecdsa-p256`), embedded from `fixtures/profiles/`.

use crate::dn::{self, Template};
use crate::{add_calendar_years, CaError, CertRequest, CsrError, KeySpec, SignatureHash};
use serde::Deserialize;
use std::fmt;
use time::OffsetDateTime;
use webra2_wire::{PinRule, Pkcs12Compat};

const WEBRA2_TOML: &str = include_str!("../../fixtures/profiles/webra2.toml");
const MODERN_TOML: &str = include_str!("../../fixtures/profiles/modern.toml");

/// The most a profile may let a PIN be: generous, but a bound against abuse.
const PIN_MAX_BOUND: usize = 4096;

/// The RSA sizes [`Profile::accepted_keys`] names.
const RSA_SIZES: [u32; 4] = [1024, 2048, 3072, 4096];

/// What notAfter is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValidityAnchor {
    /// When the issuance mail was sent (the real service).
    MailSentAt,
    /// When the certificate is issued.
    IssuedAt,
}

/// One profile (`fixtures/profiles/NAME.toml`).
#[derive(Debug, Clone)]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// The CSP the Step 2 page names.
    pub site_csp: String,
    /// The key length the Step 2 page names.
    pub site_key_length: u32,
    /// One line saying what it simulates.
    pub description: String,
    /// Smallest accepted RSA modulus in bits; `None` with `rsa_max_bits` when RSA is refused.
    pub rsa_min_bits: Option<u32>,
    /// Largest accepted RSA modulus in bits.
    pub rsa_max_bits: Option<u32>,
    /// Accepted ECDSA curves, as [`KeySpec::EcdsaP256`] / [`KeySpec::EcdsaP384`].
    pub ecdsa_curves: Vec<KeySpec>,
    /// Accepted hashes of a request's signature.
    pub signature_hashes: Vec<SignatureHash>,
    /// What notAfter is counted from.
    pub validity_anchor: ValidityAnchor,
    /// How many calendar years a certificate is valid.
    pub validity_years: i32,
    /// The key the service generates on the PKCS#12 path.
    pub pkcs12_key: KeySpec,
    /// Certificates carry the OCSP URL in their Authority Information Access.
    pub aia_ocsp: bool,
    /// Certificates carry the root's caIssuers URL in their Authority Information Access.
    pub aia_ca_issuers: bool,
    /// Who signs OCSP responses.
    pub ocsp_signer: OcspSigner,
    /// The PKCS#12 form written when a request names none.
    pub pkcs12_compat: Pkcs12Compat,
    /// The PIN rule (lengths from `[pin]`).
    pub pin_rule: PinRule,
    /// Whether a renewal's request must be signed by the certificate being renewed.
    pub renewal_signed_by_current: bool,
    subject_template: String,
    template: Template,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    name: String,
    #[serde(default)]
    description: String,
    site: SiteToml,
    keys: KeysToml,
    validity: ValidityToml,
    #[serde(default)]
    subject: SubjectToml,
    pkcs12: Pkcs12Toml,
    #[serde(default)]
    aia: AiaToml,
    #[serde(default)]
    ocsp: OcspToml,
    #[serde(default)]
    pin: Option<PinToml>,
    #[serde(default)]
    renewal: Option<RenewalToml>,
}

/// Who signs OCSP responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OcspSigner {
    /// A delegated responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck)
    /// the root issues at start-up, included in every response.
    #[default]
    Delegated,
    /// The root itself.
    Root,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AiaToml {
    #[serde(default = "yes")]
    ocsp: bool,
    #[serde(default = "yes")]
    ca_issuers: bool,
}

impl Default for AiaToml {
    fn default() -> Self {
        Self {
            ocsp: true,
            ca_issuers: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OcspToml {
    #[serde(default)]
    signer: OcspSigner,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinToml {
    min_chars: usize,
    max_chars: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenewalToml {
    #[serde(default)]
    signed_by_current: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteToml {
    csp: String,
    key_length: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysToml {
    rsa_min_bits: Option<u32>,
    rsa_max_bits: Option<u32>,
    #[serde(default)]
    ecdsa_curves: Vec<String>,
    signature_hashes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidityToml {
    anchor: ValidityAnchor,
    years: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectToml {
    template: String,
}

impl Default for SubjectToml {
    fn default() -> Self {
        Self {
            template: "CN={user_id}".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pkcs12Toml {
    key: String,
    #[serde(default)]
    compat: Option<String>,
}

impl Profile {
    /// A built-in profile (`webra2`, `modern`), embedded from `fixtures/profiles/`.
    pub fn builtin(name: &str) -> Option<Profile> {
        let text = match name {
            "webra2" => WEBRA2_TOML,
            "modern" => MODERN_TOML,
            _ => return None,
        };
        // The embedded files are parsed by this crate's tests, so this only fails if
        // someone breaks a fixture and ignores the failing test.
        Profile::from_toml(text).ok()
    }

    /// The names of the built-in profiles.
    pub fn builtin_names() -> &'static [&'static str] {
        &["webra2", "modern"]
    }

    /// A built-in name, or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Profile, CaError> {
        if let Some(profile) = Profile::builtin(name_or_path) {
            return Ok(profile);
        }
        match std::fs::read_to_string(name_or_path) {
            Ok(text) => Profile::from_toml(&text)
                .map_err(|e| CaError::Profile(format!("{name_or_path}: {}", strip_prefix(&e)))),
            Err(e) => Err(CaError::Profile(format!(
                "{name_or_path:?} is neither a built-in profile ({}) nor a readable file: {e}",
                Profile::builtin_names().join(", ")
            ))),
        }
    }

    /// Parses a profile's TOML.
    pub fn from_toml(text: &str) -> Result<Profile, CaError> {
        let raw: ProfileToml =
            toml::from_str(text).map_err(|e| CaError::Profile(toml_error_line(&e, text)))?;
        let bad = |msg: String| CaError::Profile(msg);

        let (rsa_min_bits, rsa_max_bits) = match (raw.keys.rsa_min_bits, raw.keys.rsa_max_bits) {
            (None, None) => (None, None),
            (Some(min), Some(max)) if min == 0 || min > max => {
                return Err(bad(format!(
                    "keys: rsa_min_bits {min} must be 1..=rsa_max_bits {max}"
                )))
            }
            (Some(min), Some(max)) => (Some(min), Some(max)),
            _ => {
                return Err(bad(
                    "keys: give both rsa_min_bits and rsa_max_bits, or neither".into(),
                ))
            }
        };
        let ecdsa_curves = raw
            .keys
            .ecdsa_curves
            .iter()
            .map(|c| match c.as_str() {
                "p256" => Ok(KeySpec::EcdsaP256),
                "p384" => Ok(KeySpec::EcdsaP384),
                other => Err(bad(format!("keys: unknown curve {other:?} (p256, p384)"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let signature_hashes = raw
            .keys
            .signature_hashes
            .iter()
            .map(|h| {
                h.parse::<SignatureHash>().map_err(|_| {
                    bad(format!(
                        "keys: unknown hash {h:?} (sha1, sha256, sha384, sha512)"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if raw.validity.years == 0 {
            return Err(bad("validity: years must be at least 1".into()));
        }
        let template =
            Template::parse(&raw.subject.template).map_err(|e| bad(format!("subject: {e}")))?;
        let pkcs12_key: KeySpec = raw
            .pkcs12
            .key
            .parse()
            .map_err(|e: String| bad(format!("pkcs12: {e}")))?;
        if matches!(pkcs12_key, KeySpec::Rsa(bits) if !(1024..=8192).contains(&bits)) {
            return Err(bad(format!(
                "pkcs12: {pkcs12_key} is outside rsa-1024..rsa-8192"
            )));
        }

        let pkcs12_compat = match raw.pkcs12.compat.as_deref() {
            None => Pkcs12Compat::Modern,
            Some(c) => c.parse().map_err(|e: String| bad(format!("pkcs12: {e}")))?,
        };
        let pin_rule = match raw.pin {
            None => PinRule::default(),
            Some(PinToml {
                min_chars,
                max_chars,
            }) => {
                if min_chars == 0 || min_chars > max_chars || max_chars > PIN_MAX_BOUND {
                    return Err(bad(format!(
                        "pin: min_chars {min_chars} and max_chars {max_chars} must satisfy 1 <= min_chars <= max_chars <= {PIN_MAX_BOUND}"
                    )));
                }
                PinRule {
                    min_chars,
                    max_chars,
                }
            }
        };

        Ok(Profile {
            name: raw.name,
            site_csp: raw.site.csp,
            site_key_length: raw.site.key_length,
            description: raw.description,
            rsa_min_bits,
            rsa_max_bits,
            ecdsa_curves,
            signature_hashes,
            validity_anchor: raw.validity.anchor,
            validity_years: i32::from(raw.validity.years),
            pkcs12_key,
            aia_ocsp: raw.aia.ocsp,
            aia_ca_issuers: raw.aia.ca_issuers,
            ocsp_signer: raw.ocsp.signer,
            pkcs12_compat,
            pin_rule,
            renewal_signed_by_current: raw.renewal.is_some_and(|r| r.signed_by_current),
            subject_template: raw.subject.template,
            template,
        })
    }

    /// The subject template as written in the profile.
    pub fn subject_template(&self) -> &str {
        &self.subject_template
    }

    /// Every key the profile accepts: the usual RSA sizes inside the range, then the curves.
    pub fn accepted_keys(&self) -> Vec<KeySpec> {
        let mut keys = Vec::new();
        if let (Some(min), Some(max)) = (self.rsa_min_bits, self.rsa_max_bits) {
            keys.extend(
                RSA_SIZES
                    .iter()
                    .filter(|b| (min..=max).contains(*b))
                    .map(|&b| KeySpec::Rsa(b)),
            );
            if keys.is_empty() {
                // An unusual range (say 1536..=1536) still accepts something: name it.
                keys.push(KeySpec::Rsa(min));
            }
        }
        keys.extend(self.ecdsa_curves.iter().copied());
        keys
    }

    /// Checks a verified request against the key policy.
    pub fn check_request(&self, req: &CertRequest) -> Result<(), CsrError> {
        let key_ok = match req.key {
            KeySpec::Rsa(bits) => match (self.rsa_min_bits, self.rsa_max_bits) {
                (Some(min), Some(max)) => (min..=max).contains(&bits),
                _ => false,
            },
            curve => self.ecdsa_curves.contains(&curve),
        };
        if !key_ok {
            return Err(CsrError::KeyPolicy(format!(
                "{} key: this profile accepts {}",
                key_name(req.key),
                self.accepted_keys_text()
            )));
        }
        if !self.signature_hashes.contains(&req.signature_hash) {
            let accepted: Vec<String> = self
                .signature_hashes
                .iter()
                .map(|h| h.to_string())
                .collect();
            return Err(CsrError::KeyPolicy(format!(
                "request signed with {}: this profile accepts {} signatures",
                req.signature_hash,
                join_or(&accepted)
            )));
        }
        Ok(())
    }

    /// notAfter under the validity rule.
    pub fn not_after(
        &self,
        mail_sent_at: OffsetDateTime,
        issued_at: OffsetDateTime,
    ) -> OffsetDateTime {
        let anchor = match self.validity_anchor {
            ValidityAnchor::MailSentAt => mail_sent_at,
            ValidityAnchor::IssuedAt => issued_at,
        };
        add_calendar_years(anchor, self.validity_years)
    }

    /// The subject (RFC 4514) the template gives this user.
    pub fn subject(&self, user_id: &str, email: &str) -> String {
        dn::rfc4514(&self.template.render(user_id, email))
    }

    /// The subject as rcgen writes it into a certificate.
    pub(crate) fn subject_dn(
        &self,
        user_id: &str,
        email: &str,
    ) -> Result<rcgen::DistinguishedName, CaError> {
        let attrs = self.template.render(user_id, email);
        if attrs.is_empty() {
            return Err(CaError::Issue(
                "the subject template gives this user an empty subject".into(),
            ));
        }
        dn::to_rcgen(&attrs).map_err(|e| CaError::Issue(format!("subject: {e}")))
    }

    /// Every key the profile accepts, as a person names them (`RSA-1024 only`).
    pub fn accepted_keys_text(&self) -> String {
        let mut parts = Vec::new();
        if let (Some(min), Some(max)) = (self.rsa_min_bits, self.rsa_max_bits) {
            parts.push(if min == max {
                format!("RSA-{min}")
            } else {
                format!("RSA-{min} to RSA-{max}")
            });
        }
        parts.extend(self.ecdsa_curves.iter().map(|c| key_name(*c)));
        match parts.as_slice() {
            [] => "no keys".into(),
            [one] => format!("{one} only"),
            _ => join_or(&parts),
        }
    }
}

/// A key as a person names it: `RSA-1024`, `ECDSA P-256`.
fn key_name(key: KeySpec) -> String {
    match key {
        KeySpec::Rsa(bits) => format!("RSA-{bits}"),
        KeySpec::EcdsaP256 => "ECDSA P-256".into(),
        KeySpec::EcdsaP384 => "ECDSA P-384".into(),
        other => other.to_string(),
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A TOML error in one line, `line L, column C: what`, for a message that
/// names the file before it (toml's own `Display` is a five-line snippet).
pub fn toml_error_line(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

fn strip_prefix(e: &CaError) -> String {
    match e {
        CaError::Profile(msg) => msg.clone(),
        other => other.to_string(),
    }
}

impl fmt::Display for ValidityAnchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValidityAnchor::MailSentAt => "mail_sent_at",
            ValidityAnchor::IssuedAt => "issued_at",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn webra2() -> Profile {
        Profile::builtin("webra2").unwrap_or_else(|| panic!("webra2 is built in"))
    }

    fn modern() -> Profile {
        Profile::builtin("modern").unwrap_or_else(|| panic!("modern is built in"))
    }

    fn request(key: KeySpec, signature_hash: SignatureHash) -> CertRequest {
        CertRequest {
            spki_der: Vec::new(),
            key,
            signature_hash,
        }
    }

    #[test]
    fn both_builtin_profiles_parse_from_their_fixture_files() {
        for name in Profile::builtin_names() {
            let text = std::fs::read_to_string(format!(
                "{}/../fixtures/profiles/{name}.toml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            let profile = Profile::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&profile.name, name);
        }
    }

    #[test]
    fn webra2_names_the_enhanced_csp_and_rsa_1024() {
        let p = webra2();
        assert_eq!(p.site_csp, "Microsoft Enhanced Cryptographic Provider v1.0");
        assert_eq!(p.site_key_length, 1024);
        assert_eq!(p.accepted_keys(), vec![KeySpec::Rsa(1024)]);
        assert_eq!(p.pkcs12_key, KeySpec::Rsa(1024));
        assert_eq!(p.subject_template(), "CN={user_id}");
        assert_eq!(p.subject("U0001", "u0001@example.test"), "CN=U0001");
    }

    #[test]
    fn modern_accepts_rsa_2048_to_4096_then_both_curves() {
        assert_eq!(
            modern().accepted_keys(),
            vec![
                KeySpec::Rsa(2048),
                KeySpec::Rsa(3072),
                KeySpec::Rsa(4096),
                KeySpec::EcdsaP256,
                KeySpec::EcdsaP384
            ]
        );
    }

    #[test]
    fn unknown_names_are_not_builtin() {
        assert!(Profile::builtin("webra3").is_none());
    }

    #[test]
    fn a_toml_error_is_one_line_with_its_place() {
        let text = "name = \"p\"\nkey = [\n";
        let err = Profile::from_toml(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("line 2, column 8: "), "{err}");
        assert!(err.contains("unclosed array"), "{err}");
    }

    #[test]
    fn load_takes_a_builtin_name_or_a_file_and_explains_neither() {
        assert_eq!(
            Profile::load("modern").map(|p| p.name).ok().as_deref(),
            Some("modern")
        );

        let path =
            std::env::temp_dir().join(format!("webra2-ca-profile-{}.toml", std::process::id()));
        let text = WEBRA2_TOML.replace("name = \"webra2\"", "name = \"mine\"");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let loaded = Profile::load(&path.to_string_lossy()).map(|p| p.name);
        let _ = std::fs::remove_file(&path);
        assert_eq!(loaded.ok().as_deref(), Some("mine"));

        let err = Profile::load("/nonexistent/webra9.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("neither a built-in profile (webra2, modern)"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_field_is_an_error_naming_it() {
        let text = WEBRA2_TOML.replace("key_length = 1024", "key_lenght = 1024");
        let err = Profile::from_toml(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("key_lenght"), "{err}");
    }

    #[test]
    fn inconsistent_profiles_are_refused() {
        for (from, to) in [
            ("rsa_max_bits = 1024", "rsa_max_bits = 512"),
            ("rsa_max_bits = 1024\n", ""),
            ("ecdsa_curves = []", "ecdsa_curves = [\"p521\"]"),
            ("\"sha1\",", "\"md5\","),
            ("years = 2", "years = 0"),
            ("template = \"CN={user_id}\"", "template = \"CN={uid}\""),
            ("key = \"rsa-1024\"", "key = \"dsa-1024\""),
            ("anchor = \"mail_sent_at\"", "anchor = \"tomorrow\""),
        ] {
            let text = WEBRA2_TOML.replace(from, to);
            assert_ne!(text, WEBRA2_TOML, "{from:?} must be in the fixture");
            assert!(Profile::from_toml(&text).is_err(), "{to:?} was accepted");
        }
    }

    #[test]
    fn webra2_refuses_rsa_512_naming_what_it_accepts() {
        assert_eq!(
            webra2().check_request(&request(KeySpec::Rsa(512), SignatureHash::Sha256)),
            Err(CsrError::KeyPolicy(
                "RSA-512 key: this profile accepts RSA-1024 only".into()
            ))
        );
    }

    #[test]
    fn webra2_refuses_ecdsa_and_rsa_2048() {
        let p = webra2();
        for key in [
            KeySpec::EcdsaP256,
            KeySpec::EcdsaP384,
            KeySpec::Rsa(2048),
            KeySpec::Rsa(1023),
        ] {
            assert!(
                matches!(
                    p.check_request(&request(key, SignatureHash::Sha256)),
                    Err(CsrError::KeyPolicy(_))
                ),
                "{key}"
            );
        }
    }

    #[test]
    fn webra2_accepts_rsa_1024_signed_with_sha1() {
        assert_eq!(
            webra2().check_request(&request(KeySpec::Rsa(1024), SignatureHash::Sha1)),
            Ok(())
        );
    }

    #[test]
    fn modern_refuses_sha1_signatures_naming_the_accepted_hashes() {
        assert_eq!(
            modern().check_request(&request(KeySpec::Rsa(2048), SignatureHash::Sha1)),
            Err(CsrError::KeyPolicy(
                "request signed with SHA-1: this profile accepts SHA-256, SHA-384 or SHA-512 signatures".into()
            ))
        );
    }

    #[test]
    fn modern_refuses_rsa_1024_listing_all_it_accepts() {
        assert_eq!(
            modern().check_request(&request(KeySpec::Rsa(1024), SignatureHash::Sha256)),
            Err(CsrError::KeyPolicy(
                "RSA-1024 key: this profile accepts RSA-2048 to RSA-4096, ECDSA P-256 or ECDSA P-384".into()
            ))
        );
    }

    #[test]
    fn not_after_is_two_years_after_the_mail_not_after_issuance() {
        let mail = datetime!(2026-11-25 09:00 +09:00);
        let issued = datetime!(2026-12-20 15:00 +09:00);
        assert_eq!(
            webra2().not_after(mail, issued),
            datetime!(2028-11-25 09:00 +09:00)
        );
    }

    #[test]
    fn an_issued_at_anchor_counts_from_issuance() {
        let text = WEBRA2_TOML.replace("anchor = \"mail_sent_at\"", "anchor = \"issued_at\"");
        let p = Profile::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let mail = datetime!(2026-11-25 09:00 +09:00);
        let issued = datetime!(2026-12-20 15:00 +09:00);
        assert_eq!(p.validity_anchor, ValidityAnchor::IssuedAt);
        assert_eq!(
            p.not_after(mail, issued),
            datetime!(2028-12-20 15:00 +09:00)
        );
    }
}
