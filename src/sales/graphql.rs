//! The GraphQL face of sales: `Sale`, the summary, staff metrics, and the sale mutations.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::entity::{sale, PaymentMethod};
use super::loaders::{SaleId, Salespeople, SoldUnits};
use super::service::{self, NewSale, Period as ServicePeriod, SaleDetails, SaleFilter as Filter};
use crate::accounts::graphql::User;
use crate::accounts::loaders::{Direct, Lane, UserId, Users};
use crate::error::AppError;
use crate::graphql::pagination::{self, Page};
use crate::graphql::{loader, parse_id, parse_optional_id, state, to_id, viewer};
use crate::money;
use crate::paging::PageArgs;
use crate::payments::graphql::{self as payments, Payment};
use crate::payments::types::Subject;
use crate::units::graphql::Unit;
use crate::units::loaders::UnitId;

pub struct Sale(pub sale::Model);

async fn user_of<L: Lane>(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> Result<Option<User>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(loader::<Users<L>>(ctx)?
        .load_one(UserId(id))
        .await?
        .map(User::from))
}

/// A recorded sale of a unit: a dealership sale by staff, or a customer's private sale.
#[Object]
impl Sale {
    /// The sale's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The unit sold.
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        loader::<SoldUnits>(ctx)?
            .load_one((SaleId(self.0.id), UnitId(self.0.unit_id)))
            .await?
            .map(Unit::new)
            .ok_or_else(|| AppError::not_found("Unit").into())
    }
    /// Price paid.
    async fn price(&self) -> Decimal {
        money::decimal(self.0.price_cents)
    }
    /// The day of the sale.
    async fn sold_on(&self) -> NaiveDate {
        self.0.sold_on
    }
    /// The buyer's name as recorded.
    async fn buyer_name(&self) -> &str {
        &self.0.buyer_name
    }
    /// The buyer's email.
    async fn buyer_email(&self) -> Option<&str> {
        self.0.buyer_email.as_deref()
    }
    /// The buyer's phone.
    async fn buyer_phone(&self) -> Option<&str> {
        self.0.buyer_phone.as_deref()
    }
    /// The buyer's account, when they have one.
    async fn buyer(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_of::<Direct>(ctx, self.0.buyer_id).await
    }
    /// How the buyer paid.
    async fn payment_method(&self) -> PaymentMethod {
        self.0.payment_method
    }
    /// Free notes.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// Its payments the viewer sees (staff: all; the buyer: theirs), oldest first.
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        payments::payments_of(ctx, Subject::Sale(self.0.id)).await
    }
    /// Received and kept: its payments less their refunds.
    async fn amount_paid(&self, ctx: &Context<'_>) -> Result<Decimal> {
        let totals = payments::totals_of(ctx, Subject::Sale(self.0.id)).await?;
        Ok(money::decimal(totals.paid_cents))
    }
    /// The staff member credited with the sale; null for a private sale.
    async fn salesperson(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_of::<Salespeople>(ctx, self.0.salesperson_id).await
    }
    /// Commission rate kept from the time of the sale (0.02 = 2%); null for a private sale.
    async fn commission_rate(&self) -> Option<Decimal> {
        self.0
            .commission_rate_bp
            .map(|bp| Decimal::new(i64::from(bp), 4))
    }
    /// Price × rate, rounded to the cent; null for a private sale.
    async fn commission_amount(&self) -> Option<Decimal> {
        self.0.commission_cents.map(money::decimal)
    }
    /// Who recorded it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_of::<Direct>(ctx, Some(self.0.created_by)).await
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

/// The length of a `salesSummary` bucket.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One day.
    Day,
    /// Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

/// Sales of one period.
#[derive(SimpleObject)]
pub struct SalesBucket {
    /// The period's first day.
    period_start: NaiveDate,
    /// Sales in the period.
    count: i32,
    /// Their total price.
    revenue: Decimal,
}

