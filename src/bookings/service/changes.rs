//! Booking and rescheduling, and what every change of a booking shares (its history entry, its
//! notices). Each change is one transaction: the booking's row, its claims, its status history
//! and the notices go together.

use chrono::Timelike;
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, TransactionTrait};

use super::slots::{self, Holding};
use super::*;
use crate::auth::viewer::Identity;
use crate::bookings::entity::location;
use crate::clock;
use crate::events::Outbox;
use crate::input;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};

/// The zone a booking's times are told in: the location's, or the showroom's.
pub(super) fn zone_of(state: &AppState, location: Option<&location::Model>) -> Tz {
    location
        .and_then(|l| l.timezone.parse::<Tz>().ok())
        .unwrap_or(state.config.bookings.showroom_timezone)
}

/// "Test drive of 2021 Volkswagen Golf, Tue 8 Dec 2026 10:00 (Europe/Berlin)".
pub(super) fn describe(b: &booking::Model, unit: &unit::Model, zone: Tz) -> String {
    format!(
        "{} of {} {} {}, {} ({})",
        b.kind.as_words(),
        unit.year,
        unit.make,
        unit.model,
        b.starts_at
            .with_timezone(&zone)
            .format("%a %-d %b %Y %H:%M"),
        zone.name()
    )
}

pub(super) fn notice(
    user_id: Uuid,
    kind: NotificationKind,
    title: &str,
    b: &booking::Model,
    body: String,
) -> Notice {
    Notice {
        user_id,
        kind,
        title: title.to_string(),
        body,
        subject: Some(("Booking", b.id)),
    }
}

/// Notices to every active staff member but `except`.
pub(super) async fn to_staff(
    db: &impl ConnectionTrait,
    except: Uuid,
    kind: NotificationKind,
    title: &str,
    b: &booking::Model,
    body: &str,
) -> AppResult<Outbox> {
    let staff = accounts::active_staff_ids(db).await?;
    notifications::store(
        db,
        staff
            .into_iter()
            .filter(|id| *id != except)
            .map(|id| notice(id, kind, title, b, body.to_string())),
    )
    .await
}

pub(super) async fn record_change(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    from: Option<BookingStatus>,
    to: BookingStatus,
    by: Option<Uuid>,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let row = status_change::Model {
        id: Uuid::now_v7(),
        booking_id,
        from_status: from,
        to_status: to,
        at,
        by_user: by,
        reason,
    };
    let active: status_change::ActiveModel = row.into();
    active.insert(db).await?;
    Ok(())
}

/// How far ahead of its start a booking was made (kept on the row: the statistics average it
/// the same way on both databases, where timestamp arithmetic differs).
fn lead_minutes(start: DateTime<Utc>, booked_at: DateTime<Utc>) -> i64 {
    (start - booked_at).num_minutes()
}

fn local_hour(start: DateTime<Utc>, zone: Tz) -> i32 {
    start.with_timezone(&zone).hour() as i32
}

