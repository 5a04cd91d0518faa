//! The time, at the precision both databases keep (microseconds), so that a value read back
//! equals the value written.

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};

pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// An instant at the precision the databases keep (a client may send nanoseconds).
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// `std::time::Duration` → chrono, saturating at a century.
pub fn span(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or_else(|_| TimeDelta::days(36_500))
}

/// The calendar day in `zone` now: the shop's "today" (`SHOWROOM_TIMEZONE`), which is not the
/// UTC day for an hour or more around midnight.
pub fn today(zone: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&zone).date_naive()
}