/// Sales in a date range, in total and per period.
#[derive(SimpleObject)]
pub struct SalesSummary {
    /// Sales in the range.
    count: i32,
    /// Their total price.
    revenue: Decimal,
    /// Mean price; null without sales.
    average_price: Option<Decimal>,
    /// Commissions earned.
    commission_total: Decimal,
    /// One per period of the range, oldest first, empty periods included.
    buckets: Vec<SalesBucket>,
}

/// One staff member's performance in a period.
#[derive(SimpleObject)]
pub struct StaffMetrics {
    /// The staff member.
    user: User,
    /// Sales credited to them.
    sales_count: i32,
    /// Total price of those sales.
    revenue: Decimal,
    /// Their commissions.
    commission_total: Decimal,
    /// Services they completed as technician.
    services_completed: i32,
    /// Bookings they handled (bookings are not recorded yet: 0).
    bookings_handled: i32,
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Narrows `sales`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct SaleFilter {
    /// Sold on or after this day.
    from: Option<NaiveDate>,
    /// Sold on or before this day.
    to: Option<NaiveDate>,
    /// Credited to this staff member.
    salesperson_id: Option<ID>,
    /// Of this unit.
    unit_id: Option<ID>,
}

/// A sale to record.
#[derive(InputObject)]
pub struct RecordSaleInput {
    /// The unit sold (ACTIVE: not sold, inactive or in service).
    unit_id: ID,
    /// Price, greater than zero.
    price: Decimal,
    /// The day of the sale (not in the future).
    sold_on: NaiveDate,
    /// The buyer's name.
    buyer_name: String,
    /// The buyer's email.
    buyer_email: Option<String>,
    /// The buyer's phone.
    buyer_phone: Option<String>,
    /// The buyer's account, if they have one.
    buyer_id: Option<ID>,
    /// How the buyer paid.
    payment_method: PaymentMethod,
    /// Free notes.
    notes: Option<String>,
    /// Staff: who is credited (defaults to the recorder). Not for private sales.
    salesperson_id: Option<ID>,
}

/// Corrections to a sale; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateSaleInput {
    /// Price, greater than zero (the commission follows at the sale's rate).
    price: Option<Decimal>,
    /// The day of the sale.
    sold_on: Option<NaiveDate>,
    /// The buyer's name.
    buyer_name: Option<String>,
    /// The buyer's email.
    buyer_email: Option<String>,
    /// The buyer's phone.
    buyer_phone: Option<String>,
    /// The buyer's account.
    buyer_id: Option<ID>,
    /// How the buyer paid.
    payment_method: Option<PaymentMethod>,
    /// Free notes.
    notes: Option<String>,
}

impl TryFrom<SaleFilter> for Filter {
    type Error = AppError;

    fn try_from(f: SaleFilter) -> Result<Self, AppError> {
        Ok(Self {
            from: f.from,
            to: f.to,
            salesperson_id: parse_optional_id("salespersonId", f.salesperson_id.as_ref())?,
            unit_id: parse_optional_id("unitId", f.unit_id.as_ref())?,
        })
    }
}

impl From<Period> for ServicePeriod {
    fn from(period: Period) -> Self {
        match period {
            Period::Day => Self::Day,
            Period::Week => Self::Week,
            Period::Month => Self::Month,
        }
    }
}

impl TryFrom<RecordSaleInput> for NewSale {
    type Error = AppError;

    fn try_from(i: RecordSaleInput) -> Result<Self, AppError> {
        Ok(Self {
            unit_id: parse_id("unitId", &i.unit_id)?,
            salesperson_id: parse_optional_id("salespersonId", i.salesperson_id.as_ref())?,
            details: SaleDetails {
                price: Some(i.price),
                sold_on: Some(i.sold_on),
                buyer_name: Some(i.buyer_name),
                buyer_email: i.buyer_email,
                buyer_phone: i.buyer_phone,
                buyer_id: parse_optional_id("buyerId", i.buyer_id.as_ref())?,
                payment_method: Some(i.payment_method),
                notes: i.notes,
            },
        })
    }
}

