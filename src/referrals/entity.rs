//! The referrals table.

use sea_orm::entity::prelude::*;

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ReferralStatus {
    /// The referred user signed up and has not verified their email yet.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The referred user verified their email.
    #[sea_orm(string_value = "QUALIFIED")]
    Qualified,
    /// The referred user completed a service or a purchase; the referrer was rewarded.
    #[sea_orm(string_value = "CREDITED")]
    Credited,
    /// Not eligible for a reward.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

pub mod referral {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referrals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub referrer_id: Uuid,
        #[sea_orm(unique)]
        pub referred_id: Uuid,
        pub code: String,
        pub status: ReferralStatus,
        pub reward_points: i32,
        pub created_at: DateTimeUtc,
        pub credited_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
