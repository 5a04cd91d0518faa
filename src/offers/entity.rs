//! The tables of offers (with who, what and where each applies to) and of membership plans.

use sea_orm::entity::prelude::*;

/// How an offer takes its discount.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DiscountKind {
    /// A percentage of the price, 0 to 100.
    #[sea_orm(string_value = "PERCENT")]
    Percent,
    /// A fixed amount off the price (never below zero).
    #[sea_orm(string_value = "AMOUNT")]
    Amount,
}

pub mod offer {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub description: String,
        pub terms: Option<String>,
        pub discount_kind: DiscountKind,
        /// Hundredths: cents of an AMOUNT, hundredths of a percent of a PERCENT.
        pub discount_value: i64,
        pub starts_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub is_active: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The tiers an offer is for; none means every tier.
pub mod offer_tier {
    use super::*;
    use crate::accounts::entity::MembershipTier;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer_tiers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tier: MembershipTier,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The makes an offer is for (as written, and folded); none means every make.
pub mod offer_make {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer_makes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: Uuid,
        pub make: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub make_key: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The service locations an offer is valid at; none means everywhere.
pub mod offer_location {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer_locations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub location_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One membership plan per tier; the migration makes all four.
pub mod plan {
    use super::*;
    use crate::accounts::entity::MembershipTier;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "membership_plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tier: MembershipTier,
        pub name: String,
        pub monthly_price_cents: i64,
        /// A JSON array of strings.
        pub benefits: String,
        /// 0 to 10,000 (100%).
        pub discount_basis_points: i32,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
