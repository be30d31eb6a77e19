//! Distinguished names as RFC 4514 strings, the way the confirmation page
//! shows the subject and issuer.
//!
//! The format follows RFC 4514 and uses the short names of the CA's subject
//! templates (`webra2_ca`'s `dn` module: `CN`, `O`, ..., `emailAddress`), so
//! the page prints a subject the way the CA reported it at issuance: most
//! specific RDN first, `,` between RDNs, `+` inside one.

use x509_parser::asn1_rs::{Class, Tag};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The RFC 4514 string of `name`.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| rdn.iter().map(attribute).collect::<Vec<_>>().join("+"))
        .collect();
    // RFC 4514 §2.1: the last RDN of the sequence comes first.
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

fn attribute(atv: &AttributeTypeAndValue<'_>) -> String {
    let oid = atv.attr_type().to_id_string();
    match (short_name(&oid), text(atv)) {
        (Some(key), Some(value)) => format!("{key}={}", escape(&value)),
        // RFC 4514 §2.4: an unknown type or a non-string value goes as the
        // dotted OID and the hex of the value's DER.
        _ => format!("{oid}=#{}", hex::encode(der_of_value(atv))),
    }
}

fn text(atv: &AttributeTypeAndValue<'_>) -> Option<String> {
    if let Ok(s) = atv.as_str() {
        return Some(s.to_owned());
    }
    let value = atv.attr_value();
    let data = value.data;
    match value.tag() {
        Tag::BmpString => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = data
                .chunks_exact(2)
                .filter_map(|c| <[u8; 2]>::try_from(c).ok())
                .map(u16::from_be_bytes)
                .collect();
            String::from_utf16(&units).ok()
        }
        // What OpenSSL does with T61: read it as Latin-1.
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        _ => None,
    }
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\x00'..='\x1f' | '\x7f' => out.push_str(&format!("\\{:02x}", c as u8)),
            _ => out.push(c),
        }
    }
    out
}

/// The DER of an attribute value, rebuilt from its header and contents
/// (x509-parser keeps them apart).
fn der_of_value(atv: &AttributeTypeAndValue<'_>) -> Vec<u8> {
    let value = atv.attr_value();
    let data = value.data;
    let class = match value.class() {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xc0,
    };
    let constructed = if value.header.is_constructed() {
        0x20
    } else {
        0
    };
    let tag = value.tag().0;
    let mut out = Vec::with_capacity(data.len() + 8);
    if tag < 31 {
        out.push(class | constructed | tag as u8);
    } else {
        out.push(class | constructed | 0x1f);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        let n = groups.len();
        for (i, g) in groups.into_iter().rev().enumerate() {
            out.push(if i + 1 < n { g | 0x80 } else { g });
        }
    }
    let len = data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    /// `SEQUENCE OF SET OF SEQUENCE { OID, value }` from (oid bytes, tag, value) triples, one RDN each.
    fn name_der(rdns: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            assert!(content.len() < 128, "short form only in this fixture");
            let mut v = vec![tag, content.len() as u8];
            v.extend_from_slice(content);
            v
        }
        let mut seq = Vec::new();
        for (oid, tag, value) in rdns {
            let mut atv = tlv(0x06, oid);
            atv.extend(tlv(*tag, value));
            seq.extend(tlv(0x31, &tlv(0x30, &atv)));
        }
        tlv(0x30, &seq)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const C: &[u8] = &[0x55, 0x04, 0x06];

    fn format(der: &[u8]) -> String {
        match X509Name::from_der(der) {
            Ok((_, name)) => rfc4514(&name),
            Err(e) => panic!("fixture name does not parse: {e}"),
        }
    }

    #[test]
    fn the_most_significant_rdn_comes_last() {
        let der = name_der(&[
            (C, 0x13, b"JP"),
            (O, 0x0c, b"webra2-mock TEST ROOT"),
            (CN, 0x0c, b"NEC Certification Authority"),
        ]);
        assert_eq!(
            format(&der),
            "CN=NEC Certification Authority,O=webra2-mock TEST ROOT,C=JP"
        );
    }

    #[test]
    fn special_characters_are_escaped() {
        let der = name_der(&[(CN, 0x0c, b" a,b+c\\ ")]);
        assert_eq!(format(&der), "CN=\\ a\\,b\\+c\\\\\\ ");
    }

    #[test]
    fn a_bmp_string_is_read_as_utf16() {
        // 山田 in UTF-16BE.
        let der = name_der(&[(CN, 0x1e, &[0x5c, 0x71, 0x75, 0x30])]);
        assert_eq!(format(&der), "CN=山田");
    }

    #[test]
    fn an_unknown_attribute_is_written_as_oid_and_hex_der() {
        // 1.2.3.4 = UTF8String "x"
        let der = name_der(&[(&[0x2a, 0x03, 0x04], 0x0c, b"x")]);
        assert_eq!(format(&der), "1.2.3.4=#0c0178");
    }
}
