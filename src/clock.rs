//! The time, at the precision both databases keep (microseconds), so that a value read back
//! equals the value written.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

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
