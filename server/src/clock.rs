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

/// How a clock is set, as JSON: `{"mode":"real"}`,
/// `{"mode":"fixed","unix":…,"nanos":…}` or `{"mode":"offset","ms":…}` (this
/// far from real time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum ClockSetting {
    /// Real time.
    Real,
    /// Stands still at this instant (Unix seconds and nanoseconds).
    Fixed {
        /// Unix seconds.
        unix: i64,
        /// Nanoseconds past them.
        nanos: u32,
    },
    /// Runs on, this many milliseconds from real time.
    Offset {
        /// Milliseconds from real time.
        ms: i64,
    },
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

    /// How the clock is set, as a value that can be stored and applied
    /// elsewhere: how several replicas share one clock.
    pub fn setting(&self) -> ClockSetting {
        match *self.mode.read().unwrap_or_else(|e| e.into_inner()) {
            Mode::Real => ClockSetting::Real,
            Mode::Fixed(at) => ClockSetting::Fixed {
                unix: at.unix_timestamp(),
                nanos: at.nanosecond(),
            },
            Mode::Offset(d) => ClockSetting::Offset {
                ms: i64::try_from(d.whole_milliseconds()).unwrap_or(i64::MAX),
            },
        }
    }

    /// Sets the clock as `setting` says.
    pub fn apply(&self, setting: ClockSetting) {
        let mode = match setting {
            ClockSetting::Real => Mode::Real,
            ClockSetting::Fixed { unix, nanos } => Mode::Fixed(
                OffsetDateTime::from_unix_timestamp(unix)
                    .ok()
                    .and_then(|t| t.replace_nanosecond(nanos).ok())
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            ),
            ClockSetting::Offset { ms } => Mode::Offset(Duration::milliseconds(ms)),
        };
        *self.mode.write().unwrap_or_else(|e| e.into_inner()) = mode;
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
    fn a_setting_applied_to_another_clock_sets_it_the_same() {
        let at = datetime!(2027-01-01 00:00:00.123456789 +09:00);
        for setting in [ClockSetting::Real, Clock::fixed(at).setting(), {
            let c = Clock::real();
            c.set_running_from(at);
            c.setting()
        }] {
            let json = serde_json::to_string(&setting).expect("json");
            let back: ClockSetting = serde_json::from_str(&json).expect("parses");
            let other = Clock::real();
            other.apply(back);
            assert_eq!(other.setting(), setting, "{json}");
        }
        let fixed = Clock::real();
        fixed.apply(Clock::fixed(at).setting());
        assert_eq!(fixed.now(), at);
        assert_eq!(fixed.mode_name(), "fixed");
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
