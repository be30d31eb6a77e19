//! Injected faults, the core: one set of named faults ([`Faults`]), checked
//! when put and matched against requests by route template and method. The
//! HTTP side (the middleware that applies them, the admin handlers) lives in
//! `http/`; putting a set with `expire_url_now` is a service operation, since
//! it changes the store. A fault never changes stored state otherwise.

use std::sync::{Arc, Mutex};
use webra2_wire::paths;
use webra2_wire::{FaultKind, FaultSet, FaultSpec};

/// The routes `wrong_root` serves another root on.
const ROOT_ROUTES: [&str; 3] = [paths::ROOT_DER, paths::ROOT_PEM, paths::ROOT_FINGERPRINT];
/// The routes the OCSP faults apply to.
const OCSP_ROUTES: [&str; 2] = [paths::OCSP, paths::OCSP_GET];
/// The routes `ca_maintenance` closes.
const ISSUE_ROUTES: [&str; 2] = [paths::ISSUE_CSR, paths::ISSUE_PKCS12];
/// The longest latency a fault may add.
const MAX_LATENCY_MS: u64 = 60_000;
/// The problem slug of a `status` fault (not a contract kind: only faults send it).
pub const INJECTED_FAULT_SLUG: &str = "injected-fault";

/// A fault entry the service refuses, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("faults[{index}]: {reason}")]
pub struct FaultError {
    /// Its position in the set.
    pub index: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// One active fault and what is left of it.
#[derive(Debug, Clone)]
struct Active {
    spec: FaultSpec,
    /// Upper-case; `None` matches every method.
    method: Option<String>,
}

/// The active faults, shared by every listener of one instance.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    active: Arc<Mutex<Vec<Active>>>,
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Faults from a set (the start-up configuration). `expire_url_now` needs a
    /// store and is refused here.
    pub fn from_set(set: &FaultSet) -> Result<Self, FaultError> {
        let faults = Self::new();
        let Checked { kept, expire } = check(set)?;
        if let Some((index, _)) = expire.first() {
            return Err(FaultError {
                index: *index,
                reason: "expire_url_now names an enrollment: put it with PUT /admin/faults".into(),
            });
        }
        faults.replace(Checked {
            kept,
            expire: Vec::new(),
        });
        Ok(faults)
    }

    /// Makes the checked set's lasting faults the active ones.
    pub fn replace(&self, checked: Checked) {
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) = checked.kept;
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.replace(Checked::default());
    }

    /// The active faults, `times` showing what is left.
    pub fn snapshot(&self) -> FaultSet {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        FaultSet::new(active.iter().map(|a| a.spec.clone()))
    }

    /// The first active fault that matches a request's route template and
    /// method, as it is, without counting it down.
    pub fn peek(&self, route: &str, method: &str) -> Option<FaultSpec> {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        active
            .iter()
            .find(|a| matches(a, route, method))
            .map(|a| a.spec.clone())
    }

    /// The first active fault that matches a request's route template and
    /// method, counted down (and dropped at zero).
    pub fn take(&self, route: &str, method: &str) -> Option<FaultSpec> {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        let index = active.iter().position(|a| matches(a, route, method))?;
        let fault = active.get_mut(index)?;
        let spec = fault.spec.clone();
        match fault.spec.times {
            Some(n) if n <= 1 => {
                active.remove(index);
            }
            Some(n) => fault.spec.times = Some(n - 1),
            None => {}
        }
        Some(spec)
    }
}

fn matches(a: &Active, route: &str, method: &str) -> bool {
    if a.method.as_deref().is_some_and(|m| m != method) {
        return false;
    }
    match a.spec.kind() {
        FaultKind::Route => a
            .spec
            .route
            .as_deref()
            .is_some_and(|r| r == "*" || r == route),
        FaultKind::WrongRoot => method == "GET" && ROOT_ROUTES.contains(&route),
        FaultKind::CaMaintenance => method == "POST" && ISSUE_ROUTES.contains(&route),
        FaultKind::ExpireUrlNow => false,
        FaultKind::OcspTryLater
        | FaultKind::OcspInternalError
        | FaultKind::OcspUnauthorized
        | FaultKind::OcspStale
        | FaultKind::OcspWrongKey
        | FaultKind::OcspWrongNonce => OCSP_ROUTES.contains(&route),
    }
}

