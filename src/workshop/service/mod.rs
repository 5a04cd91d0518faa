//! The rules of the workshop: who records and moves service work, the transition
//! table, the unit's IN_SERVICE status, and the referral credit of a first completed service.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Select, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{service_record, ServiceStatus};
use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::Outbox;
use crate::input;
use crate::money;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::referrals;
use crate::units::entity::{unit, UnitStatus};
use crate::units::service as units;

mod export;

pub use export::*;

/// Records newest first.
pub fn record_sort() -> Sort {
    Sort::new(
        "RECORD_CREATED_AT_DESC",
        Expr::col((service_record::Entity, service_record::Column::CreatedAt)),
        KeyKind::Time,
        Expr::col((service_record::Entity, service_record::Column::Id)),
        true,
    )
}

pub fn record_key(r: &service_record::Model) -> (i64, Uuid) {
    (paging::time_key(r.created_at), r.id)
}

/// A record is seen by staff and by the owner of its unit.
fn may_see(identity: &Identity, unit_owner: Option<Uuid>) -> bool {
    identity.is_staff() || unit_owner == Some(identity.user_id)
}

/// The record and its unit, when the viewer may see them; `NOT_FOUND` otherwise.
async fn visible_record(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(Identity, service_record::Model, unit::Model)> {
    let identity = viewer.identity()?.clone();
    let not_found = || AppError::not_found("Service record");
    let record = service_record::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let unit = units::units_by_id(db, &[record.unit_id])
        .await?
        .into_iter()
        .find(|u| may_see(&identity, u.owner_id))
        .ok_or_else(not_found)?;
    Ok((identity, record, unit))
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn record(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<service_record::Model>> {
    match visible_record(&state.db, viewer, id).await {
        Ok((_, record, _)) => Ok(Some(record)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

#[derive(Default, Clone)]
pub struct RecordFilter {
    pub unit_id: Option<Uuid>,
    pub statuses: Option<Vec<ServiceStatus>>,
    /// Created on or after this day.
    pub from: Option<NaiveDate>,
    /// Created on or before this day.
    pub to: Option<NaiveDate>,
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn filtered(identity: &Identity, filter: &RecordFilter) -> Select<service_record::Entity> {
    let mut q = service_record::Entity::find();
    if !identity.is_staff() {
        q = q.filter(
            Expr::col((service_record::Entity, service_record::Column::UnitId))
                .in_subquery(units::ids_owned_by(identity.user_id)),
        );
    }
    if let Some(unit_id) = filter.unit_id {
        q = q.filter(service_record::Column::UnitId.eq(unit_id));
    }
    if let Some(statuses) = &filter.statuses {
        q = q.filter(service_record::Column::Status.is_in(statuses.iter().copied()));
    }
    if let Some(from) = filter.from {
        q = q.filter(service_record::Column::CreatedAt.gte(day_start(from)));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        q = q.filter(service_record::Column::CreatedAt.lt(day_start(to)));
    }
    q
}

/// Records the viewer sees (staff: all; customers: their units'), newest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_records(
    state: &AppState,
    viewer: &Viewer,
    filter: &RecordFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<service_record::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    record_sort()
        .page(
            &state.db,
            filtered(identity, filter),
            args,
            with_total,
            record_key,
        )
        .await
}

/// The records the viewer sees (staff: all; customers: their units'; anyone else: none), as a
/// query to narrow further; `None` when the viewer sees none.
fn visible_records(viewer: &Viewer) -> AppResult<Option<Select<service_record::Entity>>> {
    let identity = match viewer {
        Viewer::Anonymous => return Ok(None),
        _ => viewer.identity()?,
    };
    Ok(Some(filtered(identity, &RecordFilter::default())))
}

/// The records with these ids that the viewer sees (for the records loader).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn visible_records_by_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<service_record::Model>> {
    let ids = service_record::Column::Id.is_in(ids.iter().copied());
    visible_records_where(db, viewer, ids).await
}

/// The records of these units (each with its owner as the unit's row says) that the viewer
/// sees, newest first (for the loader behind `Unit.serviceRecords`). A unit whose history the
/// viewer could not see by its owner is left out before any statement (a customer looking at
/// a listed unit costs nothing); the statement checks ownership itself all the same.
#[tracing::instrument(skip_all, fields(viewer = %viewer, units = units.len()))]
pub async fn visible_records_of_units(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    units: &[(Uuid, Option<Uuid>)],
) -> AppResult<Vec<service_record::Model>> {
    let identity = match viewer {
        Viewer::Anonymous => return Ok(Vec::new()),
        _ => viewer.identity()?,
    };
    let ids: Vec<Uuid> = units
        .iter()
        .filter(|(_, owner)| may_see(identity, *owner))
        .map(|(id, _)| *id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let units = service_record::Column::UnitId.is_in(ids);
    visible_records_where(db, viewer, units).await
}

/// The records the viewer sees that meet `condition`, newest first.
async fn visible_records_where(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    condition: sea_orm::sea_query::SimpleExpr,
) -> AppResult<Vec<service_record::Model>> {
    let Some(records) = visible_records(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(records
        .filter(condition)
        .order_by_desc(service_record::Column::CreatedAt)
        .order_by_desc(service_record::Column::Id)
        .all(db)
        .await?)
}

/// How many services this technician completed in the period (for staff metrics).
#[tracing::instrument(skip_all, fields(technician = %technician))]
pub async fn completed_by(
    db: &impl ConnectionTrait,
    technician: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<u64> {
    let mut q = service_record::Entity::find()
        .filter(service_record::Column::TechnicianId.eq(technician))
        .filter(service_record::Column::Status.eq(ServiceStatus::Completed));
    if let Some(from) = from {
        q = q.filter(service_record::Column::CompletedAt.gte(day_start(from)));
    }
    if let Some(to) = to.and_then(|d| d.succ_opt()) {
        q = q.filter(service_record::Column::CompletedAt.lt(day_start(to)));
    }
    Ok(q.count(db).await?)
}

// ---------------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone)]
pub struct RecordDetails {
    pub description: Option<String>,
    pub location: Option<String>,
    pub scheduled_for: Option<NaiveDate>,
    pub cost: Option<Decimal>,
    pub technician_id: Option<Uuid>,
    pub notes: Option<String>,
}

pub struct NewRecord {
    pub unit_id: Uuid,
    pub details: RecordDetails,
    pub is_past_history: bool,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Only staff price work and assign technicians.
fn staff_fields(identity: &Identity, d: &RecordDetails) -> AppResult<()> {
    if !identity.is_staff() && (d.cost.is_some() || d.technician_id.is_some()) {
        return Err(AppError::forbidden(
            "Only staff price work or assign technicians.",
        ));
    }
    Ok(())
}

async fn apply(
    db: &impl ConnectionTrait,
    record: &mut service_record::Model,
    d: &RecordDetails,
) -> AppResult<()> {
    if let Some(v) = &d.description {
        record.description = input::required("description", v, 2000)?;
    }
    if let Some(v) = &d.location {
        record.location = input::optional("location", Some(v), 120)?;
    }
    if let Some(v) = d.scheduled_for {
        record.scheduled_for = Some(v);
    }
    if let Some(v) = d.cost {
        record.cost_cents = Some(money::cents("cost", v, false)?);
    }
    if let Some(v) = d.technician_id {
        record.technician_id = Some(accounts::staff_named_in(db, "technicianId", v).await?.id);
    }
    if let Some(v) = &d.notes {
        record.notes = input::optional("notes", Some(v), 2000)?;
    }
    Ok(())
}

/// Staff record work on any unit; customers request work (SCHEDULED) or add past history
/// (COMPLETED, done in the past) for units they own. Not for a sold or inactive unit.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_record(
    state: &AppState,
    viewer: &Viewer,
    new: NewRecord,
) -> AppResult<service_record::Model> {
    let (identity, unit) =
        units::managed_unit_named_in(&state.db, viewer, "unitId", new.unit_id).await?;
    staff_fields(&identity, &new.details)?;
    if matches!(unit.status, UnitStatus::Sold | UnitStatus::Inactive) {
        return Err(AppError::conflict_on(
            "unitId",
            "Service cannot be recorded for a sold or inactive unit.",
        ));
    }
    let Some(description) = new.details.description.as_deref() else {
        return Err(AppError::bad_input(
            "description",
            "Description is required.",
        ));
    };
    let now = clock::now();
    let (status, completed_at) = if new.is_past_history {
        let at = new.completed_at.unwrap_or(now);
        if at > now {
            return Err(AppError::bad_input(
                "completedAt",
                "Past history must have been completed in the past.",
            ));
        }
        (ServiceStatus::Completed, Some(at))
    } else {
        if new.completed_at.is_some() {
            return Err(AppError::bad_input(
                "completedAt",
                "Only past history is recorded as completed; start and complete new work instead.",
            ));
        }
        if new.details.scheduled_for.is_some_and(|d| d < state.today()) {
            return Err(AppError::bad_input(
                "scheduledFor",
                "Work cannot be scheduled in the past.",
            ));
        }
        (ServiceStatus::Scheduled, None)
    };
    let mut record = service_record::Model {
        id: Uuid::now_v7(),
        unit_id: unit.id,
        description: input::required("description", description, 2000)?,
        location: None,
        scheduled_for: None,
        completed_at,
        cost_cents: None,
        status,
        is_past_history: new.is_past_history,
        technician_id: None,
        notes: None,
        created_by: identity.user_id,
        created_at: now,
        updated_at: now,
    };
    apply(&state.db, &mut record, &new.details).await?;
    let model: service_record::ActiveModel = record.into();
    Ok(model.insert(&state.db).await?)
}

/// Staff change any record; a customer changes their own while it is SCHEDULED (not its cost or
/// technician).
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update_record(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    details: RecordDetails,
) -> AppResult<service_record::Model> {
    let (identity, mut record, _) = visible_record(&state.db, viewer, id).await?;
    staff_fields(&identity, &details)?;
    if !identity.is_staff() && record.status != ServiceStatus::Scheduled {
        return Err(AppError::conflict(format!(
            "A {} record can only be changed by staff.",
            sea_orm::ActiveEnum::to_value(&record.status)
        )));
    }
    let status = record.status;
    apply(&state.db, &mut record, &details).await?;
    record.updated_at = clock::now();
    let model = record.clone().into_active_model().reset_all();
    let result = service_record::Entity::update_many()
        .set(model)
        .filter(service_record::Column::Id.eq(id))
        .filter(service_record::Column::Status.eq(status))
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::conflict(
            "This record changed meanwhile. Reload it and try again.",
        ));
    }
    Ok(record)
}

fn transition_refused(from: ServiceStatus, to: ServiceStatus) -> AppError {
    AppError::conflict_on(
        "status",
        format!(
            "A service cannot go from {} to {}.",
            sea_orm::ActiveEnum::to_value(&from),
            sea_orm::ActiveEnum::to_value(&to)
        ),
    )
}

/// Moves a record along the transition table. Only staff start, complete or reopen work; a
/// customer may cancel their own SCHEDULED record. The unit is IN_SERVICE while any record of it
/// is IN_PROGRESS. A first completed service credits the owner's referral.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn set_status(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    to: ServiceStatus,
) -> AppResult<service_record::Model> {
    let (identity, record, _) = visible_record(&state.db, viewer, id).await?;
    let from = record.status;
    let customer_cancel = from == ServiceStatus::Scheduled && to == ServiceStatus::Cancelled;
    if !identity.is_staff() && !customer_cancel {
        if from.may_become(to) {
            return Err(AppError::forbidden(
                "Only staff start or complete service work.",
            ));
        }
        return Err(transition_refused(from, to));
    }
    if !from.may_become(to) {
        return Err(transition_refused(from, to));
    }
    let txn = state.db.begin().await?;
    let (record, outbox) = move_record(&txn, &record, to, identity.user_id).await?;
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(record)
}

/// Moves a record from the status it was read in to `to`, in the caller's transaction (a
/// transition the caller has allowed): the unit's IN_SERVICE status follows, a completed service
/// credits the owner's referral, and the owner hears of it unless `by` is the owner. `CONFLICT`
/// when the record changed status meanwhile.
#[tracing::instrument(skip_all, fields(id = %record.id, by = %by))]
pub async fn move_record(
    txn: &impl ConnectionTrait,
    record: &service_record::Model,
    to: ServiceStatus,
    by: Uuid,
) -> AppResult<(service_record::Model, Outbox)> {
    let (id, from) = (record.id, record.status);
    // The unit's lock first: its status and its records change together.
    let unit = units::lock_unit(txn, record.unit_id).await?;
    let now = clock::now();
    let mut update = service_record::Entity::update_many()
        .col_expr(service_record::Column::Status, Expr::val(to))
        .col_expr(service_record::Column::UpdatedAt, Expr::val(now));
    if to == ServiceStatus::Completed {
        update = update.col_expr(service_record::Column::CompletedAt, Expr::val(now));
    }
    let result = update
        .filter(service_record::Column::Id.eq(id))
        .filter(service_record::Column::Status.eq(from))
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        let now_status = service_record::Entity::find_by_id(id)
            .one(txn)
            .await?
            .map_or(from, |r| r.status);
        return Err(transition_refused(now_status, to));
    }
    if to == ServiceStatus::InProgress {
        units::enter_service(txn, unit.id).await?;
    } else if from == ServiceStatus::InProgress {
        let still_working = service_record::Entity::find()
            .filter(service_record::Column::UnitId.eq(unit.id))
            .filter(service_record::Column::Status.eq(ServiceStatus::InProgress))
            .count(txn)
            .await?;
        if still_working == 0 {
            units::leave_service(txn, unit.id).await?;
        }
    }
    let mut outbox = Outbox::default();
    if to == ServiceStatus::Completed {
        if let Some(owner) = unit.owner_id {
            outbox.extend(referrals::service::credit(txn, owner).await?);
        }
    }
    let record = service_record::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Service record"))?;
    // The owner hears of each change, unless they made it.
    if let Some(owner) = unit.owner_id.filter(|o| *o != by) {
        let notice = Notice {
            user_id: owner,
            kind: NotificationKind::ServiceStatusChanged,
            title: format!("Service {}", to.as_words()),
            body: format!(
                "{} {} {}: {}",
                unit.year, unit.make, unit.model, record.description
            ),
            subject: Some(("ServiceRecord", record.id)),
        };
        outbox.extend(notifications::store(txn, [notice]).await?);
    }
    Ok((record, outbox))
}

/// A SCHEDULED record for a confirmed service appointment, in the caller's transaction.
#[tracing::instrument(skip_all, fields(unit_id = %unit_id, by = %by))]
pub async fn schedule_for_booking(
    txn: &impl ConnectionTrait,
    unit_id: Uuid,
    description: &str,
    location: &str,
    day: NaiveDate,
    by: Uuid,
) -> AppResult<service_record::Model> {
    let now = clock::now();
    let record = service_record::Model {
        id: Uuid::now_v7(),
        unit_id,
        description: description.chars().take(2000).collect(),
        location: Some(location.chars().take(120).collect()),
        scheduled_for: Some(day),
        completed_at: None,
        cost_cents: None,
        status: ServiceStatus::Scheduled,
        is_past_history: false,
        technician_id: None,
        notes: None,
        created_by: by,
        created_at: now,
        updated_at: now,
    };
    let model: service_record::ActiveModel = record.into();
    Ok(model.insert(txn).await?)
}

/// Staff delete any record but one in progress; a customer deletes their own requests and past
/// history.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn delete_record(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    let (identity, record, _) = visible_record(&state.db, viewer, id).await?;
    if record.status == ServiceStatus::InProgress {
        return Err(AppError::conflict(
            "Work in progress cannot be deleted; complete or cancel it first.",
        ));
    }
    let own_kind = record.status == ServiceStatus::Scheduled
        || record.status == ServiceStatus::Cancelled
        || record.is_past_history;
    if !identity.is_staff() && !own_kind {
        return Err(AppError::forbidden(
            "Only staff delete completed workshop records.",
        ));
    }
    let result = service_record::Entity::delete_many()
        .filter(service_record::Column::Id.eq(id))
        .filter(service_record::Column::Status.ne(ServiceStatus::InProgress))
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::conflict(
            "Work in progress cannot be deleted; complete or cancel it first.",
        ));
    }
    Ok(true)
}

/// The unit a service record belongs to, if the record exists.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn unit_of_record(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(service_record::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| r.unit_id))
}

/// A record by id, whoever may see it (for another domain's transaction that already checked).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn record_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<service_record::Model>> {
    Ok(service_record::Entity::find_by_id(id).one(db).await?)
}
