//! Slots and claims. A slot is listed when booking it would succeed at that moment: both ask
//! the same candidate function (`types::slots`, in the showroom's or the location's zone), the
//! same window (not in the past, within the horizon) and the same claims. The claims are what
//! the database enforces: a second holder of a block is refused by the primary key of
//! `booking_claims`, whoever races.

use chrono::TimeDelta;
use chrono_tz::Tz;
use sea_orm::sea_query::OnConflict;

use super::*;
use crate::bookings::entity::{location, opening_hours};
use crate::bookings::types;
use crate::clock;
use crate::config::BookingSettings;
use crate::units::entity::UnitStatus;

/// The resources a booking claims.
pub(super) const UNIT: &str = "UNIT";
pub(super) const DRIVER: &str = "DRIVER";
pub(super) const BAY: &str = "BAY";

/// At most this many services per appointment.
pub const MAX_SERVICES: u64 = 20;

pub type Slot = (DateTime<Utc>, DateTime<Utc>);

/// Is the start within the bookable window: after now, at most `horizon_days` ahead?
fn in_window(start: DateTime<Utc>, now: DateTime<Utc>, horizon_days: i64) -> bool {
    start > now && start <= now + TimeDelta::days(horizon_days)
}

/// Refuses a start outside the bookable window (`in_window`), naming `startsAt`.
pub(super) fn check_window(
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    horizon_days: i64,
) -> AppResult<()> {
    if in_window(start, now, horizon_days) {
        return Ok(());
    }
    Err(AppError::bad_input(
        "startsAt",
        if start <= now {
            "This time is in the past.".to_string()
        } else {
            format!("Bookings are taken at most {horizon_days} days ahead.")
        },
    ))
}

/// The test-drive slots of a showroom-local date: one hour, on the hour, within the hours.
pub(super) fn test_drive_candidates(settings: &BookingSettings, date: NaiveDate) -> Vec<Slot> {
    let opens = settings.test_drive_first_hour as i32 * 60;
    let closes = (settings.test_drive_last_hour as i32 + 1) * 60;
    types::slots(settings.showroom_timezone, date, &[(opens, closes)], 60, 60)
}

/// A unit takes test drives while it is listed and neither SOLD nor INACTIVE.
pub(super) fn check_drivable(unit: &unit::Model) -> AppResult<()> {
    match unit.status {
        UnitStatus::Sold => Err(AppError::conflict_on(
            "unitId",
            "This unit is sold: it takes no test drives.",
        )),
        UnitStatus::Inactive => Err(AppError::conflict_on(
            "unitId",
            "This unit is inactive: it takes no test drives.",
        )),
        _ if !unit.is_listed => Err(AppError::conflict_on(
            "unitId",
            "This unit is not listed for sale: it takes no test drives.",
        )),
        _ => Ok(()),
    }
}

/// The showroom-local date of an instant.
pub(super) fn local_date(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// Checks a test drive's start against the rules availability lists by; returns its end.
pub(super) fn check_test_drive_start(
    settings: &BookingSettings,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    check_window(start, now, settings.test_drive_horizon_days)?;
    let date = local_date(settings.showroom_timezone, start);
    test_drive_candidates(settings, date)
        .into_iter()
        .find(|(s, _)| *s == start)
        .map(|(_, end)| end)
        .ok_or_else(|| {
            AppError::bad_input(
                "startsAt",
                format!(
                    "Test drives last one hour and start on the hour from {:02}:00 to {:02}:00 showroom time ({}).",
                    settings.test_drive_first_hour,
                    settings.test_drive_last_hour,
                    settings.showroom_timezone.name()
                ),
            )
        })
}

/// The free test-drive slots of a unit on a showroom-local date, for this viewer (a customer
/// does not see the starts at which they already hold a test drive).
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %unit_id, date = %date))]
pub async fn test_drive_slots(
    state: &AppState,
    viewer: &Viewer,
    unit_id: Uuid,
    date: NaiveDate,
) -> AppResult<Vec<Slot>> {
    let unit = units::visible_unit(&state.db, viewer, unit_id).await?;
    if check_drivable(&unit).is_err() {
        return Ok(Vec::new());
    }
    let settings = &state.config.bookings;
    let now = clock::now();
    let candidates: Vec<Slot> = test_drive_candidates(settings, date)
        .into_iter()
        .filter(|(s, _)| in_window(*s, now, settings.test_drive_horizon_days))
        .collect();
    let (Some(first), Some(last)) = (candidates.first(), candidates.last()) else {
        return Ok(Vec::new());
    };
    let (from, to) = (first.0, last.1);
    let held = claims_between(&state.db, UNIT, unit_id, from, to).await?;
    let driving = match viewer {
        Viewer::User(identity) => {
            claims_between(&state.db, DRIVER, identity.user_id, from, to).await?
        }
        _ => Vec::new(),
    };
    Ok(candidates
        .into_iter()
        .filter(|(start, end)| {
            let blocks = types::blocks(*start, *end);
            !held.iter().any(|c| blocks.contains(&c.block_start))
                && !driving.iter().any(|c| c.block_start == *start)
        })
        .collect())
}