/// A fault set that passed [`check`]: the lasting faults, and the
/// `expire_url_now` actions (index in the set, enrollment id) to carry out.
#[derive(Debug, Default)]
pub struct Checked {
    kept: Vec<Active>,
    /// `(index, enrollment id)` of every `expire_url_now` entry.
    pub expire: Vec<(usize, String)>,
}

impl Checked {
    /// The lasting faults as a set, as `GET /admin/faults` would show them.
    pub fn lasting(&self) -> FaultSet {
        FaultSet::new(self.kept.iter().map(|a| a.spec.clone()))
    }
}

/// Checks every entry; splits the lasting faults from the `expire_url_now` actions.
pub fn check(set: &FaultSet) -> Result<Checked, FaultError> {
    let mut kept = Vec::new();
    let mut expire = Vec::new();
    for (index, spec) in set.faults.iter().enumerate() {
        let err = |reason: &str| FaultError {
            index,
            reason: reason.to_owned(),
        };
        let method = match &spec.method {
            Some(m) if is_method(m) => Some(m.to_ascii_uppercase()),
            Some(_) => return Err(err("method is not an HTTP method")),
            None => None,
        };
        if spec.times == Some(0) {
            return Err(err(
                "times must be at least 1 (leave it out for every request)",
            ));
        }
        let kind = spec.kind();
        let only = |allowed: &[&str]| -> Result<(), FaultError> {
            let given = [
                ("route", spec.route.is_some()),
                ("method", spec.method.is_some()),
                ("status", spec.status.is_some()),
                ("retry_after", spec.retry_after.is_some()),
                ("latency_ms", spec.latency_ms.is_some()),
                ("truncate_body", spec.truncate_body.is_some()),
                ("times", spec.times.is_some()),
                ("enrollment_id", spec.enrollment_id.is_some()),
            ];
            match given
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(err(&format!(
                    "{name} does not go with kind {}",
                    kind.as_str()
                ))),
                None => Ok(()),
            }
        };
        match kind {
            FaultKind::Route => {
                only(&[
                    "route",
                    "method",
                    "status",
                    "retry_after",
                    "latency_ms",
                    "truncate_body",
                    "times",
                ])?;
                let route = spec.route.as_deref().unwrap_or("");
                if route != "*" && !route.starts_with('/') {
                    return Err(err(
                        "route must be a route template such as /issue/{token}/csr, or *",
                    ));
                }
                if route.starts_with("/admin") {
                    return Err(err("faults do not apply to the admin listener"));
                }
                if spec.status.is_none()
                    && spec.latency_ms.is_none()
                    && spec.truncate_body.is_none()
                {
                    return Err(err(
                        "a route fault needs status, latency_ms or truncate_body",
                    ));
                }
                if spec.status.is_some_and(|s| !(400..=599).contains(&s)) {
                    return Err(err("status must be between 400 and 599"));
                }
                if spec.retry_after.is_some() && spec.status.is_none() {
                    return Err(err("retry_after goes with status"));
                }
                if spec.latency_ms.is_some_and(|ms| ms > MAX_LATENCY_MS) {
                    return Err(err("latency_ms must be at most 60000"));
                }
            }
            FaultKind::WrongRoot => only(&["times"])?,
            FaultKind::CaMaintenance => only(&["retry_after", "times"])?,
            FaultKind::OcspTryLater
            | FaultKind::OcspInternalError
            | FaultKind::OcspUnauthorized
            | FaultKind::OcspStale
            | FaultKind::OcspWrongKey
            | FaultKind::OcspWrongNonce => only(&["method", "times"])?,
            FaultKind::ExpireUrlNow => {
                only(&["enrollment_id"])?;
                match spec.enrollment_id.as_deref() {
                    Some(id) if !id.is_empty() => expire.push((index, id.to_owned())),
                    _ => return Err(err("expire_url_now needs enrollment_id")),
                }
                continue;
            }
        }
        kept.push(Active {
            spec: spec.clone(),
            method,
        });
    }
    Ok(Checked { kept, expire })
}

