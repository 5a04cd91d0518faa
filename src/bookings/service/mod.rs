//! The rules of bookings: who sees which booking, the catalog and the locations, the slots
//! (availability and booking ask the same function), the transitions, the reminders and the
//! statistics.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};
use uuid::Uuid;

use super::entity::{
    booking, booking_service, claim, offering, status_change, BookingKind, BookingStatus,
};
use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::units::entity::unit;
use crate::units::service as units;

mod catalog;
mod changes;
mod export;
mod locations;
mod moves;
mod reminders;
mod reports;
mod slots;

pub use catalog::*;
pub use changes::*;
pub use export::*;
pub use locations::*;
pub use moves::*;
pub use reminders::*;
pub use reports::*;
pub use slots::*;

/// Bookings soonest first.
pub fn booking_sort() -> Sort {
    Sort::new(
        "BOOKING_STARTS_AT",
        Expr::col((booking::Entity, booking::Column::StartsAt)),
        KeyKind::Time,
        Expr::col((booking::Entity, booking::Column::Id)),
        false,
    )
}

fn booking_key(b: &booking::Model) -> (i64, Uuid) {
    (paging::time_key(b.starts_at), b.id)
}

/// The bookings the viewer sees (staff: all; a customer: their own), as a query to narrow
/// further; `None` for an anonymous viewer, who sees none.
fn visible(viewer: &Viewer) -> AppResult<Option<Select<booking::Entity>>> {
    let identity = match viewer {
        Viewer::Anonymous => return Ok(None),
        _ => viewer.identity()?,
    };
    let query = booking::Entity::find();
    Ok(Some(if identity.is_staff() {
        query
    } else {
        query.filter(booking::Column::CustomerId.eq(identity.user_id))
    }))
}

