//! The rules of offers: which offers a viewer may use (and so which one prices a booking), the
//! staff's editing, and the membership plans.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use uuid::Uuid;

use super::entity::{offer, offer_location, offer_make, offer_tier};
use super::types::{self, Around, BoundingBox};
use crate::accounts::entity::MembershipTier;
use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::Viewer;
use crate::bookings::entity::location;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::search;
use crate::units::service as units;

mod editing;
mod plans;

pub use editing::*;
pub use plans::*;

/// Who asks and for what: the tier, the make of the car (when one is named), and the instant
/// the offer must be valid at.
pub struct Eligibility {
    pub tier: MembershipTier,
    pub make: Option<String>,
    pub at: DateTime<Utc>,
}

/// Offers with no row in `table` (open to all), or with a row the `naming` query selects.
fn open_or_naming(
    all: sea_orm::sea_query::SelectStatement,
    naming: sea_orm::sea_query::SelectStatement,
) -> Condition {
    Condition::any()
        .add(offer::Column::Id.not_in_subquery(all))
        .add(offer::Column::Id.in_subquery(naming))
}

fn scoped<C: ColumnTrait>(offer_id: C, condition: SimpleExpr) -> Condition {
    let table = offer_id.entity_name();
    let all = Query::select()
        .column(offer_id)
        .from(table.clone())
        .to_owned();
    let naming = Query::select()
        .column(offer_id)
        .from(table)
        .and_where(condition)
        .to_owned();
    open_or_naming(all, naming)
}

/// The offers one may use under `e`: active, started, not expired, for the tier and the make.
fn usable(e: &Eligibility) -> Select<offer::Entity> {
    let mut query = offer::Entity::find()
        .filter(offer::Column::IsActive.eq(true))
        .filter(offer::Column::StartsAt.lte(e.at))
        .filter(offer::Column::ExpiresAt.gt(e.at))
        .filter(scoped(
            offer_tier::Column::OfferId,
            offer_tier::Column::Tier.eq(e.tier),
        ));
    if let Some(make) = &e.make {
        query = query.filter(scoped(
            offer_make::Column::OfferId,
            offer_make::Column::MakeKey.eq(search::fold(make)),
        ));
    }
    query
}

/// Service locations inside the box.
fn in_box(b: &BoundingBox) -> Condition {
    let (lat, lon) = (
        Expr::col((location::Entity, location::Column::Latitude)),
        Expr::col((location::Entity, location::Column::Longitude)),
    );
    let mut longitudes = Condition::any();
    for (west, east) in &b.longitudes {
        longitudes = longitudes.add(lon.clone().between(*west, *east));
    }
    Condition::all()
        .add(lat.between(b.south, b.north))
        .add(longitudes)
}

/// Offer locations joined with their places, narrowed by `condition`.
fn located(condition: Condition) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((offer_location::Entity, offer_location::Column::OfferId))
        .from(offer_location::Entity)
        .inner_join(
            location::Entity,
            Expr::col((location::Entity, location::Column::Id))
                .equals((offer_location::Entity, offer_location::Column::LocationId)),
        )
        .cond_where(condition)
        .to_owned()
}

/// The viewer's tier: NONE for an anonymous viewer.
async fn tier_of(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<MembershipTier> {
    match viewer.user_id() {
        Some(id) => Ok(accounts::get_user(db, id).await?.membership_tier),
        None => Ok(MembershipTier::None),
    }
}

/// The offers the viewer may use now, soonest to expire first: for their tier, for the make of
/// `vehicle` when given, and near `around` when given (a location within the radius, or none).
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn offers(
    state: &AppState,
    viewer: &Viewer,
    vehicle: Option<Uuid>,
    around: Option<Around>,
) -> AppResult<Vec<offer::Model>> {
    let db = &state.db;
    let make = match vehicle {
        // One of the viewer's units (staff: any unit).
        Some(id) => Some(units::own_unit(db, viewer, id, "Vehicle").await?.make),
        None => None,
    };
    let eligibility = Eligibility {
        tier: tier_of(db, viewer).await?,
        make,
        at: clock::now(),
    };
    let mut query = usable(&eligibility)
        .order_by_asc(offer::Column::ExpiresAt)
        .order_by_asc(offer::Column::Id);
    let Some(around) = around else {
        return Ok(query.all(db).await?);
    };
    // The box first, in SQL: only offers open everywhere or with a location in the box.
    let area = in_box(&around.bounding_box());
    let all = Query::select()
        .column(offer_location::Column::OfferId)
        .from(offer_location::Entity)
        .to_owned();
    query = query.filter(open_or_naming(all, located(area.clone())));
    let candidates = query.all(db).await?;
    // Then the exact great-circle distance of the few locations in the box.
    let ids: Vec<Uuid> = candidates.iter().map(|o| o.id).collect();
    let places: Vec<(Uuid, f64, f64)> = offer_location::Entity::find()
        .select_only()
        .column(offer_location::Column::OfferId)
        .column_as(
            Expr::col((location::Entity, location::Column::Latitude)),
            "latitude",
        )
        .column_as(
            Expr::col((location::Entity, location::Column::Longitude)),
            "longitude",
        )
        .join(
            sea_orm::JoinType::InnerJoin,
            offer_location::Entity::belongs_to(location::Entity)
                .from(offer_location::Column::LocationId)
                .to(location::Column::Id)
                .into(),
        )
        .filter(offer_location::Column::OfferId.is_in(ids))
        .filter(area)
        .into_tuple()
        .all(db)
        .await?;
    let mut boxed = HashSet::new();
    let mut near = HashSet::new();
    for (offer, lat, lon) in places {
        boxed.insert(offer);
        if around.reaches(lat, lon) {
            near.insert(offer);
        }
    }
    Ok(candidates
        .into_iter()
        .filter(|o| !boxed.contains(&o.id) || near.contains(&o.id))
        .collect())
}

/// Offers newest first.
fn offer_sort() -> Sort {
    Sort::new(
        "OFFER_CREATED_AT",
        Expr::col((offer::Entity, offer::Column::CreatedAt)),
        KeyKind::Time,
        Expr::col((offer::Entity, offer::Column::Id)),
        true,
    )
}

/// Every offer (staff), newest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn all_offers(
    state: &AppState,
    viewer: &Viewer,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<offer::Model>, Option<u64>)> {
    viewer.staff()?;
    offer_sort()
        .page(&state.db, offer::Entity::find(), args, with_total, |o| {
            (paging::time_key(o.created_at), o.id)
        })
        .await
}

