//! The units' inputs: filter, ordering, create and update.

use super::*;

/// Narrows `units`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct UnitFilter {
    /// Part of the VIN, make, model, trim or plate, case-insensitive.
    pub(super) search: Option<String>,
    /// This make, case-insensitive.
    pub(super) make: Option<String>,
    /// This model, case-insensitive.
    pub(super) model: Option<String>,
    /// Model year at least.
    pub(super) year_min: Option<i32>,
    /// Model year at most.
    pub(super) year_max: Option<i32>,
    /// List price at least.
    pub(super) price_min: Option<Decimal>,
    /// List price at most.
    pub(super) price_max: Option<Decimal>,
    /// Mileage at most.
    pub(super) mileage_max: Option<i32>,
    /// Any of these fuel types.
    pub(super) fuel_types: Option<Vec<FuelType>>,
    /// Any of these body types.
    pub(super) body_types: Option<Vec<BodyType>>,
    /// Any of these gearboxes.
    pub(super) transmissions: Option<Vec<Transmission>>,
    /// Any of these statuses.
    pub(super) statuses: Option<Vec<UnitStatus>>,
    /// Listed (true) or not (false).
    pub(super) is_listed: Option<bool>,
    /// Owned by this user.
    pub(super) owner_id: Option<ID>,
}

/// What `units` can be ordered by; ties are broken by id, so pages never skip or repeat.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UnitOrderField {
    /// When the unit was added.
    CreatedAt,
    /// List price; units without one count as lowest.
    Price,
    /// Model year.
    Year,
    /// Mileage.
    Mileage,
}

/// An ordering of `units`.
#[derive(InputObject)]
pub struct UnitOrder {
    /// The key.
    pub(super) field: UnitOrderField,
    /// Which way.
    pub(super) direction: OrderDirection,
}

/// A new unit.
#[derive(InputObject)]
pub struct CreateUnitInput {
    /// 17 characters, no I, O or Q; any case.
    pub(super) vin: String,
    /// Manufacturer.
    pub(super) make: String,
    /// Model.
    pub(super) model: String,
    /// Trim level.
    pub(super) trim: Option<String>,
    /// Model year, 1886 to next year.
    pub(super) year: i32,
    /// Odometer reading, 0 or more.
    pub(super) mileage: i32,
    /// What it runs on.
    pub(super) fuel_type: Option<FuelType>,
    /// Body style.
    pub(super) body_type: Option<BodyType>,
    /// Gearbox.
    pub(super) transmission: Option<Transmission>,
    /// Paint colour.
    pub(super) color: Option<String>,
    /// Registration plate.
    pub(super) license_plate: Option<String>,
    /// Where it is kept.
    pub(super) location: Option<String>,
    /// When its owner bought it.
    pub(super) purchase_date: Option<NaiveDate>,
    /// For sale (staff only); needs a list price.
    pub(super) is_listed: Option<bool>,
    /// Asking price, greater than zero.
    pub(super) list_price: Option<Decimal>,
    /// Free notes.
    pub(super) notes: Option<String>,
    /// Staff: the customer it belongs to (none = dealership stock). Customers own what they add.
    pub(super) owner_id: Option<ID>,
}

/// Changes to a unit; absent fields stay as they are, an empty string clears a text.
#[derive(InputObject)]
pub struct UpdateUnitInput {
    /// Manufacturer.
    pub(super) make: Option<String>,
    /// Model.
    pub(super) model: Option<String>,
    /// Trim level.
    pub(super) trim: Option<String>,
    /// Model year.
    pub(super) year: Option<i32>,
    /// Odometer reading; only an administrator may lower it.
    pub(super) mileage: Option<i32>,
    /// What it runs on.
    pub(super) fuel_type: Option<FuelType>,
    /// Body style.
    pub(super) body_type: Option<BodyType>,
    /// Gearbox.
    pub(super) transmission: Option<Transmission>,
    /// Paint colour.
    pub(super) color: Option<String>,
    /// Registration plate.
    pub(super) license_plate: Option<String>,
    /// Where it is kept.
    pub(super) location: Option<String>,
    /// When its owner bought it.
    pub(super) purchase_date: Option<NaiveDate>,
    /// For sale (staff only).
    pub(super) is_listed: Option<bool>,
    /// Asking price.
    pub(super) list_price: Option<Decimal>,
    /// Free notes (the one thing a sold unit may change).
    pub(super) notes: Option<String>,
    /// ACTIVE or INACTIVE; SOLD and IN_SERVICE follow sales and service work.
    pub(super) status: Option<UnitStatus>,
}

impl TryFrom<UnitFilter> for service::UnitFilter {
    type Error = AppError;

    fn try_from(f: UnitFilter) -> Result<Self, AppError> {
        Ok(Self {
            owner_id: parse_optional_id("ownerId", f.owner_id.as_ref())?,
            search: f.search,
            make: f.make,
            model: f.model,
            year_min: f.year_min,
            year_max: f.year_max,
            price_min: f.price_min,
            price_max: f.price_max,
            mileage_max: f.mileage_max,
            fuel_types: f.fuel_types,
            body_types: f.body_types,
            transmissions: f.transmissions,
            statuses: f.statuses,
            is_listed: f.is_listed,
        })
    }
}

impl From<UnitOrderField> for Field {
    fn from(field: UnitOrderField) -> Self {
        match field {
            UnitOrderField::CreatedAt => Self::CreatedAt,
            UnitOrderField::Price => Self::Price,
            UnitOrderField::Year => Self::Year,
            UnitOrderField::Mileage => Self::Mileage,
        }
    }
}

impl TryFrom<CreateUnitInput> for NewUnit {
    type Error = AppError;

    fn try_from(i: CreateUnitInput) -> Result<Self, AppError> {
        Ok(Self {
            owner_id: parse_optional_id("ownerId", i.owner_id.as_ref())?,
            vin: i.vin,
            details: UnitDetails {
                make: Some(i.make),
                model: Some(i.model),
                trim: i.trim,
                year: Some(i.year),
                mileage: Some(i.mileage),
                fuel_type: i.fuel_type,
                body_type: i.body_type,
                transmission: i.transmission,
                color: i.color,
                license_plate: i.license_plate,
                location: i.location,
                purchase_date: i.purchase_date,
                is_listed: i.is_listed,
                list_price: i.list_price,
                notes: i.notes,
            },
        })
    }
}

impl From<UpdateUnitInput> for UnitChanges {
    fn from(i: UpdateUnitInput) -> Self {
        Self {
            details: UnitDetails {
                make: i.make,
                model: i.model,
                trim: i.trim,
                year: i.year,
                mileage: i.mileage,
                fuel_type: i.fuel_type,
                body_type: i.body_type,
                transmission: i.transmission,
                color: i.color,
                license_plate: i.license_plate,
                location: i.location,
                purchase_date: i.purchase_date,
                is_listed: i.is_listed,
                list_price: i.list_price,
                notes: i.notes,
            },
            status: i.status,
        }
    }
}
