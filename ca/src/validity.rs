//! Calendar arithmetic for validity: years are added in Japan time.

use time::{Date, Month, OffsetDateTime};
use webra2_wire::JST;

/// `at` plus `years` calendar years, same local time at `webra2_wire::JST`;
/// 29 February becomes 28 February.
///
/// The result is expressed at the JST offset. The date is taken in Japan time because
/// the real service prints and computes validity there: an instant that is 1 March in
/// Tokyo but still 28 February in UTC moves from 1 March. Years beyond the range `time`
/// can represent saturate at its first or last day.
pub fn add_calendar_years(at: OffsetDateTime, years: i32) -> OffsetDateTime {
    let local = at.to_offset(JST);
    let date = local.date();
    let year = date.year().saturating_add(years);
    let moved = Date::from_calendar_date(year, date.month(), date.day())
        // Only 29 February can be missing from the target year.
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(if years >= 0 { Date::MAX } else { Date::MIN });
    local.replace_date(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn two_years_after_a_november_morning_in_tokyo_is_the_same_morning() {
        assert_eq!(
            add_calendar_years(datetime!(2026-11-25 09:00 +09:00), 2),
            datetime!(2028-11-25 09:00 +09:00)
        );
    }

    #[test]
    fn twenty_ninth_of_february_becomes_the_twenty_eighth() {
        assert_eq!(
            add_calendar_years(datetime!(2024-02-29 10:30:15 +09:00), 2),
            datetime!(2026-02-28 10:30:15 +09:00)
        );
    }

    #[test]
    fn twenty_ninth_of_february_stays_in_a_leap_year() {
        assert_eq!(
            add_calendar_years(datetime!(2024-02-29 10:30 +09:00), 4),
            datetime!(2028-02-29 10:30 +09:00)
        );
    }

    #[test]
    fn the_japanese_date_counts_when_utc_is_still_on_the_day_before() {
        // 2024-02-29 20:00 UTC is 2024-03-01 05:00 in Tokyo: the anchor is 1 March.
        assert_eq!(
            add_calendar_years(datetime!(2024-02-29 20:00 UTC), 2),
            datetime!(2026-03-01 05:00 +09:00)
        );
    }

    #[test]
    fn an_instant_given_in_utc_keeps_its_japanese_local_time() {
        // 2027-12-31 16:00 UTC is 2028-01-01 01:00 in Tokyo.
        let later = add_calendar_years(datetime!(2027-12-31 16:00 UTC), 2);
        assert_eq!(later, datetime!(2030-01-01 01:00 +09:00));
        assert_eq!(later.offset(), JST);
    }

    #[test]
    fn a_year_past_what_time_can_hold_saturates_instead_of_panicking() {
        let later = add_calendar_years(datetime!(2026-11-25 09:00 +09:00), i32::MAX);
        assert_eq!(later.date(), Date::MAX);
    }
}
