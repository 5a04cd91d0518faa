//! Booking statistics and a staff member's handled bookings, aggregated by the database.

use sea_orm::sea_query::Alias;
use sea_orm::PaginatorTrait;

use super::*;
use crate::bookings::types;

pub struct BookingStats {
    pub total: i64,
    pub by_status: Vec<(BookingStatus, i64)>,
    pub by_kind: Vec<(BookingKind, i64)>,
    /// NO_SHOW among the bookings that came to an end (COMPLETED or NO_SHOW); 0 without any.
    pub no_show_rate: f64,
    pub average_lead_time_hours: Option<f64>,
    /// Local starting hours by how many bookings start then, busiest first.
    pub busiest_hours: Vec<(i32, i64)>,
}

/// The period's bookings (by their start, in showroom days).
fn in_period(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Select<booking::Entity>> {
    if to < from {
        return Err(AppError::bad_input(
            "to",
            "The period ends before it starts.",
        ));
    }
    let zone = state.config.bookings.showroom_timezone;
    let (start, end) = match (types::day_bounds(zone, from), types::day_bounds(zone, to)) {
        (Some((start, _)), Some((_, end))) => (start, end),
        _ => utc_days(from, to),
    };
    Ok(booking::Entity::find()
        .filter(booking::Column::StartsAt.gte(start))
        .filter(booking::Column::StartsAt.lt(end)))
}

/// Counts by one column of the period's bookings.
async fn counted_by<T>(
    db: &impl ConnectionTrait,
    query: Select<booking::Entity>,
    column: booking::Column,
) -> AppResult<Vec<(T, i64)>>
where
    T: sea_orm::TryGetable,
    (T, i64): sea_orm::TryGetableMany,
{
    Ok(query
        .select_only()
        .column(column)
        .column_as(Expr::col(booking::Column::Id).count(), "count")
        .group_by(column)
        .order_by_desc(Expr::col(Alias::new("count")))
        .order_by_asc(column)
        .into_tuple()
        .all(db)
        .await?)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, from = %from, to = %to))]
pub async fn booking_stats(
    state: &AppState,
    viewer: &Viewer,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<BookingStats> {
    viewer.staff()?;
    let period = in_period(state, from, to)?;
    let db = &state.db;
    let by_status: Vec<(BookingStatus, i64)> =
        counted_by(db, period.clone(), booking::Column::Status).await?;
    let by_kind: Vec<(BookingKind, i64)> =
        counted_by(db, period.clone(), booking::Column::Kind).await?;
    let busiest_hours: Vec<(i32, i64)> =
        counted_by(db, period.clone(), booking::Column::LocalHour).await?;
    let average: Option<Option<f64>> = period
        .select_only()
        .column_as(
            Expr::cust("AVG(CAST(lead_minutes AS DOUBLE PRECISION))"),
            "average",
        )
        .into_tuple()
        .one(db)
        .await?;
    let count = |s: BookingStatus| {
        by_status
            .iter()
            .find(|(status, _)| *status == s)
            .map_or(0, |(_, n)| *n)
    };
    let ended = count(BookingStatus::Completed) + count(BookingStatus::NoShow);
    Ok(BookingStats {
        total: by_status.iter().map(|(_, n)| n).sum(),
        no_show_rate: if ended == 0 {
            0.0
        } else {
            count(BookingStatus::NoShow) as f64 / ended as f64
        },
        average_lead_time_hours: average.flatten().map(|minutes| minutes / 60.0),
        by_status,
        by_kind,
        busiest_hours,
    })
}

/// How many bookings a staff member confirmed, started or completed in the period (UTC days).
#[tracing::instrument(skip_all, fields(staff = %staff))]
pub async fn handled_by(
    db: &impl ConnectionTrait,
    staff: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<i64> {
    let mut q = status_change::Entity::find()
        .filter(status_change::Column::ByUser.eq(staff))
        .filter(status_change::Column::ToStatus.is_in([
            BookingStatus::Confirmed,
            BookingStatus::InProgress,
            BookingStatus::Completed,
        ]));
    if let Some(from) = from {
        q = q.filter(status_change::Column::At.gte(utc_days(from, from).0));
    }
    if let Some(to) = to {
        q = q.filter(status_change::Column::At.lt(utc_days(to, to).1));
    }
    Ok(i64::try_from(q.count(db).await?).unwrap_or(i64::MAX))
}