/// A unit named in an input: one the viewer cannot see is `BAD_USER_INPUT` on `unitId`.
async fn unit_named(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<unit::Model> {
    units::visible_unit(db, viewer, id)
        .await
        .map_err(|err| match err {
            AppError::NotFound(message) => AppError::bad_input("unitId", message),
            other => other,
        })
}

/// A new booking's row, its first history entry and its claims, in the caller's transaction.
async fn insert_booking(
    txn: &impl ConnectionTrait,
    row: booking::Model,
    holding: &Holding,
    by: Uuid,
) -> AppResult<booking::Model> {
    let active: booking::ActiveModel = row.into();
    let saved = active.insert(txn).await?;
    slots::claim(txn, holding).await?;
    record_change(
        txn,
        saved.id,
        None,
        BookingStatus::Pending,
        Some(by),
        None,
        saved.created_at,
    )
    .await?;
    Ok(saved)
}

fn new_row(
    kind: BookingKind,
    customer: Uuid,
    unit: Uuid,
    (starts_at, ends_at): (DateTime<Utc>, DateTime<Utc>),
    zone: Tz,
    notes: Option<String>,
) -> booking::Model {
    let now = clock::now();
    booking::Model {
        id: Uuid::now_v7(),
        kind,
        status: BookingStatus::Pending,
        customer_id: customer,
        unit_id: unit,
        location_id: None,
        starts_at,
        ends_at,
        estimated_price_cents: None,
        offer_id: None,
        offer_title: None,
        offer_discount_cents: None,
        plan_discount_cents: None,
        notes,
        handled_by: None,
        service_record_id: None,
        remind_at: None,
        lead_minutes: lead_minutes(starts_at, now),
        local_hour: local_hour(starts_at, zone),
        created_at: now,
        updated_at: now,
    }
}

/// A signed-in user books a one-hour test drive of a listed unit.
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %unit_id))]
pub async fn book_test_drive(
    state: &AppState,
    viewer: &Viewer,
    unit_id: Uuid,
    starts_at: DateTime<Utc>,
    notes: Option<&str>,
) -> AppResult<booking::Model> {
    let identity = viewer.identity()?.clone();
    let unit = unit_named(&state.db, viewer, unit_id).await?;
    slots::check_drivable(&unit)?;
    let notes = input::optional("notes", notes, 2000)?;
    let settings = &state.config.bookings;
    let ends_at = slots::check_test_drive_start(settings, starts_at, clock::now())?;
    let zone = settings.showroom_timezone;
    let row = new_row(
        BookingKind::TestDrive,
        identity.user_id,
        unit.id,
        (starts_at, ends_at),
        zone,
        notes,
    );
    let holding = Holding {
        booking_id: row.id,
        kind: row.kind,
        customer: row.customer_id,
        unit: unit.id,
        bays: None,
        starts_at,
        ends_at,
    };
    let txn = state.db.begin().await?;
    // The unit's lock first (a sale of it waits, or we see it sold).
    let unit = units::lock_unit(&txn, unit.id).await?;
    slots::check_drivable(&unit)?;
    let saved = insert_booking(&txn, row, &holding, identity.user_id).await?;
    let body = describe(&saved, &unit, zone);
    let outbox = to_staff(
        &txn,
        identity.user_id,
        NotificationKind::BookingCreated,
        "New test drive",
        &saved,
        &body,
    )
    .await?;
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(saved)
}

pub struct NewAppointment {
    pub unit_id: Uuid,
    pub location_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub service_ids: Vec<Uuid>,
    pub notes: Option<String>,
}

/// The unit a service appointment is for: the customer's own (staff book for its owner).
async fn appointment_unit(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    identity: &Identity,
    unit_id: Uuid,
) -> AppResult<(unit::Model, Uuid)> {
    let unit = unit_named(db, viewer, unit_id).await?;
    match unit.owner_id {
        Some(owner) if owner == identity.user_id || identity.is_staff() => Ok((unit, owner)),
        None if identity.is_staff() => Err(AppError::bad_input(
            "unitId",
            "This unit has no owner to book a service for.",
        )),
        _ => Err(AppError::bad_input(
            "unitId",
            "Service appointments are for your own vehicles.",
        )),
    }
}

/// An appointment checked against every rule of booking, and priced: when it ends and what it
/// costs. Booking and rescheduling both ask this.
async fn plan_appointment(
    state: &AppState,
    location: &location::Model,
    offerings: &[offering::Model],
    customer: Uuid,
    unit: &unit::Model,
    starts_at: DateTime<Utc>,
) -> AppResult<(DateTime<Utc>, Quote)> {
    let hours = hours_of(&state.db, &[location.id]).await?;
    let ends_at = slots::check_appointment_start(
        &state.config.bookings,
        location,
        &hours,
        starts_at,
        slots::appointment_minutes(offerings),
        clock::now(),
    )?;
    let context = PriceContext {
        customer,
        unit,
        location: location.id,
        starts_at,
    };
    Ok((ends_at, quote(&state.db, &context, offerings).await?))
}

