//! Moving bookings along the transition table, with the service record a service appointment
//! carries; a sale's cancelling of its unit's test drives.

use chrono_tz::Tz;
use sea_orm::TransactionTrait;

use super::changes::{
    changed_meanwhile, describe, notice, record_change, refused, to_staff, zone_of,
};
use super::slots;
use super::*;
use crate::clock;
use crate::events::Outbox;
use crate::input;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service as notifications;
use crate::workshop::entity::ServiceStatus;
use crate::workshop::service as workshop;

/// Is this a move only staff make? Customers cancel their own bookings, nothing else.
fn staff_move(to: BookingStatus) -> bool {
    to != BookingStatus::Cancelled
}

/// Moves a booking along the transition table (confirm, decline, cancel, start, complete,
/// no-show). A move not in the table is `CONFLICT` naming both states; a customer's attempt at
/// a staff move is `FORBIDDEN`. Confirming a service appointment schedules its service record;
/// starting and completing it carry the record along.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id, to = ?to))]
pub async fn move_booking(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    to: BookingStatus,
    reason: Option<&str>,
) -> AppResult<booking::Model> {
    let identity = viewer.identity()?.clone();
    let b = visible_booking(&state.db, viewer, id).await?;
    if !b.kind.may_move(b.status, to) {
        return Err(refused(b.kind, b.status, to));
    }
    if staff_move(to) && !identity.is_staff() {
        return Err(AppError::forbidden(
            "Only staff confirm, decline, start or complete bookings.",
        ));
    }
    let now = clock::now();
    if b.kind == BookingKind::TestDrive
        && matches!(to, BookingStatus::Completed | BookingStatus::NoShow)
        && now < b.starts_at
    {
        return Err(AppError::conflict_on(
            "status",
            "A test drive is completed or marked as a no-show once it has started.",
        ));
    }
    let reason = input::optional("reason", reason, 500)?;
    let remind_at = (to == BookingStatus::Confirmed)
        .then(|| b.starts_at - clock::span(state.config.bookings.reminder_lead));
    let handled = identity.is_staff().then_some(identity.user_id);

    let txn = state.db.begin().await?;
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::val(to))
        .col_expr(booking::Column::RemindAt, Expr::val(remind_at))
        .col_expr(booking::Column::UpdatedAt, Expr::val(now));
    if let Some(staff) = handled {
        update = update.col_expr(booking::Column::HandledBy, Expr::val(staff));
    }
    let moved = update
        .filter(booking::Column::Id.eq(b.id))
        .filter(booking::Column::Status.eq(b.status))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(changed_meanwhile(&txn, &b, to).await?);
    }
    if !to.holds_slot() {
        slots::release(&txn, &[b.id]).await?;
    }
    record_change(
        &txn,
        b.id,
        Some(b.status),
        to,
        Some(identity.user_id),
        reason.clone(),
        now,
    )
    .await?;
    let location = match b.location_id {
        Some(id) => locations_by_id(&txn, &[id]).await?.into_iter().next(),
        None => None,
    };
    let zone = zone_of(state, location.as_ref());
    let mut outbox = Outbox::default();
    if b.kind == BookingKind::ServiceAppointment {
        let place = location.as_ref().map_or("", |l| l.name.as_str());
        outbox.extend(carry_record(&txn, &b, to, identity.user_id, place, zone).await?);
    }
    let saved = booking::Entity::find_by_id(b.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("Booking"))?;
    let unit = units::units_by_id(&txn, &[b.unit_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("Unit"))?;
    let mut body = describe(&saved, &unit, zone);
    if let Some(reason) = &reason {
        body = format!("{body}. {reason}");
    }
    let tell_customer =
        |kind, title: &str| notice(saved.customer_id, kind, title, &saved, body.clone());
    let notices = match to {
        BookingStatus::Confirmed => vec![tell_customer(
            NotificationKind::BookingConfirmed,
            "Booking confirmed",
        )],
        BookingStatus::Declined => vec![tell_customer(
            NotificationKind::BookingDeclined,
            "Booking declined",
        )],
        BookingStatus::Cancelled if identity.user_id != saved.customer_id => {
            vec![tell_customer(
                NotificationKind::BookingCancelled,
                "Booking cancelled",
            )]
        }
        _ => Vec::new(),
    };
    outbox.extend(notifications::store(&txn, notices).await?);
    if to == BookingStatus::Cancelled && identity.user_id == saved.customer_id {
        outbox.extend(
            to_staff(
                &txn,
                identity.user_id,
                NotificationKind::BookingCancelled,
                "Booking cancelled by the customer",
                &saved,
                &body,
            )
            .await?,
        );
    }
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(saved)
}

