//! Values of bookings that parse input (a time zone, a clock time, opening hours) and the
//! calendar arithmetic every slot comes from: availability and booking ask the same function.

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::error::{AppError, AppResult};

/// Minutes in a day: a closing time of "24:00".
pub const DAY_MINUTES: i32 = 24 * 60;

/// The granularity of claims: every offset in use today is a multiple of 15 minutes, so a slot
/// of any zone starts and ends on a block boundary.
pub const BLOCK_MINUTES: i64 = 15;

/// An IANA time zone from the tz database (`Europe/Berlin`).
pub fn zone(field: &str, name: &str) -> AppResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        AppError::bad_input(
            field,
            format!(
                "{:?} is not an IANA time zone (such as Europe/Berlin).",
                name.trim()
            ),
        )
    })
}

/// A local clock time `HH:MM` as minutes after midnight; "24:00" only where `end_of_day` allows.
pub fn clock_minutes(field: &str, text: &str, end_of_day: bool) -> AppResult<i32> {
    let bad = || AppError::bad_input(field, "Use a local time such as 08:00 (HH:MM).");
    let text = text.trim();
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    let minutes = h * 60 + m;
    let valid = (0..24).contains(&h) && (0..60).contains(&m);
    if valid || (end_of_day && minutes == DAY_MINUTES) {
        Ok(minutes)
    } else {
        Err(bad())
    }
}

/// Minutes after midnight as `HH:MM`.
pub fn clock_text(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// One opening interval of a weekday (1 = Monday … 7 = Sunday), in local minutes. The shop's
/// hours are kept as JSON of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hours {
    pub weekday: i32,
    pub opens: i32,
    pub closes: i32,
}

impl Hours {
    /// Validates one input row of the list `list`; `index` names it in the error
    /// (`hours.2.closesAt`).
    pub fn parse(
        list: &str,
        index: usize,
        weekday: i32,
        opens_at: &str,
        closes_at: &str,
    ) -> AppResult<Self> {
        let field = |name: &str| format!("{list}.{index}.{name}");
        if !(1..=7).contains(&weekday) {
            return Err(AppError::bad_input(
                field("weekday"),
                "Weekdays run from 1 (Monday) to 7 (Sunday).",
            ));
        }
        let opens = clock_minutes(&field("opensAt"), opens_at, false)?;
        let closes = clock_minutes(&field("closesAt"), closes_at, true)?;
        if opens >= closes {
            return Err(AppError::bad_input(
                field("opensAt"),
                "Opening time must be before closing time.",
            ));
        }
        Ok(Self {
            weekday,
            opens,
            closes,
        })
    }

    /// Refuses intervals of one weekday that overlap.
    pub fn check_disjoint(list: &str, hours: &[Hours]) -> AppResult<()> {
        for (i, a) in hours.iter().enumerate() {
            if hours[..i]
                .iter()
                .any(|b| b.weekday == a.weekday && b.opens < a.closes && a.opens < b.closes)
            {
                return Err(AppError::bad_input(
                    format!("{list}.{i}.opensAt"),
                    "Opening hours of one weekday must not overlap.",
                ));
            }
        }
        Ok(())
    }
}

/// The ISO weekday of a date: 1 = Monday … 7 = Sunday.
pub fn weekday(date: NaiveDate) -> i32 {
    date.weekday().number_from_monday() as i32
}

