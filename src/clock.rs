//! The time, at the precision both databases keep (microseconds), so that a value read back
//! equals the value written.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// `std::time::Duration` → chrono, saturating at a century.
pub fn span(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or_else(|_| TimeDelta::days(36_500))
}