/// A customer books services for their own unit at a location (staff book for the owner).
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %new.unit_id))]
pub async fn book_service_appointment(
    state: &AppState,
    viewer: &Viewer,
    new: NewAppointment,
) -> AppResult<booking::Model> {
    let identity = viewer.identity()?.clone();
    let (unit, customer) = appointment_unit(&state.db, viewer, &identity, new.unit_id).await?;
    let location = location_named_in(&state.db, "locationId", new.location_id).await?;
    let offerings = slots::chosen_offerings(&state.db, &new.service_ids).await?;
    let notes = input::optional("notes", new.notes.as_deref(), 2000)?;
    let (ends_at, quote) =
        plan_appointment(state, &location, &offerings, customer, &unit, new.starts_at).await?;
    let zone = zone_of(state, Some(&location));
    let mut row = new_row(
        BookingKind::ServiceAppointment,
        customer,
        unit.id,
        (new.starts_at, ends_at),
        zone,
        notes,
    );
    row.location_id = Some(location.id);
    quote.write_into(&mut row);
    let holding = Holding {
        booking_id: row.id,
        kind: row.kind,
        customer,
        unit: unit.id,
        bays: Some((location.id, location.bays)),
        starts_at: new.starts_at,
        ends_at,
    };
    let txn = state.db.begin().await?;
    let saved = insert_booking(&txn, row, &holding, identity.user_id).await?;
    booking_service::Entity::insert_many(quote.lines.iter().enumerate().map(
        |(i, (offering, price))| booking_service::ActiveModel {
            booking_id: sea_orm::Set(saved.id),
            position: sea_orm::Set(i as i32),
            offering_id: sea_orm::Set(*offering),
            price_cents: sea_orm::Set(*price),
        },
    ))
    .exec_without_returning(&txn)
    .await?;
    let body = describe(&saved, &unit, zone);
    let outbox = to_staff(
        &txn,
        identity.user_id,
        NotificationKind::BookingCreated,
        "New service appointment",
        &saved,
        &body,
    )
    .await?;
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(saved)
}

pub(super) fn refused(kind: BookingKind, from: BookingStatus, to: BookingStatus) -> AppError {
    AppError::conflict_on(
        "status",
        format!(
            "A {} cannot go from {} to {}.",
            kind.as_words().to_lowercase(),
            from.name(),
            to.name()
        ),
    )
}

/// The booking's current status, after a conditional update found it changed.
pub(super) async fn changed_meanwhile(
    db: &impl ConnectionTrait,
    b: &booking::Model,
    to: BookingStatus,
) -> AppResult<AppError> {
    let now = booking::Entity::find_by_id(b.id).one(db).await?;
    Ok(refused(b.kind, now.map_or(b.status, |n| n.status), to))
}

