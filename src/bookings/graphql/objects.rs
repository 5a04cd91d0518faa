//! The GraphQL objects of bookings: `Booking` and what hangs off it, the locations and the
//! catalog.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::accounts::graphql::User;
use crate::accounts::loaders::{UserId, Users};
use crate::bookings::entity::{
    booking, category, location, model_price, offering, opening_hours, status_change, BookingKind,
    BookingStatus,
};
use crate::bookings::loaders::{
    BookingId, BookingUnits, Categories, CategoryId, CategoryOfferings, Customers, Handlers,
    History, Hours, LocationId, Locations, ModelPrices, OfferingId, Services,
};
use crate::bookings::service;
use crate::bookings::types;
use crate::error::AppError;
use crate::graphql::{loader, parse_id, to_id};
use crate::money;
use crate::offers::graphql::Offer;
use crate::offers::loaders::{OfferId, Offers};
use crate::payments::graphql::{self as payments, Payment};
use crate::payments::types::{BookingPaymentStatus, Subject};
use crate::units::graphql::Unit;
use crate::units::loaders::{UnitId, Units};
use crate::workshop::graphql::ServiceRecord;
use crate::workshop::loaders::{RecordId, Records};

pub struct Booking(pub booking::Model);

/// A test drive or a service appointment, with its status and history.
#[Object]
impl Booking {
    /// The booking's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// TEST_DRIVE or SERVICE_APPOINTMENT.
    async fn kind(&self) -> BookingKind {
        self.0.kind
    }
    /// Where it stands.
    async fn status(&self) -> BookingStatus {
        self.0.status
    }
    /// Who booked it (a service appointment: the unit's owner).
    async fn customer(&self, ctx: &Context<'_>) -> Result<User> {
        loader::<Users<Customers>>(ctx)?
            .load_one(UserId(self.0.customer_id))
            .await?
            .map(User::from)
            .ok_or_else(|| AppError::not_found("User").into())
    }
    /// The unit driven or serviced (readable to the customer through the booking, also once
    /// sold).
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        loader::<BookingUnits>(ctx)?
            .load_one((BookingId(self.0.id), UnitId(self.0.unit_id)))
            .await?
            .map(Unit::new)
            .ok_or_else(|| AppError::not_found("Unit").into())
    }
    /// Where a service appointment takes place; null for a test drive (the showroom).
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<ServiceLocation>> {
        let Some(id) = self.0.location_id else {
            return Ok(None);
        };
        Ok(loader::<Locations>(ctx)?
            .load_one(LocationId(id))
            .await?
            .map(ServiceLocation))
    }
    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// The services booked (service appointments), in the order chosen.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<ServiceOffering>> {
        Ok(loader::<Services>(ctx)?
            .load_one(BookingId(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|(_, o)| ServiceOffering(o))
            .collect())
    }
    /// The price as computed when it was booked (or last rescheduled): the services' prices
    /// less `offerDiscount` less `planDiscount`; null for a test drive.
    async fn estimated_price(&self) -> Option<Decimal> {
        self.0.estimated_price_cents.map(money::decimal)
    }
    /// Its payments the viewer sees (staff: all; the customer: theirs), oldest first.
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        payments::payments_of(ctx, Subject::Booking(self.0.id)).await
    }
    /// Received and kept: its payments less their refunds.
    async fn amount_paid(&self, ctx: &Context<'_>) -> Result<Decimal> {
        let totals = payments::totals_of(ctx, Subject::Booking(self.0.id)).await?;
        Ok(money::decimal(totals.paid_cents))
    }
    /// UNPAID, PARTIALLY_PAID, PAID (or nothing to pay) or REFUNDED: what its payments say.
    async fn payment_status(&self, ctx: &Context<'_>) -> Result<BookingPaymentStatus> {
        payments::status_of(ctx, self.0.id, self.0.estimated_price_cents).await
    }
    /// The offer that priced it; null when none applied or the offer was deleted since.
    async fn offer(&self, ctx: &Context<'_>) -> Result<Option<Offer>> {
        let Some(id) = self.0.offer_id else {
            return Ok(None);
        };
        Ok(loader::<Offers>(ctx)?
            .load_one(OfferId(id))
            .await?
            .map(Offer))
    }
    /// The title of the offer that priced it, as it was then (kept after the offer is deleted).
    async fn offer_title(&self) -> Option<&str> {
        self.0.offer_title.as_deref()
    }
    /// What the offer took off; null for a test drive.
    async fn offer_discount(&self) -> Option<Decimal> {
        self.0.offer_discount_cents.map(money::decimal)
    }
    /// What the customer's membership plan took off after the offer; null for a test drive.
    async fn plan_discount(&self) -> Option<Decimal> {
        self.0.plan_discount_cents.map(money::decimal)
    }
    /// The customer's notes.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// The staff member who last moved it.
    async fn handled_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.handled_by else {
            return Ok(None);
        };
        Ok(loader::<Users<Handlers>>(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User::from))
    }
    /// The workshop record a confirmed service appointment carries.
    async fn service_record(&self, ctx: &Context<'_>) -> Result<Option<ServiceRecord>> {
        let Some(id) = self.0.service_record_id else {
            return Ok(None);
        };
        Ok(loader::<Records>(ctx)?
            .load_one(RecordId(id))
            .await?
            .map(ServiceRecord))
    }
    /// Every status change, oldest first.
    async fn status_history(&self, ctx: &Context<'_>) -> Result<Vec<BookingStatusChange>> {
        Ok(loader::<History>(ctx)?
            .load_one(BookingId(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(BookingStatusChange)
            .collect())
    }
    /// When it was booked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct BookingStatusChange(pub status_change::Model);

/// One change of a booking's status.
#[Object]
impl BookingStatusChange {
    /// The status before; null for the booking's creation.
    async fn from(&self) -> Option<BookingStatus> {
        self.0.from_status
    }
    /// The status after.
    async fn to(&self) -> BookingStatus {
        self.0.to_status
    }
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Who made it.
    async fn by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.by_user else {
            return Ok(None);
        };
        Ok(loader::<Users>(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User::from))
    }
    /// Why, when given.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// A bookable span of time.
#[derive(SimpleObject)]
pub struct TimeSlot {
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
}

pub struct ServiceLocation(pub location::Model);

/// A place where service appointments happen.
#[Object]
impl ServiceLocation {
    /// The location's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its street address.
    async fn address(&self) -> &str {
        &self.0.address
    }
    /// Degrees north.
    async fn latitude(&self) -> f64 {
        self.0.latitude
    }
    /// Degrees east.
    async fn longitude(&self) -> f64 {
        self.0.longitude
    }
    /// Its IANA time zone: opening hours and slots are its local time.
    async fn timezone(&self) -> &str {
        &self.0.timezone
    }
    /// Its phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// How many appointments may overlap.
    async fn bays(&self) -> i32 {
        self.0.bays
    }
    /// Its opening hours, by weekday.
    async fn opening_hours(&self, ctx: &Context<'_>) -> Result<Vec<OpeningHours>> {
        Ok(loader::<Hours>(ctx)?
            .load_one(LocationId(self.0.id))
            .await?
            .unwrap_or_default()
            .iter()
            .map(OpeningHours::from)
            .collect())
    }
}

/// One opening interval of a weekday, in the location's local time.
#[derive(SimpleObject)]
pub struct OpeningHours {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// Opening time, "08:00".
    pub opens_at: String,
    /// Closing time, "18:00" ("24:00": open until midnight).
    pub closes_at: String,
}

impl From<&types::Hours> for OpeningHours {
    fn from(h: &types::Hours) -> Self {
        Self {
            weekday: h.weekday,
            opens_at: types::clock_text(h.opens),
            closes_at: types::clock_text(h.closes),
        }
    }
}

impl From<&opening_hours::Model> for OpeningHours {
    fn from(h: &opening_hours::Model) -> Self {
        Self {
            weekday: h.weekday,
            opens_at: types::clock_text(h.opens_minute),
            closes_at: types::clock_text(h.closes_minute),
        }
    }
}

pub struct ServiceOffering(pub offering::Model);

impl ServiceOffering {
    async fn prices(&self, ctx: &Context<'_>) -> Result<Vec<model_price::Model>> {
        Ok(loader::<ModelPrices>(ctx)?
            .load_one(OfferingId(self.0.id))
            .await?
            .unwrap_or_default())
    }
}

/// A service of the catalog.
#[Object]
impl ServiceOffering {
    /// The offering's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// A short unique code, such as OIL-CHANGE.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it includes.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Its category.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<ServiceCategory>> {
        let Some(id) = self.0.category_id else {
            return Ok(None);
        };
        Ok(loader::<Categories>(ctx)?
            .load_one(CategoryId(id))
            .await?
            .map(ServiceCategory))
    }
    /// How long it takes.
    async fn duration_minutes(&self) -> i32 {
        self.0.duration_minutes
    }
    /// The price when no make or model price applies.
    async fn base_price(&self) -> Decimal {
        money::decimal(self.0.base_price_cents)
    }
    /// False once withdrawn: it cannot be booked.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// Its price for a unit the viewer sees: the model's price, else the make's, else the base.
    async fn price_for(&self, ctx: &Context<'_>, unit_id: ID) -> Result<Decimal> {
        let unit_id = parse_id("unitId", &unit_id)?;
        // Both through loaders: a catalog priced for a unit costs two statements, not two per
        // offering.
        let unit = loader::<Units>(ctx)?
            .load_one(UnitId(unit_id))
            .await?
            .ok_or_else(|| AppError::not_found("Unit"))?;
        let prices = self.prices(ctx).await?;
        Ok(money::decimal(service::price_for(
            &self.0,
            &prices,
            &unit.make,
            &unit.model,
        )))
    }
    /// Its prices per make (every model) and per model.
    async fn model_prices(&self, ctx: &Context<'_>) -> Result<Vec<ModelPrice>> {
        Ok(self
            .prices(ctx)
            .await?
            .into_iter()
            .map(|p| ModelPrice {
                make: p.make,
                model: p.model,
                price: money::decimal(p.price_cents),
            })
            .collect())
    }
}

/// A price of an offering for one make (every model when `model` is null) or one model.
#[derive(SimpleObject)]
pub struct ModelPrice {
    /// The make.
    pub make: String,
    /// The model; null for every model of the make.
    pub model: Option<String>,
    /// The price.
    pub price: Decimal,
}

pub struct ServiceCategory(pub category::Model);

/// A group of the catalog's services.
#[Object]
impl ServiceCategory {
    /// The category's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it covers.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Its services the viewer may book (staff: also the withdrawn ones).
    async fn offerings(&self, ctx: &Context<'_>) -> Result<Vec<ServiceOffering>> {
        Ok(loader::<CategoryOfferings>(ctx)?
            .load_one(CategoryId(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ServiceOffering)
            .collect())
    }
}

/// How many bookings are in one status.
#[derive(SimpleObject)]
pub struct BookingStatusCount {
    /// The status.
    pub status: BookingStatus,
    /// How many.
    pub count: i32,
}

/// How many bookings are of one kind.
#[derive(SimpleObject)]
pub struct BookingKindCount {
    /// The kind.
    pub kind: BookingKind,
    /// How many.
    pub count: i32,
}

/// How many bookings start at one local hour.
#[derive(SimpleObject)]
pub struct HourCount {
    /// The hour of the day, 0–23, local time.
    pub hour: i32,
    /// How many.
    pub count: i32,
}

/// Bookings of a period, counted.
#[derive(SimpleObject)]
pub struct BookingStats {
    /// Every booking starting in the period.
    pub total: i32,
    /// By status, most first.
    pub by_status: Vec<BookingStatusCount>,
    /// By kind, most first.
    pub by_kind: Vec<BookingKindCount>,
    /// NO_SHOW among bookings that ended (COMPLETED or NO_SHOW); 0 when none did.
    pub no_show_rate: f64,
    /// How long ahead bookings were made, on average; null without bookings.
    pub average_lead_time_hours: Option<f64>,
    /// The local starting hours, busiest first.
    pub busiest_hours: Vec<HourCount>,
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<service::BookingStats> for BookingStats {
    fn from(s: service::BookingStats) -> Self {
        Self {
            total: int(s.total),
            by_status: s
                .by_status
                .into_iter()
                .map(|(status, n)| BookingStatusCount {
                    status,
                    count: int(n),
                })
                .collect(),
            by_kind: s
                .by_kind
                .into_iter()
                .map(|(kind, n)| BookingKindCount {
                    kind,
                    count: int(n),
                })
                .collect(),
            no_show_rate: s.no_show_rate,
            average_lead_time_hours: s.average_lead_time_hours,
            busiest_hours: s
                .busiest_hours
                .into_iter()
                .map(|(hour, n)| HourCount {
                    hour,
                    count: int(n),
                })
                .collect(),
        }
    }
}