/// An HTTP method token (RFC 9110: one or more `tchar`s).
fn is_method(m: &str) -> bool {
    !m.is_empty()
        && m.len() <= 32
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: &str) -> FaultSet {
        serde_json::from_str(json).expect("a fault set")
    }

    #[test]
    fn a_counted_fault_applies_that_many_times_then_vanishes() {
        let faults = Faults::from_set(&set(
            r#"{"faults":[{"route":"/issue/{token}/csr","status":503,"times":2}]}"#,
        ))
        .expect("valid");
        let csr = "/issue/{token}/csr";
        assert!(faults.take(csr, "POST").is_some());
        assert_eq!(faults.snapshot().faults[0].times, Some(1), "one left");
        assert!(faults.take(csr, "POST").is_some());
        assert!(faults.take(csr, "POST").is_none(), "used up");
        assert!(faults.snapshot().faults.is_empty());
    }

    #[test]
    fn a_fault_matches_only_its_route_and_method() {
        let faults = Faults::from_set(&set(
            r#"{"faults":[{"route":"/issue/{token}/auth","method":"post","status":429}]}"#,
        ))
        .expect("valid");
        assert!(faults.take("/issue/{token}", "GET").is_none());
        assert!(faults.take("/issue/{token}/auth", "GET").is_none());
        assert!(faults.take("/issue/{token}/auth", "POST").is_some());
        assert!(
            faults.take("/issue/{token}/auth", "POST").is_some(),
            "no times: lasts"
        );
    }

    #[test]
    fn maintenance_closes_issuance_and_nothing_else() {
        let faults =
            Faults::from_set(&set(r#"{"faults":[{"kind":"ca_maintenance"}]}"#)).expect("valid");
        assert!(faults.take("/issue/{token}/auth", "POST").is_none());
        assert!(faults.take("/issue/{token}/csr", "POST").is_some());
        assert!(faults.take("/issue/{token}/pkcs12", "POST").is_some());
    }

    #[test]
    fn ocsp_faults_apply_to_both_ocsp_routes_and_nothing_else() {
        let faults = Faults::from_set(&set(
            r#"{"faults":[{"kind":"ocsp_stale","times":2},{"kind":"ocsp_try_later","method":"GET"}]}"#,
        ))
        .expect("valid");
        assert!(faults.take("/ca/crl", "GET").is_none());
        assert!(faults.take("/issue/{token}/csr", "POST").is_none());
        assert_eq!(
            faults.take(paths::OCSP, "POST").map(|f| f.kind()),
            Some(FaultKind::OcspStale)
        );
        assert_eq!(
            faults.take(paths::OCSP_GET, "GET").map(|f| f.kind()),
            Some(FaultKind::OcspStale)
        );
        assert!(faults.take(paths::OCSP, "POST").is_none(), "GET only");
        assert_eq!(
            faults.take(paths::OCSP_GET, "GET").map(|f| f.kind()),
            Some(FaultKind::OcspTryLater)
        );
        let err = Faults::from_set(&set(
            r#"{"faults":[{"kind":"ocsp_wrong_key","status":503}]}"#,
        ))
        .expect_err("status does not go with an OCSP fault")
        .to_string();
        assert!(
            err.contains("status does not go with kind ocsp_wrong_key"),
            "{err}"
        );
    }

    #[test]
    fn entries_that_make_no_sense_are_refused_with_their_index() {
        for (json, needle) in [
            (
                r#"{"faults":[{"kind":"wrong_root"},{"route":"/x"}]}"#,
                "faults[1]",
            ),
            (
                r#"{"faults":[{"route":"x","status":503}]}"#,
                "route template",
            ),
            (
                r#"{"faults":[{"route":"/x","status":200}]}"#,
                "between 400 and 599",
            ),
            (
                r#"{"faults":[{"kind":"wrong_root","status":503}]}"#,
                "status does not go",
            ),
            (
                r#"{"faults":[{"route":"/admin/clock","status":503}]}"#,
                "admin",
            ),
            (
                r#"{"faults":[{"route":"/x","status":503,"times":0}]}"#,
                "at least 1",
            ),
            (r#"{"faults":[{"kind":"expire_url_now"}]}"#, "enrollment_id"),
        ] {
            let err = Faults::from_set(&set(json)).expect_err(json).to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
