//! The tables of content: policy documents in versions, and the shop's information (one row).

use sea_orm::entity::prelude::*;

/// Which policy document.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DocumentKind {
    /// How personal data is handled.
    #[sea_orm(string_value = "PRIVACY_POLICY")]
    PrivacyPolicy,
    /// The terms users accept at sign-up (and again when a newer version takes effect).
    #[sea_orm(string_value = "TERMS")]
    Terms,
    /// Who the business is.
    #[sea_orm(string_value = "ABOUT_US")]
    AboutUs,
}

pub mod document {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "policy_documents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: DocumentKind,
        /// 1, 2, … per kind.
        pub version: i32,
        /// Markdown.
        pub content: String,
        /// The shop's local date from which this version is the one in effect.
        pub effective_date: Date,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The shop's information: one row, id 1, made by the migration.
pub mod shop {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shop_info")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub name: String,
        pub tagline: Option<String>,
        pub about: Option<String>,
        pub address: Option<String>,
        pub phone: Option<String>,
        pub email: Option<String>,
        pub website: Option<String>,
        /// A JSON array of URLs.
        pub social_links: String,
        /// A JSON array of `{weekday, opens, closes}` in local minutes.
        pub opening_hours: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
