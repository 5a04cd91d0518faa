//! The tables of payments: payments, their refunds, and the provider events already handled.

use sea_orm::entity::prelude::*;

pub use crate::sales::entity::PaymentMethod;

/// Where a payment stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PaymentStatus {
    /// Started online; the provider has not said how it ended. Its amount is held: no other
    /// payment may take it meanwhile.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Received (less `refundedAmount`, if some was refunded).
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// The provider reports it failed (or it could not be ordered).
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Received, then refunded in full.
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
}

pub mod payment {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub booking_id: Option<Uuid>,
        pub sale_id: Option<Uuid>,
        /// Who pays: the booking's customer, or the sale's buyer when known.
        pub customer_id: Option<Uuid>,
        pub amount_cents: i64,
        pub refunded_cents: i64,
        pub currency: String,
        pub method: PaymentMethod,
        pub status: PaymentStatus,
        /// `None` at the counter; the provider's name online.
        pub provider: Option<String>,
        /// The provider's order id online; the slip or transfer reference at the counter.
        pub provider_reference: Option<String>,
        pub checkout_url: Option<String>,
        pub recorded_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refund {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_refunds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub payment_id: Uuid,
        pub amount_cents: i64,
        pub reason: Option<String>,
        pub refunded_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod provider_event {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub payment_id: Option<Uuid>,
        pub status: String,
        pub received_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
