//! Tables of the accounts domain: users, sessions, refresh tokens and one-time codes.

use sea_orm::entity::prelude::*;

/// Which kind of account: decides what its holder may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    /// Signed up publicly; owns vehicles, books, chats with the business.
    #[sea_orm(string_value = "CUSTOMER")]
    Customer,
    /// Sales, service advisors, technicians.
    #[sea_orm(string_value = "STAFF")]
    Staff,
    /// Staff who also manage accounts and settings.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
}

/// Whether an account may sign in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AccountStatus {
    /// Signed up; the email address is not verified yet.
    #[sea_orm(string_value = "PENDING_VERIFICATION")]
    PendingVerification,
    /// May sign in.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Stopped by an administrator; every session ended.
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
}

/// The customer's membership level, which decides the offers they may use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MembershipTier {
    /// No membership.
    #[sea_orm(string_value = "NONE")]
    None,
    /// Basic membership.
    #[sea_orm(string_value = "BASIC")]
    Basic,
    /// Plus membership.
    #[sea_orm(string_value = "PLUS")]
    Plus,
    /// Premium membership.
    #[sea_orm(string_value = "PREMIUM")]
    Premium,
}

pub mod user {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub email: String,
        pub password_hash: String,
        pub first_name: String,
        pub last_name: String,
        pub phone: Option<String>,
        pub phone_verified: bool,
        pub role: Role,
        pub status: AccountStatus,
        pub email_verified: bool,
        pub date_of_birth: Option<Date>,
        pub address: Option<String>,
        pub zip_code: Option<String>,
        pub bio: Option<String>,
        pub avatar_path: Option<String>,
        pub membership_tier: MembershipTier,
        #[sea_orm(unique)]
        pub referral_code: String,
        pub rewards_balance: i32,
        /// The TERMS version the user accepted last (at sign-up, or by `acceptTerms`).
        pub accepted_terms_version: Option<i32>,
        pub last_seen_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The searchable fields folded for search (see `crate::search`); filled on save.
        pub search_text: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::session::Entity")]
        Session,
    }

    impl Related<super::session::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Session.def()
        }
    }

    // Every save keeps the search column in step with its fields.
    crate::search_text_from!(email, first_name, last_name);
}

pub mod session {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub device_name: Option<String>,
        pub user_agent: Option<String>,
        pub ip_address: Option<String>,
        pub created_at: DateTimeUtc,
        pub last_used_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::user::Entity",
            from = "Column::UserId",
            to = "super::user::Column::Id"
        )]
        User,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use super::*;

    /// Every refresh token ever issued for a session, by hash: a rotated one presented again
    /// reveals a stolen token.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub session_id: Uuid,
        pub created_at: DateTimeUtc,
        pub rotated_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod one_time_code {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "one_time_codes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub purpose: String,
        pub target: String,
        pub user_id: Option<Uuid>,
        pub code_hash: String,
        pub attempts: i32,
        pub expires_at: DateTimeUtc,
        pub consumed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a person can also sign in from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Provider {
    #[sea_orm(string_value = "GOOGLE")]
    Google,
    #[sea_orm(string_value = "FACEBOOK")]
    Facebook,
}

/// A sign-in identity at a provider: one per (provider, subject).
pub mod identity {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_identities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub provider: Provider,
        pub subject: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
