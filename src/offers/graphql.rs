//! The GraphQL face of offers and membership plans.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::entity::{offer, plan, DiscountKind};
use super::loaders::{OfferId, Scopes};
use super::service::{self, PlanInput};
use super::types::Around;
use crate::accounts::entity::MembershipTier;
use crate::bookings::graphql::ServiceLocation;
use crate::bookings::loaders::{LocationId, Locations};
use crate::graphql::loaders::loader;
use crate::graphql::pagination::{self, Page};
use crate::graphql::{parse_id, parse_optional_id, state, to_id, viewer};
use crate::money;
use crate::paging::PageArgs;

pub struct Offer(pub offer::Model);

impl Offer {
    async fn scope(&self, ctx: &Context<'_>) -> Result<service::Scope> {
        Ok(loader::<Scopes>(ctx)?
            .load_one(OfferId(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

/// A discount members may use on service appointments, for some tiers, makes and locations.
#[Object]
impl Offer {
    /// The offer's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Its headline.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What it offers.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The small print.
    async fn terms(&self) -> Option<&str> {
        self.0.terms.as_deref()
    }
    /// A percentage or a fixed amount.
    async fn discount_kind(&self) -> DiscountKind {
        self.0.discount_kind
    }
    /// The percentage (0–100) or the amount.
    async fn discount_value(&self) -> Decimal {
        money::decimal(self.0.discount_value)
    }
    /// From when it may be used.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// Until when (exclusive).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// The membership tiers it is for; empty means every tier.
    async fn eligible_tiers(&self, ctx: &Context<'_>) -> Result<Vec<MembershipTier>> {
        Ok(self.scope(ctx).await?.tiers)
    }
    /// The makes it is for (any case); empty means every make.
    async fn makes(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.scope(ctx).await?.makes)
    }
    /// Where it is valid; empty means at every location.
    async fn locations(&self, ctx: &Context<'_>) -> Result<Vec<ServiceLocation>> {
        let keys = self.scope(ctx).await?.location_ids;
        let found = loader::<Locations>(ctx)?
            .load_many(keys.iter().map(|id| LocationId(*id)))
            .await?;
        Ok(keys
            .iter()
            .filter_map(|id| found.get(&LocationId(*id)).cloned())
            .map(ServiceLocation)
            .collect())
    }
    /// False withdraws it.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
}

pub struct MembershipPlan(pub plan::Model);

/// What a membership tier costs and gives.
#[Object]
impl MembershipPlan {
    /// The tier this plan is.
    async fn tier(&self) -> MembershipTier {
        self.0.tier
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it costs a month.
    async fn monthly_price(&self) -> Decimal {
        money::decimal(self.0.monthly_price_cents)
    }
    /// What members get, one line each.
    async fn benefits(&self) -> Vec<String> {
        service::benefits(&self.0)
    }
    /// The percentage taken off every service appointment (after the best offer).
    async fn discount_percent(&self) -> Decimal {
        money::decimal(i64::from(self.0.discount_basis_points))
    }
}

/// An offer as staff write it. On update, lists and `isActive` left out keep their values.
#[derive(InputObject)]
pub struct OfferInput {
    /// Its headline (at most 120 characters).
    title: String,
    /// What it offers (at most 2,000 characters).
    description: String,
    /// The small print (at most 4,000 characters).
    terms: Option<String>,
    /// A percentage or a fixed amount.
    discount_kind: DiscountKind,
    /// 0–100 for a percentage; an amount otherwise (two decimals at most).
    discount_value: Decimal,
    /// From when it may be used.
    starts_at: DateTime<Utc>,
    /// Until when (after `startsAt`).
    expires_at: DateTime<Utc>,
    /// The tiers it is for; empty (or absent on creation) means every tier.
    eligible_tiers: Option<Vec<MembershipTier>>,
    /// The makes it is for (any case, at most 50); empty means every make.
    makes: Option<Vec<String>>,
    /// The service locations it is valid at (at most 20); empty means everywhere.
    location_ids: Option<Vec<ID>>,
    /// False withdraws it (true when absent on creation).
    is_active: Option<bool>,
}

impl TryFrom<OfferInput> for service::OfferInput {
    type Error = crate::error::AppError;

    fn try_from(i: OfferInput) -> Result<Self, Self::Error> {
        let location_ids = i
            .location_ids
            .map(|ids| {
                ids.iter()
                    .enumerate()
                    .map(|(n, id)| parse_id(&format!("locationIds.{n}"), id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self {
            title: i.title,
            description: i.description,
            terms: i.terms,
            discount_kind: i.discount_kind,
            discount_value: i.discount_value,
            starts_at: i.starts_at,
            expires_at: i.expires_at,
            eligible_tiers: i.eligible_tiers,
            makes: i.makes,
            location_ids,
            is_active: i.is_active,
        })
    }
}

/// A membership plan as an admin writes it.
#[derive(InputObject)]
pub struct MembershipPlanInput {
    /// Its name.
    name: String,
    /// What it costs a month.
    monthly_price: Decimal,
    /// What members get (at most 20 lines of 200 characters).
    benefits: Vec<String>,
    /// The percentage taken off every service appointment, 0–100.
    discount_percent: Decimal,
}

#[derive(Default)]
pub struct OffersQuery;

#[Object]
impl OffersQuery {
    /// The offers the viewer may use now (anyone; a signed-out viewer counts as tier NONE):
    /// for their tier, for the make of `vehicleId` (one of their units) when given, and within
    /// `radiusKm` (default 50) of the position when given, or valid everywhere.
    async fn offers(
        &self,
        ctx: &Context<'_>,
        vehicle_id: Option<ID>,
        latitude: Option<f64>,
        longitude: Option<f64>,
        radius_km: Option<f64>,
    ) -> Result<Vec<Offer>> {
        let vehicle = parse_optional_id("vehicleId", vehicle_id.as_ref())?;
        let around = Around::parse(latitude, longitude, radius_km)?;
        Ok(service::offers(state(ctx)?, viewer(ctx)?, vehicle, around)
            .await?
            .into_iter()
            .map(Offer)
            .collect())
    }

    /// Every offer, newest first (staff).
    async fn all_offers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Offer>> {
        let args = PageArgs::forward(first, after);
        let (slice, total) = service::all_offers(
            state(ctx)?,
            viewer(ctx)?,
            &args,
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, Offer))
    }

    /// The membership plans, one per tier, NONE first (public).
    async fn membership_plans(&self, ctx: &Context<'_>) -> Result<Vec<MembershipPlan>> {
        Ok(service::plans(&state(ctx)?.db)
            .await?
            .into_iter()
            .map(MembershipPlan)
            .collect())
    }
}

#[derive(Default)]
pub struct OffersMutation;

#[Object]
impl OffersMutation {
    /// Creates an offer (staff).
    async fn create_offer(&self, ctx: &Context<'_>, input: OfferInput) -> Result<Offer> {
        let input = service::OfferInput::try_from(input)?;
        Ok(Offer(
            service::create_offer(state(ctx)?, viewer(ctx)?, input).await?,
        ))
    }

    /// Changes an offer (staff). Bookings it already priced keep their price.
    async fn update_offer(&self, ctx: &Context<'_>, id: ID, input: OfferInput) -> Result<Offer> {
        let id = parse_id("id", &id)?;
        let input = service::OfferInput::try_from(input)?;
        Ok(Offer(
            service::update_offer(state(ctx)?, viewer(ctx)?, id, input).await?,
        ))
    }

    /// Deletes an offer (staff). Bookings it priced keep their price and its title.
    async fn delete_offer(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete_offer(state(ctx)?, viewer(ctx)?, id).await?)
    }

    /// Changes the plan of a tier (admin).
    async fn update_membership_plan(
        &self,
        ctx: &Context<'_>,
        tier: MembershipTier,
        input: MembershipPlanInput,
    ) -> Result<MembershipPlan> {
        let input = PlanInput {
            name: input.name,
            monthly_price: input.monthly_price,
            benefits: input.benefits,
            discount_percent: input.discount_percent,
        };
        Ok(MembershipPlan(
            service::update_plan(state(ctx)?, viewer(ctx)?, tier, input).await?,
        ))
    }
}