/// The booking, when the viewer sees it; `NOT_FOUND` otherwise.
async fn visible_booking(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<booking::Model> {
    let not_found = || AppError::not_found("Booking");
    visible(viewer)?
        .ok_or_else(not_found)?
        .filter(booking::Column::Id.eq(id))
        .all(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn booking(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<booking::Model>> {
    match visible_booking(&state.db, viewer, id).await {
        Ok(b) => Ok(Some(b)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Narrows `bookings`; every given condition must hold.
#[derive(Default, Clone)]
pub struct BookingFilter {
    pub kinds: Option<Vec<BookingKind>>,
    pub statuses: Option<Vec<BookingStatus>>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
    pub customer_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    /// Customer name, email or phone; unit VIN or plate (any case).
    pub search: Option<String>,
}

impl BookingFilter {
    fn apply(&self, mut q: Select<booking::Entity>) -> Select<booking::Entity> {
        if let Some(kinds) = &self.kinds {
            q = q.filter(booking::Column::Kind.is_in(kinds.iter().copied()));
        }
        if let Some(statuses) = &self.statuses {
            q = q.filter(booking::Column::Status.is_in(statuses.iter().copied()));
        }
        if let Some(from) = self.from {
            q = q.filter(booking::Column::StartsAt.gte(from));
        }
        if let Some(to) = self.to {
            q = q.filter(booking::Column::StartsAt.lt(to));
        }
        if let Some(id) = self.customer_id {
            q = q.filter(booking::Column::CustomerId.eq(id));
        }
        if let Some(id) = self.unit_id {
            q = q.filter(booking::Column::UnitId.eq(id));
        }
        if let Some(id) = self.location_id {
            q = q.filter(booking::Column::LocationId.eq(id));
        }
        if let Some(text) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            q = q.filter(
                Condition::any()
                    .add(
                        Expr::col((booking::Entity, booking::Column::CustomerId))
                            .in_subquery(accounts::ids_matching(text)),
                    )
                    .add(
                        Expr::col((booking::Entity, booking::Column::UnitId))
                            .in_subquery(units::ids_matching(text)),
                    ),
            );
        }
        q
    }
}

/// The viewer's own bookings, soonest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn my_bookings(
    state: &AppState,
    viewer: &Viewer,
    statuses: Option<Vec<BookingStatus>>,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<booking::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    let filter = BookingFilter {
        statuses,
        customer_id: Some(identity.user_id),
        ..BookingFilter::default()
    };
    let query = filter.apply(booking::Entity::find());
    booking_sort()
        .page(&state.db, query, args, with_total, booking_key)
        .await
}

/// Every booking (staff), filtered, soonest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_bookings(
    state: &AppState,
    viewer: &Viewer,
    filter: &BookingFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<booking::Model>, Option<u64>)> {
    viewer.staff()?;
    let query = filter.apply(booking::Entity::find());
    booking_sort()
        .page(&state.db, query, args, with_total, booking_key)
        .await
}

/// The bookings the viewer sees that meet `condition`.
async fn visible_where(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    condition: SimpleExpr,
) -> AppResult<Vec<booking::Model>> {
    let Some(query) = visible(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(query.filter(condition).all(db).await?)
}

/// The bookings with these ids the viewer sees (a room's subject).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn visible_bookings_by_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<booking::Model>> {
    visible_where(db, viewer, booking::Column::Id.is_in(ids.iter().copied())).await
}

/// The ids of the visible bookings among `ids`, as a subquery.
fn visible_ids(
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Option<sea_orm::sea_query::SelectStatement>> {
    Ok(visible(viewer)?.map(|q| {
        q.filter(booking::Column::Id.is_in(ids.iter().copied()))
            .select_only()
            .column(booking::Column::Id)
            .into_query()
    }))
}

/// The status changes of the visible bookings among `ids`, oldest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn history_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<status_change::Model>> {
    let Some(visible) = visible_ids(viewer, ids)? else {
        return Ok(Vec::new());
    };
    Ok(status_change::Entity::find()
        .filter(Expr::col(status_change::Column::BookingId).in_subquery(visible))
        .order_by_asc(status_change::Column::At)
        .order_by_asc(status_change::Column::Id)
        .all(db)
        .await?)
}

/// The services of the visible bookings among `ids`, in booking order, each with the price it
/// was booked at.
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn services_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<(booking_service::Model, offering::Model)>> {
    let Some(visible) = visible_ids(viewer, ids)? else {
        return Ok(Vec::new());
    };
    lines_where(
        db,
        Expr::col(booking_service::Column::BookingId).in_subquery(visible),
    )
    .await
}

/// The services of one booking, in order, for a caller that already checked access.
pub(super) async fn services_of_booking(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Vec<offering::Model>> {
    let lines = lines_where(db, booking_service::Column::BookingId.eq(id)).await?;
    Ok(lines.into_iter().map(|(_, o)| o).collect())
}

/// Booking lines that meet `condition`, by booking and position, each with its offering.
async fn lines_where(
    db: &impl ConnectionTrait,
    condition: SimpleExpr,
) -> AppResult<Vec<(booking_service::Model, offering::Model)>> {
    let lines = booking_service::Entity::find()
        .filter(condition)
        .order_by_asc(booking_service::Column::BookingId)
        .order_by_asc(booking_service::Column::Position)
        .all(db)
        .await?;
    let offering_ids: Vec<Uuid> = lines.iter().map(|l| l.offering_id).collect();
    let offerings: std::collections::HashMap<Uuid, offering::Model> =
        offerings_by_id(db, &offering_ids)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
    Ok(lines
        .into_iter()
        .filter_map(|l| offerings.get(&l.offering_id).cloned().map(|o| (l, o)))
        .collect())
}

/// The units of the visible bookings among `ids`: a customer keeps reading the unit of their
/// booking after it was sold or unlisted.
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn units_of_visible_bookings(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<unit::Model>> {
    let Some(query) = visible(viewer)? else {
        return Ok(Vec::new());
    };
    let unit_ids = query
        .filter(booking::Column::Id.is_in(ids.iter().copied()))
        .select_only()
        .column(booking::Column::UnitId)
        .into_query();
    units::units_selected_by(db, unit_ids).await
}

/// Does the unit have PENDING, CONFIRMED or IN_PROGRESS bookings (may it not be deleted)?
#[tracing::instrument(skip_all, fields(unit_id = %unit_id))]
pub async fn holds_bookings(db: &impl ConnectionTrait, unit_id: Uuid) -> AppResult<bool> {
    Ok(booking::Entity::find()
        .filter(booking::Column::UnitId.eq(unit_id))
        .filter(booking::Column::Status.is_in(BookingStatus::HOLDING))
        .one(db)
        .await?
        .is_some())
}

/// The booking, its row locked for the rest of the caller's transaction (the first statement is
/// a write, so SQLite takes its write lock at once and PostgreSQL locks the row): payments of one
/// booking wait for each other. `NOT_FOUND` when there is none.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn lock_booking(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<booking::Model> {
    booking::Entity::update_many()
        .col_expr(booking::Column::Id, Expr::col(booking::Column::Id))
        .filter(booking::Column::Id.eq(id))
        .exec(txn)
        .await?;
    booking::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Booking"))
}

/// The customer of a booking, if it exists (who a support room about it is for).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn customer_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(booking::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|b| b.customer_id))
}

/// The claims held on a resource in a span (availability reads one day of one resource).
async fn claims_between(
    db: &impl ConnectionTrait,
    resource: &str,
    resource_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<claim::Model>> {
    Ok(claim::Entity::find()
        .filter(claim::Column::Resource.eq(resource))
        .filter(claim::Column::ResourceId.eq(resource_id))
        .filter(claim::Column::BlockStart.gte(from))
        .filter(claim::Column::BlockStart.lt(to))
        .all(db)
        .await?)
}

/// The first day of a period and the day after its last, as instants (UTC days).
fn utc_days(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = to
        .succ_opt()
        .unwrap_or(to)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    (start, end)
}
