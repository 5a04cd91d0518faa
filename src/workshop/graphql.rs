//! The GraphQL face of the workshop: `ServiceRecord`, its inputs, queries and mutations.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::entity::{service_record, ServiceStatus};
use super::loaders::{RecordUnits, Technicians};
use super::service::{self, NewRecord, RecordDetails, RecordFilter};
use crate::accounts::graphql::User;
use crate::accounts::loaders::{UserId, Users};
use crate::error::AppError;
use crate::graphql::pagination::{self, Page};
use crate::graphql::{loader, parse_id, parse_optional_id, state, to_id, viewer};
use crate::money;
use crate::paging::PageArgs;
use crate::units::graphql::Unit;
use crate::units::loaders::{UnitId, Units};

pub struct ServiceRecord(pub service_record::Model);

/// A piece of workshop work on a unit: requested, in progress, done or called off.
#[Object]
impl ServiceRecord {
    /// The record's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The unit worked on.
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        loader::<Units<RecordUnits>>(ctx)?
            .load_one(UnitId(self.0.unit_id))
            .await?
            .map(Unit::new)
            .ok_or_else(|| AppError::not_found("Unit").into())
    }
    /// What is (to be) done.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Where the work happens.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// The day the work is planned for.
    async fn scheduled_for(&self) -> Option<NaiveDate> {
        self.0.scheduled_for
    }
    /// When it was completed.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// Price of the work.
    async fn cost(&self) -> Option<Decimal> {
        self.0.cost_cents.map(money::decimal)
    }
    /// Where the work stands.
    async fn status(&self) -> ServiceStatus {
        self.0.status
    }
    /// True for work done elsewhere or earlier, recorded for the unit's history.
    async fn is_past_history(&self) -> bool {
        self.0.is_past_history
    }
    /// The staff member doing the work.
    async fn technician(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.technician_id else {
            return Ok(None);
        };
        Ok(loader::<Users<Technicians>>(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User::from))
    }
    /// Free notes.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// Who recorded it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<User> {
        loader::<Users>(ctx)?
            .load_one(UserId(self.0.created_by))
            .await?
            .map(User::from)
            .ok_or_else(|| AppError::not_found("User").into())
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Narrows `serviceRecords`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct ServiceRecordFilter {
    /// Records of this unit.
    unit_id: Option<ID>,
    /// Any of these statuses.
    statuses: Option<Vec<ServiceStatus>>,
    /// Recorded on or after this day.
    from: Option<NaiveDate>,
    /// Recorded on or before this day.
    to: Option<NaiveDate>,
}

/// New workshop work, or past history.
#[derive(InputObject)]
pub struct CreateServiceRecordInput {
    /// The unit (the customer's own, or any for staff).
    unit_id: ID,
    /// What is to be done.
    description: String,
    /// Where.
    location: Option<String>,
    /// The planned day (today or later).
    scheduled_for: Option<NaiveDate>,
    /// Price (staff only), 0 or more.
    cost: Option<Decimal>,
    /// Work done earlier: recorded as COMPLETED.
    is_past_history: Option<bool>,
    /// When past work was completed (not in the future); defaults to now.
    completed_at: Option<DateTime<Utc>>,
    /// The staff member doing it (staff only).
    technician_id: Option<ID>,
    /// Free notes.
    notes: Option<String>,
}

/// Changes to a record; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateServiceRecordInput {
    /// What is to be done.
    description: Option<String>,
    /// Where.
    location: Option<String>,
    /// The planned day.
    scheduled_for: Option<NaiveDate>,
    /// Price (staff only).
    cost: Option<Decimal>,
    /// The staff member doing it (staff only).
    technician_id: Option<ID>,
    /// Free notes.
    notes: Option<String>,
}

impl TryFrom<ServiceRecordFilter> for RecordFilter {
    type Error = AppError;

    fn try_from(f: ServiceRecordFilter) -> Result<Self, AppError> {
        Ok(Self {
            unit_id: parse_optional_id("unitId", f.unit_id.as_ref())?,
            statuses: f.statuses,
            from: f.from,
            to: f.to,
        })
    }
}

impl TryFrom<CreateServiceRecordInput> for NewRecord {
    type Error = AppError;

    fn try_from(i: CreateServiceRecordInput) -> Result<Self, AppError> {
        Ok(Self {
            unit_id: parse_id("unitId", &i.unit_id)?,
            details: RecordDetails {
                description: Some(i.description),
                location: i.location,
                scheduled_for: i.scheduled_for,
                cost: i.cost,
                technician_id: parse_optional_id("technicianId", i.technician_id.as_ref())?,
                notes: i.notes,
            },
            is_past_history: i.is_past_history.unwrap_or(false),
            completed_at: i.completed_at,
        })
    }
}

impl TryFrom<UpdateServiceRecordInput> for RecordDetails {
    type Error = AppError;

    fn try_from(i: UpdateServiceRecordInput) -> Result<Self, AppError> {
        Ok(Self {
            description: i.description,
            location: i.location,
            scheduled_for: i.scheduled_for,
            cost: i.cost,
            technician_id: parse_optional_id("technicianId", i.technician_id.as_ref())?,
            notes: i.notes,
        })
    }
}

#[derive(Default)]
pub struct WorkshopQuery;

#[Object]
impl WorkshopQuery {
    /// One record; null when missing or not visible (customers see their units' records).
    async fn service_record(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ServiceRecord>> {
        let id = parse_id("id", &id)?;
        Ok(service::record(state(ctx)?, viewer(ctx)?, id)
            .await?
            .map(ServiceRecord))
    }

    /// Records the viewer sees, newest first.
    async fn service_records(
        &self,
        ctx: &Context<'_>,
        filter: Option<ServiceRecordFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<ServiceRecord>> {
        let filter = RecordFilter::try_from(filter.unwrap_or_default())?;
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let (slice, total) = service::list_records(
            state(ctx)?,
            viewer(ctx)?,
            &filter,
            &args,
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, ServiceRecord))
    }
}

#[derive(Default)]
pub struct WorkshopMutation;

#[Object]
impl WorkshopMutation {
    /// Records work: a SCHEDULED request, or COMPLETED past history.
    async fn create_service_record(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceRecordInput,
    ) -> Result<ServiceRecord> {
        let new = NewRecord::try_from(input)?;
        Ok(ServiceRecord(
            service::create_record(state(ctx)?, viewer(ctx)?, new).await?,
        ))
    }

    /// Changes a record (staff; or its customer while SCHEDULED).
    async fn update_service_record(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateServiceRecordInput,
    ) -> Result<ServiceRecord> {
        let id = parse_id("id", &id)?;
        let details = RecordDetails::try_from(input)?;
        Ok(ServiceRecord(
            service::update_record(state(ctx)?, viewer(ctx)?, id, details).await?,
        ))
    }

    /// Moves a record along SCHEDULED → IN_PROGRESS → COMPLETED (or → CANCELLED).
    async fn set_service_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ServiceStatus,
    ) -> Result<ServiceRecord> {
        let id = parse_id("id", &id)?;
        Ok(ServiceRecord(
            service::set_status(state(ctx)?, viewer(ctx)?, id, status).await?,
        ))
    }

    /// Deletes a record that is not in progress.
    async fn delete_service_record(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete_record(state(ctx)?, viewer(ctx)?, id).await?)
    }
}