impl TryFrom<UpdateSaleInput> for SaleDetails {
    type Error = AppError;

    fn try_from(i: UpdateSaleInput) -> Result<Self, AppError> {
        Ok(Self {
            price: i.price,
            sold_on: i.sold_on,
            buyer_name: i.buyer_name,
            buyer_email: i.buyer_email,
            buyer_phone: i.buyer_phone,
            buyer_id: parse_optional_id("buyerId", i.buyer_id.as_ref())?,
            payment_method: i.payment_method,
            notes: i.notes,
        })
    }
}

#[derive(Default)]
pub struct SalesQuery;

#[Object]
impl SalesQuery {
    /// One sale; null when missing or not visible (customers see sales of their units and their
    /// purchases).
    async fn sale(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Sale>> {
        let id = parse_id("id", &id)?;
        Ok(service::sale(state(ctx)?, viewer(ctx)?, id)
            .await?
            .map(Sale))
    }

    /// Sales the viewer sees, newest first by day of sale.
    async fn sales(
        &self,
        ctx: &Context<'_>,
        filter: Option<SaleFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<Sale>> {
        let filter = Filter::try_from(filter.unwrap_or_default())?;
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let (slice, total) = service::list_sales(
            state(ctx)?,
            viewer(ctx)?,
            &filter,
            &args,
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, Sale))
    }

    /// Sales between two days (inclusive) in total and per period (staff).
    async fn sales_summary(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        group_by: Period,
    ) -> Result<SalesSummary> {
        let period = ServicePeriod::from(group_by);
        let s = service::sales_summary(state(ctx)?, viewer(ctx)?, from, to, period).await?;
        Ok(SalesSummary {
            count: int(s.count),
            revenue: money::decimal(s.revenue_cents),
            average_price: s.average_price(),
            commission_total: money::decimal(s.commission_cents),
            buckets: s
                .buckets
                .into_iter()
                .map(|b| SalesBucket {
                    period_start: b.period_start,
                    count: int(b.count),
                    revenue: money::decimal(b.revenue_cents),
                })
                .collect(),
        })
    }

    /// A staff member's sales and completed services, optionally between two days (an
    /// administrator, or the staff member themselves).
    async fn staff_metrics(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<StaffMetrics> {
        let user_id = parse_id("userId", &user_id)?;
        let m = service::staff_metrics(state(ctx)?, viewer(ctx)?, user_id, from, to).await?;
        Ok(StaffMetrics {
            user: User::from(m.user),
            sales_count: int(m.sales_count),
            revenue: money::decimal(m.revenue_cents),
            commission_total: money::decimal(m.commission_cents),
            services_completed: int(m.services_completed),
            bookings_handled: int(m.bookings_handled),
        })
    }
}

#[derive(Default)]
pub struct SalesMutation;

#[Object]
impl SalesMutation {
    /// Records a sale: the unit becomes SOLD and unlisted. A unit sells once.
    async fn record_sale(&self, ctx: &Context<'_>, input: RecordSaleInput) -> Result<Sale> {
        let new = NewSale::try_from(input)?;
        Ok(Sale(
            service::record_sale(state(ctx)?, viewer(ctx)?, new).await?,
        ))
    }

    /// Corrects a sale (staff; or the customer who recorded a private sale).
    async fn update_sale(&self, ctx: &Context<'_>, id: ID, input: UpdateSaleInput) -> Result<Sale> {
        let id = parse_id("id", &id)?;
        let details = SaleDetails::try_from(input)?;
        Ok(Sale(
            service::update_sale(state(ctx)?, viewer(ctx)?, id, details).await?,
        ))
    }

    /// Deletes a sale (admin); the unit returns to ACTIVE.
    async fn delete_sale(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete_sale(state(ctx)?, viewer(ctx)?, id).await?)
    }
}
