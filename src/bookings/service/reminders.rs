//! The reminder before a confirmed booking. Its due time is a column (`remind_at`, set when a
//! booking is confirmed, cleared when it leaves CONFIRMED), so a reminder whose moment passed
//! while no server ran is sent by the first sweep after start. Each reminder is claimed by a
//! conditional UPDATE in the transaction that stores its notice: of several instances sweeping
//! at once, exactly one sends it.

use sea_orm::{QuerySelect, TransactionTrait};

use super::*;
use crate::bookings::entity::location;
use crate::clock;
use crate::events::Outbox;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};

/// Reminders handled per sweep statement.
const BATCH: u64 = 100;

/// Sends every reminder that is due; how many were sent by this instance.
#[tracing::instrument(skip_all)]
pub async fn send_due_reminders(state: &AppState) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        let now = clock::now();
        let due = booking::Entity::find()
            .filter(booking::Column::RemindAt.lte(now))
            .order_by_asc(booking::Column::RemindAt)
            .limit(BATCH)
            .all(&state.db)
            .await?;
        let batch = due.len() as u64;
        for b in due {
            if remind(state, &b, now).await? {
                sent += 1;
            }
        }
        if batch < BATCH {
            return Ok(sent);
        }
    }
}

/// Claims and sends one reminder; false when another instance had it, or when the booking is
/// no longer worth reminding of (it started, or left CONFIRMED).
async fn remind(state: &AppState, b: &booking::Model, now: DateTime<Utc>) -> AppResult<bool> {
    let txn = state.db.begin().await?;
    let claimed = booking::Entity::update_many()
        .col_expr(
            booking::Column::RemindAt,
            Expr::val(Option::<DateTime<Utc>>::None),
        )
        .filter(booking::Column::Id.eq(b.id))
        .filter(booking::Column::RemindAt.eq(b.remind_at))
        .exec(&txn)
        .await?;
    // A booking leaving CONFIRMED clears its due time, so one still due is still CONFIRMED.
    if claimed.rows_affected == 0 || b.status != BookingStatus::Confirmed || b.starts_at <= now {
        // Not ours, or too late to be of use: the due time is cleared all the same.
        txn.commit().await?;
        return Ok(false);
    }
    let unit = units::units_by_id(&txn, &[b.unit_id])
        .await?
        .into_iter()
        .next();
    let zone = match b.location_id {
        Some(id) => location::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .and_then(|l| l.timezone.parse::<chrono_tz::Tz>().ok()),
        None => None,
    }
    .unwrap_or(state.config.bookings.showroom_timezone);
    let what = unit.map_or_else(
        || b.kind.as_words().to_string(),
        |u| {
            format!(
                "{} of your {} {} {}",
                b.kind.as_words(),
                u.year,
                u.make,
                u.model
            )
        },
    );
    let body = format!(
        "Reminder: {what} on {} ({}).",
        b.starts_at
            .with_timezone(&zone)
            .format("%a %-d %b %Y at %H:%M"),
        zone.name()
    );
    let outbox: Outbox = notifications::store(
        &txn,
        [Notice {
            user_id: b.customer_id,
            kind: NotificationKind::System,
            title: "Booking reminder".into(),
            body,
            subject: Some(("Booking", b.id)),
        }],
    )
    .await?;
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(true)
}

/// Sends what fell due while no server ran (a server calls this before it serves).
pub async fn send_reminders_due_at_start(state: &AppState) {
    sweep(state).await;
}

/// Sweeps every `reminder_sweep`, the first time one interval from now, until aborted.
pub fn spawn_reminder_sweeps(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = state.config.bookings.reminder_sweep;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            sweep(&state).await;
        }
    })
}

async fn sweep(state: &AppState) {
    match send_due_reminders(state).await {
        Ok(0) => {}
        Ok(sent) => tracing::info!(sent, "booking reminders sent"),
        // Logged where it became an internal error; the next sweep tries again.
        Err(_) => tracing::warn!("booking reminder sweep failed"),
    }
}