/// The offerings named by `serviceIds`: each must exist and be active, and at least one given.
pub(super) async fn chosen_offerings(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<offering::Model>> {
    if ids.is_empty() {
        return Err(AppError::bad_input(
            "serviceIds",
            "Choose at least one service.",
        ));
    }
    if ids.len() as u64 > MAX_SERVICES {
        return Err(AppError::bad_input(
            "serviceIds",
            format!("At most {MAX_SERVICES} services per appointment."),
        ));
    }
    let found = offerings_by_id(db, ids).await?;
    let mut chosen = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match found.iter().find(|o| o.id == *id) {
            Some(o) if o.is_active => chosen.push(o.clone()),
            Some(_) => {
                return Err(AppError::bad_input(
                    format!("serviceIds.{i}"),
                    "This service is not offered any more.",
                ))
            }
            None => {
                return Err(AppError::bad_input(
                    format!("serviceIds.{i}"),
                    "No such service.",
                ))
            }
        }
    }
    if chosen
        .iter()
        .enumerate()
        .any(|(i, o)| chosen[..i].contains(o))
    {
        return Err(AppError::bad_input(
            "serviceIds",
            "A service is named twice.",
        ));
    }
    Ok(chosen)
}

/// An appointment's length: its services' durations, rounded up to half hours.
pub(super) fn appointment_minutes(offerings: &[offering::Model]) -> i64 {
    types::rounded_to_half_hours(
        offerings
            .iter()
            .map(|o| i64::from(o.duration_minutes))
            .sum(),
    )
}

/// The appointment slots of a location-local date: half-hour starts within its hours.
pub(super) fn appointment_candidates(
    location: &location::Model,
    hours: &[opening_hours::Model],
    date: NaiveDate,
    minutes: i64,
) -> Vec<Slot> {
    let Ok(zone) = location.timezone.parse::<Tz>() else {
        return Vec::new();
    };
    let weekday = types::weekday(date);
    let windows: Vec<(i32, i32)> = hours
        .iter()
        .filter(|h| h.weekday == weekday)
        .map(|h| (h.opens_minute, h.closes_minute))
        .collect();
    types::slots(zone, date, &windows, 30, minutes)
}

/// How many appointments hold each block of a location in a span, counted by the database (a
/// day of 500 appointments is at most 96 rows).
async fn bays_taken(
    db: &impl ConnectionTrait,
    location: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<std::collections::HashMap<DateTime<Utc>, i64>> {
    let counts: Vec<(DateTime<Utc>, i64)> = claim::Entity::find()
        .select_only()
        .column(claim::Column::BlockStart)
        .column_as(Expr::col(claim::Column::Seat).count(), "taken")
        .filter(claim::Column::Resource.eq(BAY))
        .filter(claim::Column::ResourceId.eq(location))
        .filter(claim::Column::BlockStart.gte(from))
        .filter(claim::Column::BlockStart.lt(to))
        .group_by(claim::Column::BlockStart)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().collect())
}

/// The free appointment slots of a location on a location-local date for these services.
#[tracing::instrument(skip_all, fields(location_id = %location_id, date = %date))]
pub async fn appointment_slots(
    state: &AppState,
    location_id: Uuid,
    date: NaiveDate,
    service_ids: &[Uuid],
) -> AppResult<Vec<Slot>> {
    let location = location_named_in(&state.db, "locationId", location_id).await?;
    let offerings = chosen_offerings(&state.db, service_ids).await?;
    let hours = hours_of(&state.db, &[location_id]).await?;
    let now = clock::now();
    let horizon = state.config.bookings.appointment_horizon_days;
    let candidates: Vec<Slot> =
        appointment_candidates(&location, &hours, date, appointment_minutes(&offerings))
            .into_iter()
            .filter(|(s, _)| in_window(*s, now, horizon))
            .collect();
    let (Some(first), Some(last)) = (candidates.first(), candidates.last()) else {
        return Ok(Vec::new());
    };
    let taken = bays_taken(&state.db, location_id, first.0, last.1).await?;
    Ok(candidates
        .into_iter()
        .filter(|(start, end)| {
            types::blocks(*start, *end)
                .iter()
                .all(|b| taken.get(b).copied().unwrap_or(0) < i64::from(location.bays))
        })
        .collect())
}