/// The service record a service appointment carries: scheduled (at `place`, on the day of
/// `zone`) when it is confirmed, started, completed or cancelled with it.
async fn carry_record(
    txn: &impl ConnectionTrait,
    b: &booking::Model,
    to: BookingStatus,
    by: Uuid,
    place: &str,
    zone: Tz,
) -> AppResult<Outbox> {
    if to == BookingStatus::Confirmed {
        let services: Vec<String> = services_of_booking(txn, b.id)
            .await?
            .into_iter()
            .map(|o| o.name)
            .collect();
        let record = workshop::schedule_for_booking(
            txn,
            b.unit_id,
            &services.join(", "),
            place,
            b.starts_at.with_timezone(&zone).date_naive(),
            by,
        )
        .await?;
        booking::Entity::update_many()
            .col_expr(booking::Column::ServiceRecordId, Expr::val(record.id))
            .filter(booking::Column::Id.eq(b.id))
            .exec(txn)
            .await?;
        return Ok(Outbox::default());
    }
    let record_to = match to {
        BookingStatus::InProgress => ServiceStatus::InProgress,
        BookingStatus::Completed => ServiceStatus::Completed,
        BookingStatus::Cancelled => ServiceStatus::Cancelled,
        _ => return Ok(Outbox::default()),
    };
    let record = match b.service_record_id {
        Some(id) => workshop::record_by_id(txn, id).await?,
        None => None,
    };
    let Some(record) = record else {
        return Ok(Outbox::default());
    };
    if record.status == record_to || !record.status.may_become(record_to) {
        // Moved by hand in the workshop already: the booking follows without it.
        return Ok(Outbox::default());
    }
    let (_, outbox) = workshop::move_record(txn, &record, record_to, by).await?;
    Ok(outbox)
}

/// A sale of the unit is being recorded (in its transaction): its future PENDING or CONFIRMED
/// test drives are cancelled, however many, in a fixed number of statements, and each customer
/// is told.
#[tracing::instrument(skip_all, fields(unit_id = %unit.id, by = %by))]
pub async fn cancel_test_drives_of_sold_unit(
    txn: &impl ConnectionTrait,
    unit: &unit::Model,
    by: Uuid,
    zone: Tz,
) -> AppResult<Outbox> {
    let now = clock::now();
    let doomed = booking::Entity::find()
        .filter(booking::Column::UnitId.eq(unit.id))
        .filter(booking::Column::Kind.eq(BookingKind::TestDrive))
        .filter(booking::Column::Status.is_in([BookingStatus::Pending, BookingStatus::Confirmed]))
        .filter(booking::Column::StartsAt.gt(now))
        .all(txn)
        .await?;
    if doomed.is_empty() {
        return Ok(Outbox::default());
    }
    let ids: Vec<Uuid> = doomed.iter().map(|b| b.id).collect();
    booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::val(BookingStatus::Cancelled))
        .col_expr(
            booking::Column::RemindAt,
            Expr::val(Option::<DateTime<Utc>>::None),
        )
        .col_expr(booking::Column::UpdatedAt, Expr::val(now))
        .filter(booking::Column::Id.is_in(ids.iter().copied()))
        .exec(txn)
        .await?;
    slots::release(txn, &ids).await?;
    let reason = "The vehicle has been sold.";
    status_change::Entity::insert_many(doomed.iter().map(|b| {
        status_change::ActiveModel::from(status_change::Model {
            id: Uuid::now_v7(),
            booking_id: b.id,
            from_status: Some(b.status),
            to_status: BookingStatus::Cancelled,
            at: now,
            by_user: Some(by),
            reason: Some(reason.into()),
        })
    }))
    .exec_without_returning(txn)
    .await?;
    let notices = doomed.iter().map(|b| {
        let body = format!("{}. {reason}", describe(b, unit, zone));
        notice(
            b.customer_id,
            NotificationKind::BookingCancelled,
            "Test drive cancelled",
            b,
            body,
        )
    });
    notifications::store(txn, notices).await
}
