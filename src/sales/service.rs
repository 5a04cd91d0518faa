//! The rules of sales: who records which sale, the one-sale-per-unit guarantee,
//! commission, the summary and staff metrics; and the referral credit of a first purchase.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, QueryTrait, Select, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{sale, PaymentMethod};
use crate::accounts::service::{self as accounts, Person};
use crate::accounts::types::{Email, Phone};
use crate::accounts::Role;
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
use crate::workshop::service as workshop;

/// Sales newest first by the day of sale.
pub fn sale_sort() -> Sort {
    Sort::new(
        "SALE_SOLD_ON_DESC",
        Expr::col((sale::Entity, sale::Column::SoldOn)),
        KeyKind::Date,
        Expr::col((sale::Entity, sale::Column::Id)),
        true,
    )
}

fn sale_key(s: &sale::Model) -> (i64, Uuid) {
    (paging::date_key(s.sold_on), s.id)
}

/// Staff see every sale; a customer the sales of their units and their own purchases.
fn may_see(identity: &Identity, sale: &sale::Model, unit_owner: Option<Uuid>) -> bool {
    identity.is_staff()
        || sale.buyer_id == Some(identity.user_id)
        || unit_owner == Some(identity.user_id)
}

async fn visible_sale(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(Identity, sale::Model, Option<unit::Model>)> {
    let identity = viewer.identity()?.clone();
    let sale = sale::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Sale"))?;
    let unit = units::units_by_id(db, &[sale.unit_id])
        .await?
        .into_iter()
        .next();
    if !may_see(&identity, &sale, unit.as_ref().and_then(|u| u.owner_id)) {
        return Err(AppError::not_found("Sale"));
    }
    Ok((identity, sale, unit))
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn sale(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Option<sale::Model>> {
    match visible_sale(&state.db, viewer, id).await {
        Ok((_, sale, _)) => Ok(Some(sale)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

#[derive(Default, Clone)]
pub struct SaleFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub salesperson_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
}

fn filtered(identity: &Identity, filter: &SaleFilter) -> Select<sale::Entity> {
    let mut q = sale::Entity::find();
    if !identity.is_staff() {
        q = q.filter(
            Condition::any()
                .add(sale::Column::BuyerId.eq(identity.user_id))
                .add(
                    Expr::col((sale::Entity, sale::Column::UnitId))
                        .in_subquery(units::ids_owned_by(identity.user_id)),
                ),
        );
    }
    if let Some(v) = filter.from {
        q = q.filter(sale::Column::SoldOn.gte(v));
    }
    if let Some(v) = filter.to {
        q = q.filter(sale::Column::SoldOn.lte(v));
    }
    if let Some(v) = filter.salesperson_id {
        q = q.filter(sale::Column::SalespersonId.eq(v));
    }
    if let Some(v) = filter.unit_id {
        q = q.filter(sale::Column::UnitId.eq(v));
    }
    q
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_sales(
    state: &AppState,
    viewer: &Viewer,
    filter: &SaleFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<sale::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    sale_sort()
        .page(
            &state.db,
            filtered(identity, filter),
            args,
            with_total,
            sale_key,
        )
        .await
}

/// The sales the viewer sees (staff: all; customers: their purchases and their units' sales;
/// anyone else: none), as a query to narrow further; `None` when the viewer sees none.
fn visible_sales(viewer: &Viewer) -> AppResult<Option<Select<sale::Entity>>> {
    let identity = match viewer {
        Viewer::Anonymous => return Ok(None),
        _ => viewer.identity()?,
    };
    Ok(Some(filtered(identity, &SaleFilter::default())))
}

/// The sales with these ids that the viewer sees (for the sales loader).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn visible_sales_by_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<sale::Model>> {
    let Some(sales) = visible_sales(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(sales
        .filter(sale::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The sales of these units that the viewer sees (for the loader behind `Unit.sale`).
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_ids = unit_ids.len()))]
pub async fn visible_sales_of_units(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    unit_ids: &[Uuid],
) -> AppResult<Vec<sale::Model>> {
    let Some(sales) = visible_sales(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(sales
        .filter(sale::Column::UnitId.is_in(unit_ids.iter().copied()))
        .all(db)
        .await?)
}

/// The units of those of these sales the viewer sees: a sale shows its unit to whoever sees the
/// sale (its buyer, after the unit left the showroom). One statement.
#[tracing::instrument(skip_all, fields(viewer = %viewer, sale_ids = sale_ids.len()))]
pub async fn units_of_visible_sales(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    sale_ids: &[Uuid],
) -> AppResult<Vec<unit::Model>> {
    let Some(sales) = visible_sales(viewer)? else {
        return Ok(Vec::new());
    };
    let unit_ids = sales
        .filter(sale::Column::Id.is_in(sale_ids.iter().copied()))
        .select_only()
        .column(sale::Column::UnitId)
        .into_query();
    units::units_selected_by(db, unit_ids).await
}

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone)]
pub struct SaleDetails {
    pub price: Option<Decimal>,
    pub sold_on: Option<NaiveDate>,
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
    pub buyer_phone: Option<String>,
    pub buyer_id: Option<Uuid>,
    pub payment_method: Option<PaymentMethod>,
    pub notes: Option<String>,
}

pub struct NewSale {
    pub unit_id: Uuid,
    pub details: SaleDetails,
    pub salesperson_id: Option<Uuid>,
}

async fn apply(
    db: &impl ConnectionTrait,
    sale: &mut sale::Model,
    d: &SaleDetails,
) -> AppResult<()> {
    if let Some(v) = d.price {
        sale.price_cents = money::cents("price", v, true)?;
        if let Some(rate) = sale.commission_rate_bp {
            sale.commission_cents = Some(money::share(sale.price_cents, rate));
        }
    }
    if let Some(v) = d.sold_on {
        if v > clock::now().date_naive() {
            return Err(AppError::bad_input(
                "soldOn",
                "A sale cannot be dated in the future.",
            ));
        }
        sale.sold_on = v;
    }
    if let Some(v) = &d.buyer_name {
        sale.buyer_name = input::required("buyerName", v, 200)?;
    }
    if let Some(v) = &d.buyer_email {
        sale.buyer_email = match input::optional("buyerEmail", Some(v), 254)? {
            Some(e) => Some(Email::parse("buyerEmail", &e)?.as_str().to_string()),
            None => None,
        };
    }
    if let Some(v) = &d.buyer_phone {
        sale.buyer_phone = match input::optional("buyerPhone", Some(v), 32)? {
            Some(p) => Some(Phone::parse("buyerPhone", &p)?.as_str().to_string()),
            None => None,
        };
    }
    if let Some(v) = d.buyer_id {
        sale.buyer_id = Some(accounts::user_named_in(db, "buyerId", v).await?.id);
    }
    if let Some(v) = d.payment_method {
        sale.payment_method = v;
    }
    if let Some(v) = &d.notes {
        sale.notes = input::optional("notes", Some(v), 2000)?;
    }
    Ok(())
}

/// A purchase credits the buyer's referral, unless they bought their own unit or recorded the
/// sale themselves.
async fn credit_buyer(
    db: &impl ConnectionTrait,
    sale: &sale::Model,
    unit: &unit::Model,
) -> AppResult<Outbox> {
    match sale.buyer_id {
        Some(buyer) if unit.owner_id != Some(buyer) && sale.created_by != buyer => {
            referrals::service::credit(db, buyer).await
        }
        _ => Ok(Outbox::default()),
    }
}

/// The unit's owner and the salesperson hear of a sale, unless they recorded it.
fn sale_notices(sale: &sale::Model, unit: &unit::Model) -> Vec<Notice> {
    let mut told = vec![sale.created_by];
    let mut notices = Vec::new();
    for user_id in [unit.owner_id, sale.salesperson_id].into_iter().flatten() {
        if told.contains(&user_id) {
            continue;
        }
        told.push(user_id);
        notices.push(Notice {
            user_id,
            kind: NotificationKind::SaleRecorded,
            title: "Sale recorded".to_string(),
            body: format!(
                "{} {} {} ({}) was sold on {}.",
                unit.year, unit.make, unit.model, unit.vin, sale.sold_on
            ),
            subject: Some(("Sale", sale.id)),
        });
    }
    notices
}

fn already_sold() -> AppError {
    AppError::conflict_on("unitId", "This unit is already sold.")
}

/// Staff record dealership sales (salesperson defaults to the recorder, commission at the
/// configured rate); a customer records the private sale of a unit they own (no salesperson, no
/// commission). In one transaction the unit becomes SOLD and unlisted; a unit sells once.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn record_sale(
    state: &AppState,
    viewer: &Viewer,
    new: NewSale,
) -> AppResult<sale::Model> {
    let (identity, unit) =
        units::managed_unit_named_in(&state.db, viewer, "unitId", new.unit_id).await?;
    let (salesperson, rate) = if identity.is_staff() {
        let salesperson = match new.salesperson_id {
            Some(id) => {
                accounts::staff_named_in(&state.db, "salespersonId", id)
                    .await?
                    .id
            }
            None => identity.user_id,
        };
        (Some(salesperson), Some(state.config.commission_rate_bp))
    } else {
        if new.salesperson_id.is_some() {
            return Err(AppError::forbidden("A private sale has no salesperson."));
        }
        (None, None)
    };
    let d = &new.details;
    let (Some(price), Some(sold_on), Some(buyer_name), Some(payment_method)) = (
        d.price,
        d.sold_on,
        d.buyer_name.as_deref(),
        d.payment_method,
    ) else {
        return Err(AppError::bad_input(
            "price",
            "Price, sale date, buyer name and payment method are required.",
        ));
    };
    let price_cents = money::cents("price", price, true)?;
    let now = clock::now();
    let mut sale = sale::Model {
        id: Uuid::now_v7(),
        unit_id: unit.id,
        price_cents,
        sold_on,
        buyer_name: input::required("buyerName", buyer_name, 200)?,
        buyer_email: None,
        buyer_phone: None,
        buyer_id: None,
        payment_method,
        notes: None,
        salesperson_id: salesperson,
        commission_rate_bp: rate,
        commission_cents: rate.map(|r| money::share(price_cents, r)),
        created_by: identity.user_id,
        created_at: now,
        updated_at: now,
    };
    apply(&state.db, &mut sale, d).await?;
    if unit.status == UnitStatus::Sold {
        return Err(already_sold());
    }

    let txn = state.db.begin().await?;
    // First statement a write: the unit goes ACTIVE → SOLD only once, whoever races.
    units::mark_sold(&txn, unit.id).await?;
    let model: sale::ActiveModel = sale.clone().into();
    let sale = match model.insert(&txn).await {
        Ok(sale) => sale,
        Err(err) => {
            return Err(match AppError::from(err) {
                AppError::Conflict { .. } => already_sold(),
                other => other,
            })
        }
    };
    let mut outbox = credit_buyer(&txn, &sale, &unit).await?;
    outbox.extend(notifications::store(&txn, sale_notices(&sale, &unit)).await?);
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(sale)
}

/// Staff correct any sale; a customer corrects their own private sale.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update_sale(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    details: SaleDetails,
) -> AppResult<sale::Model> {
    let (identity, mut sale, unit) = visible_sale(&state.db, viewer, id).await?;
    let own_private = sale.salesperson_id.is_none() && sale.created_by == identity.user_id;
    if !identity.is_staff() && !own_private {
        return Err(AppError::forbidden("Only staff change dealership sales."));
    }
    apply(&state.db, &mut sale, &details).await?;
    sale.updated_at = clock::now();
    let txn = state.db.begin().await?;
    let saved = sale
        .clone()
        .into_active_model()
        .reset_all()
        .update(&txn)
        .await?;
    let outbox = match &unit {
        Some(unit) => credit_buyer(&txn, &saved, unit).await?,
        None => Outbox::default(),
    };
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(saved)
}

/// An admin deletes a sale; the unit returns to ACTIVE (a referral credit it earned stays).
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn delete_sale(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    viewer.admin()?;
    let txn = state.db.begin().await?;
    let Some(sale) = sale::Entity::find_by_id(id).one(&txn).await? else {
        return Err(AppError::not_found("Sale"));
    };
    units::lock_unit(&txn, sale.unit_id).await?;
    let result = sale::Entity::delete_by_id(id).exec(&txn).await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("Sale"));
    }
    units::unmark_sold(&txn, sale.unit_id).await?;
    txn.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Summary and metrics
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

/// The first day of the period that holds `d` (weeks start on Monday).
pub fn period_start(period: Period, d: NaiveDate) -> NaiveDate {
    match period {
        Period::Day => d,
        Period::Week => d - Days::new(u64::from(d.weekday().num_days_from_monday())),
        Period::Month => d.with_day(1).unwrap_or(d),
    }
}

fn next_period(period: Period, d: NaiveDate) -> Option<NaiveDate> {
    match period {
        Period::Day => d.checked_add_days(Days::new(1)),
        Period::Week => d.checked_add_days(Days::new(7)),
        Period::Month => d.checked_add_months(Months::new(1)),
    }
}

pub struct Bucket {
    pub period_start: NaiveDate,
    pub count: i64,
    pub revenue_cents: i64,
}

pub struct Summary {
    pub count: i64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
    pub buckets: Vec<Bucket>,
}

impl Summary {
    /// Mean price rounded to the cent; none without sales.
    pub fn average_price(&self) -> Option<Decimal> {
        (self.count > 0)
            .then(|| (money::decimal(self.revenue_cents) / Decimal::from(self.count)).round_dp(2))
    }
}

const MAX_BUCKETS: usize = 1000;

/// Sales in `[from, to]` with one bucket per period in the range (empty ones included, so a chart
/// has no gaps). Staff only.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn sales_summary(
    state: &AppState,
    viewer: &Viewer,
    from: NaiveDate,
    to: NaiveDate,
    period: Period,
) -> AppResult<Summary> {
    viewer.staff()?;
    if to < from {
        return Err(AppError::bad_input(
            "to",
            "The end date comes before the start date.",
        ));
    }
    let mut buckets: BTreeMap<NaiveDate, Bucket> = BTreeMap::new();
    let mut start = Some(period_start(period, from));
    while let Some(s) = start.filter(|s| *s <= to) {
        if buckets.len() >= MAX_BUCKETS {
            return Err(AppError::bad_input(
                "groupBy",
                format!(
                    "At most {MAX_BUCKETS} periods; choose a longer period or a shorter range."
                ),
            ));
        }
        buckets.insert(
            s,
            Bucket {
                period_start: s,
                count: 0,
                revenue_cents: 0,
            },
        );
        start = next_period(period, s);
    }
    // Added up by the database, one row per day with sales; days fall into periods here.
    let days: Vec<(i64, i64, i64, NaiveDate)> = totals(
        sale::Entity::find()
            .filter(sale::Column::SoldOn.gte(from))
            .filter(sale::Column::SoldOn.lte(to)),
    )
    .column(sale::Column::SoldOn)
    .group_by(sale::Column::SoldOn)
    .into_tuple()
    .all(&state.db)
    .await?;
    let mut summary = Summary {
        count: 0,
        revenue_cents: 0,
        commission_cents: 0,
        buckets: Vec::new(),
    };
    for (count, revenue, commission, day) in days {
        summary.count += count;
        summary.revenue_cents += revenue;
        summary.commission_cents += commission;
        if let Some(b) = buckets.get_mut(&period_start(period, day)) {
            b.count += count;
            b.revenue_cents += revenue;
        }
    }
    summary.buckets = buckets.into_values().collect();
    Ok(summary)
}

/// The count, revenue and commission of the query's sales, summed by the database (as BIGINT:
/// PostgreSQL's SUM of a BIGINT is NUMERIC). Other columns (a GROUP BY key) come after.
fn totals(query: Select<sale::Entity>) -> Select<sale::Entity> {
    let sum = |c: sale::Column| {
        Expr::cust(format!(
            "CAST(COALESCE(SUM({}), 0) AS BIGINT)",
            sea_orm::IdenStatic::as_str(&c)
        ))
    };
    query
        .select_only()
        .column_as(Expr::col(sale::Column::Id).count(), "count")
        .column_as(sum(sale::Column::PriceCents), "revenue")
        .column_as(sum(sale::Column::CommissionCents), "commission")
}

pub struct StaffMetrics {
    pub user: Person,
    pub sales_count: i64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
    pub services_completed: i64,
    pub bookings_handled: i64,
}

/// One staff member's sales and completed services in the period. Admins see anyone's; a staff
/// member sees their own.
#[tracing::instrument(skip_all, fields(viewer = %viewer, user_id = %user_id))]
pub async fn staff_metrics(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<StaffMetrics> {
    let identity = viewer.staff()?;
    if identity.role != Role::Admin && identity.user_id != user_id {
        return Err(AppError::forbidden(
            "Staff see their own metrics; an administrator sees everyone's.",
        ));
    }
    let user = accounts::staff_member(&state.db, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("Staff member"))?;
    let filter = SaleFilter {
        from,
        to,
        salesperson_id: Some(user_id),
        unit_id: None,
    };
    let (sales_count, revenue_cents, commission_cents): (i64, i64, i64) =
        totals(filtered(identity, &filter))
            .into_tuple()
            .one(&state.db)
            .await?
            .unwrap_or_default();
    let services = workshop::completed_by(&state.db, user_id, from, to).await?;
    Ok(StaffMetrics {
        user: Person::seen_by(viewer, user),
        sales_count,
        revenue_cents,
        commission_cents,
        services_completed: i64::try_from(services).unwrap_or(i64::MAX),
        bookings_handled: 0,
    })
}

/// The unit and the buyer of a sale, if the sale exists.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn sale_parties(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<(Uuid, Option<Uuid>)>> {
    Ok(sale::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|s| (s.unit_id, s.buyer_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_the_first_day_monday_or_the_first() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 19).expect("date"); // a Thursday
        assert_eq!(period_start(Period::Day, d), d);
        assert_eq!(
            period_start(Period::Week, d),
            NaiveDate::from_ymd_opt(2026, 11, 16).expect("date")
        );
        assert_eq!(
            period_start(Period::Month, d),
            NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
        );
    }
}
