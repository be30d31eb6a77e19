//! Distinguished names: the profile's subject template and RFC 4514 text.
//!
//! Templates and the text the CA reports are written the RFC 4514 way, most specific
//! attribute first (`CN=U0001,O=Example`); the certificate holds them the other way
//! round, as DER orders RDNs from the root of the directory tree.

use rcgen::{DistinguishedName, DnType, DnValue};
use x509_parser::x509::X509Name;

/// An attribute a subject template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr {
    CommonName,
    Organization,
    OrganizationalUnit,
    Country,
    Locality,
    State,
    EmailAddress,
}

impl Attr {
    fn parse(key: &str) -> Option<Attr> {
        Some(match key.to_ascii_lowercase().as_str() {
            "cn" => Attr::CommonName,
            "o" => Attr::Organization,
            "ou" => Attr::OrganizationalUnit,
            "c" => Attr::Country,
            "l" => Attr::Locality,
            "st" => Attr::State,
            "emailaddress" => Attr::EmailAddress,
            _ => return None,
        })
    }

    fn short_name(self) -> &'static str {
        match self {
            Attr::CommonName => "CN",
            Attr::Organization => "O",
            Attr::OrganizationalUnit => "OU",
            Attr::Country => "C",
            Attr::Locality => "L",
            Attr::State => "ST",
            Attr::EmailAddress => "emailAddress",
        }
    }
}

/// A piece of a template value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    UserId,
    Email,
}

/// A parsed subject template such as `CN={user_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// In template (RFC 4514) order.
    attrs: Vec<(Attr, Vec<Piece>)>,
}

impl Template {
    /// Parses `CN={user_id}, O=Example`; `\,` escapes a comma in a value.
    pub(crate) fn parse(text: &str) -> Result<Template, String> {
        let mut attrs = Vec::new();
        for part in split_unescaped(text, ',') {
            let part = part.trim();
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not ATTRIBUTE=VALUE"))?;
            let attr = Attr::parse(key.trim()).ok_or_else(|| {
                format!(
                    "unknown attribute {:?} (CN, O, OU, C, L, ST, emailAddress)",
                    key.trim()
                )
            })?;
            let pieces = parse_value(value.trim())?;
            if pieces.is_empty() {
                return Err(format!("{} has an empty value", attr.short_name()));
            }
            attrs.push((attr, pieces));
        }
        if attrs.is_empty() {
            return Err("the subject template is empty".into());
        }
        Ok(Template { attrs })
    }

    /// The attributes for this user, in RFC 4514 order; empty values are left out.
    pub(crate) fn render(&self, user_id: &str, email: &str) -> Vec<(Attr, String)> {
        self.attrs
            .iter()
            .map(|(attr, pieces)| {
                let value: String = pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => t.as_str(),
                        Piece::UserId => user_id,
                        Piece::Email => email,
                    })
                    .collect();
                (*attr, value)
            })
            .filter(|(_, value)| !value.is_empty())
            .collect()
    }
}

fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            // Kept: parse_value unescapes.
            current.push(c);
            escaped = true;
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

fn parse_value(value: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => text.push(next),
                None => return Err(format!("{value:?} ends in a lone backslash")),
            },
            '{' => {
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let piece = match name.as_str() {
                    "user_id" => Piece::UserId,
                    "email" => Piece::Email,
                    _ => {
                        return Err(format!(
                            "unknown placeholder {{{name}}} (use {{user_id}} or {{email}})"
                        ))
                    }
                };
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
            }
            '}' => return Err(format!("{value:?} has a '}}' without '{{'")),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// Escapes one attribute value the RFC 4514 way.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 4514 text of attributes given in RFC 4514 order.