/// Moves a booking to a new time: PENDING | CONFIRMED → PENDING, every rule of booking checked
/// again and the price computed again (the customer for their own, or staff).
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn reschedule(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    starts_at: DateTime<Utc>,
) -> AppResult<booking::Model> {
    let identity = viewer.identity()?.clone();
    let b = visible_booking(&state.db, viewer, id).await?;
    if !matches!(b.status, BookingStatus::Pending | BookingStatus::Confirmed) {
        return Err(refused(b.kind, b.status, BookingStatus::Pending));
    }
    let now = clock::now();
    let settings = &state.config.bookings;
    let unit = units::units_by_id(&state.db, &[b.unit_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("Unit"))?;
    let (location, ends_at, quote) = match b.kind {
        BookingKind::TestDrive => {
            slots::check_drivable(&unit)?;
            let end = slots::check_test_drive_start(settings, starts_at, now)?;
            (None, end, None)
        }
        BookingKind::ServiceAppointment => {
            let location_id = b
                .location_id
                .ok_or_else(|| AppError::internal("a service appointment without a location"))?;
            let location = location_named_in(&state.db, "locationId", location_id).await?;
            let services: Vec<Uuid> = services_of_booking(&state.db, b.id)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect();
            // Still offered, each: a withdrawn service is not booked again.
            let offerings = slots::chosen_offerings(&state.db, &services).await?;
            let (end, quote) = plan_appointment(
                state,
                &location,
                &offerings,
                b.customer_id,
                &unit,
                starts_at,
            )
            .await?;
            (Some(location), end, Some(quote))
        }
    };
    let zone = zone_of(state, location.as_ref());
    let txn = state.db.begin().await?;
    // First statement a write: of two moves at the same instant, one finds it changed.
    let mut moving = booking::Entity::update_many();
    // Priced again: the offers and the plan of this start.
    for (column, value) in Quote::columns(quote.as_ref()) {
        moving = moving.col_expr(column, value);
    }
    let moved = moving
        .col_expr(booking::Column::Status, Expr::val(BookingStatus::Pending))
        .col_expr(booking::Column::StartsAt, Expr::val(starts_at))
        .col_expr(booking::Column::EndsAt, Expr::val(ends_at))
        .col_expr(
            booking::Column::RemindAt,
            Expr::val(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            booking::Column::LocalHour,
            Expr::val(local_hour(starts_at, zone)),
        )
        .col_expr(
            booking::Column::LeadMinutes,
            Expr::val(lead_minutes(starts_at, b.created_at)),
        )
        .col_expr(booking::Column::UpdatedAt, Expr::val(now))
        .filter(booking::Column::Id.eq(b.id))
        .filter(booking::Column::Status.eq(b.status))
        .filter(booking::Column::StartsAt.eq(b.starts_at))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(changed_meanwhile(&txn, &b, BookingStatus::Pending).await?);
    }
    if b.kind == BookingKind::TestDrive {
        let unit = units::lock_unit(&txn, unit.id).await?;
        slots::check_drivable(&unit)?;
    }
    slots::release(&txn, &[b.id]).await?;
    slots::claim(
        &txn,
        &Holding {
            booking_id: b.id,
            kind: b.kind,
            customer: b.customer_id,
            unit: b.unit_id,
            bays: location.as_ref().map(|l| (l.id, l.bays)),
            starts_at,
            ends_at,
        },
    )
    .await?;
    let lines = quote.iter().flat_map(|q| q.lines.iter());
    for (position, (_, cents)) in lines.enumerate() {
        booking_service::Entity::update_many()
            .col_expr(booking_service::Column::PriceCents, Expr::val(*cents))
            .filter(booking_service::Column::BookingId.eq(b.id))
            .filter(booking_service::Column::Position.eq(position as i32))
            .exec(&txn)
            .await?;
    }
    let old_time = b
        .starts_at
        .with_timezone(&zone)
        .format("%a %-d %b %Y %H:%M");
    record_change(
        &txn,
        b.id,
        Some(b.status),
        BookingStatus::Pending,
        Some(identity.user_id),
        Some(format!("Rescheduled from {old_time}.")),
        now,
    )
    .await?;
    let saved = booking::Entity::find_by_id(b.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("Booking"))?;
    let body = describe(&saved, &unit, zone);
    let outbox = if identity.is_staff() && identity.user_id != saved.customer_id {
        notifications::store(
            &txn,
            [notice(
                saved.customer_id,
                NotificationKind::BookingRescheduled,
                "Booking rescheduled",
                &saved,
                body,
            )],
        )
        .await?
    } else {
        to_staff(
            &txn,
            identity.user_id,
            NotificationKind::BookingRescheduled,
            "Booking rescheduled",
            &saved,
            &body,
        )
        .await?
    };
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(saved)
}
