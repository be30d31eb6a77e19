//! The JSON bodies of the admin and public APIs, decoded into the wire types
//! and parsed into the service's validated values, as the handlers do: any
//! bytes give a value or an error, never a panic. The first byte picks the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webra2_mock::faults::Faults;
use webra2_mock::service::{
    AuthPassword, Email, OneTimeToken, Pin, Preparation, Reason, Serial, ServiceInstant, UserId,
};
use webra2_wire::{
    AuthRequest, FaultSet, Pkcs12Request, PrepareEnrollment, RevokeRequest, SetClock,
};

fuzz_target!(|data: &[u8]| {
    let Some((which, body)) = data.split_first() else {
        return;
    };
    match which % 8 {
        0 => {
            if let Ok(req) = serde_json::from_slice::<PrepareEnrollment>(body) {
                let _ = Preparation::parse(&req);
            }
        }
        1 => {
            if let Ok(req) = serde_json::from_slice::<SetClock>(body) {
                let _ = ServiceInstant::parse(req.now, "now");
            }
        }
        2 => {
            if let Ok(set) = serde_json::from_slice::<FaultSet>(body) {
                let _ = Faults::from_set(&set);
            }
        }
        3 => {
            if let Ok(req) = serde_json::from_slice::<RevokeRequest>(body) {
                let _ = Reason::parse(req.reason.as_deref());
            }
        }
        4 => {
            if let Ok(req) = serde_json::from_slice::<AuthRequest>(body) {
                let _ = AuthPassword::parse_submitted(&req.auth_password);
            }
        }
        5 => {
            if let Ok(req) = serde_json::from_slice::<Pkcs12Request>(body) {
                let _ = Pin::parse(&req.pin);
            }
        }
        // Path parameters and the strings inside bodies, as text.
        _ => {
            let text = String::from_utf8_lossy(body);
            let _ = UserId::parse(&text);
            let _ = Email::parse(&text);
            let _ = AuthPassword::parse_new(&text);
            let _ = OneTimeToken::parse(&text);
            let _ = Serial::parse(&text);
        }
    }
});