pub(crate) fn rfc4514(attrs: &[(Attr, String)]) -> String {
    attrs
        .iter()
        .map(|(attr, value)| format!("{}={}", attr.short_name(), escape(value)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The rcgen name for attributes given in RFC 4514 order.
pub(crate) fn to_rcgen(attrs: &[(Attr, String)]) -> Result<DistinguishedName, String> {
    let mut dn = DistinguishedName::new();
    for (attr, value) in attrs.iter().rev() {
        let (ty, value): (DnType, DnValue) = match attr {
            Attr::CommonName => (DnType::CommonName, value.clone().into()),
            Attr::Organization => (DnType::OrganizationName, value.clone().into()),
            Attr::OrganizationalUnit => (DnType::OrganizationalUnitName, value.clone().into()),
            // X.520 and RFC 5280 fix these two string types.
            Attr::Country if value.len() != 2 => {
                return Err(format!("C={value:?} is not a two-letter country code"))
            }
            Attr::Country => (
                DnType::CountryName,
                DnValue::PrintableString(
                    value
                        .as_str()
                        .try_into()
                        .map_err(|_| format!("C={value:?} is not a PrintableString"))?,
                ),
            ),
            Attr::EmailAddress => (
                DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
                DnValue::Ia5String(
                    value
                        .as_str()
                        .try_into()
                        .map_err(|_| format!("emailAddress={value:?} is not ASCII"))?,
                ),
            ),
            Attr::Locality => (DnType::LocalityName, value.clone().into()),
            Attr::State => (DnType::StateOrProvinceName, value.clone().into()),
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

/// RFC 4514 text of a parsed name (most specific RDN first).
pub(crate) fn name_to_rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = match oid.as_str() {
                        "2.5.4.3" => "CN".to_owned(),
                        "2.5.4.10" => "O".to_owned(),
                        "2.5.4.11" => "OU".to_owned(),
                        "2.5.4.6" => "C".to_owned(),
                        "2.5.4.7" => "L".to_owned(),
                        "2.5.4.8" => "ST".to_owned(),
                        "2.5.4.9" => "STREET".to_owned(),
                        "2.5.4.5" => "serialNumber".to_owned(),
                        "0.9.2342.19200300.100.1.25" => "DC".to_owned(),
                        "0.9.2342.19200300.100.1.1" => "UID".to_owned(),
                        "1.2.840.113549.1.9.1" => "emailAddress".to_owned(),
                        _ => oid,
                    };
                    let value = match atv.as_str() {
                        Ok(s) => escape(s),
                        // RFC 4514 §2.4: a value with no string form is written as hex DER.
                        Err(_) => format!("#{}", hex::encode(atv.attr_value().data)),
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_gives_cn_of_the_user_id() {
        let t = Template::parse("CN={user_id}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rfc4514(&t.render("U0001", "u@example.test")), "CN=U0001");
    }

    #[test]
    fn a_template_with_several_attributes_keeps_their_order_and_escapes_values() {
        let t = Template::parse("CN={user_id}, emailAddress={email}, O=ACME\\, Inc., C=JP")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rfc4514(&t.render("a+b", "u@example.test")),
            "CN=a\\+b,emailAddress=u@example.test,O=ACME\\, Inc.,C=JP"
        );
    }

    #[test]
    fn placeholders_are_substituted_once_not_recursively() {
        let t = Template::parse("CN={user_id}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rfc4514(&t.render("{email}", "x@y")), "CN={email}");
    }

    #[test]
    fn an_empty_substitution_leaves_the_attribute_out() {
        let t =
            Template::parse("CN={user_id},emailAddress={email}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rfc4514(&t.render("U1", "")), "CN=U1");
    }

    #[test]
    fn bad_templates_are_refused_with_a_reason() {
        for (text, needle) in [
            ("", "not ATTRIBUTE=VALUE"),
            ("XX=1", "unknown attribute"),
            ("CN={name}", "unknown placeholder"),
            ("CN=", "empty value"),
            ("CN=a}", "without"),
        ] {
            let err = Template::parse(text).err().unwrap_or_default();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_certificate_name_is_in_der_order() {
        let t = Template::parse("CN={user_id},O=Example,C=JP").unwrap_or_else(|e| panic!("{e}"));
        let dn = to_rcgen(&t.render("U1", "")).unwrap_or_else(|e| panic!("{e}"));
        let order: Vec<DnType> = dn.iter().map(|(ty, _)| ty.clone()).collect();
        assert_eq!(
            order,
            vec![
                DnType::CountryName,
                DnType::OrganizationName,
                DnType::CommonName
            ]
        );
    }

    #[test]
    fn a_country_that_is_not_two_letters_is_refused() {
        let t = Template::parse("CN={user_id},C=Japan").unwrap_or_else(|e| panic!("{e}"));
        assert!(to_rcgen(&t.render("U1", "")).is_err());
    }
}