/// The first instant whose local time is `at` or, when `at` does not exist that day (the hour
/// skipped when clocks go forward), the first local time after it. Of a repeated local time,
/// the earlier instant.
fn instant_at_or_after(zone: Tz, at: NaiveDateTime) -> Option<DateTime<Utc>> {
    (0..=24 * 4).find_map(|step| {
        zone.from_local_datetime(&(at + TimeDelta::minutes(step * BLOCK_MINUTES)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The local day `date` in `zone` as instants: [its first instant, the next day's first instant).
pub fn day_bounds(zone: Tz, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = instant_at_or_after(zone, date.and_time(NaiveTime::MIN))?;
    let end = instant_at_or_after(zone, date.succ_opt()?.and_time(NaiveTime::MIN))?;
    Some((start, end))
}

/// The instant a local minute of the day stands for (1440: the next day's first instant).
fn local_instant(zone: Tz, date: NaiveDate, minute: i32) -> Option<DateTime<Utc>> {
    let at = date.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute));
    instant_at_or_after(zone, at)
}

/// The slots of one local day: starts every `step` minutes of local clock time (on the hour for
/// 60, on the hour and half hour for 30) within one of `windows` (local minutes), each lasting
/// `length` minutes that end by the window's close. Computed on instants, so a day of 23 or 25
/// hours lists no local time that does not exist and no instant twice.
pub fn slots(
    zone: Tz,
    date: NaiveDate,
    windows: &[(i32, i32)],
    step: i64,
    length: i64,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let Some((day_start, day_end)) = day_bounds(zone, date) else {
        return Vec::new();
    };
    let windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = windows
        .iter()
        .filter_map(|(opens, closes)| {
            Some((
                local_instant(zone, date, *opens)?,
                local_instant(zone, date, *closes)?,
            ))
        })
        .collect();
    let length = TimeDelta::minutes(length);
    let mut out = Vec::new();
    let mut t = day_start;
    while t < day_end {
        let local = t.with_timezone(&zone).naive_local();
        let minute = i64::from(local.time().num_seconds_from_midnight() / 60);
        let on_grid = local.date() == date && minute % step == 0;
        if on_grid
            && windows
                .iter()
                .any(|(opens, closes)| t >= *opens && t + length <= *closes)
        {
            out.push((t, t + length));
        }
        t += TimeDelta::minutes(BLOCK_MINUTES);
    }
    out
}

/// The claim blocks a span covers: every `BLOCK_MINUTES` boundary from its start (rounded down)
/// to its end.
pub fn blocks(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let block = BLOCK_MINUTES * 60;
    let first = start.timestamp().div_euclid(block) * block;
    let mut out = Vec::new();
    let mut at = first;
    while at < end.timestamp() {
        if let Some(t) = DateTime::from_timestamp(at, 0) {
            out.push(t);
        }
        at += block;
    }
    out
}

/// A duration rounded up to whole half hours.
pub fn rounded_to_half_hours(minutes: i64) -> i64 {
    (minutes + 29) / 30 * 30
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn locals(zone: Tz, slots: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<String> {
        slots
            .iter()
            .map(|(s, _)| s.with_timezone(&zone).format("%H:%M%z").to_string())
            .collect()
    }

    #[test]
    fn an_ordinary_day_has_eight_test_drive_hours() {
        let zone = zone("tz", "Europe/Berlin").unwrap_or(Tz::UTC);
        let s = slots(zone, date("2026-12-08"), &[(9 * 60, 17 * 60)], 60, 60);
        assert_eq!(s.len(), 8);
        assert_eq!(locals(zone, &s)[0], "09:00+0100");
        assert_eq!(locals(zone, &s)[7], "16:00+0100");
    }

    #[test]
    fn spring_forward_lists_no_missing_time_and_fall_back_no_instant_twice() {
        for (name, spring, fall) in [
            ("Europe/Berlin", "2027-03-28", "2027-10-31"),
            ("America/New_York", "2027-03-14", "2027-11-07"),
        ] {
            let zone = zone("tz", name).unwrap_or(Tz::UTC);
            let short = slots(zone, date(spring), &[(0, DAY_MINUTES)], 30, 30);
            assert_eq!(short.len(), 46, "{name}: 23 hours of half hours");
            assert!(
                !locals(zone, &short).iter().any(|l| l.starts_with("02:")),
                "{name}: 02:xx does not exist"
            );
            let long = slots(zone, date(fall), &[(0, DAY_MINUTES)], 30, 30);
            assert_eq!(long.len(), 50, "{name}: 25 hours of half hours");
            let mut starts: Vec<_> = long.iter().map(|(s, _)| *s).collect();
            starts.dedup();
            assert_eq!(starts.len(), 50);
            // Hourly slots within the hours clocks skip or repeat.
            let hourly = slots(zone, date(spring), &[(60, 4 * 60)], 60, 60);
            assert_eq!(locals(zone, &hourly).len(), 2, "{name}: 01:00 and 03:00");
        }
    }

    #[test]
    fn clock_times_and_hours_are_validated() {
        assert_eq!(clock_minutes("f", "08:30", false).ok(), Some(510));
        assert!(clock_minutes("f", "24:00", false).is_err());
        assert_eq!(clock_minutes("f", "24:00", true).ok(), Some(DAY_MINUTES));
        assert!(clock_minutes("f", "8:30", false).is_err());
        assert!(clock_minutes("f", "12:60", false).is_err());
        assert!(Hours::parse("hours", 0, 8, "08:00", "12:00").is_err());
        assert!(Hours::parse("hours", 0, 1, "12:00", "12:00").is_err());
        let a = Hours::parse("hours", 0, 1, "08:00", "12:00").unwrap_or(Hours {
            weekday: 0,
            opens: 0,
            closes: 0,
        });
        let b = Hours {
            opens: 11 * 60,
            ..a
        };
        assert!(Hours::check_disjoint("hours", &[a, b]).is_err());
        assert!(zone("tz", "Mars/Olympus").is_err());
    }

    #[test]
    fn blocks_cover_a_span_in_quarter_hours() {
        let start = DateTime::from_timestamp(3600 * 10, 0).unwrap_or_default();
        assert_eq!(blocks(start, start + TimeDelta::minutes(60)).len(), 4);
        assert_eq!(rounded_to_half_hours(45), 60);
        assert_eq!(rounded_to_half_hours(60), 60);
    }
}
