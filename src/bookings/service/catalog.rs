//! The service catalog: categories, offerings and their prices per make and model, and the one
//! pricing function of service appointments. Everyone reads it; staff change it.

use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, IntoActiveModel, PaginatorTrait, TransactionTrait};

use super::*;
use crate::bookings::entity::{booking, category, model_price};
use crate::clock;
use crate::input;
use crate::money;
use crate::offers::service as offers;
use crate::search;

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_category(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    description: Option<&str>,
) -> AppResult<category::Model> {
    viewer.staff()?;
    let row = category::Model {
        id: Uuid::now_v7(),
        name: input::required("name", name, 120)?,
        description: input::optional("description", description, 2000)?,
        created_at: clock::now(),
    };
    let active: category::ActiveModel = row.into();
    Ok(active.insert(&state.db).await?)
}

#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn categories_by_id(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The offerings a viewer may pick from: active ones, and for staff the inactive too.
fn catalog_for(viewer: &Viewer) -> Select<offering::Entity> {
    let query = offering::Entity::find()
        .order_by_asc(offering::Column::Name)
        .order_by_asc(offering::Column::Id);
    if viewer.is_staff() {
        query
    } else {
        query.filter(offering::Column::IsActive.eq(true))
    }
}

/// The catalog (of one category when given), by name.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn catalog(
    state: &AppState,
    viewer: &Viewer,
    category_id: Option<Uuid>,
) -> AppResult<Vec<offering::Model>> {
    let mut query = catalog_for(viewer);
    if let Some(id) = category_id {
        query = query.filter(offering::Column::CategoryId.eq(id));
    }
    Ok(query.all(&state.db).await?)
}

