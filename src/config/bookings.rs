//! The settings of bookings: when test drives and service appointments may be booked, and when
//! reminders go out.

use std::time::Duration;

use super::{ConfigError, Vars};

/// When test drives and service appointments may be booked, and when reminders go out.
#[derive(Clone, Debug)]
pub struct BookingSettings {
    /// The showroom's IANA time zone: test-drive hours are its local time.
    pub showroom_timezone: chrono_tz::Tz,
    /// The first and the last local hour a test drive may start at.
    pub test_drive_first_hour: u32,
    pub test_drive_last_hour: u32,
    /// How many days ahead a test drive may be booked.
    pub test_drive_horizon_days: i64,
    /// How many days ahead a service appointment may be booked.
    pub appointment_horizon_days: i64,
    /// How long before a confirmed booking its reminder goes out.
    pub reminder_lead: Duration,
    /// How often an instance looks for reminders that are due.
    pub reminder_sweep: Duration,
}

pub(super) fn booking_settings(vars: &Vars) -> Result<BookingSettings, ConfigError> {
    let zone = vars
        .raw("SHOWROOM_TIMEZONE")
        .unwrap_or_else(|| "Europe/Berlin".into());
    let showroom_timezone = zone.parse::<chrono_tz::Tz>().map_err(|_| {
        ConfigError(format!(
            "SHOWROOM_TIMEZONE: cannot use {zone:?}: expected an IANA time zone such as Europe/Berlin"
        ))
    })?;
    let first: u32 = vars.parse("TEST_DRIVE_FIRST_HOUR", 9)?;
    let last: u32 = vars.parse("TEST_DRIVE_LAST_HOUR", 16)?;
    if first > last || last > 23 {
        return Err(ConfigError(
            "TEST_DRIVE_FIRST_HOUR and TEST_DRIVE_LAST_HOUR: expected 0 <= first <= last <= 23"
                .into(),
        ));
    }
    // Bounded, so that the date arithmetic on them cannot overflow.
    let at_most = |name: &str, value: i64, max: i64| {
        if value > max {
            return Err(ConfigError(format!("{name}: at most {max}")));
        }
        Ok(value)
    };
    let days = |name: &str, default: i64| at_most(name, vars.positive(name, default)?, 3650);
    let reminder_hours = at_most(
        "BOOKING_REMINDER_HOURS",
        vars.positive("BOOKING_REMINDER_HOURS", 24)?,
        24 * 365,
    )?;
    Ok(BookingSettings {
        showroom_timezone,
        test_drive_first_hour: first,
        test_drive_last_hour: last,
        test_drive_horizon_days: days("TEST_DRIVE_HORIZON_DAYS", 30)?,
        appointment_horizon_days: days("APPOINTMENT_HORIZON_DAYS", 90)?,
        reminder_lead: Duration::from_secs(3600 * reminder_hours.unsigned_abs()),
        reminder_sweep: Duration::from_millis(
            vars.positive("BOOKING_REMINDER_SWEEP_MS", 60_000u64)?,
        ),
    })
}
