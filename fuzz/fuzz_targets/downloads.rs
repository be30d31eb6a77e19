//! What the client reads of the server's downloads: a certificate and a root,
//! each PEM or DER, as `webra2-client inspect CERT --root ROOT` takes them, and
//! a fingerprint as the pages print it. Any bytes give a result or an error,
//! never a panic. A `\0` splits the input into the certificate and the root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cert, root) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let _ = webra2_client::inspect(cert, root);
    let _ = webra2_client::normalize_sha1(&String::from_utf8_lossy(cert));
});
