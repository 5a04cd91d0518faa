//! Tables of the units domain: units and their photos.

use sea_orm::entity::prelude::*;

/// Where a unit stands. SOLD and IN_SERVICE follow sales and service work, never set by hand.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UnitStatus {
    /// In use or for sale.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// A service is in progress.
    #[sea_orm(string_value = "IN_SERVICE")]
    InService,
    /// A sale was recorded.
    #[sea_orm(string_value = "SOLD")]
    Sold,
    /// Retired from use; kept for its history.
    #[sea_orm(string_value = "INACTIVE")]
    Inactive,
}

/// What the unit runs on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum FuelType {
    /// Petrol.
    #[sea_orm(string_value = "GASOLINE")]
    Gasoline,
    /// Diesel.
    #[sea_orm(string_value = "DIESEL")]
    Diesel,
    /// Combustion engine and electric motor.
    #[sea_orm(string_value = "HYBRID")]
    Hybrid,
    /// Battery electric.
    #[sea_orm(string_value = "ELECTRIC")]
    Electric,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The gearbox.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Transmission {
    /// Automatic.
    #[sea_orm(string_value = "AUTOMATIC")]
    Automatic,
    /// Manual.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The body style.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BodyType {
    /// Sedan.
    #[sea_orm(string_value = "SEDAN")]
    Sedan,
    /// Sport utility vehicle.
    #[sea_orm(string_value = "SUV")]
    Suv,
    /// Hatchback.
    #[sea_orm(string_value = "HATCHBACK")]
    Hatchback,
    /// Coupe.
    #[sea_orm(string_value = "COUPE")]
    Coupe,
    /// Convertible.
    #[sea_orm(string_value = "CONVERTIBLE")]
    Convertible,
    /// Estate.
    #[sea_orm(string_value = "WAGON")]
    Wagon,
    /// Van.
    #[sea_orm(string_value = "VAN")]
    Van,
    /// Pick-up truck.
    #[sea_orm(string_value = "PICKUP")]
    Pickup,
    /// Motorcycle.
    #[sea_orm(string_value = "MOTORCYCLE")]
    Motorcycle,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

pub mod unit {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "units")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub vin: String,
        pub make: String,
        pub model: String,
        pub trim: Option<String>,
        pub year: i32,
        pub mileage: i32,
        pub fuel_type: Option<FuelType>,
        pub body_type: Option<BodyType>,
        pub transmission: Option<Transmission>,
        pub color: Option<String>,
        pub license_plate: Option<String>,
        pub location: Option<String>,
        pub purchase_date: Option<Date>,
        pub status: UnitStatus,
        pub is_listed: bool,
        pub list_price_cents: Option<i64>,
        /// The PRICE ordering's key: `list_price_cents`, or -1 without a price.
        pub price_sort: i64,
        pub notes: Option<String>,
        pub owner_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The searchable fields folded for search (see `crate::search`); filled on save.
        pub search_text: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    // Every save keeps the search column in step with its fields.
    crate::search_text_from!(vin, make, model, trim, license_plate);
}

pub mod unit_photo {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unit_photos")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub unit_id: Uuid,
        #[sea_orm(unique)]
        pub path: String,
        pub content_type: String,
        pub byte_size: i64,
        pub alt_text: Option<String>,
        pub position: i32,
        pub is_primary: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
