//! The one PEM encoder of the workspace: what the service serves and what the
//! client writes look alike to the byte.

/// `der` as one PEM block labelled `label`, 64-column lines, `\n` line ends
/// (the `pem` crate's default is `\r\n`, which surprises diff and curl users).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_has_64_column_lines_and_lf_ends() {
        let text = pem_encode("CERTIFICATE", &[0u8; 100]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().copied(), Some("-----END CERTIFICATE-----"));
        assert!(text.ends_with("-----\n") && !text.contains('\r'));
    }
}