/// The offerings of these categories the viewer may pick from.
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn offerings_of_categories(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<offering::Model>> {
    Ok(catalog_for(viewer)
        .filter(offering::Column::CategoryId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub(super) async fn offerings_by_id(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<offering::Model>> {
    Ok(offering::Entity::find()
        .filter(offering::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub struct OfferingInput {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub category_id: Option<Uuid>,
    pub duration_minutes: i32,
    pub base_price: Decimal,
    pub is_active: Option<bool>,
}

impl OfferingInput {
    async fn apply(&self, db: &impl ConnectionTrait, row: &mut offering::Model) -> AppResult<()> {
        row.code = input::required("code", &self.code, 40)?.to_uppercase();
        row.name = input::required("name", &self.name, 120)?;
        row.description = input::optional("description", self.description.as_deref(), 2000)?;
        if let Some(id) = self.category_id {
            if categories_by_id(db, &[id]).await?.is_empty() {
                return Err(AppError::bad_input("categoryId", "No such category."));
            }
        }
        row.category_id = self.category_id;
        if !(5..=24 * 60).contains(&self.duration_minutes) {
            return Err(AppError::bad_input(
                "durationMinutes",
                "A service lasts 5 minutes to 24 hours.",
            ));
        }
        row.duration_minutes = self.duration_minutes;
        row.base_price_cents = money::cents("basePrice", self.base_price, false)?;
        if let Some(active) = self.is_active {
            row.is_active = active;
        }
        Ok(())
    }
}

fn code_taken(err: sea_orm::DbErr) -> AppError {
    match AppError::from(err) {
        AppError::Conflict { .. } => {
            AppError::conflict_on("code", "Another service already has this code.")
        }
        other => other,
    }
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_offering(
    state: &AppState,
    viewer: &Viewer,
    input: OfferingInput,
) -> AppResult<offering::Model> {
    viewer.staff()?;
    let now = clock::now();
    let mut row = offering::Model {
        id: Uuid::now_v7(),
        code: String::new(),
        name: String::new(),
        description: None,
        category_id: None,
        duration_minutes: 0,
        base_price_cents: 0,
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    input.apply(&state.db, &mut row).await?;
    let active: offering::ActiveModel = row.into();
    active.insert(&state.db).await.map_err(code_taken)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update_offering(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    input: OfferingInput,
) -> AppResult<offering::Model> {
    viewer.staff()?;
    let mut row = offering::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Service"))?;
    input.apply(&state.db, &mut row).await?;
    row.updated_at = clock::now();
    row.into_active_model()
        .reset_all()
        .update(&state.db)
        .await
        .map_err(code_taken)
}

/// The offering, for staff.
async fn offering_for_staff(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<offering::Model> {
    viewer.staff()?;
    offering::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Service"))
}

/// The folded keys of a make and an optional model.
fn price_keys(make: &str, model: Option<&str>) -> AppResult<(String, Option<String>, String)> {
    let make = input::required("make", make, 60)?;
    let model = input::optional("model", model, 60)?;
    let model_key = model.as_deref().map(search::fold).unwrap_or_default();
    Ok((make, model, model_key))
}

/// At most this many make and model prices per offering.
pub const MAX_MODEL_PRICES: u64 = 50;

/// Sets the price of an offering for a make (every model) or one model of it.
#[tracing::instrument(skip_all, fields(viewer = %viewer, offering_id = %offering_id))]
pub async fn set_model_price(
    state: &AppState,
    viewer: &Viewer,
    offering_id: Uuid,
    make: &str,
    model: Option<&str>,
    price: Decimal,
) -> AppResult<offering::Model> {
    let offering = offering_for_staff(state, viewer, offering_id).await?;
    let (make, model, model_key) = price_keys(make, model)?;
    let price_cents = money::cents("price", price, false)?;
    let make_key = search::fold(&make);
    let txn = state.db.begin().await?;
    let replaced = model_price::Entity::delete_many()
        .filter(model_price::Column::OfferingId.eq(offering_id))
        .filter(model_price::Column::MakeKey.eq(make_key.clone()))
        .filter(model_price::Column::ModelKey.eq(model_key.clone()))
        .exec(&txn)
        .await?;
    if replaced.rows_affected == 0 {
        let held = model_price::Entity::find()
            .filter(model_price::Column::OfferingId.eq(offering_id))
            .count(&txn)
            .await?;
        if held >= MAX_MODEL_PRICES {
            return Err(AppError::conflict(format!(
                "A service has at most {MAX_MODEL_PRICES} make and model prices; remove one first."
            )));
        }
    }
    let row = model_price::Model {
        id: Uuid::now_v7(),
        offering_id,
        make,
        make_key,
        model,
        model_key,
        price_cents,
    };
    let active: model_price::ActiveModel = row.into();
    active.insert(&txn).await?;
    txn.commit().await?;
    Ok(offering)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, offering_id = %offering_id))]
pub async fn remove_model_price(
    state: &AppState,
    viewer: &Viewer,
    offering_id: Uuid,
    make: &str,
    model: Option<&str>,
) -> AppResult<offering::Model> {
    let offering = offering_for_staff(state, viewer, offering_id).await?;
    let (make, _, model_key) = price_keys(make, model)?;
    let removed = model_price::Entity::delete_many()
        .filter(model_price::Column::OfferingId.eq(offering_id))
        .filter(model_price::Column::MakeKey.eq(search::fold(&make)))
        .filter(model_price::Column::ModelKey.eq(model_key))
        .exec(&state.db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::not_found("Price for this make and model"));
    }
    Ok(offering)
}

/// The model prices of these offerings.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn model_prices_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<model_price::Model>> {
    Ok(model_price::Entity::find()
        .filter(model_price::Column::OfferingId.is_in(ids.iter().copied()))
        .order_by_asc(model_price::Column::MakeKey)
        .order_by_asc(model_price::Column::ModelKey)
        .all(db)
        .await?)
}

/// One offering's price for a make and model: the model's price, else the make's, else the
/// base price. `prices` may hold other offerings' rows.
pub fn price_for(
    offering: &offering::Model,
    prices: &[model_price::Model],
    make: &str,
    model: &str,
) -> i64 {
    let (make, model) = (search::fold(make), search::fold(model));
    let mine = |m: &&model_price::Model| m.offering_id == offering.id && m.make_key == make;
    prices
        .iter()
        .filter(mine)
        .find(|m| m.model_key == model)
        .or_else(|| prices.iter().filter(mine).find(|m| m.model_key.is_empty()))
        .map_or(offering.base_price_cents, |m| m.price_cents)
}

/// What a service appointment is priced for: who books which unit, where and when.
pub struct PriceContext<'a> {
    pub customer: Uuid,
    pub unit: &'a unit::Model,
    pub location: Uuid,
    pub starts_at: DateTime<Utc>,
}

/// A service appointment's price: each service's price for the unit's make and model, less the
/// best offer, less the plan discount.
pub struct Quote {
    /// Each offering's price, in the order given.
    pub lines: Vec<(Uuid, i64)>,
    /// The offer that took most off, if any did.
    pub offer: Option<offers::AppliedOffer>,
    /// What the customer's membership plan took off what the offer left.
    pub plan_discount_cents: i64,
    /// What the customer pays: never below zero.
    pub total_cents: i64,
}

impl Quote {
    pub fn offer_discount_cents(&self) -> i64 {
        self.offer.as_ref().map_or(0, |o| o.discount_cents)
    }

    /// Keeps the price and what made it on a new booking.
    pub(super) fn write_into(&self, row: &mut booking::Model) {
        row.estimated_price_cents = Some(self.total_cents);
        row.offer_id = self.offer.as_ref().map(|o| o.id);
        row.offer_title = self.offer.as_ref().map(|o| o.title.clone());
        row.offer_discount_cents = Some(self.offer_discount_cents());
        row.plan_discount_cents = Some(self.plan_discount_cents);
    }

    /// The same columns for an UPDATE of a booking (all null without a quote: a test drive).
    pub(super) fn columns(quote: Option<&Quote>) -> [(booking::Column, Expr); 5] {
        let offer = quote.and_then(|q| q.offer.as_ref());
        [
            (
                booking::Column::EstimatedPriceCents,
                Expr::val(quote.map(|q| q.total_cents)),
            ),
            (booking::Column::OfferId, Expr::val(offer.map(|o| o.id))),
            (
                booking::Column::OfferTitle,
                Expr::val(offer.map(|o| o.title.clone())),
            ),
            (
                booking::Column::OfferDiscountCents,
                Expr::val(quote.map(Quote::offer_discount_cents)),
            ),
            (
                booking::Column::PlanDiscountCents,
                Expr::val(quote.map(|q| q.plan_discount_cents)),
            ),
        ]
    }
}

/// The one pricing function of service appointments (booking and rescheduling both ask it):
/// each service's price for the unit's make and model, summed; less the best offer the customer
/// may use for that unit, location and start; less their plan's discount on what remains.
#[tracing::instrument(skip_all, fields(customer = %context.customer, unit = %context.unit.id))]
pub async fn quote(
    db: &impl ConnectionTrait,
    context: &PriceContext<'_>,
    offerings: &[offering::Model],
) -> AppResult<Quote> {
    let ids: Vec<Uuid> = offerings.iter().map(|o| o.id).collect();
    let prices = model_prices_of(db, &ids).await?;
    let lines: Vec<(Uuid, i64)> = offerings
        .iter()
        .map(|o| {
            let price = price_for(o, &prices, &context.unit.make, &context.unit.model);
            (o.id, price)
        })
        .collect();
    let subtotal_cents = std::cmp::max(lines.iter().map(|(_, p)| *p).sum::<i64>(), 0);
    let purchase = offers::Purchase {
        customer: context.customer,
        make: &context.unit.make,
        location: context.location,
        at: context.starts_at,
        subtotal_cents,
    };
    let discounted = offers::discount(db, &purchase).await?;
    Ok(Quote {
        lines,
        offer: discounted.offer,
        plan_discount_cents: discounted.plan_discount_cents,
        total_cents: discounted.total_cents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offering(base: i64) -> offering::Model {
        let now = clock::now();
        offering::Model {
            id: Uuid::nil(),
            code: "OIL".into(),
            name: "Oil".into(),
            description: None,
            category_id: None,
            duration_minutes: 30,
            base_price_cents: base,
            is_active: true,
            created_at: now,
            updated_at: now,
        }
    }

    fn price(make: &str, model: Option<&str>, cents: i64) -> model_price::Model {
        model_price::Model {
            id: Uuid::now_v7(),
            offering_id: Uuid::nil(),
            make: make.into(),
            make_key: search::fold(make),
            model: model.map(Into::into),
            model_key: model.map(search::fold).unwrap_or_default(),
            price_cents: cents,
        }
    }

    #[test]
    fn the_model_price_wins_then_the_make_then_the_base() {
        let o = offering(100);
        let prices = [price("BMW", None, 300), price("BMW", Some("X5"), 500)];
        assert_eq!(price_for(&o, &prices, "bmw", "x5"), 500);
        assert_eq!(price_for(&o, &prices, "BMW", "i3"), 300);
        assert_eq!(price_for(&o, &prices, "Škoda", "Octavia"), 100);
    }
}
