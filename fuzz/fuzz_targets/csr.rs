//! The certificate request parser, in every encoding the CSR route takes
//! (PEM, DER), and the profile's judgement of what it returns: any bytes give
//! a request or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use webra2_ca::Profile;

fn profiles() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        ["webra2", "modern"]
            .iter()
            .filter_map(|name| Profile::builtin(name))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = webra2_ca::parse_csr(data) {
        for profile in profiles() {
            let _ = profile.check_request(&request);
        }
    }
});
