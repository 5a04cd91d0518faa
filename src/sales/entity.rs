//! The sales table.

use sea_orm::entity::prelude::*;

/// How the buyer paid.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PaymentMethod {
    /// Cash.
    #[sea_orm(string_value = "CASH")]
    Cash,
    /// Debit or credit card.
    #[sea_orm(string_value = "CARD")]
    Card,
    /// Bank transfer.
    #[sea_orm(string_value = "BANK_TRANSFER")]
    BankTransfer,
    /// A loan or lease.
    #[sea_orm(string_value = "FINANCING")]
    Financing,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
    /// Online, through the payment provider (`startOnlinePayment`).
    #[sea_orm(string_value = "ONLINE")]
    Online,
}

pub mod sale {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sales")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub unit_id: Uuid,
        pub price_cents: i64,
        pub sold_on: Date,
        pub buyer_name: String,
        pub buyer_email: Option<String>,
        pub buyer_phone: Option<String>,
        pub buyer_id: Option<Uuid>,
        pub payment_method: PaymentMethod,
        pub notes: Option<String>,
        pub salesperson_id: Option<Uuid>,
        pub commission_rate_bp: Option<i32>,
        pub commission_cents: Option<i64>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