/// Checks an appointment's start against the rules availability lists by; returns its end.
pub(super) fn check_appointment_start(
    settings: &BookingSettings,
    location: &location::Model,
    hours: &[opening_hours::Model],
    start: DateTime<Utc>,
    minutes: i64,
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    check_window(start, now, settings.appointment_horizon_days)?;
    let zone = types::zone("locationId", &location.timezone)?;
    let date = local_date(zone, start);
    if !hours.iter().any(|h| h.weekday == types::weekday(date)) {
        return Err(AppError::bad_input(
            "startsAt",
            "The location is closed that day.",
        ));
    }
    appointment_candidates(location, hours, date, minutes)
        .into_iter()
        .find(|(s, _)| *s == start)
        .map(|(_, end)| end)
        .ok_or_else(|| {
            AppError::bad_input(
                "startsAt",
                "Appointments start on the hour or half hour and end within the location's opening hours.",
            )
        })
}

/// What a booking holds: its unit's blocks and its customer's start (test drive), or a bay in
/// each of its blocks (service appointment).
pub(super) struct Holding {
    pub booking_id: Uuid,
    pub kind: BookingKind,
    pub customer: Uuid,
    pub unit: Uuid,
    /// The location and its number of bays (service appointments).
    pub bays: Option<(Uuid, i32)>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

fn claim_row(
    resource: &str,
    resource_id: Uuid,
    block: DateTime<Utc>,
    seat: i32,
    booking_id: Uuid,
) -> claim::ActiveModel {
    claim::ActiveModel {
        resource: sea_orm::Set(resource.to_string()),
        resource_id: sea_orm::Set(resource_id),
        block_start: sea_orm::Set(block),
        seat: sea_orm::Set(seat),
        booking_id: sea_orm::Set(booking_id),
    }
}

/// Inserts claims unless their keys are held, in one statement; whether every one was
/// inserted. A concurrent holder makes PostgreSQL wait for its transaction, then skip; SQLite
/// runs writers one at a time.
async fn try_claim(db: &impl ConnectionTrait, rows: Vec<claim::ActiveModel>) -> AppResult<bool> {
    let wanted = rows.len() as u64;
    let inserted = claim::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                claim::Column::Resource,
                claim::Column::ResourceId,
                claim::Column::BlockStart,
                claim::Column::Seat,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == wanted)
}

/// Takes a booking's claims in the caller's transaction, in one global order (resource, id,
/// block, seat), so two bookings never wait on each other in a cycle. `CONFLICT` on `startsAt`
/// when the unit, the customer's start or every bay of a block is held.
pub(super) async fn claim(db: &impl ConnectionTrait, h: &Holding) -> AppResult<()> {
    let blocks = types::blocks(h.starts_at, h.ends_at);
    match (h.kind, h.bays) {
        (BookingKind::TestDrive, _) => {
            if !try_claim(
                db,
                vec![claim_row(DRIVER, h.customer, h.starts_at, 1, h.booking_id)],
            )
            .await?
            {
                return Err(AppError::conflict_on(
                    "startsAt",
                    "You already have a test drive at this time.",
                ));
            }
            let unit = blocks
                .into_iter()
                .map(|block| claim_row(UNIT, h.unit, block, 1, h.booking_id))
                .collect();
            // All or none: a block held by another booking leaves the transaction to roll back.
            if !try_claim(db, unit).await? {
                return Err(AppError::conflict_on(
                    "startsAt",
                    "This unit is already booked for a test drive at this time.",
                ));
            }
        }
        (BookingKind::ServiceAppointment, Some((location, bays))) => {
            let taken = claims_between(db, BAY, location, h.starts_at, h.ends_at).await?;
            for block in blocks {
                let mut seated = false;
                for seat in 1..=bays {
                    let known = taken
                        .iter()
                        .any(|c| c.block_start == block && c.seat == seat);
                    if !known
                        && try_claim(
                            db,
                            vec![claim_row(BAY, location, block, seat, h.booking_id)],
                        )
                        .await?
                    {
                        seated = true;
                        break;
                    }
                }
                if !seated {
                    return Err(AppError::conflict_on(
                        "startsAt",
                        "Every bay of this location is booked at this time.",
                    ));
                }
            }
        }
        (BookingKind::ServiceAppointment, None) => {
            return Err(AppError::internal(
                "a service appointment without a location",
            ))
        }
    }
    Ok(())
}

/// Gives up bookings' claims (they left PENDING, CONFIRMED or IN_PROGRESS, or move).
pub(super) async fn release(db: &impl ConnectionTrait, bookings: &[Uuid]) -> AppResult<()> {
    claim::Entity::delete_many()
        .filter(claim::Column::BookingId.is_in(bookings.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
