//! The tables of bookings: locations and their hours, the service catalog with its prices per
//! make and model, bookings with their services, status history and claims.

use sea_orm::entity::prelude::*;

/// What is booked.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum BookingKind {
    /// A one-hour drive of a unit on sale, starting on the hour in showroom time.
    #[sea_orm(string_value = "TEST_DRIVE")]
    TestDrive,
    /// Workshop services for the customer's own unit at a service location.
    #[sea_orm(string_value = "SERVICE_APPOINTMENT")]
    ServiceAppointment,
}

/// Where a booking stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BookingStatus {
    /// Requested (or rescheduled); waits for staff.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Accepted by staff.
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    /// Refused by staff.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// Called off by the customer or by staff.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// A service appointment whose car is in the workshop.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Done.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// The customer did not come to a confirmed test drive.
    #[sea_orm(string_value = "NO_SHOW")]
    NoShow,
}

impl BookingStatus {
    /// The status as SQL and messages spell it.
    pub fn name(self) -> String {
        sea_orm::ActiveEnum::to_value(&self)
    }

    /// Does a booking in this status hold its slot (its unit's time, a bay)?
    pub fn holds_slot(self) -> bool {
        matches!(self, Self::Pending | Self::Confirmed | Self::InProgress)
    }

    /// The statuses that hold a slot.
    pub const HOLDING: [BookingStatus; 3] = [Self::Pending, Self::Confirmed, Self::InProgress];
}

impl BookingKind {
    /// The transition table: may a booking of this kind go from `from` to `to`? (Rescheduling,
    /// PENDING | CONFIRMED → PENDING at a new time, is its own operation.)
    pub fn may_move(self, from: BookingStatus, to: BookingStatus) -> bool {
        use BookingStatus::*;
        match (from, to) {
            (Pending, Confirmed | Declined) => true,
            (Pending | Confirmed, Cancelled) => true,
            (Confirmed, InProgress) => self == Self::ServiceAppointment,
            (InProgress, Completed) => self == Self::ServiceAppointment,
            (Confirmed, Completed | NoShow) => self == Self::TestDrive,
            _ => false,
        }
    }

    /// The kind as notifications say it.
    pub fn as_words(self) -> &'static str {
        match self {
            Self::TestDrive => "Test drive",
            Self::ServiceAppointment => "Service appointment",
        }
    }
}

pub mod location {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "service_locations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub address: String,
        pub latitude: f64,
        pub longitude: f64,
        pub timezone: String,
        pub phone: Option<String>,
        pub bays: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod opening_hours {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opening_hours")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub location_id: Uuid,
        /// 1 = Monday … 7 = Sunday.
        pub weekday: i32,
        /// Minutes after local midnight.
        pub opens_minute: i32,
        /// Minutes after local midnight; 1440 is the end of the day.
        pub closes_minute: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod category {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "service_categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub description: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod offering {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "service_offerings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub code: String,
        pub name: String,
        pub description: Option<String>,
        pub category_id: Option<Uuid>,
        pub duration_minutes: i32,
        pub base_price_cents: i64,
        pub is_active: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod model_price {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "model_prices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub offering_id: Uuid,
        pub make: String,
        /// The make folded (`search::fold`): prices match makes in any case.
        pub make_key: String,
        pub model: Option<String>,
        /// The model folded; '' for every model of the make.
        pub model_key: String,
        pub price_cents: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod booking {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bookings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: BookingKind,
        pub status: BookingStatus,
        pub customer_id: Uuid,
        pub unit_id: Uuid,
        pub location_id: Option<Uuid>,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub estimated_price_cents: Option<i64>,
        /// The offer that priced it (kept after the offer is deleted), and its title then.
        pub offer_id: Option<Uuid>,
        pub offer_title: Option<String>,
        /// What the offer and the membership plan took off the services' prices.
        pub offer_discount_cents: Option<i64>,
        pub plan_discount_cents: Option<i64>,
        pub notes: Option<String>,
        pub handled_by: Option<Uuid>,
        pub service_record_id: Option<Uuid>,
        pub remind_at: Option<DateTimeUtc>,
        pub lead_minutes: i64,
        pub local_hour: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod booking_service {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_services")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub booking_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub offering_id: Uuid,
        pub price_cents: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod status_change {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_status_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub booking_id: Uuid,
        pub from_status: Option<BookingStatus>,
        pub to_status: BookingStatus,
        pub at: DateTimeUtc,
        pub by_user: Option<Uuid>,
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim {
    use super::*;

    /// One block of one resource held by one booking (see the migration: the primary key is
    /// the invariant).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_claims")]
    pub struct Model {
        /// `UNIT`, `DRIVER` or `BAY`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub resource: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub resource_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub block_start: DateTimeUtc,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seat: i32,
        pub booking_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[cfg(test)]
mod tests {
    use super::BookingKind::*;
    use super::BookingStatus::{self, *};
    use sea_orm::Iterable;

    fn allowed(kind: super::BookingKind) -> Vec<(BookingStatus, BookingStatus)> {
        let all: Vec<BookingStatus> = BookingStatus::iter().collect();
        all.iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| kind.may_move(*a, *b))
            .collect()
    }

    #[test]
    fn the_transition_tables() {
        assert_eq!(
            allowed(TestDrive),
            vec![
                (Pending, Confirmed),
                (Pending, Declined),
                (Pending, Cancelled),
                (Confirmed, Cancelled),
                (Confirmed, Completed),
                (Confirmed, NoShow),
            ]
        );
        assert_eq!(
            allowed(ServiceAppointment),
            vec![
                (Pending, Confirmed),
                (Pending, Declined),
                (Pending, Cancelled),
                (Confirmed, Cancelled),
                (Confirmed, InProgress),
                (InProgress, Completed),
            ]
        );
    }
}
