//! The service's one clock. Nothing else in the service asks the OS for the time,
//! so tests (and users, through `PUT /admin/clock`) can fix it.

use std::sync::{Arc, RwLock};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy)]
enum Mode {
    Real,
    /// Stands still at this instant.
    Fixed(OffsetDateTime),
    /// Runs on, this far from real time.
    Offset(Duration),
}

/// A cheaply clonable handle on the service clock.
#[derive(Debug, Clone)]
pub struct Clock {
    mode: Arc<RwLock<Mode>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::real()
    }
}

impl Clock {
    /// A clock that follows real time.
    pub fn real() -> Self {
        Self {
            mode: Arc::new(RwLock::new(Mode::Real)),
        }
    }

    /// A clock that stands still at `at`.
    pub fn fixed(at: OffsetDateTime) -> Self {
        Self {
            mode: Arc::new(RwLock::new(Mode::Fixed(at))),
        }
    }

    /// The service's now.
    pub fn now(&self) -> OffsetDateTime {
        let mode = *self.mode.read().unwrap_or_else(|e| e.into_inner());
        match mode {
            Mode::Real => OffsetDateTime::now_utc(),
            Mode::Fixed(at) => at,
            Mode::Offset(d) => OffsetDateTime::now_utc() + d,
        }
    }

    /// Stops the clock at `at`.
    pub fn set_fixed(&self, at: OffsetDateTime) {
        *self.mode.write().unwrap_or_else(|e| e.into_inner()) = Mode::Fixed(at);
    }

    /// Sets the clock to `at` and lets it run on from there.
    pub fn set_running_from(&self, at: OffsetDateTime) {
        let offset = at - OffsetDateTime::now_utc();
        *self.mode.write().unwrap_or_else(|e| e.into_inner()) = Mode::Offset(offset);
    }

    /// Returns the clock to real time.
    pub fn reset(&self) {
        *self.mode.write().unwrap_or_else(|e| e.into_inner()) = Mode::Real;
    }

    /// `real`, `fixed` or `offset`.
    pub fn mode_name(&self) -> &'static str {
        match *self.mode.read().unwrap_or_else(|e| e.into_inner()) {
            Mode::Real => "real",
            Mode::Fixed(_) => "fixed",
            Mode::Offset(_) => "offset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_fixed_clock_stands_still_until_reset() {
        let at = datetime!(2027-01-01 00:00 +09:00);
        let clock = Clock::fixed(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.clone().now(), at, "clones share the clock");
        clock.reset();
        assert!(clock.now() > at + Duration::days(-36500) && clock.now() != at);
        assert_eq!(clock.mode_name(), "real");
    }

    #[test]
    fn a_running_clock_starts_where_it_was_set() {
        let at = datetime!(2030-06-01 12:00 UTC);
        let clock = Clock::real();
        clock.set_running_from(at);
        let now = clock.now();
        assert!(now >= at && now - at < Duration::seconds(5), "{now}");
        assert_eq!(clock.mode_name(), "offset");
    }
}
