//! The input objects of bookings and their conversions into the service's values.

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::bookings::entity::{BookingKind, BookingStatus};
use crate::bookings::service::{
    BookingFilter, HoursInput, LocationInput, NewAppointment, OfferingInput,
};
use crate::error::AppError;
use crate::graphql::{parse_id, parse_optional_id};

/// Narrows `bookings`; every given condition must hold.
#[derive(InputObject, Default)]
#[graphql(name = "BookingFilter")]
pub struct BookingFilterInput {
    /// Any of these kinds.
    kinds: Option<Vec<BookingKind>>,
    /// Any of these statuses.
    statuses: Option<Vec<BookingStatus>>,
    /// Starting at or after.
    from: Option<DateTime<Utc>>,
    /// Starting before.
    to: Option<DateTime<Utc>>,
    /// Of this customer.
    customer_id: Option<ID>,
    /// Of this unit.
    unit_id: Option<ID>,
    /// At this location.
    location_id: Option<ID>,
    /// Customer name, email or phone; unit VIN or plate (any case).
    search: Option<String>,
}

impl TryFrom<BookingFilterInput> for BookingFilter {
    type Error = AppError;

    fn try_from(f: BookingFilterInput) -> Result<Self, AppError> {
        if f.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
            return Err(AppError::bad_input(
                "search",
                "Search at most 200 characters.",
            ));
        }
        Ok(Self {
            kinds: f.kinds,
            statuses: f.statuses,
            from: f.from,
            to: f.to,
            customer_id: parse_optional_id("customerId", f.customer_id.as_ref())?,
            unit_id: parse_optional_id("unitId", f.unit_id.as_ref())?,
            location_id: parse_optional_id("locationId", f.location_id.as_ref())?,
            search: f.search,
        })
    }
}

/// The ids of a list argument, each error naming its place (`serviceIds.2`).
pub fn parse_ids(field: &str, ids: &[ID]) -> Result<Vec<Uuid>, AppError> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| parse_id(&format!("{field}.{i}"), id))
        .collect()
}

/// A service appointment to book.
#[derive(InputObject)]
pub struct BookServiceAppointmentInput {
    /// The customer's own unit (staff: any customer's).
    unit_id: ID,
    /// Where.
    location_id: ID,
    /// When: a slot `appointmentAvailability` lists.
    starts_at: DateTime<Utc>,
    /// The services, at least one.
    service_ids: Vec<ID>,
    /// Notes for the workshop.
    notes: Option<String>,
}

impl TryFrom<BookServiceAppointmentInput> for NewAppointment {
    type Error = AppError;

    fn try_from(i: BookServiceAppointmentInput) -> Result<Self, AppError> {
        Ok(Self {
            unit_id: parse_id("unitId", &i.unit_id)?,
            location_id: parse_id("locationId", &i.location_id)?,
            starts_at: i.starts_at,
            service_ids: parse_ids("serviceIds", &i.service_ids)?,
            notes: i.notes,
        })
    }
}

/// A service location's details.
#[derive(InputObject)]
pub struct ServiceLocationInput {
    /// Its name.
    name: String,
    /// Its street address.
    address: String,
    /// Degrees north, -90 to 90.
    latitude: f64,
    /// Degrees east, -180 to 180.
    longitude: f64,
    /// Its IANA time zone, such as Europe/Berlin.
    timezone: String,
    /// Its phone number.
    phone: Option<String>,
    /// How many appointments may overlap, 1 or more.
    bays: i32,
}

impl From<ServiceLocationInput> for LocationInput {
    fn from(i: ServiceLocationInput) -> Self {
        Self {
            name: i.name,
            address: i.address,
            latitude: i.latitude,
            longitude: i.longitude,
            timezone: i.timezone,
            phone: i.phone,
            bays: i.bays,
        }
    }
}

/// One opening interval of a weekday, in the location's local time.
#[derive(InputObject)]
pub struct OpeningHoursInput {
    /// 1 = Monday … 7 = Sunday.
    weekday: i32,
    /// Opening time, "08:00".
    opens_at: String,
    /// Closing time, "18:00" (after the opening; "24:00" for midnight).
    closes_at: String,
}

impl From<OpeningHoursInput> for HoursInput {
    fn from(i: OpeningHoursInput) -> Self {
        Self {
            weekday: i.weekday,
            opens_at: i.opens_at,
            closes_at: i.closes_at,
        }
    }
}

/// A service of the catalog.
#[derive(InputObject)]
pub struct ServiceOfferingInput {
    /// A short unique code (kept in upper case).
    code: String,
    /// Its name.
    name: String,
    /// What it includes.
    description: Option<String>,
    /// Its category.
    category_id: Option<ID>,
    /// How long it takes, 5 minutes to 24 hours.
    duration_minutes: i32,
    /// Its price when no make or model price applies, 0 or more.
    base_price: Decimal,
    /// False withdraws it from booking (true when absent on creation).
    is_active: Option<bool>,
}

impl TryFrom<ServiceOfferingInput> for OfferingInput {
    type Error = AppError;

    fn try_from(i: ServiceOfferingInput) -> Result<Self, AppError> {
        Ok(Self {
            code: i.code,
            name: i.name,
            description: i.description,
            category_id: parse_optional_id("categoryId", i.category_id.as_ref())?,
            duration_minutes: i.duration_minutes,
            base_price: i.base_price,
            is_active: i.is_active,
        })
    }
}