/// Whom, what and where an offer is for; empty lists mean "all".
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub tiers: Vec<MembershipTier>,
    pub makes: Vec<String>,
    pub location_ids: Vec<Uuid>,
}

/// The scopes of these offers (every offer is public once one sees it; no viewer check).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn scopes_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Scope>> {
    let mut scopes: HashMap<Uuid, Scope> = HashMap::new();
    let tiers = offer_tier::Entity::find()
        .filter(offer_tier::Column::OfferId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    for t in tiers {
        scopes.entry(t.offer_id).or_default().tiers.push(t.tier);
    }
    let makes = offer_make::Entity::find()
        .filter(offer_make::Column::OfferId.is_in(ids.iter().copied()))
        .order_by_asc(offer_make::Column::MakeKey)
        .all(db)
        .await?;
    for m in makes {
        scopes.entry(m.offer_id).or_default().makes.push(m.make);
    }
    let places = offer_location::Entity::find()
        .filter(offer_location::Column::OfferId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    for p in places {
        scopes
            .entry(p.offer_id)
            .or_default()
            .location_ids
            .push(p.location_id);
    }
    for scope in scopes.values_mut() {
        // In the enum's order (NONE, BASIC, PLUS, PREMIUM), as the schema lists them.
        scope.tiers.sort_by_key(|t| *t as u8);
    }
    Ok(scopes)
}

/// How many offers name this location.
pub async fn offers_at_location(db: &impl ConnectionTrait, id: Uuid) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(offer_location::Entity::find()
        .filter(offer_location::Column::LocationId.eq(id))
        .count(db)
        .await?)
}

/// A purchase of services to discount: by whom, for which make, where, when, for how much.
pub struct Purchase<'a> {
    pub customer: Uuid,
    pub make: &'a str,
    pub location: Uuid,
    pub at: DateTime<Utc>,
    pub subtotal_cents: i64,
}

/// The offer that took the most off a price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedOffer {
    pub id: Uuid,
    pub title: String,
    pub discount_cents: i64,
}

/// A price after the discounts: the best offer first, then the plan's percentage of what remains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discounted {
    pub offer: Option<AppliedOffer>,
    pub plan_discount_cents: i64,
    pub total_cents: i64,
}

/// The discounts of a purchase: the best offer the customer may use for that make, location
/// and instant (the one that takes most off; of equals, the oldest), then the plan discount of
/// their tier on what remains, never below zero.
#[tracing::instrument(skip_all, fields(customer = %p.customer))]
pub async fn discount(db: &impl ConnectionTrait, p: &Purchase<'_>) -> AppResult<Discounted> {
    let tier = accounts::get_user(db, p.customer).await?.membership_tier;
    let eligibility = Eligibility {
        tier,
        make: Some(p.make.to_owned()),
        at: p.at,
    };
    let candidates = usable(&eligibility)
        .filter(scoped(
            offer_location::Column::OfferId,
            offer_location::Column::LocationId.eq(p.location),
        ))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?;
    let subtotal = std::cmp::max(p.subtotal_cents, 0);
    let mut best: Option<AppliedOffer> = None;
    for o in candidates {
        let off = types::discount_cents(o.discount_kind, o.discount_value, subtotal);
        if off > 0 && best.as_ref().is_none_or(|b| off > b.discount_cents) {
            best = Some(AppliedOffer {
                id: o.id,
                title: o.title,
                discount_cents: off,
            });
        }
    }
    let remaining = subtotal - best.as_ref().map_or(0, |b| b.discount_cents);
    let plan_bp = plan_of(db, tier)
        .await?
        .map_or(0, |plan| plan.discount_basis_points);
    let plan_discount_cents = crate::money::share(remaining, plan_bp).clamp(0, remaining);
    Ok(Discounted {
        offer: best,
        plan_discount_cents,
        total_cents: remaining - plan_discount_cents,
    })
}
